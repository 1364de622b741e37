package gate

import (
	"context"
	"fmt"
	"time"

	"github.com/sluice-ci/sluice/internal/condition"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
)

// The stage conditions, as the gate applies them:
//
//   - beforeEntry, when an execution is let into a stage (it holds the
//     stage while they run): met, the entry is answered; a rule in
//     progress (a closed deployment window) parks the entry until an
//     alarm, or OverrideStageCondition, answers it; not met, the result
//     engages: SKIP passes the stage, FAIL fails it. A stage entered again
//     for a retry does not evaluate them again.
//   - onSuccess, when every action succeeded: not met, FAIL fails the stage
//     and ROLLBACK fails it and rolls it back.
//   - onFailure, when an action failed: not met, the condition's result
//     (ROLLBACK, or FAIL) engages; met, or with no conditions, onFailure's
//     result does: RETRY retries the stage once (CodePipeline's limit on
//     automatic retries), ROLLBACK rolls it back, FAIL fails it.
//
// A rule checked as a stage ends cannot wait there (the exit gate is no
// callback): a deployment window that is closed then fails its rule.
// Where CodePipeline would keep such a rule in progress, Sluice decides at
// once.

// stage returns the declaration of a stage for an execution, nil without
// the Conditions port.
func (h *Handler) stage(ctx context.Context, e store.PipelineExecution, stage string) (*pipeline.Stage, error) {
	if h.Conditions == nil {
		return nil, nil
	}
	st, err := h.Conditions.Stage(ctx, e.PipelineName, e.PipelineVersion, stage)
	if err != nil {
		return nil, fmt.Errorf("read stage %s of pipeline %s version %d: %w", stage, e.PipelineName, e.PipelineVersion, err)
	}
	return st, nil
}

// entry evaluates the entry conditions of an execution let into a stage
// whose record is new, records their run in it, and changes the decision:
// a waiting condition parks the entry (and returns when to look again), a
// condition not met refuses it.
func (h *Handler) entry(ctx context.Context, e store.PipelineExecution, se *store.StageExecution, d execution.Decision, now time.Time) (execution.Decision, time.Time, error) {
	st, err := h.stage(ctx, e, se.StageName)
	if err != nil || st == nil || st.BeforeEntry == nil || len(st.BeforeEntry.Conditions) == 0 {
		return d, time.Time{}, err
	}
	c := st.BeforeEntry.Conditions[0]
	run, err := h.Conditions.Evaluate(ctx, e, se.StageName, condition.BeforeEntry, c, now)
	if err != nil {
		return d, time.Time{}, fmt.Errorf("evaluate the entry conditions of stage %s: %w", se.StageName, err)
	}
	var until time.Time
	switch run.Status {
	case condition.InProgress:
		until = waitUntil(run)
		d = execution.Park(d, e.PipelineExecutionID, until)
	case condition.Failed:
		result := resultOr(c.Result, pipeline.ResultFail)
		run.Result = string(result)
		name, cause := refusal(result, se.StageName)
		d = execution.Refuse(d, e.PipelineExecutionID, name, cause)
	}
	se.SetCondition(run)
	return d, until, nil
}

// waitUntil is when a waiting condition is to be evaluated again: when its
// last waiting rule may change.
func waitUntil(run store.ConditionRun) time.Time {
	var until time.Time
	for _, r := range run.Rules {
		if r.Status == condition.InProgress && r.Until.After(until) {
			until = r.Until
		}
	}
	return until
}

func resultOr(r, fallback pipeline.ConditionResult) pipeline.ConditionResult {
	if r == "" {
		return fallback
	}
	return r
}

// results evaluates the conditions of a stage that ends with outcome and
// applies onFailure's result. It returns the stage record with the runs
// (at its next attempt when onFailure retries it) and the outcome the
// stage ends with. An execution being stopped has none of them.
func (h *Handler) results(ctx context.Context, e store.PipelineExecution, se store.StageExecution, outcome execution.Outcome, now time.Time) (store.StageExecution, execution.Outcome, error) {
	if e.Status != store.ExecutionInProgress || outcome != execution.Completed && outcome != execution.FailedActions {
		return se, outcome, nil
	}
	st, err := h.stage(ctx, e, se.StageName)
	if err != nil || st == nil {
		return se, outcome, err
	}
	if outcome == execution.Completed {
		if st.OnSuccess == nil || len(st.OnSuccess.Conditions) == 0 {
			return se, outcome, nil
		}
		c := st.OnSuccess.Conditions[0]
		run, err := h.evaluateNow(ctx, e, se.StageName, condition.OnSuccess, c, now)
		if err != nil {
			return se, outcome, err
		}
		if run.Status == condition.Failed {
			run.Result = string(resultOr(c.Result, pipeline.ResultFail))
			outcome = execution.SuccessRefused
		}
		se.SetCondition(run)
		return se, outcome, nil
	}
	f := st.OnFailure
	if f == nil {
		return se, outcome, nil
	}
	result := f.Result
	if len(f.Conditions) > 0 {
		c := f.Conditions[0]
		run, err := h.evaluateNow(ctx, e, se.StageName, condition.OnFailure, c, now)
		if err != nil {
			return se, outcome, err
		}
		if run.Status == condition.Failed {
			result = resultOr(c.Result, pipeline.ResultFail)
			run.Result = string(result)
		}
		se.SetCondition(run)
	}
	se.OnFailureResult = string(resultOr(result, pipeline.ResultFail))
	if result == pipeline.ResultRetry {
		mode := ""
		if rc := f.RetryConfiguration; rc != nil {
			mode = string(rc.RetryMode)
		}
		if next, ok := execution.AutoRetry(se, e, mode, now); ok {
			return next, outcome, nil
		}
	}
	return se, outcome, nil
}

// evaluateNow evaluates a condition checked as a stage ends, where nothing
// can wait: a rule still in progress fails.
func (h *Handler) evaluateNow(ctx context.Context, e store.PipelineExecution, stage, kind string, c pipeline.Condition, now time.Time) (store.ConditionRun, error) {
	run, err := h.Conditions.Evaluate(ctx, e, stage, kind, c, now)
	if err != nil {
		return run, fmt.Errorf("evaluate the %s conditions of stage %s: %w", kind, stage, err)
	}
	if run.Status != condition.InProgress {
		return run, nil
	}
	for i := range run.Rules {
		if r := &run.Rules[i]; r.Status == condition.InProgress {
			r.Status, r.Until = condition.Failed, time.Time{}
			r.Summary += " A condition checked as the stage ends does not wait."
		}
	}
	run.Status = condition.Failed
	return run, nil
}

// rollsBack reports whether a stage that ended in e is to be rolled back:
// it failed, and onFailure's result or a condition engaged ROLLBACK. A
// rollback execution is never rolled back itself.
func rollsBack(e store.PipelineExecution, se store.StageExecution) bool {
	if se.Status != store.StageFailed || e.Rollback != nil || e.Status != store.ExecutionFailed {
		return false
	}
	if se.OnFailureResult == string(pipeline.ResultRollback) {
		return true
	}
	for _, run := range se.Conditions {
		if run.Kind != condition.BeforeEntry && run.Result == string(pipeline.ResultRollback) {
			return true
		}
	}
	return false
}

// Wake evaluates again the entry conditions of an execution parked at a
// stage (its alarm rang): met, its entry is answered; not met, their
// result engages; still waiting, a new alarm is set. An execution no
// longer parked (its entry answered, overridden or stopped) is left alone.
func (h *Handler) Wake(ctx context.Context, pipelineName, stage, id string) error {
	now := h.now()
	var until time.Time
	_, err := h.Apply(ctx, pipelineName, stage, func(ctx context.Context, c store.StageControl) (execution.Decision, []store.Write, error) {
		until = time.Time{}
		if !execution.Parks(c, id) {
			return execution.Decision{Control: c}, nil, nil
		}
		e, err := h.Store.GetPipelineExecution(ctx, pipelineName, id)
		if err != nil {
			return execution.Decision{}, nil, fmt.Errorf("read pipeline execution %s: %w", id, err)
		}
		se, err := h.Store.GetStageExecution(ctx, pipelineName, id, stage)
		if err != nil {
			return execution.Decision{}, nil, fmt.Errorf("read stage execution %s/%s: %w", id, stage, err)
		}
		st, err := h.stage(ctx, e.Value, stage)
		if err != nil || st == nil || st.BeforeEntry == nil || len(st.BeforeEntry.Conditions) == 0 {
			// The declaration has no entry conditions to wait for.
			next, _ := execution.Unpark(c, id, "", "")
			return execution.Decision{Control: next}, nil, err
		}
		cond := st.BeforeEntry.Conditions[0]
		run, err := h.Conditions.Evaluate(ctx, e.Value, stage, condition.BeforeEntry, cond, now)
		if err != nil {
			return execution.Decision{}, nil, fmt.Errorf("evaluate the entry conditions of stage %s: %w", stage, err)
		}
		switch run.Status {
		case condition.InProgress:
			until = waitUntil(run)
			c = execution.Repark(c, id, until)
		case condition.Succeeded:
			c, _ = execution.Unpark(c, id, "", "")
		default:
			result := resultOr(cond.Result, pipeline.ResultFail)
			run.Result = string(result)
			name, cause := refusal(result, stage)
			c, _ = execution.Unpark(c, id, name, cause)
		}
		se.Value.SetCondition(run)
		w, err := store.StageExecutionWrite(se)
		return execution.Decision{Control: c}, []store.Write{w}, err
	})
	if err != nil || until.IsZero() {
		return err
	}
	if err := h.Alarms.Set(ctx, until, pipelineName, stage, id); err != nil {
		return fmt.Errorf("set the alarm of stage %s for %s: %w", stage, id, err)
	}
	return nil
}

// Override answers OverrideStageCondition: the entry conditions of stage
// that an execution waits for are overridden, and it enters. Only a
// condition in progress can be overridden, and Sluice keeps only entry
// conditions in progress (onSuccess conditions are decided as the stage
// ends).
func (h *Handler) Override(ctx context.Context, pipelineName, stage, id, kind, user string) error {
	if kind != condition.BeforeEntry {
		return &execution.Rejection{Code: "ConditionNotOverridableException",
			Message: "the " + kind + " conditions of stage " + stage + " are not in progress: Sluice decides them as the stage ends"}
	}
	now := h.now()
	_, err := h.Apply(ctx, pipelineName, stage, func(ctx context.Context, c store.StageControl) (execution.Decision, []store.Write, error) {
		if !execution.Parks(c, id) {
			if c.LatestExecutionID != id {
				return execution.Decision{}, nil, &execution.Rejection{Code: "NotLatestPipelineExecutionException",
					Message: "pipeline execution " + id + " is not the latest in stage " + stage}
			}
			return execution.Decision{}, nil, &execution.Rejection{Code: "ConditionNotOverridableException",
				Message: "no entry condition of stage " + stage + " is in progress for pipeline execution " + id}
		}
		se, err := h.Store.GetStageExecution(ctx, pipelineName, id, stage)
		if err != nil {
			return execution.Decision{}, nil, fmt.Errorf("read stage execution %s/%s: %w", id, stage, err)
		}
		if run := se.Value.Condition(condition.BeforeEntry); run != nil {
			run.Status, run.LastStatusChange = condition.Overridden, now
			run.Summary = "Overridden by " + user + "."
			for i := range run.Rules {
				if r := &run.Rules[i]; r.Status == condition.InProgress {
					r.Status, r.LastUpdateTime, r.UpdatedBy, r.Until = condition.Abandoned, now, user, time.Time{}
				}
			}
		}
		next, _ := execution.Unpark(c, id, "", "")
		w, err := store.StageExecutionWrite(se)
		return execution.Decision{Control: next}, []store.Write{w}, err
	})
	return err
}
