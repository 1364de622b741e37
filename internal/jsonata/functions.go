package jsonata

// lambda is a function defined in the expression; it closes over the context
// value and the scope it was defined in.
type lambda struct {
	node   *node
	input  any
	env    *frame
	params []string
	sig    *signature
	thunk  bool
}

// builtin is a function of the standard library (or one of AWS's additions).
// arity is how many arguments the higher-order functions pass it.
type builtin struct {
	name  string
	sig   *signature
	arity int
	fn    func(e *evaluator, c *callContext, args []any) (any, error)
}

// callContext is what a builtin sees besides its arguments.
type callContext struct {
	input any
	env   *frame
	pos   int
	name  string
}

// result returns what a library routine gave, its error placed at the call.
func (c *callContext) result(v any, err *Error) (any, error) {
	if err != nil {
		err.Position = c.pos
		return nil, err
	}
	return v, nil
}

// nativeFn is a function value made by the evaluator itself (a transform, a
// function chain).
type nativeFn struct {
	sig   *signature
	arity int
	fn    func(e *evaluator, args []any) (any, error)
}

type placeholderType struct{}

var placeholder any = placeholderType{}

// partialFn is a partial application: args holds placeholder where the
// remaining arguments go.
type partialFn struct {
	fn    any
	args  []any
	arity int
}

func arity(f any) int {
	switch x := f.(type) {
	case *lambda:
		return len(x.params)
	case *builtin:
		return x.arity
	case *partialFn:
		return x.arity
	case *nativeFn:
		return x.arity
	case *regexValue:
		return 2
	}
	return 0
}

func procedureName(n *node) string {
	if n.kind == kPath && len(n.steps) > 0 {
		return n.steps[0].op
	}
	return n.op
}

// call evaluates a function call; applyTo, when not nil, is the left side of
// '~>' that becomes the first argument.
func (e *evaluator) call(n *node, input any, env *frame, applyTo *any) (any, error) {
	proc, err := e.eval(n.procedure, input, env)
	if err != nil {
		return nil, err
	}
	if proc == undefined && n.procedure.kind == kPath && env.lookup(n.procedure.steps[0].op) != undefined {
		return nil, &Error{Code: "T1005", Position: n.pos, Token: n.procedure.steps[0].op}
	}
	args := make([]any, 0, len(n.args)+1)
	if applyTo != nil {
		args = append(args, *applyTo)
	}
	for _, a := range n.args {
		v, err := e.eval(a, input, env)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	name := procedureName(n.procedure)
	result, err := e.apply(proc, args, input, env, n.pos, name)
	if err != nil {
		if je, ok := err.(*Error); ok {
			if je.Position == 0 {
				je.Position = n.pos
			}
			if je.Token == nil || je.Token == "" {
				je.Token = name
			}
		}
		return nil, err
	}
	return result, nil
}

// apply invokes a function value, running tail calls in a loop.
func (e *evaluator) apply(proc any, args []any, input any, env *frame, pos int, name string) (any, error) {
	result, err := e.applyInner(proc, args, input, env, pos, name)
	if err != nil {
		return nil, err
	}
	for {
		th, ok := result.(*lambda)
		if !ok || !th.thunk {
			return result, nil
		}
		body := th.node.body
		next, err := e.eval(body.procedure, th.input, th.env)
		if err != nil {
			return nil, err
		}
		nextArgs := make([]any, 0, len(body.args))
		for _, a := range body.args {
			v, err := e.eval(a, th.input, th.env)
			if err != nil {
				return nil, err
			}
			nextArgs = append(nextArgs, v)
		}
		nextName := procedureName(body.procedure)
		if result, err = e.applyInner(next, nextArgs, input, env, body.pos, nextName); err != nil {
			if je, ok := err.(*Error); ok && (je.Token == nil || je.Token == "") {
				je.Token = nextName
			}
			return nil, err
		}
	}
}

func (e *evaluator) applyInner(proc any, args []any, input any, env *frame, pos int, name string) (any, error) {
	switch f := proc.(type) {
	case *lambda:
		if f.sig != nil {
			var err error
			if args, err = f.sig.validate(args, input, name, pos); err != nil {
				return nil, err
			}
		}
		fenv := newFrame(f.env)
		for i, p := range f.params {
			if i < len(args) {
				fenv.bind(p, args[i])
			} else {
				fenv.bind(p, undefined)
			}
		}
		return e.eval(f.node.body, f.input, fenv)
	case *builtin:
		var err error
		if args, err = f.sig.validate(args, input, f.name, pos); err != nil {
			return nil, err
		}
		return f.fn(e, &callContext{input: input, env: env, pos: pos, name: f.name}, args)
	case *nativeFn:
		if f.sig != nil {
			var err error
			if args, err = f.sig.validate(args, input, name, pos); err != nil {
				return nil, err
			}
		}
		return f.fn(e, args)
	case *partialFn:
		full := make([]any, 0, len(f.args))
		i := 0
		for _, a := range f.args {
			if a == placeholder {
				if i < len(args) {
					full = append(full, args[i])
				} else {
					full = append(full, undefined)
				}
				i++
			} else {
				full = append(full, a)
			}
		}
		return e.apply(f.fn, full, input, env, pos, name)
	case *regexValue:
		s, ok := argAt(args, 0).(string)
		if !ok {
			return undefined, nil
		}
		from := 0
		if f, ok := toNumber(argAt(args, 1)); ok {
			from = int(f)
		}
		m, err := f.match(e, s, from)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return undefined, nil
		}
		return m.object(), nil
	}
	return nil, &Error{Code: "T1006", Position: pos, Token: name}
}

func argAt(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return undefined
}

func (e *evaluator) partial(n *node, input any, env *frame) (any, error) {
	args := make([]any, 0, len(n.args))
	holes := 0
	for _, a := range n.args {
		if a.kind == kOperator && a.op == "?" {
			args = append(args, placeholder)
			holes++
			continue
		}
		v, err := e.eval(a, input, env)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	proc, err := e.eval(n.procedure, input, env)
	if err != nil {
		return nil, err
	}
	name := procedureName(n.procedure)
	if proc == undefined && n.procedure.kind == kPath && env.lookup(n.procedure.steps[0].op) != undefined {
		return nil, &Error{Code: "T1007", Position: n.pos, Token: n.procedure.steps[0].op}
	}
	if !isFunction(proc) {
		return nil, &Error{Code: "T1008", Position: n.pos, Token: name}
	}
	return &partialFn{fn: proc, args: args, arity: holes}, nil
}

func (e *evaluator) applyOperator(n *node, input any, env *frame) (any, error) {
	lhs, err := e.eval(n.lhs, input, env)
	if err != nil {
		return nil, err
	}
	if n.rhs.kind == kFunction {
		return e.call(n.rhs, input, env, &lhs)
	}
	fn, err := e.eval(n.rhs, input, env)
	if err != nil {
		return nil, err
	}
	if !isFunction(fn) {
		return nil, &Error{Code: "T2006", Position: n.pos, Value: fn}
	}
	if isFunction(lhs) {
		first := lhs
		return &nativeFn{arity: 1, fn: func(e *evaluator, args []any) (any, error) {
			v, err := e.apply(first, args, nil, env, n.pos, "")
			if err != nil {
				return nil, err
			}
			return e.apply(fn, []any{v}, nil, env, n.pos, "")
		}}, nil
	}
	return e.apply(fn, []any{lhs}, nil, env, n.pos, procedureName(n.rhs))
}

// transform is the |pattern|update,delete| operator: a function that copies
// its argument and changes the copies of the matched objects.
func (e *evaluator) transform(n *node, env *frame) any {
	return &nativeFn{sig: mustSignature("<(oa):o>"), arity: 1, fn: func(e *evaluator, args []any) (any, error) {
		obj := argAt(args, 0)
		if obj == undefined {
			return undefined, nil
		}
		clone := env.lookup("clone")
		if !isFunction(clone) {
			return nil, &Error{Code: "T2013", Position: n.pos}
		}
		result, err := e.apply(clone, []any{obj}, nil, env, n.pos, "clone")
		if err != nil {
			return nil, err
		}
		matches, err := e.eval(n.lhs, result, env)
		if err != nil {
			return nil, err
		}
		if matches == undefined {
			return result, nil
		}
		items, ok := arrayItems(matches)
		if !ok {
			items = []any{matches}
		}
		for _, match := range items {
			update, err := e.eval(n.update, match, env)
			if err != nil {
				return nil, err
			}
			target, _ := match.(*object)
			if update != undefined {
				if !isObject(update) {
					return nil, &Error{Code: "T2011", Position: n.update.pos, Value: update}
				}
				if target != nil {
					for _, k := range objectKeys(update) {
						v, _ := objectGet(update, k)
						target.set(k, deepClone(v))
					}
				}
			}
			if n.del == nil {
				continue
			}
			dels, err := e.eval(n.del, match, env)
			if err != nil {
				return nil, err
			}
			if dels == undefined {
				continue
			}
			names, ok := arrayItems(dels)
			if !ok {
				names = []any{dels}
			}
			for _, d := range names {
				if _, ok := d.(string); !ok {
					return nil, &Error{Code: "T2012", Position: n.del.pos, Value: dels}
				}
			}
			if target != nil {
				for _, d := range names {
					target.del(d.(string))
				}
			}
		}
		return result, nil
	}}
}

// sortStep evaluates the order-by step (^) over the whole input sequence.
func (e *evaluator) sortStep(n *node, input any, items []any, env *frame) (any, error) {
	s, _ := input.(*seq)
	isTuple := s != nil && s.tupleStream
	greater := func(a, b any) (bool, error) {
		comp := 0
		for _, term := range n.terms {
			ctxA, envA := a, env
			ctxB, envB := b, env
			if isTuple {
				ctxA, envA = asTuple(a)["@"], frameFromTuple(env, asTuple(a))
				ctxB, envB = asTuple(b)["@"], frameFromTuple(env, asTuple(b))
			}
			aa, err := e.eval(term.expr, ctxA, envA)
			if err != nil {
				return false, err
			}
			bb, err := e.eval(term.expr, ctxB, envB)
			if err != nil {
				return false, err
			}
			if aa == undefined {
				if bb == undefined {
					comp = 0
				} else {
					comp = 1
				}
				if comp != 0 {
					break
				}
				continue
			}
			if bb == undefined {
				comp = -1
				break
			}
			as, aStr := aa.(string)
			bs, bStr := bb.(string)
			if !(aStr || isNumber(aa)) || !(bStr || isNumber(bb)) {
				bad := aa
				if aStr || isNumber(aa) {
					bad = bb
				}
				return false, &Error{Code: "T2008", Position: n.pos, Value: bad}
			}
			if aStr != bStr {
				return false, &Error{Code: "T2007", Position: n.pos, Value: aa, Value2: bb}
			}
			if aStr {
				comp = compareJSStrings(as, bs)
			} else {
				af, _ := toNumber(aa)
				bf, _ := toNumber(bb)
				switch {
				case af < bf:
					comp = -1
				case af > bf:
					comp = 1
				default:
					comp = 0
				}
			}
			if term.descending {
				comp = -comp
			}
			if comp != 0 {
				break
			}
		}
		return comp == 1, nil
	}
	sorted, err := mergeSort(items, greater)
	if err != nil {
		return nil, err
	}
	out := &seq{items: sorted, sequence: true}
	if isTuple {
		out.tupleStream = true
	}
	return out, nil
}

// mergeSort is the stable sort JSONata uses; greater(a, b) is true when a
// must come after b.
func mergeSort(items []any, greater func(a, b any) (bool, error)) ([]any, error) {
	if len(items) <= 1 {
		return append([]any(nil), items...), nil
	}
	mid := len(items) / 2
	left, err := mergeSort(items[:mid], greater)
	if err != nil {
		return nil, err
	}
	right, err := mergeSort(items[mid:], greater)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(items))
	i, j := 0, 0
	for i < len(left) && j < len(right) {
		g, err := greater(left[i], right[j])
		if err != nil {
			return nil, err
		}
		if g {
			out = append(out, right[j])
			j++
		} else {
			out = append(out, left[i])
			i++
		}
	}
	out = append(out, left[i:]...)
	return append(out, right[j:]...), nil
}
