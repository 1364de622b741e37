package gate

import "github.com/sluice-ci/sluice/internal/execution"

// StageFailed ends an execution whose stage failed.
type StageFailed struct{ Stage string }

func (e *StageFailed) Error() string { return "stage " + e.Stage + " failed" }

// StatesError names the error for the embedded engine.
func (e *StageFailed) StatesError() (string, string) { return execution.ErrStageFailed, e.Error() }

// PipelineStopped ends an execution stopped by StopPipelineExecution.
type PipelineStopped struct{ Execution string }

func (e *PipelineStopped) Error() string { return "pipeline execution " + e.Execution + " was stopped" }

// StatesError names the error for the embedded engine.
func (e *PipelineStopped) StatesError() (string, string) {
	return execution.ErrPipelineStopped, e.Error()
}

// RetryStage sends a redriven execution back to the entry of the stage that
// RetryStageExecution retries.
type RetryStage struct {
	Stage   string
	Attempt int
}

func (e *RetryStage) Error() string { return "retrying stage " + e.Stage }

// StatesError names the error for the embedded engine.
func (e *RetryStage) StatesError() (string, string) { return execution.ErrRetryStage, e.Error() }

// Transient is a failure worth retrying: the store or the engine did not
// answer. The state machine retries it with backoff.
type Transient struct{ Cause string }

func (e *Transient) Error() string { return e.Cause }

// StatesError names the error for the embedded engine.
func (e *Transient) StatesError() (string, string) { return execution.ErrTransient, e.Cause }

// Invalid is a failure that no retry mends: the event is malformed or names
// a stage or action the pipeline version does not have. The state machine
// does not retry it.
type Invalid struct{ Cause string }

func (e *Invalid) Error() string { return e.Cause }

// StatesError names the error for the embedded engine.
func (e *Invalid) StatesError() (string, string) { return execution.ErrInvalid, e.Cause }
