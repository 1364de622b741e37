package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/artifact"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/gate"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/store/sqlite"
)

// tokens records the callbacks the handlers send.
type tokens struct {
	mu   sync.Mutex
	sent []string // "token <output>" or "token !Error"
}

func (f *tokens) SendTaskSuccess(_ context.Context, token string, out json.RawMessage) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, token+" "+string(out))
	return nil
}

func (f *tokens) SendTaskFailure(_ context.Context, token, name, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, token+" !"+name)
	return nil
}

func (f *tokens) SendTaskHeartbeat(context.Context, string) error { return nil }

func (f *tokens) take() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := strings.Join(f.sent, "; ")
	f.sent = nil
	return s
}

// engine records the execution control calls.
type engine struct {
	mu    sync.Mutex
	calls []string
}

func (e *engine) record(s string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, s)
	return nil
}

func (e *engine) PutStateMachine(_ context.Context, p string, def []byte) error {
	if !json.Valid(def) {
		return errors.New("definition is not JSON")
	}
	return e.record("put " + p)
}
func (e *engine) StartExecution(_ context.Context, p, id string, _ json.RawMessage) error {
	return e.record("start " + p + " " + id)
}
func (e *engine) StopExecution(_ context.Context, p, id, name, _ string) error {
	return e.record("stop " + p + " " + id + " " + name)
}
func (e *engine) RedriveExecution(_ context.Context, p, id string) error {
	return e.record("redrive " + p + " " + id)
}

// provider is a scripted action provider: it records the jobs it is given
// and answers with the next result for its action.
type provider struct {
	mu      sync.Mutex
	jobs    []*action.Job
	results map[string][]*action.Result // by action name
	errs    map[string]error
}

func (p *provider) Run(_ context.Context, job *action.Job) (*action.Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.jobs = append(p.jobs, job)
	if err := p.errs[job.ActionName]; err != nil {
		delete(p.errs, job.ActionName)
		return nil, err
	}
	if rs := p.results[job.ActionName]; len(rs) > 0 {
		p.results[job.ActionName] = rs[1:]
		return rs[0], nil
	}
	return &action.Result{Status: action.StatusSucceeded}, nil
}

func (p *provider) ran(name string) []*action.Job {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*action.Job
	for _, j := range p.jobs {
		if j.ActionName == name {
			out = append(out, j)
		}
	}
	return out
}

type fixture struct {
	rt   *Runtime
	tk   *tokens
	eng  *engine
	prov *provider
	id   string
	ctx  context.Context
}

var t0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	b, err := sqlite.Open(ctx, filepath.Join(dir, "sluice.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	arts, err := artifact.NewFolder(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	prov := &provider{results: map[string][]*action.Result{}, errs: map[string]error{}}
	reg := testRegistry(prov)
	n := 0
	f := &fixture{tk: &tokens{}, eng: &engine{}, prov: prov, ctx: ctx}
	f.rt = &Runtime{
		Store: store.New(b), Artifacts: arts, Providers: reg, Tokens: f.tk, Engine: f.eng,
		Logs: FolderLogs(filepath.Join(dir, "logs")),
		Now:  func() time.Time { return t0 },
		NewID: func() string {
			n++
			return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
		},
	}
	raw, err := os.ReadFile("testdata/release.json")
	if err != nil {
		t.Fatal(err)
	}
	var d pipeline.Declaration
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if _, err := f.rt.PutPipeline(ctx, &d); err != nil {
		t.Fatal(err)
	}
	f.id, err = f.rt.StartPipelineExecution(ctx, StartInput{Pipeline: "release", Variables: map[string]string{"Environment": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// enter lets the execution into a stage through the gate.
func (f *fixture) enter(t *testing.T, stage string) {
	t.Helper()
	res, err := f.rt.HandleGate(f.ctx, gate.Event{Op: gate.OpEnter, Pipeline: "release", Stage: stage, Execution: f.id, Token: "enter-" + stage})
	if err != nil || res.Status != "Entered" {
		t.Fatalf("enter %s: %+v, %v", stage, res, err)
	}
	f.tk.take()
}

// throughSourceLintFailing runs stage Source, its Checkout giving the
// branch that Build's actions read, with Build's Lint set to fail once.
func (f *fixture) throughSourceLintFailing(t *testing.T) {
	t.Helper()
	f.prov.results["Lint"] = []*action.Result{action.Failed(action.CodeJobFailed, "lint failed")}
	f.prov.results["Checkout"] = []*action.Result{{Status: action.StatusSucceeded, OutputVariables: map[string]string{"BranchName": "main"}}}
	f.enter(t, "Source")
	f.run(t, "Source", "Checkout")
	f.exit(t, "Source", false)
}

func (f *fixture) exit(t *testing.T, stage string, halt bool) error {
	t.Helper()
	_, err := f.rt.HandleGate(f.ctx, gate.Event{Op: gate.OpExit, Pipeline: "release", Stage: stage, Execution: f.id, Halt: halt})
	return err
}

func (f *fixture) run(t *testing.T, stage, act string) (ActionResult, error) {
	t.Helper()
	return f.rt.HandleAction(f.ctx, ActionEvent{Op: OpRun, Pipeline: "release", Stage: stage, Action: act, Execution: f.id, Token: "tok-" + act})
}

func (f *fixture) record(t *testing.T, stage, act string, attempt int) store.ActionExecution {
	t.Helper()
	a, err := f.rt.Store.GetActionExecution(f.ctx, "release", f.id, stage, act, attempt)
	if err != nil {
		t.Fatalf("action %s/%s attempt %d: %v", stage, act, attempt, err)
	}
	return a.Value
}

// throughBuild runs Source and Build successfully.
func (f *fixture) throughBuild(t *testing.T) {
	t.Helper()
	f.prov.results["Checkout"] = []*action.Result{{
		Status: action.StatusSucceeded, OutputVariables: map[string]string{"BranchName": "main", "CommitId": "c0ffee"},
		Revision: &action.Revision{RevisionID: "c0ffee", RevisionSummary: "Fix the build"},
	}}
	f.prov.results["Compile"] = []*action.Result{{Status: action.StatusSucceeded, OutputVariables: map[string]string{"Version": "1.2.3"}}}
	f.enter(t, "Source")
	if _, err := f.run(t, "Source", "Checkout"); err != nil {
		t.Fatal(err)
	}
	if err := f.exit(t, "Source", false); err != nil {
		t.Fatal(err)
	}
	f.enter(t, "Build")
	for _, a := range []string{"Compile", "Lint"} {
		if _, err := f.run(t, "Build", a); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.exit(t, "Build", false); err != nil {
		t.Fatal(err)
	}
	f.tk.take()
}

func TestStartRecordsTheExecution(t *testing.T) {
	f := newFixture(t)
	e, err := f.rt.Store.GetPipelineExecution(f.ctx, "release", f.id)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ResolvedPipelineVariable{{Name: "Environment", ResolvedValue: "prod"}}
	if e.Value.Status != store.ExecutionInProgress || e.Value.ExecutionMode != "SUPERSEDED" || e.Value.PipelineVersion != 1 ||
		!reflect.DeepEqual(e.Value.Variables, want) || e.Value.Trigger.TriggerType != "StartPipelineExecution" {
		t.Errorf("execution %+v", e.Value)
	}
	if got := fmt.Sprint(f.eng.calls); got != "[put release start release "+f.id+"]" {
		t.Errorf("engine calls %s", got)
	}
	again, err := f.rt.StartPipelineExecution(f.ctx, StartInput{Pipeline: "release", ExecutionID: f.id})
	if err != nil || again != f.id {
		t.Errorf("starting the same id again: %s, %v", again, err)
	}
	_, err = f.rt.StartPipelineExecution(f.ctx, StartInput{Pipeline: "release", Variables: map[string]string{"Region": "x"}})
	if code(err) != "ValidationException" {
		t.Errorf("undeclared variable: %v", err)
	}
	_, err = f.rt.StartPipelineExecution(f.ctx, StartInput{Pipeline: "nope"})
	if code(err) != "PipelineNotFoundException" {
		t.Errorf("unknown pipeline: %v", err)
	}
}

func code(err error) string {
	var r *execution.Rejection
	if errors.As(err, &r) {
		return r.Code
	}
	return fmt.Sprint(err)
}

func TestActionsResolveVariablesAndArtifacts(t *testing.T) {
	f := newFixture(t)
	f.throughBuild(t)
	src := f.record(t, "Source", "Checkout", 1)
	if src.Status != store.ActionSucceeded || src.Revision == nil || src.Revision.RevisionID != "c0ffee" ||
		len(src.Output.OutputArtifacts) != 1 || src.Output.OutputArtifacts[0].S3Location.Key != "release/"+f.id+"/SourceOutput" {
		t.Errorf("source record %+v", src)
	}
	jobs := f.prov.ran("Compile")
	if len(jobs) != 1 {
		t.Fatalf("Compile ran %d times", len(jobs))
	}
	job := jobs[0]
	wantConfig := map[string]string{"ProjectName": "app-main", "Tag": f.id}
	if !reflect.DeepEqual(job.Configuration, wantConfig) {
		t.Errorf("resolved configuration %v, want %v", job.Configuration, wantConfig)
	}
	if len(job.InputArtifacts) != 1 || job.InputArtifacts[0].Revision != "c0ffee" || job.InputArtifacts[0].Key != "release/"+f.id+"/SourceOutput" {
		t.Errorf("input artifacts %+v", job.InputArtifacts)
	}
	if job.ID == "" || job.Artifacts == nil || job.Log == nil {
		t.Errorf("job without id, artifact store or log: %+v", job)
	}
	rec := f.record(t, "Build", "Compile", 1)
	if !reflect.DeepEqual(rec.Input.ResolvedConfiguration, wantConfig) || rec.Input.Configuration["ProjectName"] != "app-#{SourceVariables.BranchName}" {
		t.Errorf("recorded input %+v", rec.Input)
	}
	e, _ := f.rt.Store.GetPipelineExecution(f.ctx, "release", f.id)
	if len(e.Value.ArtifactRevisions) != 1 || e.Value.ArtifactRevisions[0].Name != "SourceOutput" || e.Value.ArtifactRevisions[0].RevisionID != "c0ffee" {
		t.Errorf("artifact revisions %+v", e.Value.ArtifactRevisions)
	}
}

func TestActionOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		result     *action.Result
		err        error
		wantStatus string
		wantSent   string
		wantErr    bool
	}{
		{"succeeds", &action.Result{Status: action.StatusSucceeded}, nil, store.ActionSucceeded,
			`tok-Checkout {"ok":true,"status":"Succeeded"}`, false},
		{"fails", action.Failed(action.CodeJobFailed, "exit status 2"), nil, store.ActionFailed,
			`tok-Checkout {"ok":false,"status":"Failed"}`, false},
		{"infrastructure error is retried", nil, errors.New("disk full"), store.ActionInProgress, "", true},
		{"outcome arrives later", &action.Result{Status: action.StatusInProgress, ExternalExecutionID: "build-7"}, nil, store.ActionInProgress, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.enter(t, "Source")
			if tt.result != nil {
				f.prov.results["Checkout"] = []*action.Result{tt.result}
			}
			if tt.err != nil {
				f.prov.errs["Checkout"] = tt.err
			}
			_, err := f.run(t, "Source", "Checkout")
			var tr *gate.Transient
			if tt.wantErr != errors.As(err, &tr) {
				t.Fatalf("error %v", err)
			}
			if got := f.tk.take(); got != tt.wantSent {
				t.Errorf("sent %q, want %q", got, tt.wantSent)
			}
			rec := f.record(t, "Source", "Checkout", 1)
			if rec.Status != tt.wantStatus {
				t.Errorf("status %s, want %s", rec.Status, tt.wantStatus)
			}
			// A redelivered event answers again, running the provider only if
			// the attempt has not ended.
			before := len(f.prov.ran("Checkout"))
			if _, err := f.run(t, "Source", "Checkout"); err != nil {
				t.Fatal(err)
			}
			after := len(f.prov.ran("Checkout"))
			ended := tt.wantStatus != store.ActionInProgress
			if ended && after != before {
				t.Errorf("provider ran again for an ended attempt")
			}
			if !ended && (after != before+1 || f.prov.ran("Checkout")[0].ID != f.prov.ran("Checkout")[after-1].ID) {
				t.Errorf("provider not run again with the same job id")
			}
		})
	}
}

func TestCompleteActionLater(t *testing.T) {
	f := newFixture(t)
	f.enter(t, "Source")
	f.prov.results["Checkout"] = []*action.Result{{Status: action.StatusInProgress, ExternalExecutionID: "build-7"}}
	if _, err := f.run(t, "Source", "Checkout"); err != nil {
		t.Fatal(err)
	}
	done := &action.Result{Status: action.StatusSucceeded, ExternalExecutionID: "build-7", Revision: &action.Revision{RevisionID: "r1"}}
	for range 2 {
		if err := f.rt.CompleteAction(f.ctx, "release", f.id, "Source", "Checkout", done); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.tk.take(); got != `tok-Checkout {"ok":true,"status":"Succeeded"}` {
		t.Errorf("sent %q", got)
	}
	if rec := f.record(t, "Source", "Checkout", 1); rec.Status != store.ActionSucceeded || rec.Output.ExecutionResult.ExternalExecutionID != "build-7" {
		t.Errorf("record %+v", rec)
	}
}

func TestUnresolvedVariableFailsTheAction(t *testing.T) {
	f := newFixture(t)
	f.prov.results["Checkout"] = []*action.Result{{Status: action.StatusSucceeded}} // no BranchName output
	f.enter(t, "Source")
	f.run(t, "Source", "Checkout")
	f.exit(t, "Source", false)
	f.enter(t, "Build")
	f.tk.take()
	if _, err := f.run(t, "Build", "Compile"); err != nil {
		t.Fatal(err)
	}
	if got := f.tk.take(); got != `tok-Compile {"ok":false,"status":"Failed"}` {
		t.Errorf("sent %q", got)
	}
	rec := f.record(t, "Build", "Compile", 1)
	if rec.Output.ExecutionResult.ErrorDetails == nil || rec.Output.ExecutionResult.ErrorDetails.Code != action.CodeConfigurationError ||
		!strings.Contains(rec.Output.ExecutionResult.ErrorDetails.Message, "#{SourceVariables.BranchName}") {
		t.Errorf("error details %+v", rec.Output.ExecutionResult.ErrorDetails)
	}
	if len(f.prov.ran("Compile")) != 0 {
		t.Errorf("the provider ran with an unresolved configuration")
	}
}

func TestApproval(t *testing.T) {
	tests := []struct {
		name       string
		decide     func(f *fixture, token string) error
		wantSent   string
		wantStatus string
		wantAppr   string
	}{
		{"approved", func(f *fixture, token string) error {
			return f.rt.PutApprovalResult(f.ctx, ApprovalInput{Pipeline: "release", Stage: "Approve", Action: "Release", Token: token, Status: "Approved", Summary: "ship it", User: "alice"})
		}, `tok-Release {"ok":true,"status":"Succeeded"}`, store.ActionSucceeded, store.ApprovalApproved},
		{"rejected", func(f *fixture, token string) error {
			return f.rt.PutApprovalResult(f.ctx, ApprovalInput{Pipeline: "release", Stage: "Approve", Action: "Release", Token: token, Status: "Rejected", Summary: "not today", User: "bob"})
		}, `tok-Release {"ok":false,"status":"Failed"}`, store.ActionFailed, store.ApprovalRejected},
		{"timed out", func(f *fixture, _ string) error {
			res, err := f.rt.HandleAction(f.ctx, ActionEvent{Op: OpFailed, Pipeline: "release", Stage: "Approve", Action: "Release", Execution: f.id, Error: "States.Timeout"})
			if err == nil && res.OK {
				err = errors.New("a timed-out approval is ok")
			}
			return err
		}, "", store.ActionFailed, store.ApprovalExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.throughBuild(t)
			f.enter(t, "Approve")
			res, err := f.run(t, "Approve", "Release")
			if err != nil || res.Status != store.ActionInProgress || f.tk.take() != "" {
				t.Fatalf("approval run: %+v, %v", res, err)
			}
			pending, err := f.rt.PendingApprovals(f.ctx, "release", f.id)
			if err != nil || len(pending) != 1 {
				t.Fatalf("pending approvals %+v, %v", pending, err)
			}
			ap := pending[0]
			if ap.CustomData != "Ship 1.2.3 to prod?" || !ap.Expires.Equal(t0.Add(30*time.Minute)) || ap.TaskToken != "tok-Release" {
				t.Errorf("approval %+v", ap)
			}
			if err := tt.decide(f, ap.Token); err != nil {
				t.Fatal(err)
			}
			if got := f.tk.take(); got != tt.wantSent {
				t.Errorf("sent %q, want %q", got, tt.wantSent)
			}
			rec := f.record(t, "Approve", "Release", 1)
			if rec.Status != tt.wantStatus || rec.Token != ap.Token {
				t.Errorf("record %s (token %s), want %s", rec.Status, rec.Token, tt.wantStatus)
			}
			got, _ := f.rt.Store.GetApproval(f.ctx, "release", ap.Token)
			if got.Value.Status != tt.wantAppr {
				t.Errorf("approval %s, want %s", got.Value.Status, tt.wantAppr)
			}
			err = f.rt.PutApprovalResult(f.ctx, ApprovalInput{Pipeline: "release", Stage: "Approve", Action: "Release", Token: ap.Token, Status: "Rejected", Summary: "again"})
			if tt.wantAppr != store.ApprovalRejected && code(err) != "ApprovalAlreadyCompletedException" {
				t.Errorf("deciding again: %v", err)
			}
		})
	}
}

// TestApprovalRedelivered: the approval's task runs again (a redelivered
// event, or a retry with a new task token) while the approval waits. The
// same approval goes on waiting, with the newest task token, which the
// decision answers.
func TestApprovalRedelivered(t *testing.T) {
	f := newFixture(t)
	f.throughBuild(t)
	f.enter(t, "Approve")
	for _, token := range []string{"tok-first", "tok-first", "tok-retried"} {
		res, err := f.rt.HandleAction(f.ctx, ActionEvent{Op: OpRun, Pipeline: "release", Stage: "Approve", Action: "Release", Execution: f.id, Token: token})
		if err != nil || res.Status != store.ActionInProgress {
			t.Fatalf("approval run with %s: %+v, %v", token, res, err)
		}
	}
	pending, err := f.rt.PendingApprovals(f.ctx, "release", f.id)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending approvals %+v, %v; want one", pending, err)
	}
	if ap := pending[0]; ap.TaskToken != "tok-retried" || f.record(t, "Approve", "Release", 1).Token != ap.Token {
		t.Errorf("approval %+v: want the newest task token and the record's approval token", ap)
	}
	if err := f.rt.PutApprovalResult(f.ctx, ApprovalInput{Pipeline: "release", Stage: "Approve", Action: "Release", Token: pending[0].Token, Status: "Approved"}); err != nil {
		t.Fatal(err)
	}
	if got := f.tk.take(); got != `tok-retried {"ok":true,"status":"Succeeded"}` {
		t.Errorf("sent %q", got)
	}
}

func TestApprovalWithAWrongToken(t *testing.T) {
	f := newFixture(t)
	err := f.rt.PutApprovalResult(f.ctx, ApprovalInput{Pipeline: "release", Stage: "Approve", Action: "Release", Token: "nope", Status: "Approved"})
	if code(err) != "InvalidApprovalTokenException" {
		t.Errorf("error %v", err)
	}
}

func TestStoppingStartsNoAction(t *testing.T) {
	f := newFixture(t)
	f.enter(t, "Source")
	if err := f.rt.StopPipelineExecution(f.ctx, "release", f.id, false, "wrong branch"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.run(t, "Source", "Checkout"); err != nil {
		t.Fatal(err)
	}
	if got := f.tk.take(); got != `tok-Checkout {"ok":false,"status":"Stopped"}` {
		t.Errorf("sent %q", got)
	}
	if len(f.prov.ran("Checkout")) != 0 {
		t.Error("an action started after the stop")
	}
	if err := f.exit(t, "Source", true); err == nil || reflect.TypeOf(err).Elem().Name() != "PipelineStopped" {
		t.Errorf("exit: %v", err)
	}
	e, _ := f.rt.Store.GetPipelineExecution(f.ctx, "release", f.id)
	if e.Value.Status != store.ExecutionStopped || e.Value.StopTrigger.Reason != "wrong branch" {
		t.Errorf("execution %+v", e.Value)
	}
	if err := f.rt.StopPipelineExecution(f.ctx, "release", f.id, false, ""); code(err) != "PipelineExecutionNotStoppableException" {
		t.Errorf("stopping a stopped execution: %v", err)
	}
}

func TestStopAWaitingExecution(t *testing.T) {
	f := newFixture(t)
	f.enter(t, "Source")
	second, err := f.rt.StartPipelineExecution(f.ctx, StartInput{Pipeline: "release"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.rt.HandleGate(f.ctx, gate.Event{Op: gate.OpEnter, Pipeline: "release", Stage: "Source", Execution: second, Token: "enter-second"})
	if err != nil || res.Status != "Waiting" {
		t.Fatalf("second entry: %+v, %v", res, err)
	}
	if err := f.rt.StopPipelineExecution(f.ctx, "release", second, false, ""); err != nil {
		t.Fatal(err)
	}
	if got := f.tk.take(); got != "enter-second !PipelineStopped" {
		t.Errorf("sent %q", got)
	}
	e, _ := f.rt.Store.GetPipelineExecution(f.ctx, "release", second)
	c, _ := f.rt.Store.GetStageControl(f.ctx, "release", "Source")
	if e.Value.Status != store.ExecutionStopped || len(c.Value.Waiters) != 0 || c.Value.Holder != f.id {
		t.Errorf("execution %s, stage %+v", e.Value.Status, c.Value)
	}
}

func TestAbandon(t *testing.T) {
	f := newFixture(t)
	f.throughBuild(t)
	f.enter(t, "Approve")
	f.run(t, "Approve", "Release")
	if err := f.rt.StopPipelineExecution(f.ctx, "release", f.id, true, "abandon ship"); err != nil {
		t.Fatal(err)
	}
	if last := f.eng.calls[len(f.eng.calls)-1]; last != "stop release "+f.id+" PipelineStopped" {
		t.Errorf("engine call %s", last)
	}
	e, _ := f.rt.Store.GetPipelineExecution(f.ctx, "release", f.id)
	se, _ := f.rt.Store.GetStageExecution(f.ctx, "release", f.id, "Approve")
	c, _ := f.rt.Store.GetStageControl(f.ctx, "release", "Approve")
	rec := f.record(t, "Approve", "Release", 1)
	if e.Value.Status != store.ExecutionStopped || se.Value.Status != store.StageStopped || c.Value.Holder != "" || rec.Status != store.ActionAbandoned {
		t.Errorf("execution %s, stage %s, holder %q, action %s", e.Value.Status, se.Value.Status, c.Value.Holder, rec.Status)
	}
	if pending, _ := f.rt.PendingApprovals(f.ctx, "release", f.id); len(pending) != 0 {
		t.Errorf("approvals still pending: %+v", pending)
	}
	// As on CodePipeline, the stage where the execution stopped can be
	// retried: the state machine execution is redriven.
	if err := f.rt.RetryStageExecution(f.ctx, "release", "Approve", f.id, execution.RetryFailedActions); err != nil {
		t.Fatalf("retrying an abandoned stage: %v", err)
	}
	if last := f.eng.calls[len(f.eng.calls)-1]; last != "redrive release "+f.id {
		t.Errorf("engine call %s", last)
	}
	if e, _ := f.rt.Store.GetPipelineExecution(f.ctx, "release", f.id); e.Value.Status != store.ExecutionInProgress || e.Value.Abandon {
		t.Errorf("retried execution %+v", e.Value)
	}
}

func TestRetryFailedActions(t *testing.T) {
	tests := []struct {
		mode         string
		compileRuns  int
		lintAttempts []int
	}{
		{execution.RetryFailedActions, 1, []int{1, 2}},
		{execution.RetryAllActions, 2, []int{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			f := newFixture(t)
			f.throughSourceLintFailing(t)
			f.enter(t, "Build")
			f.run(t, "Build", "Compile")
			f.run(t, "Build", "Lint")
			if err := f.exit(t, "Build", true); err == nil || reflect.TypeOf(err).Elem().Name() != "StageFailed" {
				t.Fatalf("exit: %v", err)
			}
			if err := f.rt.RetryStageExecution(f.ctx, "release", "Build", f.id, tt.mode); err != nil {
				t.Fatal(err)
			}
			if last := f.eng.calls[len(f.eng.calls)-1]; last != "redrive release "+f.id {
				t.Errorf("engine call %s", last)
			}
			if err := f.exit(t, "Build", true); err == nil || reflect.TypeOf(err).Elem().Name() != "RetryStage" {
				t.Fatalf("redriven exit: %v", err)
			}
			f.enter(t, "Build")
			f.run(t, "Build", "Compile")
			f.run(t, "Build", "Lint")
			if err := f.exit(t, "Build", false); err != nil {
				t.Fatal(err)
			}
			if got := len(f.prov.ran("Compile")); got != tt.compileRuns {
				t.Errorf("Compile ran %d times, want %d", got, tt.compileRuns)
			}
			for _, attempt := range tt.lintAttempts {
				f.record(t, "Build", "Lint", attempt)
			}
			e, _ := f.rt.Store.GetPipelineExecution(f.ctx, "release", f.id)
			if e.Value.Status != store.ExecutionInProgress {
				t.Errorf("execution %s after the retry", e.Value.Status)
			}
			if err := f.rt.RetryStageExecution(f.ctx, "release", "Build", f.id, tt.mode); code(err) != "StageNotRetryableException" {
				t.Errorf("retrying a succeeded stage: %v", err)
			}
		})
	}
}

func TestTransitions(t *testing.T) {
	f := newFixture(t)
	if err := f.rt.DisableStageTransition(f.ctx, "release", "Source", "freeze", "ops"); err != nil {
		t.Fatal(err)
	}
	res, err := f.rt.HandleGate(f.ctx, gate.Event{Op: gate.OpEnter, Pipeline: "release", Stage: "Source", Execution: f.id, Token: "enter-Source"})
	if err != nil || res.Status != "Waiting" {
		t.Fatalf("entry behind a disabled transition: %+v, %v", res, err)
	}
	if err := f.rt.EnableStageTransition(f.ctx, "release", "Source", "ops"); err != nil {
		t.Fatal(err)
	}
	if got := f.tk.take(); got != `enter-Source {"attempt":1}` {
		t.Errorf("sent %q", got)
	}
	for _, tt := range []struct{ pipeline, stage, want string }{
		{"release", "Nope", "StageNotFoundException"},
		{"nope", "Source", "PipelineNotFoundException"},
	} {
		if err := f.rt.DisableStageTransition(f.ctx, tt.pipeline, tt.stage, "x", "ops"); code(err) != tt.want {
			t.Errorf("disable %s/%s: %v, want %s", tt.pipeline, tt.stage, err, tt.want)
		}
		if err := f.rt.EnableStageTransition(f.ctx, tt.pipeline, tt.stage, "ops"); code(err) != tt.want {
			t.Errorf("enable %s/%s: %v, want %s", tt.pipeline, tt.stage, err, tt.want)
		}
	}
	if err := f.rt.DisableStageTransition(f.ctx, "release", "Build", "", "ops"); code(err) != "ValidationException" {
		t.Errorf("no reason: %v", err)
	}
}

// TestActionEventErrors checks which failures of the action handler the
// state machine retries (Transient) and which no retry mends (Invalid):
// these go to the action's catch at once instead of being retried for a
// minute.
func TestActionEventErrors(t *testing.T) {
	f := newFixture(t)
	f.enter(t, "Source")
	tests := []struct {
		name string
		ev   ActionEvent
		want string
	}{
		{"an action the stage does not have", ActionEvent{Op: OpRun, Pipeline: "release", Stage: "Source", Action: "Nope", Execution: f.id, Token: "tok"}, execution.ErrInvalid},
		{"an unknown op", ActionEvent{Op: "jump", Pipeline: "release", Stage: "Source", Action: "Checkout", Execution: f.id}, execution.ErrInvalid},
		{"no task token", ActionEvent{Op: OpRun, Pipeline: "release", Stage: "Source", Action: "Checkout", Execution: f.id}, execution.ErrInvalid},
		{"no execution", ActionEvent{Op: OpRun, Pipeline: "release", Stage: "Source", Action: "Checkout", Token: "tok"}, execution.ErrInvalid},
		{"an execution the store does not hold", ActionEvent{Op: OpRun, Pipeline: "release", Stage: "Source", Action: "Checkout", Execution: "missing", Token: "tok"}, execution.ErrTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.rt.HandleAction(f.ctx, tt.ev)
			var named interface{ StatesError() (string, string) }
			if !errors.As(err, &named) {
				t.Fatalf("error %v (%T) has no Step Functions name", err, err)
			}
			if name, _ := named.StatesError(); name != tt.want {
				t.Errorf("error %q is %s, want %s", err, name, tt.want)
			}
		})
	}
}

// TestStaleExit: an exit event that arrives late from an earlier attempt of
// a stage (Lambda delivers at least once) changes nothing once a retry has
// entered the stage again; the entry answers the attempt it enters, which
// the machine gives the exit.
func TestStaleExit(t *testing.T) {
	f := newFixture(t)
	f.throughSourceLintFailing(t)
	exit := func(attempt int, halt bool) error {
		_, err := f.rt.HandleGate(f.ctx, gate.Event{Op: gate.OpExit, Pipeline: "release", Stage: "Build", Execution: f.id,
			At: &gate.ExitState{Stage: "Build", Attempt: attempt, H: &gate.Exit{Halt: halt}}})
		return err
	}
	enter := func(want string) {
		t.Helper()
		f.tk.take() // the answers of the actions before
		if _, err := f.rt.HandleGate(f.ctx, gate.Event{Op: gate.OpEnter, Pipeline: "release", Stage: "Build", Execution: f.id, Token: "enter-Build"}); err != nil {
			t.Fatal(err)
		}
		if got := f.tk.take(); got != "enter-Build "+want {
			t.Fatalf("entry answered %q, want the attempt %s", got, want)
		}
	}
	enter(`{"attempt":1}`)
	f.run(t, "Build", "Compile")
	f.run(t, "Build", "Lint")
	if err := exit(1, true); err == nil || reflect.TypeOf(err).Elem().Name() != "StageFailed" {
		t.Fatalf("exit: %v", err)
	}
	if err := f.rt.RetryStageExecution(f.ctx, "release", "Build", f.id, execution.RetryFailedActions); err != nil {
		t.Fatal(err)
	}
	if err := exit(1, true); err == nil || reflect.TypeOf(err).Elem().Name() != "RetryStage" {
		t.Fatalf("redriven exit: %v", err)
	}
	enter(`{"attempt":2}`)
	for _, halt := range []bool{true, false} {
		if err := exit(1, halt); err == nil || reflect.TypeOf(err).Elem().Name() != "Invalid" {
			t.Errorf("late exit of attempt 1 (halt %t): %v, want Invalid", halt, err)
		}
		se, _ := f.rt.Store.GetStageExecution(f.ctx, "release", f.id, "Build")
		c, _ := f.rt.Store.GetStageControl(f.ctx, "release", "Build")
		if se.Value.Attempt != 2 || se.Value.Status != store.StageInProgress || c.Value.Holder != f.id {
			t.Errorf("after a late exit: stage attempt %d %s, holder %q", se.Value.Attempt, se.Value.Status, c.Value.Holder)
		}
	}
	f.run(t, "Build", "Lint")
	if err := exit(2, false); err != nil {
		t.Fatalf("exit of attempt 2: %v", err)
	}
	if se, _ := f.rt.Store.GetStageExecution(f.ctx, "release", f.id, "Build"); se.Value.Status != store.StageSucceeded {
		t.Errorf("stage Build %s after its attempt 2", se.Value.Status)
	}
}
