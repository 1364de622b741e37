package events

import "github.com/sluice-ci/sluice/internal/store"

// The state each status reports. RESUMED is no status: it is sent when
// RetryStageExecution resumes a failed execution and stage. A skipped stage
// sends no event.
var (
	pipelineStates = map[string]State{
		store.ExecutionInProgress: StateStarted,
		store.ExecutionSucceeded:  StateSucceeded,
		store.ExecutionFailed:     StateFailed,
		store.ExecutionCancelled:  StateCanceled,
		store.ExecutionSuperseded: StateSuperseded,
		store.ExecutionStopping:   StateStopping,
		store.ExecutionStopped:    StateStopped,
	}
	stageStates = map[string]State{
		store.StageInProgress: StateStarted,
		store.StageSucceeded:  StateSucceeded,
		store.StageFailed:     StateFailed,
		store.StageCancelled:  StateCanceled,
		store.StageStopping:   StateStopping,
		store.StageStopped:    StateStopped,
	}
	actionStates = map[string]State{
		store.ActionInProgress: StateStarted,
		store.ActionSucceeded:  StateSucceeded,
		store.ActionFailed:     StateFailed,
		store.ActionAbandoned:  StateAbandoned,
	}
)

// PipelineState returns the state a pipeline event reports when an
// execution's status becomes status.
func PipelineState(status string) (State, bool) { s, ok := pipelineStates[status]; return s, ok }

// StageState returns the state a stage event reports when a stage
// execution's status becomes status.
func StageState(status string) (State, bool) { s, ok := stageStates[status]; return s, ok }

// ActionState returns the state an action event reports when an action
// execution's status becomes status.
func ActionState(status string) (State, bool) { s, ok := actionStates[status]; return s, ok }
