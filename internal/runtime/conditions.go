package runtime

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/sluice-ci/sluice/internal/condition"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/gate"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/variables"
)

// gateConditions is the runtime as the gate's Conditions port.
type gateConditions struct{ r *Runtime }

var _ gate.Conditions = gateConditions{}

// Stage implements gate.Conditions.
func (g gateConditions) Stage(ctx context.Context, pipelineName string, version int, stage string) (*pipeline.Stage, error) {
	d, err := g.r.declaration(ctx, pipelineName, version)
	if err != nil {
		return nil, err
	}
	st := d.Stage(stage)
	if st == nil {
		return nil, &gate.Invalid{Cause: fmt.Sprintf("pipeline %s version %d has no stage %s", pipelineName, version, stage)}
	}
	return st, nil
}

// Evaluate implements gate.Conditions: each rule's configuration is
// resolved with the execution's variables (the output variables of the
// actions it names, in this execution or, for a rollback, the one it rolls
// back to), then checked.
func (g gateConditions) Evaluate(ctx context.Context, e store.PipelineExecution, stage, kind string, c pipeline.Condition, now time.Time) (store.ConditionRun, error) {
	r := g.r
	d, err := r.declaration(ctx, e.PipelineName, e.PipelineVersion)
	if err != nil {
		return store.ConditionRun{}, err
	}
	run := store.ConditionRun{Kind: kind, LastStatusChange: now}
	var outcomes []condition.Outcome
	for _, rule := range c.Rules {
		all, err := r.prior(ctx, d, e, stage, slices.Collect(maps.Values(rule.Configuration)), rule.InputArtifacts)
		if err != nil {
			return run, err
		}
		vc := variables.Context{PipelineExecutionID: e.PipelineExecutionID, Pipeline: variables.Map(e.Variables), Namespaces: namespaces(all)}
		rr := store.RuleRun{
			RuleName: rule.Name, RuleExecutionID: r.newID(),
			RuleTypeID: store.ActionTypeID{Category: rule.RuleTypeID.Category, Owner: rule.RuleTypeID.Owner,
				Provider: rule.RuleTypeID.Provider, Version: rule.RuleTypeID.Version},
			Configuration: rule.Configuration, Region: rule.Region, RoleArn: rule.RoleArn,
			StartTime: now, LastUpdateTime: now,
		}
		var out condition.Outcome
		resolved, err := variables.Resolve(rule.Configuration, vc)
		if err != nil {
			msg := fmt.Sprintf("rule %s: %v", rule.Name, err)
			out = condition.Outcome{Status: condition.Failed, Summary: msg, ErrorCode: condition.CodeConfiguration, ErrorMessage: msg}
		} else {
			rr.ResolvedConfiguration = resolved
			out = condition.Check(rule.Name, rule.RuleTypeID.Provider, resolved, now)
		}
		rr.Status, rr.Summary, rr.Until = out.Status, out.Summary, out.Until
		if out.ErrorCode != "" {
			rr.ErrorDetails = &store.ErrorDetails{Code: out.ErrorCode, Message: out.ErrorMessage}
		}
		run.Rules = append(run.Rules, rr)
		outcomes = append(outcomes, out)
	}
	run.Status, _ = condition.Combine(outcomes)
	run.Summary = "Every rule succeeded."
	for _, rr := range run.Rules {
		if rr.Status == run.Status && run.Status != condition.Succeeded {
			run.Summary = rr.Summary
			break
		}
	}
	return run, nil
}

// Rollback implements gate.Conditions: the stage that failed in e rolls
// back to the last execution that succeeded in it, in the pipeline's
// current version. The rollback execution's id derives from the failed
// execution, stage and attempt, so that starting it again starts nothing.
func (g gateConditions) Rollback(ctx context.Context, e store.PipelineExecution, stage string) error {
	r := g.r
	d, version, err := r.Declaration(ctx, e.PipelineName, 0)
	if err != nil {
		return err
	}
	target, err := r.lastSucceeded(ctx, e.PipelineName, stage, version, e.PipelineExecutionID)
	if err != nil || target == nil {
		// No execution succeeded in the stage yet: nothing to roll back to.
		return err
	}
	se, err := r.Store.GetStageExecution(ctx, e.PipelineName, e.PipelineExecutionID, stage)
	if err != nil {
		return fmt.Errorf("read stage execution: %w", err)
	}
	id := uuid.NewSHA1(rollbackIDs, fmt.Appendf(nil, "%s/%s/%s/%d", e.PipelineName, e.PipelineExecutionID, stage, se.Value.Attempt)).String()
	_, err = r.startRollback(ctx, d, version, stage, *target, id,
		store.ExecutionTrigger{TriggerType: store.TriggerAutomatedRollback, TriggerDetail: e.PipelineExecutionID})
	return err
}

// rollbackIDs is the namespace of the ids of automatic rollbacks.
var rollbackIDs = uuid.MustParse("8a6f0e7c-2d0b-4d0e-9a53-5b1c2a7f4e10")

// lastSucceeded is the newest standard execution of the pipeline's version
// that succeeded in stage, other than except; nil when there is none.
func (r *Runtime) lastSucceeded(ctx context.Context, pipelineName, stage string, version int, except string) (*store.PipelineExecution, error) {
	next := ""
	for {
		execs, token, err := r.Store.ListPipelineExecutions(ctx, pipelineName, 100, next)
		if err != nil {
			return nil, fmt.Errorf("list executions of %s: %w", pipelineName, err)
		}
		for _, e := range execs {
			if e.PipelineExecutionID == except || e.ExecutionType == store.TypeRollback || e.PipelineVersion != version {
				continue
			}
			se, err := r.Store.GetStageExecution(ctx, pipelineName, e.PipelineExecutionID, stage)
			switch {
			case errors.Is(err, store.ErrNotFound):
				continue
			case err != nil:
				return nil, fmt.Errorf("read stage execution: %w", err)
			}
			if se.Value.Status == store.StageSucceeded {
				return &e, nil
			}
		}
		if token == "" {
			return nil, nil
		}
		next = token
	}
}

// startRollback records and starts a rollback execution of stage to
// target: it runs the stage alone, with the target's artifact revisions and
// variables.
func (r *Runtime) startRollback(ctx context.Context, d *pipeline.Declaration, version int, stage string, target store.PipelineExecution, id string, trigger store.ExecutionTrigger) (string, error) {
	now := r.now()
	e := store.PipelineExecution{
		PipelineName: d.Name, PipelineVersion: version, PipelineExecutionID: id,
		Status: store.ExecutionInProgress, Variables: target.Variables, ArtifactRevisions: target.ArtifactRevisions,
		Trigger: trigger, ExecutionMode: string(d.EffectiveExecutionMode()), ExecutionType: store.TypeRollback,
		StartTime: now, LastUpdateTime: now,
		Rollback: &store.RollbackMetadata{RollbackTargetPipelineExecutionID: target.PipelineExecutionID, StageName: stage},
	}
	if err := r.Store.CreatePipelineExecution(ctx, e); err != nil && !errors.Is(err, store.ErrConditionFailed) {
		return "", fmt.Errorf("record rollback execution: %w", err)
	}
	if err := r.Engine.StartExecution(ctx, d.Name, id, []byte(`{}`)); err != nil {
		return "", fmt.Errorf("start state machine execution: %w", err)
	}
	return id, nil
}

// RollbackStage answers RollbackStage: a new execution of type ROLLBACK
// runs the stage with the artifacts and variables of the target
// execution, which must have succeeded in it (execution.CheckRollback).
func (r *Runtime) RollbackStage(ctx context.Context, pipelineName, stage, targetID, user string) (string, error) {
	d, err := r.latestWithStage(ctx, pipelineName, stage)
	if err != nil {
		return "", err
	}
	_, version, err := r.Declaration(ctx, pipelineName, 0)
	if err != nil {
		return "", err
	}
	t, err := r.Store.GetPipelineExecution(ctx, pipelineName, targetID)
	if errors.Is(err, store.ErrNotFound) {
		return "", &execution.Rejection{Code: "PipelineExecutionNotFoundException", Message: "no execution " + targetID + " of pipeline " + pipelineName}
	}
	if err != nil {
		return "", fmt.Errorf("read pipeline execution %s: %w", targetID, err)
	}
	req := execution.RollbackRequest{Stage: stage, First: d.Stages[0].Name == stage, Target: t.Value, PipelineVersion: version}
	if se, err := r.Store.GetStageExecution(ctx, pipelineName, targetID, stage); err == nil {
		req.TargetStage = &se.Value
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("read stage execution: %w", err)
	}
	c, err := r.Store.GetStageControl(ctx, pipelineName, stage)
	if err != nil {
		return "", fmt.Errorf("read stage %s: %w", stage, err)
	}
	req.Control = c.Value
	if id := c.Value.LatestExecutionID; id != "" {
		if se, err := r.Store.GetStageExecution(ctx, pipelineName, id, stage); err == nil {
			req.Latest = &se.Value
		} else if !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("read stage execution: %w", err)
		}
	}
	if err := execution.CheckRollback(req); err != nil {
		return "", err
	}
	return r.startRollback(ctx, d, version, stage, t.Value, r.newID(), store.ExecutionTrigger{TriggerType: store.TriggerManualRollback, TriggerDetail: user})
}

// LastSucceededInStage is the newest standard execution of the pipeline's
// current version that succeeded in stage: RollbackStage's default target.
func (r *Runtime) LastSucceededInStage(ctx context.Context, pipelineName, stage string) (string, error) {
	if _, err := r.latestWithStage(ctx, pipelineName, stage); err != nil {
		return "", err
	}
	_, version, err := r.Declaration(ctx, pipelineName, 0)
	if err != nil {
		return "", err
	}
	e, err := r.lastSucceeded(ctx, pipelineName, stage, version, "")
	if err != nil {
		return "", err
	}
	if e == nil {
		return "", &execution.Rejection{Code: "UnableToRollbackStageException",
			Message: "no execution of the pipeline's current version succeeded in stage " + stage}
	}
	return e.PipelineExecutionID, nil
}

// OverrideStageCondition answers OverrideStageCondition: the entry
// conditions an execution waits for at a stage are overridden, and it
// enters the stage.
func (r *Runtime) OverrideStageCondition(ctx context.Context, pipelineName, stage, id, kind, user string) error {
	if _, err := r.latestWithStage(ctx, pipelineName, stage); err != nil {
		return err
	}
	return r.Gate().Override(ctx, pipelineName, stage, id, kind, user)
}

// clockAlarms sets the gate's alarms as timers on the engine's clock, in
// this process; OpenEngine sets again those of the executions parked when
// a process stopped.
type clockAlarms struct {
	r     *Runtime
	clock states.Clock
}

// Set implements gate.Alarms.
func (a clockAlarms) Set(_ context.Context, at time.Time, pipelineName, stage, id string) error {
	t := a.clock.NewTimer(at)
	go func() {
		<-t.C()
		if err := a.r.Gate().Wake(context.Background(), pipelineName, stage, id); err != nil {
			a.r.log().Error("evaluate entry conditions again", "pipeline", pipelineName, "stage", stage, "execution", id, "error", err)
		}
		// A virtual clock gave the firing timer a unit of activity.
		if busy, ok := a.clock.(interface{ Idle() }); ok {
			busy.Idle()
		}
	}()
	return nil
}

// resumeAlarms sets the alarms of every execution parked at a stage.
func (r *Runtime) resumeAlarms(ctx context.Context) error {
	next := ""
	for {
		entries, token, err := r.Store.ListPipelineEntries(ctx, 100, next)
		if err != nil {
			return fmt.Errorf("list pipelines: %w", err)
		}
		for _, p := range entries {
			controls, err := r.Store.ListStageControls(ctx, p.Name)
			if err != nil {
				return fmt.Errorf("list stages of %s: %w", p.Name, err)
			}
			for _, c := range controls {
				for _, w := range c.Parked {
					if err := r.Alarms.Set(ctx, w.Until, c.PipelineName, c.StageName, w.PipelineExecutionID); err != nil {
						return err
					}
				}
			}
		}
		if token == "" {
			return nil
		}
		next = token
	}
}
