package choice

import (
	"testing"

	"github.com/sluice-ci/sluice/internal/jsonpath"
	"github.com/sluice-ci/sluice/internal/jsonpath/jsonpathtest"
)

func benchmarkRule(b *testing.B, rule, input string) {
	r, err := Parse(jsonpathtest.Decode(b, rule).(map[string]any))
	if err != nil {
		b.Fatal(err)
	}
	env := jsonpath.Env{Input: jsonpathtest.Decode(b, input)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Eval(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNumericEquals(b *testing.B) {
	benchmarkRule(b, `{"Variable": "$.result.count", "NumericEquals": 0}`, `{"result": {"count": 0}}`)
}

func BenchmarkStringEquals(b *testing.B) {
	benchmarkRule(b, `{"Variable": "$.status", "StringEquals": "FAILED"}`, `{"status": "SUCCEEDED"}`)
}

// BenchmarkAndOr is the shape of the stage-failure Choice the pipeline
// compiler emits: any failed action fails the stage.
func BenchmarkAndOr(b *testing.B) {
	benchmarkRule(b, `{"Or": [
		{"Variable": "$.actions[0].failed", "BooleanEquals": true},
		{"And": [{"Variable": "$.actions[1].status", "IsPresent": true}, {"Variable": "$.actions[1].status", "StringEquals": "Failed"}]},
		{"Not": {"Variable": "$.ts", "TimestampLessThan": "2030-01-01T00:00:00Z"}}
	]}`, `{"actions": [{"failed": false}, {"status": "Succeeded"}], "ts": "2024-05-01T10:00:00Z"}`)
}
