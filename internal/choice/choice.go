// Package choice owns the Choice rules of JSONPath-mode States Language: a
// Variable with one comparison operator (String*, Numeric*, Boolean*,
// Timestamp*, their *Path forms, StringMatches and the Is* tests), or And, Or
// and Not over nested rules. A rule is parsed and validated once and then
// evaluated many times without allocating.
//
// Comparisons follow what AWS records: a value of the wrong type makes a
// comparison false rather than an error (NumericEquals against "1" is
// false), numbers compare exactly by value (1 == 1.0, integers beyond 2^53
// included), strings compare as Java does (by UTF-16 code unit), timestamps
// compare as instants, and a Variable that selects nothing is an error
// except for IsPresent.
package choice

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sluice-ci/sluice/internal/jsonpath"
)

// Rule is a parsed Choice rule. It is safe for concurrent use.
type Rule struct {
	root cond
}

type condKind uint8

const (
	condAnd condKind = iota
	condOr
	condNot
	condCompare
)

type cond struct {
	kind     condKind
	subs     []cond
	variable *jsonpath.Path
	op       *operator
	other    *jsonpath.Path // the *Path variants
	str      string
	num      json.Number
	boolean  bool
	instant  time.Time
	glob     []string // StringMatches: literal pieces between '*'
}

// Parse parses and validates a rule. The caller removes the top-level Next,
// Assign, Output and Comment fields. Errors name the field inside the rule,
// for example "And[1].NumericEquals: must be a number, not \"1\"".
func Parse(rule map[string]any) (*Rule, error) {
	c, err := parse(rule, "")
	if err != nil {
		return nil, err
	}
	return &Rule{root: c}, nil
}

func at(loc, field string) string {
	if loc == "" {
		return field
	}
	return loc + "." + field
}

func parse(rule map[string]any, loc string) (cond, error) {
	var logical []string
	var comparators []string
	for k := range rule {
		switch {
		case k == "And" || k == "Or" || k == "Not":
			logical = append(logical, k)
		case operators[k] != nil:
			comparators = append(comparators, k)
		case k == "Variable" || k == "Comment":
		default:
			return cond{}, fmt.Errorf("%s: unknown field in a Choice rule", at(loc, k))
		}
	}
	sort.Strings(logical)
	sort.Strings(comparators)
	_, hasVariable := rule["Variable"]
	switch {
	case len(logical) > 1:
		return cond{}, fmt.Errorf("%s: a rule holds one of And, Or and Not, found %s", where(loc), strings.Join(logical, " and "))
	case len(logical) == 1:
		if hasVariable || len(comparators) > 0 {
			return cond{}, fmt.Errorf("%s: %s cannot be combined with Variable or a comparison operator", where(loc), logical[0])
		}
		return parseLogical(logical[0], rule[logical[0]], at(loc, logical[0]))
	}
	if !hasVariable {
		return cond{}, fmt.Errorf("%s: a rule needs a Variable and a comparison operator, or And, Or or Not", where(loc))
	}
	switch len(comparators) {
	case 0:
		return cond{}, fmt.Errorf("%s: a rule with a Variable needs one comparison operator", where(loc))
	case 1:
	default:
		return cond{}, fmt.Errorf("%s: a rule takes one comparison operator, found %s", where(loc), strings.Join(comparators, " and "))
	}
	text, ok := rule["Variable"].(string)
	if !ok {
		return cond{}, fmt.Errorf("%s: must be a JSONPath string", at(loc, "Variable"))
	}
	variable, err := jsonpath.Compile(text)
	if err != nil {
		return cond{}, fmt.Errorf("%s: %w", at(loc, "Variable"), err)
	}
	name := comparators[0]
	op := operators[name]
	c := cond{kind: condCompare, variable: variable, op: op}
	if err := c.setOperand(op, rule[name]); err != nil {
		return cond{}, fmt.Errorf("%s: %w", at(loc, name), err)
	}
	return c, nil
}

func where(loc string) string {
	if loc == "" {
		return "rule"
	}
	return loc
}

func parseLogical(name string, v any, loc string) (cond, error) {
	if name == "Not" {
		sub, ok := v.(map[string]any)
		if !ok {
			return cond{}, fmt.Errorf("%s: must be a rule object", loc)
		}
		c, err := parse(sub, loc)
		if err != nil {
			return cond{}, err
		}
		return cond{kind: condNot, subs: []cond{c}}, nil
	}
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return cond{}, fmt.Errorf("%s: must be a non-empty array of rules", loc)
	}
	kind := condAnd
	if name == "Or" {
		kind = condOr
	}
	c := cond{kind: kind, subs: make([]cond, len(list))}
	for i, e := range list {
		sub, ok := e.(map[string]any)
		elem := fmt.Sprintf("%s[%d]", loc, i)
		if !ok {
			return cond{}, fmt.Errorf("%s: must be a rule object", elem)
		}
		s, err := parse(sub, elem)
		if err != nil {
			return cond{}, err
		}
		c.subs[i] = s
	}
	return c, nil
}

func (c *cond) setOperand(op *operator, v any) error {
	if op.path {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("must be a JSONPath string, not %s", jsonpath.Text(v))
		}
		p, err := jsonpath.Compile(s)
		if err != nil {
			return err
		}
		c.other = p
		return nil
	}
	switch op.typ {
	case typeString:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("must be a string, not %s", jsonpath.Text(v))
		}
		c.str = s
		if op.cmp == cmpMatch {
			g, err := parseGlob(s)
			if err != nil {
				return err
			}
			c.glob = g
		}
	case typeNumber:
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("must be a number, not %s", jsonpath.Text(v))
		}
		c.num = n
	case typeBoolean, typeTest:
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("must be true or false, not %s", jsonpath.Text(v))
		}
		c.boolean = b
	case typeTimestamp:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("must be a timestamp string, not %s", jsonpath.Text(v))
		}
		t, ok := ParseTimestamp(s)
		if !ok {
			return fmt.Errorf("%q is not an RFC 3339 timestamp such as 2016-03-14T01:59:00Z", s)
		}
		c.instant = t
	}
	return nil
}

// Eval evaluates the rule. A Variable or *Path operand that selects nothing
// fails with States.Runtime, as AWS reports it:
// "Invalid path '$.x': The choice state's condition path references an invalid value."
func (r *Rule) Eval(env jsonpath.Env) (bool, error) {
	return r.root.eval(env)
}

func (c *cond) eval(env jsonpath.Env) (bool, error) {
	switch c.kind {
	case condAnd:
		for i := range c.subs {
			ok, err := c.subs[i].eval(env)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case condOr:
		for i := range c.subs {
			ok, err := c.subs[i].eval(env)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case condNot:
		ok, err := c.subs[0].eval(env)
		return !ok && err == nil, err
	}
	v, found, err := resolve(c.variable, env)
	if err != nil {
		return false, err
	}
	if c.op.cmp == cmpPresent {
		return found == c.boolean, nil
	}
	if !found {
		return false, invalidPath(c.variable)
	}
	if c.other != nil {
		w, found, err := resolve(c.other, env)
		if err != nil {
			return false, err
		}
		if !found {
			return false, invalidPath(c.other)
		}
		return c.op.compareValues(v, w), nil
	}
	return c.compareLiteral(v), nil
}

// resolve evaluates a path; found is false when it selects nothing.
func resolve(p *jsonpath.Path, env jsonpath.Env) (v any, found bool, err error) {
	v, err = p.Get(env)
	if err != nil {
		var nf *jsonpath.NotFoundError
		if errors.As(err, &nf) {
			return nil, false, nil
		}
		return nil, false, err
	}
	if !p.IsDefinite() {
		if l, ok := v.([]any); ok && len(l) == 0 {
			return v, false, nil
		}
	}
	return v, true, nil
}

func invalidPath(p *jsonpath.Path) error {
	return &jsonpath.Failure{Name: jsonpath.ErrRuntime, Cause: "Invalid path '" + p.String() + "': The choice state's condition path references an invalid value."}
}
