package states

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/sluice-ci/sluice/internal/jsonata"
	"github.com/sluice-ci/sluice/internal/jsonpath"
)

// childResult is how a branch or iteration ended.
type childResult struct {
	i    int
	out  any
	f    *failure
	last time.Time
	stop any // a panic value (stopRun, divergence) to pass on
}

// fanOut runs count children (branches or iterations) of the state whose
// start event is startedID, at most limit at once (0: no limit), and
// collects their outputs in order. The first failure that tolerated does
// not accept cancels the others.
func (st *stateRun) fanOut(startedID int64, count, limit int, silent bool, tolerated func(failed int) bool,
	child func(cs *scope, i int) (any, *failure)) ([]any, *failure, time.Time) {
	s := st.s
	x := s.x
	ctx, cancel := context.WithCancelCause(s.ctx)
	defer cancel(nil)
	results := make(chan childResult, count)
	outs := make([]any, count)
	next, running, failed := 0, 0, 0
	start := func() {
		i := next
		next++
		running++
		key := childKey(s.key, startedID, i)
		vars := s.vars.child()
		x.eng.busy()
		x.eng.wg.Add(1)
		t := x.baton.ticket()
		go func() {
			defer x.eng.wg.Done()
			<-t
			res := childResult{i: i}
			func() {
				defer func() {
					if r := recover(); r != nil {
						res.stop = r
					}
				}()
				cs := x.newScope(ctx, key, startedID, vars)
				cs.silent = silent
				res.out, res.f = child(cs, i)
				res.last = cs.lastTime
			}()
			x.baton.release()
			results <- res
		}()
	}
	if limit <= 0 || limit > count {
		limit = count
	}
	for next < limit {
		start()
	}
	var first *failure
	var last time.Time
	var stop any
	for running > 0 {
		var res childResult
		if ctx.Err() == nil {
			x.pause()
			res = <-results
			x.resume()
		} else {
			// The children wind down: they take their clock units only
			// once they run, so the state keeps its own meanwhile, and
			// virtual time stands still instead of firing the timers
			// they waited on. A child's result brings its unit.
			x.baton.release()
			res = <-results
			x.baton.acquire()
			x.eng.idle()
		}
		running--
		switch {
		case res.stop != nil:
			if stop == nil {
				stop = res.stop
				cancel(errBranchFailed)
			}
		case res.f == abortedFailure:
		case res.f != nil:
			failed++
			if first == nil && (tolerated == nil || !tolerated(failed)) {
				first, last = res.f, res.last
				if tolerated != nil {
					first = newFailure(errExceedToleratedFT, "The specified tolerated failure threshold was exceeded")
				}
				cancel(errBranchFailed)
			}
		default:
			outs[res.i] = res.out
		}
		if first == nil && stop == nil && next < count && ctx.Err() == nil {
			start()
		}
	}
	if stop != nil {
		panic(stop)
	}
	if first != nil {
		return nil, first, last
	}
	if s.ctx.Err() != nil {
		return nil, abortedFailure, last
	}
	return outs, nil, last
}

// fanOutRetry decides whether a failed Parallel or Map state runs again and
// waits for the back-off. Its jitter is drawn from a generator seeded by
// the execution and the state's start event, so that a replay waits until
// the same deadline; the delay counts from the failing child's last event.
func (st *stateRun) fanOutRetry(f *failure, counts []int64, startedID int64, failedAt time.Time) (bool, *failure) {
	idx, retry := st.retrier(f, counts)
	if !retry {
		return false, nil
	}
	delay := backoff(st.n.retry[idx], counts[idx], func() float64 {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s/%d", st.s.x.arn, startedID)
		return rand.New(rand.NewPCG(h.Sum64(), 0)).Float64()
	})
	counts[idx]++
	st.retryCount++
	st.resetContext()
	if st.s.replaying() {
		return true, nil
	}
	if err := st.s.sleepUntil(failedAt.Add(delay)); err != nil {
		return false, abortedFailure
	}
	return true, nil
}

// failState records that a Parallel or Map state failed (typ is
// ParallelStateFailed or MapStateFailed) and hands the failure to its
// catchers. A terminal failure (States.Runtime) fails the execution at once
// and records no such event, as on AWS.
func (st *stateRun) failState(typ string, f *failure) (any, *node, *failure) {
	if !f.terminal {
		st.s.emit(&Event{Type: typ})
	}
	return st.catch(f)
}

func (st *stateRun) parallel() (any, *node, *failure) {
	n := st.n
	input, f := st.stateInput()
	if f != nil {
		return st.catch(f)
	}
	counts := make([]int64, len(n.retry))
	for {
		started := st.s.emit(&Event{Type: ParallelStateStarted})
		outs, f, failedAt := st.fanOut(started.ID, len(n.branches), 0, false, nil, func(cs *scope, i int) (any, *failure) {
			cs.branch = true
			return cs.runBlock(n.branches[i], input)
		})
		if f == abortedFailure {
			return nil, nil, f
		}
		if f == nil {
			return st.finishResult(outs)
		}
		retry, g := st.fanOutRetry(f, counts, started.ID, failedAt)
		if g != nil {
			return nil, nil, g
		}
		if !retry {
			return st.failState(ParallelStateFailed, f)
		}
	}
}

// mapItems returns the items a Map state iterates over.
func (st *stateRun) mapItems() (items []any, eff any, f *failure) {
	n := st.n
	if n.reader != nil {
		eff = st.input
		if !n.jsonata {
			if eff, f = st.inputPath(st.input); f != nil {
				return nil, nil, f
			}
		}
		items, f = st.readItems(eff)
		return items, eff, f
	}
	if n.jsonata {
		eff = st.input
		var v any = st.input
		if n.items != nil {
			var err error
			if v, err = n.items.eval(st.env(st.input)); err != nil {
				return nil, nil, st.evalFailure(err, "Items")
			}
			arr, ok := v.([]any)
			if !ok {
				src, _ := n.s.Items.Value.(string)
				if e, isExpr := jsonata.IsExpression(src); isExpr {
					src = e
				}
				return nil, nil, st.evalFailure(&evalError{errQueryEvaluation, fmt.Sprintf(
					"The JSONata expression '%s' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '%s' for value: %s",
					src, jsonType(v), jsonpath.Text(v))}, "Items")
			}
			return arr, eff, nil
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, nil, st.evalFailure(&evalError{errQueryEvaluation, fmt.Sprintf(
				"Map state input must be an array but was: %s", jsonpath.Text(v))}, "Items")
		}
		return arr, eff, nil
	}
	if eff, f = st.inputPath(st.input); f != nil {
		return nil, nil, f
	}
	v, f := st.applyPath(n.itemsPath, eff)
	if f != nil {
		return nil, nil, f
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, nil, st.evalFailure(&evalError{errRuntime, fmt.Sprintf(
			"Map state input must be an array but was: %s", jsonpath.Text(v))}, "ItemsPath")
	}
	return arr, eff, nil
}

// jsonType names the JSON type of a value as AWS does in its messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

// mapNumber evaluates MaxConcurrency or a tolerated failure field: a
// literal, a JSONata expression or a path.
func (st *stateRun) mapNumber(e expr, p *jsonpath.Path, env *evalEnv, field string) (float64, bool, *failure) {
	var v any
	switch {
	case e != nil:
		var err error
		if v, err = e.eval(env); err != nil {
			return 0, false, st.evalFailure(err, field)
		}
	case p != nil:
		var err error
		if v, err = p.Get(env.pathEnv()); err != nil {
			return 0, false, st.pathFailure(err)
		}
	default:
		return 0, false, nil
	}
	var text string
	switch t := v.(type) {
	case json.Number:
		text = string(t)
	case string:
		text = t
	}
	kind := "integer"
	if field == "ToleratedFailurePercentage" {
		kind = "float"
	}
	x, err := strconv.ParseFloat(text, 64)
	switch {
	case err == nil && (kind == "float" || x == math.Trunc(x)):
	case p != nil:
		return 0, false, st.evalFailure(&evalError{errRuntime, fmt.Sprintf(
			`The %sPath field refers to value "%s" which is not a valid %s: %s`, field, rawText(v), kind, p)}, field)
	default:
		// A JSONata expression: literals were checked with the definition.
		return 0, false, st.evalFailure(&evalError{errQueryEvaluation, fmt.Sprintf(
			"The %s field must evaluate to a valid %s, but was: %s", field, kind, jsonpath.Text(v))}, field)
	}
	if x < 0 && field == "MaxConcurrency" {
		return 0, false, st.evalFailure(&evalError{errRuntime, fmt.Sprintf(
			"Expected non-negative integer for MaxConcurrency, got '%s' instead.", rawText(v))}, field)
	}
	return x, true, nil
}

func (st *stateRun) mapState() (any, *node, *failure) {
	n := st.n
	items, eff, f := st.mapItems()
	if f != nil {
		return st.failState(MapStateFailed, f)
	}
	counts := make([]int64, len(n.retry))
	distributed := n.processor.def.ProcessorMode == "DISTRIBUTED"
	for {
		env := st.env(eff)
		limit, _, f := st.mapNumber(n.maxConcurrency, n.maxConcurrencyPath, env, "MaxConcurrency")
		if f != nil {
			return st.failState(MapStateFailed, f)
		}
		length := len(items)
		started := st.s.emit(&Event{Type: MapStateStarted, Detail: Detail{Length: &length}})
		tolerated, f := st.toleration(env, len(items))
		if f != nil {
			return st.failState(MapStateFailed, f)
		}
		if tolerated == nil && distributed {
			// A Map Run tolerates no failure by default: the first fails
			// it with States.ExceedToleratedFailureThreshold, as on AWS,
			// not with the child's own error.
			tolerated = func(int) bool { return false }
		}
		var mapRun string
		if distributed {
			label := n.s.Label
			if label == "" {
				label = n.name
			}
			// A replay takes the ARN the run was given.
			mapRun = st.s.emit(&Event{Type: MapRunStarted, Detail: Detail{
				MapRunArn: mapRunArn(st.s.x.arn, label, newRequestID())}}).Detail.MapRunArn
		}
		inputs, f := st.iterationInputs(items, eff)
		if f != nil {
			return st.failState(MapStateFailed, f)
		}
		var children []*childRun
		if distributed && n.writer != nil {
			children = make([]*childRun, len(inputs))
			for i, in := range inputs {
				children[i] = &childRun{input: in}
			}
		}
		outs, f, failedAt := st.fanOut(started.ID, len(inputs), int(limit), distributed, tolerated, func(cs *scope, i int) (any, *failure) {
			if children == nil {
				return st.iteration(cs, i, inputs[i], distributed)
			}
			c := children[i]
			c.started, c.start = true, st.s.x.eng.clock.Now()
			c.output, c.f = st.iteration(cs, i, inputs[i], distributed)
			c.stop = st.s.x.eng.clock.Now()
			return c.output, c.f
		})
		if f == abortedFailure {
			return nil, nil, f
		}
		var result any = outs
		if children != nil {
			// Every Map Run exports its results, a failed one too.
			res, g := st.writeResults(eff, mapRun, children)
			if g != nil && (f == nil || g.terminal) {
				f, failedAt = g, st.s.x.eng.clock.Now()
			}
			result = res
		}
		if f == nil {
			if distributed {
				st.s.emit(&Event{Type: MapRunSucceeded})
			}
			st.s.emit(&Event{Type: MapStateSucceeded})
			return st.finishResult(result)
		}
		retry, g := st.fanOutRetry(f, counts, started.ID, failedAt)
		if g != nil {
			return nil, nil, g
		}
		if !retry {
			if distributed {
				st.s.emit(&Event{Type: MapRunFailed, Detail: Detail{Error: f.Error, Cause: f.Cause}})
			}
			return st.failState(MapStateFailed, f)
		}
	}
}

// toleration evaluates the tolerated failure fields into a test of how many
// failed iterations the Map state accepts.
func (st *stateRun) toleration(env *evalEnv, total int) (func(failed int) bool, *failure) {
	n := st.n
	count, hasCount, f := st.mapNumber(n.toleratedCount, n.toleratedCountPath, env, "ToleratedFailureCount")
	if f != nil {
		return nil, f
	}
	if hasCount && count < 0 {
		return nil, st.evalFailure(&evalError{errRuntime, "ToleratedFailureCount cannot be negative."}, "ToleratedFailureCount")
	}
	pct, hasPct, f := st.mapNumber(n.toleratedPercentage, n.toleratedPercentPath, env, "ToleratedFailurePercentage")
	if f != nil {
		return nil, f
	}
	if hasPct && (pct < 0 || pct > 100) {
		return nil, st.evalFailure(&evalError{errRuntime, "ToleratedFailurePercentage must be between 0 and 100."}, "ToleratedFailurePercentage")
	}
	if !hasCount && !hasPct {
		return nil, nil
	}
	return func(failed int) bool {
		if hasCount && float64(failed) <= count {
			return true
		}
		return hasPct && total > 0 && float64(failed)*100/float64(total) <= pct
	}, nil
}

// iterationInputs applies the ItemSelector to every item and groups the
// results into batches when the state has an ItemBatcher.
func (st *stateRun) iterationInputs(items []any, eff any) ([]any, *failure) {
	n := st.n
	sel := n.itemSelector
	if sel == nil && !n.jsonata {
		sel = n.params
	}
	inputs := items
	if sel != nil {
		inputs = make([]any, len(items))
		for i, item := range items {
			v, err := sel.eval(st.itemEnv(eff, i, item))
			if err != nil {
				return nil, st.evalFailure(err, "ItemSelector")
			}
			inputs[i] = v
		}
	}
	if n.batcher == nil {
		return inputs, nil
	}
	return st.batch(inputs, eff)
}

// batch groups iteration inputs as an ItemBatcher says: {"Items": [...]}
// with at most MaxItemsPerBatch items and MaxInputBytesPerBatch bytes,
// and the BatchInput when there is one.
func (st *stateRun) batch(inputs []any, eff any) ([]any, *failure) {
	b := st.n.batcher
	env := st.env(eff)
	maxItems, hasItems, f := st.mapNumber(b.maxItems, b.maxItemsPath, env, "MaxItemsPerBatch")
	if f != nil {
		return nil, f
	}
	maxBytes, hasBytes, f := st.mapNumber(b.maxBytes, b.maxBytesPath, env, "MaxInputBytesPerBatch")
	if f != nil {
		return nil, f
	}
	if !hasBytes || maxBytes <= 0 {
		maxBytes = MaxPayloadBytes
	}
	batchInput, f := st.evalTemplate(b.batchInput, env, nil, "BatchInput")
	if f != nil {
		return nil, f
	}
	var batches []any
	var cur []any
	size := 0
	flush := func() {
		if len(cur) == 0 {
			return
		}
		in := map[string]any{"Items": cur}
		if batchInput != nil {
			in["BatchInput"] = batchInput
		}
		batches = append(batches, in)
		cur, size = nil, 0
	}
	for _, item := range inputs {
		n := jsonSize(item, MaxPayloadBytes) + 1
		if len(cur) > 0 && ((hasItems && maxItems > 0 && float64(len(cur)) >= maxItems) || float64(size+n) > maxBytes) {
			flush()
		}
		cur = append(cur, item)
		size += n
	}
	flush()
	return batches, nil
}

// errItemReaderFailed is the error of a Map state whose ItemReader could
// not read its items.
const errItemReaderFailed = "States.ItemReaderFailed"

// readItems runs the ItemReader's resource: its handler reads the items
// (locally there is no S3 to read them from). The handler is given
// {"Resource", "Parameters", "ReaderConfig"}: the resource's ARN, the
// evaluated Parameters (Arguments in JSONata) and the ReaderConfig as the
// definition declares it (absent without one), and returns the items as a
// JSON array. An error of the handler, or anything but an array, fails the
// state with States.ItemReaderFailed, as on AWS.
func (st *stateRun) readItems(eff any) ([]any, *failure) {
	rd := st.n.reader
	params, f := st.evalTemplate(rd.params, st.env(eff), map[string]any{}, "ItemReader")
	if f != nil {
		return nil, f
	}
	reg := st.s.x.eng.handlers
	h := reg.get(rd.resource.arn)
	if h == nil {
		h = reg.get(rd.resource.base())
	}
	if h == nil {
		return nil, st.evalFailure(&evalError{errRuntime, fmt.Sprintf(
			"no handler is registered for the ItemReader resource '%s'", rd.resource.arn)}, "ItemReader")
	}
	req := map[string]any{"Resource": rd.resource.arn, "Parameters": params}
	if rd.config != nil {
		req["ReaderConfig"] = rd.config
	}
	st.s.x.flush()
	out, err := safeCall(st.s.ctx, h, marshal(req))
	if err != nil {
		cause := err.Error()
		var se statesError
		if errors.As(err, &se) {
			_, cause = se.StatesError()
		}
		return nil, newFailure(errItemReaderFailed, cause)
	}
	v, err := decode(out)
	items, ok := v.([]any)
	if err != nil || !ok {
		return nil, newFailure(errItemReaderFailed, fmt.Sprintf(
			"the ItemReader resource '%s' did not return a JSON array of items", rd.resource.arn))
	}
	if rd.maxItems > 0 && int64(len(items)) > rd.maxItems {
		items = items[:rd.maxItems]
	}
	return items, nil
}

// iteration runs one item (or batch) of a Map state in its own scope.
func (st *stateRun) iteration(cs *scope, i int, input any, distributed bool) (any, *failure) {
	n := st.n
	idx := i
	if !distributed {
		cs.emit(&Event{Type: MapIterationStarted, Detail: Detail{Name: n.name, Index: &idx}})
	}
	out, f := cs.runBlock(n.processor, input)
	if distributed {
		return out, f
	}
	switch {
	case f == nil:
		cs.emit(&Event{Type: MapIterationSucceeded, Detail: Detail{Name: n.name, Index: &idx}})
	case f == abortedFailure:
		if errorsIsBranchFailed(cs.ctx) {
			cs.emit(&Event{Type: MapIterationAborted, Detail: Detail{Name: n.name, Index: &idx}})
		}
	default:
		cs.emit(&Event{Type: MapIterationFailed, Detail: Detail{Name: n.name, Index: &idx}})
	}
	return out, f
}

// itemEnv is the environment of an ItemSelector: the Map state's input and
// the context object with Map.Item.
func (st *stateRun) itemEnv(eff any, i int, item any) *evalEnv {
	base := st.contextObject().(map[string]any)
	ctx := maps.Clone(base)
	ctx["Map"] = map[string]any{"Item": map[string]any{"Index": jsonNumber(int64(i)), "Value": item}}
	input := eff
	if st.n.jsonata {
		input = st.input
	}
	return &evalEnv{input: input, context: func() any { return ctx }, vars: st.s.vars}
}
