// Package gate is the handler behind every stage's entry and exit gate: it
// lets an execution into a stage or parks its task token, releases the stage
// and lets the next waiter in, and records how the stage ended. The decisions
// are package execution's; this package reads the records, writes the
// decisions with conditional writes, and delivers the task-token callbacks
// they carry.
//
// The handler has aws-lambda-go's shape, func(ctx, Event) (Result, error), so
// a Lambda main only wraps it; the embedded engine calls the same function in
// process. The errors Step Functions must match are named Go types
// (StageFailed, PipelineStopped, RetryStage, Transient): aws-lambda-go reports
// a returned error's type name, and the embedded engine reads StatesError.
package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sluice-ci/sluice/internal/condition"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
)

// TaskTokens is the port to the workflow engine's task-token callbacks; the
// Step Functions client and the embedded engine both satisfy it (through a
// thin adapter each).
type TaskTokens interface {
	SendTaskSuccess(ctx context.Context, token string, output json.RawMessage) error
	SendTaskFailure(ctx context.Context, token, errorName, cause string) error
	SendTaskHeartbeat(ctx context.Context, token string) error
}

// ErrTaskGone is what a TaskTokens implementation wraps when the token no
// longer waits (answered already, timed out, execution stopped): Step
// Functions' TaskDoesNotExist, TaskTimedOut and InvalidToken. A callback that
// meets it counts as delivered.
var ErrTaskGone = errors.New("task token no longer waits")

// Ops of an Event.
const (
	OpEnter = "enter"
	OpExit  = "exit"
)

// Event is what the compiled state machine sends the gate.
type Event struct {
	Op        string `json:"op"`
	Pipeline  string `json:"pipeline"`
	Stage     string `json:"stage"`
	Execution string `json:"execution"`
	// Token is the entry gate's task token.
	Token string `json:"token,omitempty"`
	// Last marks the exit of the pipeline's last stage.
	Last bool `json:"last,omitempty"`
	// Halt is true at an exit when an action of the stage did not succeed
	// (machines compiled before H was given).
	Halt bool `json:"halt,omitempty"`
	// H is what an exit is given: the last runOrder group's {"halt":
	// bool}, or the error that the machine caught at the stage's entry.
	H *Exit `json:"h,omitempty"`
	// At is the state an exit is given (machines compiled before it gave
	// H alone): after the stage's runOrder groups, the end of the list its
	// entry wrote, with the stage attempt entered.
	At *ExitState `json:"at,omitempty"`
}

// ExitState is the state at a stage's exit. Stage and Attempt are those of
// the stage's entry when the machine comes from its runOrder groups; when
// it comes from an entry refused or skipped, they are an earlier stage's
// (or absent) and H holds the error.
type ExitState struct {
	Stage   string `json:"s"`
	Attempt int    `json:"n"`
	H       *Exit  `json:"h"`
}

// staleExit reports whether an exit event is a late duplicate from an
// earlier attempt of the stage than the one se records: Lambda delivers at
// least once, and the machine has moved on since.
func staleExit(ev Event, se store.StageExecution) bool {
	return ev.At != nil && ev.At.Stage == ev.Stage && ev.At.Attempt > 0 && ev.At.Attempt != se.Attempt
}

// Exit is an exit gate's $.h.
type Exit struct {
	Halt  bool   `json:"halt,omitempty"`
	Error string `json:"Error,omitempty"`
	Cause string `json:"Cause,omitempty"`
}

// Result says what the gate did; the state machine ignores it (the entry
// gate answers through its task token, the exit gate discards its result),
// but logs and tests read it.
type Result struct {
	// Status: Entered, Waiting, Superseded or Stopped at an entry; the stage
	// execution's status at an exit.
	Status string `json:"status"`
}

// Conditions is the port to what a stage's conditions and results need
// beyond the store: the declaration, the evaluation of rules with the
// execution's variables resolved, and rollback executions. The runtime
// implements it.
type Conditions interface {
	// Stage returns a stage of a version of a pipeline's declaration.
	Stage(ctx context.Context, pipeline string, version int, stage string) (*pipeline.Stage, error)
	// Evaluate runs the rules of a stage's condition of kind for an
	// execution at now.
	Evaluate(ctx context.Context, e store.PipelineExecution, stage, kind string, c pipeline.Condition, now time.Time) (store.ConditionRun, error)
	// Rollback starts the rollback execution of a stage that failed in e,
	// to the last execution that succeeded in it; starting it again is
	// harmless, and a stage with no such execution is not rolled back.
	Rollback(ctx context.Context, e store.PipelineExecution, stage string) error
}

// Alarms is the port that wakes the gate at a time: a stage's entry whose
// conditions wait (a closed deployment window) is evaluated again then,
// through Handler.Wake. Locally the runtime keeps the timers on the
// engine's clock; in the cloud a one-time schedule invokes the gate.
type Alarms interface {
	Set(ctx context.Context, at time.Time, pipeline, stage, execution string) error
}

// Handler is the gate.
type Handler struct {
	Store  *store.Store
	Tokens TaskTokens
	Now    func() time.Time // time.Now when nil
	// Conditions and Alarms serve stage conditions and onFailure results;
	// without them, stages have neither.
	Conditions Conditions
	Alarms     Alarms
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

// Handle is the Lambda handler.
func (h *Handler) Handle(ctx context.Context, ev Event) (Result, error) {
	if ev.Pipeline == "" || ev.Stage == "" || ev.Execution == "" {
		return Result{}, fmt.Errorf("gate event %q: pipeline, stage and execution are required", ev.Op)
	}
	var (
		res Result
		err error
	)
	switch ev.Op {
	case OpEnter:
		if ev.Token == "" {
			return Result{}, fmt.Errorf("gate event enter %s/%s: no task token", ev.Pipeline, ev.Stage)
		}
		res, err = h.enter(ctx, ev)
	case OpExit:
		res, err = h.exit(ctx, ev)
	default:
		return Result{}, fmt.Errorf("gate event: unknown op %q", ev.Op)
	}
	if err != nil {
		// Return a named error itself, never wrapped: aws-lambda-go reports
		// the type name of the error it is given.
		var named interface {
			error
			StatesError() (string, string)
		}
		if errors.As(err, &named) {
			return res, named
		}
		return res, &Transient{Cause: err.Error()}
	}
	return res, nil
}

// maxConflicts bounds the read-decide-write loop under contention.
const maxConflicts = 50

// enter lets an execution into a stage or parks it.
func (h *Handler) enter(ctx context.Context, ev Event) (Result, error) {
	now := h.now()
	e, err := h.Store.GetPipelineExecution(ctx, ev.Pipeline, ev.Execution)
	if err != nil {
		return Result{}, fmt.Errorf("read pipeline execution %s: %w", ev.Execution, err)
	}
	if rb := e.Value.Rollback; rb != nil && rb.StageName != ev.Stage {
		// A rollback execution runs its stage only: it passes the others
		// without entering them.
		return Result{Status: store.StageSkipped}, h.deliver(ctx, store.TokenSend{TaskToken: ev.Token,
			Error: execution.ErrStageSkipped, Cause: "Rollback execution " + ev.Execution + " runs stage " + rb.StageName + " only."})
	}
	if se, err := h.Store.GetStageExecution(ctx, ev.Pipeline, ev.Execution, ev.Stage); err == nil && se.Value.Status == store.StageInProgress {
		if run := se.Value.Condition(condition.BeforeEntry); run != nil && run.Result != "" {
			// Its entry conditions refused it already: answer the same.
			name, cause := refusal(pipeline.ConditionResult(run.Result), ev.Stage)
			return Result{Status: run.Result}, h.deliver(ctx, store.TokenSend{TaskToken: ev.Token, Error: name, Cause: cause})
		}
	}
	switch e.Value.Status {
	case store.ExecutionInProgress:
	case store.ExecutionStopping, store.ExecutionStopped:
		// Stopped between stages: it never enters this one.
		if err := h.markStopped(ctx, ev.Pipeline, ev.Execution, now); err != nil {
			return Result{}, err
		}
		return Result{Status: store.ExecutionStopped}, h.deliver(ctx, store.TokenSend{TaskToken: ev.Token,
			Error: execution.ErrPipelineStopped, Cause: "Pipeline execution " + ev.Execution + " was stopped."})
	case store.ExecutionSuperseded:
		return Result{Status: store.ExecutionSuperseded}, h.deliver(ctx, store.TokenSend{TaskToken: ev.Token,
			Error: execution.ErrSuperseded, Cause: "Pipeline execution " + ev.Execution + " was superseded."})
	default:
		return Result{}, fmt.Errorf("pipeline execution %s is %s and cannot enter stage %s", ev.Execution, e.Value.Status, ev.Stage)
	}
	arrival := execution.Arrival{ExecutionID: ev.Execution, TaskToken: ev.Token, ExecutionStart: e.Value.StartTime}
	d, err := h.Apply(ctx, ev.Pipeline, ev.Stage, func(_ context.Context, c store.StageControl) (execution.Decision, []store.Write, error) {
		return execution.Enter(c, e.Value.ExecutionMode, arrival, now), nil, nil
	})
	if err != nil {
		return Result{}, err
	}
	switch {
	case slices.Contains(d.Superseded, ev.Execution):
		return Result{Status: store.ExecutionSuperseded}, nil
	case execution.Parks(d.Control, ev.Execution):
		return Result{Status: "WaitingForConditions"}, nil
	case d.Control.Holder == ev.Execution || slices.Contains(d.Entered, ev.Execution):
		return Result{Status: "Entered"}, nil
	}
	return Result{Status: "Waiting"}, nil
}

// refusal is the error that fails a stage's entry when its entry
// conditions engage result.
func refusal(result pipeline.ConditionResult, stage string) (string, string) {
	if result == pipeline.ResultSkip {
		return execution.ErrStageSkipped, "The entry conditions of stage " + stage + " were not met: the stage is skipped."
	}
	return execution.ErrEntryRefused, "The entry conditions of stage " + stage + " were not met: the stage fails."
}

// exit records how a stage ended, releases it and lets the next waiter in.
// It evaluates the stage's onSuccess or onFailure conditions and applies
// onFailure's result: RETRY goes back to the stage's entry, keeping the
// stage; ROLLBACK fails the stage and starts a rollback execution.
func (h *Handler) exit(ctx context.Context, ev Event) (Result, error) {
	now := h.now()
	if ev.H == nil && ev.At != nil {
		ev.H = ev.At.H
	}
	se, err := h.Store.GetStageExecution(ctx, ev.Pipeline, ev.Execution, ev.Stage)
	if errors.Is(err, store.ErrNotFound) && ev.H != nil && ev.H.Error == execution.ErrStageSkipped {
		// A stage a rollback execution passes: nothing was entered.
		return Result{Status: store.StageSkipped}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("read stage execution %s/%s: %w", ev.Execution, ev.Stage, err)
	}
	if se.Value.NextAttempt > se.Value.Attempt {
		// Redriven after RetryStageExecution, or retried by onFailure:
		// back to the stage's entry.
		return Result{Status: se.Value.Status}, &RetryStage{Stage: ev.Stage, Attempt: se.Value.NextAttempt}
	}
	if staleExit(ev, se.Value) {
		return Result{Status: se.Value.Status}, stale(ev, se.Value)
	}
	outcome := execution.Completed
	switch {
	case ev.H != nil && ev.H.Error == execution.ErrStageSkipped:
		outcome = execution.Skipped
	case ev.H != nil && ev.H.Error == execution.ErrEntryRefused:
		outcome = execution.EntryRefused
	case ev.Halt || ev.H != nil && ev.H.Halt:
		outcome = execution.FailedActions
	}
	var (
		stageStatus, errName string
		retry, rollback      bool
		final                store.PipelineExecution
	)
	_, err = h.Apply(ctx, ev.Pipeline, ev.Stage, func(ctx context.Context, c store.StageControl) (execution.Decision, []store.Write, error) {
		// Read both records again on every attempt: a conflict may come from
		// either.
		se, err := h.Store.GetStageExecution(ctx, ev.Pipeline, ev.Execution, ev.Stage)
		if err != nil {
			return execution.Decision{}, nil, fmt.Errorf("read stage execution: %w", err)
		}
		e, err := h.Store.GetPipelineExecution(ctx, ev.Pipeline, ev.Execution)
		if err != nil {
			return execution.Decision{}, nil, fmt.Errorf("read pipeline execution: %w", err)
		}
		retry, rollback, final = false, false, e.Value
		if staleExit(ev, se.Value) {
			return execution.Decision{}, nil, stale(ev, se.Value)
		}
		d := execution.Leave(c, e.Value.ExecutionMode, ev.Execution, now)
		if se.Value.Status != store.StageInProgress {
			// A redelivered exit: the stage ended already; answer the same.
			stageStatus, errName = se.Value.Status, endedError(se.Value.Status, e.Value.Status)
			rollback = rollsBack(e.Value, se.Value)
			return d, nil, nil
		}
		ns, ended, err := h.results(ctx, e.Value, se.Value, outcome, now)
		if err != nil {
			return d, nil, err
		}
		if ns.NextAttempt > ns.Attempt {
			// onFailure's RETRY: the stage stays held and goes again.
			retry, stageStatus = true, ns.Status
			sw, err := store.StageExecutionWrite(store.Versioned[store.StageExecution]{Value: ns, Version: se.Version})
			return execution.Decision{Control: c}, []store.Write{sw}, err
		}
		last := ev.Last || e.Value.Rollback != nil && e.Value.Rollback.StageName == ev.Stage
		ns, ne, name := execution.FinishStage(ns, e.Value, ended, last, now)
		stageStatus, errName, final = ns.Status, name, ne
		rollback = rollsBack(ne, ns)
		sw, err := store.StageExecutionWrite(store.Versioned[store.StageExecution]{Value: ns, Version: se.Version})
		if err != nil {
			return d, nil, err
		}
		ew, err := store.PipelineExecutionWrite(store.Versioned[store.PipelineExecution]{Value: ne, Version: e.Version})
		return d, []store.Write{sw, ew}, err
	})
	if err != nil {
		return Result{}, err
	}
	if retry {
		return Result{Status: stageStatus}, &RetryStage{Stage: ev.Stage, Attempt: se.Value.Attempt + 1}
	}
	if rollback {
		if err := h.Conditions.Rollback(ctx, final, ev.Stage); err != nil {
			return Result{}, fmt.Errorf("start the rollback of stage %s: %w", ev.Stage, err)
		}
	}
	res := Result{Status: stageStatus}
	switch errName {
	case execution.ErrStageFailed:
		return res, &StageFailed{Stage: ev.Stage}
	case execution.ErrPipelineStopped:
		return res, &PipelineStopped{Execution: ev.Execution}
	}
	return res, nil
}

// stale is the error a stale exit answers, changing nothing: the machine
// that sent it has moved on and discards it.
func stale(ev Event, se store.StageExecution) error {
	return &Invalid{Cause: fmt.Sprintf("exit of attempt %d of stage %s of pipeline execution %s comes after attempt %d entered it; nothing changed",
		ev.At.Attempt, ev.Stage, ev.Execution, se.Attempt)}
}

// endedError is the error an exit answers again for a stage that ended.
func endedError(stageStatus, execStatus string) string {
	switch {
	case execStatus == store.ExecutionStopped || execStatus == store.ExecutionStopping:
		return execution.ErrPipelineStopped
	case stageStatus == store.StageFailed:
		return execution.ErrStageFailed
	}
	return ""
}
