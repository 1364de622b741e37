// Package asl owns Amazon States Language definitions: it parses a state
// machine definition into a typed tree and validates it with the rules that
// Step Functions' CreateStateMachine enforces, so that an engine can trust the
// tree it is given.
//
// Field values that other packages evaluate (paths, payload templates,
// intrinsic functions, choice rules, JSONata expressions) are kept as the JSON
// values encoding/json decodes with UseNumber; validation compiles them once
// to check their syntax, and the engine compiles them into its executable form.
package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Query languages of a definition or a state.
const (
	JSONPath = "JSONPath"
	JSONata  = "JSONata"
)

// State types.
const (
	TypeTask     = "Task"
	TypePass     = "Pass"
	TypeChoice   = "Choice"
	TypeWait     = "Wait"
	TypeSucceed  = "Succeed"
	TypeFail     = "Fail"
	TypeParallel = "Parallel"
	TypeMap      = "Map"
)

// The values of a ResultWriter's WriterConfig.
var (
	WriterOutputTypes     = []string{"JSON", "JSONL"}
	WriterTransformations = []string{"NONE", "COMPACT", "FLATTEN"}
)

// Error names that definitions may refer to.
const (
	ErrorAll      = "States.ALL"
	ErrorTaskFail = "States.TaskFailed"
)

// Definition is a parsed state machine, or one branch or item processor of a
// Parallel or Map state.
type Definition struct {
	Comment        string
	StartAt        string
	QueryLanguage  string // effective language of the definition
	TimeoutSeconds int64  // 0 when absent
	Version        string
	States         map[string]*State
	Order          []string // state names, sorted
	// ProcessorMode is INLINE or DISTRIBUTED for a Map item processor.
	ProcessorMode string
}

// Opt is a field that may be absent; Set tells whether it was written.
type Opt struct {
	Set   bool
	Value any
}

// Path is a JSONPath field such as InputPath: absent (Set false, meaning
// "$"), null (Null true) or a path.
type Path struct {
	Set  bool
	Null bool
	Path string
}

// State is one state of a definition. Only the fields of its type are set.
type State struct {
	Name          string
	Type          string
	Comment       string
	QueryLanguage string // effective language of the state
	Next          string
	End           bool

	InputPath  Path
	OutputPath Path
	ResultPath Path
	ItemsPath  Path

	Parameters     Opt
	ResultSelector Opt
	ItemSelector   Opt
	Result         Opt
	Arguments      Opt
	Output         Opt
	Assign         Opt

	Resource             string
	TimeoutSeconds       Opt
	TimeoutSecondsPath   string
	HeartbeatSeconds     Opt
	HeartbeatSecondsPath string
	Credentials          Opt

	Retry []*Retrier
	Catch []*Catcher

	Choices []*ChoiceRule
	Default string

	Seconds       Opt
	SecondsPath   string
	Timestamp     Opt
	TimestampPath string

	Error     Opt
	ErrorPath Opt
	Cause     Opt
	CausePath Opt

	Branches  []*Definition
	Processor *Definition

	Items                          Opt
	MaxConcurrency                 Opt
	MaxConcurrencyPath             string
	ToleratedFailureCount          Opt
	ToleratedFailureCountPath      string
	ToleratedFailurePercentage     Opt
	ToleratedFailurePercentagePath string
	ItemReader                     Opt
	ItemBatcher                    Opt
	ResultWriter                   Opt
	Label                          string
}

// Retrier is one element of a Retry field.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds int64   // default 1
	MaxAttempts     int64   // default 3
	BackoffRate     float64 // default 2.0
	MaxDelaySeconds int64   // 0 when absent
	JitterStrategy  string  // FULL or NONE (default)
}

// Catcher is one element of a Catch field.
type Catcher struct {
	ErrorEquals []string
	Next        string
	ResultPath  Path
	Output      Opt
	Assign      Opt
}

// ChoiceRule is one element of a Choice state's Choices. In JSONPath mode
// Rule holds the boolean expression with Next, Assign, Output and Comment
// removed; in JSONata mode Condition holds the expression.
type ChoiceRule struct {
	Next      string
	Rule      map[string]any
	Condition Opt
	Assign    Opt
	Output    Opt
}

// Matches reports whether an error name is matched by a list of ErrorEquals
// names, with the wildcards of the States Language: States.ALL matches every
// error and States.TaskFailed every error but States.Timeout.
func Matches(errorEquals []string, name string) bool {
	for _, e := range errorEquals {
		switch {
		case e == name:
			return true
		case e == ErrorAll:
			return true
		case e == ErrorTaskFail && name != "States.Timeout":
			return true
		}
	}
	return false
}

// Decode decodes JSON text with numbers kept as json.Number, rejecting
// trailing data.
func Decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

// ValidationError is one reason a definition is invalid. Code is the
// Step Functions diagnostic code (SCHEMA_VALIDATION_FAILED,
// MISSING_TRANSITION_TARGET, ...), Where a JSON pointer to the field.
type ValidationError struct {
	Code    string
	Message string
	Where   string
}

func (e *ValidationError) Error() string {
	if e.Where == "" {
		return e.Code + ": " + e.Message
	}
	return e.Code + ": " + e.Message + " at " + e.Where
}

// InvalidDefinition is the error Parse returns: every problem found, in the
// order of the definition.
type InvalidDefinition struct {
	Problems []*ValidationError
}

func (e *InvalidDefinition) Error() string {
	var b strings.Builder
	b.WriteString("Invalid State Machine Definition: '")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Error())
	}
	b.WriteString("'")
	return b.String()
}

// Parse decodes and validates a definition. The error, when not nil, is an
// *InvalidDefinition.
func Parse(data []byte) (*Definition, error) {
	v, err := Decode(data)
	if err != nil {
		return nil, &InvalidDefinition{Problems: []*ValidationError{{
			Code: "INVALID_JSON_DESCRIPTION", Message: err.Error()}}}
	}
	return ParseValue(v)
}

// ParseValue validates a definition already decoded with UseNumber.
func ParseValue(v any) (*Definition, error) {
	p := &parser{}
	obj, ok := v.(map[string]any)
	if !ok {
		p.fail("SCHEMA_VALIDATION_FAILED", "the definition must be a JSON object", "")
		return nil, &InvalidDefinition{Problems: p.problems}
	}
	def := p.definition(obj, "", JSONPath, true)
	if len(p.problems) > 0 {
		return nil, &InvalidDefinition{Problems: p.problems}
	}
	return def, nil
}

type parser struct {
	problems []*ValidationError
}

func (p *parser) fail(code, msg, where string) {
	p.problems = append(p.problems, &ValidationError{Code: code, Message: msg, Where: where})
}

func (p *parser) schema(where, format string, args ...any) {
	p.fail("SCHEMA_VALIDATION_FAILED", fmt.Sprintf(format, args...), where)
}

func (p *parser) definition(obj map[string]any, where, inherited string, top bool) *Definition {
	def := &Definition{QueryLanguage: inherited, States: map[string]*State{}}
	allowed := map[string]bool{"Comment": true, "StartAt": true, "States": true}
	if top {
		allowed["TimeoutSeconds"] = true
		allowed["Version"] = true
		allowed["QueryLanguage"] = true
	} else {
		allowed["ProcessorConfig"] = true
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !allowed[k] {
			p.schema(where+"/"+k, "The field '%s' is not supported", k)
		}
	}
	def.Comment = p.str(obj, "Comment", where)
	if top {
		if ql, ok := obj["QueryLanguage"]; ok {
			s, _ := ql.(string)
			if s != JSONPath && s != JSONata {
				p.schema(where+"/QueryLanguage", "The value of the field 'QueryLanguage' must be 'JSONPath' or 'JSONata'")
			} else {
				def.QueryLanguage = s
			}
		}
		if _, ok := obj["TimeoutSeconds"]; ok {
			def.TimeoutSeconds = p.intField(obj, "TimeoutSeconds", where, 1, 99999999)
		}
		def.Version = p.str(obj, "Version", where)
	}
	if pc, ok := obj["ProcessorConfig"].(map[string]any); ok {
		if m, ok := pc["Mode"].(string); ok {
			def.ProcessorMode = m
		}
	}
	if def.ProcessorMode == "" {
		def.ProcessorMode = "INLINE"
	}
	startAt, isStr := obj["StartAt"].(string)
	if !isStr {
		p.schema(where+"/StartAt", "The field 'StartAt' is required and must be a string")
	}
	def.StartAt = startAt
	states, ok := obj["States"].(map[string]any)
	if !ok || len(states) == 0 {
		p.schema(where+"/States", "The field 'States' is required and must be a non-empty object")
		return def
	}
	def.Order = slices.Sorted(maps.Keys(states))
	for _, name := range def.Order {
		sw := where + "/States/" + name
		so, ok := states[name].(map[string]any)
		if !ok {
			p.schema(sw, "A state must be a JSON object")
			continue
		}
		if len(name) > 80 {
			p.schema(sw, "The state name '%s' is longer than 80 characters", name)
		}
		def.States[name] = p.state(name, so, sw, def.QueryLanguage)
	}
	if isStr && def.States[startAt] == nil && len(def.States) == len(def.Order) {
		p.fail("MISSING_TRANSITION_TARGET", fmt.Sprintf("Missing 'Next' target: %s", startAt), where+"/StartAt")
	}
	p.transitions(def, where)
	return def
}

func (p *parser) transitions(def *Definition, where string) {
	target := func(name, w string) {
		if name == "" {
			return
		}
		if def.States[name] == nil {
			p.fail("MISSING_TRANSITION_TARGET", fmt.Sprintf("Missing 'Next' target: %s", name), w)
		}
	}
	for _, name := range def.Order {
		s := def.States[name]
		if s == nil {
			continue
		}
		sw := where + "/States/" + name
		target(s.Next, sw+"/Next")
		target(s.Default, sw+"/Default")
		for i, c := range s.Choices {
			target(c.Next, fmt.Sprintf("%s/Choices/%d/Next", sw, i))
		}
		for i, c := range s.Catch {
			target(c.Next, fmt.Sprintf("%s/Catch/%d/Next", sw, i))
		}
	}
	if def.States[def.StartAt] == nil {
		return
	}
	seen := map[string]bool{def.StartAt: true}
	queue := []string{def.StartAt}
	for len(queue) > 0 {
		s := def.States[queue[0]]
		queue = queue[1:]
		if s == nil {
			continue
		}
		next := []string{s.Next, s.Default}
		for _, c := range s.Choices {
			next = append(next, c.Next)
		}
		for _, c := range s.Catch {
			next = append(next, c.Next)
		}
		for _, n := range next {
			if n != "" && !seen[n] {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	for _, name := range def.Order {
		if !seen[name] && def.States[name] != nil {
			p.fail("UNREACHABLE_STATE", fmt.Sprintf("State '%s' is not reachable", name), where+"/States/"+name)
		}
	}
}

func (p *parser) str(obj map[string]any, key, where string) string {
	v, ok := obj[key]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		p.schema(where+"/"+key, "The value of the field '%s' must be a string", key)
	}
	return s
}

func (p *parser) intField(obj map[string]any, key, where string, lo, hi int64) int64 {
	n, ok := obj[key].(json.Number)
	if !ok {
		p.schema(where+"/"+key, "The value of the field '%s' must be an integer", key)
		return 0
	}
	i, err := n.Int64()
	if err != nil {
		p.schema(where+"/"+key, "The value of the field '%s' must be an integer", key)
		return 0
	}
	if i < lo || i > hi {
		p.schema(where+"/"+key, "The value of the field '%s' must be between %d and %d", key, lo, hi)
	}
	return i
}

func (p *parser) path(obj map[string]any, key, where string, reference bool) Path {
	v, ok := obj[key]
	if !ok {
		return Path{}
	}
	if v == nil {
		return Path{Set: true, Null: true}
	}
	s, ok := v.(string)
	if !ok {
		p.schema(where+"/"+key, "The value of the field '%s' must be a string or null", key)
		return Path{}
	}
	if err := checkPath(s, reference); err != nil {
		p.schema(where+"/"+key, "The value for the field '%s' must be a valid JSONPath: %v", key, err)
	}
	return Path{Set: true, Path: s}
}

func opt(obj map[string]any, key string) Opt {
	v, ok := obj[key]
	return Opt{Set: ok, Value: v}
}
