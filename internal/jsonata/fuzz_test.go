package jsonata

import (
	"testing"
	"time"
)

// FuzzEval compiles and evaluates arbitrary expressions: neither may panic,
// and the evaluation limits must stop runaway expressions.
func FuzzEval(f *testing.F) {
	seeds := []string{
		"$states.input.a + 1", "Account.Order.Product{`Product Name`: $sum(Price)}",
		"$map([1..10], function($v){$v * 2})", "( $f := function($n){ $f($n) }; $f(1) )",
		"( $f := function($n){ 1 + $f($n) }; $f(1) )", "$replace('aaa', /a*?/, 'b')",
		"**.%.%", "a@$x#$i.b[$i>0]^(>c){d: e}", "|a|{'b': 1}, ['c']|", "$formatNumber(1234.5, '#,##0.00;(#)')",
		"$fromMillis(0, '[Y0001]-[M01]-[D01] [H]:[m]:[s] [ZN]')", "$toMillis('2017-10-23', '[Y]-[M]-[D]')",
		"[1..10000000]", "$string($)", "$parse('{\"a\": [1, 2.5e3]}')", "$range(1, 10, 2) ~> $partition(2)",
		"/(a+)+$/", "$match('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', /(a+)+$/)",
		"$formatInteger(123456, 'W;o')", "$parseInteger('one million', 'w')", "[[[[[[[[[[1]]]]]]]]]]",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	input := map[string]any{"a": []any{map[string]any{"b": 1.0, "c": "x"}}, "Account": map[string]any{}}
	bindings := map[string]any{"states": map[string]any{"input": map[string]any{"a": 1.0}}}
	limits := Limits{MaxDepth: maxDepth, Timeout: 50 * time.Millisecond}
	f.Fuzz(func(t *testing.T, src string) {
		x, err := Compile(src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Compile(%q) error %T %v", src, err, err)
			}
			return
		}
		start := time.Now()
		_, _, err = x.EvalLimits(input, bindings, limits)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Eval(%q) error %T %v", src, err, err)
			}
		}
		if d := time.Since(start); d > limits.Timeout+2*time.Second {
			t.Fatalf("Eval(%q) ran %v", src, d)
		}
	})
}
