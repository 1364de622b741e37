package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sluice-ci/sluice/internal/gate"
	"github.com/sluice-ci/sluice/internal/states"
)

// Embedded adapts the embedded Step Functions engine to the runtime's ports:
// it is both the gate.TaskTokens and the Engine of a local run.
type Embedded struct {
	Engine *states.Engine
}

var (
	_ gate.TaskTokens = Embedded{}
	_ Engine          = Embedded{}
)

// gone turns the engine's "this token no longer waits" errors into
// gate.ErrTaskGone.
func gone(err error) error {
	if errors.Is(err, states.ErrTaskDoesNotExist) || errors.Is(err, states.ErrTaskTimedOut) || errors.Is(err, states.ErrInvalidToken) {
		return fmt.Errorf("%w: %v", gate.ErrTaskGone, err)
	}
	return err
}

// SendTaskSuccess implements gate.TaskTokens.
func (m Embedded) SendTaskSuccess(ctx context.Context, token string, output json.RawMessage) error {
	return gone(m.Engine.SendTaskSuccess(ctx, token, string(output)))
}

// SendTaskFailure implements gate.TaskTokens.
func (m Embedded) SendTaskFailure(ctx context.Context, token, errorName, cause string) error {
	return gone(m.Engine.SendTaskFailure(ctx, token, &errorName, &cause))
}

// SendTaskHeartbeat implements gate.TaskTokens.
func (m Embedded) SendTaskHeartbeat(ctx context.Context, token string) error {
	return gone(m.Engine.SendTaskHeartbeat(ctx, token))
}

// PutStateMachine implements Engine.
func (m Embedded) PutStateMachine(ctx context.Context, pipeline string, definition []byte) error {
	arn := m.Engine.StateMachineArn(pipeline)
	_, err := m.Engine.DescribeStateMachine(ctx, arn)
	switch {
	case err == nil:
		_, err = m.Engine.UpdateStateMachine(ctx, arn, string(definition), "")
	case errors.Is(err, states.ErrStateMachineDoesNotExist):
		_, err = m.Engine.CreateStateMachine(ctx, states.CreateStateMachineInput{Name: pipeline, Definition: string(definition)})
	}
	return err
}

// StartExecution implements Engine.
func (m Embedded) StartExecution(ctx context.Context, pipeline, id string, input json.RawMessage) error {
	_, err := m.Engine.StartExecution(ctx, states.StartExecutionInput{
		StateMachineArn: m.Engine.StateMachineArn(pipeline), Name: id, Input: string(input),
	})
	if errors.Is(err, states.ErrExecutionAlreadyExists) {
		return nil
	}
	return err
}

// ExecutionArn is the ARN of a pipeline execution's state machine execution.
func (m Embedded) ExecutionArn(pipeline, id string) string {
	return states.ExecutionArn(m.Engine.StateMachineArn(pipeline), id)
}

// StopExecution implements Engine.
func (m Embedded) StopExecution(ctx context.Context, pipeline, id, errName, cause string) error {
	_, err := m.Engine.StopExecution(ctx, m.ExecutionArn(pipeline, id), &errName, &cause)
	return err
}

// RedriveExecution implements Engine.
func (m Embedded) RedriveExecution(ctx context.Context, pipeline, id string) error {
	_, err := m.Engine.RedriveExecution(ctx, m.ExecutionArn(pipeline, id), "")
	return err
}

// OpenEngine opens the embedded engine for this runtime: it registers the
// gate and action handlers under the Lambda ARNs that the runtime's Compile
// options name, opens the engine, makes it the runtime's Tokens and Engine,
// and only then lets the executions its log holds open resume.
func (r *Runtime) OpenEngine(opts states.Options) (*states.Engine, error) {
	if opts.Handlers == nil {
		opts.Handlers = states.NewRegistry()
	}
	opts.Handlers.Register(r.Compile.GateARN(), handler(r.HandleGate))
	opts.Handlers.Register(r.Compile.ActionARN(), handler(r.HandleAction))
	opts.DeferResume = true
	eng, err := states.New(opts)
	if err != nil {
		return nil, fmt.Errorf("open the embedded engine: %w", err)
	}
	m := Embedded{Engine: eng}
	r.Tokens, r.Engine = m, m
	eng.Resume()
	return eng, nil
}

// handler adapts an aws-lambda-go style handler to the engine's: JSON in,
// JSON out, errors passed on for the engine to name.
func handler[E, R any](fn func(context.Context, E) (R, error)) states.Handler {
	return func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
		var ev E
		if err := json.Unmarshal(input, &ev); err != nil {
			return nil, fmt.Errorf("decode event: %w", err)
		}
		res, err := fn(ctx, ev)
		if err != nil {
			return nil, err
		}
		return json.Marshal(res)
	}
}
