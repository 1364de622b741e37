package jsonata

import (
	"math"
	"time"
)

// Evaluation limits. AWS refuses expressions that nest deeper than 100
// evaluation levels; the same ceiling keeps a hostile expression from
// exhausting the Go stack. Tail calls run in a loop and do not count.
const (
	maxDepth       = 100
	defaultTimeout = 5 * time.Second
	// maxValueBytes bounds one value an expression builds, counting a number
	// or reference as eight bytes and a string character as one, as AWS does.
	maxValueBytes = 6990256
)

// frame is a scope of variable bindings.
type frame struct {
	parent *frame
	vars   map[string]any
	root   map[string]any // the caller's bindings, on the outermost frame
}

func newFrame(parent *frame) *frame {
	return &frame{parent: parent}
}

func (f *frame) bind(name string, v any) {
	if f.vars == nil {
		f.vars = make(map[string]any, 4)
	}
	f.vars[name] = v
}

func (f *frame) lookup(name string) any {
	for fr := f; fr != nil; fr = fr.parent {
		if v, ok := fr.vars[name]; ok {
			return v
		}
		if fr.root != nil {
			if v, ok := fr.root[name]; ok {
				return v
			}
		}
	}
	if b, ok := builtins[name]; ok {
		return b
	}
	return undefined
}

func frameFromTuple(parent *frame, t tuple) *frame {
	f := &frame{parent: parent, vars: make(map[string]any, len(t))}
	for k, v := range t {
		f.vars[k] = v
	}
	return f
}

// evaluator holds the state of one evaluation.
type evaluator struct {
	depth    int
	calls    int
	deadline time.Time
	now      time.Time
	limits   Limits
}

func (e *evaluator) enter(pos int) error {
	e.depth++
	if e.depth > e.limits.MaxDepth {
		return &Error{Code: "U1001", Position: pos, Value: e.limits.MaxDepth}
	}
	e.calls++
	if e.calls&1023 == 0 && time.Now().After(e.deadline) {
		return &Error{Code: "U1002", Position: pos, Value: e.limits.Timeout.String()}
	}
	return nil
}

// work accounts for n units of work done outside eval (allocating, copying,
// comparing) so that the time limit also stops expressions whose cost is in
// their builtins.
func (e *evaluator) work(n int, pos int) error {
	before := e.calls
	e.calls += n
	if e.calls>>10 != before>>10 && time.Now().After(e.deadline) {
		return &Error{Code: "U1002", Position: pos, Value: e.limits.Timeout.String()}
	}
	return nil
}

func (e *evaluator) eval(n *node, input any, env *frame) (any, error) {
	if err := e.enter(n.pos); err != nil {
		e.depth--
		return nil, err
	}
	result, err := e.evalNode(n, input, env)
	e.depth--
	if err != nil {
		return nil, err
	}
	for _, p := range n.predicate {
		if result, err = e.filter(p.filter, result, env); err != nil {
			return nil, err
		}
	}
	if n.kind != kPath && n.group != nil {
		if result, err = e.group(n.group, result, env); err != nil {
			return nil, err
		}
	}
	if s, ok := result.(*seq); ok && s.sequence && !s.tupleStream {
		if n.keepArray {
			s.keepSingleton = true
		}
		switch len(s.items) {
		case 0:
			return undefined, nil
		case 1:
			if !s.keepSingleton {
				return s.items[0], nil
			}
		}
	}
	return result, nil
}

func (e *evaluator) evalNode(n *node, input any, env *frame) (any, error) {
	switch n.kind {
	case kPath:
		return e.path(n, input, env)
	case kBinary:
		return e.binary(n, input, env)
	case kUnary:
		return e.unary(n, input, env)
	case kName:
		return lookupField(input, n.op), nil
	case kString:
		return n.op, nil
	case kNumber:
		return n.num, nil
	case kValue:
		return n.value, nil
	case kWildcard:
		return wildcard(input), nil
	case kDescendant:
		return descendants(input), nil
	case kParent:
		return env.lookup(n.slot.label), nil
	case kCondition:
		c, err := e.eval(n.cond, input, env)
		if err != nil {
			return nil, err
		}
		if b, _ := booleanOf(c); b {
			return e.eval(n.then, input, env)
		}
		if n.els != nil {
			return e.eval(n.els, input, env)
		}
		return undefined, nil
	case kBlock:
		f := newFrame(env)
		var result any = undefined
		for _, x := range n.exprs {
			var err error
			if result, err = e.eval(x, input, f); err != nil {
				return nil, err
			}
		}
		return result, nil
	case kBind:
		v, err := e.eval(n.rhs, input, env)
		if err != nil {
			return nil, err
		}
		env.bind(n.lhs.op, v)
		return v, nil
	case kRegex:
		return n.regex, nil
	case kFunction:
		return e.call(n, input, env, nil)
	case kVariable:
		if n.op == "" {
			if s, ok := input.(*seq); ok && s.outerWrapper {
				return s.items[0], nil
			}
			return input, nil
		}
		return env.lookup(n.op), nil
	case kLambda:
		return &lambda{node: n, input: input, env: env, params: n.params, sig: n.sig, thunk: n.thunk}, nil
	case kPartial:
		return e.partial(n, input, env)
	case kApply:
		return e.applyOperator(n, input, env)
	case kTransform:
		return e.transform(n, env), nil
	case kSort:
		items, _ := arrayItems(input)
		return e.sortStep(n, input, items, env)
	}
	return nil, &Error{Code: "S0206", Position: n.pos, Token: kindName(n.kind)}
}

// lookupField is the name step: the field of an object, or of every object in
// an array, flattened.
func lookupField(input any, key string) any {
	switch x := input.(type) {
	case map[string]any:
		if v, ok := x[key]; ok {
			return v
		}
		return undefined
	case *object:
		if v, ok := x.vals[key]; ok {
			return v
		}
		return undefined
	case []any, *seq:
		items, _ := arrayItems(input)
		result := newSeq()
		for _, it := range items {
			v := lookupField(it, key)
			if v == undefined {
				continue
			}
			if a, ok := arrayItems(v); ok {
				result.items = append(result.items, a...)
			} else {
				result.items = append(result.items, v)
			}
		}
		return result
	case tuple:
		return undefined
	}
	return undefined
}

func wildcard(input any) any {
	result := newSeq()
	if s, ok := input.(*seq); ok && s.outerWrapper && len(s.items) > 0 {
		input = s.items[0]
	}
	add := func(v any) {
		if a, ok := arrayItems(v); ok {
			result.items = append(result.items, flatten(a, nil)...)
		} else {
			result.items = append(result.items, v)
		}
	}
	switch x := input.(type) {
	case []any, *seq:
		items, _ := arrayItems(x)
		for _, v := range items {
			add(v)
		}
	case map[string]any, *object:
		for _, k := range objectKeys(x) {
			v, _ := objectGet(x, k)
			add(v)
		}
	}
	return result
}

func flatten(items []any, out []any) []any {
	for _, it := range items {
		if a, ok := arrayItems(it); ok {
			out = flatten(a, out)
		} else {
			out = append(out, it)
		}
	}
	return out
}

func descendants(input any) any {
	if input == undefined {
		return undefined
	}
	result := newSeq()
	recurseDescendants(input, result)
	if len(result.items) == 1 {
		return result.items[0]
	}
	return result
}

func recurseDescendants(input any, result *seq) {
	if a, ok := arrayItems(input); ok {
		for _, it := range a {
			recurseDescendants(it, result)
		}
		return
	}
	result.items = append(result.items, input)
	if isObject(input) {
		for _, k := range objectKeys(input) {
			v, _ := objectGet(input, k)
			recurseDescendants(v, result)
		}
	}
}

// path evaluates a chain of steps, each applied to every item the previous
// step produced.
func (e *evaluator) path(n *node, input any, env *frame) (any, error) {
	if v, ok := e.simplePath(n, input, env); ok {
		return v, nil
	}
	var inputSeq []any
	if a, ok := arrayItems(input); ok && n.steps[0].kind != kVariable {
		inputSeq = a
	} else {
		inputSeq = []any{input}
	}
	var result *seq
	var tuples *seq
	isTuple := false
	for i, step := range n.steps {
		if step.tuple {
			isTuple = true
		}
		var err error
		switch {
		case i == 0 && step.consarray:
			v, err := e.eval(step, newSeq(inputSeq...), env)
			if err != nil {
				return nil, err
			}
			result = asSeq(v)
		case isTuple:
			if tuples, err = e.tupleStep(step, inputSeq, tuples, env); err != nil {
				return nil, err
			}
		default:
			if result, err = e.step(step, inputSeq, env, i == len(n.steps)-1); err != nil {
				return nil, err
			}
		}
		if !isTuple && (result == nil || len(result.items) == 0) {
			break
		}
		if step.focus == "" && result != nil {
			inputSeq = result.items
		}
	}
	var out any
	if isTuple {
		if n.tuple {
			out = tuples
		} else {
			r := newSeq()
			if tuples != nil {
				for _, t := range tuples.items {
					r.items = append(r.items, asTuple(t)["@"])
				}
			}
			out = r
		}
	} else if result == nil {
		out = newSeq()
	} else {
		out = result
	}
	if n.keepSingletonArray {
		s := out.(*seq)
		if s.cons && !s.sequence {
			s = newSeq(s)
		}
		s.keepSingleton = true
		out = s
	}
	if n.group != nil {
		var groupInput any = out
		if isTuple {
			groupInput = tuples
			if tuples == nil {
				groupInput = newSeq()
			}
		}
		return e.group(n.group, groupInput, env)
	}
	return out, nil
}

// asSeq views a value as a sequence, wrapping plain arrays and single values.
func asSeq(v any) *seq {
	switch x := v.(type) {
	case *seq:
		return x
	case []any:
		return &seq{items: x}
	case undefinedType:
		return newSeq()
	}
	return newSeq(v)
}

// simplePath is the fast path for chains of plain field names (and a leading
// variable) over objects, the common shape of $states.input.a.b.
func (e *evaluator) simplePath(n *node, input any, env *frame) (any, bool) {
	if n.keepSingletonArray || n.group != nil || n.tuple {
		return nil, false
	}
	cur := input
	for i, step := range n.steps {
		if step.stages != nil || step.predicate != nil || step.group != nil || step.tuple || step.keepArray || step.focus != "" || step.index != "" {
			return nil, false
		}
		switch step.kind {
		case kVariable:
			if i != 0 || step.op == "" {
				return nil, false
			}
			cur = env.lookup(step.op)
		case kName:
			switch x := cur.(type) {
			case map[string]any:
				v, ok := x[step.op]
				if !ok {
					return undefined, true
				}
				cur = v
			case *object:
				v, ok := x.vals[step.op]
				if !ok {
					return undefined, true
				}
				cur = v
			case undefinedType:
				return undefined, true
			default:
				if isArray(cur) || isFunction(cur) {
					return nil, false
				}
				return undefined, true
			}
		default:
			return nil, false
		}
		if i < len(n.steps)-1 && isArray(cur) {
			return nil, false
		}
	}
	if s, ok := cur.(*seq); ok && s.sequence {
		return nil, false
	}
	return cur, true
}

func (e *evaluator) step(step *node, input []any, env *frame, last bool) (*seq, error) {
	if step.kind == kSort {
		v, err := e.sortStep(step, &seq{items: input, sequence: true}, input, env)
		if err != nil {
			return nil, err
		}
		s := asSeq(v)
		for _, st := range step.stages {
			if s, err = e.applyStage(st, s, env); err != nil {
				return nil, err
			}
		}
		return s, nil
	}
	if err := e.work(len(input), step.pos); err != nil {
		return nil, err
	}
	results := make([]any, 0, len(input))
	for _, item := range input {
		res, err := e.eval(step, item, env)
		if err != nil {
			return nil, err
		}
		for _, st := range step.stages {
			if res, err = e.filter(st.filter, res, env); err != nil {
				return nil, err
			}
		}
		if res != undefined {
			results = append(results, res)
		}
	}
	if last && len(results) == 1 {
		if _, ok := arrayItems(results[0]); ok && !isSequence(results[0]) {
			return asSeq(results[0]), nil
		}
	}
	out := newSeq()
	for _, res := range results {
		if s, ok := res.(*seq); ok && s.cons {
			out.items = append(out.items, res)
			continue
		}
		if a, ok := arrayItems(res); ok {
			if err := e.work(len(a), step.pos); err != nil {
				return nil, err
			}
			out.items = append(out.items, a...)
		} else {
			out.items = append(out.items, res)
		}
	}
	return out, nil
}

func (e *evaluator) applyStage(st stage, s *seq, env *frame) (*seq, error) {
	if st.filter != nil {
		v, err := e.filter(st.filter, s, env)
		if err != nil {
			return nil, err
		}
		return asSeq(v), nil
	}
	for i, it := range s.items {
		if t, ok := it.(tuple); ok {
			t[st.index] = float64(i)
		}
	}
	return s, nil
}

func (e *evaluator) tupleStep(step *node, input []any, tuples *seq, env *frame) (*seq, error) {
	if step.kind == kSort {
		var result *seq
		if tuples != nil {
			v, err := e.sortStep(step, tuples, tuples.items, env)
			if err != nil {
				return nil, err
			}
			result = asSeq(v)
		} else {
			v, err := e.sortStep(step, newSeq(input...), input, env)
			if err != nil {
				return nil, err
			}
			sorted, _ := arrayItems(v)
			result = &seq{sequence: true, tupleStream: true}
			for i, it := range sorted {
				t := tuple{"@": it}
				if step.index != "" {
					t[step.index] = float64(i)
				}
				result.items = append(result.items, t)
			}
		}
		for _, st := range step.stages {
			var err error
			if result, err = e.applyStage(st, result, env); err != nil {
				return nil, err
			}
		}
		return result, nil
	}
	result := &seq{sequence: true, tupleStream: true}
	if tuples == nil {
		tuples = &seq{sequence: true, tupleStream: true}
		for _, it := range input {
			tuples.items = append(tuples.items, tuple{"@": it})
		}
	}
	for _, ti := range tuples.items {
		t := asTuple(ti)
		stepEnv := frameFromTuple(env, t)
		res, err := e.eval(step, t["@"], stepEnv)
		if err != nil {
			return nil, err
		}
		if res == undefined {
			continue
		}
		items, ok := arrayItems(res)
		if !ok {
			items = []any{res}
		}
		resSeq, _ := res.(*seq)
		for bb, item := range items {
			nt := make(tuple, len(t)+2)
			for k, v := range t {
				nt[k] = v
			}
			if resSeq != nil && resSeq.tupleStream {
				for k, v := range asTuple(item) {
					nt[k] = v
				}
			} else {
				if step.focus != "" {
					nt[step.focus] = item
					nt["@"] = t["@"]
				} else {
					nt["@"] = item
				}
				if step.index != "" {
					nt[step.index] = float64(bb)
				}
				if step.ancestor != nil {
					nt[step.ancestor.label] = t["@"]
				}
			}
			result.items = append(result.items, nt)
		}
	}
	for _, st := range step.stages {
		var err error
		if result, err = e.applyStage(st, result, env); err != nil {
			return nil, err
		}
	}
	return result, nil
}

// filter applies a predicate: a number selects by index, anything else keeps
// the items for which it is truthy.
func (e *evaluator) filter(pred *node, input any, env *frame) (any, error) {
	results := newSeq()
	inSeq, _ := input.(*seq)
	if inSeq != nil && inSeq.tupleStream {
		results.tupleStream = true
	}
	items, ok := arrayItems(input)
	if !ok {
		if input == undefined {
			items = []any{undefined}
		} else {
			items = []any{input}
		}
	}
	if pred.kind == kNumber {
		index := int(math.Floor(pred.num))
		if math.IsInf(pred.num, 0) || math.Abs(pred.num) > 1e15 {
			return results, nil
		}
		if index < 0 {
			index += len(items)
		}
		if index >= 0 && index < len(items) && items[index] != undefined {
			item := items[index]
			if a, ok := item.(*seq); ok {
				return a, nil
			}
			if a, ok := item.([]any); ok {
				return a, nil
			}
			results.items = append(results.items, item)
		}
		return results, nil
	}
	for index, item := range items {
		context := item
		fenv := env
		if results.tupleStream {
			t := asTuple(item)
			context = t["@"]
			fenv = frameFromTuple(env, t)
		}
		res, err := e.eval(pred, context, fenv)
		if err != nil {
			return nil, err
		}
		if f, ok := toNumber(res); ok {
			if math.IsInf(f, 0) {
				return nil, &Error{Code: "D1001", Position: pred.pos, Value: f}
			}
			res = []any{f}
		}
		if nums, ok := numberItems(res); ok {
			for _, f := range nums {
				ii := int(math.Floor(f))
				if ii < 0 {
					ii += len(items)
				}
				if ii == index {
					results.items = append(results.items, item)
				}
			}
		} else if b, _ := booleanOf(res); b {
			results.items = append(results.items, item)
		}
	}
	return results, nil
}

// numberItems returns the numbers of a non-empty array of numbers.
func numberItems(v any) ([]float64, bool) {
	items, ok := arrayItems(v)
	if !ok || len(items) == 0 {
		return nil, false
	}
	out := make([]float64, len(items))
	for i, it := range items {
		f, ok := toNumber(it)
		if !ok {
			return nil, false
		}
		out[i] = f
	}
	return out, true
}
