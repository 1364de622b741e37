package states

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"time"

	"github.com/sluice-ci/sluice/internal/asl"
	"github.com/sluice-ci/sluice/internal/jsonpath"
)

// Error names the interpreter raises itself.
const (
	errRuntime           = "States.Runtime"
	errTimeout           = "States.Timeout"
	errDataLimit         = "States.DataLimitExceeded"
	errQueryEvaluation   = "States.QueryEvaluationError"
	errNoChoiceMatched   = "States.NoChoiceMatched"
	errTaskFailed        = "States.TaskFailed"
	errExceedToleratedFT = "States.ExceedToleratedFailureThreshold"
)

// abortedFailure marks a state or block stopped because its scope was
// cancelled (a sibling failed, the execution was stopped or timed out).
var abortedFailure = &failure{}

// stateRun is one visit of a state.
type stateRun struct {
	s           *scope
	b           *block
	n           *node
	input       any
	enteredID   int64
	enteredTime time.Time
	retryCount  int
	token       string
	ctxObj      map[string]any
}

// runBlock runs the states of a block from its start to its end.
func (s *scope) runBlock(b *block, input any) (any, *failure) {
	n := b.start
	for {
		if s.ctx.Err() != nil {
			return nil, abortedFailure
		}
		out, next, f := s.runState(b, n, input)
		if f != nil {
			return nil, f
		}
		if next == nil {
			return out, nil
		}
		n, input = next, out
	}
}

func (s *scope) runState(b *block, n *node, input any) (any, *node, *failure) {
	if !s.replaying() && s.x.deleting.Load() {
		// The state machine was deleted: its executions end at their
		// next state transition, as on AWS.
		s.x.cancel(errDeleted)
		return nil, nil, abortedFailure
	}
	ent := s.emit(&Event{Type: n.enteredT, Detail: Detail{Name: n.name, Input: input, HasInput: true}})
	st := &stateRun{s: s, b: b, n: n, input: ent.Detail.Input, enteredID: ent.ID, enteredTime: ent.Time}
	if r := s.peek(); r != nil && r.Type == n.exitedT {
		// The state finished before the restart: take its recorded exit.
		return st.exit(nil, nil, nil)
	}
	var out any
	var next *node
	var f *failure
	switch n.s.Type {
	case asl.TypePass:
		out, next, f = st.pass()
	case asl.TypeChoice:
		out, next, f = st.choice()
	case asl.TypeWait:
		out, next, f = st.wait()
	case asl.TypeSucceed:
		out, next, f = st.succeed()
	case asl.TypeFail:
		f = st.fail()
	case asl.TypeTask:
		out, next, f = st.task()
	case asl.TypeParallel:
		out, next, f = st.parallel()
	case asl.TypeMap:
		out, next, f = st.mapState()
	}
	switch {
	case f == abortedFailure && errorsIsBranchFailed(s.ctx):
		s.emit(&Event{Type: n.abortedT})
	case f != nil && f != abortedFailure && s.branch && n.s.Type != asl.TypeFail:
		s.emit(&Event{Type: n.abortedT})
	}
	return out, next, f
}

// exit emits the StateExited event and moves to the next state. While
// replaying, the recorded output, variables and transition win over the
// ones computed.
func (st *stateRun) exit(out any, next *node, assigned map[string]any) (any, *node, *failure) {
	n := st.n
	if !st.s.replaying() && jsonSize(out, MaxPayloadBytes) > MaxPayloadBytes {
		return nil, nil, st.dataLimit()
	}
	nextName := ""
	if next != nil {
		nextName = next.name
	}
	ev := st.s.emit(&Event{Type: n.exitedT, Next: nextName,
		Detail: Detail{Name: n.name, Output: out, HasOutput: true, Assigned: assigned}})
	st.s.vars.set(ev.Detail.Assigned)
	if ev.Next == "" {
		return ev.Detail.Output, nil, nil
	}
	return ev.Detail.Output, st.b.nodes[ev.Next], nil
}

func (st *stateRun) dataLimit() *failure {
	f := newFailure(errDataLimit, fmt.Sprintf(
		"The state/task '%s' returned a result with a size exceeding the maximum number of bytes service limit.", st.n.name))
	f.terminal = true
	return f
}

// prefix is the text AWS puts before the cause of an error raised while
// evaluating a state.
func (st *stateRun) prefix() string {
	return fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). ", st.n.name, st.enteredID)
}

// evalFailure turns an evaluation error into a failure with AWS's prefix;
// a JSONata error is also recorded as an EvaluationFailed event.
func (st *stateRun) evalFailure(err error, location string) *failure {
	name, cause := errRuntime, err.Error()
	var se statesError
	if errors.As(err, &se) {
		name, cause = se.StatesError()
	}
	f := newFailure(name, st.prefix()+cause)
	switch name {
	case errRuntime, errDataLimit:
		f.terminal = true
	case errQueryEvaluation:
		st.s.emit(&Event{Type: EvaluationFailed, Detail: Detail{
			Error: f.Error, Cause: f.Cause, Location: location, State: st.n.name}})
	}
	return f
}

// contextObject returns the context object ($$, $states.context).
func (st *stateRun) contextObject() any {
	if st.ctxObj != nil {
		return st.ctxObj
	}
	x := st.s.x
	exec := map[string]any{
		"Id": x.arn, "Input": x.input, "Name": x.name, "RoleArn": x.roleArn,
		"StartTime": contextTime(x.start), "RedriveCount": jsonNumber(int64(x.redriveCount)),
	}
	st.ctxObj = map[string]any{
		"Execution":    exec,
		"State":        map[string]any{"EnteredTime": contextTime(st.enteredTime), "Name": st.n.name},
		"StateMachine": map[string]any{"Id": x.machineArn, "Name": machineName(x.machineArn)},
	}
	switch st.n.s.Type {
	case asl.TypeTask, asl.TypeParallel, asl.TypeMap:
		st.ctxObj["State"].(map[string]any)["RetryCount"] = jsonNumber(int64(st.retryCount))
	}
	if st.token != "" {
		st.ctxObj["Task"] = map[string]any{"Token": st.token}
	}
	return st.ctxObj
}

// env returns the evaluation environment with input as $.
func (st *stateRun) env(input any) *evalEnv {
	return &evalEnv{input: input, context: st.contextObject, vars: st.s.vars}
}

// resetContext drops the cached context object after a field it shows
// changed (the retry count, the task token, the Map item).
func (st *stateRun) resetContext() { st.ctxObj = nil }

func (st *stateRun) inputPath(input any) (any, *failure) {
	return st.applyPath(st.n.inputPath, input)
}

func (st *stateRun) outputPath(out any) (any, *failure) {
	return st.applyPath(st.n.outputPath, out)
}

func (st *stateRun) applyPath(p pathField, v any) (any, *failure) {
	switch {
	case p.null:
		return map[string]any{}, nil
	case p.path == nil:
		return v, nil
	}
	out, err := p.path.Get(st.env(v).pathEnv())
	if err != nil {
		return nil, st.pathFailure(err)
	}
	return out, nil
}

func (st *stateRun) resultPath(r refField, input, result any) (any, *failure) {
	switch {
	case r.discard:
		return input, nil
	case r.path == nil:
		return result, nil
	}
	out, err := r.path.Set(input, result)
	if err != nil {
		return nil, st.pathFailure(err)
	}
	return out, nil
}

// evalTemplate evaluates an optional template; a nil template yields def.
func (st *stateRun) evalTemplate(t template, env *evalEnv, def any, location string) (any, *failure) {
	if t == nil {
		return def, nil
	}
	v, err := t.eval(env)
	if err != nil {
		return nil, st.evalFailure(err, location)
	}
	return v, nil
}

// assign evaluates an Assign field into the variables it sets.
func (st *stateRun) assign(t template, env *evalEnv) (map[string]any, *failure) {
	if t == nil {
		return nil, nil
	}
	v, err := t.eval(env)
	if err != nil {
		return nil, st.evalFailure(err, "Assign")
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// exitJSONPath ends a JSONPath-mode state with its result: Assign sees
// the result as $, then ResultPath and OutputPath shape the output.
func (st *stateRun) exitJSONPath(result any) (any, *node, *failure) {
	assigned, f := st.assign(st.n.assign, st.env(result))
	if f != nil {
		return nil, nil, f
	}
	out, f := st.finishJSONPath(result)
	if f != nil {
		return nil, nil, f
	}
	return st.exit(out, st.n.next, assigned)
}

// finishJSONPath applies ResultPath and OutputPath to a state's result.
func (st *stateRun) finishJSONPath(result any) (any, *failure) {
	out, f := st.resultPath(st.n.resultPath, st.input, result)
	if f != nil {
		return nil, f
	}
	return st.outputPath(out)
}

func (st *stateRun) pass() (any, *node, *failure) {
	n := st.n
	if n.jsonata {
		return st.exitJSONata(st.env(st.input), n.assign, n.output, st.input, n.next)
	}
	eff, f := st.inputPath(st.input)
	if f != nil {
		return nil, nil, f
	}
	result, f := st.evalTemplate(n.params, st.env(eff), eff, "Parameters")
	if f != nil {
		return nil, nil, f
	}
	if n.s.Result.Set {
		result = n.s.Result.Value
	}
	return st.exitJSONPath(result)
}

func (st *stateRun) succeed() (any, *node, *failure) {
	n := st.n
	if n.jsonata {
		out, f := st.evalTemplate(n.output, st.env(st.input), st.input, "Output")
		if f != nil {
			return nil, nil, f
		}
		return st.exit(out, nil, nil)
	}
	eff, f := st.inputPath(st.input)
	if f != nil {
		return nil, nil, f
	}
	out, f := st.outputPath(eff)
	if f != nil {
		return nil, nil, f
	}
	return st.exit(out, nil, nil)
}

func (st *stateRun) fail() *failure {
	n := st.n
	f := &failure{}
	env := st.env(st.input)
	for _, field := range []struct {
		e   expr
		dst **string
		loc string
	}{{n.errorField, &f.Error, "Error"}, {n.cause, &f.Cause, "Cause"}} {
		if field.e == nil {
			continue
		}
		v, err := field.e.eval(env)
		if err != nil {
			return st.evalFailure(err, field.loc)
		}
		s, ok := v.(string)
		if !ok {
			if n.jsonata {
				return st.evalFailure(&evalError{errQueryEvaluation, fmt.Sprintf(
					"The %s field must evaluate to a string, but was: %s", field.loc, jsonpath.Text(v))}, field.loc)
			}
			s = marshalString(v)
		}
		*field.dst = &s
	}
	return f
}

// evalError is an evaluation error raised by the interpreter itself.
type evalError struct{ name, cause string }

func (e *evalError) Error() string                     { return e.name + ": " + e.cause }
func (e *evalError) StatesError() (name, cause string) { return e.name, e.cause }

func (st *stateRun) choice() (any, *node, *failure) {
	n := st.n
	eff := st.input
	if !n.jsonata {
		var f *failure
		if eff, f = st.inputPath(st.input); f != nil {
			return nil, nil, f
		}
	}
	env := st.env(eff)
	var next *node
	var rule *choiceNode
	for i, c := range n.choices {
		ok, err := c.rule.eval(env)
		if err != nil {
			return nil, nil, st.evalFailure(err, fmt.Sprintf("Choices[%d].Condition", i))
		}
		if ok {
			next, rule = c.next, c
			break
		}
	}
	if next == nil {
		next = n.deflt
	}
	if next == nil {
		return nil, nil, newFailure(errNoChoiceMatched, fmt.Sprintf(
			"No Matches! in state '%s'", n.name))
	}
	assigned, f := st.assign(n.assign, env)
	if f != nil {
		return nil, nil, f
	}
	outTmpl := n.output
	if rule != nil {
		ruleAssigned, f := st.assign(rule.assign, env)
		if f != nil {
			return nil, nil, f
		}
		if assigned == nil {
			assigned = ruleAssigned
		} else {
			maps.Copy(assigned, ruleAssigned)
		}
		if rule.output != nil {
			outTmpl = rule.output
		}
	}
	var out any
	if n.jsonata {
		if out, f = st.evalTemplate(outTmpl, env, st.input, "Output"); f != nil {
			return nil, nil, f
		}
	} else if out, f = st.outputPath(eff); f != nil {
		return nil, nil, f
	}
	return st.exit(out, next, assigned)
}

func (st *stateRun) wait() (any, *node, *failure) {
	n := st.n
	eff := st.input
	var f *failure
	if !n.jsonata {
		if eff, f = st.inputPath(st.input); f != nil {
			return nil, nil, f
		}
	}
	env := st.env(eff)
	deadline, f := st.waitDeadline(env)
	if f != nil {
		return nil, nil, f
	}
	assigned, f := st.assign(n.assign, env)
	if f != nil {
		return nil, nil, f
	}
	if err := st.s.sleepUntil(deadline); err != nil {
		return nil, nil, abortedFailure
	}
	var out any
	if n.jsonata {
		if out, f = st.evalTemplate(n.output, env, st.input, "Output"); f != nil {
			return nil, nil, f
		}
	} else if out, f = st.outputPath(eff); f != nil {
		return nil, nil, f
	}
	return st.exit(out, n.next, assigned)
}

// waitDeadline computes when a Wait state ends, from the time it was
// entered, so that a resumed execution keeps the same deadline.
func (st *stateRun) waitDeadline(env *evalEnv) (time.Time, *failure) {
	n := st.n
	s := n.s
	switch {
	case n.seconds != nil:
		v, err := n.seconds.eval(env)
		if err != nil {
			return time.Time{}, st.evalFailure(err, "Seconds")
		}
		secs, ok := numberValue(v)
		if !ok || secs < 0 {
			return time.Time{}, st.evalFailure(&evalError{errQueryEvaluation, fmt.Sprintf(
				"The Seconds field must evaluate to a non-negative integer, but was: %s", jsonpath.Text(v))}, "Seconds")
		}
		return st.enteredTime.Add(time.Duration(secs) * time.Second), nil
	case n.secondsPath != nil:
		v, err := n.secondsPath.Get(env.pathEnv())
		if err != nil {
			var nf *jsonpath.NotFoundError
			if errors.As(err, &nf) {
				return time.Time{}, st.evalFailure(&evalError{errRuntime,
					"The SecondsPath parameter does not reference an input value: " + s.SecondsPath}, "")
			}
			return time.Time{}, st.pathFailure(err)
		}
		secs, ok := numberValue(v)
		switch {
		case !ok:
			return time.Time{}, st.evalFailure(&evalError{errRuntime, fmt.Sprintf(
				"The SecondsPath parameter cannot be parsed as a long value: %s == %s", s.SecondsPath, jsonpath.Text(v))}, "")
		case secs < 0:
			return time.Time{}, st.evalFailure(&evalError{errRuntime, fmt.Sprintf(
				"The SecondsPath parameter references a negative value: %s == %s", s.SecondsPath, jsonpath.Text(v))}, "")
		}
		return st.enteredTime.Add(time.Duration(secs) * time.Second), nil
	case n.timestamp != nil:
		v, err := n.timestamp.eval(env)
		if err != nil {
			return time.Time{}, st.evalFailure(err, "Timestamp")
		}
		str, _ := v.(string)
		t, perr := asl.ParseTimestamp(str)
		if perr != nil {
			return time.Time{}, st.evalFailure(&evalError{errQueryEvaluation, fmt.Sprintf(
				"The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: %s", str)}, "Timestamp")
		}
		return t, nil
	case n.timestampPath != nil:
		v, err := n.timestampPath.Get(env.pathEnv())
		if err != nil {
			return time.Time{}, st.pathFailure(err)
		}
		str, _ := v.(string)
		t, perr := asl.ParseTimestamp(str)
		if perr != nil {
			return time.Time{}, st.evalFailure(&evalError{errRuntime, fmt.Sprintf(
				"The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s == %s",
				s.TimestampPath, rawText(v))}, "")
		}
		return t, nil
	}
	return st.enteredTime, nil
}

// pathFailure reports a path of a state field that selected nothing.
func (st *stateRun) pathFailure(err error) *failure {
	var nf *jsonpath.NotFoundError
	if errors.As(err, &nf) {
		return st.evalFailure(nf.Invalid(), "")
	}
	return st.evalFailure(err, "")
}

// backoff returns the delay before the next attempt by retrier r after
// count earlier retries by it: IntervalSeconds grown by BackoffRate for
// each of them, capped by MaxDelaySeconds, and with the FULL jitter
// strategy scaled by jitter, a number in [0, 1).
func backoff(r *asl.Retrier, count int64, jitter func() float64) time.Duration {
	secs := float64(r.IntervalSeconds) * math.Pow(r.BackoffRate, float64(count))
	if r.MaxDelaySeconds > 0 && secs > float64(r.MaxDelaySeconds) {
		secs = float64(r.MaxDelaySeconds)
	}
	if r.JitterStrategy == "FULL" {
		secs *= jitter()
	}
	return time.Duration(secs * float64(time.Second))
}

// retrier returns the index of the retrier that owns an error and whether
// it allows another attempt.
func (st *stateRun) retrier(f *failure, counts []int64) (int, bool) {
	if f.terminal {
		return -1, false
	}
	for i, r := range st.n.retry {
		if asl.Matches(r.ErrorEquals, f.name()) {
			return i, counts[i] < r.MaxAttempts
		}
	}
	return -1, false
}

// catch hands a failure to the first matching catcher, or returns it.
func (st *stateRun) catch(f *failure) (any, *node, *failure) {
	if f.terminal || f == abortedFailure {
		return nil, nil, f
	}
	for _, c := range st.n.catch {
		if !asl.Matches(c.c.ErrorEquals, f.name()) {
			continue
		}
		errOut := f.output()
		if st.n.jsonata {
			env := st.env(st.input)
			env.errorOutput, env.hasError = errOut, true
			return st.exitJSONata(env, c.assign, c.output, errOut, c.next)
		}
		assigned, g := st.assign(c.assign, st.env(errOut))
		if g != nil {
			return nil, nil, g
		}
		out, g := st.resultPath(c.resultPath, st.input, errOut)
		if g != nil {
			return nil, nil, g
		}
		return st.exit(out, c.next, assigned)
	}
	return nil, nil, f
}

// exitJSONata ends a JSONata-mode state: Assign and Output see the same
// variables, the ones from before the state.
func (st *stateRun) exitJSONata(env *evalEnv, assign, output template, def any, next *node) (any, *node, *failure) {
	assigned, f := st.assign(assign, env)
	if f != nil {
		return nil, nil, f
	}
	out, f := st.evalTemplate(output, env, def, "Output")
	if f != nil {
		return nil, nil, f
	}
	return st.exit(out, next, assigned)
}

// finishResult turns the result of a Task, Parallel or Map state into its
// output: ResultSelector, Assign, ResultPath and OutputPath in JSONPath
// mode; Assign and Output over $states.result in JSONata mode.
func (st *stateRun) finishResult(result any) (any, *node, *failure) {
	n := st.n
	if n.jsonata {
		env := st.env(st.input)
		env.result, env.hasResult = result, true
		return st.exitJSONata(env, n.assign, n.output, result, n.next)
	}
	result, f := st.evalTemplate(n.resultSelector, st.env(result), result, "ResultSelector")
	if f != nil {
		return nil, nil, f
	}
	return st.exitJSONPath(result)
}

// stateInput is the effective input of a Task, Parallel or Map state:
// InputPath then Parameters in JSONPath mode, Arguments in JSONata mode.
func (st *stateRun) stateInput() (any, *failure) {
	n := st.n
	if n.jsonata {
		return st.evalTemplate(n.arguments, st.env(st.input), st.input, "Arguments")
	}
	eff, f := st.inputPath(st.input)
	if f != nil {
		return nil, f
	}
	if n.s.Type == asl.TypeMap {
		return eff, nil
	}
	return st.evalTemplate(n.params, st.env(eff), eff, "Parameters")
}

// rawText shows a value in a message: a string as it is, anything else as
// JSON.
func rawText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return jsonpath.Text(v)
}
