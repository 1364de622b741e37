package runtime

import (
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/store"
)

// TestExecutionEndedOnTheEmbeddedEngine stops state machine executions in
// the engine directly, as its history limit or a runtime error would end
// them, without StopPipelineExecution or a gate knowing: the engine's
// watcher settles each (ExecutionEnded), so that it ends Stopped with the
// engine's cause, its stage and action end, the stage is released or the
// execution leaves its waiters, and the execution behind it goes on.
func TestExecutionEndedOnTheEmbeddedEngine(t *testing.T) {
	tests := []struct {
		name    string
		mode    pipeline.ExecutionMode
		waiting bool // stop the execution waiting behind the holder, not the holder
	}{
		{"the holder of a QUEUED stage", pipeline.ExecutionModeQueued, false},
		{"the holder of a SUPERSEDED stage", pipeline.ExecutionModeSuperseded, false},
		{"an execution waiting at a QUEUED stage", pipeline.ExecutionModeQueued, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prov := newScripted("Hold")
			r := deploy(t, prov, testPipeline("ended", tc.mode,
				stageSpec{"Source", acts("Fetch")}, stageSpec{"Gate", acts("Hold")}, stageSpec{"Last", acts("Finish")}))
			holder := r.start(nil)
			waitFor(t, func() bool { return prov.begun(holder, "Hold") == 1 })
			behind := r.start(nil)
			waitFor(t, r.waits("Gate", behind))
			stopped, goesOn := holder, behind
			if tc.waiting {
				stopped, goesOn = behind, holder
			}
			name, cause := "States.Runtime", "The execution reached the maximum number of history events (25000)."
			if _, err := r.m.Engine.StopExecution(r.ctx, r.m.ExecutionArn(r.name, stopped), &name, &cause); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { return r.execStatus(stopped) == store.ExecutionStopped })
			e, _ := r.rt.Store.GetPipelineExecution(r.ctx, r.name, stopped)
			if e.Value.StopTrigger == nil || !strings.Contains(e.Value.StopTrigger.Reason, "ended ABORTED: States.Runtime: The execution reached") {
				t.Errorf("stop trigger %+v", e.Value.StopTrigger)
			}
			c := r.control("Gate")
			for _, w := range c.Waiters {
				if w.PipelineExecutionID == stopped {
					t.Errorf("the stopped execution still waits at Gate")
				}
			}
			if !tc.waiting {
				if se, _ := r.stage(stopped, "Gate"); se.Status != store.StageStopped {
					t.Errorf("stage Gate of the stopped execution is %s, want Stopped", se.Status)
				}
				if a, _ := r.action(stopped, "Gate", "Hold"); a.Status != store.ActionAbandoned {
					t.Errorf("action Hold of the stopped execution is %s, want Abandoned", a.Status)
				}
			} else if _, ok := r.stage(stopped, "Gate"); ok {
				t.Error("the stopped waiter entered Gate")
			}
			// Settling again changes nothing.
			before, _ := r.rt.Store.GetPipelineExecution(r.ctx, r.name, stopped)
			if err := r.rt.ExecutionEnded(r.ctx, r.name, stopped, store.ExecutionFailed, "again"); err != nil {
				t.Fatal(err)
			}
			if after, _ := r.rt.Store.GetPipelineExecution(r.ctx, r.name, stopped); after.Version != before.Version {
				t.Errorf("settling again wrote the execution: version %d, then %d", before.Version, after.Version)
			}
			// The other execution goes on through Gate and to the end.
			waitFor(t, func() bool { return prov.begun(goesOn, "Hold") == 1 })
			prov.release(goesOn, "Hold")
			if desc, status := r.wait(goesOn); desc.Status != states.StatusSucceeded || status != store.ExecutionSucceeded {
				t.Errorf("the execution behind: %s, %s", desc.Status, status)
			}
			if c := r.control("Gate"); c.Holder != "" || len(c.Waiters) != 0 {
				t.Errorf("stage Gate: holder %q, %d waiting", c.Holder, len(c.Waiters))
			}
		})
	}
}
