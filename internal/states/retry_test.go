package states_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/states"
)

// TestRetryBackoff runs states that always fail on the virtual clock and
// measures, between the starts of consecutive attempts, the back-off their
// retrier waited: IntervalSeconds grown by BackoffRate, capped by
// MaxDelaySeconds, and below it with the FULL jitter strategy. Time only
// passes in the back-off, so the gap between two starts is the delay.
func TestRetryBackoff(t *testing.T) {
	const retrier = `{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxDelaySeconds": 10, "MaxAttempts": 3%s}`
	task := `{"StartAt": "Call", "States": {"Call": {"Type": "Task",
	  "Resource": "arn:aws:lambda:us-east-1:123456789012:function:broken", "Retry": [RETRIER], "End": true}}}`
	parallel := `{"StartAt": "Fan", "States": {"Fan": {"Type": "Parallel", "Retry": [RETRIER], "End": true,
	  "Branches": [{"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Boom"}}}]}}}`
	want := []time.Duration{2 * time.Second, 6 * time.Second, 10 * time.Second}
	tests := []struct {
		name, def, attempt, jitter string
	}{
		{"task", task, states.LambdaFunctionScheduled, ""},
		{"task with full jitter", task, states.LambdaFunctionScheduled, `, "JitterStrategy": "FULL"`},
		{"parallel", parallel, states.ParallelStateStarted, ""},
		{"parallel with full jitter", parallel, states.ParallelStateStarted, `, "JitterStrategy": "FULL"`},
	}
	reg := states.NewRegistry()
	reg.Register("arn:aws:lambda:us-east-1:123456789012:function:broken", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return nil, errors.New("broken")
	})
	eng := newEngine(t, reg, states.NewVirtualClock(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := strings.Replace(tt.def, "RETRIER", strings.Replace(retrier, "%s", tt.jitter, 1), 1)
			sm := createMachine(t, eng, strings.ReplaceAll(tt.name, " ", "-"), def)
			arn := start(t, eng, sm, "x", `{}`)
			if d := wait(t, eng, arn); d.Status != states.StatusFailed {
				t.Fatalf("execution %s, want FAILED", d.Status)
			}
			h, err := eng.GetExecutionHistory(context.Background(), arn)
			if err != nil {
				t.Fatal(err)
			}
			var starts []time.Time
			for _, e := range h {
				if e.Type == tt.attempt {
					starts = append(starts, e.Time)
				}
			}
			if len(starts) != len(want)+1 {
				t.Fatalf("%d attempts, want %d", len(starts), len(want)+1)
			}
			for i, base := range want {
				gap := starts[i+1].Sub(starts[i])
				if tt.jitter == "" && gap != base || tt.jitter != "" && (gap < 0 || gap >= base) {
					t.Errorf("retry %d waited %s; the back-off without jitter is %s", i+1, gap, base)
				}
			}
		})
	}
}
