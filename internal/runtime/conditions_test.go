package runtime

import (
	"context"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/condition"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/store"
)

// The tests of this file drive stage conditions and onFailure results
// through the engine and the store, as semantics_test.go does.

func variableCheck(name, variable, op, value string) pipeline.Rule {
	return pipeline.Rule{Name: name, RuleTypeID: pipeline.RuleTypeID{Category: "Rule", Owner: "AWS", Provider: condition.VariableCheck, Version: "1"},
		Configuration: map[string]string{"Variable": variable, "Operator": op, "Value": value}}
}

func deploymentWindow(name, cron string) pipeline.Rule {
	return pipeline.Rule{Name: name, RuleTypeID: pipeline.RuleTypeID{Category: "Rule", Owner: "AWS", Provider: condition.DeploymentWindow, Version: "1"},
		Configuration: map[string]string{"Cron": cron, "TimeZone": "UTC"}}
}

// releasePipeline is Source (Fetch, namespace SourceVariables, artifact
// Src) → Deploy (Ship, reading both, namespace DeployVariables) → Verify
// (Check), with a pipeline variable Env.
func releasePipeline(name string) *pipeline.Declaration {
	d := testPipeline(name, pipeline.ExecutionModeQueued,
		stageSpec{"Source", acts("Fetch")}, stageSpec{"Deploy", acts("Ship")}, stageSpec{"Verify", acts("Check")})
	d.Variables = []pipeline.Variable{{Name: "Env", DefaultValue: "dev"}}
	fetch := &d.Stages[0].Actions[0]
	fetch.Namespace, fetch.OutputArtifacts = "SourceVariables", []pipeline.OutputArtifact{{Name: "Src"}}
	ship := &d.Stages[1].Actions[0]
	ship.Namespace, ship.InputArtifacts = "DeployVariables", []pipeline.InputArtifact{{Name: "Src"}}
	ship.Configuration = map[string]string{"ProjectName": "ship-#{SourceVariables.CommitId}-#{variables.Env}"}
	return d
}

func commit(id string) *action.Result {
	return &action.Result{Status: action.StatusSucceeded, OutputVariables: map[string]string{"CommitId": id}}
}

func TestAutomaticRetry(t *testing.T) {
	tests := []struct {
		name      string
		mode      pipeline.RetryMode
		failures  int // Lint fails this many times in a row
		want      string
		runs      map[string]int
		attempt   int
		autoTries int
	}{
		{"failed actions", pipeline.RetryFailedActions, 1, store.ExecutionSucceeded, map[string]int{"Compile": 1, "Lint": 2}, 2, 1},
		{"all actions", pipeline.RetryAllActions, 1, store.ExecutionSucceeded, map[string]int{"Compile": 2, "Lint": 2}, 2, 1},
		{"one retry at most", pipeline.RetryFailedActions, 2, store.ExecutionFailed, map[string]int{"Compile": 1, "Lint": 2}, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prov := newScripted()
			for range tt.failures {
				prov.results["Lint"] = append(prov.results["Lint"], action.Failed(action.CodeJobFailed, "lint failed"))
			}
			d := testPipeline("autoretry", pipeline.ExecutionModeQueued,
				stageSpec{"Source", acts("Fetch")}, stageSpec{"Build", acts("Compile", "Lint")}, stageSpec{"Deploy", acts("Ship")})
			d.Stages[1].OnFailure = &pipeline.FailureConditions{Result: pipeline.ResultRetry,
				RetryConfiguration: &pipeline.RetryConfiguration{RetryMode: tt.mode}}
			r := deploy(t, prov, d)
			id := r.start(nil)
			if _, status := r.wait(id); status != tt.want {
				t.Fatalf("execution %s, want %s", status, tt.want)
			}
			for act, n := range tt.runs {
				if got := len(prov.ran(act)); got != n {
					t.Errorf("%s ran %d times, want %d", act, got, n)
				}
			}
			se, _ := r.stage(id, "Build")
			if se.Attempt != tt.attempt || se.AutoRetries != tt.autoTries || se.LatestRetryTrigger != store.RetryAutomated || se.RetryMode != string(tt.mode) {
				t.Errorf("stage Build: attempt %d, %d automatic retries, trigger %q, mode %q", se.Attempt, se.AutoRetries, se.LatestRetryTrigger, se.RetryMode)
			}
			if h := r.control("Build").Holder; h != "" {
				t.Errorf("stage Build still held by %s", h)
			}
		})
	}
}

// rolledBack waits for the rollback execution of stage that a failed
// execution started and returns it.
func (r *engineRun) rolledBack(failed, stage string) store.PipelineExecution {
	r.t.Helper()
	var found store.PipelineExecution
	waitFor(r.t, func() bool {
		execs, _, err := r.rt.Store.ListPipelineExecutions(r.ctx, r.name, 0, "")
		if err != nil {
			r.t.Fatal(err)
		}
		for _, e := range execs {
			if e.ExecutionType == store.TypeRollback && e.Trigger.TriggerDetail == failed && e.Rollback.StageName == stage {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// checkRollback checks a rollback execution of Deploy to good: it ran Ship
// alone, with good's variables and artifact, and succeeded.
func checkRollback(t *testing.T, r *engineRun, prov *scripted, rb store.PipelineExecution, good string, shipRuns int) {
	t.Helper()
	if _, status := r.wait(rb.PipelineExecutionID); status != store.ExecutionSucceeded {
		t.Fatalf("rollback execution: %s", status)
	}
	if rb.Rollback.RollbackTargetPipelineExecutionID != good || rb.Trigger.TriggerType != store.TriggerAutomatedRollback {
		t.Errorf("rollback execution: %+v, trigger %+v", rb.Rollback, rb.Trigger)
	}
	jobs := prov.ran("Ship")
	if len(jobs) != shipRuns {
		t.Fatalf("Ship ran %d times, want %d", len(jobs), shipRuns)
	}
	last := jobs[len(jobs)-1]
	if last.PipelineExecutionID != rb.PipelineExecutionID || last.Configuration["ProjectName"] != "ship-c1-prod" {
		t.Errorf("the rollback ran Ship in %s with %v", last.PipelineExecutionID, last.Configuration)
	}
	if len(last.InputArtifacts) != 1 || last.InputArtifacts[0].Key != ArtifactKey(r.name, good, "Src") {
		t.Errorf("the rollback's Ship read %+v, want the artifact of %s", last.InputArtifacts, good)
	}
	if n := len(prov.ran("Fetch")); n != 2 {
		t.Errorf("Fetch ran %d times; a rollback runs its stage alone", n)
	}
	for _, stage := range []string{"Source", "Verify"} {
		if _, ok := r.stage(rb.PipelineExecutionID, stage); ok {
			t.Errorf("the rollback execution has a record of stage %s", stage)
		}
	}
	if se, _ := r.stage(rb.PipelineExecutionID, "Deploy"); se.Status != store.StageSucceeded || se.Type != store.TypeRollback {
		t.Errorf("the rollback's stage Deploy: %s, type %s", se.Status, se.Type)
	}
	e, _ := r.rt.Store.GetPipelineExecution(r.ctx, r.name, rb.PipelineExecutionID)
	if len(e.Value.Variables) != 1 || e.Value.Variables[0].ResolvedValue != "prod" {
		t.Errorf("the rollback's variables: %+v", e.Value.Variables)
	}
}

func TestRollbackOnFailure(t *testing.T) {
	prov := newScripted()
	prov.results["Fetch"] = []*action.Result{commit("c1"), commit("c2")}
	prov.results["Ship"] = []*action.Result{{Status: action.StatusSucceeded}, action.Failed(action.CodeJobFailed, "deploy failed")}
	d := releasePipeline("rollback")
	d.Stages[1].OnFailure = &pipeline.FailureConditions{Result: pipeline.ResultRollback}
	r := deploy(t, prov, d)
	// No execution succeeded in Deploy yet: the first failure would not
	// roll back; this one succeeds.
	good := r.start(map[string]string{"Env": "prod"})
	if _, status := r.wait(good); status != store.ExecutionSucceeded {
		t.Fatalf("first execution: %s", status)
	}
	bad := r.start(map[string]string{"Env": "staging"})
	if _, status := r.wait(bad); status != store.ExecutionFailed {
		t.Fatalf("second execution: %s", status)
	}
	if se, _ := r.stage(bad, "Deploy"); se.Status != store.StageFailed || se.OnFailureResult != "ROLLBACK" {
		t.Errorf("stage Deploy of the failed execution: %s, %s", se.Status, se.OnFailureResult)
	}
	checkRollback(t, r, prov, r.rolledBack(bad, "Deploy"), good, 3)
}

func TestRollbackOnSuccessCondition(t *testing.T) {
	prov := newScripted()
	prov.results["Fetch"] = []*action.Result{commit("c1"), commit("c2")}
	health := func(v string) *action.Result {
		return &action.Result{Status: action.StatusSucceeded, OutputVariables: map[string]string{"Health": v}}
	}
	prov.results["Ship"] = []*action.Result{health("ok"), health("degraded"), health("ok")}
	d := releasePipeline("onsuccess")
	d.Stages[1].OnSuccess = &pipeline.SuccessConditions{Conditions: []pipeline.Condition{{Result: pipeline.ResultRollback,
		Rules: []pipeline.Rule{variableCheck("Healthy", "#{DeployVariables.Health}", "EQ", "ok")}}}}
	r := deploy(t, prov, d)
	good := r.start(map[string]string{"Env": "prod"})
	if _, status := r.wait(good); status != store.ExecutionSucceeded {
		t.Fatalf("first execution: %s", status)
	}
	bad := r.start(map[string]string{"Env": "staging"})
	if _, status := r.wait(bad); status != store.ExecutionFailed {
		t.Fatalf("second execution: %s", status)
	}
	se, _ := r.stage(bad, "Deploy")
	run := se.Condition(condition.OnSuccess)
	if se.Status != store.StageFailed || run == nil || run.Status != condition.Failed || run.Result != "ROLLBACK" ||
		len(run.Rules) != 1 || run.Rules[0].ResolvedConfiguration["Variable"] != "degraded" {
		t.Fatalf("stage Deploy: %s, onSuccess run %+v", se.Status, run)
	}
	if _, ok := r.stage(bad, "Verify"); ok {
		t.Error("the execution went on after its onSuccess condition failed")
	}
	checkRollback(t, r, prov, r.rolledBack(bad, "Deploy"), good, 3)
}

func TestEntryConditionFailAndSkip(t *testing.T) {
	tests := []struct {
		name   string
		result pipeline.ConditionResult
		env    string
		want   string // the execution's status
		stage  string // stage Deploy's status
		ship   int    // Ship's runs
		verify bool   // Verify ran
	}{
		{"met", pipeline.ResultFail, "prod", store.ExecutionSucceeded, store.StageSucceeded, 1, true},
		{"fail", pipeline.ResultFail, "dev", store.ExecutionFailed, store.StageFailed, 0, false},
		{"skip", pipeline.ResultSkip, "dev", store.ExecutionSucceeded, store.StageSkipped, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prov := newScripted()
			prov.results["Fetch"] = []*action.Result{commit("c1")}
			d := releasePipeline("entry")
			d.Stages[1].BeforeEntry = &pipeline.BeforeEntryConditions{Conditions: []pipeline.Condition{{Result: tt.result,
				Rules: []pipeline.Rule{variableCheck("IsProd", "#{variables.Env}", "EQ", "prod")}}}}
			r := deploy(t, prov, d)
			id := r.start(map[string]string{"Env": tt.env})
			desc, status := r.wait(id)
			if status != tt.want {
				t.Fatalf("execution %s (%s %s), want %s", status, desc.Status, deref(desc.Error), tt.want)
			}
			se, _ := r.stage(id, "Deploy")
			if se.Status != tt.stage {
				t.Errorf("stage Deploy is %s, want %s", se.Status, tt.stage)
			}
			run := se.Condition(condition.BeforeEntry)
			wantRun := condition.Succeeded
			if tt.env != "prod" {
				wantRun = condition.Failed
			}
			if run == nil || run.Status != wantRun || len(run.Rules) != 1 || run.Rules[0].Status != wantRun {
				t.Errorf("entry condition run %+v, want %s", run, wantRun)
			}
			if n := len(prov.ran("Ship")); n != tt.ship {
				t.Errorf("Ship ran %d times, want %d", n, tt.ship)
			}
			if _, ok := r.stage(id, "Verify"); ok != tt.verify {
				t.Errorf("stage Verify ran: %v, want %v", ok, tt.verify)
			}
			if h := r.control("Deploy").Holder; h != "" {
				t.Errorf("stage Deploy still held by %s", h)
			}
		})
	}
}

func TestDeploymentWindowOnTheVirtualClock(t *testing.T) {
	ctx := context.Background()
	saturday := time.Date(2026, 3, 7, 10, 0, 0, 0, time.UTC)
	monday := time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)
	clock := states.NewVirtualClock(saturday)
	prov := newScripted()
	prov.results["Fetch"] = []*action.Result{commit("c1")}
	rt, m := localRuntimeWithClock(t, prov, clock)
	d := releasePipeline("window")
	d.Stages[1].BeforeEntry = &pipeline.BeforeEntryConditions{Conditions: []pipeline.Condition{{Result: pipeline.ResultFail,
		Rules: []pipeline.Rule{deploymentWindow("Weekdays", "* * 9-17 ? * MON-FRI")}}}}
	if _, err := rt.PutPipeline(ctx, d); err != nil {
		t.Fatal(err)
	}
	r := &engineRun{t: t, rt: rt, m: m, name: d.Name, ctx: ctx}
	id := r.start(nil)
	if _, status := r.wait(id); status != store.ExecutionSucceeded {
		t.Fatalf("execution: %s", status)
	}
	ship, _ := r.action(id, "Deploy", "Ship")
	if ship.StartTime.Before(monday) {
		t.Errorf("Ship started at %s, before the window opened at %s", ship.StartTime, monday)
	}
	se, _ := r.stage(id, "Deploy")
	run := se.Condition(condition.BeforeEntry)
	if run == nil || run.Status != condition.Succeeded || se.StartTime.After(saturday.Add(time.Minute)) {
		t.Errorf("stage Deploy entered at %s with entry conditions %+v", se.StartTime, run)
	}
	if c := r.control("Deploy"); len(c.Parked) != 0 || c.Holder != "" {
		t.Errorf("stage Deploy after the run: %+v", c)
	}
	// The entry waited on its token: no Wait state, one entry task.
	h, err := m.Engine.GetExecutionHistory(ctx, m.ExecutionArn(d.Name, id))
	if err != nil {
		t.Fatal(err)
	}
	entered := 0
	for _, ev := range h {
		if ev.Type == "WaitStateEntered" {
			t.Error("the machine waited in a Wait state")
		}
		if ev.Type == "TaskStateEntered" && ev.Detail.Name == "Deploy: enter" {
			entered++
		}
	}
	if entered != 1 {
		t.Errorf("Deploy: enter was entered %d times, want 1", entered)
	}
}

func TestOverrideStageCondition(t *testing.T) {
	prov := newScripted()
	prov.results["Fetch"] = []*action.Result{commit("c1")}
	d := releasePipeline("override")
	// A window that opens in 2199 only: closed for the whole test.
	d.Stages[1].BeforeEntry = &pipeline.BeforeEntryConditions{Conditions: []pipeline.Condition{{Result: pipeline.ResultFail,
		Rules: []pipeline.Rule{deploymentWindow("Someday", "* * * * * ? 2199")}}}}
	r := deploy(t, prov, d)
	id := r.start(nil)
	waitFor(t, func() bool { return execution.Parks(r.control("Deploy"), id) })
	se, _ := r.stage(id, "Deploy")
	if run := se.Condition(condition.BeforeEntry); run == nil || run.Status != condition.InProgress || run.Rules[0].Until.Year() != 2199 {
		t.Fatalf("entry condition run while parked: %+v", run)
	}
	if len(prov.ran("Ship")) != 0 {
		t.Fatal("Ship ran behind a closed window")
	}
	refusals := []struct {
		stage, id, kind, code string
	}{
		{"Deploy", id, condition.OnSuccess, "ConditionNotOverridableException"},
		{"Verify", id, condition.BeforeEntry, "NotLatestPipelineExecutionException"},
		{"Nowhere", id, condition.BeforeEntry, "StageNotFoundException"},
	}
	for _, rf := range refusals {
		if err := r.rt.OverrideStageCondition(r.ctx, r.name, rf.stage, rf.id, rf.kind, "ops"); code(err) != rf.code {
			t.Errorf("override %s %s: %v, want %s", rf.stage, rf.kind, err, rf.code)
		}
	}
	if err := r.rt.OverrideStageCondition(r.ctx, r.name, "Deploy", id, condition.BeforeEntry, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, status := r.wait(id); status != store.ExecutionSucceeded {
		t.Fatalf("execution after the override: %s", status)
	}
	se, _ = r.stage(id, "Deploy")
	if run := se.Condition(condition.BeforeEntry); run == nil || run.Status != condition.Overridden || run.Rules[0].Status != condition.Abandoned {
		t.Errorf("entry condition run after the override: %+v", run)
	}
	if err := r.rt.OverrideStageCondition(r.ctx, r.name, "Deploy", id, condition.BeforeEntry, "ops"); code(err) != "ConditionNotOverridableException" {
		t.Errorf("overriding again: %v", err)
	}
}

func TestRollbackStage(t *testing.T) {
	prov := newScripted()
	prov.results["Fetch"] = []*action.Result{commit("c1"), commit("c2")}
	prov.results["Check"] = []*action.Result{{Status: action.StatusSucceeded}, action.Failed(action.CodeJobFailed, "checks failed")}
	r := deploy(t, prov, releasePipeline("manual"))
	good := r.start(map[string]string{"Env": "prod"})
	r.wait(good)
	bad := r.start(map[string]string{"Env": "staging"})
	if _, status := r.wait(bad); status != store.ExecutionFailed {
		t.Fatalf("second execution: %s", status)
	}
	refusals := []struct {
		stage, target, code string
	}{
		{"Source", good, "UnableToRollbackStageException"},
		{"Verify", bad, "UnableToRollbackStageException"}, // it failed there
		{"Deploy", bad, "UnableToRollbackStageException"}, // the stage holds its run already
		{"Deploy", "00000000-0000-4000-8000-000000000000", "PipelineExecutionNotFoundException"},
		{"Nowhere", good, "StageNotFoundException"},
	}
	for _, rf := range refusals {
		if _, err := r.rt.RollbackStage(r.ctx, r.name, rf.stage, rf.target, "ops"); code(err) != rf.code {
			t.Errorf("roll %s back to %s: %v, want %s", rf.stage, rf.target, err, rf.code)
		}
	}
	if target, err := r.rt.LastSucceededInStage(r.ctx, r.name, "Deploy"); err != nil || target != bad {
		t.Errorf("last execution that succeeded in Deploy: %s, %v; want %s", target, err, bad)
	}
	id, err := r.rt.RollbackStage(r.ctx, r.name, "Deploy", good, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if _, status := r.wait(id); status != store.ExecutionSucceeded {
		t.Fatalf("rollback execution: %s", status)
	}
	e, _ := r.rt.Store.GetPipelineExecution(r.ctx, r.name, id)
	if e.Value.ExecutionType != store.TypeRollback || e.Value.Trigger.TriggerType != store.TriggerManualRollback || e.Value.Rollback.RollbackTargetPipelineExecutionID != good {
		t.Errorf("rollback execution: %+v", e.Value)
	}
	if jobs := prov.ran("Ship"); len(jobs) != 3 || jobs[2].Configuration["ProjectName"] != "ship-c1-prod" {
		t.Errorf("Ship's runs: %d, last with %v", len(jobs), jobs[len(jobs)-1].Configuration)
	}
	if _, err := r.rt.RollbackStage(r.ctx, r.name, "Deploy", id, "ops"); code(err) != "UnableToRollbackStageException" {
		t.Errorf("rolling back to a rollback: %v", err)
	}
	// An update makes the earlier executions outdated targets.
	if _, err := r.rt.PutPipeline(r.ctx, releasePipeline("manual")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.rt.RollbackStage(r.ctx, r.name, "Deploy", good, "ops"); code(err) != "PipelineExecutionOutdatedException" {
		t.Errorf("rolling back to an earlier version's execution: %v", err)
	}
}
