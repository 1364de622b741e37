package states

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// RunOptions describe one execution of a definition, as `sluice states run`
// runs it.
type RunOptions struct {
	Definition []byte
	// Input is the execution input as JSON text; {} by default.
	Input []byte
	// Mocks and TestCase answer Task states from a MockConfigFile test
	// case; Machine picks the state machine of the file (optional when it
	// has only one).
	Mocks    *MockConfig
	TestCase string
	Machine  string
	// VirtualClock lets Wait states, back-off and timeouts pass instantly.
	VirtualClock bool
	// History includes the execution's events in the result.
	History  bool
	Handlers *Registry
	// Log keeps the execution; in memory by default.
	Log EventLog
}

// RunResult is what `sluice states run` prints.
type RunResult struct {
	Status string          `json:"status"`
	Output json.RawMessage `json:"output,omitempty"`
	Error  *string         `json:"error,omitempty"`
	Cause  *string         `json:"cause,omitempty"`
	Events []*Event        `json:"events,omitempty"`
}

// Run executes a definition once to its end on a fresh engine and reports
// how it ended. Its error is an *APIError: InvalidDefinition for a
// definition CreateStateMachine would refuse, ValidationException or
// InvalidExecutionInput for bad options.
func Run(ctx context.Context, opts RunOptions) (*RunResult, error) {
	var clock Clock = RealClock{}
	if opts.VirtualClock {
		clock = NewVirtualClock(time.Now())
	}
	name := opts.Machine
	if name == "" && opts.TestCase != "" && opts.Mocks != nil {
		machines := opts.Mocks.Machines()
		if len(machines) != 1 {
			return nil, apiError(ErrValidation, "the mock config has %d state machines; choose one with --state-machine", len(machines))
		}
		name = machines[0]
	}
	if name == "" {
		name = "StateMachine"
	}
	eng, err := New(Options{Log: opts.Log, Clock: clock, Handlers: opts.Handlers, Mocks: opts.Mocks})
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	sm, err := eng.CreateStateMachine(ctx, CreateStateMachineInput{
		Name: name, Definition: string(opts.Definition),
		RoleArn: fmt.Sprintf("arn:aws:iam::%s:role/sluice-states-run", eng.account),
	})
	if err != nil {
		return nil, err
	}
	arn := sm.Arn
	if opts.TestCase != "" {
		arn += "#" + opts.TestCase
	}
	input := string(opts.Input)
	start, err := eng.StartExecution(ctx, StartExecutionInput{StateMachineArn: arn, Name: "run", Input: input})
	if err != nil {
		return nil, err
	}
	d, err := eng.WaitExecution(ctx, start.ExecutionArn)
	if err != nil {
		return nil, err
	}
	res := &RunResult{Status: d.Status, Error: d.Error, Cause: d.Cause}
	if d.Output != nil {
		res.Output = json.RawMessage(*d.Output)
	}
	if opts.History {
		if res.Events, err = eng.GetExecutionHistory(ctx, start.ExecutionArn); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// Encode returns the result as the JSON object `sluice states run` prints
// (without a trailing newline).
func (r *RunResult) Encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
