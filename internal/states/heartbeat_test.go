package states_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/states"
)

// TestResumeKeepsHeartbeatDeadline sends a heartbeat 50 minutes into a
// callback task's one-hour heartbeat window, stops the engine and resumes
// the execution later: the deadline is an hour after the heartbeat, not an
// hour after the task started, nor a new hour from the resume.
func TestResumeKeepsHeartbeatDeadline(t *testing.T) {
	t0 := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		resumeAt time.Duration // after the task started
		status   string
	}{
		{"resumed past the first window, within the heartbeat's", 70 * time.Minute, states.StatusSucceeded},
		{"resumed past the heartbeat's window", 111 * time.Minute, states.StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := states.NewMemoryLog()
			tk := newTokens()
			reg := states.NewRegistry()
			reg.Register("arn:aws:states:::sqs:sendMessage", tk.handler)
			clock := &manualClock{now: t0}
			ctx := context.Background()
			eng := openEngine(t, states.Options{Log: log, Handlers: reg, Clock: clock})
			arn := start(t, eng, createMachine(t, eng, "Beating", strings.Replace(parkThenPass, `"Next": "Done"`,
				`"HeartbeatSeconds": 3600, "Next": "Done"`, 1)), "x", `{}`)
			tok := tk.next(t)
			clock.advance(50 * time.Minute)
			if err := eng.SendTaskHeartbeat(ctx, tok); err != nil {
				t.Fatal(err)
			}
			eng.Close()

			clock.advance(tt.resumeAt - 50*time.Minute)
			eng = openEngine(t, states.Options{Log: log, Handlers: reg, Clock: clock})
			if tt.status == states.StatusSucceeded {
				if d, err := eng.DescribeExecution(ctx, arn); err != nil || d.Status != states.StatusRunning {
					t.Fatalf("after the resume: %+v, %v", d, err)
				}
				if err := eng.SendTaskSuccess(ctx, tok, `{}`); err != nil {
					t.Fatal(err)
				}
			}
			d := wait(t, eng, arn)
			if d.Status != tt.status || (tt.status == states.StatusFailed && str(d.Error) != "States.Timeout") {
				t.Fatalf("execution %s %s", d.Status, str(d.Error))
			}
		})
	}
}

// TestHeartbeatWithoutHeartbeatSeconds sends a heartbeat for a callback
// task that sets no HeartbeatSeconds: nothing times out.
func TestHeartbeatWithoutHeartbeatSeconds(t *testing.T) {
	tk := newTokens()
	reg := states.NewRegistry()
	reg.Register("arn:aws:states:::sqs:sendMessage", tk.handler)
	eng := newEngine(t, reg, nil)
	ctx := context.Background()
	arn := start(t, eng, createMachine(t, eng, "NoBeat", parkThenPass), "x", `{}`)
	tok := tk.next(t)
	if err := eng.SendTaskHeartbeat(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := eng.SendTaskSuccess(ctx, tok, `{"ok":true}`); err != nil {
		t.Fatalf("success after a heartbeat: %v", err)
	}
	if d := wait(t, eng, arn); d.Status != states.StatusSucceeded {
		t.Fatalf("execution %s %s", d.Status, str(d.Error))
	}
}
