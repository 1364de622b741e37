package intrinsic

import (
	"testing"

	"github.com/sluice-ci/sluice/internal/jsonpath"
	"github.com/sluice-ci/sluice/internal/jsonpath/jsonpathtest"
)

func benchmarkEval(b *testing.B, expr, input string) {
	call, err := Parse(expr)
	if err != nil {
		b.Fatal(err)
	}
	env := jsonpath.Env{Input: jsonpathtest.Decode(b, input)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := call.Eval(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormat(b *testing.B) {
	benchmarkEval(b, `States.Format('Hello {}, you are {}', $.name, $.age)`, `{"name":"Ada","age":36}`)
}

func BenchmarkMathAdd(b *testing.B) {
	benchmarkEval(b, `States.MathAdd($.count, -1)`, `{"count":10}`)
}

func BenchmarkNested(b *testing.B) {
	benchmarkEval(b, `States.ArrayGetItem(States.StringSplit($.arn, ':'), 3)`, `{"arn":"arn:aws:states:us-east-1:111111111111:stateMachine:x"}`)
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(`States.Format('{}.{}', States.ArrayGetItem(States.StringSplit($.a, '/'), 2), $.b)`); err != nil {
			b.Fatal(err)
		}
	}
}
