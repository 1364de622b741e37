package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sluice-ci/sluice/internal/gate"
	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/store"
)

// Embedded adapts the embedded Step Functions engine to the runtime's ports:
// it is both the gate.TaskTokens and the Engine of a local run. The one
// OpenEngine makes also watches the executions it starts (see watcher).
type Embedded struct {
	Engine *states.Engine

	watch *watcher
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
	if err != nil && !errors.Is(err, states.ErrExecutionAlreadyExists) {
		return err
	}
	if m.watch != nil {
		m.watch.follow(pipeline, id)
	}
	return nil
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

// RedriveExecution implements Engine. An execution whose gate has ended it
// may still be closing in the engine (the gate answered, the engine has
// not yet recorded the end): the redrive waits until it has closed, for up
// to closeWait. A redrive is never taken for the end of the run before it:
// the watcher settles an end while no redrive is under way.
func (m Embedded) RedriveExecution(ctx context.Context, pipeline, id string) error {
	arn := m.ExecutionArn(pipeline, id)
	if d, err := m.Engine.DescribeExecution(ctx, arn); err == nil && d.Status == states.StatusRunning {
		wctx, cancel := context.WithTimeout(ctx, closeWait)
		_, err := m.Engine.WaitExecution(wctx, arn)
		cancel()
		if err != nil {
			return fmt.Errorf("wait for the execution to close before redriving it: %w", err)
		}
	}
	if m.watch == nil {
		_, err := m.Engine.RedriveExecution(ctx, arn, "")
		return err
	}
	m.watch.mu.Lock()
	_, err := m.Engine.RedriveExecution(ctx, arn, "")
	m.watch.mu.Unlock()
	if err == nil {
		m.watch.follow(pipeline, id)
	}
	return err
}

// closeWait is how long a redrive waits for its execution to close.
const closeWait = 30 * time.Second

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
	m := Embedded{Engine: eng, watch: &watcher{rt: r, eng: eng, following: map[string]bool{}}}
	r.Tokens, r.Engine = m, m
	if r.Alarms == nil {
		clock := opts.Clock
		if clock == nil {
			clock = states.RealClock{}
		}
		r.Alarms = clockAlarms{r: r, clock: clock}
	}
	eng.Resume()
	m.watch.sweep(context.Background())
	if err := r.resumeAlarms(context.Background()); err != nil {
		r.log().Error("set the alarms of parked entries", "error", err)
	}
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

// watcher settles the pipeline executions whose state machine executions
// close without their gates having ended them (Runtime.ExecutionEnded):
// locally, what the EventBridge rule on Step Functions' execution status
// changes does in the cloud. It follows each execution the engine starts,
// resumes or redrives until it closes, then settles it; settling an
// execution the gates ended changes nothing.
type watcher struct {
	rt  *Runtime
	eng *states.Engine

	// mu is held while an end is settled and while an execution is
	// redriven, so that an end is never mistaken for the run after it.
	mu        sync.Mutex
	following map[string]bool // execution ARNs
}

// follow watches an execution until it closes, unless it is watched
// already.
func (w *watcher) follow(pipeline, id string) {
	arn := states.ExecutionArn(w.eng.StateMachineArn(pipeline), id)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.following[arn] {
		return
	}
	w.following[arn] = true
	go w.await(pipeline, id, arn)
}

// await waits for an execution to close, then settles it. An execution
// redriven meanwhile is waited for again. It returns when the engine
// closes.
func (w *watcher) await(pipeline, id, arn string) {
	ctx := context.Background()
	for {
		if _, err := w.eng.WaitExecution(ctx, arn); err != nil {
			w.mu.Lock()
			delete(w.following, arn)
			w.mu.Unlock()
			return
		}
		w.mu.Lock()
		desc, err := w.eng.DescribeExecution(ctx, arn)
		if err == nil && desc.Status == states.StatusRunning {
			w.mu.Unlock()
			continue
		}
		delete(w.following, arn)
		if err == nil {
			w.settle(ctx, pipeline, id, desc)
		}
		w.mu.Unlock()
		return
	}
}

// settle settles a closed execution; the caller holds w.mu.
func (w *watcher) settle(ctx context.Context, pipeline, id string, desc *states.ExecutionDescription) {
	status := store.ExecutionFailed
	switch desc.Status {
	case states.StatusSucceeded, states.StatusRunning:
		return
	case states.StatusAborted:
		status = store.ExecutionStopped
	}
	if err := w.rt.ExecutionEnded(ctx, pipeline, id, status, EndedCause(desc)); err != nil {
		w.rt.log().Error("settle an ended execution", "pipeline", pipeline, "execution", id, "error", err)
	}
}

// sweep follows the executions the engine runs and settles those that
// closed while no process watched them (the process died first).
func (w *watcher) sweep(ctx context.Context) {
	machines, err := w.eng.ListStateMachines(ctx)
	if err != nil {
		w.rt.log().Error("list state machines", "error", err)
		return
	}
	for _, m := range machines {
		execs, err := w.eng.ListExecutions(ctx, states.ListExecutionsInput{StateMachineArn: m.Arn})
		if err != nil {
			w.rt.log().Error("list executions", "state machine", m.Name, "error", err)
			continue
		}
		for _, x := range execs {
			switch x.Status {
			case states.StatusRunning:
				w.follow(m.Name, x.Name)
			case states.StatusFailed, states.StatusTimedOut, states.StatusAborted:
				w.mu.Lock()
				w.settle(ctx, m.Name, x.Name, x)
				w.mu.Unlock()
			}
		}
	}
}

// EndedCause says how a state machine execution ended, as the cause that
// ExecutionEnded records.
func EndedCause(desc *states.ExecutionDescription) string {
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	return fmt.Sprintf("The state machine execution ended %s: %s: %s", desc.Status, deref(desc.Error), deref(desc.Cause))
}
