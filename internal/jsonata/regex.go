package jsonata

import (
	"time"

	"github.com/dlclark/regexp2/v2"
)

// regexMatchTimeout bounds one regular expression match, so that a
// catastrophically backtracking pattern fails instead of hanging.
const regexMatchTimeout = time.Second

// regexValue is a compiled /pattern/flags literal. JSONata regular expressions
// are JavaScript's, so they are compiled with regexp2's ECMAScript mode (Go's
// regexp lacks lookaround and backreferences).
type regexValue struct {
	source string
	re     *regexp2.Regexp
}

func compileRegex(lit *regexLiteral, pos int) (*regexValue, error) {
	opts := regexp2.ECMAScript
	for _, f := range lit.flags {
		switch f {
		case 'i':
			opts |= regexp2.IgnoreCase
		case 'm':
			opts |= regexp2.Multiline
		}
	}
	re, err := regexp2.Compile(lit.pattern, regexp2.RegexOptions(opts))
	if err != nil {
		return nil, &Error{Code: "S0303", Position: pos, Value: err.Error()}
	}
	re.MatchTimeout = regexMatchTimeout
	return &regexValue{source: lit.pattern, re: re}, nil
}

// regexMatch is one match: start and end are character (code point) offsets.
type regexMatch struct {
	match  string
	start  int
	end    int
	groups []any
	rv     *regexValue
	runes  []rune
}

// match finds the first match at or after character offset from.
func (r *regexValue) match(s string, from int) (*regexMatch, error) {
	return r.matchRunes([]rune(s), from)
}

func (r *regexValue) matchRunes(runes []rune, from int) (*regexMatch, error) {
	if from > len(runes) {
		return nil, nil
	}
	m, err := r.re.FindRunesMatchStartingAt(runes, from)
	if err != nil {
		return nil, &Error{Code: "U1002", Value: "the regular expression match time limit"}
	}
	if m == nil {
		return nil, nil
	}
	out := &regexMatch{match: m.String(), start: m.RuneIndex, end: m.RuneIndex + m.RuneLength, rv: r, runes: runes}
	groups := m.Groups()
	for _, g := range groups[1:] {
		if len(g.Captures) == 0 {
			out.groups = append(out.groups, undefined)
		} else {
			out.groups = append(out.groups, g.String())
		}
	}
	if out.groups == nil {
		out.groups = []any{}
	}
	return out, nil
}

// next finds the following match, as JSONata's matcher protocol does: a
// zero-length match after the first one is an error.
func (m *regexMatch) next(pos int) (*regexMatch, error) {
	if m.end >= len(m.runes) {
		return nil, nil
	}
	n, err := m.rv.matchRunes(m.runes, m.end)
	if err != nil {
		return nil, err
	}
	if n != nil && n.match == "" {
		return nil, &Error{Code: "D1004", Position: pos, Value: m.rv.source}
	}
	return n, nil
}

// object is the match as the value a regex returns when called directly.
func (m *regexMatch) object() any {
	o := newObject(5)
	o.set("match", m.match)
	o.set("start", float64(m.start))
	o.set("end", float64(m.end))
	o.set("groups", m.groups)
	cur := m
	o.set("next", &nativeFn{arity: 0, fn: func(e *evaluator, args []any) (any, error) {
		n, err := cur.next(0)
		if err != nil {
			return nil, err
		}
		if n == nil {
			return undefined, nil
		}
		return n.object(), nil
	}})
	return o
}
