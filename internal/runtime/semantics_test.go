package runtime

import (
	"context"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/store"
)

// The tests of this file drive CodePipeline's execution semantics through
// the compiled state machine on the embedded engine and the SQLite store,
// as a local run does: they start executions, hold and release actions,
// stop, retry and change transitions, and check the records and histories
// that result.

// scripted is a provider whose actions can be held until the test releases
// them and given results in turn; it records when each job began.
type scripted struct {
	mu      sync.Mutex
	held    map[string]bool             // action names that wait for release
	results map[string][]*action.Result // by action name, taken in order; success when none is left
	gates   map[string]chan struct{}    // by execution and action
	began   map[string]int              // jobs begun, by execution and action
	order   []string                    // "execution action", in the order they began
	jobs    map[string][]*action.Job    // by action name
	delay   func() time.Duration        // a pause before answering, when set
	ctxErrs map[string]error            // by execution and action: the job's context ended
}

func newScripted(held ...string) *scripted {
	s := &scripted{held: map[string]bool{}, results: map[string][]*action.Result{}, gates: map[string]chan struct{}{},
		began: map[string]int{}, jobs: map[string][]*action.Job{}, ctxErrs: map[string]error{}}
	for _, h := range held {
		s.held[h] = true
	}
	return s
}

func (s *scripted) gate(exec, act string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := exec + " " + act
	if s.gates[k] == nil {
		s.gates[k] = make(chan struct{})
	}
	return s.gates[k]
}

// release lets a held action of an execution finish.
func (s *scripted) release(exec, act string) { close(s.gate(exec, act)) }

func (s *scripted) Run(ctx context.Context, job *action.Job) (*action.Result, error) {
	k := job.PipelineExecutionID + " " + job.ActionName
	s.mu.Lock()
	s.began[k]++
	s.order = append(s.order, k)
	s.jobs[job.ActionName] = append(s.jobs[job.ActionName], job)
	held, delay := s.held[job.ActionName], s.delay
	s.mu.Unlock()
	if held {
		select {
		case <-s.gate(job.PipelineExecutionID, job.ActionName):
		case <-ctx.Done():
			s.mu.Lock()
			s.ctxErrs[k] = ctx.Err()
			s.mu.Unlock()
			return nil, ctx.Err()
		}
	}
	if delay != nil {
		time.Sleep(delay())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rs := s.results[job.ActionName]; len(rs) > 0 {
		s.results[job.ActionName] = rs[1:]
		return rs[0], nil
	}
	return &action.Result{Status: action.StatusSucceeded}, nil
}

func (s *scripted) begun(exec, act string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.began[exec+" "+act]
}

func (s *scripted) ran(act string) []*action.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.jobs[act])
}

// stageSpec is a stage of a test pipeline: its actions, each with its
// runOrder.
type stageSpec struct {
	name    string
	actions []actionSpec
}

type actionSpec struct {
	name  string
	order int32
}

func acts(names ...string) []actionSpec {
	var out []actionSpec
	for _, n := range names {
		out = append(out, actionSpec{n, 1})
	}
	return out
}

// testPipeline declares a pipeline of no-input actions: the first stage's
// are CodeCommit sources, the others' CodeBuild builds.
func testPipeline(name string, mode pipeline.ExecutionMode, stages ...stageSpec) *pipeline.Declaration {
	d := &pipeline.Declaration{Name: name, ExecutionMode: mode, PipelineType: pipeline.PipelineType("V2")}
	for i, st := range stages {
		s := pipeline.Stage{Name: st.name}
		for _, a := range st.actions {
			ty := pipeline.ActionTypeID{Category: "Build", Owner: "AWS", Provider: "CodeBuild", Version: "1"}
			if i == 0 {
				ty = pipeline.ActionTypeID{Category: "Source", Owner: "AWS", Provider: "CodeCommit", Version: "1"}
			}
			order := a.order
			s.Actions = append(s.Actions, pipeline.Action{Name: a.name, ActionTypeID: ty, RunOrder: &order})
		}
		d.Stages = append(d.Stages, s)
	}
	return d
}

// engineRun is a local runtime with one pipeline deployed.
type engineRun struct {
	t    *testing.T
	rt   *Runtime
	m    Embedded
	name string
	ctx  context.Context
}

func deploy(t *testing.T, prov action.Provider, d *pipeline.Declaration) *engineRun {
	t.Helper()
	rt, m := localRuntime(t, prov)
	ctx := context.Background()
	if _, err := rt.PutPipeline(ctx, d); err != nil {
		t.Fatal(err)
	}
	return &engineRun{t: t, rt: rt, m: m, name: d.Name, ctx: ctx}
}

func (r *engineRun) start(vars map[string]string) string {
	r.t.Helper()
	id, err := r.rt.StartPipelineExecution(r.ctx, StartInput{Pipeline: r.name, Variables: vars})
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

// wait waits for the state machine execution to end and returns it with
// the pipeline execution's status.
func (r *engineRun) wait(id string) (*states.ExecutionDescription, string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, 20*time.Second)
	defer cancel()
	desc, err := r.m.Engine.WaitExecution(ctx, r.m.ExecutionArn(r.name, id))
	if err != nil {
		r.t.Fatalf("execution %s: %v", id, err)
	}
	e, err := r.rt.Store.GetPipelineExecution(r.ctx, r.name, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return desc, e.Value.Status
}

func (r *engineRun) control(stage string) store.StageControl {
	r.t.Helper()
	c, err := r.rt.Store.GetStageControl(r.ctx, r.name, stage)
	if err != nil {
		r.t.Fatal(err)
	}
	return c.Value
}

func (r *engineRun) waits(stage, id string) func() bool {
	return func() bool {
		return slices.ContainsFunc(r.control(stage).Waiters, func(w store.Waiter) bool { return w.PipelineExecutionID == id })
	}
}

func (r *engineRun) stage(id, stage string) (store.StageExecution, bool) {
	se, err := r.rt.Store.GetStageExecution(r.ctx, r.name, id, stage)
	return se.Value, err == nil
}

func (r *engineRun) action(id, stage, act string) (store.ActionExecution, bool) {
	a, err := r.rt.Store.LatestActionExecution(r.ctx, r.name, id, stage, act)
	return a.Value, err == nil
}

func (r *engineRun) execStatus(id string) string {
	e, _ := r.rt.Store.GetPipelineExecution(r.ctx, r.name, id)
	return e.Value.Status
}

func TestQueuedOrderOnTheEmbeddedEngine(t *testing.T) {
	prov := newScripted("Hold")
	r := deploy(t, prov, testPipeline("queued", pipeline.ExecutionModeQueued,
		stageSpec{"Source", acts("Fetch")}, stageSpec{"Gate", acts("Hold")}))
	first := r.start(nil)
	waitFor(t, func() bool { return prov.begun(first, "Hold") == 1 })
	var queued []string
	for range 3 {
		id := r.start(nil)
		waitFor(t, r.waits("Gate", id))
		queued = append(queued, id)
	}
	if c := r.control("Gate"); c.Holder != first || len(c.Waiters) != 3 {
		t.Fatalf("stage Gate: holder %s, %d waiting; want %s and 3", c.Holder, len(c.Waiters), first)
	}
	for _, id := range append([]string{first}, queued...) {
		prov.release(id, "Hold")
	}
	for _, id := range append([]string{first}, queued...) {
		if desc, status := r.wait(id); desc.Status != states.StatusSucceeded || status != store.ExecutionSucceeded {
			t.Errorf("execution %s: %s, %s", id, desc.Status, status)
		}
	}
	var entered []string
	for _, k := range prov.order {
		if id, act, _ := strings.Cut(k, " "); act == "Hold" {
			entered = append(entered, id)
		}
	}
	if want := append([]string{first}, queued...); !reflect.DeepEqual(entered, want) {
		t.Errorf("stage Gate entered in order %v, want the arrival order %v", entered, want)
	}
}

func TestParallelRunsOverlapOnTheEmbeddedEngine(t *testing.T) {
	prov := newScripted("Hold")
	r := deploy(t, prov, testPipeline("parallel", pipeline.ExecutionModeParallel,
		stageSpec{"Source", acts("Fetch")}, stageSpec{"Gate", acts("Hold")}))
	ids := []string{r.start(nil), r.start(nil), r.start(nil)}
	// Every execution is inside the stage at once: none is released yet.
	waitFor(t, func() bool {
		for _, id := range ids {
			if prov.begun(id, "Hold") == 0 {
				return false
			}
		}
		return true
	})
	if c := r.control("Gate"); c.Holder != "" || len(c.Waiters) != 0 {
		t.Errorf("PARALLEL mode locked stage Gate: %+v", c)
	}
	for _, id := range ids {
		prov.release(id, "Hold")
	}
	for _, id := range ids {
		if desc, status := r.wait(id); desc.Status != states.StatusSucceeded || status != store.ExecutionSucceeded {
			t.Errorf("execution %s: %s, %s", id, desc.Status, status)
		}
	}
}

// TestDisabledTransitionOnTheEmbeddedEngine: behind a disabled transition
// the newest execution waits and replaces the one waiting before it
// (SUPERSEDED); enabling the transition lets it in.
func TestDisabledTransitionOnTheEmbeddedEngine(t *testing.T) {
	prov := newScripted()
	r := deploy(t, prov, testPipeline("frozen", pipeline.ExecutionModeSuperseded,
		stageSpec{"Source", acts("Fetch")}, stageSpec{"Deploy", acts("Ship")}))
	if err := r.rt.DisableStageTransition(r.ctx, r.name, "Deploy", "release freeze", "ops"); err != nil {
		t.Fatal(err)
	}
	older := r.start(nil)
	waitFor(t, r.waits("Deploy", older))
	newer := r.start(nil)
	desc, status := r.wait(older)
	if desc.Status != states.StatusFailed || deref(desc.Error) != execution.ErrSuperseded || status != store.ExecutionSuperseded {
		t.Errorf("older execution: %s %s, %s; want FAILED Superseded, Superseded", desc.Status, deref(desc.Error), status)
	}
	waitFor(t, r.waits("Deploy", newer))
	c := r.control("Deploy")
	if !c.Inbound.Disabled || c.Inbound.DisabledReason != "release freeze" || len(c.Waiters) != 1 {
		t.Errorf("stage Deploy while disabled: %+v", c)
	}
	if len(prov.ran("Ship")) != 0 {
		t.Fatal("an action ran behind the disabled transition")
	}
	if err := r.rt.EnableStageTransition(r.ctx, r.name, "Deploy", "ops"); err != nil {
		t.Fatal(err)
	}
	if desc, status := r.wait(newer); desc.Status != states.StatusSucceeded || status != store.ExecutionSucceeded {
		t.Errorf("newer execution after enabling: %s, %s", desc.Status, status)
	}
	if jobs := prov.ran("Ship"); len(jobs) != 1 || jobs[0].PipelineExecutionID != newer {
		t.Errorf("Ship ran for %v, want only the newer execution", jobs)
	}
	if _, ok := r.stage(older, "Deploy"); ok {
		t.Error("the superseded execution has a record of stage Deploy")
	}
}

// TestFailedActionWaitsForItsSiblingOnTheEmbeddedEngine: an action fails
// while its sibling is still running. The stage fails only once the sibling
// ends, the next runOrder group and the next stage never start, and the
// stage is released for the execution waiting for it.
func TestFailedActionWaitsForItsSiblingOnTheEmbeddedEngine(t *testing.T) {
	prov := newScripted("Slow")
	prov.results["Fast"] = []*action.Result{action.Failed(action.CodeJobFailed, "unit tests failed")}
	r := deploy(t, prov, testPipeline("sibling", pipeline.ExecutionModeQueued,
		stageSpec{"Source", acts("Fetch")},
		stageSpec{"Build", []actionSpec{{"Fast", 1}, {"Slow", 1}, {"Later", 2}}},
		stageSpec{"Deploy", acts("Ship")}))
	first := r.start(nil)
	waitFor(t, func() bool {
		a, ok := r.action(first, "Build", "Fast")
		return ok && a.Status == store.ActionFailed && prov.begun(first, "Slow") == 1
	})
	second := r.start(nil)
	waitFor(t, r.waits("Build", second))
	// Fast has failed, Slow still runs: the stage goes on.
	if se, _ := r.stage(first, "Build"); se.Status != store.StageInProgress || r.control("Build").Holder != first || r.execStatus(first) != store.ExecutionInProgress {
		t.Errorf("while Slow runs: stage %s, holder %s, execution %s", se.Status, r.control("Build").Holder, r.execStatus(first))
	}
	prov.release(first, "Slow")
	desc, status := r.wait(first)
	if desc.Status != states.StatusFailed || deref(desc.Error) != execution.ErrStageFailed || status != store.ExecutionFailed {
		t.Errorf("first execution: %s %s, %s", desc.Status, deref(desc.Error), status)
	}
	if se, _ := r.stage(first, "Build"); se.Status != store.StageFailed {
		t.Errorf("stage Build is %s", se.Status)
	}
	if a, _ := r.action(first, "Build", "Slow"); a.Status != store.ActionSucceeded {
		t.Errorf("Slow is %s, want Succeeded", a.Status)
	}
	if _, ok := r.action(first, "Build", "Later"); ok {
		t.Error("the next runOrder group started after a failure")
	}
	if _, ok := r.stage(first, "Deploy"); ok {
		t.Error("the next stage started after a failure")
	}
	// The stage is released: the second execution goes through it.
	prov.release(second, "Slow")
	if desc, status := r.wait(second); desc.Status != states.StatusSucceeded || status != store.ExecutionSucceeded {
		t.Errorf("second execution: %s, %s", desc.Status, status)
	}
	for _, stage := range []string{"Source", "Build", "Deploy"} {
		if h := r.control(stage).Holder; h != "" {
			t.Errorf("stage %s still held by %s", stage, h)
		}
	}
}

func TestStopOnTheEmbeddedEngine(t *testing.T) {
	tests := []struct {
		name        string
		abandon     bool
		wantSFN     string
		wantStage   string
		wantAction  string
		wantHoldCtx bool // the held action's context ends
	}{
		{"stop and wait", false, states.StatusFailed, store.StageSucceeded, store.ActionSucceeded, false},
		{"abandon", true, states.StatusAborted, store.StageStopped, store.ActionAbandoned, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prov := newScripted("Hold")
			r := deploy(t, prov, testPipeline("stop", pipeline.ExecutionModeQueued,
				stageSpec{"Source", acts("Fetch")}, stageSpec{"Build", acts("Hold")}, stageSpec{"Deploy", acts("Ship")}))
			id := r.start(nil)
			waitFor(t, func() bool { return prov.begun(id, "Hold") == 1 })
			next := r.start(nil)
			waitFor(t, r.waits("Build", next))
			if err := r.rt.StopPipelineExecution(r.ctx, r.name, id, tt.abandon, "wrong commit"); err != nil {
				t.Fatal(err)
			}
			if !tt.abandon {
				if s := r.execStatus(id); s != store.ExecutionStopping {
					t.Errorf("after stop and wait, the execution is %s, want Stopping", s)
				}
				if err := r.rt.StopPipelineExecution(r.ctx, r.name, id, false, "again"); code(err) != "DuplicatedStopRequestException" {
					t.Errorf("stopping twice: %v", err)
				}
				prov.release(id, "Hold")
			}
			desc, status := r.wait(id)
			if desc.Status != tt.wantSFN || status != store.ExecutionStopped {
				t.Errorf("execution: %s (%s), %s; want %s, Stopped", desc.Status, deref(desc.Error), status, tt.wantSFN)
			}
			if se, _ := r.stage(id, "Build"); se.Status != tt.wantStage {
				t.Errorf("stage Build is %s, want %s", se.Status, tt.wantStage)
			}
			if a, _ := r.action(id, "Build", "Hold"); a.Status != tt.wantAction {
				t.Errorf("action Hold is %s, want %s", a.Status, tt.wantAction)
			}
			if _, ok := r.stage(id, "Deploy"); ok {
				t.Error("a stopped execution entered the next stage")
			}
			if tt.wantHoldCtx {
				waitFor(t, func() bool {
					prov.mu.Lock()
					defer prov.mu.Unlock()
					return prov.ctxErrs[id+" Hold"] != nil
				})
			}
			// The lock is released: the next execution runs the stage.
			waitFor(t, func() bool { return prov.begun(next, "Hold") == 1 })
			prov.release(next, "Hold")
			if desc, status := r.wait(next); desc.Status != states.StatusSucceeded || status != store.ExecutionSucceeded {
				t.Errorf("next execution: %s, %s", desc.Status, status)
			}
			e, _ := r.rt.Store.GetPipelineExecution(r.ctx, r.name, id)
			if e.Value.StopTrigger == nil || e.Value.StopTrigger.Reason != "wrong commit" {
				t.Errorf("stop trigger %+v", e.Value.StopTrigger)
			}
		})
	}
}

// TestRetryAfterAbandonOnTheEmbeddedEngine retries the stage of an
// execution stopped by abandoning its actions, as CodePipeline allows: the
// aborted state machine execution is redriven within the same execution,
// the abandoned action runs again (with its succeeded sibling too for
// ALL_ACTIONS), then the stage's later runOrder group and the next stage.
func TestRetryAfterAbandonOnTheEmbeddedEngine(t *testing.T) {
	tests := []struct {
		mode       string
		quickRuns  int
		quickTries int
	}{
		{execution.RetryFailedActions, 1, 1},
		{execution.RetryAllActions, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			prov := newScripted("Hold")
			r := deploy(t, prov, testPipeline("abandoned", pipeline.ExecutionModeQueued,
				stageSpec{"Source", acts("Fetch")},
				stageSpec{"Build", []actionSpec{{"Quick", 1}, {"Hold", 1}, {"Later", 2}}},
				stageSpec{"Deploy", acts("Ship")}))
			id := r.start(nil)
			waitFor(t, func() bool {
				a, ok := r.action(id, "Build", "Quick")
				return prov.begun(id, "Hold") == 1 && ok && a.Status == store.ActionSucceeded
			})
			if err := r.rt.StopPipelineExecution(r.ctx, r.name, id, true, "wrong commit"); err != nil {
				t.Fatal(err)
			}
			if desc, status := r.wait(id); desc.Status != states.StatusAborted || status != store.ExecutionStopped {
				t.Fatalf("after the abandon: %s, %s", desc.Status, status)
			}
			if err := r.rt.RetryStageExecution(r.ctx, r.name, "Build", id, tt.mode); err != nil {
				t.Fatalf("retry: %v", err)
			}
			waitFor(t, func() bool { return prov.begun(id, "Hold") == 2 })
			if a, _ := r.action(id, "Build", "Hold"); a.Attempt != 2 || a.Status != store.ActionInProgress {
				t.Errorf("Hold while held again: attempt %d %s", a.Attempt, a.Status)
			}
			prov.release(id, "Hold")
			if desc, status := r.wait(id); desc.Status != states.StatusSucceeded || status != store.ExecutionSucceeded {
				t.Fatalf("after the retry: %s (%s), %s", desc.Status, deref(desc.Error), status)
			}
			runs := map[string]int{"Fetch": 1, "Quick": tt.quickRuns, "Hold": 2, "Later": 1, "Ship": 1}
			for act, want := range runs {
				if n := len(prov.ran(act)); n != want {
					t.Errorf("%s ran %d times, want %d", act, n, want)
				}
			}
			if a, _ := r.action(id, "Build", "Quick"); a.Attempt != tt.quickTries || a.Status != store.ActionSucceeded {
				t.Errorf("Quick: attempt %d %s, want attempt %d Succeeded", a.Attempt, a.Status, tt.quickTries)
			}
			if se, _ := r.stage(id, "Build"); se.Attempt != 2 || se.Status != store.StageSucceeded || se.RetryMode != tt.mode {
				t.Errorf("stage Build: attempt %d %s, mode %s", se.Attempt, se.Status, se.RetryMode)
			}
			if c := r.control("Build"); c.Holder != "" {
				t.Errorf("stage Build still held by %s", c.Holder)
			}
		})
	}
}

// TestRetryAllActionsOnTheEmbeddedEngine retries a failed stage with
// ALL_ACTIONS: every action of the stage runs again, in the same execution.
// (FAILED_ACTIONS: TestRetryOnTheEmbeddedEngine.)
func TestRetryAllActionsOnTheEmbeddedEngine(t *testing.T) {
	prov := newScripted()
	prov.results["Lint"] = []*action.Result{action.Failed(action.CodeJobFailed, "lint failed")}
	r := deploy(t, prov, testPipeline("retry", pipeline.ExecutionModeSuperseded,
		stageSpec{"Source", acts("Fetch")}, stageSpec{"Build", acts("Compile", "Lint")}, stageSpec{"Deploy", acts("Ship")}))
	id := r.start(nil)
	if desc, status := r.wait(id); desc.Status != states.StatusFailed || status != store.ExecutionFailed {
		t.Fatalf("first run: %s, %s", desc.Status, status)
	}
	if err := r.rt.RetryStageExecution(r.ctx, r.name, "Build", id, execution.RetryAllActions); err != nil {
		t.Fatal(err)
	}
	if desc, status := r.wait(id); desc.Status != states.StatusSucceeded || status != store.ExecutionSucceeded {
		t.Fatalf("after the retry: %s, %s", desc.Status, status)
	}
	for _, act := range []string{"Compile", "Lint"} {
		if n := len(prov.ran(act)); n != 2 {
			t.Errorf("%s ran %d times; ALL_ACTIONS runs every action again", act, n)
		}
		if a, _ := r.action(id, "Build", act); a.Attempt != 2 || a.Status != store.ActionSucceeded {
			t.Errorf("%s: attempt %d %s", act, a.Attempt, a.Status)
		}
	}
	if n := len(prov.ran("Fetch")); n != 1 {
		t.Errorf("the retry ran the Source stage again (%d runs)", n)
	}
	if se, _ := r.stage(id, "Build"); se.Attempt != 2 || se.RetryMode != execution.RetryAllActions {
		t.Errorf("stage Build: attempt %d, mode %s", se.Attempt, se.RetryMode)
	}
}

// TestVariablesAcrossStagesOnTheEmbeddedEngine: output variables of one
// stage, the execution id and pipeline variables (with a start-time
// override) resolve in later stages, just before each action starts, and
// are recorded as its resolved configuration.
func TestVariablesAcrossStagesOnTheEmbeddedEngine(t *testing.T) {
	prov := newScripted()
	prov.results["Checkout"] = []*action.Result{{Status: action.StatusSucceeded, OutputVariables: map[string]string{"BranchName": "feature-x"}}}
	prov.results["Compile"] = []*action.Result{{Status: action.StatusSucceeded, OutputVariables: map[string]string{"Version": "3.1"}}}
	rt, m := localRuntime(t, prov)
	r := &engineRun{t: t, rt: rt, m: m, name: "release", ctx: context.Background()}
	if _, err := rt.PutPipeline(r.ctx, loadRelease(t)); err != nil {
		t.Fatal(err)
	}
	id := r.start(map[string]string{"Environment": "prod"})
	ap := waitApproval(t, rt, id)
	if ap.CustomData != "Ship 3.1 to prod?" {
		t.Errorf("approval custom data %q", ap.CustomData)
	}
	if err := rt.PutApprovalResult(r.ctx, ApprovalInput{Pipeline: "release", Stage: "Approve", Action: "Release", Token: ap.Token, Status: store.ApprovalApproved}); err != nil {
		t.Fatal(err)
	}
	if desc, status := r.wait(id); desc.Status != states.StatusSucceeded || status != store.ExecutionSucceeded {
		t.Fatalf("execution: %s, %s", desc.Status, status)
	}
	tests := []struct {
		stage, action string
		want          map[string]string
	}{
		{"Build", "Compile", map[string]string{"ProjectName": "app-feature-x", "Tag": id}},
		{"Approve", "Release", map[string]string{"CustomData": "Ship 3.1 to prod?"}},
		{"Deploy", "Upload", map[string]string{"BucketName": "app-prod", "Extract": "true"}},
	}
	for _, tt := range tests {
		a, _ := r.action(id, tt.stage, tt.action)
		if !reflect.DeepEqual(a.Input.ResolvedConfiguration, tt.want) {
			t.Errorf("%s/%s resolved configuration %v, want %v", tt.stage, tt.action, a.Input.ResolvedConfiguration, tt.want)
		}
	}
	if jobs := prov.ran("Upload"); len(jobs) != 1 || jobs[0].Configuration["BucketName"] != "app-prod" {
		t.Errorf("the deploy job was given %v", jobs)
	}
}

// TestOneExecutionPerStageUnderConcurrency starts many executions at once
// and checks, from the engine's recorded histories, that no two were ever
// inside one stage together: for each execution and stage, the time from
// its entry gate's success to its exit gate's scheduling (an interval within
// its hold of the stage's lock) overlaps no other execution's.
func TestOneExecutionPerStageUnderConcurrency(t *testing.T) {
	const executions = 12
	for _, mode := range []pipeline.ExecutionMode{pipeline.ExecutionModeSuperseded, pipeline.ExecutionModeQueued} {
		t.Run(string(mode), func(t *testing.T) {
			prov := newScripted()
			prov.delay = func() time.Duration { return time.Duration(rand.IntN(3000)) * time.Microsecond }
			d := testPipeline("busy", mode,
				stageSpec{"Source", acts("Fetch")}, stageSpec{"Build", acts("Compile", "Test")}, stageSpec{"Deploy", acts("Ship")})
			r := deploy(t, prov, d)
			ids := make([]string, executions)
			var wg sync.WaitGroup
			for i := range ids {
				wg.Go(func() { ids[i] = r.start(nil) })
			}
			wg.Wait()
			intervals := map[string][]span{} // by stage
			statuses := map[string]int{}
			for _, id := range ids {
				desc, status := r.wait(id)
				statuses[status]++
				if status == store.ExecutionSucceeded && desc.Status != states.StatusSucceeded {
					t.Errorf("execution %s succeeded but its state machine execution is %s", id, desc.Status)
				}
				h, err := r.m.Engine.GetExecutionHistory(r.ctx, r.m.ExecutionArn(r.name, id))
				if err != nil {
					t.Fatal(err)
				}
				for stage, spans := range stageSpans(h) {
					intervals[stage] = append(intervals[stage], spans...)
				}
			}
			t.Logf("%s: %v", mode, statuses)
			switch mode {
			case pipeline.ExecutionModeQueued:
				if statuses[store.ExecutionSucceeded] != executions {
					t.Errorf("QUEUED: %v, want all %d Succeeded", statuses, executions)
				}
			case pipeline.ExecutionModeSuperseded:
				if statuses[store.ExecutionSucceeded] == 0 || statuses[store.ExecutionSucceeded]+statuses[store.ExecutionSuperseded] != executions {
					t.Errorf("SUPERSEDED: %v, want Succeeded or Superseded, at least one Succeeded", statuses)
				}
			}
			for _, stage := range slices.Sorted(maps.Keys(intervals)) {
				spans := intervals[stage]
				slices.SortFunc(spans, func(a, b span) int { return a.from.Compare(b.from) })
				for i := 1; i < len(spans); i++ {
					if prev := spans[i-1]; spans[i].from.Before(prev.to) {
						t.Errorf("stage %s: executions %s and %s were inside together (%s–%s and %s–%s)", stage,
							prev.id, spans[i].id, prev.from.Format(time.StampMicro), prev.to.Format(time.StampMicro),
							spans[i].from.Format(time.StampMicro), spans[i].to.Format(time.StampMicro))
					}
				}
			}
			if n := len(intervals["Deploy"]); n != statuses[store.ExecutionSucceeded] {
				t.Errorf("%d passes through Deploy, want one per succeeded execution (%d)", n, statuses[store.ExecutionSucceeded])
			}
		})
	}
}

// span is an execution's time inside a stage.
type span struct {
	id       string
	from, to time.Time
}

// stageSpans reads an execution's passes through its stages from its
// history: from the entry gate's TaskSucceeded to the exit gate's
// LambdaFunctionScheduled, top-level events only.
func stageSpans(h []*states.Event) map[string][]span {
	out := map[string][]span{}
	var state string
	var from time.Time
	id := ""
	for _, ev := range h {
		if ev.Scope != "" {
			continue
		}
		switch ev.Type {
		case "ExecutionStarted":
			id = ev.Execution[strings.LastIndexByte(ev.Execution, ':')+1:]
		case "TaskStateEntered":
			state = ev.Detail.Name
		case "TaskSucceeded":
			if strings.HasSuffix(state, ": enter") {
				from = ev.Time
			}
		case "LambdaFunctionScheduled":
			if stage, ok := strings.CutSuffix(state, ": exit"); ok && !from.IsZero() {
				out[stage] = append(out[stage], span{id: id, from: from, to: ev.Time})
				from = time.Time{}
			}
		}
	}
	return out
}
