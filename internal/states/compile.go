package states

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sluice-ci/sluice/internal/asl"
	"github.com/sluice-ci/sluice/internal/jsonpath"
)

// program is a definition compiled once into the form the interpreter runs:
// states linked to their successors, every path, template and expression
// compiled.
type program struct {
	def  *asl.Definition
	root *block
}

// block is a compiled definition, branch or item processor.
type block struct {
	def   *asl.Definition
	start *node
	nodes map[string]*node
}

// node is a compiled state.
type node struct {
	s        *asl.State
	name     string
	jsonata  bool
	enteredT string
	exitedT  string
	abortedT string
	next     *node

	inputPath  pathField
	outputPath pathField
	itemsPath  pathField
	resultPath refField

	params         template
	resultSelector template
	itemSelector   template
	assign         template
	output         template // JSONata Output
	arguments      template // JSONata Arguments
	items          template // JSONata Items

	timeout, heartbeat   expr
	seconds, timestamp   expr
	maxConcurrency       expr
	toleratedCount       expr
	toleratedPercentage  expr
	errorField, cause    expr
	secondsPath          *jsonpath.Path
	timestampPath        *jsonpath.Path
	timeoutPath          *jsonpath.Path
	heartbeatPath        *jsonpath.Path
	maxConcurrencyPath   *jsonpath.Path
	toleratedCountPath   *jsonpath.Path
	toleratedPercentPath *jsonpath.Path

	choices   []*choiceNode
	deflt     *node
	retry     []*asl.Retrier
	catch     []*catchNode
	branches  []*block
	processor *block
	resource  *resource
	reader    *itemReader
	batcher   *itemBatcher
	writer    *resultWriter
}

// itemReader is a Map state's ItemReader: a resource whose handler returns
// the items.
type itemReader struct {
	resource *resource
	params   template
	config   map[string]any // the ReaderConfig as declared, nil without one
	maxItems int64
}

// itemBatcher is a Map state's ItemBatcher.
type itemBatcher struct {
	maxItems, maxBytes         expr
	maxItemsPath, maxBytesPath *jsonpath.Path
	batchInput                 template
}

type choiceNode struct {
	rule   condition
	next   *node
	assign template
	output template
}

type catchNode struct {
	c          *asl.Catcher
	next       *node
	resultPath refField
	assign     template
	output     template
}

// pathField is InputPath, OutputPath or ItemsPath: nil path means "$",
// null means the empty object.
type pathField struct {
	path *jsonpath.Path
	null bool
}

// refField is ResultPath: unset means "$" (replace), null means discard.
type refField struct {
	path    *jsonpath.Path
	discard bool
}

func compileProgram(def *asl.Definition) (*program, error) {
	root, err := compileBlock(def)
	if err != nil {
		return nil, err
	}
	return &program{def: def, root: root}, nil
}

func compileBlock(def *asl.Definition) (*block, error) {
	b := &block{def: def, nodes: make(map[string]*node, len(def.States))}
	for _, name := range def.Order {
		s := def.States[name]
		b.nodes[name] = &node{
			s: s, name: name, jsonata: s.QueryLanguage == asl.JSONata,
			enteredT: s.Type + entered, exitedT: s.Type + exited, abortedT: s.Type + aborted,
		}
	}
	for _, name := range def.Order {
		if err := b.nodes[name].compile(b); err != nil {
			return nil, fmt.Errorf("state %s: %w", name, err)
		}
	}
	b.start = b.nodes[def.StartAt]
	return b, nil
}

func (n *node) compile(b *block) error {
	s := n.s
	var err error
	n.next = b.nodes[s.Next]
	n.deflt = b.nodes[s.Default]
	n.retry = s.Retry
	if n.inputPath, err = compilePathField(s.InputPath); err != nil {
		return fmt.Errorf("InputPath: %w", err)
	}
	if n.outputPath, err = compilePathField(s.OutputPath); err != nil {
		return fmt.Errorf("OutputPath: %w", err)
	}
	if n.itemsPath, err = compilePathField(s.ItemsPath); err != nil {
		return fmt.Errorf("ItemsPath: %w", err)
	}
	if n.resultPath, err = compileRefField(s.ResultPath); err != nil {
		return fmt.Errorf("ResultPath: %w", err)
	}
	for _, f := range []struct {
		name string
		v    asl.Opt
		dst  *template
	}{
		{"Parameters", s.Parameters, &n.params}, {"ResultSelector", s.ResultSelector, &n.resultSelector},
		{"ItemSelector", s.ItemSelector, &n.itemSelector}, {"Assign", s.Assign, &n.assign},
		{"Output", s.Output, &n.output}, {"Arguments", s.Arguments, &n.arguments}, {"Items", s.Items, &n.items},
	} {
		if !f.v.Set {
			continue
		}
		if *f.dst, err = compileTemplate(f.name, f.v.Value, n.jsonata); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	for _, f := range []struct {
		name string
		v    asl.Opt
		dst  *expr
	}{
		{"TimeoutSeconds", s.TimeoutSeconds, &n.timeout}, {"HeartbeatSeconds", s.HeartbeatSeconds, &n.heartbeat},
		{"Seconds", s.Seconds, &n.seconds}, {"Timestamp", s.Timestamp, &n.timestamp},
		{"MaxConcurrency", s.MaxConcurrency, &n.maxConcurrency},
		{"ToleratedFailureCount", s.ToleratedFailureCount, &n.toleratedCount},
		{"ToleratedFailurePercentage", s.ToleratedFailurePercentage, &n.toleratedPercentage},
		{"Error", s.Error, &n.errorField}, {"Cause", s.Cause, &n.cause},
	} {
		if !f.v.Set {
			continue
		}
		if *f.dst, err = compileValue(f.name, f.v.Value, n.jsonata); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if s.ErrorPath.Set {
		if n.errorField, err = compilePathValue("ErrorPath", s.ErrorPath.Value); err != nil {
			return err
		}
	}
	if s.CausePath.Set {
		if n.cause, err = compilePathValue("CausePath", s.CausePath.Value); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		text string
		dst  **jsonpath.Path
	}{
		{s.SecondsPath, &n.secondsPath}, {s.TimestampPath, &n.timestampPath},
		{s.TimeoutSecondsPath, &n.timeoutPath}, {s.HeartbeatSecondsPath, &n.heartbeatPath},
		{s.MaxConcurrencyPath, &n.maxConcurrencyPath}, {s.ToleratedFailureCountPath, &n.toleratedCountPath},
		{s.ToleratedFailurePercentagePath, &n.toleratedPercentPath},
	} {
		if f.text == "" {
			continue
		}
		if *f.dst, err = jsonpath.Compile(f.text); err != nil {
			return fmt.Errorf("path %q: %w", f.text, err)
		}
	}
	for i, c := range s.Choices {
		cn := &choiceNode{next: b.nodes[c.Next]}
		if n.jsonata {
			cn.rule, err = compileCondition(c.Condition.Value)
		} else {
			cn.rule, err = compileChoiceRule(c.Rule)
		}
		if err != nil {
			return fmt.Errorf("choice %d: %w", i, err)
		}
		if c.Assign.Set {
			if cn.assign, err = compileTemplate("Assign", c.Assign.Value, n.jsonata); err != nil {
				return fmt.Errorf("choice %d Assign: %w", i, err)
			}
		}
		if c.Output.Set {
			if cn.output, err = compileTemplate("Output", c.Output.Value, n.jsonata); err != nil {
				return fmt.Errorf("choice %d Output: %w", i, err)
			}
		}
		n.choices = append(n.choices, cn)
	}
	for i, c := range s.Catch {
		cn := &catchNode{c: c, next: b.nodes[c.Next]}
		if cn.resultPath, err = compileRefField(c.ResultPath); err != nil {
			return fmt.Errorf("catcher %d ResultPath: %w", i, err)
		}
		if c.Assign.Set {
			if cn.assign, err = compileTemplate("Assign", c.Assign.Value, n.jsonata); err != nil {
				return fmt.Errorf("catcher %d Assign: %w", i, err)
			}
		}
		if c.Output.Set {
			if cn.output, err = compileTemplate("Output", c.Output.Value, n.jsonata); err != nil {
				return fmt.Errorf("catcher %d Output: %w", i, err)
			}
		}
		n.catch = append(n.catch, cn)
	}
	for i, br := range s.Branches {
		cb, err := compileBlock(br)
		if err != nil {
			return fmt.Errorf("branch %d: %w", i, err)
		}
		n.branches = append(n.branches, cb)
	}
	if s.Processor != nil {
		if n.processor, err = compileBlock(s.Processor); err != nil {
			return fmt.Errorf("item processor: %w", err)
		}
	}
	if s.Type == asl.TypeTask {
		n.resource = parseResource(s.Resource)
	}
	if s.ItemReader.Set {
		if n.reader, err = compileReader(s.ItemReader.Value, n.jsonata); err != nil {
			return fmt.Errorf("ItemReader: %w", err)
		}
	}
	if s.ItemBatcher.Set {
		if n.batcher, err = compileBatcher(s.ItemBatcher.Value, n.jsonata); err != nil {
			return fmt.Errorf("ItemBatcher: %w", err)
		}
	}
	if s.ResultWriter.Set {
		if n.writer, err = compileWriter(s.ResultWriter.Value, n.jsonata); err != nil {
			return fmt.Errorf("ResultWriter: %w", err)
		}
	}
	return nil
}

// compileReader compiles an ItemReader, whose shape package asl checked.
func compileReader(v any, isJSONata bool) (*itemReader, error) {
	m, _ := v.(map[string]any)
	res, _ := m["Resource"].(string)
	r := &itemReader{resource: parseResource(res)}
	var err error
	if r.params, err = compileResourceParams(m, isJSONata); err != nil {
		return nil, err
	}
	if rc, ok := m["ReaderConfig"].(map[string]any); ok {
		r.config = rc
		r.maxItems, _ = numberValue(rc["MaxItems"])
	}
	return r, nil
}

// compileResourceParams compiles the Parameters (Arguments in JSONata) of
// an ItemReader or a ResultWriter, nil when it has none.
func compileResourceParams(m map[string]any, isJSONata bool) (template, error) {
	key := "Parameters"
	if isJSONata {
		key = "Arguments"
	}
	p, ok := m[key]
	if !ok {
		return nil, nil
	}
	return compileTemplate(key, p, isJSONata)
}

// compileBatcher compiles an ItemBatcher, whose shape package asl checked.
func compileBatcher(v any, isJSONata bool) (*itemBatcher, error) {
	m, _ := v.(map[string]any)
	b := &itemBatcher{}
	var err error
	for _, f := range []struct {
		key  string
		dst  *expr
		path **jsonpath.Path
	}{{"MaxItemsPerBatch", &b.maxItems, &b.maxItemsPath}, {"MaxInputBytesPerBatch", &b.maxBytes, &b.maxBytesPath}} {
		if val, ok := m[f.key]; ok {
			if *f.dst, err = compileValue(f.key, val, isJSONata); err != nil {
				return nil, err
			}
		}
		if p, ok := m[f.key+"Path"].(string); ok {
			if *f.path, err = jsonpath.Compile(p); err != nil {
				return nil, fmt.Errorf("%sPath: %w", f.key, err)
			}
		}
	}
	if bi, ok := m["BatchInput"]; ok {
		if b.batchInput, err = compileTemplate("BatchInput", bi, isJSONata); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func compilePathField(p asl.Path) (pathField, error) {
	if !p.Set || (!p.Null && p.Path == "$") {
		return pathField{}, nil
	}
	if p.Null {
		return pathField{null: true}, nil
	}
	path, err := jsonpath.Compile(p.Path)
	return pathField{path: path}, err
}

func compileRefField(p asl.Path) (refField, error) {
	if !p.Set || (!p.Null && p.Path == "$") {
		return refField{}, nil
	}
	if p.Null {
		return refField{discard: true}, nil
	}
	path, err := jsonpath.CompileReference(p.Path)
	return refField{path: path}, err
}

// resource is a parsed Task Resource ARN.
type resource struct {
	arn     string
	lambda  bool   // a Lambda function ARN, invoked directly
	service string // "lambda" for arn:aws:states:::lambda:invoke
	api     string // "invoke"
	pattern string // "", "sync", "sync:2" or "waitForTaskToken"
	region  string
}

// callback reports whether the task waits for SendTask*.
func (r *resource) callback() bool { return r.pattern == "waitForTaskToken" }

// submitted reports whether the task records TaskSubmitted before its result.
func (r *resource) submitted() bool { return r.pattern != "" }

// base is the resource without its integration pattern.
func (r *resource) base() string {
	if r.pattern == "" {
		return r.arn
	}
	return strings.TrimSuffix(r.arn, "."+r.pattern)
}

func parseResource(arn string) *resource {
	r := &resource{arn: arn}
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) >= 6 {
		r.region = parts[3]
	}
	switch {
	case len(parts) >= 7 && parts[2] == "lambda" && parts[5] == "function":
		r.lambda = true
	case len(parts) >= 6 && parts[2] == "states" && parts[5] != "activity":
		rest := strings.Join(parts[5:], ":")
		svc, api, _ := strings.Cut(rest, ":")
		r.service = svc
		if i := strings.Index(api, "."); i >= 0 {
			r.pattern = api[i+1:]
			api = api[:i]
		}
		r.api = api
	}
	return r
}

// resourceName is the value of the resource field of Task events.
func (r *resource) resourceName() string {
	if r.pattern == "" {
		return r.api
	}
	return r.api + "." + r.pattern
}

// numberValue converts a decoded JSON number to an int64 when it is whole.
func numberValue(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}
