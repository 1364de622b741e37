package states_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/states"
)

// newEngine returns an engine on an in-memory log; clock nil means the
// real clock.
func newEngine(t *testing.T, reg *states.Registry, clock states.Clock) *states.Engine {
	t.Helper()
	return openEngine(t, states.Options{Handlers: reg, Clock: clock})
}

// openEngine opens an engine, to be closed at the end of the test (or
// before, to restart it on the same log).
func openEngine(t *testing.T, opts states.Options) *states.Engine {
	t.Helper()
	eng, err := states.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func createMachine(t *testing.T, eng *states.Engine, name, def string) string {
	t.Helper()
	sm, err := eng.CreateStateMachine(context.Background(), states.CreateStateMachineInput{Name: name, Definition: def})
	if err != nil {
		t.Fatal(err)
	}
	return sm.Arn
}

func start(t *testing.T, eng *states.Engine, arn, name, input string) string {
	t.Helper()
	out, err := eng.StartExecution(context.Background(), states.StartExecutionInput{StateMachineArn: arn, Name: name, Input: input})
	if err != nil {
		t.Fatal(err)
	}
	return out.ExecutionArn
}

func wait(t *testing.T, eng *states.Engine, arn string) *states.ExecutionDescription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := eng.WaitExecution(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func eventTypes(t *testing.T, eng *states.Engine, arn string) []string {
	t.Helper()
	h, err := eng.GetExecutionHistory(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range h {
		out = append(out, e.Type)
	}
	return out
}

func wantAPIError(t *testing.T, err error, kind *states.APIError) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error %v, want %s", err, kind.Code)
	}
}

// tokens collects the task tokens handlers are given.
type tokens struct {
	mu   sync.Mutex
	list []string
	seen chan string
}

func newTokens() *tokens { return &tokens{seen: make(chan string, 16)} }

func (tk *tokens) handler(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
	info, _ := states.TaskFromContext(ctx)
	tk.mu.Lock()
	tk.list = append(tk.list, info.Token)
	tk.mu.Unlock()
	tk.seen <- info.Token
	return json.RawMessage(`{"MessageId":"m-1"}`), nil
}

func (tk *tokens) next(t *testing.T) string {
	t.Helper()
	select {
	case tok := <-tk.seen:
		return tok
	case <-time.After(10 * time.Second):
		t.Fatal("no task token was dispatched")
		return ""
	}
}

const callbackMachine = `{
  "StartAt": "Park",
  "States": {
    "Park": {
      "Type": "Task",
      "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
      "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token", "in.$": "$"}},
      "HeartbeatSeconds": 3600,
      "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.error", "Next": "Caught"}],
      "End": true
    },
    "Caught": {"Type": "Pass", "End": true}
  }
}`

func TestCallbacks(t *testing.T) {
	tk := newTokens()
	reg := states.NewRegistry()
	reg.Register("arn:aws:states:::sqs:sendMessage", tk.handler)
	eng := newEngine(t, reg, nil)
	ctx := context.Background()
	sm := createMachine(t, eng, "Callbacks", callbackMachine)

	ok := start(t, eng, sm, "ok", `{"n":1}`)
	tok := tk.next(t)
	if err := eng.SendTaskHeartbeat(ctx, tok); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	if err := eng.SendTaskSuccess(ctx, tok, `{"done":true,"big":1.000}`); err != nil {
		t.Fatalf("success: %v", err)
	}
	d := wait(t, eng, ok)
	if d.Status != states.StatusSucceeded || *d.Output != `{"big":1.000,"done":true}` {
		t.Fatalf("execution %s with output %v", d.Status, d.Output)
	}
	wantAPIError(t, eng.SendTaskSuccess(ctx, tok, `{}`), states.ErrTaskDoesNotExist)
	wantAPIError(t, eng.SendTaskHeartbeat(ctx, tok), states.ErrTaskDoesNotExist)
	wantAPIError(t, eng.SendTaskSuccess(ctx, "not-a-token", `{}`), states.ErrInvalidToken)

	rejected := start(t, eng, sm, "rejected", `{"n":2}`)
	tok = tk.next(t)
	wantAPIError(t, eng.SendTaskSuccess(ctx, tok, `{`), states.ErrInvalidOutput)
	tooBig := `"` + strings.Repeat("a", states.MaxPayloadBytes) + `"`
	if err := eng.SendTaskSuccess(ctx, tok, tooBig); !errors.Is(err, states.ErrInvalidOutput) || !strings.Contains(err.Error(), "maximum size") {
		t.Fatalf("output over the size limit: %v", err)
	}
	if err := eng.SendTaskFailure(ctx, tok, strPtr("Rejected"), strPtr("no thanks")); err != nil {
		t.Fatalf("failure: %v", err)
	}
	d = wait(t, eng, rejected)
	if d.Status != states.StatusSucceeded || *d.Output != `{"error":{"Cause":"no thanks","Error":"Rejected"},"n":2}` {
		t.Fatalf("execution %s with output %v", d.Status, str(d.Output))
	}
	want := "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSubmitted TaskFailed TaskStateExited PassStateEntered PassStateExited ExecutionSucceeded"
	if got := strings.Join(eventTypes(t, eng, rejected), " "); got != want {
		t.Errorf("events %s\nwant %s", got, want)
	}
}

func strPtr(s string) *string { return &s }

func TestCallbackFromInsideTheHandler(t *testing.T) {
	reg := states.NewRegistry()
	var eng *states.Engine
	reg.Register("arn:aws:states:::sqs:sendMessage", func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		info, _ := states.TaskFromContext(ctx)
		if err := eng.SendTaskSuccess(ctx, info.Token, `"at once"`); err != nil {
			return nil, err
		}
		return json.RawMessage(`{}`), nil
	})
	eng = newEngine(t, reg, nil)
	arn := start(t, eng, createMachine(t, eng, "Inline", callbackMachine), "x", `{}`)
	if d := wait(t, eng, arn); d.Status != states.StatusSucceeded || *d.Output != `"at once"` {
		t.Fatalf("execution %s with output %v", d.Status, str(d.Output))
	}
}

func TestHeartbeatTimeoutOnVirtualClock(t *testing.T) {
	tk := newTokens()
	reg := states.NewRegistry()
	reg.Register("arn:aws:states:::sqs:sendMessage", tk.handler)
	eng := newEngine(t, reg, states.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	arn := start(t, eng, createMachine(t, eng, "Heartbeat", callbackMachine), "x", `{}`)
	tok := tk.next(t)
	d := wait(t, eng, arn)
	if d.Status != states.StatusFailed || str(d.Error) != "States.Timeout" {
		t.Fatalf("execution %s %s %s, want FAILED States.Timeout", d.Status, str(d.Error), str(d.Cause))
	}
	if got := d.StopDate.Sub(d.StartDate); got != time.Hour {
		t.Errorf("timed out after %s of virtual time, want 1h", got)
	}
	wantAPIError(t, eng.SendTaskSuccess(context.Background(), tok, `{}`), states.ErrTaskTimedOut)
}

// NotReady is a handler error; Retry and Catch match its type name.
type NotReady struct{ left int }

func (e *NotReady) Error() string { return fmt.Sprintf("%d more tries", e.left) }

func TestHandlerErrorsRetryAndCatch(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	var keys []string
	reg := states.NewRegistry()
	reg.Register("arn:aws:lambda:us-east-1:123456789012:function:flaky", func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		info, _ := states.TaskFromContext(ctx)
		mu.Lock()
		defer mu.Unlock()
		calls[string(in)]++
		keys = append(keys, info.IdempotencyKey)
		if calls[string(in)] < 3 {
			return nil, &NotReady{left: 3 - calls[string(in)]}
		}
		if string(in) == `{"fail":true}` {
			return nil, errors.New("gave up")
		}
		return json.RawMessage(`{"ok":true}`), nil
	})
	eng := newEngine(t, reg, states.NewVirtualClock(time.Now()))
	sm := createMachine(t, eng, "Flaky", `{
	  "StartAt": "Call",
	  "States": {
	    "Call": {
	      "Type": "Task",
	      "Resource": "arn:aws:states:::lambda:invoke",
	      "Parameters": {"FunctionName": "flaky", "Payload.$": "$"},
	      "Retry": [{"ErrorEquals": ["NotReady"], "IntervalSeconds": 10, "MaxAttempts": 5, "JitterStrategy": "FULL"}],
	      "Catch": [{"ErrorEquals": ["errorString"], "Next": "Caught"}],
	      "OutputPath": "$.Payload",
	      "End": true
	    },
	    "Caught": {"Type": "Pass", "End": true}
	  }
	}`)
	okArn := start(t, eng, sm, "ok", `{"fail":false}`)
	if d := wait(t, eng, okArn); d.Status != states.StatusSucceeded || *d.Output != `{"ok":true}` {
		t.Fatalf("execution %s with output %s", d.Status, str(d.Output))
	}
	failArn := start(t, eng, sm, "fail", `{"fail":true}`)
	d := wait(t, eng, failArn)
	var out map[string]string
	if err := json.Unmarshal([]byte(str(d.Output)), &out); err != nil {
		t.Fatal(err)
	}
	if out["Error"] != "errorString" || out["Cause"] != `{"errorMessage":"gave up","errorType":"errorString"}` {
		t.Errorf("caught %v", out)
	}
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			t.Errorf("idempotency key %s given twice", k)
		}
		seen[k] = true
	}
	if len(keys) != 6 {
		t.Errorf("%d calls, want 6", len(keys))
	}
}

func TestStartExecutionIsIdempotentWhileOpen(t *testing.T) {
	tk := newTokens()
	reg := states.NewRegistry()
	reg.Register("arn:aws:states:::sqs:sendMessage", tk.handler)
	eng := newEngine(t, reg, nil)
	ctx := context.Background()
	sm := createMachine(t, eng, "Once", callbackMachine)
	first, err := eng.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: sm, Name: "run-1", Input: `{"a":1}`})
	if err != nil {
		t.Fatal(err)
	}
	tok := tk.next(t)
	again, err := eng.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: sm, Name: "run-1", Input: `{"a":1}`})
	if err != nil || *again != *first {
		t.Fatalf("second start: %+v, %v; want %+v", again, err, first)
	}
	_, err = eng.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: sm, Name: "run-1", Input: `{"a":2}`})
	wantAPIError(t, err, states.ErrExecutionAlreadyExists)
	if err := eng.SendTaskSuccess(ctx, tok, `{}`); err != nil {
		t.Fatal(err)
	}
	wait(t, eng, first.ExecutionArn)
	_, err = eng.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: sm, Name: "run-1", Input: `{"a":1}`})
	wantAPIError(t, err, states.ErrExecutionAlreadyExists)
	_, err = eng.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: sm, Name: "bad name!"})
	wantAPIError(t, err, states.ErrInvalidName)
	_, err = eng.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: sm, Input: `{`})
	wantAPIError(t, err, states.ErrInvalidExecutionInput)
	_, err = eng.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: sm, Input: `"` + strings.Repeat("a", states.MaxPayloadBytes) + `"`})
	if !errors.Is(err, states.ErrInvalidExecutionInput) || !strings.Contains(err.Error(), "maximum size") {
		t.Fatalf("input over the size limit: %v", err)
	}
	_, err = eng.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: sm + "x"})
	wantAPIError(t, err, states.ErrStateMachineDoesNotExist)
	list, err := eng.ListExecutions(ctx, states.ListExecutionsInput{StateMachineArn: sm, StatusFilter: states.StatusSucceeded})
	if err != nil || len(list) != 1 || list[0].Name != "run-1" {
		t.Fatalf("list %v, %v", list, err)
	}
}

func TestStopExecution(t *testing.T) {
	tk := newTokens()
	reg := states.NewRegistry()
	reg.Register("arn:aws:states:::sqs:sendMessage", tk.handler)
	eng := newEngine(t, reg, nil)
	ctx := context.Background()
	arn := start(t, eng, createMachine(t, eng, "Stop", callbackMachine), "x", `{}`)
	tok := tk.next(t)
	if _, err := eng.StopExecution(ctx, arn, strPtr("Operator"), strPtr("enough")); err != nil {
		t.Fatal(err)
	}
	d, err := eng.DescribeExecution(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != states.StatusAborted || str(d.Error) != "Operator" || str(d.Cause) != "enough" || d.StopDate.IsZero() {
		t.Fatalf("stopped execution %+v", d)
	}
	if types := eventTypes(t, eng, arn); types[len(types)-1] != states.ExecutionAborted {
		t.Errorf("last event %s", types[len(types)-1])
	}
	wantAPIError(t, eng.SendTaskSuccess(ctx, tok, `{}`), states.ErrTaskDoesNotExist)
	_, err = eng.StopExecution(ctx, arn+"x", nil, nil)
	wantAPIError(t, err, states.ErrExecutionDoesNotExist)
}

func TestRedriveRerunsOnlyWhatFailed(t *testing.T) {
	work := func(n int) string {
		return fmt.Sprintf(`{"StartAt": "Work", "States": {"Work": {"Type": "Task",
		  "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "Parameters": %d, "End": true}}}`, n)
	}
	tests := []struct{ name, def string }{
		{"map iterations", `{"StartAt": "Each", "States": {"Each": {"Type": "Map", "MaxConcurrency": 1,
		  "ItemProcessor": {"StartAt": "Work", "States": {
		    "Work": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "End": true}}},
		  "End": true}}}`},
		// Item 2 waits, so that the other branches have ended when it
		// fails rather than being aborted (a redrive runs those again).
		{"parallel branches", `{"StartAt": "Fan", "States": {"Fan": {"Type": "Parallel", "End": true,
		  "Branches": [` + work(1) + `,` + strings.Replace(work(2), `"StartAt": "Work", "States": {`,
			`"StartAt": "Later", "States": {"Later": {"Type": "Wait", "Seconds": 10, "Next": "Work"}, `, 1) + `,` + work(3) + `]}}}`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			calls := map[string]int{}
			broken := true
			reg := states.NewRegistry()
			reg.Register("work", func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
				mu.Lock()
				defer mu.Unlock()
				calls[string(in)]++
				if broken && string(in) == `2` {
					return nil, errors.New("item 2 is broken")
				}
				return in, nil
			})
			eng := newEngine(t, reg, states.NewVirtualClock(time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)))
			ctx := context.Background()
			arn := start(t, eng, createMachine(t, eng, fmt.Sprintf("Redrive%d", i), tt.def), "x", `[1,2,3]`)
			if d := wait(t, eng, arn); d.Status != states.StatusFailed || str(d.Error) != "errorString" {
				t.Fatalf("first run %s %s", d.Status, str(d.Error))
			}
			mu.Lock()
			broken = false
			mu.Unlock()
			if _, err := eng.RedriveExecution(ctx, arn, ""); err != nil {
				t.Fatal(err)
			}
			d := wait(t, eng, arn)
			if d.Status != states.StatusSucceeded || str(d.Output) != `[1,2,3]` || d.RedriveCount != 1 {
				t.Fatalf("redriven run %s %s %v redrives %d", d.Status, str(d.Error), str(d.Output), d.RedriveCount)
			}
			mu.Lock()
			if calls["1"] != 1 || calls["3"] != 1 || calls["2"] != 2 {
				t.Errorf("calls %v, want 1 and 3 once and 2 twice", calls)
			}
			mu.Unlock()
			entered := map[string]int{}
			for _, typ := range eventTypes(t, eng, arn) {
				entered[typ]++
			}
			if entered["TaskStateEntered"] != 4 || entered["WaitStateEntered"] > 1 {
				t.Errorf("states entered %v, want 4 tasks and no Wait again", entered)
			}
			_, err := eng.RedriveExecution(ctx, arn, "")
			wantAPIError(t, err, states.ErrExecutionNotRedrivable)
		})
	}
}

func TestStateMachineOperations(t *testing.T) {
	eng := newEngine(t, nil, nil)
	ctx := context.Background()
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`
	in := states.CreateStateMachineInput{Name: "M", Definition: def, RoleArn: "arn:aws:iam::123456789012:role/r"}
	sm, err := eng.CreateStateMachine(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	in.Definition = `{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}`
	_, err = eng.CreateStateMachine(ctx, states.CreateStateMachineInput{Name: "Bad", Definition: `{"StartAt":"X","States":{"A":{"Type":"Pass","End":true}}}`})
	wantAPIError(t, err, states.ErrInvalidDefinition)
	_, err = eng.CreateStateMachine(ctx, states.CreateStateMachineInput{Name: "has space", Definition: def})
	wantAPIError(t, err, states.ErrInvalidName)
	arn := start(t, eng, sm.Arn, "before-update", `{}`)
	wait(t, eng, arn)
	upd, err := eng.UpdateStateMachine(ctx, sm.Arn, in.Definition, "")
	if err != nil || upd.Definition != in.Definition || upd.RoleArn != sm.RoleArn {
		t.Fatalf("update: %+v, %v", upd, err)
	}
	_, err = eng.UpdateStateMachine(ctx, sm.Arn, `{}`, "")
	wantAPIError(t, err, states.ErrInvalidDefinition)
	if forExec, err := eng.DescribeStateMachineForExecution(ctx, arn); err != nil || forExec.Definition != def {
		t.Fatalf("state machine for the execution: %+v, %v", forExec, err)
	}
	if list, err := eng.ListStateMachines(ctx); err != nil || len(list) != 1 {
		t.Fatalf("list: %v, %v", list, err)
	}
	if err := eng.DeleteStateMachine(ctx, sm.Arn); err != nil {
		t.Fatal(err)
	}
	_, err = eng.DescribeStateMachine(ctx, sm.Arn)
	wantAPIError(t, err, states.ErrStateMachineDoesNotExist)
	_, err = eng.GetExecutionHistory(ctx, sm.Arn)
	wantAPIError(t, err, states.ErrInvalidArn)
}

// TestInvalidArns gives the operations malformed ARNs: each is InvalidArn
// with the service's message, and a well-formed ARN of nothing is not.
func TestInvalidArns(t *testing.T) {
	eng := newEngine(t, nil, nil)
	ctx := context.Background()
	describeMachine := func(arn string) error {
		_, err := eng.DescribeStateMachine(ctx, arn)
		return err
	}
	describeExecution := func(arn string) error {
		_, err := eng.DescribeExecution(ctx, arn)
		return err
	}
	tests := []struct {
		arn  string
		call func(arn string) error
		msg  string // "" for a well-formed ARN of nothing
	}{
		{"arn:aws:states:us-east-1:123456789012:stateMachine:M", describeMachine, ""},
		{"arn:aws-cn:states:cn-north-1:123456789012:execution:M:e", describeExecution, ""},
		{"M", describeMachine, "Invalid Arn: 'Invalid ARN prefix: M'"},
		{"arn:aws:states:us-east-1", describeMachine, "Invalid Arn: 'Invalid ARN prefix: arn:aws:states:us-east-1'"},
		{"arn:aws:lambda:us-east-1:123456789012:function:f", describeMachine, "Invalid Arn: 'Service not valid in this context: lambda'"},
		{"arn:aws:states:us-east-1:123456789012:execution:M:e", describeMachine, "Invalid Arn: 'Resource type not valid in this context: execution'"},
		{"arn:aws:states:us-east-1:123456789012:stateMachine:M", describeExecution, "Invalid Arn: 'Resource type not valid in this context: stateMachine'"},
		{"arn:aws:states:us-east-1:123456789012:stateMachine:", describeMachine,
			"Invalid Arn: 'Resource name not valid in this context: arn:aws:states:us-east-1:123456789012:stateMachine:'"},
		{"arn:aws:states:us-east-1:123456789012:execution:M", describeExecution,
			"Invalid Arn: 'Resource name not valid in this context: arn:aws:states:us-east-1:123456789012:execution:M'"},
		{"arn:aws:states:us-east-1:123456789012:execution::e", describeExecution,
			"Invalid Arn: 'Resource name not valid in this context: arn:aws:states:us-east-1:123456789012:execution::e'"},
		{"arn:aws:sqs:us-east-1:123456789012:q", func(arn string) error { return eng.DeleteStateMachine(ctx, arn) },
			"Invalid Arn: 'Service not valid in this context: sqs'"},
		{"arn:aws:states:us-east-1:123456789012:stateMachine:Gone", func(arn string) error { return eng.DeleteStateMachine(ctx, arn) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.arn, func(t *testing.T) {
			err := tt.call(tt.arn)
			var api *states.APIError
			switch {
			case tt.msg == "" && errors.Is(err, states.ErrInvalidArn):
				t.Fatalf("refused: %v", err)
			case tt.msg != "" && (!errors.As(err, &api) || api.Code != "InvalidArn" || api.Message != tt.msg):
				t.Fatalf("error %v, want InvalidArn: %s", err, tt.msg)
			}
		})
	}
}

// TestDescribeStateMachineForExecution starts executions around two
// updates of their state machine and reads, after a restart, the revision
// each one runs.
func TestDescribeStateMachineForExecution(t *testing.T) {
	log := states.NewMemoryLog()
	ctx := context.Background()
	eng := openEngine(t, states.Options{Log: log})
	defs := []string{
		`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`,
		`{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}`,
	}
	roles := []string{"arn:aws:iam::123456789012:role/first", "arn:aws:iam::123456789012:role/second"}
	sm, err := eng.CreateStateMachine(ctx, states.CreateStateMachineInput{Name: "Revised", Definition: defs[0], RoleArn: roles[0]})
	if err != nil {
		t.Fatal(err)
	}
	before := start(t, eng, sm.Arn, "before", `{}`)
	upd, err := eng.UpdateStateMachine(ctx, sm.Arn, defs[1], roles[1])
	if err != nil {
		t.Fatal(err)
	}
	after := start(t, eng, sm.Arn, "after", `{}`)
	wait(t, eng, before)
	wait(t, eng, after)
	if _, err := eng.UpdateStateMachine(ctx, sm.Arn, defs[0], ""); err != nil {
		t.Fatal(err)
	}
	eng.Close()
	eng = openEngine(t, states.Options{Log: log})
	tests := []struct {
		exec    string
		def     string
		role    string
		updated time.Time
	}{
		{before, defs[0], roles[0], sm.UpdateDate},
		{after, defs[1], roles[1], upd.UpdateDate},
	}
	for _, tt := range tests {
		got, err := eng.DescribeStateMachineForExecution(ctx, tt.exec)
		if err != nil {
			t.Fatal(err)
		}
		if got.Definition != tt.def || got.RoleArn != tt.role || !got.UpdateDate.Equal(tt.updated) || got.Arn != sm.Arn || got.Name != "Revised" {
			t.Errorf("%s: %+v, want definition %s, role %s, updated %s", tt.exec, got, tt.def, tt.role, tt.updated)
		}
	}
}

func TestCreateStateMachineIsIdempotent(t *testing.T) {
	eng := newEngine(t, nil, nil)
	ctx := context.Background()
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`
	role := "arn:aws:iam::123456789012:role/first"
	first, err := eng.CreateStateMachine(ctx, states.CreateStateMachineInput{Name: "M", Definition: def, RoleArn: role})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   states.CreateStateMachineInput
		want *states.APIError // nil: the existing state machine
	}{
		{"the same request", states.CreateStateMachineInput{Name: "M", Definition: def, RoleArn: role}, nil},
		{"another role", states.CreateStateMachineInput{Name: "M", Definition: def, RoleArn: "arn:aws:iam::123456789012:role/second"}, nil},
		{"the type spelt out", states.CreateStateMachineInput{Name: "M", Definition: def, RoleArn: role, Type: "STANDARD"}, nil},
		{"another definition", states.CreateStateMachineInput{Name: "M", Definition: `{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}`, RoleArn: role},
			states.ErrStateMachineAlreadyExists},
		{"the same definition written otherwise", states.CreateStateMachineInput{Name: "M", Definition: def + " ", RoleArn: role},
			states.ErrStateMachineAlreadyExists},
		{"another type", states.CreateStateMachineInput{Name: "M", Definition: def, RoleArn: role, Type: "EXPRESS"},
			states.ErrStateMachineAlreadyExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm, err := eng.CreateStateMachine(ctx, tt.in)
			if tt.want != nil {
				wantAPIError(t, err, tt.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *sm != *first {
				t.Fatalf("created %+v, want the existing %+v", sm, first)
			}
		})
	}
}

// TestResumeKeepsDeadlines closes an engine while an execution waits and
// resumes it later on another clock: the retry back-off and the Wait end at
// the deadlines recorded before the stop, not later.
func TestResumeKeepsDeadlines(t *testing.T) {
	log := states.NewMemoryLog()
	var calls atomic.Int32
	reg := states.NewRegistry()
	reg.Register("arn:aws:lambda:us-east-1:123456789012:function:f", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		if calls.Add(1) == 1 {
			return nil, &NotReady{}
		}
		return json.RawMessage(`1`), nil
	})
	def := `{"StartAt": "Call", "States": {
	  "Call": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
	    "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 600}], "Next": "Sleep"},
	  "Sleep": {"Type": "Wait", "Seconds": 3600, "End": true}}}`
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		start, horizon time.Time
		until          string
	}{
		{t0, t0, states.LambdaFunctionFailed},
		{t0.Add(10 * time.Second), t0.Add(700 * time.Second), "WaitStateEntered"},
		{t0.Add(1000 * time.Second), t0.Add(24 * time.Hour), states.ExecutionSucceeded},
	}
	var arn string
	for _, st := range steps {
		clock := &horizonClock{VirtualClock: states.NewVirtualClock(st.start), horizon: st.horizon}
		eng, err := states.New(states.Options{Log: log, Handlers: reg, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		if arn == "" {
			arn = start(t, eng, createMachine(t, eng, "Deadlines", def), "x", `{}`)
		}
		waitForEvent(t, log, arn, st.until)
		eng.Close()
	}
	h, _ := log.History(arn, states.AllEvents)
	at := map[string]time.Time{}
	var deadline time.Time
	for _, e := range h {
		at[e.Type] = e.Time
		if e.Type == states.LambdaFunctionFailed {
			deadline = e.Time.Add(e.Delay)
		}
	}
	if got := at[states.LambdaFunctionScheduled]; !got.Equal(deadline) || !deadline.Equal(t0.Add(600*time.Second)) {
		t.Errorf("retry scheduled at %s, want the recorded deadline %s", got, deadline)
	}
	if got, want := at["WaitStateExited"], at["WaitStateEntered"].Add(time.Hour); !got.Equal(want) {
		t.Errorf("wait ended at %s, want %s", got, want)
	}
}

// horizonClock is a virtual clock that never fires a timer past its
// horizon, so that an execution stops there until another engine resumes
// it.
type horizonClock struct {
	*states.VirtualClock
	horizon time.Time
}

func (c *horizonClock) NewTimer(at time.Time) states.Timer {
	if at.After(c.horizon) {
		return neverTimer{}
	}
	return c.VirtualClock.NewTimer(at)
}

type neverTimer struct{}

func (neverTimer) C() <-chan struct{} { return nil }
func (neverTimer) Stop() bool         { return true }

func waitForEvent(t *testing.T, log states.EventLog, arn, typ string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		h, _ := log.History(arn, states.AllEvents)
		for _, e := range h {
			if e.Type == typ {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no %s event", typ)
}

func TestHistoryLimit(t *testing.T) {
	eng := newEngine(t, nil, nil)
	arn := start(t, eng, createMachine(t, eng, "Loop", `{"StartAt":"A","States":{
	  "A":{"Type":"Pass","Next":"B"},
	  "B":{"Type":"Parallel","Next":"A","Branches":[{"StartAt":"C","States":{"C":{"Type":"Pass","End":true}}}]}}}`), "x", `{}`)
	d := wait(t, eng, arn)
	if d.Status != states.StatusFailed || str(d.Error) != "States.Runtime" ||
		!strings.Contains(str(d.Cause), "maximum number of history events") {
		t.Fatalf("execution %s %s %s", d.Status, str(d.Error), str(d.Cause))
	}
	if n := len(eventTypes(t, eng, arn)); n != states.MaxHistoryEvents {
		t.Errorf("%d events, want %d", n, states.MaxHistoryEvents)
	}
}

func TestMapItemReaderAndBatcher(t *testing.T) {
	log := states.NewMemoryLog()
	reg := states.NewRegistry()
	reg.Register("arn:aws:states:::s3:getObject", func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		var req struct {
			Resource     string
			Parameters   struct{ Bucket, Key string }
			ReaderConfig map[string]any
		}
		if err := json.Unmarshal(in, &req); err != nil || req.Resource != "arn:aws:states:::s3:getObject" ||
			req.Parameters.Bucket != "b" || req.Parameters.Key != "items.json" ||
			req.ReaderConfig["InputType"] != "JSON" || req.ReaderConfig["MaxItems"] != 5.0 {
			return nil, fmt.Errorf("unexpected request %s", in)
		}
		// The reader acts outside the engine: the state's entry is
		// durable before it runs.
		h, _ := log.History("arn:aws:states:us-east-1:123456789012:execution:Batches:x", states.AllEvents)
		if len(h) == 0 || h[len(h)-1].Type != "MapStateEntered" {
			return nil, fmt.Errorf("the reader ran before MapStateEntered was in the log (%d events)", len(h))
		}
		return json.RawMessage(`[1,2,3,4,5,6,7]`), nil
	})
	eng := openEngine(t, states.Options{Log: log, Handlers: reg})
	sm := createMachine(t, eng, "Batches", `{"StartAt":"Each","States":{"Each":{
	  "Type":"Map",
	  "ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key.$":"$.key"},"ReaderConfig":{"InputType":"JSON","MaxItems":5}},
	  "ItemSelector":{"v.$":"$$.Map.Item.Value"},
	  "ItemBatcher":{"MaxItemsPerBatch":2,"BatchInput":{"run.$":"$.key"}},
	  "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
	  "End":true}}}`)
	d := wait(t, eng, start(t, eng, sm, "x", `{"key":"items.json"}`))
	want := `[{"BatchInput":{"run":"items.json"},"Items":[{"v":1},{"v":2}]},{"BatchInput":{"run":"items.json"},"Items":[{"v":3},{"v":4}]},{"BatchInput":{"run":"items.json"},"Items":[{"v":5}]}]`
	if d.Status != states.StatusSucceeded || str(d.Output) != want {
		t.Fatalf("execution %s %s\noutput %s\nwant   %s", d.Status, str(d.Cause), str(d.Output), want)
	}
	reg.Register("arn:aws:states:::s3:listObjectsV2", func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		var req struct{ Parameters struct{ Bucket string } }
		if err := json.Unmarshal(in, &req); err != nil {
			return nil, err
		}
		switch req.Parameters.Bucket {
		case "missing":
			return nil, errors.New("NoSuchBucket: The specified bucket does not exist")
		case "object":
			return json.RawMessage(`{"Key":"a"}`), nil
		}
		return json.RawMessage(`[]`), nil
	})
	readers := []struct {
		name, resource, bucket, error, cause string
	}{
		{"NoReader", "arn:aws:states:::s3:listObjects", "b", "States.Runtime", "no handler is registered for the ItemReader resource 'arn:aws:states:::s3:listObjects'"},
		{"ReaderFails", "arn:aws:states:::s3:listObjectsV2", "missing", "States.ItemReaderFailed", "NoSuchBucket: The specified bucket does not exist"},
		{"NotAnArray", "arn:aws:states:::s3:listObjectsV2", "object", "States.ItemReaderFailed", "the ItemReader resource 'arn:aws:states:::s3:listObjectsV2' did not return a JSON array of items"},
	}
	for _, tc := range readers {
		t.Run(tc.name, func(t *testing.T) {
			sm := createMachine(t, eng, tc.name, `{"StartAt":"Each","States":{"Each":{"Type":"Map",
			  "ItemReader":{"Resource":"`+tc.resource+`","Parameters":{"Bucket":"`+tc.bucket+`"}},
			  "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`)
			d := wait(t, eng, start(t, eng, sm, "x", `{}`))
			if d.Status != states.StatusFailed || str(d.Error) != tc.error || !strings.Contains(str(d.Cause), tc.cause) {
				t.Fatalf("execution %s %s %s, want %s %s", d.Status, str(d.Error), str(d.Cause), tc.error, tc.cause)
			}
		})
	}
}

func TestMapToleratedFailures(t *testing.T) {
	eng := newEngine(t, nil, nil)
	def := func(tolerance, mode string) string {
		return `{"StartAt":"Each","States":{"Each":{"Type":"Map",` + tolerance + `"MaxConcurrency":1,
		  "ItemProcessor":{"ProcessorConfig":{"Mode":"` + mode + `"},"StartAt":"Check","States":{
		    "Check":{"Type":"Choice","Choices":[{"Variable":"$","NumericGreaterThan":2,"Next":"Bad"}],"Default":"Good"},
		    "Bad":{"Type":"Fail","Error":"TooBig"},
		    "Good":{"Type":"Succeed"}}},
		  "End":true}}}`
	}
	tests := []struct {
		name, tolerance, mode, status, error, output string
	}{
		// An inline Map fails with its iteration's error; a Map Run
		// tolerates no failure unless told, and fails on the threshold.
		{"inline, no tolerance", ``, "INLINE", states.StatusFailed, "TooBig", ""},
		{"distributed, no tolerance", ``, "DISTRIBUTED", states.StatusFailed, "States.ExceedToleratedFailureThreshold", ""},
		{"within the count", `"ToleratedFailureCount":2,`, "DISTRIBUTED", states.StatusSucceeded, "", `[1,2,null,null]`},
		{"over the count", `"ToleratedFailureCount":1,`, "DISTRIBUTED", states.StatusFailed, "States.ExceedToleratedFailureThreshold", ""},
		{"within the percentage", `"ToleratedFailurePercentage":50,`, "DISTRIBUTED", states.StatusSucceeded, "", `[1,2,null,null]`},
		{"over the percentage", `"ToleratedFailurePercentage":25,`, "DISTRIBUTED", states.StatusFailed, "States.ExceedToleratedFailureThreshold", ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sm := createMachine(t, eng, fmt.Sprintf("Tolerate%d", i), def(tc.tolerance, tc.mode))
			d := wait(t, eng, start(t, eng, sm, "x", `[1,2,3,4]`))
			if d.Status != tc.status || str(d.Error) != orNone(tc.error) || (tc.output != "" && str(d.Output) != tc.output) {
				t.Fatalf("execution %s %s %s output %s", d.Status, str(d.Error), str(d.Cause), str(d.Output))
			}
		})
	}
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// TestNoChoiceMatched runs a Choice state without a Default whose rules
// all fail: the execution fails with States.NoChoiceMatched, its cause
// naming the state.
func TestNoChoiceMatched(t *testing.T) {
	eng := newEngine(t, nil, nil)
	sm := createMachine(t, eng, "Choose", `{"StartAt": "Pick", "States": {
	  "Pick": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "One"}]},
	  "One": {"Type": "Succeed"}}}`)
	d := wait(t, eng, start(t, eng, sm, "x", `{"n": 2}`))
	if d.Status != states.StatusFailed || str(d.Error) != "States.NoChoiceMatched" || !strings.Contains(str(d.Cause), "'Pick'") {
		t.Fatalf("execution %s %s %s, want FAILED States.NoChoiceMatched naming Pick", d.Status, str(d.Error), str(d.Cause))
	}
}
