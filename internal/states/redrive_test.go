package states_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/states"
)

// manualClock is a clock that moves only when the test moves it. Its
// timers fire once it reaches them.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *manualClock) NewTimer(at time.Time) states.Timer {
	if at.After(c.Now()) {
		return neverTimer{}
	}
	return firedTimer{}
}

type firedTimer struct{}

func (firedTimer) C() <-chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}
func (firedTimer) Stop() bool { return false }

// TestRedriveClientTokens retries redrives of an execution that keeps
// failing, across a restart: a retry with one of the last ten tokens,
// within fifteen minutes of its redrive, returns that redrive's date
// instead of redriving again.
func TestRedriveClientTokens(t *testing.T) {
	log := states.NewMemoryLog()
	clock := &manualClock{now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	opts := states.Options{Log: log, Clock: clock}
	eng := openEngine(t, opts)
	arn := start(t, eng, createMachine(t, eng, "Failing", choiceMachine), "x", `{"fail":true}`)
	wait(t, eng, arn)
	dates := map[string]time.Time{}
	redrive := func(token string) (time.Time, int) {
		t.Helper()
		at, err := eng.RedriveExecution(ctx, arn, token)
		if err != nil {
			t.Fatalf("redrive with %q: %v", token, err)
		}
		d := wait(t, eng, arn)
		clock.advance(time.Second)
		return at, d.RedriveCount
	}
	steps := []struct {
		name    string
		restart bool
		advance time.Duration
		token   string
		again   bool // the retry of an earlier redrive
	}{
		{name: "first redrive", token: "t1"},
		{name: "its retry after a restart", restart: true, token: "t1", again: true},
		{name: "another token", token: "t2"},
		{name: "a retry within fifteen minutes", advance: 14 * time.Minute, token: "t2", again: true},
		{name: "a retry after fifteen minutes", advance: 2 * time.Minute, token: "t2"},
		{name: "no token", token: ""},
	}
	count := 0
	for _, st := range steps {
		if st.restart {
			eng.Close()
			eng = openEngine(t, opts)
		}
		clock.advance(st.advance)
		at, n := redrive(st.token)
		if !st.again {
			count++
			dates[st.token] = at
		}
		if n != count || (st.again && !at.Equal(dates[st.token])) {
			t.Fatalf("%s: redriven at %s, %d redrives; want %d redrives and the date %s", st.name, at, n, count, dates[st.token])
		}
	}
	for i := 3; i <= 13; i++ {
		token := fmt.Sprintf("t%d", i)
		dates[token], count = redrive(token)
	}
	if at, n := redrive("t4"); n != count || !at.Equal(dates["t4"]) {
		t.Errorf("the tenth latest token redrove again: %s, %d redrives", at, n)
	}
	if _, n := redrive("t3"); n != count+1 {
		t.Errorf("the eleventh latest token was still remembered: %d redrives, want %d", n, count+1)
	}
}

// TestFirstEventAfterRedrive checks the previousEventId of the first event
// after ExecutionRedriven: it points at the redrive, whether the redriven
// run goes on at once or resumes after a crash that followed the redrive.
func TestFirstEventAfterRedrive(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		crash bool // record ExecutionRedriven by hand and resume from it
	}{
		{"redriven in process", false},
		{"resumed after the redrive was recorded", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := states.NewMemoryLog()
			eng := openEngine(t, states.Options{Log: log})
			arn := start(t, eng, createMachine(t, eng, "Failing", choiceMachine), "x", `{"fail":true}`)
			wait(t, eng, arn)
			if tt.crash {
				eng.Close()
				h, _ := log.History(arn, states.AllEvents)
				last := h[len(h)-1]
				count := 1
				ev := &states.Event{Execution: arn, ID: last.ID + 1, PreviousID: last.ID, Time: last.Time,
					Type: states.ExecutionRedriven, Detail: states.Detail{RedriveCount: &count}}
				if err := log.Append([]*states.Event{ev}); err != nil {
					t.Fatal(err)
				}
				eng = openEngine(t, states.Options{Log: log})
			} else if _, err := eng.RedriveExecution(ctx, arn, ""); err != nil {
				t.Fatal(err)
			}
			wait(t, eng, arn)
			h, err := eng.GetExecutionHistory(ctx, arn)
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range h[:len(h)-1] {
				if e.Type != states.ExecutionRedriven {
					continue
				}
				if next := h[i+1]; next.PreviousID != e.ID || next.ID != e.ID+1 {
					t.Fatalf("after ExecutionRedriven %d: %s %d with previous %d", e.ID, next.Type, next.ID, next.PreviousID)
				}
				return
			}
			t.Fatal("no event after ExecutionRedriven")
		})
	}
}

// TestRedriveRestartsTheExecutionTimeout redrives an execution that timed
// out in a Wait state. AWS resets the state machine's TimeoutSeconds at a
// redrive, so the redriven run times out a whole timeout after the redrive
// rather than at once.
func TestRedriveRestartsTheExecutionTimeout(t *testing.T) {
	t0 := time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)
	eng := newEngine(t, nil, states.NewVirtualClock(t0))
	sm := createMachine(t, eng, "Slow", `{"TimeoutSeconds": 60, "StartAt": "W",
	  "States": {"W": {"Type": "Wait", "Seconds": 100, "End": true}}}`)
	arn := start(t, eng, sm, "x", `{}`)
	if d := wait(t, eng, arn); d.Status != states.StatusTimedOut || d.StopDate.Sub(t0) != time.Minute {
		t.Fatalf("first run %s after %s, want TIMED_OUT after 1m", d.Status, d.StopDate.Sub(t0))
	}
	at, err := eng.RedriveExecution(context.Background(), arn, "")
	if err != nil {
		t.Fatal(err)
	}
	if d := wait(t, eng, arn); d.Status != states.StatusTimedOut || d.StopDate.Sub(at) != time.Minute {
		t.Fatalf("redriven run %s %s after the redrive, want TIMED_OUT after 1m", d.Status, d.StopDate.Sub(at))
	}
}
