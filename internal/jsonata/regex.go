package jsonata

import (
	"sync"
	"time"

	"github.com/dlclark/regexp2/v2"
)

// regexMatchTimeout bounds one regular expression match, so that a
// catastrophically backtracking pattern fails instead of hanging. A match
// never runs past the evaluation's own deadline either.
const regexMatchTimeout = time.Second

// regexClockPeriod is how often regexp2's clock of match deadlines ticks;
// a match may overrun its time limit by up to one period, so the limit
// given to regexp2 is the time left less one period. regexp2 ticks every
// 100 ms by default; this package is its only user in the program.
const regexClockPeriod = 10 * time.Millisecond

func init() { regexp2.SetTimeoutCheckPeriod(regexClockPeriod) }

// regexValue is a compiled /pattern/flags literal. JSONata regular expressions
// are JavaScript's, so they are compiled with regexp2's ECMAScript mode (Go's
// regexp lacks lookaround and backreferences).
//
// regexp2 takes a match's time limit from a field of the compiled Regexp,
// and concurrent evaluations of one expression each have their own
// deadline, so each match borrows a compiled copy of its own from a pool
// and sets the limit there.
type regexValue struct {
	source string
	opts   regexp2.RegexOptions
	copies sync.Pool // of *regexp2.Regexp
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
	rv := &regexValue{source: lit.pattern, opts: regexp2.RegexOptions(opts)}
	rv.copies.Put(re)
	return rv, nil
}

// borrow returns a compiled copy of the pattern for one match.
func (r *regexValue) borrow() *regexp2.Regexp {
	if re, ok := r.copies.Get().(*regexp2.Regexp); ok {
		return re
	}
	// The pattern compiled once already, so it compiles again.
	re, _ := regexp2.Compile(r.source, r.opts)
	return re
}

// regexMatch is one match: start and end are character (code point) offsets.
type regexMatch struct {
	match  string
	start  int
	end    int
	groups []any
	rv     *regexValue
	runes  []rune
	e      *evaluator
}

// match finds the first match at or after character offset from.
func (r *regexValue) match(e *evaluator, s string, from int) (*regexMatch, error) {
	return r.matchRunes(e, []rune(s), from)
}

// matchRunes finds the first match at or after character offset from,
// within the regular expression time limit and the evaluation's deadline.
func (r *regexValue) matchRunes(e *evaluator, runes []rune, from int) (*regexMatch, error) {
	if from > len(runes) {
		return nil, nil
	}
	limit, timeout := regexMatchTimeout, "the regular expression match time limit"
	if left := time.Until(e.deadline) - regexClockPeriod; left < limit {
		limit, timeout = left, e.limits.Timeout.String()
	}
	if limit <= 0 {
		return nil, &Error{Code: "U1002", Value: timeout}
	}
	re := r.borrow()
	re.MatchTimeout = limit
	m, err := re.FindRunesMatchStartingAt(runes, from)
	if err != nil {
		r.copies.Put(re)
		return nil, &Error{Code: "U1002", Value: timeout}
	}
	if m == nil {
		r.copies.Put(re)
		return nil, nil
	}
	out := &regexMatch{match: m.String(), start: m.RuneIndex, end: m.RuneIndex + m.RuneLength, rv: r, runes: runes, e: e}
	groups := m.Groups()
	for _, g := range groups[1:] {
		if len(g.Captures) == 0 {
			out.groups = append(out.groups, undefined)
		} else {
			out.groups = append(out.groups, g.String())
		}
	}
	r.copies.Put(re)
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
	n, err := m.rv.matchRunes(m.e, m.runes, m.end)
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
