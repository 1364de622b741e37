package runtime

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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
	reg := action.NewRegistry()
	for _, ty := range []action.Type{
		{Category: "Source", Owner: "AWS", Provider: "CodeCommit"},
		{Category: "Build", Owner: "AWS", Provider: "CodeBuild"},
		{Category: "Test", Owner: "AWS", Provider: "CodeBuild"},
		{Category: "Deploy", Owner: "AWS", Provider: "S3"},
	} {
		reg.Register(ty, prov)
	}
	handlers := states.NewRegistry()
	eng, err := states.New(states.Options{Handlers: handlers})
	if err != nil {
		t.Fatal(err)
	}
	m := Embedded{Engine: eng}
	rt := &Runtime{Store: store.New(b), Artifacts: arts, Providers: reg, Tokens: m, Engine: m}
	rt.Register(handlers)
	t.Cleanup(func() {
		eng.Close()
		b.Close()
	})
	return rt, m
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
