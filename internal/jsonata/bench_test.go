package jsonata

import (
	"encoding/json"
	"testing"
)

func benchEval(b *testing.B, src string, input any, bindings map[string]any) {
	b.Helper()
	x, err := Compile(src)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := x.Eval(input, bindings); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalStatesField(b *testing.B) {
	bindings := map[string]any{"states": map[string]any{"input": map[string]any{"a": json.Number("41")}}}
	benchEval(b, "$states.input.a + 1", nil, bindings)
}

func BenchmarkEvalCondition(b *testing.B) {
	bindings := map[string]any{"states": map[string]any{"input": map[string]any{"type": "Private", "value": json.Number("22")}}}
	benchEval(b, "$states.input.value >= 20 and $states.input.value < 30", nil, bindings)
}

func BenchmarkEvalGroupBy(b *testing.B) {
	var doc any
	dec := json.NewDecoder(bytesReaderOf(`{"Order":[{"Product":[{"Name":"Hat","Price":34.45,"Quantity":2},{"Name":"Cloak","Price":107.99,"Quantity":1}]},{"Product":[{"Name":"Hat","Price":34.45,"Quantity":4}]}]}`))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		b.Fatal(err)
	}
	benchEval(b, "$states.input.Order.Product{Name: $sum($.(Price * Quantity))}", nil, map[string]any{"states": map[string]any{"input": doc}})
}

// BenchmarkEvalRegexReplace replaces the matches of a regular expression:
// each match borrows a compiled copy of the pattern and bounds its time.
func BenchmarkEvalRegexReplace(b *testing.B) {
	bindings := map[string]any{"states": map[string]any{"input": map[string]any{"ref": "refs/heads/release-2026-04"}}}
	benchEval(b, `$replace($states.input.ref, /^refs\/heads\/([a-z]+)-(\d+)/, "$1:$2")`, nil, bindings)
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile("$states.input.items[price > 10]{category: $sum(price)} ~> $each(function($v, $k){$k & '=' & $string($v)})"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTemplate(b *testing.B) {
	tmpl, err := CompileTemplate("Output", map[string]any{
		"id":    "{% $states.context.Execution.Id %}",
		"total": "{% $states.input.a + 1 %}",
		"fixed": "constant",
	})
	if err != nil {
		b.Fatal(err)
	}
	bindings := map[string]any{"states": map[string]any{
		"input":   map[string]any{"a": json.Number("41")},
		"context": map[string]any{"Execution": map[string]any{"Id": "arn:aws:states:::execution:x"}},
	}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Eval(nil, bindings); err != nil {
			b.Fatal(err)
		}
	}
}
