package runtime

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/compile"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/store"
)

// The tests of this file run runOrder groups of every kind of state the
// compiler uses for them (one action: a Task; two to five: a Parallel
// state; more: a Map state) on the embedded engine.

// groupKinds are stages whose groups take every kind of state, each one
// reached both from its stage's entry gate and from the routing Choice.
var groupKinds = [][]int{
	{1, 1},
	{2, 3},
	{4, 5, 1},
	{6, 2, 7},
	{3, 1, 2, 5, 6},
}

// TestCostMatchesTheEngine checks the compiler's count of history events and
// state transitions against the history the engine records, as AWS would
// record it (see awsLength).
func TestCostMatchesTheEngine(t *testing.T) {
	for _, sizes := range groupKinds {
		t.Run(fmt.Sprint(sizes), func(t *testing.T) {
			rt, m := localRuntime(t, succeed)
			d := noopGroups(3, sizes...)
			if _, err := rt.PutPipeline(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			machine, err := compile.Compile(d, rt.Compile)
			if err != nil {
				t.Fatal(err)
			}
			want, err := machine.Cost()
			if err != nil {
				t.Fatal(err)
			}
			h := runNoop(t, rt, m, d)
			if got := (compile.Cost{Events: awsLength(h), Transitions: entered(h)}); got != want {
				t.Errorf("the engine recorded %+v, the compiler counts %+v", got, want)
			}
		})
	}
}

// TestFailedActionInEveryKindOfGroup fails one action of a group of each
// kind while a sibling still runs: the sibling finishes, the stage fails
// after the group, the next group and the next stage never start, and the
// stage is released.
func TestFailedActionInEveryKindOfGroup(t *testing.T) {
	for _, size := range []int{1, 2, 5, 6} {
		t.Run(fmt.Sprintf("group of %d", size), func(t *testing.T) {
			// Build: First, then a group of size with Bad and, in a group
			// of more than one, Slow, then Later.
			group := []actionSpec{{"Bad", 2}}
			held := []string{}
			if size > 1 {
				group = append(group, actionSpec{"Slow", 2})
				held = append(held, "Slow")
			}
			for i := len(group); i < size; i++ {
				group = append(group, actionSpec{fmt.Sprintf("Other%d", i), 2})
			}
			build := append(append([]actionSpec{{"First", 1}}, group...), actionSpec{"Later", 3})
			prov := newScripted(held...)
			prov.results["Bad"] = []*action.Result{action.Failed(action.CodeJobFailed, "bad build")}
			r := deploy(t, prov, testPipeline("kinds", pipeline.ExecutionModeSuperseded,
				stageSpec{"Source", acts("Fetch")}, stageSpec{"Build", build}, stageSpec{"Deploy", acts("Ship")}))
			id := r.start(nil)
			if size > 1 {
				waitFor(t, func() bool {
					a, ok := r.action(id, "Build", "Bad")
					return ok && a.Status == store.ActionFailed && prov.begun(id, "Slow") == 1
				})
				if se, _ := r.stage(id, "Build"); se.Status != store.StageInProgress {
					t.Errorf("stage Build is %s while Slow runs", se.Status)
				}
				prov.release(id, "Slow")
			}
			desc, status := r.wait(id)
			if desc.Status != states.StatusFailed || deref(desc.Error) != execution.ErrStageFailed || status != store.ExecutionFailed {
				t.Errorf("execution: %s %s, %s", desc.Status, deref(desc.Error), status)
			}
			for _, a := range build {
				got, ran := r.action(id, "Build", a.name)
				switch {
				case a.name == "Later" && ran:
					t.Error("the next runOrder group started after a failure")
				case a.name == "Bad" && got.Status != store.ActionFailed:
					t.Errorf("Bad is %s", got.Status)
				case a.name != "Later" && a.name != "Bad" && got.Status != store.ActionSucceeded:
					t.Errorf("%s is %q, want Succeeded", a.name, got.Status)
				}
			}
			if se, _ := r.stage(id, "Build"); se.Status != store.StageFailed {
				t.Errorf("stage Build is %s", se.Status)
			}
			if _, ok := r.stage(id, "Deploy"); ok {
				t.Error("the next stage started after a failure")
			}
			if h := r.control("Build").Holder; h != "" {
				t.Errorf("stage Build still held by %s", h)
			}
		})
	}
}

// TestActionTimeoutInEveryKindOfGroup puts an approval last in a group of
// each kind, beside builds that succeed at once, and lets it time out on a
// virtual clock: the approval expires after its own timeoutInMinutes (not
// a sibling's timeout), and the stage fails.
func TestActionTimeoutInEveryKindOfGroup(t *testing.T) {
	for _, size := range []int{1, 3, 7} {
		t.Run(fmt.Sprintf("group of %d", size), func(t *testing.T) {
			ctx := context.Background()
			clock := states.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			rt, m := localRuntimeWithClock(t, succeed, clock)
			d := testPipeline("timeouts", pipeline.ExecutionModeQueued, stageSpec{"Source", acts("Fetch")}, stageSpec{"Gate", nil})
			gate := &d.Stages[1]
			for i := 1; i < size; i++ {
				gate.Actions = append(gate.Actions, pipeline.Action{Name: fmt.Sprintf("Build%d", i),
					ActionTypeID: pipeline.ActionTypeID{Category: "Build", Owner: "AWS", Provider: "CodeBuild", Version: "1"}})
			}
			minutes := int32(45)
			gate.Actions = append(gate.Actions, pipeline.Action{Name: "Approve", TimeoutInMinutes: &minutes,
				ActionTypeID: pipeline.ActionTypeID{Category: "Approval", Owner: "AWS", Provider: "Manual", Version: "1"}})
			if _, err := rt.PutPipeline(ctx, d); err != nil {
				t.Fatal(err)
			}
			id, err := rt.StartPipelineExecution(ctx, StartInput{Pipeline: d.Name})
			if err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			desc, err := m.Engine.WaitExecution(wctx, m.ExecutionArn(d.Name, id))
			if err != nil || desc.Status != states.StatusFailed || deref(desc.Error) != execution.ErrStageFailed {
				t.Fatalf("execution: %+v, %v", desc, err)
			}
			rec, err := rt.Store.LatestActionExecution(ctx, d.Name, id, "Gate", "Approve")
			if err != nil {
				t.Fatal(err)
			}
			waited := rec.Value.LastUpdateTime.Sub(rec.Value.StartTime)
			if rec.Value.Status != store.ActionFailed || !strings.Contains(rec.Value.Output.ExecutionResult.ErrorDetails.Message, "expired") ||
				waited < 45*time.Minute || waited > 46*time.Minute {
				t.Errorf("approval %s after %v: %+v", rec.Value.Status, waited, rec.Value.Output.ExecutionResult)
			}
			for i := 1; i < size; i++ {
				if a, _ := rt.Store.LatestActionExecution(ctx, d.Name, id, "Gate", fmt.Sprintf("Build%d", i)); a.Value.Status != store.ActionSucceeded {
					t.Errorf("Build%d is %q", i, a.Value.Status)
				}
			}
		})
	}
}

// awsLength is the length a history would have on AWS. Step Functions
// records ParallelStateSucceeded between a Parallel state's branches and its
// ParallelStateExited (LocalStack, whose histories are checked against
// AWS's, records it too); the embedded engine does not, so each Parallel
// state that succeeded counts one event more.
func awsLength(h []*states.Event) int {
	n := len(h)
	for _, ev := range h {
		switch ev.Type {
		case "ParallelStateExited":
			n++
		case "ParallelStateSucceeded":
			n--
		}
	}
	return n
}
