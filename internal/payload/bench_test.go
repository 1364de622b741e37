package payload

import (
	"testing"

	"github.com/sluice-ci/sluice/internal/jsonpath"
	"github.com/sluice-ci/sluice/internal/jsonpath/jsonpathtest"
)

// BenchmarkEval is a typical Task Parameters block: a few paths, a context
// path, a static sub-object and one intrinsic.
func BenchmarkEval(b *testing.B) {
	tmpl := MustCompile(jsonpathtest.Decode(b, `{
		"FunctionName": "arn:aws:lambda:us-east-1:111111111111:function:gate",
		"Payload": {
			"pipeline.$": "$.pipeline",
			"stage.$": "$.stage.name",
			"execution.$": "$$.Execution.Id",
			"token.$": "$$.Task.Token",
			"attempt.$": "States.MathAdd($.attempt, 1)",
			"config": {"mode": "SUPERSEDED", "timeout": 300}
		}
	}`))
	env := jsonpath.Env{
		Input:   jsonpathtest.Decode(b, `{"pipeline": "demo", "stage": {"name": "Build"}, "attempt": 0}`),
		Context: jsonpathtest.Decode(b, `{"Execution": {"Id": "arn:x"}, "Task": {"Token": "t"}}`),
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Eval(env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvalPaths has paths only, the common ResultSelector shape.
func BenchmarkEvalPaths(b *testing.B) {
	tmpl := MustCompile(jsonpathtest.Decode(b, `{"a.$": "$.a", "b.$": "$.b.c", "all.$": "$"}`))
	env := jsonpath.Env{Input: jsonpathtest.Decode(b, `{"a": 1, "b": {"c": 2}}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Eval(env); err != nil {
			b.Fatal(err)
		}
	}
}
