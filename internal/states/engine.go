package states

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-ci/sluice/internal/asl"
)

// Options configure an Engine.
type Options struct {
	// Log stores histories and state machines; NewMemoryLog by default.
	Log EventLog
	// Clock is RealClock by default; a *VirtualClock runs timers instantly.
	Clock Clock
	// Handlers answer Task states.
	Handlers *Registry
	// Mocks answer the Task states of executions started with a test case
	// ("<state machine ARN>#<test case>"), as Step Functions Local does.
	Mocks *MockConfig
	// ParkUnhandled makes a .waitForTaskToken Task whose resource has no
	// handler park its task token instead of failing, as if a worker had
	// received the token: the task is recorded as submitted and waits for
	// SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat, or its
	// timeouts. The token is in the TaskScheduled event's parameters
	// wherever the definition passes $$.Task.Token, as on AWS.
	ParkUnhandled bool
	// Parked, when set, is told of each task that ParkUnhandled parks,
	// once its TaskSubmitted event is durable.
	Parked func(TaskInfo)
	// DeferResume holds the executions that New resumes from the log
	// until Resume is called, so that the caller can finish its wiring
	// (register handlers, hand the engine to them) before they run.
	// SendTask* calls for their tokens wait for them meanwhile; new
	// executions run at once.
	DeferResume bool
	// Region and Account appear in ARNs; us-east-1 and 123456789012 by
	// default.
	Region  string
	Account string
}

// Engine runs state machines: it is the embedded Step Functions service.
// Its methods are the Step Functions operations; their errors are *APIError
// values named after the service's exceptions.
type Engine struct {
	log       EventLog
	clock     Clock
	act       activity
	handlers  *Registry
	mocks     *MockConfig
	unhandled bool
	parked    func(TaskInfo)
	region    string
	account   string

	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	shut   atomic.Bool

	mu        sync.Mutex
	machines  map[string]*machine
	listed    []*machine // the state machines that are not deleted, in listing order
	execs     map[string]*execution
	byMachine map[string][]*execution // the executions of each state machine, in start order
	seq       uint64
	tokens    map[string]*parked
	ended     map[string]error
	holding   bool      // DeferResume: resumed executions wait in held
	held      []heldRun // until Resume
}

// heldRun is a resumed execution that waits for Resume.
type heldRun struct {
	x         *execution
	startedID int64
}

// machine is a state machine and its compiled definition.
type machine struct {
	rec  MachineRecord
	prog *program
}

// New opens an engine on a log and resumes every execution the log holds
// open, from its history (with Options.DeferResume, once Resume is
// called).
func New(opts Options) (*Engine, error) {
	e := &Engine{
		log: opts.Log, clock: opts.Clock, handlers: opts.Handlers, mocks: opts.Mocks,
		unhandled: opts.ParkUnhandled, parked: opts.Parked, region: opts.Region, account: opts.Account,
		holding:  opts.DeferResume,
		machines: map[string]*machine{}, execs: map[string]*execution{}, byMachine: map[string][]*execution{},
		tokens: map[string]*parked{}, ended: map[string]error{},
	}
	if e.log == nil {
		e.log = NewMemoryLog()
	}
	if e.clock == nil {
		e.clock = RealClock{}
	}
	if a, ok := e.clock.(activity); ok {
		e.act = a
	}
	if e.region == "" {
		e.region = "us-east-1"
	}
	if e.account == "" {
		e.account = "123456789012"
	}
	if e.handlers == nil {
		e.handlers = NewRegistry()
	}
	e.ctx, e.cancel = context.WithCancelCause(context.Background())
	recs, err := e.log.Machines()
	if err != nil {
		return nil, fmt.Errorf("load state machines: %w", err)
	}
	for _, r := range recs {
		m := &machine{rec: r}
		if !r.Deleted {
			if m.prog, err = compileDefinition(r.Definition); err != nil {
				return nil, fmt.Errorf("load state machine %s: %w", r.Arn, err)
			}
		}
		e.setMachine(m)
	}
	if err := e.recover(); err != nil {
		return nil, err
	}
	return e, nil
}

// Close stops every running execution where it is, without recording
// anything: a later engine on the same log resumes them. It then closes
// the log.
func (e *Engine) Close() error {
	e.shut.Store(true)
	e.cancel(errEngineClosed)
	e.wg.Wait()
	return e.log.Close()
}

func (e *Engine) closing() bool { return e.shut.Load() }

func (e *Engine) busy() {
	if e.act != nil {
		e.act.Busy()
	}
}

func (e *Engine) idle() {
	if e.act != nil {
		e.act.Idle()
	}
}

func compileDefinition(text string) (*program, error) {
	def, err := asl.Parse([]byte(text))
	if err != nil {
		return nil, err
	}
	return compileProgram(def)
}

// StateMachine describes a state machine.
type StateMachine struct {
	Arn          string
	Name         string
	Definition   string
	RoleArn      string
	Type         string
	Status       string // ACTIVE or DELETING; "" once deleted (DescribeStateMachineForExecution)
	CreationDate time.Time
	UpdateDate   time.Time
}

func (m *machine) describe() *StateMachine {
	status := "ACTIVE"
	if m.rec.Deleting {
		status = "DELETING"
	}
	return &StateMachine{
		Arn: m.rec.Arn, Name: m.rec.Name, Definition: m.rec.Definition, RoleArn: m.rec.RoleArn,
		Type: m.rec.Type, Status: status, CreationDate: m.rec.Created, UpdateDate: m.rec.Updated,
	}
}

var namePattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,80}$`)

// CreateStateMachineInput is the input of CreateStateMachine.
type CreateStateMachineInput struct {
	Name       string
	Definition string
	RoleArn    string
	Type       string // STANDARD (default) or EXPRESS
}

// StateMachineArn returns the ARN of the state machine called name.
func (e *Engine) StateMachineArn(name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", e.region, e.account, name)
}

// CreateStateMachine validates a definition and creates a state machine.
// It is idempotent as AWS's is: creating one again with the same name,
// definition and type returns the existing state machine, whatever the
// role (which is not updated); another definition or type is
// StateMachineAlreadyExists.
func (e *Engine) CreateStateMachine(_ context.Context, in CreateStateMachineInput) (*StateMachine, error) {
	if !namePattern.MatchString(in.Name) {
		return nil, apiError(ErrInvalidName, "Invalid Name: '%s'", in.Name)
	}
	if in.Type == "" {
		in.Type = "STANDARD"
	}
	if in.Type != "STANDARD" && in.Type != "EXPRESS" {
		return nil, apiError(ErrValidation, "Invalid type: '%s'", in.Type)
	}
	prog, err := compileDefinition(in.Definition)
	if err != nil {
		return nil, apiError(ErrInvalidDefinition, "%v", err)
	}
	arn := e.StateMachineArn(in.Name)
	e.mu.Lock()
	defer e.mu.Unlock()
	if m := e.machines[arn]; m != nil && !m.rec.Deleted {
		if m.rec.Deleting {
			return nil, deletingError(arn)
		}
		if m.rec.Definition == in.Definition && m.rec.Type == in.Type {
			return m.describe(), nil
		}
		return nil, apiError(ErrStateMachineAlreadyExists, "State Machine Already Exists: '%s'", arn)
	}
	now := e.clock.Now()
	m := &machine{prog: prog, rec: MachineRecord{
		Arn: arn, Name: in.Name, Definition: in.Definition, RoleArn: in.RoleArn, Type: in.Type,
		Created: now, Updated: now,
	}}
	if err := e.log.SaveMachine(m.rec); err != nil {
		return nil, fmt.Errorf("save state machine: %w", err)
	}
	e.setMachine(m)
	return m.describe(), nil
}

// machine returns a state machine that is not deleted (ACTIVE or
// DELETING) by ARN.
func (e *Engine) machine(arn string) (*machine, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.machineLocked(arn)
}

// machineLocked is machine for a caller that holds e.mu.
func (e *Engine) machineLocked(arn string) (*machine, error) {
	if err := checkArn(arn, stateMachineResource); err != nil {
		return nil, err
	}
	m := e.machines[arn]
	if m == nil || m.rec.Deleted {
		return nil, apiError(ErrStateMachineDoesNotExist, "State Machine Does Not Exist: '%s'", arn)
	}
	return m, nil
}

// activeMachineLocked is machineLocked for the operations that a DELETING
// state machine refuses with StateMachineDeleting.
func (e *Engine) activeMachineLocked(arn string) (*machine, error) {
	m, err := e.machineLocked(arn)
	if err == nil && m.rec.Deleting {
		return nil, deletingError(m.rec.Arn)
	}
	return m, err
}

func deletingError(arn string) error {
	return apiError(ErrStateMachineDeleting, "State Machine Is Being Deleted: '%s'", arn)
}

// UpdateStateMachine replaces the definition and, when not empty, the role
// of a state machine. Running executions keep the definition they started
// with.
func (e *Engine) UpdateStateMachine(_ context.Context, arn, definition, roleArn string) (*StateMachine, error) {
	var prog *program
	if definition != "" {
		var err error
		if prog, err = compileDefinition(definition); err != nil {
			return nil, apiError(ErrInvalidDefinition, "%v", err)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	m, err := e.activeMachineLocked(arn)
	if err != nil {
		return nil, err
	}
	rec := m.rec
	if prog == nil {
		prog = m.prog
	} else {
		rec.Definition = definition
	}
	if roleArn != "" {
		rec.RoleArn = roleArn
	}
	rec.Updated = e.clock.Now()
	if err := e.log.SaveMachine(rec); err != nil {
		return nil, fmt.Errorf("save state machine: %w", err)
	}
	nm := &machine{rec: rec, prog: prog}
	e.setMachine(nm)
	return nm.describe(), nil
}

// DescribeStateMachine returns a state machine.
func (e *Engine) DescribeStateMachine(_ context.Context, arn string) (*StateMachine, error) {
	m, err := e.machine(arn)
	if err != nil {
		return nil, err
	}
	return m.describe(), nil
}

// DeleteStateMachine deletes a state machine as AWS does: one without
// running executions goes at once; otherwise it is DELETING (it refuses
// new executions, updates and a create of its name with
// StateMachineDeleting), each running execution fails with States.Runtime
// at its next state transition, and the state machine goes when the last
// of them closes. Deleting one that does not exist, or again, succeeds.
func (e *Engine) DeleteStateMachine(_ context.Context, arn string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, err := e.machineLocked(arn)
	switch {
	case errors.Is(err, ErrStateMachineDoesNotExist):
		return nil
	case err != nil:
		return err
	case m.rec.Deleting:
		return nil
	}
	running := e.runningLocked(m.rec.Arn)
	nm := &machine{rec: m.rec, prog: m.prog}
	if len(running) > 0 {
		nm.rec.Deleting = true
	} else {
		nm.rec.Deleted, nm.prog = true, nil
	}
	if err := e.log.SaveMachine(nm.rec); err != nil {
		return fmt.Errorf("save state machine: %w", err)
	}
	e.setMachine(nm)
	for _, x := range running {
		x.deleting.Store(true)
	}
	return nil
}

// runningLocked returns the running executions of a state machine. The
// caller holds e.mu.
func (e *Engine) runningLocked(arn string) []*execution {
	var out []*execution
	for _, x := range e.byMachine[arn] {
		x.mu.Lock()
		if x.status == StatusRunning {
			out = append(out, x)
		}
		x.mu.Unlock()
	}
	return out
}

// finishDeletion deletes a DELETING state machine once none of its
// executions runs.
func (e *Engine) finishDeletion(arn string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := e.machines[arn]
	if m == nil || !m.rec.Deleting || len(e.runningLocked(arn)) > 0 {
		return nil
	}
	rec := m.rec
	rec.Deleting, rec.Deleted = false, true
	if err := e.log.SaveMachine(rec); err != nil {
		return fmt.Errorf("save state machine: %w", err)
	}
	e.setMachine(&machine{rec: rec})
	return nil
}

// StartExecutionInput is the input of StartExecution.
type StartExecutionInput struct {
	// StateMachineArn may end in "#<test case>" to answer Task states from
	// the engine's MockConfig.
	StateMachineArn string
	// Name defaults to a random UUID.
	Name string
	// Input is JSON text; "{}" by default.
	Input string
}

// StartExecutionOutput is the result of StartExecution.
type StartExecutionOutput struct {
	ExecutionArn string
	StartDate    time.Time
}

// ExecutionArn returns the ARN of an execution of a state machine.
func ExecutionArn(machineArn, name string) string {
	arn, _, _ := strings.Cut(machineArn, "#")
	return strings.Replace(arn, ":stateMachine:", ":execution:", 1) + ":" + name
}

// machineName returns the name in a state machine ARN.
func machineName(arn string) string {
	return arn[strings.LastIndex(arn, ":")+1:]
}

// StartExecution starts an execution. Names are unique per state machine:
// starting the same name with the same input while it runs returns the
// running execution; anything else with a used name is
// ExecutionAlreadyExists. When it returns, ExecutionStarted is durable.
func (e *Engine) StartExecution(_ context.Context, in StartExecutionInput) (*StartExecutionOutput, error) {
	machineArn, testCase, _ := strings.Cut(in.StateMachineArn, "#")
	e.mu.Lock()
	m, err := e.activeMachineLocked(machineArn)
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var mocks *Mocks
	if testCase != "" {
		if mocks, err = e.mocks.TestCase(m.rec.Name, testCase); err != nil {
			return nil, apiError(ErrValidation, "%v", err)
		}
	}
	if in.Name == "" {
		in.Name = newRequestID()
	}
	if !namePattern.MatchString(in.Name) {
		return nil, apiError(ErrInvalidName, "Invalid Name: '%s'", in.Name)
	}
	if in.Input == "" {
		in.Input = "{}"
	}
	if len(in.Input) > MaxPayloadBytes {
		return nil, apiError(ErrInvalidExecutionInput, "The input exceeds the maximum size of %d bytes", MaxPayloadBytes)
	}
	input, err := decode([]byte(in.Input))
	if err != nil {
		return nil, apiError(ErrInvalidExecutionInput, "Invalid State Machine Execution Input: '%v'", err)
	}
	arn := ExecutionArn(m.rec.Arn, in.Name)
	e.mu.Lock()
	if _, err := e.activeMachineLocked(m.rec.Arn); err != nil {
		e.mu.Unlock()
		return nil, err
	}
	if old := e.execs[arn]; old != nil {
		e.mu.Unlock()
		old.mu.Lock()
		running := old.status == StatusRunning
		old.mu.Unlock()
		if running && old.inputText == in.Input {
			return &StartExecutionOutput{ExecutionArn: arn, StartDate: old.start}, nil
		}
		return nil, apiError(ErrExecutionAlreadyExists, "Execution Already Exists: '%s'", arn)
	}
	x := e.newExecution(arn, in.Name, m, input, in.Input, mocks)
	x.startedBy = in.StateMachineArn
	x.start = e.clock.Now()
	e.addExecution(x)
	e.mu.Unlock()

	started, err := x.record(&Event{Type: ExecutionStarted, Definition: m.rec.Definition, Machine: in.StateMachineArn,
		MachineUpdated: m.rec.Updated,
		Detail:         Detail{Input: input, HasInput: true, RoleArn: m.rec.RoleArn}}, 0)
	if err != nil {
		e.mu.Lock()
		e.removeExecution(x)
		e.mu.Unlock()
		return nil, fmt.Errorf("record execution start: %w", err)
	}
	x.start = started.Time
	e.launch(x, started.ID)
	return &StartExecutionOutput{ExecutionArn: arn, StartDate: started.Time}, nil
}

func (e *Engine) newExecution(arn, name string, m *machine, input any, inputText string, mocks *Mocks) *execution {
	x := &execution{
		eng: e, arn: arn, name: name, machineArn: m.rec.Arn, definition: m.rec.Definition, startedBy: m.rec.Arn,
		roleArn: m.rec.RoleArn, machineUpdated: m.rec.Updated, prog: m.prog, input: input, inputText: inputText,
		timeout: time.Duration(m.prog.def.TimeoutSeconds) * time.Second,
		status:  StatusRunning, done: make(chan struct{}), mocks: mocks, mockCalls: map[string]int{},
	}
	return x
}

// launch starts the goroutine of an execution.
func (e *Engine) launch(x *execution, startedID int64) {
	e.arm(x)
	e.run(x, startedID)
}

// arm gives an execution the context its run is stopped through.
func (e *Engine) arm(x *execution) {
	x.mu.Lock()
	x.ctx, x.cancel = context.WithCancelCause(e.ctx)
	x.mu.Unlock()
}

// run starts the goroutine of an armed execution.
func (e *Engine) run(x *execution, startedID int64) {
	e.busy()
	e.wg.Add(1)
	go x.run(startedID)
}

// Resume runs the executions resumed from the log that Options.DeferResume
// held. It does nothing without DeferResume, or once called.
func (e *Engine) Resume() {
	e.mu.Lock()
	held := e.held
	e.held, e.holding = nil, false
	e.mu.Unlock()
	for _, h := range held {
		e.run(h.x, h.startedID)
	}
}

// closeExecution records that an execution reached its terminal event,
// and deletes its state machine when that was DELETING and this was its
// last running execution. (Should saving the deletion fail, the state
// machine stays DELETING until the engine opens the log again.)
func (e *Engine) closeExecution(x *execution, ev *Event) {
	x.mu.Lock()
	x.status = terminalStatus(ev.Type)
	x.closeEvent = ev
	x.stopDate = ev.Time
	x.mu.Unlock()
	_ = e.finishDeletion(x.machineArn)
	close(x.done)
}

// ExecutionDescription describes an execution, as DescribeExecution does.
type ExecutionDescription struct {
	ExecutionArn    string
	StateMachineArn string
	Name            string
	Status          string
	StartDate       time.Time
	StopDate        time.Time // zero while running
	Input           string
	Output          *string // JSON text, when SUCCEEDED
	Error           *string
	Cause           *string
	RedriveCount    int
	RedriveDate     time.Time
	// RedriveStatus is REDRIVABLE, NOT_REDRIVABLE or
	// REDRIVABLE_BY_MAP_RUN, with the reason when not redrivable.
	RedriveStatus       string
	RedriveStatusReason string
}

func (x *execution) describe() *ExecutionDescription {
	notRedrivable := x.eng.notRedrivable(x.machineArn)
	x.mu.Lock()
	defer x.mu.Unlock()
	d := &ExecutionDescription{
		ExecutionArn: x.arn, StateMachineArn: x.machineArn, Name: x.name, Status: x.status,
		StartDate: x.start, StopDate: x.stopDate, Input: x.inputText,
		RedriveCount: x.redriveCount, RedriveDate: x.redriveDate,
	}
	if ev := x.closeEvent; ev != nil {
		if ev.Type == ExecutionSucceeded {
			out := marshalString(ev.Detail.Output)
			d.Output = &out
		}
		d.Error, d.Cause = ev.Detail.Error, ev.Detail.Cause
	}
	switch x.status {
	case StatusRunning:
		d.RedriveStatus, d.RedriveStatusReason = "NOT_REDRIVABLE", "Execution is RUNNING and cannot be redriven"
	case StatusSucceeded:
		d.RedriveStatus, d.RedriveStatusReason = "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven"
	default:
		d.RedriveStatus = "REDRIVABLE"
		if notRedrivable != "" {
			d.RedriveStatus, d.RedriveStatusReason = "NOT_REDRIVABLE", notRedrivable
		}
	}
	return d
}

// notRedrivable says why the closed executions of a state machine cannot
// be redriven, "" when they can.
func (e *Engine) notRedrivable(machineArn string) string {
	e.mu.Lock()
	m := e.machines[machineArn]
	e.mu.Unlock()
	switch {
	case m == nil || m.rec.Deleted:
		return "State machine does not exist"
	case m.rec.Deleting:
		return "State machine is in DELETING status"
	}
	return ""
}

func (e *Engine) execution(arn string) (*execution, error) {
	if err := checkArn(arn, executionResource); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.execs[arn]
	if x == nil {
		return nil, apiError(ErrExecutionDoesNotExist, "Execution Does Not Exist: '%s'", arn)
	}
	return x, nil
}

// DescribeExecution describes an execution.
func (e *Engine) DescribeExecution(_ context.Context, arn string) (*ExecutionDescription, error) {
	x, err := e.execution(arn)
	if err != nil {
		return nil, err
	}
	return x.describe(), nil
}

// DescribeStateMachineForExecution returns the state machine of an
// execution as it was when the execution started: the definition and role
// the execution runs, and the update date of that revision (an update
// after the start changes none of them). Type, status and creation date
// are the state machine's, while it exists.
func (e *Engine) DescribeStateMachineForExecution(_ context.Context, arn string) (*StateMachine, error) {
	x, err := e.execution(arn)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	m := e.machines[x.machineArn]
	e.mu.Unlock()
	sm := &StateMachine{Arn: x.machineArn, Name: machineName(x.machineArn), Definition: x.definition,
		RoleArn: x.roleArn, Type: "STANDARD", UpdateDate: x.machineUpdated}
	if m != nil && !m.rec.Deleted {
		d := m.describe()
		sm.Type, sm.Status, sm.CreationDate = d.Type, d.Status, d.CreationDate
		if sm.UpdateDate.IsZero() && d.Definition == x.definition && d.RoleArn == x.roleArn {
			// Recorded before the engine kept the date: the state
			// machine's own is right while it has the same revision.
			sm.UpdateDate = d.UpdateDate
		}
	}
	if sm.UpdateDate.IsZero() {
		// Otherwise the start is the latest time the revision is known
		// to have been current.
		sm.UpdateDate = x.start
	}
	return sm, nil
}

// WaitExecution blocks until an execution is closed (or ctx ends) and
// describes it.
func (e *Engine) WaitExecution(ctx context.Context, arn string) (*ExecutionDescription, error) {
	x, err := e.execution(arn)
	if err != nil {
		return nil, err
	}
	select {
	case <-x.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-e.ctx.Done():
		return nil, fmt.Errorf("wait for execution: %w", context.Cause(e.ctx))
	}
	return x.describe(), nil
}

// StopExecution stops a running execution with an optional error and
// cause; it returns once ExecutionAborted is recorded.
func (e *Engine) StopExecution(ctx context.Context, arn string, errName, cause *string) (time.Time, error) {
	x, err := e.execution(arn)
	if err != nil {
		return time.Time{}, err
	}
	x.mu.Lock()
	running := x.status == StatusRunning
	cancel := x.cancel
	x.mu.Unlock()
	if running && cancel != nil {
		// Virtual time stands still until the execution has recorded
		// its end (see watchTimeout).
		e.busy()
		defer e.idle()
		cancel(&stopRequest{f: &failure{Error: errName, Cause: cause}})
	}
	if _, err := e.WaitExecution(ctx, arn); err != nil {
		return time.Time{}, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.stopDate, nil
}

// SendTaskSuccess completes the .waitForTaskToken task of token with an
// output (JSON text). It returns once the result is durable.
func (e *Engine) SendTaskSuccess(ctx context.Context, token, output string) error {
	if len(output) > MaxPayloadBytes {
		return apiError(ErrInvalidOutput, "The output exceeds the maximum size of %d bytes", MaxPayloadBytes)
	}
	out, err := decode([]byte(output))
	if err != nil {
		return apiError(ErrInvalidOutput, "Invalid Output: '%v'", err)
	}
	return e.callback(ctx, token, callbackMsg{output: out})
}

// SendTaskFailure fails the .waitForTaskToken task of token.
func (e *Engine) SendTaskFailure(ctx context.Context, token string, errName, cause *string) error {
	return e.callback(ctx, token, callbackMsg{f: &failure{Error: errName, Cause: cause}})
}

// SendTaskHeartbeat reports that the worker of a task is alive. The
// heartbeat's time is durable when it returns, so that after a restart the
// task's heartbeat deadline counts from it.
func (e *Engine) SendTaskHeartbeat(_ context.Context, token string) error {
	p, err := e.parkedTask(token)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed != nil {
		return p.closed
	}
	at := e.clock.Now()
	if err := e.log.Beat(p.x.arn, token, at); err != nil {
		return fmt.Errorf("record heartbeat: %w", err)
	}
	select {
	case <-p.beats:
		// A heartbeat not taken yet: this later one replaces it, with
		// its clock unit.
	default:
		e.busy()
	}
	p.beats <- at
	return nil
}

func (e *Engine) parkedTask(token string) (*parked, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p := e.tokens[token]; p != nil {
		return p, nil
	}
	if err, ok := e.ended[token]; ok {
		return nil, err
	}
	if len(token) != 43 {
		return nil, apiError(ErrInvalidToken, "Invalid Token: '%s'", token)
	}
	return nil, apiError(ErrTaskDoesNotExist, "Task Does Not Exist: '%s'", token)
}

func (e *Engine) callback(ctx context.Context, token string, msg callbackMsg) error {
	p, err := e.parkedTask(token)
	if err != nil {
		return err
	}
	msg.ack = make(chan error, 1)
	p.mu.Lock()
	if p.closed != nil {
		p.mu.Unlock()
		return p.closed
	}
	p.closed = apiError(ErrTaskDoesNotExist, "Task Does Not Exist: the task of this token already completed")
	e.busy()
	p.result <- msg
	p.mu.Unlock()
	select {
	case err := <-msg.ack:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-e.ctx.Done():
		return fmt.Errorf("send task result: %w", context.Cause(e.ctx))
	}
}

// park registers the wait for a task token (or returns the one registered
// when the execution was recovered).
func (e *Engine) park(token string, x *execution) *parked {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p := e.tokens[token]; p != nil {
		return p
	}
	p := &parked{token: token, x: x, result: make(chan callbackMsg, 1), beats: make(chan time.Time, 1)}
	e.tokens[token] = p
	return p
}

func (e *Engine) unpark(p *parked) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.tokens, p.token)
	if len(e.ended) > 10000 {
		e.ended = map[string]error{}
	}
	p.mu.Lock()
	e.ended[p.token] = p.closed
	p.mu.Unlock()
}

// Redrive client tokens: a redrive retried with the token of one of the
// last redriveTokens redrives of the execution, within redriveTokenTTL of
// it, returns that redrive's date, as on AWS.
const (
	redriveTokens   = 10
	redriveTokenTTL = 15 * time.Minute
)

// RedriveExecution restarts a failed, timed out or aborted execution from
// where it stopped: the state that failed runs again, and inside Parallel
// and Map states only the branches and iterations that did not succeed.
//
// clientToken makes the call idempotent: a retry with the token of a
// recent redrive (see redriveTokens) returns its date, even after a
// restart, since ExecutionRedriven records the token.
func (e *Engine) RedriveExecution(ctx context.Context, arn, clientToken string) (time.Time, error) {
	x, err := e.execution(arn)
	if err != nil {
		return time.Time{}, err
	}
	x.redriveMu.Lock()
	defer x.redriveMu.Unlock()
	h, err := e.log.History(arn, AllEvents)
	if err != nil {
		return time.Time{}, fmt.Errorf("read history: %w", err)
	}
	if at, ok := redrivenWith(h, clientToken, e.clock.Now()); ok {
		return at, nil
	}
	x.mu.Lock()
	status := x.status
	x.mu.Unlock()
	switch status {
	case StatusRunning, StatusSucceeded:
		return time.Time{}, apiError(ErrExecutionNotRedrivable, "Execution is %s and cannot be redriven", status)
	}
	if reason := e.notRedrivable(x.machineArn); reason != "" {
		return time.Time{}, apiError(ErrExecutionNotRedrivable, "%s", reason)
	}
	if x.prog == nil {
		if err := e.prepare(x); err != nil {
			return time.Time{}, err
		}
	}
	recorded, lastID := replayPlan(h, true)
	previous, _ := redrives(h)
	x.mu.Lock()
	closed, closeEvent, stopDate, done := x.status, x.closeEvent, x.stopDate, x.done
	x.recorded = recorded
	x.lastID = lastID
	x.count = len(h)
	x.redriveCount = previous + 1
	x.status = StatusRunning
	x.closeEvent = nil
	x.stopDate = time.Time{}
	x.done = make(chan struct{})
	x.mockCalls = map[string]int{}
	count := x.redriveCount
	x.mu.Unlock()
	ev, err := x.record(&Event{Type: ExecutionRedriven, ClientToken: clientToken, Detail: Detail{RedriveCount: &count}}, lastID)
	if err != nil {
		x.mu.Lock()
		x.redriveCount = previous
		x.status, x.closeEvent, x.stopDate, x.done = closed, closeEvent, stopDate, done
		x.mu.Unlock()
		return time.Time{}, err
	}
	x.mu.Lock()
	x.redriveDate = ev.Time
	x.redriven = ev.ID
	x.mu.Unlock()
	e.registerRecoveredTokens(x)
	e.launch(x, h[0].ID)
	return ev.Time, nil
}

// redrivenWith finds, among the last redriveTokens redrives of a history
// that had a client token, the one with token, first used less than
// redriveTokenTTL before now, and returns its date.
func redrivenWith(h []*Event, token string, now time.Time) (time.Time, bool) {
	if token == "" {
		return time.Time{}, false
	}
	seen := 0
	for i := len(h) - 1; i >= 0 && seen < redriveTokens; i-- {
		ev := h[i]
		if ev.Type != ExecutionRedriven || ev.ClientToken == "" {
			continue
		}
		seen++
		if ev.ClientToken == token {
			return ev.Time, now.Sub(ev.Time) < redriveTokenTTL
		}
	}
	return time.Time{}, false
}

// recover loads every execution of the log and resumes the open ones.
func (e *Engine) recover() error {
	recs, err := e.log.Executions()
	if err != nil {
		return fmt.Errorf("load executions: %w", err)
	}
	for _, r := range recs {
		st := r.Started
		arn := st.Execution
		name := arn[strings.LastIndex(arn, ":")+1:]
		machineArn, _, _ := strings.Cut(st.Machine, "#")
		m := &machine{rec: MachineRecord{Arn: machineArn, Definition: st.Definition, RoleArn: st.Detail.RoleArn}}
		x := &execution{
			eng: e, arn: arn, name: name, machineArn: m.rec.Arn, definition: st.Definition, startedBy: st.Machine,
			machineUpdated: st.MachineUpdated, roleArn: st.Detail.RoleArn, input: st.Detail.Input, inputText: marshalString(st.Detail.Input),
			start: st.Time, status: StatusRunning, done: make(chan struct{}), mockCalls: map[string]int{},
		}
		e.mu.Lock()
		e.addExecution(x)
		owner := e.machines[x.machineArn]
		e.mu.Unlock()
		if r.Redriven != nil && r.Redriven.Detail.RedriveCount != nil {
			x.redriveCount, x.redriveDate = *r.Redriven.Detail.RedriveCount, r.Redriven.Time
		}
		if !r.Open() {
			x.status = terminalStatus(r.Status.Type)
			x.closeEvent = r.Status
			x.stopDate = r.Status.Time
			close(x.done)
			continue
		}
		if owner != nil && owner.rec.Deleting {
			x.deleting.Store(true)
		}
		if err := e.resume(x, st); err != nil {
			return fmt.Errorf("resume execution %s: %w", arn, err)
		}
	}
	e.mu.Lock()
	var deleting []string
	for arn, m := range e.machines {
		if m.rec.Deleting {
			deleting = append(deleting, arn)
		}
	}
	e.mu.Unlock()
	for _, arn := range deleting {
		if err := e.finishDeletion(arn); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) resume(x *execution, started *Event) error {
	h, err := e.log.History(x.arn, AllEvents)
	if err != nil {
		return fmt.Errorf("read history: %w", err)
	}
	if err := e.prepare(x); err != nil {
		return err
	}
	x.recorded, x.lastID = replayPlan(h, false)
	x.count = len(h)
	x.redriveCount, x.redriveDate = redrives(h)
	if x.recoveredBeats, err = e.log.Beats(x.arn); err != nil {
		return fmt.Errorf("read heartbeats: %w", err)
	}
	if last := h[len(h)-1]; last.Type == ExecutionRedriven {
		x.redriven = last.ID
	}
	e.registerRecoveredTokens(x)
	e.arm(x)
	e.mu.Lock()
	hold := e.holding
	if hold {
		e.held = append(e.held, heldRun{x: x, startedID: started.ID})
	}
	e.mu.Unlock()
	if !hold {
		e.run(x, started.ID)
	}
	return nil
}

// redrives counts the ExecutionRedriven events of a history and returns
// the time of the latest.
func redrives(h []*Event) (n int, latest time.Time) {
	for _, ev := range h {
		if ev.Type == ExecutionRedriven {
			n++
			latest = ev.Time
		}
	}
	return n, latest
}

// prepare compiles the definition of an execution loaded from the log and
// finds its mocked responses.
func (e *Engine) prepare(x *execution) error {
	var err error
	if x.prog, err = compileDefinition(x.definition); err != nil {
		return fmt.Errorf("compile definition: %w", err)
	}
	x.timeout = time.Duration(x.prog.def.TimeoutSeconds) * time.Second
	if _, testCase, ok := strings.Cut(x.startedBy, "#"); ok {
		if x.mocks, err = e.mocks.TestCase(machineName(x.machineArn), testCase); err != nil {
			return err
		}
	}
	return nil
}

// registerRecoveredTokens parks, before the execution replays, every task
// token whose task has no recorded outcome, so that SendTask* calls that
// arrive during the replay reach it.
func (e *Engine) registerRecoveredTokens(x *execution) {
	for _, list := range x.recorded {
		for i, ev := range list {
			if ev.Type != TaskScheduled || ev.Token == "" {
				continue
			}
			open := true
			for _, later := range list[i+1:] {
				if later.Type == TaskSucceeded || later.Type == TaskFailed || later.Type == TaskTimedOut {
					open = false
					break
				}
				if later.Type == TaskScheduled || strings.HasSuffix(later.Type, exited) {
					break
				}
			}
			if open {
				e.park(ev.Token, x)
			}
		}
	}
}

// replayPlan groups a history by scope for replay, leaving out the events
// that the run does not emit itself (ExecutionStarted, ExecutionRedriven).
// At each redrive (and for redrive itself), the failed part of every scope
// on the failure path is cut so that it runs again.
func replayPlan(h []*Event, redrive bool) (map[string][]*Event, int64) {
	recorded := map[string][]*Event{}
	var lastID int64
	for _, ev := range h {
		if ev.ID > lastID {
			lastID = ev.ID
		}
		switch ev.Type {
		case ExecutionStarted:
			continue
		case ExecutionRedriven:
			cutScope(recorded, "")
			continue
		}
		recorded[ev.Scope] = append(recorded[ev.Scope], ev)
	}
	if redrive {
		cutScope(recorded, "")
	}
	return recorded, lastID
}

// failureEnd reports whether an event type ends a scope or a state
// unsuccessfully.
func failureEnd(typ string) bool {
	switch typ {
	case ExecutionFailed, ExecutionAborted, ExecutionTimedOut, MapIterationFailed, MapIterationAborted,
		ParallelStateFailed, MapStateFailed, MapRunFailed, EvaluationFailed:
		return true
	}
	return strings.HasSuffix(typ, aborted)
}

// cutScope removes from a scope the events of its unsuccessful end: the
// state that failed is dropped entirely, except a Parallel or Map state,
// which keeps its start and has its failed children cut in turn.
func cutScope(recorded map[string][]*Event, key string) {
	list := recorded[key]
	for len(list) > 0 && failureEnd(list[len(list)-1].Type) {
		list = list[:len(list)-1]
	}
	last := -1
	for i := len(list) - 1; i >= 0; i-- {
		if strings.HasSuffix(list[i].Type, entered) {
			last = i
			break
		}
		if strings.HasSuffix(list[i].Type, exited) {
			break
		}
	}
	if last < 0 {
		recorded[key] = list
		return
	}
	typ := strings.TrimSuffix(list[last].Type, entered)
	if typ != "Parallel" && typ != "Map" {
		recorded[key] = list[:last]
		return
	}
	startedType := typ + "StateStarted"
	start := -1
	for i := len(list) - 1; i > last; i-- {
		if list[i].Type == startedType {
			start = i
			break
		}
	}
	if start < 0 {
		recorded[key] = list[:last]
		return
	}
	recorded[key] = list[:start+1]
	prefix := fmt.Sprintf("%s/%d.", key, list[start].ID)
	for k, child := range recorded {
		if strings.HasPrefix(k, prefix) && !strings.Contains(k[len(prefix):], "/") && len(child) > 0 &&
			!endsIteration(child[len(child)-1].Type) {
			cutScope(recorded, k)
		}
	}
}

// endsIteration reports whether the last event of a finished branch or
// iteration means it succeeded: a branch ends on the exit of its last
// state, an iteration on MapIterationSucceeded.
func endsIteration(typ string) bool {
	return typ == MapIterationSucceeded || strings.HasSuffix(typ, exited)
}
