package jsonata

import (
	"math"
	"strings"
)

func (e *evaluator) binary(n *node, input any, env *frame) (any, error) {
	lhs, err := e.eval(n.lhs, input, env)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "and", "or":
		l, _ := booleanOf(lhs)
		if n.op == "and" && !l {
			return false, nil
		}
		if n.op == "or" && l {
			return true, nil
		}
		rhs, err := e.eval(n.rhs, input, env)
		if err != nil {
			return nil, err
		}
		r, _ := booleanOf(rhs)
		return r, nil
	}
	rhs, err := e.eval(n.rhs, input, env)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "+", "-", "*", "/", "%":
		return arithmetic(n, lhs, rhs)
	case "=", "!=":
		if lhs == undefined || rhs == undefined {
			return false, nil
		}
		eq := deepEqual(lhs, rhs)
		if n.op == "=" {
			return eq, nil
		}
		return !eq, nil
	case "<", "<=", ">", ">=":
		return compare(n, lhs, rhs)
	case "&":
		var b strings.Builder
		if lhs != undefined {
			s, err := stringOf(lhs, false, n.pos)
			if err != nil {
				return nil, err
			}
			b.WriteString(s)
		}
		if rhs != undefined {
			s, err := stringOf(rhs, false, n.pos)
			if err != nil {
				return nil, err
			}
			b.WriteString(s)
		}
		if b.Len() > maxValueBytes {
			return nil, &Error{Code: "U1003", Position: n.pos}
		}
		if err := e.work(b.Len()/16, n.pos); err != nil {
			return nil, err
		}
		return b.String(), nil
	case "..":
		return rangeOperator(e, n, lhs, rhs)
	case "in":
		if lhs == undefined || rhs == undefined {
			return false, nil
		}
		items, ok := arrayItems(rhs)
		if !ok {
			items = []any{rhs}
		}
		for _, it := range items {
			if strictEqual(it, lhs) {
				return true, nil
			}
		}
		return false, nil
	}
	return nil, &Error{Code: "S0204", Position: n.pos, Token: n.op}
}

// numeric returns v as a number for an arithmetic operand; ok is false when v
// is not a number. Infinity and NaN cannot be operands.
func numeric(v any, pos int) (float64, bool, error) {
	f, ok := toNumber(v)
	if !ok {
		return 0, false, nil
	}
	if math.IsNaN(f) {
		return 0, false, nil
	}
	if math.IsInf(f, 0) {
		return 0, false, &Error{Code: "D1001", Position: pos, Value: f}
	}
	return f, true, nil
}

func arithmetic(n *node, lhs, rhs any) (any, error) {
	l, lok, err := numeric(lhs, n.pos)
	if err != nil {
		return nil, err
	}
	if lhs != undefined && !lok {
		return nil, &Error{Code: "T2001", Position: n.pos, Token: n.op, Value: lhs}
	}
	r, rok, err := numeric(rhs, n.pos)
	if err != nil {
		return nil, err
	}
	if rhs != undefined && !rok {
		return nil, &Error{Code: "T2002", Position: n.pos, Token: n.op, Value: rhs}
	}
	if lhs == undefined || rhs == undefined {
		return undefined, nil
	}
	switch n.op {
	case "+":
		return l + r, nil
	case "-":
		return l - r, nil
	case "*":
		return l * r, nil
	case "/":
		return l / r, nil
	}
	return math.Mod(l, r), nil
}

func compare(n *node, lhs, rhs any) (any, error) {
	comparable := func(v any) bool {
		if v == undefined {
			return true
		}
		if _, ok := v.(string); ok {
			return true
		}
		return isNumber(v)
	}
	if !comparable(lhs) {
		return nil, &Error{Code: "T2010", Position: n.pos, Token: n.op, Value: lhs}
	}
	if !comparable(rhs) {
		return nil, &Error{Code: "T2010", Position: n.pos, Token: n.op, Value: rhs}
	}
	if lhs == undefined || rhs == undefined {
		return undefined, nil
	}
	ls, lstr := lhs.(string)
	rs, rstr := rhs.(string)
	if lstr != rstr {
		return nil, &Error{Code: "T2009", Position: n.pos, Token: n.op, Value: lhs, Value2: rhs}
	}
	var c int
	if lstr {
		c = compareJSStrings(ls, rs)
	} else {
		l, _ := toNumber(lhs)
		r, _ := toNumber(rhs)
		switch {
		case math.IsNaN(l) || math.IsNaN(r):
			return false, nil
		case l < r:
			c = -1
		case l > r:
			c = 1
		}
	}
	switch n.op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil
}

// compareJSStrings orders strings by UTF-16 code units, as JavaScript does.
func compareJSStrings(a, b string) int {
	ua := utf16Units(a)
	ub := utf16Units(b)
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			if ua[i] < ub[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(ua) < len(ub):
		return -1
	case len(ua) > len(ub):
		return 1
	}
	return 0
}

func utf16Units(s string) []uint16 {
	out := make([]uint16, 0, len(s))
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			out = append(out, uint16(0xD800+(r>>10)), uint16(0xDC00+(r&0x3FF)))
		} else {
			out = append(out, uint16(r))
		}
	}
	return out
}

const maxRange = 1e7

func rangeOperator(e *evaluator, n *node, lhs, rhs any) (any, error) {
	l, lok := toNumber(lhs)
	if lhs != undefined && (!lok || l != math.Trunc(l) || math.IsInf(l, 0)) {
		return nil, &Error{Code: "T2003", Position: n.pos, Value: lhs}
	}
	r, rok := toNumber(rhs)
	if rhs != undefined && (!rok || r != math.Trunc(r) || math.IsInf(r, 0)) {
		return nil, &Error{Code: "T2004", Position: n.pos, Value: rhs}
	}
	if lhs == undefined || rhs == undefined || l > r {
		return undefined, nil
	}
	size := r - l + 1
	if size > maxRange {
		return nil, &Error{Code: "D2014", Position: n.pos, Value: size}
	}
	if size*8 > maxValueBytes {
		return nil, &Error{Code: "U1003", Position: n.pos}
	}
	if err := e.work(int(size), n.pos); err != nil {
		return nil, err
	}
	items := make([]any, int(size))
	for i := range items {
		items[i] = l + float64(i)
	}
	return &seq{items: items, sequence: true}, nil
}

func (e *evaluator) unary(n *node, input any, env *frame) (any, error) {
	switch n.op {
	case "-":
		v, err := e.eval(n.expr, input, env)
		if err != nil {
			return nil, err
		}
		if v == undefined {
			return undefined, nil
		}
		f, ok, err := numeric(v, n.pos)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &Error{Code: "D1002", Position: n.pos, Value: v}
		}
		return -f, nil
	case "[":
		result := &seq{items: make([]any, 0, len(n.exprs)), cons: n.consarray}
		for _, item := range n.exprs {
			v, err := e.eval(item, input, env)
			if err != nil {
				return nil, err
			}
			if v == undefined {
				continue
			}
			if item.kind == kUnary && item.op == "[" {
				result.items = append(result.items, v)
			} else if a, ok := arrayItems(v); ok {
				if err := e.work(len(a), n.pos); err != nil {
					return nil, err
				}
				result.items = append(result.items, a...)
			} else {
				result.items = append(result.items, v)
			}
		}
		if !result.cons {
			return result.items, nil
		}
		return result, nil
	}
	return e.group(&groupSpec{pairs: n.pairs, pos: n.pos}, input, env)
}

type groupEntry struct {
	data      any
	exprIndex int
}

// group evaluates an object constructor over a sequence, grouping the items
// by the key expressions.
func (e *evaluator) group(g *groupSpec, input any, env *frame) (any, error) {
	s, _ := input.(*seq)
	reduce := s != nil && s.tupleStream
	items, ok := arrayItems(input)
	if !ok {
		items = []any{input}
	}
	if len(items) == 0 {
		items = []any{undefined}
	}
	groups := make(map[string]*groupEntry)
	var order []string
	for _, item := range items {
		ctx := item
		genv := env
		if reduce {
			t := asTuple(item)
			ctx = t["@"]
			genv = frameFromTuple(env, t)
		}
		for pi, pair := range g.pairs {
			key, err := e.eval(pair[0], ctx, genv)
			if err != nil {
				return nil, err
			}
			if key == undefined {
				continue
			}
			ks, ok := key.(string)
			if !ok {
				return nil, &Error{Code: "T1003", Position: g.pos, Value: key}
			}
			if entry, ok := groups[ks]; ok {
				if entry.exprIndex != pi {
					return nil, &Error{Code: "D1009", Position: g.pos, Value: ks}
				}
				entry.data = appendValues(entry.data, item)
			} else {
				groups[ks] = &groupEntry{data: item, exprIndex: pi}
				order = append(order, ks)
			}
		}
	}
	result := newObject(len(order))
	for _, k := range orderKeys(order) {
		entry := groups[k]
		ctx := entry.data
		genv := env
		if reduce {
			t := reduceTuples(entry.data)
			ctx = t["@"]
			delete(t, "@")
			genv = frameFromTuple(env, t)
		}
		v, err := e.eval(g.pairs[entry.exprIndex][1], ctx, genv)
		if err != nil {
			return nil, err
		}
		if v != undefined {
			result.set(k, v)
		}
	}
	return result, nil
}

// orderKeys puts keys in JavaScript's property order: array-index keys first
// in ascending numeric order, then the others in insertion order.
func orderKeys(keys []string) []string {
	var idx, other []string
	for _, k := range keys {
		if isArrayIndexKey(k) {
			idx = append(idx, k)
		} else {
			other = append(other, k)
		}
	}
	if len(idx) == 0 {
		return keys
	}
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && lessIndexKey(idx[j], idx[j-1]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	return append(idx, other...)
}

func isArrayIndexKey(k string) bool {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return false
		}
	}
	return len(k) < 10 || k < "4294967295"
}

func lessIndexKey(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func reduceTuples(v any) tuple {
	items, ok := arrayItems(v)
	if !ok {
		t := asTuple(v)
		out := make(tuple, len(t))
		for k, x := range t {
			out[k] = x
		}
		return out
	}
	first := asTuple(items[0])
	out := make(tuple, len(first))
	for k, x := range first {
		out[k] = x
	}
	for _, it := range items[1:] {
		for k, x := range asTuple(it) {
			prev, ok := out[k]
			if !ok {
				prev = undefined
			}
			out[k] = appendValues(prev, x)
		}
	}
	return out
}

// appendValues is $append: arrays are concatenated, single values joined.
func appendValues(a, b any) any {
	if a == undefined {
		return b
	}
	if b == undefined {
		return a
	}
	ai, ok := arrayItems(a)
	if !ok {
		ai = []any{a}
	}
	bi, ok := arrayItems(b)
	if !ok {
		bi = []any{b}
	}
	out := make([]any, 0, len(ai)+len(bi))
	out = append(out, ai...)
	return append(out, bi...)
}
