package states

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/sluice-ci/sluice/internal/jsonpath"
)

// Handler runs a Task state's work in process: a Lambda function or a
// service integration. input is the task's input as JSON text, the result
// must be JSON text. An error fails the task with the error's name (see
// ErrorName) so that Retry and Catch match it as on AWS.
//
// The context carries the task's TaskInfo (TaskFromContext): a handler that
// changes the world de-duplicates on its IdempotencyKey, because after a
// crash a task that was in flight is dispatched again with the same key.
type Handler func(ctx context.Context, input json.RawMessage) (json.RawMessage, error)

// TaskInfo describes the task a handler runs for.
type TaskInfo struct {
	ExecutionArn    string
	StateMachineArn string
	StateName       string
	Resource        string
	// Attempt counts from 0 for the first try of this visit of the state.
	Attempt int
	// IdempotencyKey names the execution, the visit of the state and the
	// attempt; it is the same when a crash makes the engine dispatch the
	// attempt again.
	IdempotencyKey string
	// Token is the task token of a .waitForTaskToken task, to be passed to
	// SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat.
	Token string
}

type taskInfoKey struct{}

// TaskFromContext returns the TaskInfo of the task a handler runs for.
func TaskFromContext(ctx context.Context) (TaskInfo, bool) {
	info, ok := ctx.Value(taskInfoKey{}).(TaskInfo)
	return info, ok
}

// Registry maps Task resources to handlers. Register Lambda functions by
// function ARN or by name (they then answer both the function ARN resource
// and arn:aws:states:::lambda:invoke with that FunctionName), and service
// integrations by resource ARN without the integration pattern
// (arn:aws:states:::sqs:sendMessage serves .waitForTaskToken too).
type Registry struct {
	mu       sync.RWMutex
	handlers map[string]Handler
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{handlers: map[string]Handler{}} }

// Register adds or replaces the handler of a resource.
func (r *Registry) Register(resource string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[resource] = h
	if i := strings.Index(resource, ":function:"); i >= 0 && strings.HasPrefix(resource, "arn:") {
		r.handlers[resource[i+len(":function:"):]] = h
	}
}

func (r *Registry) get(key string) Handler {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.handlers[key]
}

// function returns the handler of a Lambda function given by ARN, partial
// ARN or name, with or without a version or alias qualifier.
func (r *Registry) function(ref string) Handler {
	if h := r.get(ref); h != nil {
		return h
	}
	name := ref
	if i := strings.Index(ref, "function:"); i >= 0 {
		name = ref[i+len("function:"):]
	}
	if h := r.get(name); h != nil {
		return h
	}
	if base, _, ok := strings.Cut(name, ":"); ok {
		return r.get(base)
	}
	return nil
}

// outcome is how one attempt of a task ended, before its event is written.
type outcome struct {
	output   any
	f        *failure
	timedOut bool
	recorded *Event     // the recorded outcome while replaying
	ack      chan error // answers the SendTask* call that ended the task
}

func (st *stateRun) task() (any, *node, *failure) {
	n := st.n
	r := n.resource
	eff := st.input
	var f *failure
	if !n.jsonata {
		if eff, f = st.inputPath(st.input); f != nil {
			return nil, nil, f
		}
	}
	timeout, heartbeat, f := st.taskTimeouts(eff)
	if f != nil {
		return nil, nil, f
	}
	counts := make([]int64, len(n.retry))
	for attempt := 0; ; attempt++ {
		st.retryCount = attempt
		st.token = ""
		if r.submitted() {
			st.token = newToken()
		}
		st.resetContext()
		var params any
		if n.jsonata {
			params, f = st.evalTemplate(n.arguments, st.env(st.input), st.input, "Arguments")
		} else {
			params, f = st.evalTemplate(n.params, st.env(eff), eff, "Parameters")
		}
		if f != nil {
			return st.catch(f)
		}
		if err := checkParameters(r, params); err != nil {
			return nil, nil, st.evalFailure(err, "Parameters")
		}
		oc := st.invoke(params, attempt, timeout, heartbeat)
		if oc.f == abortedFailure {
			return nil, nil, abortedFailure
		}
		if oc.f == nil {
			ev := st.s.emit(st.resultEvent(oc))
			st.s.x.flush()
			if oc.ack != nil {
				oc.ack <- nil
			}
			result := ev.Detail.Output
			if jsonSize(result, MaxPayloadBytes) > MaxPayloadBytes {
				// Terminal: no retrier or catcher takes it.
				return nil, nil, st.dataLimit()
			}
			return st.finishResult(result)
		}
		idx, retry := st.retrier(oc.f, counts)
		ev := st.resultEvent(oc)
		if retry {
			ev.Delay = backoff(n.retry[idx], counts[idx], rand.Float64)
		}
		ev = st.s.emit(ev)
		st.s.x.flush()
		if oc.ack != nil {
			oc.ack <- nil
		}
		fail := &failure{Error: ev.Detail.Error, Cause: ev.Detail.Cause}
		if !retry {
			return st.catch(fail)
		}
		counts[idx]++
		if !st.s.replaying() {
			if err := st.s.sleepUntil(ev.Time.Add(ev.Delay)); err != nil {
				return nil, nil, abortedFailure
			}
		}
	}
}

// resultEvent returns the event that records an outcome.
func (st *stateRun) resultEvent(oc outcome) *Event {
	r := st.n.resource
	if oc.recorded != nil {
		return &Event{Type: oc.recorded.Type}
	}
	d := Detail{}
	if !r.lambda {
		d.ResourceType, d.Resource = r.service, r.resourceName()
	}
	if oc.f == nil {
		d.Output, d.HasOutput = oc.output, true
		if r.lambda {
			return &Event{Type: LambdaFunctionSucceeded, Detail: d}
		}
		return &Event{Type: TaskSucceeded, Detail: d}
	}
	d.Error, d.Cause = oc.f.Error, oc.f.Cause
	switch {
	case r.lambda && oc.timedOut:
		return &Event{Type: LambdaFunctionTimedOut, Detail: d}
	case r.lambda:
		return &Event{Type: LambdaFunctionFailed, Detail: d}
	case oc.timedOut:
		return &Event{Type: TaskTimedOut, Detail: d}
	}
	return &Event{Type: TaskFailed, Detail: d}
}

// taskTimeouts evaluates TimeoutSeconds and HeartbeatSeconds (0: none).
func (st *stateRun) taskTimeouts(eff any) (timeout, heartbeat int64, f *failure) {
	n := st.n
	env := st.env(eff)
	get := func(e expr, p *jsonpath.Path, field string) (int64, *failure) {
		var v any
		switch {
		case e != nil:
			var err error
			if v, err = e.eval(env); err != nil {
				return 0, st.evalFailure(err, field)
			}
		case p != nil:
			var err error
			if v, err = p.Get(env.pathEnv()); err != nil {
				return 0, st.pathFailure(err)
			}
		default:
			return 0, nil
		}
		secs, ok := numberValue(v)
		if !ok || secs <= 0 {
			name := errRuntime
			if n.jsonata {
				name = errQueryEvaluation
			}
			return 0, st.evalFailure(&evalError{name, fmt.Sprintf(
				"The %s field must be a positive integer, but was: %s", field, jsonpath.Text(v))}, field)
		}
		return secs, nil
	}
	if timeout, f = get(n.timeout, n.timeoutPath, "TimeoutSeconds"); f != nil {
		return 0, 0, f
	}
	if heartbeat, f = get(n.heartbeat, n.heartbeatPath, "HeartbeatSeconds"); f != nil {
		return 0, 0, f
	}
	if timeout == 0 && n.resource.callback() {
		timeout = 99999999
	}
	return timeout, heartbeat, nil
}

// newToken returns a fresh task token.
func newToken() string {
	var b [32]byte
	if _, err := crand.Read(b[1:]); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err))
	}
	// A leading version byte makes every token start with "AQ", as AWS's
	// do, so that a token never starts with '-' and a command line never
	// reads one as an option.
	b[0] = 1
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newRequestID returns a random id in the form of a UUID.
func newRequestID() string {
	var b [16]byte
	if _, err := crand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// invoke runs one attempt of a task: it records the task scheduled and
// started, then dispatches it (to a mocked response or a handler) unless
// the history already holds its outcome.
func (st *stateRun) invoke(params any, attempt int, timeout, heartbeat int64) outcome {
	s := st.s
	x := s.x
	n := st.n
	r := n.resource
	var sched, started *Event
	if r.lambda {
		d := Detail{Resource: r.arn, Input: params, HasInput: true}
		if timeout > 0 {
			d.TimeoutInSeconds = &timeout
		}
		sched = s.emit(&Event{Type: LambdaFunctionScheduled, Detail: d})
		params = sched.Detail.Input
		started = s.emit(&Event{Type: LambdaFunctionStarted})
	} else {
		d := Detail{ResourceType: r.service, Resource: r.resourceName(), Region: x.eng.region, Parameters: params}
		if timeout > 0 {
			d.TimeoutInSeconds = &timeout
		}
		if heartbeat > 0 {
			d.HeartbeatInSeconds = &heartbeat
		}
		sched = s.emit(&Event{Type: TaskScheduled, Token: st.token, Detail: d})
		params, st.token = sched.Detail.Parameters, sched.Token
		started = s.emit(&Event{Type: TaskStarted, Detail: Detail{ResourceType: r.service, Resource: r.resourceName()}})
	}
	call := x.mockCall(n.name)
	submitted := false
	if rec := s.peek(); rec != nil && rec.Type == TaskSubmitted {
		s.emit(&Event{Type: TaskSubmitted})
		submitted = true
	}
	if rec := s.peek(); rec != nil {
		oc := outcome{recorded: rec}
		switch rec.Type {
		case TaskFailed, TaskTimedOut, LambdaFunctionFailed, LambdaFunctionTimedOut:
			oc.f = &failure{Error: rec.Detail.Error, Cause: rec.Detail.Cause}
		}
		return oc
	}
	info := TaskInfo{
		ExecutionArn: x.arn, StateMachineArn: x.machineArn, StateName: n.name, Resource: r.arn,
		Attempt: attempt, Token: st.token,
		IdempotencyKey: fmt.Sprintf("%s%s/%s/%d/%d", x.arn, s.key, n.name, st.enteredID, attempt),
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = started.Time.Add(time.Duration(timeout) * time.Second)
	}
	d := &dispatch{st: st, info: info, params: params, deadline: deadline,
		heartbeat: time.Duration(heartbeat) * time.Second, started: started.Time, submitted: submitted}
	if x.mocks != nil {
		return d.mocked(call)
	}
	return d.run()
}

// dispatch is one live attempt of a task.
type dispatch struct {
	st        *stateRun
	info      TaskInfo
	params    any
	deadline  time.Time
	heartbeat time.Duration
	started   time.Time // when TaskStarted was recorded: the first heartbeat is due a heartbeat after it
	submitted bool
}

// submit records TaskSubmitted for integrations that report it.
func (d *dispatch) submit(output any) {
	r := d.st.n.resource
	if d.submitted || !r.submitted() {
		return
	}
	d.submitted = true
	d.st.s.emit(&Event{Type: TaskSubmitted, Detail: Detail{
		ResourceType: r.service, Resource: r.resourceName(), Output: output, HasOutput: true}})
}

func (d *dispatch) mocked(call int) outcome {
	st := d.st
	resp, err := st.s.x.mocks.response(st.n.name, call)
	if err != nil {
		return outcome{f: newFailure(errTaskFailed, err.Error())}
	}
	d.submit(map[string]any{})
	if resp.Throw != nil {
		f := &failure{Error: resp.Throw.Error, Cause: resp.Throw.Cause}
		timedOut := f.name() == errTimeout
		if timedOut && f.Cause == nil {
			f.Cause = strPtr("")
		}
		return outcome{f: f, timedOut: timedOut}
	}
	return outcome{output: resp.Return}
}

// handler finds the handler of the task and the input it takes.
func (d *dispatch) handler() (Handler, any, error) {
	st := d.st
	r := st.n.resource
	reg := st.s.x.eng.handlers
	switch {
	case r.lambda:
		if h := reg.function(r.arn); h != nil {
			return h, d.params, nil
		}
	case r.service == "lambda" && r.api == "invoke":
		p, _ := d.params.(map[string]any)
		fn, _ := p["FunctionName"].(string)
		payload, ok := p["Payload"]
		if !ok {
			payload = map[string]any{}
		}
		if h := reg.function(fn); h != nil {
			return h, payload, nil
		}
		return nil, nil, fmt.Errorf("no handler is registered for the Lambda function '%s' of state '%s'", fn, st.n.name)
	default:
		if h := reg.get(r.arn); h != nil {
			return h, d.params, nil
		}
		if h := reg.get(r.base()); h != nil {
			return h, d.params, nil
		}
	}
	return nil, nil, fmt.Errorf("no handler is registered for the resource '%s' of state '%s'", r.arn, st.n.name)
}

// run dispatches the attempt to its handler and waits for its outcome: the
// handler's return, or for .waitForTaskToken the callback, a timeout, a
// missed heartbeat or the end of the scope.
func (d *dispatch) run() outcome {
	st := d.st
	s := st.s
	x := s.x
	r := st.n.resource
	var p *parked
	if r.callback() {
		p = x.eng.park(st.token, x)
		defer x.eng.unpark(p)
	}
	var c *call
	if !d.submitted {
		h, input, err := d.handler()
		switch {
		case err != nil && r.callback() && x.eng.unhandled:
			d.submitWithoutOutput()
			x.flush()
			if x.eng.parked != nil {
				x.eng.parked(d.info)
			}
		case err != nil:
			return outcome{f: newFailure(errTaskFailed, err.Error())}
		default:
			x.flush()
			ctx := context.WithValue(s.ctx, taskInfoKey{}, d.info)
			c = x.eng.startHandler(ctx, h, marshal(input))
		}
	} else {
		x.flush()
	}
	var timer, beat Timer
	if !d.deadline.IsZero() {
		timer = x.eng.clock.NewTimer(d.deadline)
	}
	if d.heartbeat > 0 {
		last := d.started
		if at, ok := x.recoveredBeats[d.info.Token]; ok && at.After(last) {
			last = at
		}
		beat = x.eng.clock.NewTimer(last.Add(d.heartbeat))
	}
	stop := func() {
		x.eng.stopTimer(timer)
		x.eng.stopTimer(beat)
		if c != nil {
			c.abandon(x.eng)
		}
	}
	var results <-chan handlerResult
	var callbacks <-chan callbackMsg
	var beats <-chan time.Time
	if p != nil {
		callbacks, beats = p.result, p.beats
	}
	timeoutOutcome := func() outcome {
		stop()
		p.close(ErrTaskTimedOut)
		return outcome{f: &failure{Error: strPtr(errTimeout), Cause: strPtr("")}, timedOut: true}
	}
	for {
		if c != nil {
			results = c.ch
		} else {
			results = nil
		}
		var timerC, beatC <-chan struct{}
		if timer != nil {
			timerC = timer.C()
		}
		if beat != nil {
			beatC = beat.C()
		}
		x.pause()
		select {
		case res := <-results:
			x.resume()
			c = nil
			out, f := d.handlerOutcome(res)
			if f == nil && r.callback() {
				d.submit(out)
				x.flush()
				continue
			}
			stop()
			p.close(ErrTaskDoesNotExist)
			return outcome{output: out, f: f}
		case msg := <-callbacks:
			x.resume()
			d.submitBeforeCallback(c)
			c = nil
			stop()
			return outcome{output: msg.output, f: msg.f, ack: msg.ack}
		case at := <-beats:
			x.resume()
			if d.heartbeat > 0 {
				x.eng.stopTimer(beat)
				beat = x.eng.clock.NewTimer(at.Add(d.heartbeat))
			}
		case <-timerC:
			x.resume()
			timer = nil
			return timeoutOutcome()
		case <-beatC:
			x.resume()
			beat = nil
			return timeoutOutcome()
		case <-s.ctx.Done():
			x.eng.busy()
			x.resume()
			stop()
			p.close(ErrTaskDoesNotExist)
			return outcome{f: abortedFailure}
		}
	}
}

// submitBeforeCallback records TaskSubmitted before a callback that
// arrived while the handler's return was not processed yet: with the
// handler's output when it has returned, without one when it still runs
// (it sent the callback itself).
func (d *dispatch) submitBeforeCallback(c *call) {
	if c == nil || d.submitted {
		return
	}
	eng := d.st.s.x.eng
	c.mu.Lock()
	var res handlerResult
	returned := false
	select {
	case res = <-c.ch:
		returned = true
		eng.idle()
	default:
	}
	c.abandoned = true
	c.mu.Unlock()
	if returned {
		if out, f := d.handlerOutcome(res); f == nil {
			d.submit(out)
			return
		}
	}
	d.submitWithoutOutput()
}

// submitWithoutOutput records TaskSubmitted for a task whose submission
// has no output to show: its handler has not returned, or it has none.
func (d *dispatch) submitWithoutOutput() {
	r := d.st.n.resource
	d.submitted = true
	d.st.s.emit(&Event{Type: TaskSubmitted, Detail: Detail{ResourceType: r.service, Resource: r.resourceName()}})
}

// handlerOutcome turns a handler's return into the task result or failure.
func (d *dispatch) handlerOutcome(res handlerResult) (any, *failure) {
	r := d.st.n.resource
	lambda := r.lambda || r.service == "lambda"
	if res.err != nil {
		name := ErrorName(res.err)
		cause := res.err.Error()
		var se statesError
		if errors.As(res.err, &se) {
			name, cause = se.StatesError()
		} else if lambda {
			cause = marshalString(map[string]any{"errorMessage": res.err.Error(), "errorType": name})
		}
		return nil, newFailure(name, cause)
	}
	raw := res.out
	if len(raw) == 0 {
		raw = []byte("null")
	}
	out, err := decode(raw)
	if err != nil {
		return nil, newFailure(errRuntime, fmt.Sprintf("The task '%s' returned invalid JSON: %v", d.st.n.name, err))
	}
	if r.service == "lambda" && r.api == "invoke" {
		out = map[string]any{
			"ExecutedVersion": "$LATEST",
			"Payload":         out,
			"SdkHttpMetadata": map[string]any{
				"AllHttpHeaders": map[string]any{"Content-Type": []any{"application/json"}},
				"HttpHeaders":    map[string]any{"Content-Type": "application/json"},
				"HttpStatusCode": jsonNumber(200),
			},
			"SdkResponseMetadata": map[string]any{"RequestId": newRequestID()},
			"StatusCode":          jsonNumber(200),
		}
	}
	return out, nil
}

func strPtr(s string) *string { return &s }

// handlerResult is what a handler returned.
type handlerResult struct {
	out json.RawMessage
	err error
}

// call is a handler running in its own goroutine. Its result carries the
// goroutine's clock unit to whoever receives it; an abandoned call gives
// its unit back.
type call struct {
	mu        sync.Mutex
	abandoned bool
	ch        chan handlerResult
}

func (e *Engine) startHandler(ctx context.Context, h Handler, input []byte) *call {
	c := &call{ch: make(chan handlerResult, 1)}
	e.busy()
	go func() {
		out, err := safeCall(ctx, h, input)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.abandoned {
			e.idle()
			return
		}
		c.ch <- handlerResult{out, err}
	}()
	return c
}

func (c *call) abandon(e *Engine) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.abandoned = true
	select {
	case <-c.ch:
		e.idle()
	default:
	}
}

// handlerPanic is the error of a handler that panicked.
type handlerPanic struct{ v any }

func (p *handlerPanic) Error() string { return fmt.Sprintf("handler panicked: %v", p.v) }

func safeCall(ctx context.Context, h Handler, input []byte) (out json.RawMessage, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &handlerPanic{r}
		}
	}()
	return h(ctx, input)
}

// callbackMsg is a SendTaskSuccess or SendTaskFailure for a parked task.
type callbackMsg struct {
	output any
	f      *failure
	ack    chan error
}

// parked is a task waiting for its token.
type parked struct {
	token  string
	x      *execution
	mu     sync.Mutex
	closed error
	result chan callbackMsg
	beats  chan time.Time // the time of each heartbeat
}

// close ends the wait for the token; later SendTask* calls get err. A
// callback that arrived too late gets err too, and gives back its unit.
func (p *parked) close(err error) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed == nil {
		p.closed = err
	}
	select {
	case msg := <-p.result:
		msg.ack <- err
		p.x.eng.idle()
	default:
	}
	select {
	case <-p.beats:
		p.x.eng.idle()
	default:
	}
}

func (e *Engine) stopTimer(t Timer) {
	if t != nil && !t.Stop() {
		e.idle()
	}
}
