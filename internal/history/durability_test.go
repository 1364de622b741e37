package history_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/history"
	"github.com/sluice-ci/sluice/internal/states"
)

// The durability test runs executions in a separate process (this test
// binary again, as a worker) on a SQLite data folder, kills it with SIGKILL
// at chosen points and starts it again, until every execution finished.
//
// The worker's handlers write a journal: "start KEY" when a task begins,
// "ok KEY" when its effect is done and "dedup KEY" when a key that already
// completed comes again (the handler then returns the stored result without
// redoing the effect). A parked .waitForTaskToken task writes its token to a
// file; an approver in the worker answers every token a second after it
// first appeared, so a token parked before a kill is answered by the next
// worker.

const workerEnv = "SLUICE_DURABILITY_WORKER"

const durableMachine = `{
  "StartAt": "Work",
  "States": {
    "Work": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work",
      "Parameters": {"step": "work", "n.$": "$.n"}, "ResultPath": "$.work", "Next": "Flaky"},
    "Flaky": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky",
      "Retry": [{"ErrorEquals": ["NotYet"], "IntervalSeconds": 1, "BackoffRate": 1, "MaxAttempts": 3}],
      "ResultPath": "$.flaky", "Next": "Sleep"},
    "Sleep": {"Type": "Wait", "Seconds": 1, "Next": "Park"},
    "Park": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
      "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
      "ResultPath": "$.approval", "Next": "Fan"},
    "Fan": {"Type": "Parallel", "ResultPath": "$.fan", "End": true, "Branches": [
      {"StartAt": "Left", "States": {"Left": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work",
        "Parameters": {"step": "left", "n.$": "$.n"}, "End": true}}},
      {"StartAt": "Right", "States": {"Right": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work",
        "Parameters": {"step": "right", "n.$": "$.n"}, "End": true}}}
    ]}
  }
}`

const durableExecutions = 4

func TestMain(m *testing.M) {
	if dir := os.Getenv(workerEnv); dir != "" {
		if err := runWorker(dir); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// journal appends lines to a file, synchronously.
type journal struct {
	mu   sync.Mutex
	f    *os.File
	done map[string]bool
}

func openJournal(path string) (*journal, error) {
	j := &journal{done: map[string]bool{}}
	if data, err := os.ReadFile(path); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if key, ok := strings.CutPrefix(line, "ok "); ok {
				j.done[key] = true
			}
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY|os.O_SYNC, 0o644)
	if err != nil {
		return nil, err
	}
	j.f = f
	return j, nil
}

func (j *journal) write(line string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.WriteString(line + "\n"); err != nil {
		panic(err)
	}
}

// NotYet is the error of the flaky task's first attempts.
type NotYet struct{}

func (NotYet) Error() string { return "not yet" }

func runWorker(dir string) error {
	j, err := openJournal(filepath.Join(dir, "journal"))
	if err != nil {
		return err
	}
	tokenPath := filepath.Join(dir, "tokens")
	tokenFile, err := os.OpenFile(tokenPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY|os.O_SYNC, 0o644)
	if err != nil {
		return err
	}
	reg := states.NewRegistry()
	reg.Register("arn:aws:lambda:us-east-1:123456789012:function:work", func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		info, _ := states.TaskFromContext(ctx)
		key := info.IdempotencyKey
		j.mu.Lock()
		done := j.done[key]
		j.mu.Unlock()
		if done {
			j.write("dedup " + key)
			return in, nil
		}
		j.write("start " + key)
		time.Sleep(300 * time.Millisecond)
		j.mu.Lock()
		j.done[key] = true
		j.mu.Unlock()
		j.write("ok " + key)
		return in, nil
	})
	reg.Register("arn:aws:lambda:us-east-1:123456789012:function:flaky", func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		info, _ := states.TaskFromContext(ctx)
		if info.Attempt < 2 {
			return nil, NotYet{}
		}
		return json.RawMessage(`"finally"`), nil
	})
	reg.Register("arn:aws:states:::sqs:sendMessage", func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		info, _ := states.TaskFromContext(ctx)
		if _, err := fmt.Fprintf(tokenFile, "%s %s\n", info.Token, info.ExecutionArn); err != nil {
			return nil, err
		}
		return json.RawMessage(`{"MessageId":"1"}`), nil
	})
	store, err := history.Open(dir, history.Options{})
	if err != nil {
		return err
	}
	eng, err := states.New(states.Options{Log: store, Handlers: reg})
	if err != nil {
		return err
	}
	ctx := context.Background()
	sm, err := eng.CreateStateMachine(ctx, states.CreateStateMachineInput{Name: "Durable", Definition: durableMachine})
	if err != nil {
		return err
	}
	var arns []string
	for i := 0; i < durableExecutions; i++ {
		out, err := eng.StartExecution(ctx, states.StartExecutionInput{
			StateMachineArn: sm.Arn, Name: fmt.Sprintf("e%d", i), Input: fmt.Sprintf(`{"n":%d}`, i)})
		switch {
		case errors.Is(err, states.ErrExecutionAlreadyExists):
			arns = append(arns, states.ExecutionArn(sm.Arn, fmt.Sprintf("e%d", i)))
		case err != nil:
			return err
		default:
			arns = append(arns, out.ExecutionArn)
		}
	}
	go approve(eng, tokenPath)
	for _, arn := range arns {
		if _, err := eng.WaitExecution(ctx, arn); err != nil {
			return err
		}
	}
	return eng.Close()
}

// approve answers every parked token a second after it first appeared.
func approve(eng *states.Engine, path string) {
	first := map[string]time.Time{}
	answered := map[string]bool{}
	for {
		time.Sleep(100 * time.Millisecond)
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			tok, _, _ := strings.Cut(sc.Text(), " ")
			if tok == "" || answered[tok] {
				continue
			}
			if _, ok := first[tok]; !ok {
				first[tok] = time.Now()
			}
			if time.Since(first[tok]) < time.Second {
				continue
			}
			err := eng.SendTaskSuccess(context.Background(), tok, `{"approved":true}`)
			if err == nil || errors.Is(err, states.ErrTaskDoesNotExist) || errors.Is(err, states.ErrTaskTimedOut) {
				answered[tok] = true
			}
		}
		f.Close()
	}
}

// phase is a point at which the test kills the worker: when some open
// execution's latest top-level event satisfies at.
type phase struct {
	name string
	at   func(last *states.Event) bool
}

func TestDurabilityAcrossKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts worker processes")
	}
	dir := t.TempDir()
	phases := []phase{
		{"task in flight", func(e *states.Event) bool {
			return e.Type == states.TaskStarted || e.Type == states.LambdaFunctionStarted
		}},
		{"retry back-off", func(e *states.Event) bool { return e.Type == states.LambdaFunctionFailed && e.Delay > 0 }},
		{"wait", func(e *states.Event) bool { return e.Type == "WaitStateEntered" }},
		{"callback parked", func(e *states.Event) bool { return e.Type == states.TaskSubmitted }},
		{"parallel task in flight", func(e *states.Event) bool { return e.Scope != "" && e.Type == states.LambdaFunctionStarted }},
	}
	for _, p := range phases {
		w := startWorker(t, dir)
		if !waitForPhase(t, dir, p) {
			w.Process.Kill()
			w.Wait()
			t.Fatalf("the executions never reached phase %q", p.name)
		}
		if err := w.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		w.Wait()
		t.Logf("killed the worker during %s", p.name)
	}
	w := startWorker(t, dir)
	done := make(chan error, 1)
	go func() { done <- w.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("last worker: %v", err)
		}
	case <-time.After(60 * time.Second):
		w.Process.Kill()
		t.Fatal("the last worker did not finish the executions")
	}
	checkDurableOutcome(t, dir)
}

func startWorker(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnv+"="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// lastEvents returns the latest event of every scope of every open
// execution, read from the data folder.
func lastEvents(dir string) []*states.Event {
	store, err := history.Open(dir, history.Options{})
	if err != nil {
		return nil
	}
	defer store.Close()
	recs, err := store.Executions()
	if err != nil {
		return nil
	}
	var out []*states.Event
	for _, r := range recs {
		if !r.Open() {
			continue
		}
		h, err := store.History(r.Started.Execution, states.AllEvents)
		if err != nil || len(h) == 0 {
			continue
		}
		last := map[string]*states.Event{}
		for _, e := range h {
			last[e.Scope] = e
		}
		for _, e := range last {
			out = append(out, e)
		}
	}
	return out
}

func waitForPhase(t *testing.T, dir string, p phase) bool {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range lastEvents(dir) {
			if p.at(e) {
				return true
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

func checkDurableOutcome(t *testing.T, dir string) {
	store, err := history.Open(dir, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	recs, err := store.Executions()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != durableExecutions {
		t.Fatalf("%d executions, want %d", len(recs), durableExecutions)
	}
	for _, r := range recs {
		if r.Open() || r.Status.Type != states.ExecutionSucceeded {
			t.Fatalf("execution %s did not succeed: %+v", r.Started.Execution, r.Status)
		}
		out, _ := json.Marshal(r.Status.Detail.Output)
		var o struct {
			Approval struct{ Approved bool } `json:"approval"`
			Flaky    string                  `json:"flaky"`
			Fan      []map[string]any        `json:"fan"`
		}
		if err := json.Unmarshal(out, &o); err != nil || !o.Approval.Approved || o.Flaky != "finally" || len(o.Fan) != 2 {
			t.Errorf("execution %s output %s", r.Started.Execution, out)
		}
		h, err := store.History(r.Started.Execution, states.AllEvents)
		if err != nil {
			t.Fatal(err)
		}
		var prev int64
		for _, e := range h {
			if e.ID != prev+1 {
				t.Fatalf("execution %s: event id %d after %d", r.Started.Execution, e.ID, prev)
			}
			prev = e.ID
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	starts, oks := map[string]int{}, map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		verb, key, _ := strings.Cut(line, " ")
		switch verb {
		case "start":
			starts[key]++
		case "ok":
			oks[key]++
		}
	}
	redispatched := 0
	for key, n := range oks {
		if n > 1 {
			t.Errorf("the effect of %s ran %d times", key, n)
		}
	}
	for key, n := range starts {
		if oks[key] != 1 {
			t.Errorf("%s started %d times but completed %d times", key, n, oks[key])
		}
		if n > 1 {
			redispatched++
		}
	}
	if want := durableExecutions * 3; len(oks) != want {
		t.Errorf("%d task keys completed, want %d", len(oks), want)
	}
	if redispatched == 0 {
		t.Error("no task was dispatched again after a kill: the in-flight kills missed")
	}
	tokens, err := os.ReadFile(filepath.Join(dir, "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	perExec := map[string]map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(tokens)), "\n") {
		tok, arn, _ := strings.Cut(line, " ")
		if perExec[arn] == nil {
			perExec[arn] = map[string]bool{}
		}
		perExec[arn][tok] = true
	}
	for arn, toks := range perExec {
		if len(toks) != 1 {
			t.Errorf("execution %s was given %d task tokens, want 1", arn, len(toks))
		}
	}
	t.Logf("%d keys, %d dispatched again after a kill", len(oks), redispatched)
}
