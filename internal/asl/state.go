package asl

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// fieldSets lists the fields each state type accepts, per query language,
// beyond Type, Comment and QueryLanguage.
var fieldSets = map[string]map[string][]string{
	JSONPath: {
		TypePass:     {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result", "Assign"},
		TypeTask:     {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials", "Assign"},
		TypeChoice:   {"Choices", "Default", "InputPath", "OutputPath", "Assign"},
		TypeWait:     {"Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign"},
		TypeSucceed:  {"InputPath", "OutputPath"},
		TypeFail:     {"Error", "ErrorPath", "Cause", "CausePath"},
		TypeParallel: {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "Branches", "Assign"},
		TypeMap:      {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ItemSelector", "ResultSelector", "Retry", "Catch", "Iterator", "ItemProcessor", "ItemsPath", "MaxConcurrency", "MaxConcurrencyPath", "ItemReader", "ItemBatcher", "ResultWriter", "ToleratedFailureCount", "ToleratedFailureCountPath", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "Label", "Assign"},
	},
	JSONata: {
		TypePass:     {"Next", "End", "Output", "Assign"},
		TypeTask:     {"Next", "End", "Output", "Arguments", "Retry", "Catch", "Resource", "TimeoutSeconds", "HeartbeatSeconds", "Credentials", "Assign"},
		TypeChoice:   {"Choices", "Default", "Output", "Assign"},
		TypeWait:     {"Next", "End", "Seconds", "Timestamp", "Output", "Assign"},
		TypeSucceed:  {"Output"},
		TypeFail:     {"Error", "Cause"},
		TypeParallel: {"Next", "End", "Arguments", "Output", "Retry", "Catch", "Branches", "Assign"},
		TypeMap:      {"Next", "End", "Output", "Arguments", "Items", "ItemSelector", "Retry", "Catch", "ItemProcessor", "MaxConcurrency", "ItemReader", "ItemBatcher", "ResultWriter", "ToleratedFailureCount", "ToleratedFailurePercentage", "Label", "Assign"},
	},
}

func (p *parser) state(name string, obj map[string]any, where, inherited string) *State {
	s := &State{Name: name, QueryLanguage: inherited}
	s.Type, _ = obj["Type"].(string)
	if ql, ok := obj["QueryLanguage"]; ok {
		q, _ := ql.(string)
		switch {
		case q != JSONPath && q != JSONata:
			p.schema(where+"/QueryLanguage", "The value of the field 'QueryLanguage' must be 'JSONPath' or 'JSONata'")
		case q == JSONPath && inherited == JSONata:
			p.schema(where+"/QueryLanguage", "A state cannot use JSONPath when the state machine uses JSONata")
		default:
			s.QueryLanguage = q
		}
	}
	fields, ok := fieldSets[s.QueryLanguage][s.Type]
	if !ok {
		p.schema(where+"/Type", "The value of the field 'Type' must be one of Task, Pass, Choice, Wait, Succeed, Fail, Parallel, Map, not %q", fmt.Sprint(obj["Type"]))
		return s
	}
	allowed := map[string]bool{"Type": true, "Comment": true, "QueryLanguage": true}
	for _, f := range fields {
		allowed[f] = true
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !allowed[k] {
			p.schema(where+"/"+k, "The field '%s' is not supported by %s states in %s", k, s.Type, s.QueryLanguage)
		}
	}
	s.Comment = p.str(obj, "Comment", where)
	p.transition(s, obj, where)
	jsonata := s.QueryLanguage == JSONata

	s.InputPath = p.path(obj, "InputPath", where, false)
	s.OutputPath = p.path(obj, "OutputPath", where, false)
	s.ResultPath = p.path(obj, "ResultPath", where, true)
	s.ItemsPath = p.path(obj, "ItemsPath", where, false)
	for _, f := range []struct {
		key string
		dst *Opt
	}{
		{"Parameters", &s.Parameters}, {"ResultSelector", &s.ResultSelector},
		{"ItemSelector", &s.ItemSelector}, {"Arguments", &s.Arguments},
		{"Output", &s.Output}, {"Assign", &s.Assign}, {"Result", &s.Result},
		{"Credentials", &s.Credentials}, {"Items", &s.Items},
		{"ItemReader", &s.ItemReader}, {"ItemBatcher", &s.ItemBatcher},
		{"ResultWriter", &s.ResultWriter},
	} {
		*f.dst = opt(obj, f.key)
	}
	p.templates(s, where, jsonata)
	switch s.Type {
	case TypeTask:
		p.task(s, obj, where, jsonata)
	case TypeChoice:
		p.choice(s, obj, where, jsonata)
	case TypeWait:
		p.wait(s, obj, where, jsonata)
	case TypeFail:
		p.failState(s, obj, where, jsonata)
	case TypeParallel:
		p.parallel(s, obj, where)
	case TypeMap:
		p.mapState(s, obj, where, jsonata)
	}
	if s.Type == TypeTask || s.Type == TypeParallel || s.Type == TypeMap {
		s.Retry = p.retry(obj, where)
		s.Catch = p.catch(obj, where, s.QueryLanguage)
	}
	return s
}

func (p *parser) transition(s *State, obj map[string]any, where string) {
	s.Next = p.str(obj, "Next", where)
	if e, ok := obj["End"]; ok {
		b, isBool := e.(bool)
		if !isBool {
			p.schema(where+"/End", "The value of the field 'End' must be a boolean")
		}
		s.End = b
	}
	switch s.Type {
	case TypeChoice, TypeSucceed, TypeFail:
		return
	}
	switch {
	case s.Next == "" && !s.End:
		p.schema(where, "The state '%s' needs either a 'Next' field or 'End': true", s.Name)
	case s.Next != "" && s.End:
		p.schema(where, "The state '%s' cannot have both a 'Next' field and 'End': true", s.Name)
	}
}

// templates checks the payload template and expression fields of a state.
func (p *parser) templates(s *State, where string, jsonata bool) {
	for _, f := range []struct {
		key string
		v   Opt
	}{
		{"Parameters", s.Parameters}, {"ResultSelector", s.ResultSelector},
		{"ItemSelector", s.ItemSelector}, {"Arguments", s.Arguments},
		{"Output", s.Output}, {"Assign", s.Assign},
	} {
		if !f.v.Set {
			continue
		}
		switch {
		case jsonata:
			if err := checkJSONataTemplate(f.key, f.v.Value); err != nil {
				p.schema(where+"/"+f.key, "%v", err)
			}
		case f.key == "Parameters" || f.key == "ResultSelector" || f.key == "ItemSelector" || f.key == "Assign":
			if _, ok := f.v.Value.(map[string]any); !ok && f.key != "Parameters" {
				p.schema(where+"/"+f.key, "The value of the field '%s' must be an object", f.key)
				continue
			}
			if err := checkPayload(f.v.Value); err != nil {
				p.schema(where+"/"+f.key, "The field '%s' is not a valid payload template: %v", f.key, err)
			}
		}
	}
	if s.Assign.Set && jsonata {
		// JSONPath mode checked it with the other templates.
		if _, ok := s.Assign.Value.(map[string]any); !ok {
			p.schema(where+"/Assign", "The value of the field 'Assign' must be an object")
		}
	}
}

func (p *parser) task(s *State, obj map[string]any, where string, jsonata bool) {
	r, ok := obj["Resource"].(string)
	if !ok || r == "" {
		p.schema(where+"/Resource", "The field 'Resource' is required and must be a string")
	} else if !strings.HasPrefix(r, "arn:") {
		p.schema(where+"/Resource", "The value of the field 'Resource' must be an ARN, not %q", r)
	}
	s.Resource = r
	s.TimeoutSeconds = p.seconds(obj, "TimeoutSeconds", where, jsonata)
	s.HeartbeatSeconds = p.seconds(obj, "HeartbeatSeconds", where, jsonata)
	s.TimeoutSecondsPath = p.refPath(obj, "TimeoutSecondsPath", where)
	s.HeartbeatSecondsPath = p.refPath(obj, "HeartbeatSecondsPath", where)
	if s.TimeoutSeconds.Set && s.TimeoutSecondsPath != "" {
		p.schema(where, "The fields 'TimeoutSeconds' and 'TimeoutSecondsPath' cannot both be set")
	}
	if s.HeartbeatSeconds.Set && s.HeartbeatSecondsPath != "" {
		p.schema(where, "The fields 'HeartbeatSeconds' and 'HeartbeatSecondsPath' cannot both be set")
	}
	if t, ok := s.TimeoutSeconds.Value.(json.Number); ok {
		if h, ok := s.HeartbeatSeconds.Value.(json.Number); ok {
			ti, _ := t.Int64()
			hi, _ := h.Int64()
			if hi >= ti {
				p.schema(where+"/HeartbeatSeconds", "The value of 'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'")
			}
		}
	}
}

// seconds reads a positive integer field, or a JSONata expression in JSONata
// mode.
func (p *parser) seconds(obj map[string]any, key, where string, jsonata bool) Opt {
	v, ok := obj[key]
	if !ok {
		return Opt{}
	}
	if s, isStr := v.(string); isStr && jsonata {
		if err := checkJSONataString(s); err != nil {
			p.schema(where+"/"+key, "%v", err)
		}
		return Opt{Set: true, Value: v}
	}
	p.intField(obj, key, where, 1, 99999999)
	return Opt{Set: true, Value: v}
}

func (p *parser) refPath(obj map[string]any, key, where string) string {
	s, ok := obj[key].(string)
	if !ok {
		return p.str(obj, key, where) // absent, or reported as not a string
	}
	if err := checkPath(s, true); err != nil {
		p.schema(where+"/"+key, "The value for the field '%s' must be a valid ReferencePath: %v", key, err)
	}
	return s
}

func (p *parser) choice(s *State, obj map[string]any, where string, jsonata bool) {
	s.Default = p.str(obj, "Default", where)
	p.requiredObjects(obj, "Choices", where, "A choice rule must be an object", func(m map[string]any, cw string, _ bool) {
		rule := &ChoiceRule{Assign: opt(m, "Assign"), Output: opt(m, "Output"), Condition: opt(m, "Condition")}
		rule.Next, _ = m["Next"].(string)
		if rule.Next == "" {
			p.schema(cw+"/Next", "The field 'Next' is required in a choice rule")
		}
		if rule.Output.Set && !jsonata {
			p.schema(cw+"/Output", "The field 'Output' is only supported in JSONata")
		}
		if jsonata {
			for _, k := range slices.Sorted(maps.Keys(m)) {
				switch k {
				case "Next", "Assign", "Output", "Comment", "Condition":
				default:
					p.schema(cw+"/"+k, "The field '%s' is not supported in a JSONata choice rule", k)
				}
			}
			cond, isStr := rule.Condition.Value.(string)
			if !rule.Condition.Set {
				p.schema(cw+"/Condition", "The field 'Condition' is required in a JSONata choice rule")
			} else if isStr {
				if err := checkJSONataString(cond); err != nil {
					p.schema(cw+"/Condition", "%v", err)
				}
			} else if _, isBool := rule.Condition.Value.(bool); !isBool {
				p.schema(cw+"/Condition", "The value of the field 'Condition' must be a JSONata expression or a boolean")
			}
		} else {
			rule.Rule = map[string]any{}
			for k, v := range m {
				switch k {
				case "Next", "Assign", "Output", "Comment":
				default:
					rule.Rule[k] = v
				}
			}
			if err := checkChoiceRule(rule.Rule); err != nil {
				p.schema(cw, "Invalid choice rule: %v", err)
			}
		}
		p.optTemplates(cw, jsonata, map[string]Opt{"Assign": rule.Assign, "Output": rule.Output})
		s.Choices = append(s.Choices, rule)
	})
}

func (p *parser) wait(s *State, obj map[string]any, where string, jsonata bool) {
	s.Seconds = opt(obj, "Seconds")
	s.Timestamp = opt(obj, "Timestamp")
	s.SecondsPath = p.refPath(obj, "SecondsPath", where)
	s.TimestampPath = p.refPath(obj, "TimestampPath", where)
	n := 0
	for _, set := range []bool{s.Seconds.Set, s.Timestamp.Set, s.SecondsPath != "", s.TimestampPath != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		p.schema(where, "A Wait state needs exactly one of 'Seconds', 'Timestamp', 'SecondsPath' and 'TimestampPath'")
	}
	if s.Seconds.Set {
		if str, ok := s.Seconds.Value.(string); ok && jsonata {
			if err := checkJSONataString(str); err != nil {
				p.schema(where+"/Seconds", "%v", err)
			}
		} else {
			p.intField(obj, "Seconds", where, 0, 99999999)
		}
	}
	if s.Timestamp.Set {
		str, ok := s.Timestamp.Value.(string)
		switch {
		case !ok:
			p.schema(where+"/Timestamp", "The value of the field 'Timestamp' must be a string")
		case jsonata && isJSONata(str):
			if err := checkJSONataString(str); err != nil {
				p.schema(where+"/Timestamp", "%v", err)
			}
		default:
			if _, err := ParseTimestamp(str); err != nil {
				p.schema(where+"/Timestamp", "The value of the field 'Timestamp' must be an ISO-8601 extended offset date-time")
			}
		}
	}
}

func (p *parser) failState(s *State, obj map[string]any, where string, jsonata bool) {
	s.Error = opt(obj, "Error")
	s.Cause = opt(obj, "Cause")
	s.ErrorPath = opt(obj, "ErrorPath")
	s.CausePath = opt(obj, "CausePath")
	if s.Error.Set && s.ErrorPath.Set {
		p.schema(where, "The fields 'Error' and 'ErrorPath' cannot both be set")
	}
	if s.Cause.Set && s.CausePath.Set {
		p.schema(where, "The fields 'Cause' and 'CausePath' cannot both be set")
	}
	for _, f := range []struct {
		key string
		v   Opt
	}{{"Error", s.Error}, {"Cause", s.Cause}, {"ErrorPath", s.ErrorPath}, {"CausePath", s.CausePath}} {
		if !f.v.Set {
			continue
		}
		str, ok := f.v.Value.(string)
		if !ok {
			p.schema(where+"/"+f.key, "The value of the field '%s' must be a string", f.key)
			continue
		}
		switch {
		case jsonata && isJSONata(str):
			if err := checkJSONataString(str); err != nil {
				p.schema(where+"/"+f.key, "%v", err)
			}
		case strings.HasSuffix(f.key, "Path"):
			if err := checkErrorPath(str); err != nil {
				p.schema(where+"/"+f.key, "The value for the field '%s' must be a valid JSONPath or intrinsic function: %v", f.key, err)
			}
		}
	}
}

func (p *parser) parallel(s *State, obj map[string]any, where string) {
	p.requiredObjects(obj, "Branches", where, "A branch must be an object", func(m map[string]any, bw string, _ bool) {
		s.Branches = append(s.Branches, p.definition(m, bw, s.QueryLanguage, false))
	})
}

func (p *parser) mapState(s *State, obj map[string]any, where string, jsonata bool) {
	key := "ItemProcessor"
	if _, legacy := obj["Iterator"]; legacy {
		if _, both := obj[key]; both {
			p.schema(where, "The fields 'ItemProcessor' and 'Iterator' cannot both be set")
		}
		key = "Iterator"
	}
	proc, ok := obj[key].(map[string]any)
	if !ok {
		p.schema(where+"/"+key, "The field '%s' is required and must be an object", key)
	} else {
		s.Processor = p.definition(proc, where+"/"+key, s.QueryLanguage, false)
	}
	if s.Parameters.Set && s.ItemSelector.Set {
		p.schema(where, "The fields 'Parameters' and 'ItemSelector' cannot both be set")
	}
	s.MaxConcurrency = opt(obj, "MaxConcurrency")
	s.ToleratedFailureCount = opt(obj, "ToleratedFailureCount")
	s.ToleratedFailurePercentage = opt(obj, "ToleratedFailurePercentage")
	s.MaxConcurrencyPath = p.refPath(obj, "MaxConcurrencyPath", where)
	s.ToleratedFailureCountPath = p.refPath(obj, "ToleratedFailureCountPath", where)
	s.ToleratedFailurePercentagePath = p.refPath(obj, "ToleratedFailurePercentagePath", where)
	s.Label = p.str(obj, "Label", where)
	for _, f := range []struct {
		key   string
		v     Opt
		isPct bool
	}{{"MaxConcurrency", s.MaxConcurrency, false}, {"ToleratedFailureCount", s.ToleratedFailureCount, false}, {"ToleratedFailurePercentage", s.ToleratedFailurePercentage, true}} {
		if !f.v.Set {
			continue
		}
		if str, ok := f.v.Value.(string); ok && jsonata {
			if err := checkJSONataString(str); err != nil {
				p.schema(where+"/"+f.key, "%v", err)
			}
			continue
		}
		n, ok := f.v.Value.(json.Number)
		if !ok {
			p.schema(where+"/"+f.key, "The value of the field '%s' must be a number", f.key)
			continue
		}
		x, err := n.Float64()
		switch {
		case err != nil || x < 0:
			p.schema(where+"/"+f.key, "The value of the field '%s' must not be negative", f.key)
		case f.isPct && x > 100:
			p.schema(where+"/"+f.key, "The value of the field '%s' must be between 0 and 100", f.key)
		case !f.isPct && x != float64(int64(x)):
			p.schema(where+"/"+f.key, "The value of the field '%s' must be an integer", f.key)
		}
	}
	p.itemReader(s.ItemReader, where+"/ItemReader", jsonata)
	p.itemBatcher(s.ItemBatcher, where+"/ItemBatcher", jsonata)
	p.resultWriter(s, where+"/ResultWriter", jsonata)
	if s.Items.Set && jsonata {
		if str, ok := s.Items.Value.(string); ok {
			if err := checkJSONataString(str); err != nil {
				p.schema(where+"/Items", "%v", err)
			}
		} else if _, ok := s.Items.Value.([]any); !ok {
			p.schema(where+"/Items", "The value of the field 'Items' must be an array or a JSONata expression")
		}
	}
}

// itemReader checks a Map state's ItemReader: an object with the ARN of
// the resource that reads the items, its Parameters (Arguments in JSONata)
// and a ReaderConfig object.
func (p *parser) itemReader(v Opt, where string, jsonata bool) {
	m := p.object(v, where, "ItemReader")
	if m == nil {
		return
	}
	params := "Parameters"
	if jsonata {
		params = "Arguments"
	}
	p.onlyFields(m, where, "ItemReader", "Resource", "ReaderConfig", params)
	if r, _ := m["Resource"].(string); !strings.HasPrefix(r, "arn:") {
		p.schema(where+"/Resource", "The field 'Resource' of 'ItemReader' is required and must be an ARN")
	}
	if t, ok := m[params]; ok {
		p.template(params, t, where+"/"+params, jsonata)
	}
	if rc, ok := m["ReaderConfig"]; ok {
		if _, isObj := rc.(map[string]any); !isObj {
			p.schema(where+"/ReaderConfig", "The value of the field 'ReaderConfig' must be an object")
		}
	}
}

// itemBatcher checks a Map state's ItemBatcher: batch limits as
// non-negative integers (JSONata expressions in JSONata mode, or reference
// paths in JSONPath mode) and a BatchInput template.
func (p *parser) itemBatcher(v Opt, where string, jsonata bool) {
	m := p.object(v, where, "ItemBatcher")
	if m == nil {
		return
	}
	limits := []string{"MaxItemsPerBatch", "MaxInputBytesPerBatch"}
	allowed := append([]string{"BatchInput"}, limits...)
	if !jsonata {
		allowed = append(allowed, "MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath")
	}
	p.onlyFields(m, where, "ItemBatcher", allowed...)
	for _, key := range limits {
		val, set := m[key]
		path := ""
		if !jsonata {
			path = p.refPath(m, key+"Path", where)
		}
		str, isStr := val.(string)
		switch {
		case set && path != "":
			p.schema(where, "The fields '%s' and '%sPath' cannot both be set", key, key)
		case !set:
		case isStr && jsonata:
			if err := checkJSONataString(str); err != nil {
				p.schema(where+"/"+key, "%v", err)
			}
		default:
			p.intField(m, key, where, 0, 99999999)
		}
	}
	if t, ok := m["BatchInput"]; ok {
		p.template("BatchInput", t, where+"/BatchInput", jsonata)
	}
}

// resultWriterResource matches the one resource a ResultWriter may name,
// in any partition.
var resultWriterResource = regexp.MustCompile(`^arn:aws[a-z-]*:states:::s3:putObject$`)

// resultWriter checks a Map state's ResultWriter as CreateStateMachine
// does: a Distributed Map field holding a WriterConfig, a Resource with its
// Parameters (Arguments in JSONata), or all three; the Resource is
// s3:putObject, the Parameters name a Bucket and optionally a Prefix, and
// the WriterConfig gives both its Transformation and its OutputType.
func (p *parser) resultWriter(s *State, where string, jsonata bool) {
	m := p.object(s.ResultWriter, where, "ResultWriter")
	if m == nil {
		return
	}
	if s.Processor != nil && s.Processor.ProcessorMode != "DISTRIBUTED" {
		p.schema(where, "The field 'ResultWriter' of the state '%s' is only supported by Map states in DISTRIBUTED mode", s.Name)
	}
	params := "Parameters"
	if jsonata {
		params = "Arguments"
	}
	p.onlyFields(m, where, "ResultWriter", "Resource", "WriterConfig", params)
	res, hasRes := m["Resource"]
	t, hasParams := m[params]
	_, hasConfig := m["WriterConfig"]
	switch {
	case !hasRes && !hasParams && !hasConfig:
		p.schema(where, "The field 'ResultWriter' of the state '%s' needs 'WriterConfig', or 'Resource' and '%s'", s.Name, params)
	case hasRes && !hasParams:
		p.schema(where+"/"+params, "The field '%s' of 'ResultWriter' is required with 'Resource'", params)
	case hasParams && !hasRes:
		p.schema(where+"/Resource", "The field 'Resource' of 'ResultWriter' is required with '%s'", params)
	}
	if r, ok := res.(string); hasRes && (!ok || !resultWriterResource.MatchString(r)) {
		p.schema(where+"/Resource", "The value of the field 'Resource' of 'ResultWriter' must be 'arn:aws:states:::s3:putObject', not %s", jsonText(res))
	}
	if hasParams {
		p.writerParams(t, where+"/"+params, params, jsonata)
	}
	if wc, ok := m["WriterConfig"]; ok {
		p.writerConfig(wc, where+"/WriterConfig")
	}
}

// writerParams checks the Parameters (Arguments) of a ResultWriter: a
// template whose object names the Bucket and may name a Prefix.
func (p *parser) writerParams(t any, where, key string, jsonata bool) {
	p.template(key, t, where, jsonata)
	obj, ok := t.(map[string]any)
	if !ok {
		if str, isStr := t.(string); !jsonata || !isStr || !isJSONata(str) {
			p.schema(where, "The value of the field '%s' of 'ResultWriter' must be an object", key)
		}
		return
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		name := k
		if !jsonata {
			name = strings.TrimSuffix(k, ".$")
		}
		if name != "Bucket" && name != "Prefix" {
			p.schema(where+"/"+k, "The field '%s' is not supported in the '%s' of 'ResultWriter': only 'Bucket' and 'Prefix' are", k, key)
		}
	}
	_, bucket := obj["Bucket"]
	_, bucketPath := obj["Bucket.$"]
	if !bucket && !(bucketPath && !jsonata) {
		p.schema(where+"/Bucket", "The field 'Bucket' is required in the '%s' of 'ResultWriter'", key)
	}
}

// writerConfig checks a ResultWriter's WriterConfig.
func (p *parser) writerConfig(v any, where string) {
	wc, ok := v.(map[string]any)
	if !ok {
		p.schema(where, "The value of the field 'WriterConfig' must be an object")
		return
	}
	p.onlyFields(wc, where, "WriterConfig", "OutputType", "Transformation")
	for _, f := range []struct {
		key    string
		values []string
	}{{"OutputType", WriterOutputTypes}, {"Transformation", WriterTransformations}} {
		val, set := wc[f.key]
		str, _ := val.(string)
		switch {
		case !set:
			p.schema(where+"/"+f.key, "The field '%s' is required in 'WriterConfig'", f.key)
		case !slices.Contains(f.values, str):
			p.schema(where+"/"+f.key, "The value of the field '%s' must be one of %s, not %s", f.key, strings.Join(f.values, ", "), jsonText(val))
		}
	}
}

// jsonText is a field value as JSON text, for error messages.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// object returns the value of an optional field that must be an object,
// nil when it is absent or reported as not an object.
func (p *parser) object(v Opt, where, key string) map[string]any {
	if !v.Set {
		return nil
	}
	m, ok := v.Value.(map[string]any)
	if !ok {
		p.schema(where, "The value of the field '%s' must be an object", key)
	}
	return m
}

// onlyFields reports the fields of the object m (the field key of a state)
// that are not among allowed.
func (p *parser) onlyFields(m map[string]any, where, key string, allowed ...string) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(allowed, k) {
			p.schema(where+"/"+k, "The field '%s' is not supported in '%s'", k, key)
		}
	}
}

// optTemplates checks the templates among the fields of a choice rule or
// a catcher at where, in the order of their names.
func (p *parser) optTemplates(where string, jsonata bool, fields map[string]Opt) {
	for _, key := range slices.Sorted(maps.Keys(fields)) {
		if f := fields[key]; f.Set {
			p.template(key, f.Value, where+"/"+key, jsonata)
		}
	}
}

// template checks a payload template (JSONPath) or a JSONata-mode value.
func (p *parser) template(key string, v any, where string, jsonata bool) {
	var err error
	if jsonata {
		err = checkJSONataTemplate(key, v)
	} else {
		err = checkPayload(v)
	}
	if err != nil {
		p.schema(where, "%v", err)
	}
}

func (p *parser) errorEquals(m map[string]any, where string, last bool) []string {
	list, ok := m["ErrorEquals"].([]any)
	if !ok || len(list) == 0 {
		p.schema(where+"/ErrorEquals", "The field 'ErrorEquals' is required and must be a non-empty array")
		return nil
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			p.schema(where+"/ErrorEquals", "An error name must be a string")
			continue
		}
		out = append(out, s)
	}
	for _, s := range out {
		if s == ErrorAll {
			if len(out) != 1 {
				p.schema(where+"/ErrorEquals", "'States.ALL' must appear alone in 'ErrorEquals'")
			} else if !last {
				p.schema(where+"/ErrorEquals", "A rule with 'States.ALL' must be the last one")
			}
		}
	}
	return out
}

// objects reads a field that holds an array of objects (Retry, Catch) and
// calls each with every object, its JSON pointer and whether it is last.
func (p *parser) objects(obj map[string]any, key, where string, each func(m map[string]any, w string, last bool)) {
	v, ok := obj[key]
	if !ok {
		return
	}
	list, ok := v.([]any)
	if !ok {
		p.schema(where+"/"+key, "The value of the field '%s' must be an array", key)
		return
	}
	p.eachObject(list, key, where, fmt.Sprintf("The elements of the field '%s' must be objects", key), each)
}

// requiredObjects reads a field that must hold a non-empty array of objects
// (Choices, Branches) and calls each as objects does; notObject is the error
// for an element that is not an object.
func (p *parser) requiredObjects(obj map[string]any, key, where, notObject string, each func(m map[string]any, w string, last bool)) {
	list, ok := obj[key].([]any)
	if !ok || len(list) == 0 {
		p.schema(where+"/"+key, "The field '%s' is required and must be a non-empty array", key)
		return
	}
	p.eachObject(list, key, where, notObject, each)
}

func (p *parser) eachObject(list []any, key, where, notObject string, each func(m map[string]any, w string, last bool)) {
	for i, item := range list {
		w := fmt.Sprintf("%s/%s/%d", where, key, i)
		m, ok := item.(map[string]any)
		if !ok {
			p.schema(w, "%s", notObject)
			continue
		}
		each(m, w, i == len(list)-1)
	}
}

func (p *parser) retry(obj map[string]any, where string) []*Retrier {
	var out []*Retrier
	p.objects(obj, "Retry", where, func(m map[string]any, rw string, last bool) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			switch k {
			case "ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment":
			default:
				p.schema(rw+"/"+k, "The field '%s' is not supported in a retrier", k)
			}
		}
		r := &Retrier{IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: "NONE"}
		r.ErrorEquals = p.errorEquals(m, rw, last)
		if _, ok := m["IntervalSeconds"]; ok {
			r.IntervalSeconds = p.intField(m, "IntervalSeconds", rw, 1, 99999999)
		}
		if _, ok := m["MaxAttempts"]; ok {
			r.MaxAttempts = p.intField(m, "MaxAttempts", rw, 0, 99999999)
		}
		if _, ok := m["MaxDelaySeconds"]; ok {
			r.MaxDelaySeconds = p.intField(m, "MaxDelaySeconds", rw, 1, 31622400)
		}
		if b, ok := m["BackoffRate"]; ok {
			n, isNum := b.(json.Number)
			f, err := n.Float64()
			if !isNum || err != nil || f < 1 {
				p.schema(rw+"/BackoffRate", "The value of the field 'BackoffRate' must be a number not smaller than 1.0")
			}
			r.BackoffRate = f
		}
		if j, ok := m["JitterStrategy"]; ok {
			s, _ := j.(string)
			if s != "FULL" && s != "NONE" {
				p.schema(rw+"/JitterStrategy", "The value of the field 'JitterStrategy' must be 'FULL' or 'NONE'")
			}
			r.JitterStrategy = s
		}
		out = append(out, r)
	})
	return out
}

func (p *parser) catch(obj map[string]any, where, ql string) []*Catcher {
	var out []*Catcher
	p.objects(obj, "Catch", where, func(m map[string]any, cw string, last bool) {
		allowed := map[string]bool{"ErrorEquals": true, "Next": true, "Comment": true, "Assign": true}
		if ql == JSONata {
			allowed["Output"] = true
		} else {
			allowed["ResultPath"] = true
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !allowed[k] {
				p.schema(cw+"/"+k, "The field '%s' is not supported in a catcher", k)
			}
		}
		c := &Catcher{Output: opt(m, "Output"), Assign: opt(m, "Assign")}
		c.ErrorEquals = p.errorEquals(m, cw, last)
		c.Next, _ = m["Next"].(string)
		if c.Next == "" {
			p.schema(cw+"/Next", "The field 'Next' is required in a catcher")
		}
		c.ResultPath = p.path(m, "ResultPath", cw, true)
		p.optTemplates(cw, ql == JSONata, map[string]Opt{"Assign": c.Assign, "Output": c.Output})
		out = append(out, c)
	})
	return out
}
