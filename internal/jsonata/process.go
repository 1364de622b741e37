package jsonata

import "strconv"

// processor rewrites the raw parse tree into the tree the evaluator walks:
// '.' chains become paths of steps, predicates become stages, '@' and '#'
// become tuple bindings and '%' references are resolved to the step whose
// context they name.
type processor struct {
	ancestorLabel int
	ancestorIndex int
	ancestry      []*node
}

func (pr *processor) process(expr *node) (*node, error) {
	var result *node
	var err error
	switch expr.kind {
	case kBinary:
		result, err = pr.processBinary(expr)
		if err != nil {
			return nil, err
		}
	case kUnary:
		result = &node{kind: kUnary, op: expr.op, pos: expr.pos}
		switch {
		case expr.op == "[":
			for _, item := range expr.exprs {
				v, err := pr.process(item)
				if err != nil {
					return nil, err
				}
				pushAncestry(result, v)
				result.exprs = append(result.exprs, v)
			}
		case expr.op == "{":
			for _, pair := range expr.pairs {
				k, err := pr.process(pair[0])
				if err != nil {
					return nil, err
				}
				pushAncestry(result, k)
				v, err := pr.process(pair[1])
				if err != nil {
					return nil, err
				}
				pushAncestry(result, v)
				result.pairs = append(result.pairs, [2]*node{k, v})
			}
		default:
			operand, err := pr.process(expr.expr)
			if err != nil {
				return nil, err
			}
			if operand.kind == kNumber {
				result = operand
				result.num = -result.num
			} else {
				result.expr = operand
				pushAncestry(result, operand)
			}
		}
	case kFunction, kPartial:
		result = &node{kind: expr.kind, pos: expr.pos}
		for _, a := range expr.args {
			v, err := pr.process(a)
			if err != nil {
				return nil, err
			}
			pushAncestry(result, v)
			result.args = append(result.args, v)
		}
		if result.procedure, err = pr.process(expr.procedure); err != nil {
			return nil, err
		}
	case kLambda:
		result = &node{kind: kLambda, pos: expr.pos, params: expr.params, sig: expr.sig}
		body, err := pr.process(expr.body)
		if err != nil {
			return nil, err
		}
		result.body = tailCallOptimize(body)
	case kCondition:
		result = &node{kind: kCondition, pos: expr.pos}
		if result.cond, err = pr.process(expr.cond); err != nil {
			return nil, err
		}
		pushAncestry(result, result.cond)
		if result.then, err = pr.process(expr.then); err != nil {
			return nil, err
		}
		pushAncestry(result, result.then)
		if expr.els != nil {
			if result.els, err = pr.process(expr.els); err != nil {
				return nil, err
			}
			pushAncestry(result, result.els)
		}
	case kTransform:
		result = &node{kind: kTransform, pos: expr.pos}
		if result.lhs, err = pr.process(expr.lhs); err != nil {
			return nil, err
		}
		if result.update, err = pr.process(expr.update); err != nil {
			return nil, err
		}
		if expr.del != nil {
			if result.del, err = pr.process(expr.del); err != nil {
				return nil, err
			}
		}
	case kBlock:
		result = &node{kind: kBlock, pos: expr.pos}
		for _, item := range expr.exprs {
			part, err := pr.process(item)
			if err != nil {
				return nil, err
			}
			pushAncestry(result, part)
			if part.consarray || (part.kind == kPath && part.steps[0].consarray) {
				result.consarray = true
			}
			result.exprs = append(result.exprs, part)
		}
	case kName:
		result = &node{kind: kPath, steps: []*node{expr}, pos: expr.pos}
		if expr.keepArray {
			result.keepSingletonArray = true
		}
	case kParent:
		result = &node{kind: kParent, pos: expr.pos, slot: &slot{label: "!" + strconv.Itoa(pr.ancestorLabel), level: 1, index: pr.ancestorIndex}}
		pr.ancestorLabel++
		pr.ancestorIndex++
		pr.ancestry = append(pr.ancestry, result)
	case kString, kNumber, kValue, kWildcard, kDescendant, kVariable, kRegex:
		result = expr
	case kOperator:
		switch expr.op {
		case "and", "or", "in":
			name := &node{kind: kName, op: expr.op, pos: expr.pos, keepArray: expr.keepArray}
			return pr.process(name)
		case "?":
			result = expr
		default:
			return nil, &Error{Code: "S0201", Position: expr.pos, Token: expr.op}
		}
	default:
		return nil, &Error{Code: "S0206", Position: expr.pos, Token: expr.op}
	}
	if expr.keepArray {
		result.keepArray = true
	}
	return result, nil
}

func (pr *processor) processBinary(expr *node) (*node, error) {
	switch expr.op {
	case ".":
		return pr.processDot(expr)
	case "[":
		return pr.processPredicate(expr)
	case "{":
		result, err := pr.process(expr.lhs)
		if err != nil {
			return nil, err
		}
		if result.group != nil {
			return nil, &Error{Code: "S0210", Position: expr.pos}
		}
		g := &groupSpec{pos: expr.pos}
		for _, pair := range expr.pairs {
			k, err := pr.process(pair[0])
			if err != nil {
				return nil, err
			}
			v, err := pr.process(pair[1])
			if err != nil {
				return nil, err
			}
			g.pairs = append(g.pairs, [2]*node{k, v})
		}
		result.group = g
		return result, nil
	case "^":
		result, err := pr.process(expr.lhs)
		if err != nil {
			return nil, err
		}
		if result.kind != kPath {
			result = &node{kind: kPath, steps: []*node{result}, pos: result.pos}
		}
		sortStep := &node{kind: kSort, pos: expr.pos}
		for _, t := range expr.terms {
			e, err := pr.process(t.expr)
			if err != nil {
				return nil, err
			}
			pushAncestry(sortStep, e)
			sortStep.terms = append(sortStep.terms, sortTerm{expr: e, descending: t.descending})
		}
		result.steps = append(result.steps, sortStep)
		if err := pr.resolveAncestry(result); err != nil {
			return nil, err
		}
		return result, nil
	case ":=":
		result := &node{kind: kBind, pos: expr.pos}
		var err error
		if result.lhs, err = pr.process(expr.lhs); err != nil {
			return nil, err
		}
		if result.rhs, err = pr.process(expr.rhs); err != nil {
			return nil, err
		}
		pushAncestry(result, result.rhs)
		return result, nil
	case "@":
		result, step, err := pr.bindingStep(expr.lhs)
		if err != nil {
			return nil, err
		}
		if step.stages != nil || step.predicate != nil {
			return nil, &Error{Code: "S0215", Position: expr.pos}
		}
		if step.kind == kSort {
			return nil, &Error{Code: "S0216", Position: expr.pos}
		}
		if expr.keepArray {
			step.keepArray = true
		}
		step.focus = expr.rhs.op
		step.tuple = true
		return result, nil
	case "#":
		result, step, err := pr.bindingStep(expr.lhs)
		if err != nil {
			return nil, err
		}
		if result.kind != kPath {
			result = &node{kind: kPath, steps: []*node{result}, pos: result.pos}
			if step.predicate != nil {
				step.stages = step.predicate
				step.predicate = nil
			}
		}
		if step.stages == nil {
			step.index = expr.rhs.op
		} else {
			step.stages = append(step.stages, stage{index: expr.rhs.op, pos: expr.pos})
		}
		step.tuple = true
		return result, nil
	case "~>":
		result := &node{kind: kApply, op: expr.op, pos: expr.pos}
		var err error
		if result.lhs, err = pr.process(expr.lhs); err != nil {
			return nil, err
		}
		if result.rhs, err = pr.process(expr.rhs); err != nil {
			return nil, err
		}
		result.keepArray = result.lhs.keepArray || result.rhs.keepArray
		return result, nil
	}
	result := &node{kind: kBinary, op: expr.op, pos: expr.pos}
	var err error
	if result.lhs, err = pr.process(expr.lhs); err != nil {
		return nil, err
	}
	pushAncestry(result, result.lhs)
	if result.rhs, err = pr.process(expr.rhs); err != nil {
		return nil, err
	}
	pushAncestry(result, result.rhs)
	return result, nil
}

// bindingStep processes the left side of a focus (@) or index (#) binding
// and returns it with the step the binding attaches to: its last step when it
// is a path, else the expression itself.
func (pr *processor) bindingStep(lhs *node) (result, step *node, err error) {
	result, err = pr.process(lhs)
	if err != nil {
		return nil, nil, err
	}
	if result.kind == kPath {
		return result, result.steps[len(result.steps)-1], nil
	}
	return result, result, nil
}

func (pr *processor) processDot(expr *node) (*node, error) {
	lstep, err := pr.process(expr.lhs)
	if err != nil {
		return nil, err
	}
	var result *node
	if lstep.kind == kPath {
		result = lstep
	} else {
		result = &node{kind: kPath, steps: []*node{lstep}, pos: lstep.pos}
	}
	if lstep.kind == kParent {
		result.seekingParent = []*slot{lstep.slot}
	}
	rest, err := pr.process(expr.rhs)
	if err != nil {
		return nil, err
	}
	if rest.kind == kPath {
		result.steps = append(result.steps, rest.steps...)
	} else {
		if rest.predicate != nil {
			rest.stages = rest.predicate
			rest.predicate = nil
		}
		result.steps = append(result.steps, rest)
	}
	for _, step := range result.steps {
		switch step.kind {
		case kNumber, kValue:
			return nil, &Error{Code: "S0213", Position: step.pos, Value: literalValue(step)}
		case kString:
			step.kind = kName
		}
		if step.keepArray {
			result.keepSingletonArray = true
		}
	}
	first := result.steps[0]
	if first.kind == kUnary && first.op == "[" {
		first.consarray = true
	}
	last := result.steps[len(result.steps)-1]
	if last.kind == kUnary && last.op == "[" {
		last.consarray = true
	}
	if err := pr.resolveAncestry(result); err != nil {
		return nil, err
	}
	return result, nil
}

func literalValue(n *node) any {
	if n.kind == kNumber {
		return n.num
	}
	return n.value
}

func (pr *processor) processPredicate(expr *node) (*node, error) {
	result, err := pr.process(expr.lhs)
	if err != nil {
		return nil, err
	}
	step := result
	isStage := false
	if result.kind == kPath {
		step = result.steps[len(result.steps)-1]
		isStage = true
	}
	if step.group != nil {
		return nil, &Error{Code: "S0209", Position: expr.pos}
	}
	predicate, err := pr.process(expr.rhs)
	if err != nil {
		return nil, err
	}
	if predicate.seekingParent != nil {
		for _, s := range predicate.seekingParent {
			if s.level == 1 {
				if _, err := pr.seekParent(step, s); err != nil {
					return nil, err
				}
			} else {
				s.level--
			}
		}
		pushAncestry(step, predicate)
	}
	st := stage{filter: predicate, pos: expr.pos}
	if isStage {
		step.stages = append(step.stages, st)
	} else {
		step.predicate = append(step.predicate, st)
	}
	return result, nil
}

func (pr *processor) seekParent(n *node, s *slot) (*slot, error) {
	switch n.kind {
	case kName, kWildcard:
		s.level--
		if s.level == 0 {
			if n.ancestor == nil {
				n.ancestor = s
			} else {
				pr.ancestry[s.index].slot.label = n.ancestor.label
				n.ancestor = s
			}
			n.tuple = true
		}
	case kParent:
		s.level++
	case kBlock:
		if len(n.exprs) > 0 {
			n.tuple = true
			return pr.seekParent(n.exprs[len(n.exprs)-1], s)
		}
	case kPath:
		n.tuple = true
		index := len(n.steps) - 1
		var err error
		s, err = pr.seekParent(n.steps[index], s)
		if err != nil {
			return nil, err
		}
		index--
		for s.level > 0 && index >= 0 {
			if s, err = pr.seekParent(n.steps[index], s); err != nil {
				return nil, err
			}
			index--
		}
	default:
		return nil, &Error{Code: "S0217", Position: n.pos, Token: kindName(n.kind)}
	}
	return s, nil
}

func pushAncestry(result, value *node) {
	if value.seekingParent == nil && value.kind != kParent {
		return
	}
	slots := value.seekingParent
	if value.kind == kParent {
		slots = append(slots, value.slot)
	}
	result.seekingParent = append(result.seekingParent, slots...)
}

func (pr *processor) resolveAncestry(path *node) error {
	index := len(path.steps) - 1
	last := path.steps[index]
	slots := append([]*slot(nil), last.seekingParent...)
	if last.kind == kParent {
		slots = append(slots, last.slot)
	}
	for _, s := range slots {
		index = len(path.steps) - 2
		for s.level > 0 {
			if index < 0 {
				path.seekingParent = append(path.seekingParent, s)
				break
			}
			step := path.steps[index]
			index--
			for index >= 0 && step.focus != "" && path.steps[index].focus != "" {
				step = path.steps[index]
				index--
			}
			var err error
			if s, err = pr.seekParent(step, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// tailCallOptimize wraps a function call in tail position of a lambda body in
// a thunk, so that apply can run tail recursion in a loop instead of nesting.
func tailCallOptimize(expr *node) *node {
	switch {
	case expr.kind == kFunction && expr.predicate == nil:
		return &node{kind: kLambda, thunk: true, pos: expr.pos, body: expr}
	case expr.kind == kCondition:
		expr.then = tailCallOptimize(expr.then)
		if expr.els != nil {
			expr.els = tailCallOptimize(expr.els)
		}
	case expr.kind == kBlock && len(expr.exprs) > 0:
		expr.exprs[len(expr.exprs)-1] = tailCallOptimize(expr.exprs[len(expr.exprs)-1])
	}
	return expr
}

func kindName(k nodeKind) string {
	switch k {
	case kString:
		return "string"
	case kNumber:
		return "number"
	case kValue:
		return "value"
	case kRegex:
		return "regex"
	case kName:
		return "name"
	case kVariable:
		return "variable"
	case kWildcard:
		return "wildcard"
	case kDescendant:
		return "descendant"
	case kParent:
		return "parent"
	case kBinary:
		return "binary"
	case kUnary:
		return "unary"
	case kFunction:
		return "function"
	case kPartial:
		return "partial"
	case kLambda:
		return "lambda"
	case kCondition:
		return "condition"
	case kTransform:
		return "transform"
	case kBlock:
		return "block"
	case kOperator:
		return "operator"
	case kPath:
		return "path"
	case kBind:
		return "bind"
	case kApply:
		return "apply"
	}
	return "sort"
}
