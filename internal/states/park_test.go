package states_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/states"
)

// TestParkUnhandled runs Task states whose resources have no handler, with
// and without ParkUnhandled: only .waitForTaskToken tasks park, and the
// token they wait for is the one in TaskScheduled's parameters.
func TestParkUnhandled(t *testing.T) {
	task := func(resource, params string) string {
		return `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + resource + `","Parameters":` + params + `,"End":true}}}`
	}
	sqs := task("arn:aws:states:::sqs:sendMessage.waitForTaskToken", `{"QueueUrl":"q","MessageBody":{"token.$":"$$.Task.Token"}}`)
	tests := []struct {
		name   string
		park   bool
		def    string
		parked bool
	}{
		{"a callback, not parked", false, sqs, false},
		{"a callback, parked", true, sqs, true},
		{"a Lambda callback, parked", true, task("arn:aws:states:::lambda:invoke.waitForTaskToken",
			`{"FunctionName":"nobody","Payload":{"token.$":"$$.Task.Token"}}`), true},
		{"a request and response task", true, task("arn:aws:states:::sqs:sendMessage", `{"QueueUrl":"q","MessageBody":"m"}`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parked := make(chan states.TaskInfo, 1)
			eng := openEngine(t, states.Options{ParkUnhandled: tt.park, Parked: func(info states.TaskInfo) { parked <- info }})
			ctx := context.Background()
			arn := start(t, eng, createMachine(t, eng, "Unhandled", tt.def), "x", `{}`)
			if !tt.parked {
				d := wait(t, eng, arn)
				if d.Status != states.StatusFailed || str(d.Error) != "States.TaskFailed" || !strings.Contains(str(d.Cause), "no handler is registered") {
					t.Fatalf("execution %s %s %s", d.Status, str(d.Error), str(d.Cause))
				}
				return
			}
			info := <-parked
			h, err := eng.GetExecutionHistory(ctx, arn)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(marshalParameters(t, h), info.Token) || info.StateName != "T" || info.ExecutionArn != arn {
				t.Fatalf("parked %+v; the token is not in TaskScheduled's parameters %s", info, marshalParameters(t, h))
			}
			if err := eng.SendTaskSuccess(ctx, info.Token, `{"answered":true}`); err != nil {
				t.Fatal(err)
			}
			if d := wait(t, eng, arn); d.Status != states.StatusSucceeded || str(d.Output) != `{"answered":true}` {
				t.Fatalf("execution %s %s", d.Status, str(d.Output))
			}
			want := "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSubmitted TaskSucceeded TaskStateExited ExecutionSucceeded"
			if got := strings.Join(eventTypes(t, eng, arn), " "); got != want {
				t.Errorf("events %s\nwant %s", got, want)
			}
		})
	}
}

// marshalParameters returns the history's TaskScheduled events as
// GetExecutionHistory writes them.
func marshalParameters(t *testing.T, h []*states.Event) string {
	t.Helper()
	var out []string
	for _, e := range h {
		if e.Type == states.TaskScheduled {
			data, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(data))
		}
	}
	return strings.Join(out, "\n")
}
