package states_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/sluice-ci/sluice/internal/states"
)

// TestDeferResume stops an engine while a task is in flight and opens
// another on the log whose handler is registered only after New: with
// DeferResume the resumed execution waits for Resume and finds it; without,
// it runs at once and finds no handler.
func TestDeferResume(t *testing.T) {
	const fn = "arn:aws:lambda:us-east-1:123456789012:function:late"
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","End":true}}}`
	tests := []struct {
		name   string
		defer_ bool
		stop   bool // StopExecution before Resume
		status string
	}{
		{"resumed at once", false, false, states.StatusFailed},
		{"resumed once wired", true, false, states.StatusSucceeded},
		{"stopped before Resume", true, true, states.StatusAborted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := states.NewMemoryLog()
			ctx := context.Background()
			inFlight := make(chan struct{})
			reg := states.NewRegistry()
			reg.Register(fn, func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
				close(inFlight)
				<-ctx.Done()
				return nil, ctx.Err()
			})
			eng := openEngine(t, states.Options{Log: log, Handlers: reg})
			arn := start(t, eng, createMachine(t, eng, "Late", def), "x", `{}`)
			<-inFlight
			eng.Close()

			later := states.NewRegistry()
			eng = openEngine(t, states.Options{Log: log, Handlers: later, DeferResume: tt.defer_})
			if !tt.defer_ {
				// It runs before the handler could be registered.
				if d := wait(t, eng, arn); d.Status != tt.status || str(d.Error) != "States.TaskFailed" {
					t.Fatalf("execution %s %s %s", d.Status, str(d.Error), str(d.Cause))
				}
				return
			}
			if d, err := eng.DescribeExecution(ctx, arn); err != nil || d.Status != states.StatusRunning {
				t.Fatalf("held execution: %+v, %v", d, err)
			}
			later.Register(fn, func(context.Context, json.RawMessage) (json.RawMessage, error) {
				return json.RawMessage(`"wired"`), nil
			})
			if tt.stop {
				// The stop takes effect at once; a done context lets
				// StopExecution return without waiting for the end.
				done, cancel := context.WithCancel(ctx)
				cancel()
				if _, err := eng.StopExecution(done, arn, nil, nil); !errors.Is(err, context.Canceled) {
					t.Fatalf("stop: %v", err)
				}
			}
			eng.Resume()
			if d := wait(t, eng, arn); d.Status != tt.status {
				t.Fatalf("execution %s %s %s", d.Status, str(d.Error), str(d.Cause))
			}
		})
	}
}
