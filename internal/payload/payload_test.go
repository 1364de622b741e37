package payload

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/jsonpath"
	"github.com/sluice-ci/sluice/internal/jsonpath/jsonpathtest"
)

// TestConformance evaluates the Parameters of every recorded one-state
// JSONPath Pass machine (any category) and compares the payload, or the
// error name and cause, with what AWS recorded.
func TestConformance(t *testing.T) {
	ran := 0
	for _, c := range jsonpathtest.Cases(t) {
		params := simplePass(c)
		if params == nil {
			continue
		}
		ran++
		t.Run(c.ID, func(t *testing.T) {
			tmpl, err := Compile(params)
			if err != nil {
				t.Fatal(err)
			}
			ctx := map[string]any{
				"Execution":    map[string]any{"Id": "arn:aws:states:us-east-1:111111111111:execution:sm-1:exec-1", "Name": "exec-1", "Input": c.Input},
				"StateMachine": map[string]any{"Id": "arn:aws:states:us-east-1:111111111111:stateMachine:sm-1", "Name": "sm-1"},
			}
			got, err := tmpl.Eval(jsonpath.Env{Input: c.Input, Context: ctx})
			c.Check(t, got, err)
		})
	}
	if ran == 0 {
		t.Fatal("the corpus has no one-state Pass case with only Parameters: the selection reproduces nothing")
	}
	t.Logf("reproduced %d one-state Parameters cases", ran)
}

// simplePass returns the Parameters of a JSONPath machine made of one Pass
// state that only has Parameters.
func simplePass(c jsonpathtest.Case) map[string]any {
	st := c.OnlyState()
	params, _ := st["Parameters"].(map[string]any)
	if st["Type"] != "Pass" || params == nil {
		return nil
	}
	for k := range st {
		switch k {
		case "Type", "Parameters", "End", "Comment":
		default:
			return nil
		}
	}
	return params
}

func TestEval(t *testing.T) {
	input := `{"a": 1, "b": {"c": [1, 2, 3]}, "s": "x", "items": [{"v": 1}, {"v": 2}]}`
	tests := []struct {
		name, tmpl, want string
	}{
		{"static", `{"k": "v", "n": [1, {"x.y": null}]}`, `{"k": "v", "n": [1, {"x.y": null}]}`},
		{"paths", `{"a.$": "$.a", "whole.$": "$", "c.$": "$.b.c[1]"}`, `{"a": 1, "whole": ` + input + `, "c": 2}`},
		{"nested", `{"outer": {"inner.$": "$.s", "keep": true}, "list": [{"x.$": "$.a"}, "literal $.a"]}`, `{"outer": {"inner": "x", "keep": true}, "list": [{"x": 1}, "literal $.a"]}`},
		{"indefinite", `{"vs.$": "$.items[*].v", "none.$": "$.nothing[*]"}`, `{"vs": [1, 2], "none": []}`},
		{"context", `{"id.$": "$$.Execution.Id", "ctx.$": "$$"}`, `{"id": "exec", "ctx": {"Execution": {"Id": "exec"}}}`},
		{"variable", `{"v.$": "$var.k", "all.$": "$var"}`, `{"v": 7, "all": {"k": 7}}`},
		{"intrinsic", `{"f.$": "States.Format('{}-{}', $.s, $var.k)", "n.$": "States.ArrayLength($.b.c)"}`, `{"f": "x-7", "n": 3}`},
		{"dollar key kept", `{"$.a": 1, "b": "$.a"}`, `{"$.a": 1, "b": "$.a"}`},
	}
	env := jsonpath.Env{
		Input:   jsonpathtest.Decode(t, input),
		Context: jsonpathtest.Decode(t, `{"Execution": {"Id": "exec"}}`),
		Vars: func(name string) (any, bool) {
			if name == "var" {
				return jsonpathtest.Decode(t, `{"k": 7}`), true
			}
			return nil, false
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Compile(jsonpathtest.Decode(t, tt.tmpl))
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Eval(env)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonpath.Equal(got, jsonpathtest.Decode(t, tt.want)) {
				t.Errorf("got %s, want %s", jsonpath.Text(got), tt.want)
			}
		})
	}
}

func TestStatic(t *testing.T) {
	tmpl := MustCompile(jsonpathtest.Decode(t, `{"a": [1, 2], "b": {"c": "$.x"}}`))
	if !tmpl.IsStatic() {
		t.Fatal("a template without .$ keys is not static")
	}
	if MustCompile(jsonpathtest.Decode(t, `{"a": [{"b.$": "$"}]}`)).IsStatic() {
		t.Fatal("a template with a .$ key is static")
	}
	for _, v := range []any{nil, "s", true, []any{}} {
		if !MustCompile(v).IsStatic() {
			t.Errorf("%v is not static", v)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	tests := []struct {
		tmpl, input, name, cause string
	}{
		{`{"value.$": "$.no_such_jsonpath"}`, `{"int-literal": 0}`, "States.Runtime",
			`The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{"int-literal":0}'`},
		{`{"deep": {"address.$": "$.application.address"}}`, `{"flagged": false}`, "States.Runtime",
			`The JSONPath '$.application.address' specified for the field 'address.$' could not be found in the input '{"flagged":false}'`},
		{`{"value.$": "$$.Execution.Input.no_such_jsonpath"}`, `{"a": 1}`, "States.Runtime",
			`The JSONPath '$$.Execution.Input.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{"a":1}'`},
		{`{"h.$": "States.Hash($.missing, 'SHA-256')"}`, `{}`, "States.Runtime",
			`The JSONPath '$.missing' specified for the field 'h.$' could not be found in the input '{}'`},
		{`{"v.$": "$undefinedVar"}`, `{}`, "States.Runtime",
			`The JSONPath '$undefinedVar' specified for the field 'v.$' could not be found in the input '{}'`},
		{`{"n.$": "States.MathAdd($.s, 1)"}`, `{"s": "x"}`, "States.Runtime", `Invalid arguments in States.MathAdd`},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			input := jsonpathtest.Decode(t, tt.input)
			_, err := MustCompile(jsonpathtest.Decode(t, tt.tmpl)).Eval(jsonpath.Env{
				Input:   input,
				Context: map[string]any{"Execution": map[string]any{"Input": input}},
			})
			var f *jsonpath.Failure
			if !errors.As(err, &f) {
				t.Fatalf("Eval error %v, want a failure", err)
			}
			if name, cause := f.StatesError(); name != tt.name || cause != tt.cause {
				t.Errorf("got %s: %s\nwant %s: %s", name, cause, tt.name, tt.cause)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct{ tmpl, want string }{
		{`{"a.$": 1}`, `field "a.$": the value for the field 'a.$' must be a valid JSONPath or a valid intrinsic function call`},
		{`{"a.$": "plain text"}`, `field "a.$": the value for the field 'a.$' must be a valid JSONPath`},
		{`{"x": {"a.$": "$."}}`, `field "x.a.$": invalid JSONPath "$."`},
		{`{"x": [0, {"a.$": "States.Nope()"}]}`, `field "x[1].a.$": invalid intrinsic function`},
		{`{"a": 1, "a.$": "$.a"}`, `both produce the key "a"`},
	}
	for _, tt := range tests {
		_, err := Compile(jsonpathtest.Decode(t, tt.tmpl))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Compile(%s) = %v, want an error containing %q", tt.tmpl, err, tt.want)
		}
	}
}

func TestEvalDoesNotMutate(t *testing.T) {
	input := jsonpathtest.Decode(t, `{"o": {"k": [1, 2]}}`)
	before := jsonpath.Text(input)
	tmpl := MustCompile(jsonpathtest.Decode(t, `{"a.$": "$.o", "b": {"c.$": "$.o.k"}}`))
	if _, err := tmpl.Eval(jsonpath.Env{Input: input}); err != nil {
		t.Fatal(err)
	}
	if jsonpath.Text(input) != before {
		t.Errorf("input changed to %s", jsonpath.Text(input))
	}
}
