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

	"github.com/sluice-ci/sluice/internal/execution"
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
	// Halt is true at an exit when an action of the stage did not succeed.
	Halt bool `json:"halt,omitempty"`
}

// Result says what the gate did; the state machine ignores it (the entry
// gate answers through its task token, the exit gate discards its result),
// but logs and tests read it.
type Result struct {
	// Status: Entered, Waiting, Superseded or Stopped at an entry; the stage
	// execution's status at an exit.
	Status string `json:"status"`
}

// Handler is the gate.
type Handler struct {
	Store  *store.Store
	Tokens TaskTokens
	Now    func() time.Time // time.Now when nil
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
	case d.Control.Holder == ev.Execution || slices.Contains(d.Entered, ev.Execution):
		return Result{Status: "Entered"}, nil
	}
	return Result{Status: "Waiting"}, nil
}

// exit records how a stage ended, releases it and lets the next waiter in.
func (h *Handler) exit(ctx context.Context, ev Event) (Result, error) {
	now := h.now()
	se, err := h.Store.GetStageExecution(ctx, ev.Pipeline, ev.Execution, ev.Stage)
	if err != nil {
		return Result{}, fmt.Errorf("read stage execution %s/%s: %w", ev.Execution, ev.Stage, err)
	}
	if se.Value.NextAttempt > se.Value.Attempt {
		// Redriven after RetryStageExecution: back to the stage's entry.
		return Result{Status: se.Value.Status}, &RetryStage{Stage: ev.Stage, Attempt: se.Value.NextAttempt}
	}
	outcome := execution.Completed
	if ev.Halt {
		outcome = execution.FailedActions
	}
	var stageStatus, errName string
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
		d := execution.Leave(c, e.Value.ExecutionMode, ev.Execution, now)
		if se.Value.Status != store.StageInProgress {
			// A redelivered exit: the stage ended already; answer the same.
			stageStatus, errName = se.Value.Status, endedError(se.Value.Status, e.Value.Status)
			return d, nil, nil
		}
		ns, ne, name := execution.FinishStage(se.Value, e.Value, outcome, ev.Last, now)
		stageStatus, errName = ns.Status, name
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
	res := Result{Status: stageStatus}
	switch errName {
	case execution.ErrStageFailed:
		return res, &StageFailed{Stage: ev.Stage}
	case execution.ErrPipelineStopped:
		return res, &PipelineStopped{Execution: ev.Execution}
	}
	return res, nil
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
