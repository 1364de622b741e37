package runtime

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/artifact"
	"github.com/sluice-ci/sluice/internal/history"
	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/store/sqlite"
)

// TestResumeAfterRestart stops the whole local runtime while an execution
// waits for its approval, opens it again on the same data folder, and
// approves: the resumed execution finishes.
func TestResumeAfterRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	prov := &provider{results: map[string][]*action.Result{
		"Checkout": {{Status: action.StatusSucceeded, OutputVariables: map[string]string{"BranchName": "main"}}},
		"Compile":  {{Status: action.StatusSucceeded, OutputVariables: map[string]string{"Version": "2.0"}}},
	}, errs: map[string]error{}}
	open := func() (*Runtime, *states.Engine, func()) {
		b, err := sqlite.Open(ctx, filepath.Join(dir, "sluice.db"))
		if err != nil {
			t.Fatal(err)
		}
		arts, err := artifact.NewFolder(filepath.Join(dir, "artifacts"))
		if err != nil {
			t.Fatal(err)
		}
		log, err := history.Open(dir, history.Options{})
		if err != nil {
			t.Fatal(err)
		}
		reg := testRegistry(prov)
		rt := &Runtime{Store: store.New(b), Artifacts: arts, Providers: reg}
		eng, err := rt.OpenEngine(states.Options{Log: log})
		if err != nil {
			t.Fatal(err)
		}
		return rt, eng, func() { eng.Close(); b.Close() }
	}

	rt, _, closeAll := open()
	if _, err := rt.PutPipeline(ctx, loadRelease(t)); err != nil {
		t.Fatal(err)
	}
	id, err := rt.StartPipelineExecution(ctx, StartInput{Pipeline: "release"})
	if err != nil {
		t.Fatal(err)
	}
	ap := waitApproval(t, rt, id)
	closeAll()

	rt, eng, closeAll := open()
	defer closeAll()
	if err := rt.PutApprovalResult(ctx, ApprovalInput{Pipeline: "release", Stage: "Approve", Action: "Release", Token: ap.Token, Status: store.ApprovalApproved}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	desc, err := eng.WaitExecution(wctx, Embedded{Engine: eng}.ExecutionArn("release", id))
	if err != nil || desc.Status != states.StatusSucceeded {
		t.Fatalf("resumed execution: %+v, %v", desc, err)
	}
	if e, _ := rt.Store.GetPipelineExecution(ctx, "release", id); e.Value.Status != store.ExecutionSucceeded {
		t.Errorf("pipeline execution %s", e.Value.Status)
	}
}
