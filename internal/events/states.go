package events

import "github.com/sluice-ci/sluice/internal/store"

// PipelineState returns the state a pipeline event reports when an
// execution's status becomes status. RESUMED is not a status: it is sent
// when RetryStageExecution resumes a failed execution.
func PipelineState(status string) (State, bool) {
	switch status {
	case store.ExecutionInProgress:
		return StateStarted, true
	case store.ExecutionSucceeded:
		return StateSucceeded, true
	case store.ExecutionFailed:
		return StateFailed, true
	case store.ExecutionCancelled:
		return StateCanceled, true
	case store.ExecutionSuperseded:
		return StateSuperseded, true
	case store.ExecutionStopping:
		return StateStopping, true
	case store.ExecutionStopped:
		return StateStopped, true
	}
	return "", false
}

// StageState returns the state a stage event reports when a stage
// execution's status becomes status. A skipped stage sends no event.
func StageState(status string) (State, bool) {
	switch status {
	case store.StageInProgress:
		return StateStarted, true
	case store.StageSucceeded:
		return StateSucceeded, true
	case store.StageFailed:
		return StateFailed, true
	case store.StageCancelled:
		return StateCanceled, true
	case store.StageStopping:
		return StateStopping, true
	case store.StageStopped:
		return StateStopped, true
	}
	return "", false
}

// ActionState returns the state an action event reports when an action
// execution's status becomes status.
func ActionState(status string) (State, bool) {
	switch status {
	case store.ActionInProgress:
		return StateStarted, true
	case store.ActionSucceeded:
		return StateSucceeded, true
	case store.ActionFailed:
		return StateFailed, true
	case store.ActionAbandoned:
		return StateAbandoned, true
	}
	return "", false
}
