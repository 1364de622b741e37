package local

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/events"
	"github.com/sluice-ci/sluice/internal/store"
)

// follower follows the data folder's events file as `sluice events
// --follow` does, from another goroutine, while a run goes on.
type follower struct {
	mu   sync.Mutex
	seen []events.Event
	stop context.CancelFunc
	done chan error
}

func follow(dir string) *follower {
	ctx, cancel := context.WithCancel(context.Background())
	f := &follower{stop: cancel, done: make(chan error, 1)}
	go func() {
		_, err := events.Tail(ctx, filepath.Join(dir, EventsFile), events.TailOptions{Follow: true, Poll: 5 * time.Millisecond}, func(e events.Event) error {
			f.mu.Lock()
			f.seen = append(f.seen, e)
			f.mu.Unlock()
			return nil
		})
		f.done <- err
	}()
	return f
}

// of returns the events seen of an execution (every execution for ""), as
// "kind name STATE" lines.
func (f *follower) of(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, e := range f.seen {
		if id != "" && e.Detail.ExecutionID != id {
			continue
		}
		switch e.DetailType {
		case events.DetailTypePipeline:
			out = append(out, "pipeline "+string(e.Detail.State))
		case events.DetailTypeStage:
			out = append(out, fmt.Sprintf("stage %s %s", e.Detail.Stage, e.Detail.State))
		case events.DetailTypeAction:
			out = append(out, fmt.Sprintf("action %s %s", e.Detail.Action, e.Detail.State))
		}
	}
	return out
}

// waitFor waits until the follower has seen want.
func (f *follower) waitFor(want string) error {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if slices.Contains(f.of(""), want) {
			return nil
		}
	}
	return fmt.Errorf("the events file never showed %q while the run went on", want)
}

// afterEvent decides an approval once the events file shows it waiting:
// the events are written as the run goes, not at its end.
type afterEvent struct {
	f        *follower
	approved bool
}

func (a afterEvent) Approve(context.Context, PendingApproval) (*Decision, error) {
	if err := a.f.waitFor("action Approve STARTED"); err != nil {
		return nil, err
	}
	return &Decision{Approved: a.approved, Summary: "seen in the events", User: "tester"}, nil
}

// sortBetween sorts the lines between first and last (whose order the
// parallel actions of a stage leave open).
func sortBetween(lines []string, first, last string) []string {
	out := slices.Clone(lines)
	i, j := slices.Index(out, first), slices.Index(out, last)
	if i >= 0 && j > i {
		slices.Sort(out[i+1 : j])
	}
	return out
}

// TestRunWritesEvents runs the site pipeline while following the data
// folder's events file: the run's state changes are there as they happen,
// in CodePipeline's states, and all of them once the run returns.
func TestRunWritesEvents(t *testing.T) {
	built := []string{
		"pipeline STARTED", "stage Source STARTED", "action Checkout STARTED", "action Checkout SUCCEEDED", "stage Source SUCCEEDED",
		"stage Build STARTED", "action Check STARTED", "action Check SUCCEEDED", "action Render STARTED", "action Render SUCCEEDED", "stage Build SUCCEEDED",
		"stage Approval STARTED", "action Approve STARTED",
	}
	tests := []struct {
		name     string
		approved bool
		status   string
		want     []string
	}{
		{"approved", true, store.ExecutionSucceeded, append(slices.Clone(built),
			"action Approve SUCCEEDED", "stage Approval SUCCEEDED",
			"stage Deploy STARTED", "action Publish STARTED", "action Publish SUCCEEDED", "stage Deploy SUCCEEDED", "pipeline SUCCEEDED")},
		{"rejected", false, store.ExecutionFailed, append(slices.Clone(built),
			"action Approve FAILED", "stage Approval FAILED", "pipeline FAILED")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t)
			l := s.open(t)
			f := follow(s.dir)
			defer f.stop()
			out, err := l.Run(context.Background(), RunInput{Pipeline: s.decl, Approver: afterEvent{f, tc.approved}, Poll: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != tc.status {
				t.Fatalf("execution %s, want %s", out.Status, tc.status)
			}
			last := tc.want[len(tc.want)-1]
			if err := f.waitFor(last); err != nil {
				t.Fatal(err)
			}
			got := sortBetween(f.of(out.PipelineExecutionID), "stage Build STARTED", "stage Build SUCCEEDED")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			f.stop()
			if err := <-f.done; !errors.Is(err, context.Canceled) {
				t.Errorf("following the events file: %v", err)
			}
		})
	}
}
