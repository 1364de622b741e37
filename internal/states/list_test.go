package states_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/sluice-ci/sluice/internal/states"
)

const choiceMachine = `{"StartAt":"C","States":{
  "C":{"Type":"Choice","Choices":[{"Variable":"$.fail","BooleanEquals":true,"Next":"F"}],"Default":"S"},
  "F":{"Type":"Fail","Error":"E"},
  "S":{"Type":"Succeed"}}}`

func TestListStateMachinesPages(t *testing.T) {
	eng := newEngine(t, nil, nil)
	ctx := context.Background()
	for i := range 5 {
		createMachine(t, eng, fmt.Sprintf("M%d", i), choiceMachine)
	}
	if err := eng.DeleteStateMachine(ctx, eng.StateMachineArn("M2")); err != nil {
		t.Fatal(err)
	}
	live := []string{"M0", "M1", "M3", "M4"}
	for _, size := range []int{0, 1, 2, 3, 4, 5} {
		t.Run(fmt.Sprintf("pages of %d", size), func(t *testing.T) {
			got, pages := readPages(t, func(after string) ([]string, string, error) {
				page, err := eng.ListStateMachinesPage(ctx, states.ListStateMachinesInput{After: after, MaxResults: size})
				if err != nil {
					return nil, "", err
				}
				var names []string
				for _, m := range page.StateMachines {
					names = append(names, m.Name)
				}
				return names, page.Next, nil
			})
			want := 1
			if size > 0 {
				want = (len(live) + size - 1) / size
			}
			if !reflect.DeepEqual(got, live) || pages != want {
				t.Fatalf("listed %v in %d pages, want %v in %d", got, pages, live, want)
			}
		})
	}
}

// readPages reads every page of a listing: read returns a page's items
// and the cursor of the next one. It returns the items and the number of
// pages.
func readPages[T any](t *testing.T, read func(after string) ([]T, string, error)) ([]T, int) {
	t.Helper()
	var all []T
	after, pages := "", 0
	for {
		items, next, err := read(after)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, items...)
		if next == "" {
			return all, pages
		}
		after = next
	}
}

func TestListExecutionsPages(t *testing.T) {
	eng := newEngine(t, nil, nil)
	ctx := context.Background()
	sm := createMachine(t, eng, "Listed", choiceMachine)
	for i := range 6 {
		arn := start(t, eng, sm, fmt.Sprintf("e%d", i), fmt.Sprintf(`{"fail":%v}`, i%2 == 1))
		wait(t, eng, arn)
	}
	if _, err := eng.RedriveExecution(ctx, states.ExecutionArn(sm, "e3"), ""); err != nil {
		t.Fatal(err)
	}
	wait(t, eng, states.ExecutionArn(sm, "e3"))
	tests := []struct {
		name    string
		in      states.ListExecutionsInput
		want    []string
		pages   int
		invalid bool
	}{
		{name: "all", want: []string{"e5", "e4", "e3", "e2", "e1", "e0"}, pages: 1},
		{name: "pages of four", in: states.ListExecutionsInput{MaxResults: 4}, want: []string{"e5", "e4", "e3", "e2", "e1", "e0"}, pages: 2},
		{name: "failed in pages of two", in: states.ListExecutionsInput{StatusFilter: states.StatusFailed, MaxResults: 2},
			want: []string{"e5", "e3", "e1"}, pages: 2},
		{name: "failed in pages of three", in: states.ListExecutionsInput{StatusFilter: states.StatusFailed, MaxResults: 3},
			want: []string{"e5", "e3", "e1"}, pages: 1},
		{name: "redriven", in: states.ListExecutionsInput{RedriveFilter: "REDRIVEN"}, want: []string{"e3"}, pages: 1},
		{name: "not redriven", in: states.ListExecutionsInput{RedriveFilter: "NOT_REDRIVEN", MaxResults: 5},
			want: []string{"e5", "e4", "e2", "e1", "e0"}, pages: 1},
		{name: "running", in: states.ListExecutionsInput{StatusFilter: states.StatusRunning}, pages: 1},
		{name: "a cursor of another state machine", in: states.ListExecutionsInput{After: sm + ":e1"}, invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.StateMachineArn = sm
			if tt.invalid {
				_, err := eng.ListExecutionsPage(ctx, in)
				wantAPIError(t, err, states.ErrInvalidToken)
				return
			}
			got, pages := readPages(t, func(after string) ([]string, string, error) {
				in.After = after
				page, err := eng.ListExecutionsPage(ctx, in)
				if err != nil {
					return nil, "", err
				}
				var names []string
				for _, d := range page.Executions {
					names = append(names, d.Name)
				}
				return names, page.Next, nil
			})
			if !reflect.DeepEqual(got, tt.want) || pages != tt.pages {
				t.Fatalf("listed %v in %d pages, want %v in %d", got, pages, tt.want, tt.pages)
			}
		})
	}
}

func TestGetExecutionHistoryPages(t *testing.T) {
	eng := newEngine(t, nil, nil)
	ctx := context.Background()
	arn := start(t, eng, createMachine(t, eng, "Paged", choiceMachine), "x", `{"fail":false}`)
	wait(t, eng, arn)
	full, err := eng.GetExecutionHistory(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(full))
	for _, reverse := range []bool{false, true} {
		for _, size := range []int{1, 2, 4, len(full), len(full) + 1} {
			t.Run(fmt.Sprintf("reverse %v, pages of %d", reverse, size), func(t *testing.T) {
				q := states.HistoryQuery{Limit: size, Reverse: reverse}
				var ids []int64
				for {
					page, err := eng.GetExecutionHistoryPage(ctx, arn, q)
					if err != nil {
						t.Fatal(err)
					}
					if len(page.Events) > size {
						t.Fatalf("page of %d events", len(page.Events))
					}
					for _, e := range page.Events {
						ids = append(ids, e.ID)
					}
					if page.Next == 0 {
						break
					}
					q.After = page.Next
				}
				for i, id := range ids {
					want := int64(i + 1)
					if reverse {
						want = n - int64(i)
					}
					if id != want {
						t.Fatalf("event ids %v", ids)
					}
				}
				if int64(len(ids)) != n {
					t.Fatalf("%d events, want %d", len(ids), n)
				}
			})
		}
	}
	_, err = eng.GetExecutionHistoryPage(ctx, arn+"x", states.AllEvents)
	wantAPIError(t, err, states.ErrExecutionDoesNotExist)
}
