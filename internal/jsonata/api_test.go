package jsonata

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func decode(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func TestIsExpression(t *testing.T) {
	tests := []struct {
		in   string
		expr string
		ok   bool
	}{
		{"{% $states.input %}", "$states.input", true},
		{"{%1%}", "1", true},
		{" {% states.input %} ", "", false},
		{"{% x", "", false},
		{"$states.input", "", false},
		{"{%", "", false},
	}
	for _, tt := range tests {
		expr, ok := IsExpression(tt.in)
		if expr != tt.expr || ok != tt.ok {
			t.Errorf("IsExpression(%q) = %q, %v; want %q, %v", tt.in, expr, ok, tt.expr, tt.ok)
		}
	}
}

func TestTemplate(t *testing.T) {
	states := map[string]any{"states": map[string]any{"input": decode(t, `{"a": 1, "big": 12345678901234567890, "list": [1, 2]}`)}}
	tests := []struct {
		name  string
		field string
		tmpl  string
		want  string
		cause string
	}{
		{"constants kept", "Output", `{"n": null, "i": 0, "f": 0.1, "s": " {% x %} ", "l": [true, "$x"]}`,
			`{"n": null, "i": 0, "f": 0.1, "s": " {% x %} ", "l": [true, "$x"]}`, ""},
		{"expressions evaluated", "Output", `{"sum": "{% $states.input.a + 1 %}", "list": ["{% $states.input.list %}"], "big": "{% $states.input.big %}"}`,
			`{"sum": 2, "list": [[1, 2]], "big": 12345678901234567890}`, ""},
		{"whole value", "Items", `"{% [1, 'two', 3] %}"`, `[1, "two", 3]`, ""},
		{"undefined field", "Output", `{"result": "{% $doesNotExist %}"}`, "",
			"The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined)."},
		{"undefined in array", "Arguments", `{"a": [1, "{% $nothing %}"]}`, "",
			"The JSONata expression '$nothing' specified for the field 'Arguments/a[1]' returned nothing (undefined)."},
		{"evaluation error", "Output", `{"r": "{% 'a' + 1 %}"}`, "",
			`The JSONata expression ''a' + 1' specified for the field 'Output/r' threw an error during evaluation. T2001: The left side of the "+" operator must evaluate to a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := CompileTemplate(tt.field, decode(t, tt.tmpl))
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Eval(nil, states)
			if tt.cause != "" {
				var qe *QueryError
				if !errors.As(err, &qe) {
					t.Fatalf("err = %v, want QueryError", err)
				}
				name, cause := qe.StatesError()
				if name != "States.QueryEvaluationError" || cause != tt.cause {
					t.Fatalf("error = %s %q\nwant %q", name, cause, tt.cause)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, decode(t, tt.want)) {
				t.Fatalf("got %#v, want %s", got, tt.want)
			}
		})
	}
}

func TestTypeError(t *testing.T) {
	tests := []struct {
		value any
		want  string
	}{
		{"string", `Expected 'array', but was 'string' for value: "string"`},
		{nil, `Expected 'array', but was 'null' for value: null`},
		{map[string]any{"foo": "bar"}, `Expected 'array', but was 'object' for value: {"foo":"bar"}`},
		{json.Number("1"), `Expected 'array', but was 'number' for value: 1`},
		{true, `Expected 'array', but was 'boolean' for value: true`},
	}
	for _, tt := range tests {
		_, cause := TypeError("Items", "$ItemsVar", "array", tt.value).StatesError()
		want := "The JSONata expression '$ItemsVar' specified for the field 'Items' returned an unexpected result type. " + tt.want
		if cause != want {
			t.Errorf("cause = %q\nwant    %q", cause, want)
		}
	}
}

func TestCompileTemplateSyntaxError(t *testing.T) {
	_, err := CompileTemplate("Output", map[string]any{"v": "{% a[1,2) %}"})
	if err == nil || err.Error() != `Output/v: S0202: Expected "]", got ","` {
		t.Fatalf("err = %v", err)
	}
}

func bytesReaderOf(s string) *strings.Reader { return strings.NewReader(s) }
