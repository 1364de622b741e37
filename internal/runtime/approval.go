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

// park starts a manual approval: the attempt's record, with the approval
// token GetPipelineState shows, and the approval holding the task token
// until PutApprovalResult or the task's timeout (the compiled machine's
// TimeoutSecondsPath: timeoutInMinutes or 7 days).
func (r *Runtime) park(ctx context.Context, ac *attemptContext, rec store.Versioned[store.ActionExecution], token string, now time.Time) (ActionResult, error) {
	minutes := 0
	if ac.action.TimeoutInMinutes != nil {
		minutes = int(*ac.action.TimeoutInMinutes)
	}
	rec.Value.Token = r.newID()
	ap := store.Approval{
		Token:               rec.Value.Token,
		PipelineName:        rec.Value.PipelineName,
		PipelineExecutionID: rec.Value.PipelineExecutionID,
		StageName:           rec.Value.StageName,
		ActionName:          rec.Value.ActionName,
		Attempt:             rec.Value.Attempt,
		TaskToken:           token,
		CustomData:          rec.Value.Input.ResolvedConfiguration["CustomData"],
		ExternalEntityLink:  rec.Value.Input.ResolvedConfiguration["ExternalEntityLink"],
		Expires:             now.Add(execution.ApprovalTimeout(minutes)),
		Status:              store.ApprovalPending,
	}
	rw, err := store.ActionExecutionWrite(rec)
	if err != nil {
		return ActionResult{}, err
	}
	aw, err := store.ApprovalWrite(store.Versioned[store.Approval]{Value: ap})
	if err != nil {
		return ActionResult{}, err
	}
	if err := r.Store.Transact(ctx, rw, aw); err != nil {
		return ActionResult{}, fmt.Errorf("record approval: %w", err)
	}
	return ActionResult{Status: store.ActionInProgress}, nil
}

// repark keeps a waiting approval's task token current: a retried task
// brings a new one.
func (r *Runtime) repark(ctx context.Context, rec store.ActionExecution, token string) (ActionResult, error) {
	for range maxConflicts {
		ap, err := r.Store.GetApproval(ctx, rec.PipelineName, rec.Token)
		if err != nil {
			return ActionResult{}, fmt.Errorf("read approval: %w", err)
		}
		if ap.Value.TaskToken == token {
			return ActionResult{Status: store.ActionInProgress}, nil
		}
		ap.Value.TaskToken = token
		w, err := store.ApprovalWrite(ap)
		if err != nil {
			return ActionResult{}, err
		}
		err = r.Store.Transact(ctx, w)
		if !errors.Is(err, store.ErrConditionFailed) {
			return ActionResult{Status: store.ActionInProgress}, err
		}
	}
	return ActionResult{}, fmt.Errorf("update approval: still conflicting after %d attempts", maxConflicts)
}

// ApprovalInput is PutApprovalResult's request.
type ApprovalInput struct {
	Pipeline, Stage, Action string
	Token                   string // the approval token from GetPipelineState
	Status                  string // Approved or Rejected
	Summary                 string
	User                    string // who decided, recorded as the action's updatedBy
}

// PutApprovalResult approves or rejects a waiting manual approval: the
// action succeeds or fails, and the execution goes on (or its stage fails).
// Asking again after a decision that did not reach the state machine
// delivers it; otherwise a decided approval is ApprovalAlreadyCompleted.
func (r *Runtime) PutApprovalResult(ctx context.Context, in ApprovalInput) error {
	ap, err := r.Store.GetApproval(ctx, in.Pipeline, in.Token)
	if errors.Is(err, store.ErrNotFound) {
		return &execution.Rejection{Code: "InvalidApprovalTokenException", Message: "no approval of " + in.Action + " in stage " + in.Stage + " has this token"}
	}
	if err != nil {
		return fmt.Errorf("read approval: %w", err)
	}
	if ap.Value.Status == in.Status && !ap.Value.Delivered {
		return r.deliverApproval(ctx, ap)
	}
	decided, err := execution.Decide(ap.Value, in.Stage, in.Action, in.Token, in.Status, in.Summary, in.User, r.now())
	if err != nil {
		return err
	}
	rec, err := r.Store.GetActionExecution(ctx, ap.Value.PipelineName, ap.Value.PipelineExecutionID, ap.Value.StageName, ap.Value.ActionName, ap.Value.Attempt)
	if err != nil {
		return fmt.Errorf("read approval action: %w", err)
	}
	res := &action.Result{Status: action.StatusSucceeded, Summary: in.Summary}
	if in.Status == store.ApprovalRejected {
		res = action.Failed(action.CodeJobFailed, "Rejected by %s: %s", orSomeone(in.User), in.Summary)
		res.Summary = in.Summary
	}
	rec.Value = finish(rec.Value, res, nil, r.now())
	rec.Value.UpdatedBy = in.User
	ap.Value = decided
	rw, err := store.ActionExecutionWrite(rec)
	if err != nil {
		return err
	}
	aw, err := store.ApprovalWrite(ap)
	if err != nil {
		return err
	}
	if err := r.Store.Transact(ctx, rw, aw); err != nil {
		if errors.Is(err, store.ErrConditionFailed) {
			return &execution.Rejection{Code: "ApprovalAlreadyCompletedException", Message: "the approval was decided or expired meanwhile"}
		}
		return fmt.Errorf("record approval: %w", err)
	}
	ap.Version++
	return r.deliverApproval(ctx, ap)
}

func orSomeone(user string) string {
	if user == "" {
		return "an approver"
	}
	return user
}

// deliverApproval answers the approval's task and marks it delivered.
func (r *Runtime) deliverApproval(ctx context.Context, ap store.Versioned[store.Approval]) error {
	status := store.ActionSucceeded
	if ap.Value.Status == store.ApprovalRejected {
		status = store.ActionFailed
	}
	if _, err := r.answer(ctx, ap.Value.TaskToken, status); err != nil {
		return err
	}
	ap.Value.Delivered = true
	w, err := store.ApprovalWrite(ap)
	if err != nil {
		return err
	}
	if err := r.Store.Transact(ctx, w); err != nil && !errors.Is(err, store.ErrConditionFailed) {
		return fmt.Errorf("mark approval delivered: %w", err)
	}
	return nil
}

// PendingApprovals lists the approvals of an execution that wait for a
// decision (all executions when id is empty).
func (r *Runtime) PendingApprovals(ctx context.Context, pipeline, id string) ([]store.Approval, error) {
	all, err := r.Store.ListApprovals(ctx, pipeline)
	if err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	var out []store.Approval
	for _, a := range all {
		if a.Status == store.ApprovalPending && (id == "" || a.PipelineExecutionID == id) {
			out = append(out, a)
		}
	}
	return out, nil
}

// parkTask keeps the task token of an attempt whose outcome arrives later.
func (r *Runtime) parkTask(ctx context.Context, rec store.Versioned[store.ActionExecution], token string) error {
	v := rec.Value
	pk := store.ParkedTask{
		PipelineName: v.PipelineName, PipelineExecutionID: v.PipelineExecutionID,
		StageName: v.StageName, ActionName: v.ActionName, Attempt: v.Attempt,
		TaskToken: token, Since: r.now(),
	}
	rw, err := store.ActionExecutionWrite(rec)
	if err != nil {
		return err
	}
	pw, err := store.ParkedTaskWrite(store.Versioned[store.ParkedTask]{Value: pk, Version: store.AnyVersion})
	if err != nil {
		return err
	}
	// The job a worker outside the engine reports on (GetJobDetails,
	// PutJobSuccessResult) is the attempt, by its action execution id.
	jw, err := store.JobWrite(store.Versioned[store.Job]{Version: store.AnyVersion, Value: store.Job{
		ID: v.ActionExecutionID, PipelineName: v.PipelineName, PipelineExecutionID: v.PipelineExecutionID,
		StageName: v.StageName, ActionName: v.ActionName, Attempt: v.Attempt,
		Status: store.JobInProgress, Created: v.StartTime, LastUpdateTime: pk.Since,
	}})
	if err != nil {
		return err
	}
	if err := r.Store.Transact(ctx, rw, pw, jw); err != nil {
		return fmt.Errorf("park action task: %w", err)
	}
	return nil
}

// CompleteAction ends an attempt that its provider left in progress, with
// the outcome learnt later (a build's state-change event, a continuation of
// a Lambda invoke). Completing it again is harmless.
func (r *Runtime) CompleteAction(ctx context.Context, pipeline, id, stage, actionName string, res *action.Result) error {
	pk, err := r.Store.GetParkedTask(ctx, pipeline, id, stage, actionName)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read parked task: %w", err)
	}
	e, err := r.Store.GetPipelineExecution(ctx, pipeline, id)
	if err != nil {
		return fmt.Errorf("read pipeline execution: %w", err)
	}
	rec, err := r.Store.GetActionExecution(ctx, pipeline, id, stage, actionName, pk.Value.Attempt)
	if err != nil {
		return fmt.Errorf("read action execution: %w", err)
	}
	d, err := r.declaration(ctx, pipeline, e.Value.PipelineVersion)
	if err != nil {
		return err
	}
	var outputs []action.Artifact
	if st := d.Stage(stage); st != nil {
		if a := st.Action(actionName); a != nil {
			for _, oa := range a.OutputArtifacts {
				outputs = append(outputs, action.Artifact{Name: oa.Name, Key: ArtifactKey(pipeline, id, oa.Name)})
			}
		}
	}
	if _, err := r.complete(ctx, e.Value, rec, res, outputs, pk.Value.TaskToken); err != nil {
		return err
	}
	if err := r.Store.Transact(ctx, store.DeleteParkedTaskWrite(pk)); err != nil && !errors.Is(err, store.ErrConditionFailed) {
		return fmt.Errorf("remove parked task: %w", err)
	}
	return nil
}
