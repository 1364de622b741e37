package execution

import (
	"fmt"
	"time"

	"github.com/sluice-ci/sluice/internal/store"
)

// Retry modes of RetryStageExecution.
const (
	RetryFailedActions = "FAILED_ACTIONS"
	RetryAllActions    = "ALL_ACTIONS"
)

// RetryRequest is what RetryStageExecution decides on.
type RetryRequest struct {
	Mode string
	// Execution is the pipeline execution named in the request.
	Execution store.PipelineExecution
	// Stage is that execution's record of the stage (nil: it never ran it).
	Stage *store.StageExecution
	// Control is the stage's control item (who entered it last).
	Control store.StageControl
	// Actions are the latest attempts of the stage's actions in this
	// execution.
	Actions []store.ActionExecution
	// PipelineVersion is the pipeline's current version.
	PipelineVersion int
}

// Retry decides a RetryStageExecution with CodePipeline's conditions: the
// stage failed or was stopped (waiting for its actions or abandoning them)
// in this execution, this execution is the latest to have run the stage,
// the pipeline has not been updated since, a failed stage has failed
// actions, and for ALL_ACTIONS none is still in progress. It returns the
// stage record to write, at the next attempt, and the execution back in
// progress (no longer abandoned: a later stop decides afresh).
func Retry(r RetryRequest, now time.Time) (store.StageExecution, store.PipelineExecution, error) {
	if r.Mode != RetryFailedActions && r.Mode != RetryAllActions {
		return store.StageExecution{}, store.PipelineExecution{}, reject("ValidationException",
			fmt.Sprintf("retryMode %q is not one of FAILED_ACTIONS, ALL_ACTIONS", r.Mode))
	}
	if r.Stage == nil {
		return store.StageExecution{}, store.PipelineExecution{}, reject("StageNotRetryableException",
			"the stage has not run in pipeline execution "+r.Execution.PipelineExecutionID)
	}
	se, e := *r.Stage, r.Execution
	switch {
	case r.Control.LatestExecutionID != "" && r.Control.LatestExecutionID != e.PipelineExecutionID:
		return se, e, reject("NotLatestPipelineExecutionException",
			"the stage has run in a later pipeline execution, "+r.Control.LatestExecutionID)
	case se.Status != store.StageFailed && se.Status != store.StageStopped:
		return se, e, reject("StageNotRetryableException", "the stage is "+se.Status+", not Failed or Stopped")
	case se.NextAttempt > se.Attempt:
		return se, e, reject("ConflictException", "a retry of the stage is already under way")
	case e.PipelineVersion != r.PipelineVersion:
		return se, e, reject("StageNotRetryableException",
			fmt.Sprintf("the pipeline was updated from version %d to %d since the execution started", e.PipelineVersion, r.PipelineVersion))
	}
	failed := 0
	for _, a := range r.Actions {
		switch a.Status {
		case store.ActionFailed, store.ActionAbandoned:
			failed++
		case store.ActionInProgress:
			if r.Mode == RetryAllActions {
				return se, e, reject("StageNotRetryableException", "action "+a.ActionName+" is still in progress")
			}
		}
	}
	if failed == 0 && se.Status == store.StageFailed {
		return se, e, reject("StageNotRetryableException", "the stage has no failed actions")
	}
	se.NextAttempt = se.Attempt + 1
	se.RetryMode = r.Mode
	se.ManualRetries++
	se.LatestRetryTrigger = store.RetryManual
	se.LastUpdateTime = now
	e.Status = store.ExecutionInProgress
	e.StatusSummary = ""
	e.StopTrigger = nil
	e.Abandon = false
	e.LastUpdateTime = now
	return se, e, nil
}

// SkipOnRetry reports whether an action is skipped in a retried stage: in
// FAILED_ACTIONS mode an action whose latest attempt succeeded is not run
// again.
func SkipOnRetry(se store.StageExecution, latest *store.ActionExecution) bool {
	return se.RetryMode == RetryFailedActions && se.Attempt > 1 && latest != nil &&
		latest.Attempt < se.Attempt && latest.Status == store.ActionSucceeded
}

// EnterStage returns the stage record of an execution entering a stage: a
// new one at attempt 1, or the failed one at the attempt a retry asked for.
// A stage already in progress (a redelivered entry) is returned unchanged.
func EnterStage(existing *store.StageExecution, pipeline, executionID, stage string, now time.Time) store.StageExecution {
	if existing == nil {
		return store.StageExecution{
			PipelineName: pipeline, PipelineExecutionID: executionID, StageName: stage,
			Status: store.StageInProgress, Type: "STANDARD", Attempt: 1,
			StartTime: now, LastUpdateTime: now,
		}
	}
	se := *existing
	if se.NextAttempt > se.Attempt {
		se.Attempt = se.NextAttempt
		se.NextAttempt = 0
		se.Status = store.StageInProgress
		se.StartTime = now
		se.LastUpdateTime = now
	}
	return se
}

// MaxAutoRetries is how many times a stage's onFailure result RETRY
// retries it in one execution: CodePipeline allows one automatic retry.
const MaxAutoRetries = 1

// AutoRetry decides the automatic retry of a failed stage (onFailure
// result RETRY, with mode FAILED_ACTIONS or ALL_ACTIONS): the stage goes
// again at its next attempt, as after RetryStageExecution, while fewer than
// MaxAutoRetries retries were made. An execution being stopped is not
// retried.
func AutoRetry(se store.StageExecution, e store.PipelineExecution, mode string, now time.Time) (store.StageExecution, bool) {
	if se.AutoRetries >= MaxAutoRetries || e.Status != store.ExecutionInProgress {
		return se, false
	}
	if mode == "" {
		mode = RetryAllActions
	}
	se.NextAttempt = se.Attempt + 1
	se.RetryMode = mode
	se.AutoRetries++
	se.LatestRetryTrigger = store.RetryAutomated
	se.LastUpdateTime = now
	return se, true
}

// Outcome is how a stage ends.
type Outcome int

const (
	// Completed: every action succeeded.
	Completed Outcome = iota
	// FailedActions: an action failed (or timed out, or was rejected).
	FailedActions
	// Skipped: an entry condition engaged SKIP; no action ran.
	Skipped
	// EntryRefused: an entry condition engaged FAIL; no action ran.
	EntryRefused
	// SuccessRefused: every action succeeded, but an onSuccess condition
	// engaged FAIL or ROLLBACK.
	SuccessRefused
)

// FinishStage returns the stage and execution records for a stage that ends
// with outcome. An execution being stopped (stop and wait) ends Stopped
// here: its stage Succeeded when every action did, Stopped otherwise (actions
// that never started, or failed, can be retried). A failed stage fails the
// execution; the last stage completing makes the execution succeed. The
// error name is what the gate returns to end the state machine execution
// ("" to go on).
func FinishStage(se store.StageExecution, e store.PipelineExecution, outcome Outcome, last bool, now time.Time) (store.StageExecution, store.PipelineExecution, string) {
	se.LastUpdateTime, e.LastUpdateTime = now, now
	switch {
	case e.Status == store.ExecutionStopping || e.Status == store.ExecutionStopped:
		se.Status, e.Status = store.StageStopped, store.ExecutionStopped
		if outcome == Completed {
			se.Status = store.StageSucceeded
		}
		return se, e, ErrPipelineStopped
	case outcome == FailedActions || outcome == EntryRefused || outcome == SuccessRefused:
		se.Status, e.Status = store.StageFailed, store.ExecutionFailed
		e.StatusSummary = "Stage " + se.StageName + " failed"
		switch outcome {
		case EntryRefused:
			e.StatusSummary += ": its entry conditions were not met"
		case SuccessRefused:
			e.StatusSummary += ": its success conditions were not met"
		}
		return se, e, ErrStageFailed
	}
	se.Status = store.StageSucceeded
	if outcome == Skipped {
		se.Status = store.StageSkipped
	}
	if last {
		e.Status = store.ExecutionSucceeded
	}
	return se, e, ""
}

// Stop decides a StopPipelineExecution: only an execution in progress can be
// stopped; stopping again is refused unless a stop-and-wait is turned into
// an abandon.
func Stop(e store.PipelineExecution, abandon bool, reason string, now time.Time) (store.PipelineExecution, error) {
	switch e.Status {
	case store.ExecutionInProgress:
	case store.ExecutionStopping:
		if e.Abandon || !abandon {
			return e, reject("DuplicatedStopRequestException",
				"pipeline execution "+e.PipelineExecutionID+" is already stopping")
		}
	default:
		return e, reject("PipelineExecutionNotStoppableException",
			"pipeline execution "+e.PipelineExecutionID+" is "+e.Status+", not InProgress")
	}
	if len(reason) > 200 {
		return e, reject("ValidationException", "the reason is longer than 200 characters")
	}
	e.Status = store.ExecutionStopping
	e.Abandon = abandon
	e.StopTrigger = &store.StopExecutionTrigger{Reason: reason}
	e.LastUpdateTime = now
	return e, nil
}

// Abandoned marks an action attempt that was in progress when its execution
// was stopped by abandoning it.
func Abandoned(a store.ActionExecution, now time.Time) store.ActionExecution {
	if a.Status == store.ActionInProgress {
		a.Status = store.ActionAbandoned
		a.LastUpdateTime = now
	}
	return a
}

// Decide records a PutApprovalResult on an approval waiting for it.
func Decide(a store.Approval, stage, action, token, status, summary, user string, now time.Time) (store.Approval, error) {
	switch {
	case status != store.ApprovalApproved && status != store.ApprovalRejected:
		return a, reject("ValidationException", fmt.Sprintf("status %q is not one of Approved, Rejected", status))
	case len(summary) > 512:
		return a, reject("ValidationException", "the summary is longer than 512 characters")
	case a.Token != token || a.StageName != stage || a.ActionName != action:
		return a, reject("InvalidApprovalTokenException", "the approval token is not valid for action "+action+" in stage "+stage)
	case a.Status != store.ApprovalPending:
		return a, reject("ApprovalAlreadyCompletedException", "the approval is already "+a.Status)
	case !now.Before(a.Expires):
		return a, reject("ApprovalAlreadyCompletedException", "the approval expired at "+a.Expires.UTC().Format(time.RFC3339))
	}
	a.Status, a.Summary, a.DecidedBy, a.DecidedAt = status, summary, user, now
	return a, nil
}
