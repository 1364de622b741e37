package jsonpath

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// A filter expression [?(...)] compiles to a tree of filterExpr nodes.
type filterKind uint8

const (
	filterAnd filterKind = iota
	filterOr
	filterNot
	filterCompare
	filterExists
)

type filterExpr struct {
	kind        filterKind
	left, right *filterExpr
	op          string
	a, b        operand
}

type operandKind uint8

const (
	operandLiteral operandKind = iota
	operandCurrent             // @...
	operandRoot                // $...
	operandRegex
)

type operand struct {
	kind  operandKind
	path  *Path
	value any
	re    *regexp.Regexp
}

const maxFilterDepth = 64

func (ps *parser) parseFilter() (*filterExpr, error) {
	ps.depth++
	defer func() { ps.depth-- }()
	if ps.depth > maxFilterDepth {
		return nil, ps.errorf("filter expression nested too deeply")
	}
	left, err := ps.parseAnd()
	if err != nil {
		return nil, err
	}
	for {
		ps.skipSpace()
		if !strings.HasPrefix(ps.s[ps.pos:], "||") {
			return left, nil
		}
		ps.pos += 2
		right, err := ps.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &filterExpr{kind: filterOr, left: left, right: right}
	}
}

func (ps *parser) parseAnd() (*filterExpr, error) {
	left, err := ps.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		ps.skipSpace()
		if !strings.HasPrefix(ps.s[ps.pos:], "&&") {
			return left, nil
		}
		ps.pos += 2
		right, err := ps.parseUnary()
		if err != nil {
			return nil, err
		}
		left = &filterExpr{kind: filterAnd, left: left, right: right}
	}
}

func (ps *parser) parseUnary() (*filterExpr, error) {
	ps.skipSpace()
	switch ps.peek() {
	case '!':
		if strings.HasPrefix(ps.s[ps.pos:], "!=") {
			return nil, ps.errorf("unexpected '!='")
		}
		ps.pos++
		ps.depth++
		defer func() { ps.depth-- }()
		if ps.depth > maxFilterDepth {
			return nil, ps.errorf("filter expression nested too deeply")
		}
		inner, err := ps.parseUnary()
		if err != nil {
			return nil, err
		}
		return &filterExpr{kind: filterNot, left: inner}, nil
	case '(':
		ps.pos++
		inner, err := ps.parseFilter()
		if err != nil {
			return nil, err
		}
		if err := ps.expect(')'); err != nil {
			return nil, err
		}
		return inner, nil
	}
	a, err := ps.parseOperand()
	if err != nil {
		return nil, err
	}
	ps.skipSpace()
	op := ps.parseOperator()
	if op == "" {
		if a.kind != operandCurrent && a.kind != operandRoot {
			return nil, ps.errorf("expected a comparison operator")
		}
		return &filterExpr{kind: filterExists, a: a}, nil
	}
	ps.skipSpace()
	b, err := ps.parseOperand()
	if err != nil {
		return nil, err
	}
	if op == "=~" && b.kind != operandRegex {
		return nil, ps.errorf("the right side of '=~' must be a /regular expression/")
	}
	return &filterExpr{kind: filterCompare, op: op, a: a, b: b}, nil
}

var symbolOps = []string{"===", "!==", "==", "!=", "<=", ">=", "=~", "<", ">"}
var wordOps = []string{"subsetof", "contains", "noneof", "anyof", "empty", "size", "nin", "in"}

func (ps *parser) parseOperator() string {
	rest := ps.s[ps.pos:]
	for _, op := range symbolOps {
		if strings.HasPrefix(rest, op) {
			ps.pos += len(op)
			return op
		}
	}
	for _, op := range wordOps {
		if strings.HasPrefix(rest, op) && (len(rest) == len(op) || !isVarChar(rest[len(op)])) {
			ps.pos += len(op)
			return op
		}
	}
	return ""
}

func (ps *parser) parseOperand() (operand, error) {
	ps.skipSpace()
	switch c := ps.peek(); {
	case c == '@' || c == '$':
		start := ps.pos
		ps.pos++
		kind := operandCurrent
		if c == '$' {
			kind = operandRoot
		}
		sub := &parser{s: ps.s, pos: ps.pos, inFilter: true, depth: ps.depth}
		steps, err := sub.parseSteps()
		if err != nil {
			return operand{}, err
		}
		ps.pos = sub.pos
		p := &Path{text: ps.s[start:ps.pos]}
		p.setSteps(steps)
		return operand{kind: kind, path: p}, nil
	case c == '\'' || c == '"':
		s, err := ps.parseQuoted()
		if err != nil {
			return operand{}, err
		}
		return operand{value: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := ps.pos
		for ps.pos < len(ps.s) && strings.IndexByte("+-0123456789.eE", ps.s[ps.pos]) >= 0 {
			ps.pos++
		}
		text := ps.s[start:ps.pos]
		if _, ok := parseDecimal(text); !ok || text[0] == '+' {
			return operand{}, ps.errorf("invalid number %q", text)
		}
		return operand{value: json.Number(text)}, nil
	case c == '[':
		ps.pos++
		list := []any{}
		for {
			ps.skipSpace()
			if ps.peek() == ']' && len(list) == 0 {
				ps.pos++
				return operand{value: list}, nil
			}
			e, err := ps.parseOperand()
			if err != nil {
				return operand{}, err
			}
			if e.kind != operandLiteral {
				return operand{}, ps.errorf("array literals may only hold literal values")
			}
			list = append(list, e.value)
			ps.skipSpace()
			if ps.peek() == ',' {
				ps.pos++
				continue
			}
			if err := ps.expect(']'); err != nil {
				return operand{}, err
			}
			return operand{value: list}, nil
		}
	case c == '/':
		return ps.parseRegex()
	}
	for _, kw := range []struct {
		word  string
		value any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if strings.HasPrefix(ps.s[ps.pos:], kw.word) {
			ps.pos += len(kw.word)
			return operand{value: kw.value}, nil
		}
	}
	if ps.pos >= len(ps.s) {
		return operand{}, ps.errorf("expected a value, found end of path")
	}
	return operand{}, ps.errorf("unexpected %q in filter expression", ps.s[ps.pos])
}

func (ps *parser) parseRegex() (operand, error) {
	ps.pos++ // '/'
	var b strings.Builder
	for {
		if ps.pos >= len(ps.s) {
			return operand{}, ps.errorf("unterminated regular expression")
		}
		c := ps.s[ps.pos]
		if c == '\\' && ps.pos+1 < len(ps.s) && ps.s[ps.pos+1] == '/' {
			b.WriteByte('/')
			ps.pos += 2
			continue
		}
		ps.pos++
		if c == '/' {
			break
		}
		b.WriteByte(c)
	}
	flags := ""
	for ps.pos < len(ps.s) && strings.IndexByte("ims", ps.s[ps.pos]) >= 0 {
		flags += string(ps.s[ps.pos])
		ps.pos++
	}
	expr := "^(?:" + b.String() + ")$"
	if flags != "" {
		expr = "(?" + flags + ")" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return operand{}, ps.errorf("invalid regular expression: %v", err)
	}
	return operand{kind: operandRegex, re: re}, nil
}

// resolve returns the operand's value at cur, and whether it exists.
func (o *operand) resolve(root, cur any) (any, bool) {
	switch o.kind {
	case operandCurrent, operandRoot:
		start := cur
		if o.kind == operandRoot {
			start = root
		}
		if o.path.definite {
			v, err := o.path.getDefinite(root, start)
			return v, err == nil
		}
		return o.path.collect(root, start, 0, nil), true
	}
	return o.value, true
}

func (f *filterExpr) match(root, cur any) bool {
	switch f.kind {
	case filterAnd:
		return f.left.match(root, cur) && f.right.match(root, cur)
	case filterOr:
		return f.left.match(root, cur) || f.right.match(root, cur)
	case filterNot:
		return !f.left.match(root, cur)
	case filterExists:
		v, ok := f.a.resolve(root, cur)
		if list, isList := v.([]any); isList && !f.a.path.definite {
			return len(list) > 0
		}
		return ok
	}
	a, aok := f.a.resolve(root, cur)
	if f.op == "=~" {
		s, ok := a.(string)
		return aok && ok && f.b.re.MatchString(s)
	}
	b, bok := f.b.resolve(root, cur)
	switch f.op {
	case "==", "===":
		return aok && bok && filterEqual(a, b, f.op == "===")
	case "!=", "!==":
		return !(aok && bok && filterEqual(a, b, f.op == "!=="))
	}
	if !aok || !bok {
		return f.op == "nin" || f.op == "noneof"
	}
	switch f.op {
	case "<", "<=", ">", ">=":
		c, ok := order(a, b)
		if !ok {
			return false
		}
		switch f.op {
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case ">":
			return c > 0
		}
		return c >= 0
	case "in":
		return contains(b, a)
	case "nin":
		return !contains(b, a)
	case "contains":
		if s, ok := a.(string); ok {
			t, ok := b.(string)
			return ok && strings.Contains(s, t)
		}
		return contains(a, b)
	case "subsetof", "anyof", "noneof":
		left, lok := a.([]any)
		if !lok {
			return f.op == "noneof"
		}
		for _, e := range left {
			in := contains(b, e)
			switch {
			case f.op == "subsetof" && !in:
				return false
			case f.op == "anyof" && in:
				return true
			case f.op == "noneof" && in:
				return false
			}
		}
		return f.op != "anyof"
	case "size":
		n, ok := b.(json.Number)
		if !ok {
			return false
		}
		var size int
		switch t := a.(type) {
		case string:
			size = len(utf16.Encode([]rune(t)))
		case []any:
			size = len(t)
		default:
			return false
		}
		c, ok := CompareNumbers(json.Number(strconv.Itoa(size)), n)
		return ok && c == 0
	case "empty":
		want, ok := b.(bool)
		if !ok {
			return false
		}
		switch t := a.(type) {
		case string:
			return (t == "") == want
		case []any:
			return (len(t) == 0) == want
		case map[string]any:
			return (len(t) == 0) == want
		}
		return false
	}
	return false
}

// filterEqual compares as Jayway's == does: numbers by value, and a number
// against a string by the string's numeric value; === also requires the same
// type.
func filterEqual(a, b any, strict bool) bool {
	if Equal(a, b) {
		return true
	}
	if strict {
		return false
	}
	switch x := a.(type) {
	case json.Number:
		if s, ok := b.(string); ok {
			c, ok := CompareNumbers(x, json.Number(s))
			return ok && c == 0
		}
	case string:
		if n, ok := b.(json.Number); ok {
			c, ok := CompareNumbers(json.Number(x), n)
			return ok && c == 0
		}
	}
	return false
}

// order compares two numbers or two strings.
func order(a, b any) (int, bool) {
	switch x := a.(type) {
	case json.Number:
		if y, ok := b.(json.Number); ok {
			return CompareNumbers(x, y)
		}
	case string:
		if y, ok := b.(string); ok {
			return CompareStrings(x, y), true
		}
	}
	return 0, false
}

func contains(list, v any) bool {
	l, ok := list.([]any)
	if !ok {
		return false
	}
	for _, e := range l {
		if Equal(e, v) {
			return true
		}
	}
	return false
}

// CompareStrings orders strings as Java's String.compareTo does: by UTF-16
// code unit, which differs from Go's byte order for characters above U+FFFF.
func CompareStrings(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) || i == len(b) {
		switch {
		case len(a) == len(b):
			return 0
		case i == len(a):
			return -1
		}
		return 1
	}
	// Back up to the start of the differing runes.
	for i > 0 && (a[i]&0xC0) == 0x80 {
		i--
	}
	ra, rb := firstRune(a[i:]), firstRune(b[i:])
	ua, ub := utf16Unit(ra), utf16Unit(rb)
	switch {
	case ua < ub:
		return -1
	case ua > ub:
		return 1
	case ra < rb:
		return -1
	case ra > rb:
		return 1
	}
	return strings.Compare(a[i:], b[i:])
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}

// utf16Unit returns the first UTF-16 code unit of r.
func utf16Unit(r rune) rune {
	if r >= 0x10000 {
		hi, _ := utf16.EncodeRune(r)
		return hi
	}
	return r
}
