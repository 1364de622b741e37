package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/store"
)

// ExecutionEnded settles a pipeline execution whose state machine execution
// ended without its gates finishing it: the engine ended it (the history
// limit, a runtime error, a timeout), or it was stopped in the engine, by
// StopPipelineExecution abandoning it or by a StopExecution of its own. The
// execution ends with status (store.ExecutionFailed or
// store.ExecutionStopped) and cause as its summary, or as its stop reason
// when it has none; its stages in progress end Failed or Stopped, its
// actions in progress Failed or Abandoned (their approvals expire, their
// parked tasks are dropped); it leaves every stage it holds or waits for,
// and the next waiter, if the transition is open, goes in.
//
// An execution the gates ended (Succeeded, Failed, Stopped, Superseded) is
// left as it is, as is one that a RetryStageExecution is about to redrive:
// calling ExecutionEnded for every state machine execution that ends, or
// again for the same one, changes nothing more.
//
// In the cloud, this is what the EventBridge rule on Step Functions'
// "Step Functions Execution Status Change" events (status FAILED,
// TIMED_OUT or ABORTED) of the pipelines' state machines calls. Locally,
// the embedded engine's watcher (OpenEngine) calls it for every execution
// that closes.
func (r *Runtime) ExecutionEnded(ctx context.Context, pipelineName, id, status, cause string) error {
	var stageStatus string
	switch status {
	case store.ExecutionFailed:
		stageStatus = store.StageFailed
	case store.ExecutionStopped:
		stageStatus = store.StageStopped
	default:
		return fmt.Errorf("settle execution %s: status %q is not %s or %s", id, status, store.ExecutionFailed, store.ExecutionStopped)
	}
	e, err := r.Store.GetPipelineExecution(ctx, pipelineName, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted with its pipeline
	}
	if err != nil {
		return fmt.Errorf("read pipeline execution %s: %w", id, err)
	}
	if !unsettled(e.Value.Status) {
		return nil
	}
	stages, err := r.Store.ListStageExecutions(ctx, pipelineName, id)
	if err != nil {
		return fmt.Errorf("list stage executions of %s: %w", id, err)
	}
	if e.Value.Status == store.ExecutionInProgress {
		for _, se := range stages {
			if se.NextAttempt > se.Attempt {
				return nil // RetryStageExecution redrives it
			}
		}
	}
	d, err := r.declaration(ctx, pipelineName, e.Value.PipelineVersion)
	if err != nil {
		return err
	}
	mode, now, observed := e.Value.ExecutionMode, r.now(), e.Value.Status
	for _, st := range d.Stages {
		if err := r.leaveEnded(ctx, pipelineName, st.Name, id, mode, stageStatus, observed, now); err != nil {
			return fmt.Errorf("release stage %s: %w", st.Name, err)
		}
	}
	actions, err := r.Store.ListActionExecutions(ctx, pipelineName, id)
	if err != nil {
		return err
	}
	for _, a := range actions {
		if a.Status != store.ActionInProgress {
			continue
		}
		if err := r.endAction(ctx, a, status, cause, now); err != nil {
			return fmt.Errorf("end action %s/%s: %w", a.StageName, a.ActionName, err)
		}
	}
	return r.updateExecution(ctx, pipelineName, id, func(x *store.PipelineExecution) bool {
		if x.Status != observed {
			// Settled meanwhile (StopPipelineExecution abandoning it), or
			// taken up again by a RetryStageExecution since.
			return false
		}
		x.Status = status
		switch {
		case status == store.ExecutionFailed:
			x.StatusSummary = cause
		case x.StopTrigger == nil:
			x.StopTrigger = &store.StopExecutionTrigger{Reason: cause}
		}
		return true
	})
}

// unsettled reports whether an execution's status says it runs.
func unsettled(status string) bool {
	return status == store.ExecutionInProgress || status == store.ExecutionStopping
}

// leaveEnded takes an ended execution out of a stage: it releases the lock
// or leaves the waiters, and ends the stage's record if it is in progress.
// It changes nothing once the execution's status is no longer observed,
// the one its settling began with: a retry may have taken it up again and
// let it into the stage.
func (r *Runtime) leaveEnded(ctx context.Context, pipelineName, stage, id, mode, stageStatus, observed string, now time.Time) error {
	c, err := r.Store.GetStageControl(ctx, pipelineName, stage)
	if err != nil {
		return fmt.Errorf("read stage %s: %w", stage, err)
	}
	inside := c.Value.Holder == id
	for _, w := range c.Value.Waiters {
		inside = inside || w.PipelineExecutionID == id
	}
	se, err := r.Store.GetStageExecution(ctx, pipelineName, id, stage)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return fmt.Errorf("read stage execution: %w", err)
	case se.Value.Status == store.StageInProgress:
		inside = true
	}
	if !inside {
		return nil
	}
	_, err = r.Gate().Apply(ctx, pipelineName, stage, func(ctx context.Context, c store.StageControl) (execution.Decision, []store.Write, error) {
		e, err := r.Store.GetPipelineExecution(ctx, pipelineName, id)
		if err != nil {
			return execution.Decision{}, nil, fmt.Errorf("read pipeline execution %s: %w", id, err)
		}
		if e.Value.Status != observed {
			return execution.Decision{Control: c}, nil, nil
		}
		d := execution.Leave(c, mode, id, now)
		cur, err := r.Store.GetStageExecution(ctx, pipelineName, id, stage)
		if errors.Is(err, store.ErrNotFound) {
			return d, nil, nil
		}
		if err != nil || cur.Value.Status != store.StageInProgress {
			return d, nil, err
		}
		cur.Value.Status, cur.Value.LastUpdateTime = stageStatus, now
		w, err := store.StageExecutionWrite(cur)
		return d, []store.Write{w}, err
	})
	return err
}

// endAction ends an action attempt left in progress by an ended
// execution: Abandoned when it was stopped, Failed with the cause
// otherwise. Its pending approval expires and its parked task is dropped,
// so that a late report on it changes nothing.
func (r *Runtime) endAction(ctx context.Context, a store.ActionExecution, status, cause string, now time.Time) error {
	for range maxConflicts {
		rec, err := r.Store.GetActionExecution(ctx, a.PipelineName, a.PipelineExecutionID, a.StageName, a.ActionName, a.Attempt)
		if err != nil {
			return err
		}
		if rec.Value.Status != store.ActionInProgress {
			return nil
		}
		if status == store.ExecutionStopped {
			rec.Value = execution.Abandoned(rec.Value, now)
		} else {
			rec.Value = finish(rec.Value, action.Failed(action.CodeJobFailed, "%s", cause), nil, now)
		}
		w, err := store.ActionExecutionWrite(rec)
		if err != nil {
			return err
		}
		writes := []store.Write{w}
		if rec.Value.Token != "" {
			if ap, err := r.Store.GetApproval(ctx, a.PipelineName, rec.Value.Token); err == nil && ap.Value.Status == store.ApprovalPending {
				ap.Value.Status, ap.Value.DecidedAt = store.ApprovalExpired, now
				aw, err := store.ApprovalWrite(ap)
				if err != nil {
					return err
				}
				writes = append(writes, aw)
			}
		}
		pk, err := r.Store.GetParkedTask(ctx, a.PipelineName, a.PipelineExecutionID, a.StageName, a.ActionName)
		switch {
		case err == nil && pk.Value.Attempt == a.Attempt:
			writes = append(writes, store.DeleteParkedTaskWrite(pk))
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("read parked task: %w", err)
		}
		err = r.Store.Transact(ctx, writes...)
		if !errors.Is(err, store.ErrConditionFailed) {
			return err
		}
	}
	return fmt.Errorf("still conflicting after %d attempts", maxConflicts)
}
