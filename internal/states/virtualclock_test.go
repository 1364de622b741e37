package states_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/states"
)

// TestCancellationsOnTheVirtualClock ends executions while they wait on the
// virtual clock: the execution's timeout, a failed branch and
// StopExecution each end them at the virtual time they happen, without
// letting the clock run on to the deadlines of the timers they cancel (the
// Wait's end, a sibling task's timeout), which would also fire those.
func TestCancellationsOnTheVirtualClock(t *testing.T) {
	tests := []struct {
		name   string
		def    string
		stop   bool          // stop the execution with StopExecution
		status string        // how it ends
		after  time.Duration // virtual time from its start to its end
	}{
		{"execution timeout in a Wait", `{"TimeoutSeconds": 60, "StartAt": "W",
		  "States": {"W": {"Type": "Wait", "Seconds": 100, "End": true}}}`, false, states.StatusTimedOut, time.Minute},
		{"failed branch beside a Wait", `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
		  {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom"}}},
		  {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}]}}}`, false, states.StatusFailed, 0},
		{"failed branch beside a task with a timeout", `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
		  {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom"}}},
		  {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
		    "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}}, "TimeoutSeconds": 3600, "End": true}}}]}}}`,
			false, states.StatusFailed, 0},
		{"StopExecution in a Wait", `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}`,
			true, states.StatusAborted, 0},
	}
	tk := newTokens()
	reg := states.NewRegistry()
	reg.Register("arn:aws:states:::sqs:sendMessage", tk.handler)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := states.NewMemoryLog()
			clock := states.NewVirtualClock(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
			// Held while the test acts, so that virtual time stands still.
			clock.Busy()
			eng := openEngine(t, states.Options{Log: log, Handlers: reg, Clock: clock})
			arn := start(t, eng, createMachine(t, eng, fmt.Sprintf("M%d", i), tt.def), "x", `{}`)
			if tt.stop {
				waitForEvent(t, log, arn, "WaitStateEntered")
				if _, err := eng.StopExecution(context.Background(), arn, nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			clock.Idle()
			d := wait(t, eng, arn)
			if d.Status != tt.status || d.StopDate.Sub(d.StartDate) != tt.after {
				t.Errorf("execution %s after %s, want %s after %s", d.Status, d.StopDate.Sub(d.StartDate), tt.status, tt.after)
			}
			if types := eventTypes(t, eng, arn); slices.Contains(types, states.TaskTimedOut) {
				t.Errorf("a cancelled task timed out: %v", types)
			}
		})
	}
}
