package states_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sluice-ci/sluice/internal/states"
)

// TestLambdaFunctionReferences calls a Lambda function registered by ARN
// through each way a definition may name it: its ARN, with a version or
// alias, and through lambda:invoke by name, partial ARN or ARN, qualified
// or not. A name nothing is registered for fails the task.
func TestLambdaFunctionReferences(t *testing.T) {
	const fn = "arn:aws:lambda:us-east-1:123456789012:function:echo"
	reg := states.NewRegistry()
	reg.Register(fn, func(_ context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil })
	eng := newEngine(t, reg, nil)
	direct := `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": %q, "End": true}}}`
	invoke := `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
	  "Parameters": {"FunctionName": %q, "Payload.$": "$"}, "OutputPath": "$.Payload", "End": true}}}`
	tests := []struct {
		name, def, ref string
		ok             bool
	}{
		{"function ARN", direct, fn, true},
		{"function ARN with a version", direct, fn + ":7", true},
		{"function ARN with an alias", direct, fn + ":live", true},
		{"another function", direct, "arn:aws:lambda:us-east-1:123456789012:function:other", false},
		{"invoke by name", invoke, "echo", true},
		{"invoke by name with an alias", invoke, "echo:live", true},
		{"invoke by partial ARN", invoke, "123456789012:function:echo", true},
		{"invoke by ARN with a version", invoke, fn + ":7", true},
		{"invoke another function", invoke, "other", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := createMachine(t, eng, fmt.Sprintf("Ref%d", i), fmt.Sprintf(tt.def, tt.ref))
			d := wait(t, eng, start(t, eng, sm, "x", `{"n":1}`))
			if got := d.Status == states.StatusSucceeded && str(d.Output) == `{"n":1}`; got != tt.ok {
				t.Fatalf("execution %s output %s error %s %s", d.Status, str(d.Output), str(d.Error), str(d.Cause))
			}
		})
	}
}
