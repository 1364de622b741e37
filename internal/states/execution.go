package states

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Execution statuses.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// Why an execution's context was cancelled.
var (
	errEngineClosed = errors.New("engine closed")
	errTimedOut     = errors.New("execution timed out")
	errBranchFailed = errors.New("a sibling branch or iteration failed")
	errDeleted      = errors.New("state machine deleted")
)

// historyFull stops an execution whose history reached MaxHistoryEvents.
type historyFull struct{}

// stopRequest is the cancellation cause of StopExecution.
type stopRequest struct{ f *failure }

func (s *stopRequest) Error() string { return "execution stopped" }

// execution is one running (or finished) execution.
type execution struct {
	eng        *Engine
	seq        uint64 // the order in which the engine learnt of the execution
	arn        string
	name       string
	machineArn string
	definition string
	// machineUpdated is the update date of the state machine when the
	// execution started: the revision of it that the execution runs.
	machineUpdated time.Time
	startedBy      string // the state machine ARN it was started with, "#test case" included
	roleArn        string
	prog           *program
	input          any
	inputText      string
	start          time.Time
	timeout        time.Duration

	ctx    context.Context
	cancel context.CancelCauseFunc
	baton  baton
	// deleting is set when the state machine is deleted while the
	// execution runs: its next state transition ends it.
	deleting atomic.Bool

	mu     sync.Mutex
	lastID int64
	// redriven is the id of an ExecutionRedriven event that no event
	// follows yet: the next event takes it as its previous event.
	redriven int64
	count    int
	pending  []*Event
	recorded map[string][]*Event
	// recoveredBeats holds the latest heartbeat of each task token,
	// recorded before the engine resumed the execution.
	recoveredBeats map[string]time.Time
	mocks          *Mocks
	mockCalls      map[string]int
	redriveCount   int
	redriveDate    time.Time
	status         string
	closeEvent     *Event
	stopDate       time.Time
	done           chan struct{}

	flushMu sync.Mutex
	// redriveMu lets one RedriveExecution of the execution run at a time.
	redriveMu sync.Mutex
}

// append assigns the next id to an event of scope s and queues it for the
// log.
func (x *execution) append(s *scope, e *Event) {
	x.mu.Lock()
	if x.eng.closing() {
		x.mu.Unlock()
		panic(stopRun{errEngineClosed})
	}
	if x.count >= MaxHistoryEvents-1 && !IsTerminal(e.Type) {
		x.mu.Unlock()
		panic(historyFull{})
	}
	x.lastID++
	x.count++
	e.ID = x.lastID
	e.PreviousID = s.prev
	if x.redriven != 0 {
		e.PreviousID, x.redriven = x.redriven, 0
	}
	e.Execution = x.arn
	e.Scope = s.key
	e.Time = x.eng.clock.Now()
	x.pending = append(x.pending, e)
	flush := len(x.pending) >= 512
	x.mu.Unlock()
	if flush {
		x.flush()
	}
}

// flush makes every emitted event durable. It is called before any effect
// outside the engine: dispatching a task, waiting on a timer, answering
// SendTask*, reporting an execution closed.
func (x *execution) flush() {
	x.flushMu.Lock()
	defer x.flushMu.Unlock()
	x.mu.Lock()
	batch := x.pending
	x.pending = nil
	x.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := x.eng.log.Append(batch); err != nil {
		panic(stopRun{fmt.Errorf("append history: %w", err)})
	}
}

// record appends an execution-level event (ExecutionStarted,
// ExecutionRedriven) from outside the execution's goroutine and makes it
// durable.
func (x *execution) record(e *Event, prev int64) (ev *Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, ok := r.(stopRun)
			if !ok {
				panic(r)
			}
			ev, err = nil, s.err
		}
	}()
	ev = (&scope{x: x, prev: prev}).emit(e)
	x.flush()
	return ev, nil
}

// pause gives up the baton and the clock before the goroutine blocks.
func (x *execution) pause() {
	x.baton.release()
	x.eng.idle()
}

// resume takes the baton back after the goroutine was woken (with a clock
// unit handed over by whatever woke it).
func (x *execution) resume() { x.baton.acquire() }

// sleepUntil waits until the clock reaches at or the scope is cancelled.
func (s *scope) sleepUntil(at time.Time) error {
	x := s.x
	x.flush()
	t := x.eng.clock.NewTimer(at)
	x.pause()
	select {
	case <-t.C():
	case <-s.ctx.Done():
		if t.Stop() {
			x.eng.busy()
		}
	}
	x.resume()
	return s.ctx.Err()
}

// contextTime formats a time as the context object and the API show it.
func contextTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// run executes (or resumes) the execution to its end. It is the execution's
// main goroutine and holds a clock unit while it runs.
func (x *execution) run(startedID int64) {
	defer x.eng.idle()
	defer x.eng.wg.Done()
	x.baton.acquire()
	var out any
	var f *failure
	stopped := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				switch v := r.(type) {
				case stopRun:
					err = v.err
				case divergence:
					f = runtimeFailure("The execution history could not be replayed: " + v.msg)
				case historyFull:
					f = runtimeFailure(fmt.Sprintf("The execution reached the maximum number of history events (%d).", MaxHistoryEvents))
				default:
					panic(r)
				}
			}
		}()
		if x.timeout > 0 {
			x.watchTimeout()
		}
		s := x.newScope(x.ctx, "", startedID, &varScope{})
		out, f = s.runBlock(x.prog.root, x.input)
		return nil
	}()
	if stopped != nil {
		x.baton.release()
		return
	}
	x.finish(out, f)
	x.baton.release()
}

func (x *execution) watchTimeout() {
	from := x.start
	x.mu.Lock()
	if x.redriveDate.After(from) {
		from = x.redriveDate
	}
	done := x.done
	x.mu.Unlock()
	deadline := from.Add(x.timeout)
	t := x.eng.clock.NewTimer(deadline)
	go func() {
		select {
		case <-t.C():
			x.cancel(errTimedOut)
			// The goroutines the cancellation wakes take their clock
			// units only once they run: the fired timer's unit holds
			// virtual time still until the execution has recorded its
			// end, so that the timers they waited on do not fire past
			// the timeout meanwhile.
			select {
			case <-done:
			case <-x.eng.ctx.Done():
			}
			x.eng.idle()
		case <-done:
			if !t.Stop() {
				<-t.C()
				x.eng.idle()
			}
		}
	}()
}

// finish emits the terminal event of the execution.
func (x *execution) finish(out any, f *failure) {
	top := &scope{x: x, key: "", prev: x.lastID}
	var e *Event
	cause := context.Cause(x.ctx)
	var stop *stopRequest
	switch {
	case errors.Is(cause, errEngineClosed):
		return
	case errors.As(cause, &stop):
		e = &Event{Type: ExecutionAborted, Detail: Detail{Error: stop.f.Error, Cause: stop.f.Cause}}
	case errors.Is(cause, errTimedOut):
		name := "States.Timeout"
		e = &Event{Type: ExecutionTimedOut, Detail: Detail{Error: &name}}
	case errors.Is(cause, errDeleted):
		f := runtimeFailure(fmt.Sprintf("State machine %s has been deleted.", machineName(x.machineArn)))
		e = &Event{Type: ExecutionFailed, Detail: Detail{Error: f.Error, Cause: f.Cause}}
	case f != nil:
		e = &Event{Type: ExecutionFailed, Detail: Detail{Error: f.Error, Cause: f.Cause}}
	default:
		e = &Event{Type: ExecutionSucceeded, Detail: Detail{Output: out, HasOutput: true}}
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(stopRun); !ok {
					panic(r)
				}
				e = nil
			}
		}()
		top.emit(e)
		x.flush()
	}()
	if e == nil {
		return
	}
	x.eng.closeExecution(x, e)
}

// status returns the status an event closes an execution with.
func terminalStatus(typ string) string {
	switch typ {
	case ExecutionSucceeded:
		return StatusSucceeded
	case ExecutionFailed:
		return StatusFailed
	case ExecutionTimedOut:
		return StatusTimedOut
	case ExecutionAborted:
		return StatusAborted
	}
	return StatusRunning
}
