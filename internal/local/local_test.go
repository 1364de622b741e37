package local

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/runtime"
	"github.com/sluice-ci/sluice/internal/store"
)

// testBuildspec is the site-test project's buildspec, kept in the data
// folder as a CodeBuild project's own buildspec.
const testBuildspec = `version: 0.2
phases:
  build:
    commands:
      - grep -q "<h1>" index.html
      - echo the page has a heading
`

// site is the test pipeline over a fresh data folder whose git repository
// holds testdata/app.
type site struct {
	dir  string
	decl *pipeline.Declaration
}

func newSite(t *testing.T) *site {
	t.Helper()
	f, err := pipeline.Load("testdata/site.yaml", pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := f.Pipelines[0]
	if problems := p.Problems(); pipeline.HasErrors(problems) {
		t.Fatalf("testdata/site.yaml is invalid: %v", problems)
	}
	s := &site{dir: t.TempDir(), decl: p.Declaration}
	repo, branch, err := SourceRepository(s.dir, &s.decl.Stages[0].Actions[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := CommitDir(repo, branch, "testdata/app", "The site", "tester"); err != nil {
		t.Fatal(err)
	}
	s.buildspec(t, "site-test", testBuildspec)
	return s
}

// buildspec installs a CodeBuild project's buildspec in the data folder.
func (s *site) buildspec(t *testing.T, project, spec string) {
	t.Helper()
	dir := filepath.Join(s.dir, "codebuild", project)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "buildspec.yml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (s *site) open(t *testing.T) *Local {
	t.Helper()
	l, err := Open(context.Background(), s.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// lockedBuffer is a progress display the test reads while the run writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// approver answers every approval with a fixed decision.
type approver struct{ d *Decision }

func (a approver) Approve(context.Context, PendingApproval) (*Decision, error) { return a.d, nil }

// decideElsewhere decides the first approval that waits, from a second
// handle on the data folder that opens only its state store, as `sluice
// approve` does from another process.
func decideElsewhere(t *testing.T, dir, pipelineName, status string) {
	t.Helper()
	ctx := context.Background()
	a, err := OpenApprovals(ctx, dir)
	if err != nil {
		t.Error(err)
		return
	}
	defer a.Close()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		pending, err := a.Pending(ctx, pipelineName)
		if err != nil {
			t.Error(err)
			return
		}
		if len(pending) == 0 {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p := pending[0]
		applied, err := a.Decide(ctx, runtime.ApprovalInput{Pipeline: pipelineName, Stage: p.Stage, Action: p.Action,
			Token: p.Token, Status: status, Summary: "decided elsewhere", User: "carol"}, 10*time.Second)
		if err != nil || !applied {
			t.Errorf("decide from another handle: applied %v, %v", applied, err)
		}
		return
	}
	t.Error("no approval waited")
}

// TestRunToDeployment runs the site pipeline from its git repository to
// its bucket, with the approval given each way a local run takes it.
func TestRunToDeployment(t *testing.T) {
	tests := []struct {
		name      string
		approver  Approver
		elsewhere string // a decision from another handle on the data folder
		want      string
		summary   string
		by        string
	}{
		{"auto-approve", AutoApprove{User: "ci"}, "", store.ExecutionSucceeded, "Approved automatically (--auto-approve).", "ci"},
		{"approved on the terminal", &Prompt{In: strings.NewReader("yes\nlooks right\n"), Out: &bytes.Buffer{}, User: "dave"}, "", store.ExecutionSucceeded, "looks right", "dave"},
		{"rejected", approver{&Decision{Approved: false, Summary: "not today", User: "erin"}}, "", store.ExecutionFailed, "not today", "erin"},
		{"approved from another process", nil, store.ApprovalApproved, store.ExecutionSucceeded, "decided elsewhere", "carol"},
		{"rejected from another process", Elsewhere{Out: &bytes.Buffer{}}, store.ApprovalRejected, store.ExecutionFailed, "decided elsewhere", "carol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t)
			l := s.open(t)
			var wg sync.WaitGroup
			if tt.elsewhere != "" {
				wg.Go(func() { decideElsewhere(t, s.dir, "site", tt.elsewhere) })
			}
			var progress lockedBuffer
			out, err := l.Run(context.Background(), RunInput{Pipeline: s.decl, Progress: &progress, Approver: tt.approver,
				Variables: map[string]string{"Audience": "testers"}, Poll: 10 * time.Millisecond})
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != tt.want || out.Interrupted {
				t.Fatalf("execution %s (interrupted %v), want %s\n%s", out.Status, out.Interrupted, tt.want, progress.String())
			}
			ctx := context.Background()
			rec, err := l.Runtime.Store.LatestActionExecution(ctx, "site", out.PipelineExecutionID, "Approval", "Approve")
			if err != nil {
				t.Fatal(err)
			}
			if rec.Value.Output.ExecutionResult.ExternalExecutionSummary != tt.summary || rec.Value.UpdatedBy != tt.by {
				t.Errorf("approval recorded %q by %q, want %q by %q", rec.Value.Output.ExecutionResult.ExternalExecutionSummary, rec.Value.UpdatedBy, tt.summary, tt.by)
			}
			if !strings.HasPrefix(rec.Value.Input.ResolvedConfiguration["CustomData"], "Publish ") || !strings.HasSuffix(rec.Value.Input.ResolvedConfiguration["CustomData"], " to testers?") {
				t.Errorf("custom data %q", rec.Value.Input.ResolvedConfiguration["CustomData"])
			}
			actions, err := l.Runtime.Store.ListActionExecutions(ctx, "site", out.PipelineExecutionID)
			if err != nil {
				t.Fatal(err)
			}
			deployed := l.Deployments(actions)
			if tt.want != store.ExecutionSucceeded {
				if len(deployed) != 0 {
					t.Errorf("deployed after a rejection: %+v", deployed)
				}
				return
			}
			if len(deployed) != 1 || deployed[0].Bucket != "site-www" {
				t.Fatalf("deployments %+v", deployed)
			}
			page, err := os.ReadFile(filepath.Join(deployed[0].Path, "index.html"))
			if err != nil {
				t.Fatal(err)
			}
			src, _ := l.Runtime.Store.LatestActionExecution(ctx, "site", out.PipelineExecutionID, "Source", "Checkout")
			if want := "<h1>Hello from " + src.Value.Revision.RevisionID + "</h1>\n"; string(page) != want {
				t.Errorf("deployed index.html %q, want %q", page, want)
			}
			if _, err := os.Stat(filepath.Join(deployed[0].Path, "docs", "guide.txt")); err != nil {
				t.Error(err)
			}
			for _, want := range []string{"site: execution " + out.PipelineExecutionID + " started", "  Render", "  Check", "Succeeded in",
				"Approval", "site: execution " + out.PipelineExecutionID + " Succeeded"} {
				if !strings.Contains(progress.String(), want) {
					t.Errorf("progress does not show %q:\n%s", want, progress.String())
				}
			}
		})
	}
}

// TestFailingBuildCommand: a failing buildspec command fails its action
// alone, with the end of its log in the action's error details; its
// sibling ends normally, the stage fails, nothing is deployed.
func TestFailingBuildCommand(t *testing.T) {
	s := newSite(t)
	s.buildspec(t, "site-build", `version: 0.2
phases:
  build:
    commands:
      - echo compiling the site
      - 'echo "site.css:3: missing semicolon" >&2; exit 3'
`)
	l := s.open(t)
	var progress lockedBuffer
	out, err := l.Run(context.Background(), RunInput{Pipeline: s.decl, Progress: &progress, Approver: AutoApprove{}, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != store.ExecutionFailed {
		t.Fatalf("execution %s", out.Status)
	}
	ctx := context.Background()
	get := func(stage, act string) (store.ActionExecution, bool) {
		a, err := l.Runtime.Store.LatestActionExecution(ctx, "site", out.PipelineExecutionID, stage, act)
		return a.Value, err == nil
	}
	render, _ := get("Build", "Render")
	e := render.Output.ExecutionResult.ErrorDetails
	if render.Status != store.ActionFailed || e == nil || !strings.Contains(e.Message, "site.css:3: missing semicolon") ||
		!strings.Contains(e.Message, "compiling the site") || !strings.Contains(e.Message, "exit status 3") {
		t.Errorf("Render: %s, error details %+v", render.Status, e)
	}
	if check, _ := get("Build", "Check"); check.Status != store.ActionSucceeded {
		t.Errorf("the sibling Check is %s, want Succeeded", check.Status)
	}
	if _, ok := get("Approval", "Approve"); ok {
		t.Error("the approval started after the failed stage")
	}
	se, _ := l.Runtime.Store.GetStageExecution(ctx, "site", out.PipelineExecutionID, "Build")
	if se.Value.Status != store.StageFailed {
		t.Errorf("stage Build is %s", se.Value.Status)
	}
	log := runtime.LogPath(filepath.Join(s.dir, "logs"), "site", out.PipelineExecutionID, "Build", "Render")
	for _, want := range []string{"Render    Failed in", "site.css:3: missing semicolon", "log: " + log, "(Stage Build failed)"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress does not show %q:\n%s", want, progress.String())
		}
	}
}

// TestInterruptAbandons: a run interrupted while its approval waits stops
// its execution by abandoning it, which releases the stage.
func TestInterruptAbandons(t *testing.T) {
	s := newSite(t)
	l := s.open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if p, _ := l.Runtime.PendingApprovals(ctx, "site", ""); len(p) > 0 {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	out, err := l.Run(ctx, RunInput{Pipeline: s.decl, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Interrupted || out.Status != store.ExecutionStopped {
		t.Fatalf("outcome %+v", out)
	}
	bg := context.Background()
	a, _ := l.Runtime.Store.LatestActionExecution(bg, "site", out.PipelineExecutionID, "Approval", "Approve")
	c, _ := l.Runtime.Store.GetStageControl(bg, "site", "Approval")
	if a.Value.Status != store.ActionAbandoned || c.Value.Holder != "" {
		t.Errorf("approval %s, stage held by %q", a.Value.Status, c.Value.Holder)
	}
	if p, _ := l.Runtime.PendingApprovals(bg, "site", ""); len(p) != 0 {
		t.Errorf("approvals still pending: %+v", p)
	}
}

// TestResumedExecutionGoesOn: an execution left waiting for its approval
// by a process that ended is resumed by the next run on the data folder,
// which asks its approval too, so that the new execution queued behind it
// passes.
func TestResumedExecutionGoesOn(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	l, err := Open(ctx, s.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Deploy(ctx, s.decl); err != nil {
		t.Fatal(err)
	}
	left, err := l.Runtime.StartPipelineExecution(ctx, runtime.StartInput{Pipeline: "site"})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if p, _ := l.Runtime.PendingApprovals(ctx, "site", left); len(p) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first execution never reached its approval")
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = s.open(t)
	var progress lockedBuffer
	out, err := l.Run(ctx, RunInput{Pipeline: s.decl, Progress: &progress, Approver: AutoApprove{}, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != store.ExecutionSucceeded {
		t.Fatalf("new execution %s:\n%s", out.Status, progress.String())
	}
	e, _ := l.Runtime.Store.GetPipelineExecution(ctx, "site", left)
	if e.Value.Status != store.ExecutionSucceeded {
		t.Errorf("the resumed execution is %s", e.Value.Status)
	}
	if !strings.Contains(progress.String(), "execution "+left+", left open by an earlier run, goes on") {
		t.Errorf("progress does not tell of the resumed execution:\n%s", progress.String())
	}
}

func TestDataFolderLock(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dir, Options{}); !errors.Is(err, ErrBusy) {
		t.Errorf("a second Open: %v, want ErrBusy", err)
	}
	// Deciding approvals needs no lock.
	a, err := OpenApprovals(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	l.Close()
	if _, err := OpenApprovals(ctx, t.TempDir()); err == nil {
		t.Error("OpenApprovals on a folder where nothing ran")
	}
}

func TestDeployKeepsTheVersionOfAnUnchangedPipeline(t *testing.T) {
	s := newSite(t)
	l := s.open(t)
	ctx := context.Background()
	versions := []int{}
	for _, change := range []func(*pipeline.Declaration){
		func(*pipeline.Declaration) {},
		func(*pipeline.Declaration) {},
		func(d *pipeline.Declaration) { d.Variables[0].DefaultValue = "nobody" },
	} {
		change(s.decl)
		v, err := l.Deploy(ctx, s.decl)
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if versions[0] != 1 || versions[1] != 1 || versions[2] != 2 {
		t.Errorf("versions %v, want [1 1 2]", versions)
	}
}

func TestVerboseStreamsLogs(t *testing.T) {
	s := newSite(t)
	l := s.open(t)
	var progress lockedBuffer
	out, err := l.Run(context.Background(), RunInput{Pipeline: s.decl, Progress: &progress, Verbose: true, Approver: AutoApprove{}, Poll: 10 * time.Millisecond})
	if err != nil || out.Status != store.ExecutionSucceeded {
		t.Fatalf("%+v, %v", out, err)
	}
	for _, want := range []string{"  | Build/Render: rendered the site", "  | Build/Check: the page has a heading"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress does not stream %q:\n%s", want, progress.String())
		}
	}
}

// TestStateMachineEndedOutsideTheGates: when the state machine execution
// ends without passing a gate (here stopped in the engine directly, as the
// history limit or a runtime error would end it), the run says why and
// settles the execution, releasing its stage.
func TestStateMachineEndedOutsideTheGates(t *testing.T) {
	s := newSite(t)
	l := s.open(t)
	ctx := context.Background()
	go func() {
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			p, _ := l.Runtime.PendingApprovals(ctx, "site", "")
			if len(p) == 0 {
				continue
			}
			name, cause := "States.Runtime", "The execution reached the maximum number of history events (25000)."
			arn := runtime.Embedded{Engine: l.Engine}.ExecutionArn("site", p[0].PipelineExecutionID)
			l.Engine.StopExecution(ctx, arn, &name, &cause)
			return
		}
	}()
	var progress lockedBuffer
	out, err := l.Run(ctx, RunInput{Pipeline: s.decl, Progress: &progress, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != store.ExecutionStopped || out.Interrupted {
		t.Fatalf("outcome %+v", out)
	}
	e, _ := l.Runtime.Store.GetPipelineExecution(ctx, "site", out.PipelineExecutionID)
	c, _ := l.Runtime.Store.GetStageControl(ctx, "site", "Approval")
	if c.Value.Holder != "" || e.Value.StopTrigger == nil || !strings.Contains(e.Value.StopTrigger.Reason, "ABORTED: States.Runtime") {
		t.Errorf("stage held by %q, stop trigger %+v", c.Value.Holder, e.Value.StopTrigger)
	}
	if !strings.Contains(progress.String(), "site: The state machine execution ended ABORTED: States.Runtime: The execution reached the maximum number of history events (25000).") {
		t.Errorf("progress does not say why:\n%s", progress.String())
	}
}
