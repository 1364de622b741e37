package states_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/states"
)

// TestHeartbeatExtendsTheDeadline sends a heartbeat 50 minutes into a
// callback task's one-hour heartbeat window, on the virtual clock: the task
// times out an hour after the heartbeat, not an hour after it started.
func TestHeartbeatExtendsTheDeadline(t *testing.T) {
	t0 := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	clock := states.NewVirtualClock(t0)
	// The test holds a unit of the clock while it acts, so that virtual
	// time moves only where it waits.
	clock.Busy()
	tk := newTokens()
	reg := states.NewRegistry()
	reg.Register("arn:aws:states:::sqs:sendMessage", tk.handler)
	eng := newEngine(t, reg, clock)
	def := strings.Replace(parkThenPass, `"Next": "Done"`, `"HeartbeatSeconds": 3600, "Next": "Done"`, 1)
	arn := start(t, eng, createMachine(t, eng, "Beating", def), "x", `{}`)
	tok := tk.next(t)
	at := clock.NewTimer(t0.Add(50 * time.Minute))
	clock.Idle()
	<-at.C()
	if err := eng.SendTaskHeartbeat(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	clock.Idle()
	d := wait(t, eng, arn)
	if d.Status != states.StatusFailed || str(d.Error) != "States.Timeout" {
		t.Fatalf("execution %s %s, want FAILED States.Timeout", d.Status, str(d.Error))
	}
	if got, want := d.StopDate.Sub(t0), 110*time.Minute; got != want {
		t.Errorf("the task timed out %s after it started, want %s", got, want)
	}
}

// TestResumeKeepsTaskDeadlines stops the engine while a callback task waits
// and resumes the execution later on the virtual clock: the task times out
// at the deadline it had before the stop (an hour after its latest
// heartbeat, TimeoutSeconds after it started), at once when that has
// passed, and neither earlier nor a new window after the resume.
func TestResumeKeepsTaskDeadlines(t *testing.T) {
	t0 := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		timing    string        // the timeout field of the task
		beatAt    time.Duration // a heartbeat this long after the start (0: none)
		resumeAt  time.Duration
		timeoutAt time.Duration
	}{
		{"heartbeat, resumed past the first window", `"HeartbeatSeconds": 3600`, 50 * time.Minute, 70 * time.Minute, 110 * time.Minute},
		{"heartbeat, resumed past the heartbeat's window", `"HeartbeatSeconds": 3600`, 50 * time.Minute, 111 * time.Minute, 111 * time.Minute},
		{"timeout, resumed before it", `"TimeoutSeconds": 7200`, 0, 70 * time.Minute, 120 * time.Minute},
		{"timeout, resumed past it", `"TimeoutSeconds": 7200`, 0, 130 * time.Minute, 130 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := states.NewMemoryLog()
			tk := newTokens()
			reg := states.NewRegistry()
			reg.Register("arn:aws:states:::sqs:sendMessage", tk.handler)
			clock := &manualClock{now: t0}
			eng := openEngine(t, states.Options{Log: log, Handlers: reg, Clock: clock})
			def := strings.Replace(parkThenPass, `"Next": "Done"`, tt.timing+`, "Next": "Done"`, 1)
			arn := start(t, eng, createMachine(t, eng, "Waiting", def), "x", `{}`)
			tok := tk.next(t)
			if tt.beatAt > 0 {
				clock.advance(tt.beatAt)
				if err := eng.SendTaskHeartbeat(context.Background(), tok); err != nil {
					t.Fatal(err)
				}
			}
			eng.Close()

			eng = openEngine(t, states.Options{Log: log, Handlers: reg, Clock: states.NewVirtualClock(t0.Add(tt.resumeAt))})
			d := wait(t, eng, arn)
			if d.Status != states.StatusFailed || str(d.Error) != "States.Timeout" {
				t.Fatalf("execution %s %s, want FAILED States.Timeout", d.Status, str(d.Error))
			}
			if got := d.StopDate.Sub(t0); got != tt.timeoutAt {
				t.Errorf("the task timed out %s after it started, want %s", got, tt.timeoutAt)
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
