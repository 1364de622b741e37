package runtime

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/artifact"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/store/sqlite"
)

// localRuntime wires a runtime to the embedded engine, as a local run does.
func localRuntime(t testing.TB, prov action.Provider) (*Runtime, Embedded) {
	return localRuntimeWithClock(t, prov, nil)
}

// localRuntimeWithClock is localRuntime on a virtual clock (nil: the real
// one), shared by the engine and the runtime.
func localRuntimeWithClock(t testing.TB, prov action.Provider, clock *states.VirtualClock) (*Runtime, Embedded) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	b, err := sqlite.Open(ctx, filepath.Join(dir, "sluice.db"))
	if err != nil {
		t.Fatal(err)
	}
	arts, err := artifact.NewFolder(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	reg := testRegistry(prov)
	rt := &Runtime{Store: store.New(b), Artifacts: arts, Providers: reg}
	opts := states.Options{}
	if clock != nil {
		opts.Clock = clock
		rt.Now = clock.Now
	}
	eng, err := rt.OpenEngine(opts)
	if err != nil {
		t.Fatal(err)
	}
	m := Embedded{Engine: eng}
	t.Cleanup(func() {
		eng.Close()
		b.Close()
	})
	return rt, m
}

// testRegistry serves every action type of the release pipeline (but the
// approval) with prov.
func testRegistry(prov action.Provider) *action.Registry {
	reg := action.NewRegistry()
	for _, ty := range []action.Type{
		{Category: "Source", Owner: "AWS", Provider: "CodeCommit"},
		{Category: "Build", Owner: "AWS", Provider: "CodeBuild"},
		{Category: "Test", Owner: "AWS", Provider: "CodeBuild"},
		{Category: "Deploy", Owner: "AWS", Provider: "S3"},
	} {
		reg.Register(ty, prov)
	}
	return reg
}

// startRelease deploys the release pipeline on a local runtime and starts
// an execution of it.
func startRelease(t *testing.T, prov action.Provider) (*Runtime, Embedded, string) {
	t.Helper()
	rt, m := localRuntime(t, prov)
	ctx := context.Background()
	if _, err := rt.PutPipeline(ctx, loadRelease(t)); err != nil {
		t.Fatal(err)
	}
	id, err := rt.StartPipelineExecution(ctx, StartInput{Pipeline: "release"})
	if err != nil {
		t.Fatal(err)
	}
	return rt, m, id
}

func loadRelease(t testing.TB) *pipeline.Declaration {
	t.Helper()
	raw, err := os.ReadFile("testdata/release.json")
	if err != nil {
		t.Fatal(err)
	}
	var d pipeline.Declaration
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

// waitApproval waits for the execution to reach its approval.
func waitApproval(t *testing.T, rt *Runtime, id string) store.Approval {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		pending, err := rt.PendingApprovals(context.Background(), "release", id)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) > 0 {
			return pending[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the execution never reached its approval")
	return store.Approval{}
}

// TestRunOnTheEmbeddedEngine runs the compiled machine of a pipeline on the
// embedded engine, end to end: source, a build with a parallel test,
// approval, deploy.
func TestRunOnTheEmbeddedEngine(t *testing.T) {
	tests := []struct {
		name       string
		decision   string
		wantSFN    string
		wantStatus string
	}{
		{"approved", store.ApprovalApproved, states.StatusSucceeded, store.ExecutionSucceeded},
		{"rejected", store.ApprovalRejected, states.StatusFailed, store.ExecutionFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			prov := &provider{results: map[string][]*action.Result{
				"Checkout": {{Status: action.StatusSucceeded, OutputVariables: map[string]string{"BranchName": "main"}, Revision: &action.Revision{RevisionID: "c0ffee"}}},
				"Compile":  {{Status: action.StatusSucceeded, OutputVariables: map[string]string{"Version": "2.0"}}},
			}, errs: map[string]error{}}
			rt, m, id := startRelease(t, prov)
			ap := waitApproval(t, rt, id)
			if ap.CustomData != "Ship 2.0 to staging?" {
				t.Errorf("approval custom data %q", ap.CustomData)
			}
			err := rt.PutApprovalResult(ctx, ApprovalInput{Pipeline: "release", Stage: "Approve", Action: "Release", Token: ap.Token, Status: tt.decision, Summary: "checked", User: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			desc, err := m.Engine.WaitExecution(wctx, m.ExecutionArn("release", id))
			if err != nil {
				t.Fatal(err)
			}
			if desc.Status != tt.wantSFN {
				t.Errorf("state machine execution %s (%v: %v), want %s", desc.Status, deref(desc.Error), deref(desc.Cause), tt.wantSFN)
			}
			e, _ := rt.Store.GetPipelineExecution(ctx, "release", id)
			if e.Value.Status != tt.wantStatus {
				t.Errorf("pipeline execution %s, want %s", e.Value.Status, tt.wantStatus)
			}
			history, err := m.Engine.GetExecutionHistory(ctx, m.ExecutionArn("release", id))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d history events, %d states entered for %d actions", len(history), entered(history), 5)
			for _, ev := range history {
				if strings.HasSuffix(ev.Type, "Failed") && ev.Type != "ExecutionFailed" && ev.Type != "LambdaFunctionFailed" {
					raw, _ := ev.MarshalJSON()
					t.Errorf("unexpected failure on the way: %s", raw)
				}
			}
			for _, stage := range []string{"Source", "Build", "Approve"} {
				c, _ := rt.Store.GetStageControl(ctx, "release", stage)
				if c.Value.Holder != "" {
					t.Errorf("stage %s still held by %s", stage, c.Value.Holder)
				}
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestRetryOnTheEmbeddedEngine fails a stage, retries it with
// RetryStageExecution (a redrive of the same execution) and finishes.
func TestRetryOnTheEmbeddedEngine(t *testing.T) {
	ctx := context.Background()
	prov := &provider{results: map[string][]*action.Result{
		"Checkout": {{Status: action.StatusSucceeded, OutputVariables: map[string]string{"BranchName": "main"}}},
		"Compile":  {{Status: action.StatusSucceeded, OutputVariables: map[string]string{"Version": "2.0"}}},
		"Lint":     {action.Failed(action.CodeJobFailed, "lint failed")},
	}, errs: map[string]error{}}
	rt, m, id := startRelease(t, prov)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	desc, err := m.Engine.WaitExecution(wctx, m.ExecutionArn("release", id))
	if err != nil || desc.Status != states.StatusFailed || deref(desc.Error) != "StageFailed" {
		t.Fatalf("first run: %+v, %v", desc, err)
	}
	if err := rt.RetryStageExecution(ctx, "release", "Build", id, "FAILED_ACTIONS"); err != nil {
		t.Fatal(err)
	}
	ap := waitApproval(t, rt, id)
	if err := rt.PutApprovalResult(ctx, ApprovalInput{Pipeline: "release", Stage: "Approve", Action: "Release", Token: ap.Token, Status: store.ApprovalApproved}); err != nil {
		t.Fatal(err)
	}
	desc, err = m.Engine.WaitExecution(wctx, m.ExecutionArn("release", id))
	if err != nil || desc.Status != states.StatusSucceeded {
		t.Fatalf("after the retry: %+v, %v", desc, err)
	}
	if n := len(prov.ran("Compile")); n != 1 {
		t.Errorf("Compile ran %d times; FAILED_ACTIONS runs only the failed ones", n)
	}
	if n := len(prov.ran("Lint")); n != 2 {
		t.Errorf("Lint ran %d times, want 2", n)
	}
	e, _ := rt.Store.GetPipelineExecution(ctx, "release", id)
	if e.Value.Status != store.ExecutionSucceeded {
		t.Errorf("pipeline execution %s", e.Value.Status)
	}
}

// TestApprovalTimesOutOnTheEmbeddedEngine lets an approval's task time out
// (30 minutes, on a virtual clock): the action fails, the approval expires,
// the stage and the execution fail.
func TestApprovalTimesOutOnTheEmbeddedEngine(t *testing.T) {
	ctx := context.Background()
	clock := states.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	prov := &provider{results: map[string][]*action.Result{
		"Checkout": {{Status: action.StatusSucceeded, OutputVariables: map[string]string{"BranchName": "main"}}},
		"Compile":  {{Status: action.StatusSucceeded, OutputVariables: map[string]string{"Version": "2.0"}}},
	}, errs: map[string]error{}}
	rt, m := localRuntimeWithClock(t, prov, clock)
	if _, err := rt.PutPipeline(ctx, loadRelease(t)); err != nil {
		t.Fatal(err)
	}
	id, err := rt.StartPipelineExecution(ctx, StartInput{Pipeline: "release"})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	desc, err := m.Engine.WaitExecution(wctx, m.ExecutionArn("release", id))
	if err != nil || desc.Status != states.StatusFailed || deref(desc.Error) != "StageFailed" {
		t.Fatalf("execution: %+v, %v", desc, err)
	}
	rec, err := rt.Store.GetActionExecution(ctx, "release", id, "Approve", "Release", 1)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Value.Status != store.ActionFailed || !strings.Contains(rec.Value.Output.ExecutionResult.ErrorDetails.Message, "expired") {
		t.Errorf("approval action %+v", rec.Value)
	}
	ap, _ := rt.Store.GetApproval(ctx, "release", rec.Value.Token)
	if ap.Value.Status != store.ApprovalExpired || clock.Now().Sub(rec.Value.StartTime) < 30*time.Minute {
		t.Errorf("approval %s, %v after it started", ap.Value.Status, clock.Now().Sub(rec.Value.StartTime))
	}
	err = rt.PutApprovalResult(ctx, ApprovalInput{Pipeline: "release", Stage: "Approve", Action: "Release", Token: rec.Value.Token, Status: store.ApprovalApproved})
	if code(err) != "ApprovalAlreadyCompletedException" {
		t.Errorf("approving an expired approval: %v", err)
	}
}

// TestSupersededOnTheEmbeddedEngine: an execution waiting for a locked stage
// is replaced by a newer one and its state machine execution ends in the
// Superseded state; the newer one goes on when the stage frees.
func TestSupersededOnTheEmbeddedEngine(t *testing.T) {
	ctx := context.Background()
	outputs := func() []*action.Result {
		return []*action.Result{{Status: action.StatusSucceeded, OutputVariables: map[string]string{"BranchName": "main", "Version": "2.0"}}}
	}
	prov := &provider{results: map[string][]*action.Result{}, errs: map[string]error{}}
	for range 3 {
		prov.results["Checkout"] = append(prov.results["Checkout"], outputs()...)
		prov.results["Compile"] = append(prov.results["Compile"], outputs()...)
	}
	rt, m, first := startRelease(t, prov)
	waitApproval(t, rt, first)
	waiting := func(id string) func() bool {
		return func() bool {
			c, _ := rt.Store.GetStageControl(ctx, "release", "Approve")
			for _, w := range c.Value.Waiters {
				if w.PipelineExecutionID == id {
					return true
				}
			}
			return false
		}
	}
	second, _ := rt.StartPipelineExecution(ctx, StartInput{Pipeline: "release"})
	waitFor(t, waiting(second))
	third, _ := rt.StartPipelineExecution(ctx, StartInput{Pipeline: "release"})
	waitFor(t, waiting(third))
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	desc, err := m.Engine.WaitExecution(wctx, m.ExecutionArn("release", second))
	if err != nil || desc.Status != states.StatusFailed || deref(desc.Error) != "Superseded" {
		t.Fatalf("second: %+v, %v", desc, err)
	}
	if e, _ := rt.Store.GetPipelineExecution(ctx, "release", second); e.Value.Status != store.ExecutionSuperseded {
		t.Errorf("second is %s", e.Value.Status)
	}
	ap := waitApproval(t, rt, first)
	if err := rt.PutApprovalResult(ctx, ApprovalInput{Pipeline: "release", Stage: "Approve", Action: "Release", Token: ap.Token, Status: store.ApprovalApproved}); err != nil {
		t.Fatal(err)
	}
	if desc, err := m.Engine.WaitExecution(wctx, m.ExecutionArn("release", first)); err != nil || desc.Status != states.StatusSucceeded {
		t.Fatalf("first: %+v, %v", desc, err)
	}
	if ap := waitApproval(t, rt, third); ap.PipelineExecutionID != third {
		t.Errorf("the approval waiting is %s's, want the third's", ap.PipelineExecutionID)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 10s")
}
