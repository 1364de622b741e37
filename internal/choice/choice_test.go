package choice

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/jsonpath"
	"github.com/sluice-ci/sluice/internal/jsonpath/jsonpathtest"
)

// TestConformance evaluates the Choice rule of every recorded
// choice_operators case and checks that it picks the branch AWS took.
func TestConformance(t *testing.T) {
	ran := 0
	for _, c := range jsonpathtest.Cases(t, "choice_operators") {
		states, _ := c.Definition["States"].(map[string]any)
		start, _ := c.Definition["StartAt"].(string)
		state, _ := states[start].(map[string]any)
		choices, _ := state["Choices"].([]any)
		ran++
		t.Run(c.ID, func(t *testing.T) {
			next, _ := state["Default"].(string)
			for _, ch := range choices {
				rule := map[string]any{}
				for k, v := range ch.(map[string]any) {
					rule[k] = v
				}
				target, _ := rule["Next"].(string)
				delete(rule, "Next")
				r, err := Parse(rule)
				if err != nil {
					t.Fatal(err)
				}
				ok, err := r.Eval(jsonpath.Env{Input: c.Input})
				if err != nil {
					t.Fatalf("Eval: %v", err)
				}
				if ok {
					next = target
					break
				}
			}
			out, _ := c.Expected.Output.(map[string]any)
			if want := out["TestResult.$"]; c.Expected.Status != "SUCCEEDED" || want != next {
				t.Errorf("took %s, AWS took %v (status %s) for input %s", next, want, c.Expected.Status, jsonpath.Text(c.Input))
			}
		})
	}
	if ran == 0 {
		t.Fatal("the corpus has no choice_operators case: the selection reproduces nothing")
	}
	t.Logf("reproduced %d choice_operators cases", ran)
}

func TestEval(t *testing.T) {
	input := `{
	  "s": "abc", "empty": "", "n": 10, "f": 10.0, "big": 9007199254740993, "t": true, "null": null,
	  "ts": "2016-03-14T01:59:00Z", "tsOff": "2016-03-14T02:59:00+01:00", "list": [1, 2], "obj": {"k": "v"},
	  "other": {"s": "abd", "n": 9.5, "t": true, "ts": "2016-03-14T01:59:00.001Z", "big": 9007199254740992},
	  "wide": "\uff61", "astral": "\ud83d\ude00"
	}`
	tests := []struct {
		rule string
		want bool
	}{
		{`{"Variable": "$.s", "StringEquals": "abc"}`, true},
		{`{"Variable": "$.s", "StringLessThan": "abd"}`, true},
		{`{"Variable": "$.s", "StringGreaterThanEquals": "abc"}`, true},
		{`{"Variable": "$.n", "StringEquals": "10"}`, false},
		{`{"Variable": "$.wide", "StringGreaterThan": "\ud83d\ude00"}`, true},
		{`{"Variable": "$.s", "StringLessThanPath": "$.other.s"}`, true},
		{`{"Variable": "$.s", "StringMatches": "a*"}`, true},
		{`{"Variable": "$.s", "StringMatches": "*c"}`, true},
		{`{"Variable": "$.s", "StringMatches": "a*b*c"}`, true},
		{`{"Variable": "$.s", "StringMatches": "*x*"}`, false},
		{`{"Variable": "$.s", "StringMatches": "abc"}`, true},
		{`{"Variable": "$.empty", "StringMatches": "*"}`, true},
		{`{"Variable": "$.s", "StringMatches": "ab\\*"}`, false},
		{`{"Variable": "$.n", "NumericEquals": 10.0}`, true},
		{`{"Variable": "$.f", "NumericEquals": 10}`, true},
		{`{"Variable": "$.n", "NumericGreaterThan": 9.99}`, true},
		{`{"Variable": "$.n", "NumericLessThanEquals": 1e1}`, true},
		{`{"Variable": "$.big", "NumericGreaterThan": 9007199254740992}`, true},
		{`{"Variable": "$.big", "NumericEquals": 9007199254740992}`, false},
		{`{"Variable": "$.big", "NumericGreaterThanPath": "$.other.big"}`, true},
		{`{"Variable": "$.n", "NumericGreaterThanPath": "$.other.n"}`, true},
		{`{"Variable": "$.s", "NumericEquals": 0}`, false},
		{`{"Variable": "$.t", "NumericEquals": 1}`, false},
		{`{"Variable": "$.t", "BooleanEquals": true}`, true},
		{`{"Variable": "$.t", "BooleanEqualsPath": "$.other.t"}`, true},
		{`{"Variable": "$.n", "BooleanEqualsPath": "$.t"}`, false},
		{`{"Variable": "$.ts", "TimestampEquals": "2016-03-14T02:59:00+01:00"}`, true},
		{`{"Variable": "$.tsOff", "TimestampEquals": "2016-03-14T01:59:00Z"}`, true},
		{`{"Variable": "$.ts", "TimestampLessThanPath": "$.other.ts"}`, true},
		{`{"Variable": "$.ts", "TimestampGreaterThan": "2016-03-14T01:58:59.999999999Z"}`, true},
		{`{"Variable": "$.s", "TimestampEquals": "2016-03-14T01:59:00Z"}`, false},
		{`{"Variable": "$.n", "TimestampEquals": "2016-03-14T01:59:00Z"}`, false},
		{`{"Variable": "$.missing", "IsPresent": false}`, true},
		{`{"Variable": "$.missing", "IsPresent": true}`, false},
		{`{"Variable": "$.null", "IsPresent": true}`, true},
		{`{"Variable": "$.missing[*]", "IsPresent": true}`, false},
		{`{"Variable": "$.list[*]", "IsPresent": true}`, true},
		{`{"Variable": "$.null", "IsNull": true}`, true},
		{`{"Variable": "$.s", "IsNull": false}`, true},
		{`{"Variable": "$.n", "IsNumeric": true}`, true},
		{`{"Variable": "$.s", "IsNumeric": false}`, true},
		{`{"Variable": "$.s", "IsString": true}`, true},
		{`{"Variable": "$.t", "IsBoolean": true}`, true},
		{`{"Variable": "$.ts", "IsTimestamp": true}`, true},
		{`{"Variable": "$.s", "IsTimestamp": false}`, true},
		{`{"Variable": "$.obj", "IsString": false}`, true},
		{`{"Variable": "$", "IsPresent": true}`, true},
		{`{"Variable": "$$.Execution.Input.n", "NumericEquals": 10}`, true},
		{`{"Variable": "$guess", "StringEqualsPath": "$answer"}`, true},
		{`{"And": [{"Variable": "$.n", "NumericGreaterThanEquals": 10}, {"Variable": "$.n", "NumericLessThan": 30}]}`, true},
		{`{"And": [{"Variable": "$.n", "IsPresent": true}, {"And": [{"Variable": "$.n", "IsNumeric": true}, {"Variable": "$.n", "NumericEquals": 3}]}]}`, false},
		{`{"Or": [{"Variable": "$.s", "StringEquals": "x"}, {"Variable": "$.s", "StringEquals": "abc"}]}`, true},
		{`{"Not": {"Variable": "$.s", "StringEquals": "Private"}}`, true},
		// Short-circuit: the missing path after a false And member is never read.
		{`{"And": [{"Variable": "$.s", "StringEquals": "x"}, {"Variable": "$.missing", "StringEquals": "y"}]}`, false},
		{`{"Or": [{"Variable": "$.s", "StringEquals": "abc"}, {"Variable": "$.missing", "StringEquals": "y"}]}`, true},
	}
	in := jsonpathtest.Decode(t, input)
	env := jsonpath.Env{
		Input:   in,
		Context: map[string]any{"Execution": map[string]any{"Input": in}},
		Vars: func(name string) (any, bool) {
			v, ok := map[string]any{"guess": "42", "answer": "42"}[name]
			return v, ok
		},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			r, err := Parse(jsonpathtest.Decode(t, tt.rule).(map[string]any))
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Eval(env)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Eval = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	tests := []struct{ rule, cause string }{
		{`{"Variable": "$.missing", "StringEquals": "x"}`, "Invalid path '$.missing': The choice state's condition path references an invalid value."},
		{`{"Variable": "$.missing", "IsNull": true}`, "Invalid path '$.missing': The choice state's condition path references an invalid value."},
		{`{"Variable": "$.n", "NumericEqualsPath": "$.nope"}`, "Invalid path '$.nope': The choice state's condition path references an invalid value."},
		{`{"Not": {"Variable": "$.a.b.c", "BooleanEquals": true}}`, "Invalid path '$.a.b.c': The choice state's condition path references an invalid value."},
		{`{"Variable": "$undefined", "IsString": true}`, "Invalid path '$undefined': The choice state's condition path references an invalid value."},
	}
	for _, tt := range tests {
		r, err := Parse(jsonpathtest.Decode(t, tt.rule).(map[string]any))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Eval(jsonpath.Env{Input: jsonpathtest.Decode(t, `{"n": 1}`)})
		var f *jsonpath.Failure
		if !errors.As(err, &f) || f.Name != "States.Runtime" || f.Cause != tt.cause {
			t.Errorf("%s: %v, want States.Runtime %q", tt.rule, err, tt.cause)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ rule, want string }{
		{`{}`, "rule: a rule needs a Variable and a comparison operator"},
		{`{"Variable": "$.a"}`, "rule: a rule with a Variable needs one comparison operator"},
		{`{"StringEquals": "a"}`, "rule: a rule needs a Variable"},
		{`{"Variable": "$.a", "StringEquals": "a", "NumericEquals": 1}`, "rule: a rule takes one comparison operator, found NumericEquals and StringEquals"},
		{`{"Variable": "$.a", "NumericEquals": "1"}`, `NumericEquals: must be a number, not "1"`},
		{`{"Variable": "$.a", "StringEquals": 1}`, "StringEquals: must be a string, not 1"},
		{`{"Variable": "$.a", "BooleanEquals": "true"}`, `BooleanEquals: must be true or false`},
		{`{"Variable": "$.a", "IsPresent": 1}`, "IsPresent: must be true or false"},
		{`{"Variable": "$.a", "TimestampEquals": "2016-03-14"}`, `TimestampEquals: "2016-03-14" is not an RFC 3339 timestamp`},
		{`{"Variable": "$.a", "StringEqualsPath": "a"}`, "StringEqualsPath: invalid JSONPath"},
		{`{"Variable": "$.a", "StringMatches": "a\\b"}`, `StringMatches: in StringMatches only \* and \\ may follow a backslash`},
		{`{"Variable": "a", "IsNull": true}`, "Variable: invalid JSONPath"},
		{`{"Variable": 1, "IsNull": true}`, "Variable: must be a JSONPath string"},
		{`{"Variable": "$.a", "Next": "X", "IsNull": true}`, "Next: unknown field in a Choice rule"},
		{`{"And": []}`, "And: must be a non-empty array of rules"},
		{`{"And": [{"Variable": "$.a", "IsNull": true}, {"Variable": "$.a", "NumericEquals": "x"}]}`, `And[1].NumericEquals: must be a number, not "x"`},
		{`{"Or": [1]}`, "Or[0]: must be a rule object"},
		{`{"Not": [{"Variable": "$.a", "IsNull": true}]}`, "Not: must be a rule object"},
		{`{"Not": {"And": [{"Not": {"Variable": "$.a", "NumericLessThan": true}}]}}`, "Not.And[0].Not.NumericLessThan: must be a number, not true"},
		{`{"And": [{"Variable": "$.a", "IsNull": true}], "Variable": "$.a"}`, "rule: And cannot be combined with Variable"},
		{`{"And": [{"Variable": "$.a", "IsNull": true}], "Or": []}`, "rule: a rule holds one of And, Or and Not, found And and Or"},
	}
	for _, tt := range tests {
		_, err := Parse(jsonpathtest.Decode(t, tt.rule).(map[string]any))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Parse(%s) = %v, want %q", tt.rule, err, tt.want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	good := map[string]string{
		"2016-03-14T01:59:00Z":                "2016-03-14T01:59:00Z",
		"2016-03-14T01:59:00.5Z":              "2016-03-14T01:59:00.5Z",
		"2016-03-14T01:59:00.123456789-02:30": "2016-03-14T04:29:00.123456789Z",
		"2012-10-09T19:00:55+01:00":           "2012-10-09T18:00:55Z",
		"2024-02-29T00:00:00Z":                "2024-02-29T00:00:00Z",
	}
	for in, want := range good {
		got, ok := ParseTimestamp(in)
		if !ok || got.UTC().Format(time.RFC3339Nano) != want {
			t.Errorf("ParseTimestamp(%s) = %v, %v, want %s", in, got, ok, want)
		}
	}
	for _, bad := range []string{
		"", "2016-03-14", "2012-10-09T19:00:55", "2016-12-05 21:29:29Z", "05-12-2016T21:29:29Z", "2016-13-05T21:29:29Z",
		"2016-12-05T25:29:29Z", "2016-12-05t21:29:29z", "2016-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "2016-12-05T21:29Z",
		"2016-12-05T21:29:60Z", "2016-12-05T21:29:29.Z", "2016-12-05T21:29:29.1234567890Z", "2016-12-05T21:29:29+0100",
		"2016-12-05T21:29:29+01:00x", "2016-12-05T21:29:29Zx", "201a-12-05T21:29:29Z",
	} {
		if _, ok := ParseTimestamp(bad); ok {
			t.Errorf("ParseTimestamp(%q) accepted", bad)
		}
	}
}
