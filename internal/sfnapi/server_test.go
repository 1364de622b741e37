package sfnapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/sluice-ci/sluice/internal/golden"
	"github.com/sluice-ci/sluice/internal/sfnapi"
	"github.com/sluice-ci/sluice/internal/states"
)

const roleArn = "arn:aws:iam::123456789012:role/states"

// callbackMachine parks on a .waitForTaskToken task until SendTask*.
const callbackMachine = `{
  "Comment": "Waits for an approval sent back with the task token",
  "StartAt": "Approve",
  "States": {
    "Approve": {
      "Type": "Task",
      "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
      "Parameters": {
        "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/approvals",
        "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.order"}
      },
      "HeartbeatSeconds": 3600,
      "ResultPath": "$.approval",
      "Next": "Done"
    },
    "Done": {"Type": "Pass", "End": true}
  }
}`

// passMachine ends at once.
const passMachine = `{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": true}, "End": true}}}`

// fixture is an API server on an engine, driven by the SDK's client.
type fixture struct {
	eng    *states.Engine
	client *sfn.Client
	url    string
	tokens chan string
	rec    *recorder
}

// newFixture serves an engine whose sqs:sendMessage tasks hand their task
// tokens to the test, as a queue consumer would receive them.
func newFixture(t testing.TB, opts states.Options) *fixture {
	t.Helper()
	f := &fixture{tokens: make(chan string, 64)}
	reg := states.NewRegistry()
	reg.Register("arn:aws:states:::sqs:sendMessage", func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		info, _ := states.TaskFromContext(ctx)
		f.tokens <- info.Token
		return json.RawMessage(`{"MessageId":"m-1"}`), nil
	})
	opts.Handlers = reg
	eng, err := states.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.eng = eng
	f.rec = &recorder{h: sfnapi.New(eng), bodies: map[string][]byte{}}
	srv := httptest.NewServer(f.rec)
	t.Cleanup(func() {
		srv.Close()
		eng.Close()
	})
	f.url = srv.URL
	f.client = newClient(srv.URL)
	return f
}

// newClient returns the SDK's client of an endpoint, with made-up static
// credentials: the server accepts any signature.
func newClient(url string) *sfn.Client {
	return sfn.New(sfn.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDSLUICELOCAL", "not-a-secret", ""),
		RetryMaxAttempts: 1,
	})
}

// recorder keeps the last response body of each operation, to compare
// the wire form with golden files.
type recorder struct {
	h      http.Handler
	mu     sync.Mutex
	bodies map[string][]byte
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rw := httptest.NewRecorder()
	r.h.ServeHTTP(rw, req)
	for k, v := range rw.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rw.Code)
	w.Write(rw.Body.Bytes())
	r.mu.Lock()
	r.bodies[req.Header.Get("X-Amz-Target")] = rw.Body.Bytes()
	r.mu.Unlock()
}

func (r *recorder) last(op string) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies[sfnapi.TargetPrefix+op]
}

func (f *fixture) createMachine(t testing.TB, name, def string) string {
	t.Helper()
	out, err := f.client.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(roleArn),
	})
	if err != nil {
		t.Fatalf("create state machine %s: %v", name, err)
	}
	return *out.StateMachineArn
}

func (f *fixture) start(t testing.TB, machine, name, input string) string {
	t.Helper()
	out, err := f.client.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(machine), Name: aws.String(name), Input: aws.String(input),
	})
	if err != nil {
		t.Fatalf("start execution %s: %v", name, err)
	}
	return *out.ExecutionArn
}

// token returns the next task token dispatched to the queue handler.
func (f *fixture) token(t testing.TB) string {
	t.Helper()
	select {
	case tok := <-f.tokens:
		return tok
	case <-time.After(20 * time.Second):
		t.Fatal("no task token was dispatched")
		return ""
	}
}

// wait blocks until an execution is closed and describes it through the
// API.
func (f *fixture) wait(t testing.TB, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := f.eng.WaitExecution(ctx, arn); err != nil {
		t.Fatalf("wait for %s: %v", arn, err)
	}
	d, err := f.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("describe execution: %v", err)
	}
	return d
}

// is returns a check that an error is (or wraps) the SDK's typed
// exception T.
func is[T error]() func(error) bool {
	return func(err error) bool {
		var target T
		return errors.As(err, &target)
	}
}

func TestStateMachines(t *testing.T) {
	f := newFixture(t, states.Options{})
	ctx := context.Background()
	c := f.client

	names := []string{"Alpha", "Bravo", "Charlie", "Delta", "Echo"}
	arns := map[string]string{}
	for _, name := range names {
		arns[name] = f.createMachine(t, name, passMachine)
	}
	if want := "arn:aws:states:us-east-1:123456789012:stateMachine:Alpha"; arns["Alpha"] != want {
		t.Fatalf("ARN %s, want %s", arns["Alpha"], want)
	}
	again := f.createMachine(t, "Alpha", passMachine)
	if again != arns["Alpha"] {
		t.Fatalf("creating Alpha again with the same definition gave %s", again)
	}
	otherRole, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("Alpha"), Definition: aws.String(passMachine), RoleArn: aws.String(roleArn + "-other")})
	if err != nil || *otherRole.StateMachineArn != arns["Alpha"] {
		t.Fatalf("creating Alpha again with another role: %v, %v", otherRole, err)
	}

	d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arns["Alpha"])})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Name != "Alpha" || *d.Definition != passMachine || *d.RoleArn != roleArn || d.Type != types.StateMachineTypeStandard ||
		d.Status != types.StateMachineStatusActive || d.CreationDate == nil || d.LoggingConfiguration.Level != types.LogLevelOff {
		t.Fatalf("describe state machine: %+v", d)
	}
	meta, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arns["Alpha"]), IncludedData: types.IncludedDataMetadataOnly})
	if err != nil || *meta.Definition != "{}" {
		t.Fatalf("describe with METADATA_ONLY: %v, %v", meta, err)
	}

	pages := []struct {
		name       string
		maxResults int32
		pages      int
	}{
		{"one page by default", 0, 1},
		{"pages of two", 2, 3},
		{"pages of one", 1, 5},
	}
	for _, p := range pages {
		t.Run("list "+p.name, func(t *testing.T) {
			var got []string
			n := 0
			pager := sfn.NewListStateMachinesPaginator(c, &sfn.ListStateMachinesInput{MaxResults: p.maxResults})
			for pager.HasMorePages() {
				page, err := pager.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				n++
				for _, m := range page.StateMachines {
					got = append(got, *m.Name)
					if m.CreationDate == nil || m.Type != types.StateMachineTypeStandard {
						t.Errorf("list item %+v", m)
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(names, ",") || n != p.pages {
				t.Fatalf("listed %v in %d pages, want %v in %d", got, n, names, p.pages)
			}
		})
	}

	bravo, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arns["Bravo"])})
	if err != nil {
		t.Fatal(err)
	}
	exec := f.start(t, arns["Bravo"], "before-update", "{}")
	f.wait(t, exec)
	updated := `{"StartAt": "Q", "States": {"Q": {"Type": "Pass", "End": true}}}`
	u, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arns["Bravo"]), Definition: aws.String(updated)})
	if err != nil || u.UpdateDate == nil {
		t.Fatalf("update state machine: %v, %v", u, err)
	}
	d, err = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arns["Bravo"])})
	if err != nil || *d.Definition != updated {
		t.Fatalf("describe after update: %v, %v", d, err)
	}
	forExec, err := c.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: aws.String(exec)})
	if err != nil {
		t.Fatal(err)
	}
	if *forExec.Definition != passMachine || *forExec.Name != "Bravo" || *forExec.RoleArn != roleArn ||
		forExec.UpdateDate == nil || !forExec.UpdateDate.Equal(*bravo.CreationDate) {
		t.Fatalf("the execution ran the definition before the update: %+v", forExec)
	}

	if _, err := c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arns["Charlie"])}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arns["Charlie"])}); !is[*types.StateMachineDoesNotExist]()(err) {
		t.Fatalf("describe a deleted state machine: %v", err)
	}
	list, err := c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil || len(list.StateMachines) != len(names)-1 {
		t.Fatalf("list after delete: %v, %v", list, err)
	}
}

// TestDeleteStateMachineWhileRunning deletes a state machine whose
// execution waits on a callback: it is DELETING until the execution ends.
func TestDeleteStateMachineWhileRunning(t *testing.T) {
	f := newFixture(t, states.Options{})
	ctx := context.Background()
	c := f.client
	sm := f.createMachine(t, "Approval", callbackMachine)
	exec := f.start(t, sm, "order-1", `{"order":1}`)
	tok := f.token(t)
	if _, err := c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(sm)}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(sm)})
	if err != nil || d.Status != types.StateMachineStatusDeleting {
		t.Fatalf("describe while deleting: %+v, %v", d, err)
	}
	if _, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm)}); !is[*types.StateMachineDeleting]()(err) {
		t.Fatalf("start while deleting: %v", err)
	}
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String("{}")}); err != nil {
		t.Fatal(err)
	}
	if out := f.wait(t, exec); out.Status != types.ExecutionStatusFailed || aws.ToString(out.Cause) != "State machine Approval has been deleted." {
		t.Fatalf("execution %s %q", out.Status, aws.ToString(out.Cause))
	}
	if _, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(sm)}); !is[*types.StateMachineDoesNotExist]()(err) {
		t.Fatalf("describe once the execution ended: %v", err)
	}
}

func TestValidateStateMachineDefinition(t *testing.T) {
	f := newFixture(t, states.Options{})
	tests := []struct {
		name       string
		definition string
		maxResults int32
		result     types.ValidateStateMachineDefinitionResultCode
		codes      []string
		truncated  bool
	}{
		{name: "valid", definition: callbackMachine, result: types.ValidateStateMachineDefinitionResultCodeOk},
		{name: "not JSON", definition: `{"StartAt":`, result: types.ValidateStateMachineDefinitionResultCodeFail,
			codes: []string{"INVALID_JSON_DESCRIPTION"}},
		{name: "missing target", definition: `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}`,
			result: types.ValidateStateMachineDefinitionResultCodeFail, codes: []string{"MISSING_TRANSITION_TARGET"}},
		{name: "truncated", definition: `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "C": {"Type": "Pass", "Next": "D"}}}`,
			maxResults: 1, result: types.ValidateStateMachineDefinitionResultCodeFail, truncated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.client.ValidateStateMachineDefinition(context.Background(), &sfn.ValidateStateMachineDefinitionInput{
				Definition: aws.String(tt.definition), MaxResults: tt.maxResults})
			if err != nil {
				t.Fatal(err)
			}
			if out.Result != tt.result || aws.ToBool(out.Truncated) != tt.truncated {
				t.Fatalf("result %s truncated %v, want %s %v: %+v", out.Result, aws.ToBool(out.Truncated), tt.result, tt.truncated, out.Diagnostics)
			}
			if tt.truncated && len(out.Diagnostics) != int(tt.maxResults) {
				t.Fatalf("%d diagnostics, want %d", len(out.Diagnostics), tt.maxResults)
			}
			for _, want := range tt.codes {
				found := false
				for _, d := range out.Diagnostics {
					found = found || (*d.Code == want && d.Severity == types.ValidateStateMachineDefinitionSeverityError && *d.Message != "")
				}
				if !found {
					t.Fatalf("no %s diagnostic in %+v", want, out.Diagnostics)
				}
			}
		})
	}
}

func TestStartExecutionNames(t *testing.T) {
	f := newFixture(t, states.Options{})
	ctx := context.Background()
	sm := f.createMachine(t, "Callback", callbackMachine)
	first, err := f.client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(sm), Name: aws.String("order-1"), Input: aws.String(`{"order":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	tok := f.token(t)
	steps := []struct {
		name  string
		input string
		close bool // complete the execution before the step
		want  func(error) bool
	}{
		{name: "same name and input while running returns the execution", input: `{"order":1}`},
		{name: "same name, other input", input: `{"order":2}`, want: is[*types.ExecutionAlreadyExists]()},
		{name: "same name and input once closed", input: `{"order":1}`, close: true, want: is[*types.ExecutionAlreadyExists]()},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.close {
				if _, err := f.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String("{}")}); err != nil {
					t.Fatal(err)
				}
				f.wait(t, *first.ExecutionArn)
			}
			out, err := f.client.StartExecution(ctx, &sfn.StartExecutionInput{
				StateMachineArn: aws.String(sm), Name: aws.String("order-1"), Input: aws.String(s.input)})
			if s.want != nil {
				if !s.want(err) {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *out.ExecutionArn != *first.ExecutionArn || !out.StartDate.Equal(*first.StartDate) {
				t.Fatalf("started %s at %v, want the original %s at %v", *out.ExecutionArn, out.StartDate, *first.ExecutionArn, first.StartDate)
			}
		})
	}
	generated, err := f.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm)})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`:execution:Callback:[0-9a-f-]{36}$`).MatchString(*generated.ExecutionArn) {
		t.Fatalf("execution without a name got ARN %s", *generated.ExecutionArn)
	}
}

// timestamps matches the epoch-second timestamps of the wire form.
var timestamps = regexp.MustCompile(`"timestamp":(\d+(\.\d+)?)`)

// normalise makes a GetExecutionHistory body comparable across runs: the
// timestamps become 0 and the task tokens <token N>.
func normalise(t *testing.T, body []byte, tokens []string) []byte {
	t.Helper()
	if len(timestamps.FindAll(body, -1)) == 0 {
		t.Fatalf("no epoch-second timestamps in %s", body)
	}
	body = timestamps.ReplaceAll(body, []byte(`"timestamp":0`))
	for i, tok := range tokens {
		body = bytes.ReplaceAll(body, []byte(tok), []byte("<token "+string(rune('1'+i))+">"))
	}
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		t.Fatalf("history is not JSON: %v", err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func TestExecutionLifecycle(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// drive acts on the running execution through the API; tokens
		// are the task tokens it handled.
		drive  func(t *testing.T, f *fixture, exec string) (tokens []string)
		status types.ExecutionStatus
		output string
		error  string
		cause  string
		redriv int32
	}{
		{
			name: "task success after a heartbeat",
			drive: func(t *testing.T, f *fixture, _ string) []string {
				tok := f.token(t)
				if _, err := f.client.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(tok)}); err != nil {
					t.Fatal(err)
				}
				if _, err := f.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{"approved":true,"by":"ada"}`)}); err != nil {
					t.Fatal(err)
				}
				return []string{tok}
			},
			status: types.ExecutionStatusSucceeded,
			output: `{"approval":{"approved":true,"by":"ada"},"order":7}`,
		},
		{
			name: "task failure",
			drive: func(t *testing.T, f *fixture, _ string) []string {
				tok := f.token(t)
				if _, err := f.client.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(tok), Error: aws.String("Rejected"), Cause: aws.String("over budget")}); err != nil {
					t.Fatal(err)
				}
				return []string{tok}
			},
			status: types.ExecutionStatusFailed, error: "Rejected", cause: "over budget",
		},
		{
			name: "stop",
			drive: func(t *testing.T, f *fixture, exec string) []string {
				tok := f.token(t)
				out, err := f.client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(exec), Error: aws.String("Cancelled"), Cause: aws.String("by the operator")})
				if err != nil || out.StopDate == nil {
					t.Fatalf("stop: %v, %v", out, err)
				}
				if _, err := f.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String("{}")}); !is[*types.TaskDoesNotExist]()(err) {
					t.Fatalf("success after stop: %v", err)
				}
				return []string{tok}
			},
			status: types.ExecutionStatusAborted, error: "Cancelled", cause: "by the operator",
		},
		{
			name: "redrive of a failed execution",
			drive: func(t *testing.T, f *fixture, exec string) []string {
				first := f.token(t)
				if _, err := f.client.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(first), Error: aws.String("Rejected")}); err != nil {
					t.Fatal(err)
				}
				if d := f.wait(t, exec); d.Status != types.ExecutionStatusFailed || d.RedriveStatus != types.ExecutionRedriveStatusRedrivable {
					t.Fatalf("before redrive: %s, %s", d.Status, d.RedriveStatus)
				}
				r, err := f.client.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(exec), ClientToken: aws.String("redrive-1")})
				if err != nil || r.RedriveDate == nil {
					t.Fatalf("redrive: %v, %v", r, err)
				}
				again, err := f.client.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(exec), ClientToken: aws.String("redrive-1")})
				if err != nil || !again.RedriveDate.Equal(*r.RedriveDate) {
					t.Fatalf("redrive retried with its client token: %v, %v", again, err)
				}
				if _, err := f.client.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(exec), ClientToken: aws.String("redrive-2")}); !is[*types.ExecutionNotRedrivable]()(err) {
					t.Fatalf("redrive of a running execution: %v", err)
				}
				second := f.token(t)
				if _, err := f.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(second), Output: aws.String(`"yes"`)}); err != nil {
					t.Fatal(err)
				}
				return []string{first, second}
			},
			status: types.ExecutionStatusSucceeded, output: `{"approval":"yes","order":7}`, redriv: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, states.Options{})
			sm := f.createMachine(t, "Approval", callbackMachine)
			exec := f.start(t, sm, "order-7", `{"order":7}`)
			running, err := f.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exec)})
			if err != nil || running.Status != types.ExecutionStatusRunning || *running.Input != `{"order":7}` || !running.InputDetails.Included {
				t.Fatalf("describe a running execution: %+v, %v", running, err)
			}
			tokens := tt.drive(t, f, exec)
			d := f.wait(t, exec)
			if d.Status != tt.status || aws.ToString(d.Output) != tt.output || aws.ToString(d.Error) != tt.error ||
				aws.ToString(d.Cause) != tt.cause || aws.ToInt32(d.RedriveCount) != tt.redriv || d.StopDate == nil {
				t.Fatalf("execution ended %s output %q error %q cause %q redrives %d, want %s %q %q %q %d", d.Status, aws.ToString(d.Output),
					aws.ToString(d.Error), aws.ToString(d.Cause), aws.ToInt32(d.RedriveCount), tt.status, tt.output, tt.error, tt.cause, tt.redriv)
			}
			if (tt.redriv > 0) != (d.RedriveDate != nil) {
				t.Fatalf("redrive date %v with %d redrives", d.RedriveDate, tt.redriv)
			}
			meta, err := f.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exec), IncludedData: types.IncludedDataMetadataOnly})
			if err != nil || meta.Status != d.Status || meta.Input != nil || meta.InputDetails != nil || meta.Output != nil || meta.OutputDetails != nil {
				t.Fatalf("describe with METADATA_ONLY: %+v, %v", meta, err)
			}

			full, err := f.client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec)})
			if err != nil {
				t.Fatal(err)
			}
			name := strings.ReplaceAll(tt.name, " ", "-")
			golden.Check(t, filepath.Join("testdata", "history", name+".json"), normalise(t, f.rec.last("GetExecutionHistory"), tokens))
			checkHistoryPages(t, f.client, exec, full.Events)
		})
	}
}

// checkHistoryPages reads a history again in pages of 3, forwards and in
// reverse, without execution data, and compares it with the full one.
func checkHistoryPages(t *testing.T, c *sfn.Client, exec string, full []types.HistoryEvent) {
	t.Helper()
	for _, reverse := range []bool{false, true} {
		var ids []int64
		pager := sfn.NewGetExecutionHistoryPaginator(c, &sfn.GetExecutionHistoryInput{
			ExecutionArn: aws.String(exec), MaxResults: 3, ReverseOrder: reverse, IncludeExecutionData: aws.Bool(false)})
		for pager.HasMorePages() {
			page, err := pager.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) > 3 {
				t.Fatalf("page of %d events", len(page.Events))
			}
			for _, e := range page.Events {
				ids = append(ids, e.Id)
				if d := e.ExecutionStartedEventDetails; d != nil && (d.Input != nil || d.InputDetails != nil) {
					t.Fatalf("event %d carries its input without includeExecutionData", e.Id)
				}
				if d := e.StateExitedEventDetails; d != nil && (d.Output != nil || *d.Name == "") {
					t.Fatalf("event %d: %+v", e.Id, d)
				}
			}
		}
		if len(ids) != len(full) {
			t.Fatalf("paged %d events, want %d", len(ids), len(full))
		}
		for i, e := range full {
			j := i
			if reverse {
				j = len(full) - 1 - i
			}
			if ids[j] != e.Id {
				t.Fatalf("reverse %v: event ids %v", reverse, ids)
			}
		}
	}
}

func TestListExecutions(t *testing.T) {
	f := newFixture(t, states.Options{})
	ctx := context.Background()
	sm := f.createMachine(t, "Approval", callbackMachine)
	names := []string{"e1", "e2", "e3", "e4"}
	tokens := map[string]string{}
	for _, n := range names {
		f.start(t, sm, n, `{"order":1}`)
		tokens[n] = f.token(t)
	}
	for _, n := range []string{"e2", "e3"} {
		if _, err := f.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tokens[n]), Output: aws.String("{}")}); err != nil {
			t.Fatal(err)
		}
		f.wait(t, strings.Replace(sm, ":stateMachine:", ":execution:", 1)+":"+n)
	}
	tests := []struct {
		name       string
		status     types.ExecutionStatus
		redrive    types.ExecutionRedriveFilter
		maxResults int32
		want       []string
		pages      int
	}{
		{name: "all, newest first", want: []string{"e4", "e3", "e2", "e1"}, pages: 1},
		{name: "all in pages of three", maxResults: 3, want: []string{"e4", "e3", "e2", "e1"}, pages: 2},
		{name: "running in pages of one", status: types.ExecutionStatusRunning, maxResults: 1, want: []string{"e4", "e1"}, pages: 2},
		{name: "succeeded", status: types.ExecutionStatusSucceeded, want: []string{"e3", "e2"}, pages: 1},
		{name: "not redriven", redrive: types.ExecutionRedriveFilterNotRedriven, want: []string{"e4", "e3", "e2", "e1"}, pages: 1},
		{name: "redriven", redrive: types.ExecutionRedriveFilterRedriven, want: nil, pages: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			n := 0
			pager := sfn.NewListExecutionsPaginator(f.client, &sfn.ListExecutionsInput{
				StateMachineArn: aws.String(sm), StatusFilter: tt.status, RedriveFilter: tt.redrive, MaxResults: tt.maxResults})
			for pager.HasMorePages() {
				page, err := pager.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				n++
				for _, e := range page.Executions {
					got = append(got, *e.Name)
					if e.StartDate == nil || *e.StateMachineArn != sm || (e.Status == types.ExecutionStatusSucceeded) != (e.StopDate != nil) {
						t.Errorf("list item %+v", e)
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") || n != tt.pages {
				t.Fatalf("listed %v in %d pages, want %v in %d", got, n, tt.want, tt.pages)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t, states.Options{})
	ctx := context.Background()
	c := f.client
	sm := f.createMachine(t, "Approval", callbackMachine)
	running := f.start(t, sm, "running", `{"order":1}`)
	f.token(t)
	quick := f.createMachine(t, "Quick", passMachine)
	done := f.start(t, quick, "done", `{}`)
	f.wait(t, done)
	missingExec := strings.Replace(running, ":running", ":missing", 1)
	unknownToken := strings.Repeat("A", 43)

	tests := []struct {
		name string
		call func() error
		want func(error) bool
	}{
		{"invalid definition", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("Bad"), Definition: aws.String(`{"StartAt":"X","States":{}}`), RoleArn: aws.String(roleArn)})
			return err
		}, is[*types.InvalidDefinition]()},
		{"invalid state machine name", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("has space"), Definition: aws.String(passMachine), RoleArn: aws.String(roleArn)})
			return err
		}, is[*types.InvalidName]()},
		{"state machine already exists", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("Quick"), Definition: aws.String(callbackMachine), RoleArn: aws.String(roleArn)})
			return err
		}, is[*types.StateMachineAlreadyExists]()},
		{"unknown state machine type", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("T"), Definition: aws.String(passMachine), RoleArn: aws.String(roleArn), Type: "BATCH"})
			return err
		}, is[*types.ValidationException]()},
		{"publish a version", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("V"), Definition: aws.String(passMachine), RoleArn: aws.String(roleArn), Publish: true})
			return err
		}, is[*types.ValidationException]()},
		{"update with nothing to update", func() error {
			_, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(quick)})
			return err
		}, is[*types.MissingRequiredParameter]()},
		{"update with an invalid definition", func() error {
			_, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(quick), Definition: aws.String("{}")})
			return err
		}, is[*types.InvalidDefinition]()},
		{"update a missing state machine", func() error {
			_, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(sm + "Gone"), RoleArn: aws.String(roleArn)})
			return err
		}, is[*types.StateMachineDoesNotExist]()},
		{"describe a missing state machine", func() error {
			_, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(sm + "Gone")})
			return err
		}, is[*types.StateMachineDoesNotExist]()},
		{"describe a state machine by a malformed ARN", func() error {
			_, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String("Approval")})
			return err
		}, is[*types.InvalidArn]()},
		{"delete by an ARN of another service", func() error {
			_, err := c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:f")})
			return err
		}, is[*types.InvalidArn]()},
		{"describe an execution by a state machine ARN", func() error {
			_, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(sm)})
			return err
		}, is[*types.InvalidArn]()},
		{"describe a missing execution", func() error {
			_, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(missingExec)})
			return err
		}, is[*types.ExecutionDoesNotExist]()},
		{"history of a missing execution", func() error {
			_, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(missingExec)})
			return err
		}, is[*types.ExecutionDoesNotExist]()},
		{"history with a token of another execution", func() error {
			p, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(done), MaxResults: 1})
			if err != nil {
				return err
			}
			_, err = c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(running), NextToken: p.NextToken})
			return err
		}, is[*types.InvalidToken]()},
		{"history with a made-up token", func() error {
			_, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(running), NextToken: aws.String("not-a-token")})
			return err
		}, is[*types.InvalidToken]()},
		{"page size over the limit", func() error {
			_, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), MaxResults: 1001})
			return err
		}, is[*types.ValidationException]()},
		{"unknown status filter", func() error {
			_, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), StatusFilter: "LOST"})
			return err
		}, is[*types.ValidationException]()},
		{"list executions of a missing state machine", func() error {
			_, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm + "Gone")})
			return err
		}, is[*types.StateMachineDoesNotExist]()},
		{"start on a missing state machine", func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm + "Gone")})
			return err
		}, is[*types.StateMachineDoesNotExist]()},
		{"start with input that is not JSON", func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String("{")})
			return err
		}, is[*types.InvalidExecutionInput]()},
		{"start with an invalid name", func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("a/b")})
			return err
		}, is[*types.InvalidName]()},
		{"start with a name in use", func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(quick), Name: aws.String("done")})
			return err
		}, is[*types.ExecutionAlreadyExists]()},
		{"stop a missing execution", func() error {
			_, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(missingExec)})
			return err
		}, is[*types.ExecutionDoesNotExist]()},
		{"stop with an error over 256 characters", func() error {
			_, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(running), Error: aws.String(strings.Repeat("e", 257))})
			return err
		}, is[*types.ValidationException]()},
		{"redrive a succeeded execution", func() error {
			_, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(done)})
			return err
		}, is[*types.ExecutionNotRedrivable]()},
		{"redrive a missing execution", func() error {
			_, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(missingExec)})
			return err
		}, is[*types.ExecutionDoesNotExist]()},
		{"describe the state machine of a missing execution", func() error {
			_, err := c.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: aws.String(missingExec)})
			return err
		}, is[*types.ExecutionDoesNotExist]()},
		{"success with a malformed token", func() error {
			_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("short"), Output: aws.String("{}")})
			return err
		}, is[*types.InvalidToken]()},
		{"success with an unknown token", func() error {
			_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(unknownToken), Output: aws.String("{}")})
			return err
		}, is[*types.TaskDoesNotExist]()},
		{"success with output that is not JSON", func() error {
			_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(unknownToken), Output: aws.String("{")})
			return err
		}, is[*types.InvalidOutput]()},
		{"failure with an unknown token", func() error {
			_, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(unknownToken)})
			return err
		}, is[*types.TaskDoesNotExist]()},
		{"heartbeat with an unknown token", func() error {
			_, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(unknownToken)})
			return err
		}, is[*types.TaskDoesNotExist]()},
		{"validate a definition with an unknown type", func() error {
			_, err := c.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(passMachine), Type: "BATCH"})
			return err
		}, is[*types.ValidationException]()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !tt.want(err) {
				t.Fatalf("error %v (%T)", err, err)
			}
			var api smithy.APIError
			if errors.As(err, &api) && api.ErrorMessage() == "" {
				t.Fatalf("%s without a message", api.ErrorCode())
			}
		})
	}
}

// TestTaskTimedOut lets the heartbeat of a callback task lapse on the
// virtual clock; the late token is then TaskTimedOut.
func TestTaskTimedOut(t *testing.T) {
	f := newFixture(t, states.Options{Clock: states.NewVirtualClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))})
	ctx := context.Background()
	sm := f.createMachine(t, "Approval", strings.Replace(callbackMachine, `"HeartbeatSeconds": 3600`, `"HeartbeatSeconds": 5`, 1))
	exec := f.start(t, sm, "late", `{"order":1}`)
	tok := f.token(t)
	d := f.wait(t, exec)
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.Timeout" {
		t.Fatalf("execution %s with error %q", d.Status, aws.ToString(d.Error))
	}
	_, err := f.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String("{}")})
	if !is[*types.TaskTimedOut]()(err) {
		t.Fatalf("success after the heartbeat lapsed: %v", err)
	}
}

// TestProtocol sends requests by hand: what the SDK never sends still gets
// the service's answer.
func TestProtocol(t *testing.T) {
	f := newFixture(t, states.Options{})
	tests := []struct {
		name   string
		method string
		target string
		body   string
		status int
		typ    string // __type of an error, "" on success
	}{
		{name: "unsigned request is accepted", method: "POST", target: "AWSStepFunctions.ListStateMachines", body: `{}`, status: 200},
		{name: "empty body", method: "POST", target: "AWSStepFunctions.ListStateMachines", status: 200},
		{name: "unknown operation", method: "POST", target: "AWSStepFunctions.CreateActivity", body: `{}`, status: 400, typ: "UnknownOperationException"},
		{name: "another service", method: "POST", target: "CodePipeline_20150709.ListPipelines", body: `{}`, status: 400, typ: "UnknownOperationException"},
		{name: "no target", method: "POST", body: `{}`, status: 400, typ: "UnknownOperationException"},
		{name: "GET", method: "GET", target: "AWSStepFunctions.ListStateMachines", status: 405, typ: "UnknownOperationException"},
		{name: "malformed JSON", method: "POST", target: "AWSStepFunctions.ListStateMachines", body: `{"maxResults":`, status: 400, typ: "SerializationException"},
		{name: "wrong member type", method: "POST", target: "AWSStepFunctions.ListStateMachines", body: `{"maxResults":"ten"}`, status: 400, typ: "SerializationException"},
		{name: "missing required member", method: "POST", target: "AWSStepFunctions.CreateStateMachine", body: `{"name":"X","definition":"{}"}`, status: 400, typ: "ValidationException"},
		{name: "empty required member", method: "POST", target: "AWSStepFunctions.DescribeExecution", body: `{"executionArn":""}`, status: 400, typ: "ValidationException"},
		{name: "negative page size", method: "POST", target: "AWSStepFunctions.ListStateMachines", body: `{"maxResults":-1}`, status: 400, typ: "ValidationException"},
		{name: "map runs", method: "POST", target: "AWSStepFunctions.ListExecutions", body: `{"mapRunArn":"arn:aws:states:us-east-1:123456789012:mapRun:m/l:1"}`, status: 400, typ: "ValidationException"},
		{name: "body over the limit", method: "POST", target: "AWSStepFunctions.StartExecution", body: `{"input":"` + strings.Repeat("x", sfnapi.MaxRequestBytes) + `"}`, status: 413, typ: "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, f.url+"/", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", sfnapi.ContentType)
			if tt.target != "" {
				req.Header.Set("X-Amz-Target", tt.target)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("response is not JSON: %v", err)
			}
			if resp.StatusCode != tt.status || body.Type != tt.typ || (tt.typ != "") != (body.Message != "") {
				t.Fatalf("status %d, __type %q, message %q; want %d %q", resp.StatusCode, body.Type, body.Message, tt.status, tt.typ)
			}
			if ct := resp.Header.Get("Content-Type"); ct != sfnapi.ContentType {
				t.Fatalf("Content-Type %q", ct)
			}
			if resp.Header.Get("x-amzn-RequestId") == "" {
				t.Fatal("no x-amzn-RequestId")
			}
		})
	}
}

// TestMockedTestCase starts executions on '<state machine ARN>#<test
// case>', as Step Functions Local does, so that a mock config answers
// their Task states.
func TestMockedTestCase(t *testing.T) {
	mocks, err := states.ParseMockConfig([]byte(`{
	  "StateMachines": {"Greeter": {"TestCases": {"Flaky": {"Call": "FlakyThenOk"}, "Broken": {"Call": "Fails"}}}},
	  "MockedResponses": {
	    "FlakyThenOk": {"0": {"Throw": {"Error": "Flaky", "Cause": "try again"}}, "1": {"Return": {"Payload": {"big": 12345678901234567890}}}},
	    "Fails": {"0-2": {"Throw": {"Error": "Flaky", "Cause": "still broken"}}}
	  }
	}`))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, states.Options{Mocks: mocks, Clock: states.NewVirtualClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))})
	sm := f.createMachine(t, "Greeter", `{"StartAt": "Call", "States": {"Call": {
	  "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
	  "Parameters": {"FunctionName": "greeter", "Payload.$": "$"},
	  "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 30, "MaxAttempts": 2}],
	  "ResultSelector": {"body.$": "$.Payload"}, "End": true}}}`)
	tests := []struct {
		testCase string
		status   types.ExecutionStatus
		output   string
		error    string
	}{
		{"Flaky", types.ExecutionStatusSucceeded, `{"body":{"big":12345678901234567890}}`, ""},
		{"Broken", types.ExecutionStatusFailed, "", "Flaky"},
	}
	for _, tt := range tests {
		t.Run(tt.testCase, func(t *testing.T) {
			exec := f.start(t, sm+"#"+tt.testCase, strings.ToLower(tt.testCase), `{}`)
			if want := strings.Replace(sm, ":stateMachine:", ":execution:", 1) + ":" + strings.ToLower(tt.testCase); exec != want {
				t.Fatalf("execution ARN %s, want %s", exec, want)
			}
			d := f.wait(t, exec)
			if d.Status != tt.status || aws.ToString(d.Output) != tt.output || aws.ToString(d.Error) != tt.error {
				t.Fatalf("execution %s output %q error %q", d.Status, aws.ToString(d.Output), aws.ToString(d.Error))
			}
		})
	}
}
