// Package jsonpath owns the JSONPath queries of the Amazon States Language:
// paths ($.a.b, $['a b'], $.a[0], $.a[-1:], $.a[*], $..a, filters
// [?(@.x > 1)]), context paths ($$.Execution.Id), variable paths ($var.x),
// reference paths with their ResultPath-style Set, and the JSON value helpers
// the other JSONPath-mode packages share (Env, exact number comparison, the
// text forms AWS prints, the Failure error).
//
// AWS evaluates these paths with Jayway JsonPath and shows Jayway's messages
// in its causes ("No results for path: $['x']", "Missing property in path
// $['a']"). No Go library reproduces Jayway's definite/indefinite rules and
// texts, and the ones that exist decode numbers to float64, so the package is
// written by hand: a path compiles once into steps, and evaluating a definite
// path walks maps and slices without allocating.
//
// Values are the ones encoding/json produces with UseNumber: nil, bool,
// string, json.Number, []any and map[string]any. Nothing here mutates its
// inputs; Set returns a new document that shares the untouched parts.
package jsonpath

import (
	"fmt"
	"strconv"
	"strings"
)

// Env is what an expression can see when it is evaluated.
type Env struct {
	Input   any                           // the state's effective input ($)
	Context any                           // the context object ($$)
	Vars    func(name string) (any, bool) // workflow variables ($name), nil when none
}

// Root says what a path starts from.
type Root uint8

// Roots of a path.
const (
	RootInput    Root = iota // $
	RootContext              // $$
	RootVariable             // $name
)

type stepKind uint8

const (
	stepProp     stepKind = iota // ['a']
	stepProps                    // ['a','b']
	stepIndex                    // [0]
	stepIndexes                  // [0,1]
	stepSlice                    // [1:5]
	stepWildcard                 // [*] or .*
	stepFilter                   // [?(...)]
)

type step struct {
	kind    stepKind
	scan    bool // preceded by "..": applies at every depth
	name    string
	names   []string
	index   int
	indexes []int
	from    int
	to      int
	hasFrom bool
	hasTo   bool
	filter  *filterExpr
	frag    string // Jayway fragment: ['a'], [0], [*], [?], ..['a']
}

// Path is a compiled JSONPath. It is safe for concurrent use.
type Path struct {
	text     string
	root     Root
	varName  string
	steps    []step
	definite bool
	prefixes []string // prefixes[i]: normalized path up to and including step i
}

// String returns the path as written.
func (p *Path) String() string { return p.text }

// Root reports what the path starts from.
func (p *Path) Root() Root { return p.root }

// Variable returns the variable name of a $name path, "" otherwise.
func (p *Path) Variable() string { return p.varName }

// IsDefinite reports whether the path selects at most one value (no
// wildcard, slice, filter, deep scan or index/property list).
func (p *Path) IsDefinite() bool { return p.definite }

// IsRoot reports whether the path is a bare root: $, $$ or $name.
func (p *Path) IsRoot() bool { return len(p.steps) == 0 }

// normalized returns the Jayway form of the whole path, e.g. $['a'][0].
func (p *Path) normalized() string {
	if len(p.prefixes) == 0 {
		return "$"
	}
	return p.prefixes[len(p.prefixes)-1]
}

// Compile parses any JSONPath that Step Functions accepts in a Path field.
func Compile(path string) (*Path, error) {
	ps := &parser{s: path}
	p, err := ps.parsePath()
	if err != nil {
		return nil, fmt.Errorf("invalid JSONPath %q: %w", path, err)
	}
	return p, nil
}

// MustCompile is Compile for paths known at build time; it panics on error.
func MustCompile(path string) *Path {
	p, err := Compile(path)
	if err != nil {
		panic(err)
	}
	return p
}

// CompileReference parses a reference path: a definite path made of
// property names and array indexes only (no wildcard, slice, filter or deep
// scan), as ResultPath and the other reference-path fields require.
func CompileReference(path string) (*Path, error) {
	p, err := Compile(path)
	if err != nil {
		return nil, err
	}
	for _, s := range p.steps {
		if s.scan || (s.kind != stepProp && s.kind != stepIndex) {
			return nil, fmt.Errorf("invalid reference path %q: %s is not allowed, a reference path may only name properties and array indexes", path, describe(s))
		}
	}
	return p, nil
}

func describe(s step) string {
	switch {
	case s.scan:
		return "deep scan '..'"
	case s.kind == stepWildcard:
		return "wildcard '*'"
	case s.kind == stepSlice:
		return "array slice " + s.frag
	case s.kind == stepFilter:
		return "filter expression"
	case s.kind == stepIndexes:
		return "index list " + s.frag
	case s.kind == stepProps:
		return "property list " + s.frag
	}
	return s.frag
}

// parser reads a path from s starting at pos. Inside a filter expression
// (inFilter) property names in dot notation also end at operators, spaces
// and parentheses.
type parser struct {
	s        string
	pos      int
	inFilter bool
	depth    int
}

func (ps *parser) errorf(format string, a ...any) error {
	return fmt.Errorf("at position %d: %s", ps.pos, fmt.Sprintf(format, a...))
}

func (ps *parser) peek() byte {
	if ps.pos < len(ps.s) {
		return ps.s[ps.pos]
	}
	return 0
}

func (ps *parser) parsePath() (*Path, error) {
	if !strings.HasPrefix(ps.s, "$") {
		return nil, ps.errorf("a path must start with '$'")
	}
	p := &Path{text: ps.s}
	ps.pos = 1
	switch c := ps.peek(); {
	case c == '$':
		p.root = RootContext
		ps.pos++
	case isVarStart(c):
		start := ps.pos
		for ps.pos < len(ps.s) && isVarChar(ps.s[ps.pos]) {
			ps.pos++
		}
		p.root = RootVariable
		p.varName = ps.s[start:ps.pos]
	}
	steps, err := ps.parseSteps()
	if err != nil {
		return nil, err
	}
	if ps.pos != len(ps.s) {
		return nil, ps.errorf("unexpected %q", ps.s[ps.pos:])
	}
	p.setSteps(steps)
	return p, nil
}

func (p *Path) setSteps(steps []step) {
	p.steps = steps
	p.definite = true
	p.prefixes = make([]string, len(steps))
	var b strings.Builder
	b.WriteByte('$')
	for i, s := range steps {
		b.WriteString(s.frag)
		p.prefixes[i] = b.String()
		if !s.definite(i == len(steps)-1) {
			p.definite = false
		}
	}
}

// definite reports whether the step selects at most one value. A property
// list at the leaf merges into one object, as in Jayway.
func (s step) definite(leaf bool) bool {
	if s.scan {
		return false
	}
	switch s.kind {
	case stepProp, stepIndex:
		return true
	case stepProps:
		return leaf
	}
	return false
}

func isVarStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isVarChar(c byte) bool { return isVarStart(c) || (c >= '0' && c <= '9') }

// parseSteps reads segments until the end of the path or, inside a filter,
// until a character that cannot continue a path.
func (ps *parser) parseSteps() ([]step, error) {
	var steps []step
	for ps.pos < len(ps.s) {
		c := ps.s[ps.pos]
		switch {
		case c == '.':
			scan := strings.HasPrefix(ps.s[ps.pos:], "..")
			if scan {
				ps.pos += 2
			} else {
				ps.pos++
			}
			if ps.peek() == '[' {
				if !scan {
					return nil, ps.errorf("'.' must be followed by a property name, not '['")
				}
				s, err := ps.parseBracket()
				if err != nil {
					return nil, err
				}
				s.scan = true
				s.frag = ".." + s.frag
				steps = append(steps, s)
				continue
			}
			s, err := ps.parseDotName()
			if err != nil {
				return nil, err
			}
			if scan {
				s.scan = true
				s.frag = ".." + s.frag
			}
			steps = append(steps, s)
		case c == '[':
			s, err := ps.parseBracket()
			if err != nil {
				return nil, err
			}
			steps = append(steps, s)
		case ps.inFilter:
			return steps, nil
		default:
			return nil, ps.errorf("unexpected character %q, expected '.' or '['", c)
		}
	}
	return steps, nil
}

func (ps *parser) nameEnds(c byte) bool {
	switch c {
	case '.', '[':
		return true
	}
	if ps.inFilter {
		return strings.IndexByte(" \t\n\r)(=!<>&|,]~", c) >= 0
	}
	return false
}

func (ps *parser) parseDotName() (step, error) {
	if ps.peek() == '*' {
		ps.pos++
		return step{kind: stepWildcard, frag: "[*]"}, nil
	}
	start := ps.pos
	for ps.pos < len(ps.s) && !ps.nameEnds(ps.s[ps.pos]) {
		ps.pos++
	}
	name := ps.s[start:ps.pos]
	if name == "" {
		return step{}, ps.errorf("missing property name after '.'")
	}
	if strings.ContainsAny(name, "]()' \"") {
		return step{}, ps.errorf("property name %q needs bracket notation ['...']", name)
	}
	return propStep(name), nil
}

func propStep(name string) step {
	return step{kind: stepProp, name: name, frag: "['" + name + "']"}
}

func (ps *parser) skipSpace() {
	for ps.pos < len(ps.s) && (ps.s[ps.pos] == ' ' || ps.s[ps.pos] == '\t' || ps.s[ps.pos] == '\n' || ps.s[ps.pos] == '\r') {
		ps.pos++
	}
}

func (ps *parser) expect(c byte) error {
	ps.skipSpace()
	if ps.peek() != c {
		if ps.pos >= len(ps.s) {
			return ps.errorf("expected %q, found end of path", c)
		}
		return ps.errorf("expected %q, found %q", c, ps.s[ps.pos])
	}
	ps.pos++
	return nil
}

func (ps *parser) parseBracket() (step, error) {
	ps.pos++ // '['
	ps.skipSpace()
	switch c := ps.peek(); {
	case c == '*':
		ps.pos++
		if err := ps.expect(']'); err != nil {
			return step{}, err
		}
		return step{kind: stepWildcard, frag: "[*]"}, nil
	case c == '\'' || c == '"':
		return ps.parseNames()
	case c == '?':
		ps.pos++
		if err := ps.expect('('); err != nil {
			return step{}, err
		}
		f, err := ps.parseFilter()
		if err != nil {
			return step{}, err
		}
		if err := ps.expect(')'); err != nil {
			return step{}, err
		}
		if err := ps.expect(']'); err != nil {
			return step{}, err
		}
		return step{kind: stepFilter, filter: f, frag: "[?]"}, nil
	case c == '-' || c == ':' || (c >= '0' && c <= '9'):
		return ps.parseIndexes()
	case c == 0:
		return step{}, ps.errorf("unterminated '['")
	default:
		return step{}, ps.errorf("unexpected %q after '['", c)
	}
}

func (ps *parser) parseNames() (step, error) {
	var names []string
	for {
		ps.skipSpace()
		name, err := ps.parseQuoted()
		if err != nil {
			return step{}, err
		}
		names = append(names, name)
		ps.skipSpace()
		if ps.peek() == ',' {
			ps.pos++
			continue
		}
		if err := ps.expect(']'); err != nil {
			return step{}, err
		}
		break
	}
	if len(names) == 1 {
		return propStep(names[0]), nil
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "'" + n + "'"
	}
	return step{kind: stepProps, names: names, frag: "[" + strings.Join(quoted, ", ") + "]"}, nil
}

// parseQuoted reads a '...' or "..." literal with backslash escapes.
func (ps *parser) parseQuoted() (string, error) {
	q := ps.peek()
	if q != '\'' && q != '"' {
		return "", ps.errorf("expected a quoted name")
	}
	ps.pos++
	var b strings.Builder
	for ps.pos < len(ps.s) {
		c := ps.s[ps.pos]
		switch {
		case c == '\\' && ps.pos+1 < len(ps.s):
			ps.pos++
			switch e := ps.s[ps.pos]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(e)
			}
			ps.pos++
		case c == q:
			ps.pos++
			return b.String(), nil
		default:
			b.WriteByte(c)
			ps.pos++
		}
	}
	return "", ps.errorf("unterminated quoted name")
}

func (ps *parser) parseInt() (int, bool) {
	start := ps.pos
	if ps.peek() == '-' {
		ps.pos++
	}
	for ps.pos < len(ps.s) && ps.s[ps.pos] >= '0' && ps.s[ps.pos] <= '9' {
		ps.pos++
	}
	n, err := strconv.Atoi(ps.s[start:ps.pos])
	if err != nil {
		ps.pos = start
		return 0, false
	}
	return n, true
}

func (ps *parser) parseIndexes() (step, error) {
	ps.skipSpace()
	if ps.peek() == ':' {
		ps.pos++
		ps.skipSpace()
		to, ok := ps.parseInt()
		if !ok {
			return step{}, ps.errorf("expected an integer after ':'")
		}
		if err := ps.expect(']'); err != nil {
			return step{}, err
		}
		return step{kind: stepSlice, to: to, hasTo: true, frag: fmt.Sprintf("[:%d]", to)}, nil
	}
	first, ok := ps.parseInt()
	if !ok {
		return step{}, ps.errorf("expected an array index")
	}
	ps.skipSpace()
	switch ps.peek() {
	case ':':
		ps.pos++
		ps.skipSpace()
		if ps.peek() == ']' {
			ps.pos++
			return step{kind: stepSlice, from: first, hasFrom: true, frag: fmt.Sprintf("[%d:]", first)}, nil
		}
		to, ok := ps.parseInt()
		if !ok {
			return step{}, ps.errorf("expected an integer or ']' after ':'")
		}
		ps.skipSpace()
		if ps.peek() == ':' {
			return step{}, ps.errorf("array slice steps are not supported")
		}
		if err := ps.expect(']'); err != nil {
			return step{}, err
		}
		return step{kind: stepSlice, from: first, to: to, hasFrom: true, hasTo: true, frag: fmt.Sprintf("[%d:%d]", first, to)}, nil
	case ']':
		ps.pos++
		return step{kind: stepIndex, index: first, frag: "[" + strconv.Itoa(first) + "]"}, nil
	case ',':
		idx := []int{first}
		for ps.peek() == ',' {
			ps.pos++
			ps.skipSpace()
			n, ok := ps.parseInt()
			if !ok {
				return step{}, ps.errorf("expected an array index after ','")
			}
			idx = append(idx, n)
			ps.skipSpace()
		}
		if err := ps.expect(']'); err != nil {
			return step{}, err
		}
		parts := make([]string, len(idx))
		for i, n := range idx {
			parts[i] = strconv.Itoa(n)
		}
		return step{kind: stepIndexes, indexes: idx, frag: "[" + strings.Join(parts, ",") + "]"}, nil
	}
	return step{}, ps.errorf("expected ']', ':' or ',' in array index")
}
