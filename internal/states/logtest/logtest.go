// Package logtest is the test suite every states.EventLog passes: the
// in-memory log and the SQLite history store run the same tests.
package logtest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/states"
)

// Opener opens a log on a location. Opening the same location again sees
// what was stored before (for an in-memory log the location is the log).
type Opener func(t *testing.T, location string) states.EventLog

func event(exec string, id int64, typ string, d states.Detail) *states.Event {
	return &states.Event{Execution: exec, ID: id, PreviousID: id - 1, Type: typ, Detail: d,
		Time: time.Date(2026, 1, 2, 3, 4, 5, int(id)*1000000, time.UTC)}
}

func str(s string) *string { return &s }

// Run runs the suite. reopen tells whether a second Opener call on the
// same location must see the data of the first (durable logs).
func Run(t *testing.T, open Opener, reopen bool) {
	t.Run("append and read back", func(t *testing.T) {
		log := open(t, t.TempDir())
		defer log.Close()
		idx := 2
		started := event("x1", 1, states.ExecutionStarted, states.Detail{Input: map[string]any{"n": json.Number("1.50")}, HasInput: true, RoleArn: "role"})
		started.Definition, started.Machine = `{"StartAt":"A"}`, "arn:m#Case"
		started.MachineUpdated = time.Date(2025, 12, 31, 23, 59, 59, 123456789, time.UTC)
		list := []*states.Event{
			started,
			event("x1", 2, "PassStateEntered", states.Detail{Name: "A", Input: []any{"a", nil, true}, HasInput: true}),
			event("x1", 3, "PassStateExited", states.Detail{Name: "A", Output: "out", HasOutput: true,
				Assigned: map[string]any{"v": json.Number("12345678901234567890")}}),
			event("x1", 4, states.MapIterationStarted, states.Detail{Name: "M", Index: &idx}),
			event("x1", 5, states.TaskScheduled, states.Detail{Parameters: map[string]any{"k": "v"}, Resource: "invoke", ResourceType: "lambda"}),
		}
		list[2].Next, list[2].Scope = "B", "/3.1"
		list[4].Token, list[4].Delay = "tok", 1500*time.Millisecond
		if err := log.Append(list[:2]); err != nil {
			t.Fatal(err)
		}
		if err := log.Append(list[2:]); err != nil {
			t.Fatal(err)
		}
		got, err := log.History("x1", states.AllEvents)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(list) {
			t.Fatalf("%d events, want %d", len(got), len(list))
		}
		for i := range list {
			if !reflect.DeepEqual(got[i], list[i]) {
				t.Errorf("event %d: got %+v, want %+v", i, got[i], list[i])
			}
		}
		if h, _ := log.History("nope", states.AllEvents); len(h) != 0 {
			t.Errorf("history of an unknown execution has %d events", len(h))
		}
	})

	t.Run("history pages", func(t *testing.T) {
		log := open(t, t.TempDir())
		defer log.Close()
		var list []*states.Event
		for id := int64(1); id <= 7; id++ {
			list = append(list, event("x", id, "PassStateEntered", states.Detail{Name: "S"}))
		}
		list[0].Type = states.ExecutionStarted
		if err := log.Append(list); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			q    states.HistoryQuery
			want []int64
		}{
			{"all", states.AllEvents, []int64{1, 2, 3, 4, 5, 6, 7}},
			{"first three", states.HistoryQuery{Limit: 3}, []int64{1, 2, 3}},
			{"three after 3", states.HistoryQuery{After: 3, Limit: 3}, []int64{4, 5, 6}},
			{"the rest after 6", states.HistoryQuery{After: 6, Limit: 3}, []int64{7}},
			{"nothing after the last", states.HistoryQuery{After: 7}, nil},
			{"reverse", states.HistoryQuery{Reverse: true}, []int64{7, 6, 5, 4, 3, 2, 1}},
			{"last two", states.HistoryQuery{Reverse: true, Limit: 2}, []int64{7, 6}},
			{"two before 6", states.HistoryQuery{Reverse: true, After: 6, Limit: 2}, []int64{5, 4}},
			{"the rest before 2", states.HistoryQuery{Reverse: true, After: 2, Limit: 2}, []int64{1}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := log.History("x", tt.q)
				if err != nil {
					t.Fatal(err)
				}
				var ids []int64
				for _, e := range got {
					ids = append(ids, e.ID)
				}
				if !reflect.DeepEqual(ids, tt.want) {
					t.Fatalf("ids %v, want %v", ids, tt.want)
				}
			})
		}
	})

	t.Run("execution records", func(t *testing.T) {
		loc := t.TempDir()
		log := open(t, loc)
		for i, name := range []string{"a", "b", "c"} {
			if err := log.Append([]*states.Event{event(name, 1, states.ExecutionStarted, states.Detail{})}); err != nil {
				t.Fatal(err)
			}
			_ = i
		}
		closeA := event("a", 2, states.ExecutionFailed, states.Detail{Error: str("E"), Cause: str("C")})
		if err := log.Append([]*states.Event{closeA, event("b", 2, states.ExecutionSucceeded, states.Detail{Output: nil, HasOutput: true})}); err != nil {
			t.Fatal(err)
		}
		count := 1
		redriven := event("a", 3, states.ExecutionRedriven, states.Detail{RedriveCount: &count})
		redriven.ClientToken = "token-1"
		if err := log.Append([]*states.Event{redriven}); err != nil {
			t.Fatal(err)
		}
		if reopen {
			log.Close()
			log = open(t, loc)
		}
		defer log.Close()
		recs, err := log.Executions()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{"a": true, "b": false, "c": true}
		if len(recs) != len(want) {
			t.Fatalf("%d executions, want %d", len(recs), len(want))
		}
		for _, r := range recs {
			if open, ok := want[r.Started.Execution]; !ok || open != r.Open() {
				t.Errorf("execution %s open=%v, want %v", r.Started.Execution, r.Open(), open)
			}
			switch {
			case r.Started.Execution == "a" && !reflect.DeepEqual(r.Redriven, redriven):
				t.Errorf("execution a redriven by %+v, want %+v", r.Redriven, redriven)
			case r.Started.Execution != "a" && r.Redriven != nil:
				t.Errorf("execution %s redriven by %+v", r.Started.Execution, r.Redriven)
			}
		}
	})

	t.Run("heartbeats", func(t *testing.T) {
		loc := t.TempDir()
		log := open(t, loc)
		t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
		if err := log.Append([]*states.Event{event("x", 1, states.ExecutionStarted, states.Detail{})}); err != nil {
			t.Fatal(err)
		}
		beats := []struct {
			token string
			at    time.Time
		}{
			{"t1", t0.Add(time.Minute)},
			{"t2", t0.Add(2 * time.Minute)},
			{"t1", t0.Add(3 * time.Minute)},
			{"t1", t0}, // earlier than the one recorded: no change
		}
		for _, b := range beats {
			if err := log.Beat("x", b.token, b.at); err != nil {
				t.Fatal(err)
			}
		}
		if reopen {
			log.Close()
			log = open(t, loc)
		}
		defer log.Close()
		got, err := log.Beats("x")
		want := map[string]time.Time{"t1": t0.Add(3 * time.Minute), "t2": t0.Add(2 * time.Minute)}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("heartbeats %v, %v; want %v", got, err, want)
		}
		if got, err := log.Beats("y"); err != nil || len(got) != 0 {
			t.Fatalf("heartbeats of another execution: %v, %v", got, err)
		}
		if err := log.Append([]*states.Event{event("x", 2, states.ExecutionSucceeded, states.Detail{HasOutput: true})}); err != nil {
			t.Fatal(err)
		}
		if got, err := log.Beats("x"); err != nil || len(got) != 0 {
			t.Fatalf("heartbeats once the execution closed: %v, %v", got, err)
		}
	})

	t.Run("state machines", func(t *testing.T) {
		loc := t.TempDir()
		log := open(t, loc)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := 0; i < 3; i++ {
			m := states.MachineRecord{Arn: fmt.Sprintf("arn:m%d", i), Name: fmt.Sprintf("m%d", i), Definition: "{}",
				Type: "STANDARD", Created: now.Add(time.Duration(i) * time.Second), Updated: now}
			if err := log.SaveMachine(m); err != nil {
				t.Fatal(err)
			}
		}
		upd := states.MachineRecord{Arn: "arn:m1", Name: "m1", Definition: `{"x":1}`, Type: "STANDARD",
			Created: now.Add(time.Second), Updated: now.Add(time.Hour), Deleted: true}
		if err := log.SaveMachine(upd); err != nil {
			t.Fatal(err)
		}
		if reopen {
			log.Close()
			log = open(t, loc)
		}
		defer log.Close()
		got, err := log.Machines()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[1].Arn != "arn:m1" {
			t.Fatalf("machines %+v, want 3 in creation order", got)
		}
		if !reflect.DeepEqual(got[1], upd) {
			t.Errorf("updated machine %+v, want %+v", got[1], upd)
		}
	})

	t.Run("concurrent appends", func(t *testing.T) {
		log := open(t, t.TempDir())
		defer log.Close()
		const execs, each = 16, 50
		errs := make(chan error, execs)
		for x := 0; x < execs; x++ {
			go func(x int) {
				name := fmt.Sprintf("x%d", x)
				for i := int64(1); i <= each; i++ {
					typ := "PassStateEntered"
					if i == 1 {
						typ = states.ExecutionStarted
					}
					if err := log.Append([]*states.Event{event(name, i, typ, states.Detail{Name: "S"})}); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}(x)
		}
		for x := 0; x < execs; x++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for x := 0; x < execs; x++ {
			h, err := log.History(fmt.Sprintf("x%d", x), states.AllEvents)
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != each {
				t.Fatalf("x%d has %d events, want %d", x, len(h), each)
			}
			for i, e := range h {
				if e.ID != int64(i+1) {
					t.Fatalf("x%d event %d has id %d", x, i, e.ID)
				}
			}
		}
	})
}
