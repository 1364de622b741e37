// Package execution holds CodePipeline's execution semantics as pure
// functions over the store's records: who enters a stage and who waits
// (SUPERSEDED, QUEUED, PARALLEL), stage transitions, stopping, retrying a
// stage, and approvals. Nothing here reads or writes anything; the gate and
// the runtime read the records, call these functions, and write what they
// return with conditional writes.
package execution

import "time"

// Error names that cross the Step Functions boundary: task-token failures
// sent by the gate and errors returned by the handlers. The compiled state
// machine catches them by these names, and the handlers' Go error types carry
// the same names (aws-lambda-go reports the type name).
const (
	// ErrSuperseded fails the entry gate of an execution replaced by a newer
	// one while waiting.
	ErrSuperseded = "Superseded"
	// ErrPipelineStopped ends an execution stopped by StopPipelineExecution.
	ErrPipelineStopped = "PipelineStopped"
	// ErrStageFailed ends an execution whose stage failed.
	ErrStageFailed = "StageFailed"
	// ErrRetryStage is returned by the exit gate of a failed stage when the
	// execution is redriven after RetryStageExecution; the machine catches it
	// and enters the stage again.
	ErrRetryStage = "RetryStage"
	// ErrStageSkipped fails the entry gate of a stage whose entry
	// conditions engaged SKIP, or that a rollback execution does not run;
	// the machine catches it into the stage's exit, which lets the
	// execution go on.
	ErrStageSkipped = "StageSkipped"
	// ErrEntryRefused fails the entry gate of a stage whose entry
	// conditions engaged FAIL; the machine catches it into the stage's
	// exit, which fails the stage and ends the execution.
	ErrEntryRefused = "EntryConditionFailed"
	// ErrTransient marks a handler failure worth retrying (store or back-end
	// infrastructure), never a decision.
	ErrTransient = "Transient"
	// ErrInvalid marks a handler failure that no retry mends: an event that
	// is malformed or names what the pipeline version does not have. The
	// machine does not retry it; an action's catch records it as the
	// action's failure.
	ErrInvalid = "Invalid"
)

// Task results sent through an action's task token; the compiled machine's
// Choice after each runOrder group reads them.
const (
	ResultSucceeded = "Succeeded"
	ResultFailed    = "Failed"
	ResultStopped   = "Stopped"
)

// Approval timeouts: CodePipeline's default of 7 days, and the bounds of an
// action's timeoutInMinutes.
const (
	DefaultApprovalTimeout = 7 * 24 * time.Hour
	MinApprovalMinutes     = 5
	MaxApprovalMinutes     = 86400
)

// ApprovalTimeout is how long a manual approval waits: timeoutInMinutes when
// given (0: not given), else 7 days.
func ApprovalTimeout(timeoutInMinutes int) time.Duration {
	if timeoutInMinutes <= 0 {
		return DefaultApprovalTimeout
	}
	return time.Duration(timeoutInMinutes) * time.Minute
}

// Rejection is a request refused by the semantics, named with the
// CodePipeline exception the API returns for it.
type Rejection struct {
	Code    string // e.g. StageNotRetryableException
	Message string
}

func (r *Rejection) Error() string { return r.Code + ": " + r.Message }

func reject(code, msg string) error { return &Rejection{Code: code, Message: msg} }
