package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/store/sqlite"
)

// tokens records callbacks; fail makes the next n sends fail, gone makes
// every send report a token that no longer waits.
type tokens struct {
	mu      sync.Mutex
	sent    []string // "tok" or "tok!Error"
	fail    int
	gone    bool
	waiters map[string]chan string
}

func (f *tokens) record(token, what string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return errors.New("engine unavailable")
	}
	if f.gone {
		return fmt.Errorf("send %s: %w", token, ErrTaskGone)
	}
	f.sent = append(f.sent, what)
	if ch, ok := f.waiters[token]; ok {
		// Never block while holding the lock: a callback may be delivered
		// again (an outbox flushed twice), which the engine would answer
		// with "task gone" and a waiter has no use for.
		select {
		case ch <- what:
		default:
		}
	}
	return nil
}

func (f *tokens) SendTaskSuccess(_ context.Context, token string, _ json.RawMessage) error {
	return f.record(token, token)
}

func (f *tokens) SendTaskFailure(_ context.Context, token, name, _ string) error {
	return f.record(token, token+"!"+name)
}

func (f *tokens) SendTaskHeartbeat(context.Context, string) error { return nil }

func (f *tokens) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sent
	f.sent = nil
	return s
}

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func newHandler(t *testing.T) (*Handler, *tokens) {
	t.Helper()
	b, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sluice.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	tk := &tokens{}
	return &Handler{Store: store.New(b), Tokens: tk, Now: func() time.Time { return t0 }}, tk
}

func start(t *testing.T, h *Handler, id, mode string, n int) {
	t.Helper()
	err := h.Store.CreatePipelineExecution(context.Background(), store.PipelineExecution{
		PipelineName: "p", PipelineVersion: 1, PipelineExecutionID: id, Status: store.ExecutionInProgress,
		ExecutionMode: mode, ExecutionType: "STANDARD", StartTime: t0.Add(time.Duration(n) * time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func enter(id string) Event {
	return Event{Op: OpEnter, Pipeline: "p", Stage: "Build", Execution: id, Token: "tok-" + id}
}

func exit(id string, halt bool) Event {
	return Event{Op: OpExit, Pipeline: "p", Stage: "Build", Execution: id, Halt: halt}
}

func status(t *testing.T, h *Handler, id string) string {
	t.Helper()
	e, err := h.Store.GetPipelineExecution(context.Background(), "p", id)
	if err != nil {
		t.Fatal(err)
	}
	return e.Value.Status
}

func errName(err error) string {
	if err == nil {
		return ""
	}
	return reflect.TypeOf(err).Elem().Name()
}

// TestSequence drives the gate through the scenarios of one stage, step by
// step, checking each step's result, error, callbacks and records.
func TestSequence(t *testing.T) {
	type step struct {
		ev         Event
		wantStatus string
		wantErr    string
		wantSent   string
		execStatus map[string]string
	}
	tests := []struct {
		name  string
		mode  string
		steps []step
	}{
		{"superseded waiter replaced", store.ModeSuperseded, []step{
			{ev: enter("e1"), wantStatus: "Entered", wantSent: "[tok-e1]"},
			{ev: enter("e2"), wantStatus: "Waiting", wantSent: "[]"},
			{ev: enter("e3"), wantStatus: "Waiting", wantSent: "[tok-e2!Superseded]",
				execStatus: map[string]string{"e2": store.ExecutionSuperseded}},
			{ev: exit("e1", false), wantStatus: store.StageSucceeded, wantSent: "[tok-e3]"},
			{ev: exit("e1", false), wantStatus: store.StageSucceeded, wantSent: "[]"},
			{ev: enter("e2"), wantStatus: store.ExecutionSuperseded, wantSent: "[tok-e2!Superseded]"},
		}},
		{"queued keeps order", store.ModeQueued, []step{
			{ev: enter("e1"), wantStatus: "Entered", wantSent: "[tok-e1]"},
			{ev: enter("e3"), wantStatus: "Waiting", wantSent: "[]"},
			{ev: enter("e2"), wantStatus: "Waiting", wantSent: "[]"},
			{ev: exit("e1", false), wantStatus: store.StageSucceeded, wantSent: "[tok-e3]"},
			{ev: exit("e3", false), wantStatus: store.StageSucceeded, wantSent: "[tok-e2]"},
		}},
		{"parallel has no lock", store.ModeParallel, []step{
			{ev: enter("e1"), wantStatus: "Entered", wantSent: "[tok-e1]"},
			{ev: enter("e2"), wantStatus: "Entered", wantSent: "[tok-e2]"},
			{ev: exit("e2", false), wantStatus: store.StageSucceeded, wantSent: "[]"},
		}},
		{"failed stage releases the lock", store.ModeSuperseded, []step{
			{ev: enter("e1"), wantStatus: "Entered", wantSent: "[tok-e1]"},
			{ev: enter("e2"), wantStatus: "Waiting", wantSent: "[]"},
			{ev: exit("e1", true), wantStatus: store.StageFailed, wantErr: "StageFailed", wantSent: "[tok-e2]",
				execStatus: map[string]string{"e1": store.ExecutionFailed, "e2": store.ExecutionInProgress}},
			{ev: exit("e1", true), wantStatus: store.StageFailed, wantErr: "StageFailed", wantSent: "[]"},
		}},
		{"redelivered entry is answered again", store.ModeSuperseded, []step{
			{ev: enter("e1"), wantStatus: "Entered", wantSent: "[tok-e1]"},
			{ev: enter("e1"), wantStatus: "Entered", wantSent: "[tok-e1]"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, tk := newHandler(t)
			for i, id := range []string{"e1", "e2", "e3"} {
				start(t, h, id, tt.mode, i)
			}
			for i, s := range tt.steps {
				res, err := h.Handle(context.Background(), s.ev)
				if res.Status != s.wantStatus || errName(err) != s.wantErr {
					t.Fatalf("step %d (%s %s): %q, %v; want %q, %q", i, s.ev.Op, s.ev.Execution, res.Status, err, s.wantStatus, s.wantErr)
				}
				if got := fmt.Sprint(tk.take()); got != s.wantSent {
					t.Fatalf("step %d (%s %s): sent %s, want %s", i, s.ev.Op, s.ev.Execution, got, s.wantSent)
				}
				for id, want := range s.execStatus {
					if got := status(t, h, id); got != want {
						t.Errorf("step %d: %s is %s, want %s", i, id, got, want)
					}
				}
			}
		})
	}
}

func TestLastStageSucceedsTheExecution(t *testing.T) {
	h, _ := newHandler(t)
	start(t, h, "e1", store.ModeSuperseded, 0)
	ctx := context.Background()
	if _, err := h.Handle(ctx, enter("e1")); err != nil {
		t.Fatal(err)
	}
	ev := exit("e1", false)
	ev.Last = true
	if _, err := h.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if got := status(t, h, "e1"); got != store.ExecutionSucceeded {
		t.Errorf("execution %s, want Succeeded", got)
	}
}

func TestStopping(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		entered  bool
		halt     bool
		wantErr  string
		wantSent string
		stage    string
	}{
		{"stopped between stages never enters", false, false, "", "[tok-e1!PipelineStopped]", ""},
		{"stopped inside a stage ends at its exit", true, false, "PipelineStopped", "[]", store.StageSucceeded},
		{"stopped with unstarted actions", true, true, "PipelineStopped", "[]", store.StageStopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, tk := newHandler(t)
			start(t, h, "e1", store.ModeSuperseded, 0)
			if tt.entered {
				if _, err := h.Handle(ctx, enter("e1")); err != nil {
					t.Fatal(err)
				}
				tk.take()
			}
			e, _ := h.Store.GetPipelineExecution(ctx, "p", "e1")
			e.Value, _ = execution.Stop(e.Value, false, "enough", t0)
			if err := h.Store.PutPipelineExecution(ctx, e); err != nil {
				t.Fatal(err)
			}
			ev := enter("e1")
			if tt.entered {
				ev = exit("e1", tt.halt)
			}
			_, err := h.Handle(ctx, ev)
			if errName(err) != tt.wantErr {
				t.Fatalf("error %v, want %s", err, tt.wantErr)
			}
			if got := fmt.Sprint(tk.take()); got != tt.wantSent {
				t.Errorf("sent %s, want %s", got, tt.wantSent)
			}
			if got := status(t, h, "e1"); got != store.ExecutionStopped {
				t.Errorf("execution %s, want Stopped", got)
			}
			if tt.entered {
				se, _ := h.Store.GetStageExecution(ctx, "p", "e1", "Build")
				c, _ := h.Store.GetStageControl(ctx, "p", "Build")
				if se.Value.Status != tt.stage || c.Value.Holder != "" {
					t.Errorf("stage %s, holder %q; want %s and released", se.Value.Status, c.Value.Holder, tt.stage)
				}
			}
		})
	}
}

func TestRetriedExitGoesBackToEntry(t *testing.T) {
	ctx := context.Background()
	h, tk := newHandler(t)
	start(t, h, "e1", store.ModeSuperseded, 0)
	h.Handle(ctx, enter("e1"))
	if _, err := h.Handle(ctx, exit("e1", true)); errName(err) != "StageFailed" {
		t.Fatalf("exit: %v", err)
	}
	e, _ := h.Store.GetPipelineExecution(ctx, "p", "e1")
	se, _ := h.Store.GetStageExecution(ctx, "p", "e1", "Build")
	c, _ := h.Store.GetStageControl(ctx, "p", "Build")
	nse, ne, err := execution.Retry(execution.RetryRequest{Mode: execution.RetryAllActions, Execution: e.Value, Stage: &se.Value,
		Control: c.Value, Actions: []store.ActionExecution{{Status: store.ActionFailed}}, PipelineVersion: 1}, t0)
	if err != nil {
		t.Fatal(err)
	}
	sw, _ := store.StageExecutionWrite(store.Versioned[store.StageExecution]{Value: nse, Version: se.Version})
	ew, _ := store.PipelineExecutionWrite(store.Versioned[store.PipelineExecution]{Value: ne, Version: e.Version})
	if err := h.Store.Transact(ctx, sw, ew); err != nil {
		t.Fatal(err)
	}
	tk.take()
	if _, err := h.Handle(ctx, exit("e1", true)); errName(err) != "RetryStage" {
		t.Fatalf("redriven exit: %v, want RetryStage", err)
	}
	if res, err := h.Handle(ctx, enter("e1")); err != nil || res.Status != "Entered" {
		t.Fatalf("entry after retry: %v, %v", res, err)
	}
	se, _ = h.Store.GetStageExecution(ctx, "p", "e1", "Build")
	if se.Value.Attempt != 2 || se.Value.Status != store.StageInProgress {
		t.Errorf("stage after retry: %+v", se.Value)
	}
	if _, err := h.Handle(ctx, exit("e1", false)); err != nil {
		t.Fatal(err)
	}
}

func TestUndeliveredCallbacksAreDeliveredLater(t *testing.T) {
	ctx := context.Background()
	h, tk := newHandler(t)
	start(t, h, "e1", store.ModeSuperseded, 0)
	start(t, h, "e2", store.ModeSuperseded, 1)
	tk.fail = 1
	_, err := h.Handle(ctx, enter("e1"))
	if errName(err) != "Transient" {
		t.Fatalf("enter with the engine down: %v, want Transient", err)
	}
	// The decision stands; the next handler on the stage delivers it.
	if res, err := h.Handle(ctx, enter("e2")); err != nil || res.Status != "Waiting" {
		t.Fatalf("second entry: %v, %v", res, err)
	}
	if got := fmt.Sprint(tk.take()); got != "[tok-e1]" {
		t.Errorf("sent %s, want [tok-e1]", got)
	}
	tk.gone = true
	if _, err := h.Handle(ctx, exit("e1", false)); err != nil {
		t.Fatalf("exit with the waiter's token gone: %v", err)
	}
	c, _ := h.Store.GetStageControl(ctx, "p", "Build")
	if len(c.Value.Outbox) != 0 {
		t.Errorf("outbox %+v, want empty", c.Value.Outbox)
	}
}

func TestBadEvents(t *testing.T) {
	h, _ := newHandler(t)
	for _, ev := range []Event{
		{Op: OpEnter, Pipeline: "p", Stage: "S", Execution: "e"},
		{Op: "jump", Pipeline: "p", Stage: "S", Execution: "e"},
		{Op: OpExit, Pipeline: "p", Execution: "e"},
	} {
		if _, err := h.Handle(context.Background(), ev); err == nil {
			t.Errorf("%+v: no error", ev)
		}
	}
}

func TestErrorTypeNames(t *testing.T) {
	for _, err := range []interface {
		error
		StatesError() (string, string)
	}{&StageFailed{}, &PipelineStopped{}, &RetryStage{}, &Transient{}, &Invalid{}} {
		name, _ := err.StatesError()
		if got := errName(err); got != name {
			t.Errorf("type %s reports %s: aws-lambda-go and the engine would disagree", got, name)
		}
	}
}

// TestOneExecutionInsideUnderConcurrency runs many executions through one
// stage at once, each entering, holding the stage a moment and leaving, and
// checks that no two were ever inside together and every one got through.
func TestOneExecutionInsideUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	h, tk := newHandler(t)
	h.Now = nil
	const n = 12
	tk.waiters = map[string]chan string{}
	for i := range n {
		id := fmt.Sprintf("e%02d", i)
		start(t, h, id, store.ModeQueued, i)
		tk.waiters["tok-"+id] = make(chan string, 4)
	}
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("e%02d", i)
			if _, err := h.Handle(ctx, enter(id)); err != nil {
				errs <- err
				return
			}
			select {
			case <-tk.waiters["tok-"+id]:
			case <-time.After(20 * time.Second):
				errs <- fmt.Errorf("%s never entered", id)
				return
			}
			now := inside.Add(1)
			for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
			}
			time.Sleep(2 * time.Millisecond)
			inside.Add(-1)
			if _, err := h.Handle(ctx, exit(id, false)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if most.Load() != 1 {
		t.Errorf("%d executions were inside the stage at once", most.Load())
	}
}
