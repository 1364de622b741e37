package cfn

import (
	"bytes"

	"github.com/sluice-ci/sluice/internal/pipeline/tree"
)

// condValue is a condition's value: true, false, or not known statically.
type condValue int

const (
	condUnknown condValue = iota
	condFalse
	condTrue
)

func boolCond(b bool) condValue {
	if b {
		return condTrue
	}
	return condFalse
}

// Condition evaluates the template condition name. known is false when the
// condition depends on a value only a deployed stack has.
func (t *Template) Condition(name string) (value, known bool, err error) {
	c, err := t.cond(name)
	return c == condTrue, c != condUnknown, err
}

func (t *Template) cond(name string) (condValue, error) {
	if c, ok := t.condCache[name]; ok {
		return c, nil
	}
	expr, ok := t.conditions[name]
	if !ok {
		names := make([]string, 0, len(t.conditions))
		for n := range t.conditions {
			names = append(names, n)
		}
		return condUnknown, unknownRef(name, names, "condition %s is not in the template's Conditions", name)
	}
	if t.evaluating[name] {
		return condUnknown, errorf(Invalid, "condition %s depends on itself", name)
	}
	t.evaluating[name] = true
	defer delete(t.evaluating, name)
	c, err := t.condExpr(expr)
	if err != nil {
		return condUnknown, err
	}
	t.condCache[name] = c
	return c, nil
}

func (t *Template) condExpr(v any) (condValue, error) {
	obj, ok := v.(*tree.Object)
	if !ok || len(obj.Members) != 1 {
		return condUnknown, errorf(Invalid, "a condition is Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition, not %s", tree.Kind(v))
	}
	fn, arg := obj.Members[0].Key, obj.Members[0].Value
	switch fn {
	case "Condition":
		name, ok := arg.(string)
		if !ok {
			return condUnknown, errorf(Invalid, "Condition takes a condition name")
		}
		return t.cond(name)
	case "Fn::Equals":
		a, err := args(arg, fn, 2)
		if err != nil {
			return condUnknown, err
		}
		return t.equals(a[0], a[1])
	case "Fn::Not":
		a, err := args(arg, fn, 1)
		if err != nil {
			return condUnknown, err
		}
		c, err := t.condExpr(a[0])
		if err != nil || c == condUnknown {
			return condUnknown, err
		}
		return boolCond(c == condFalse), nil
	case "Fn::And", "Fn::Or":
		list, ok := arg.([]any)
		if !ok || len(list) < 2 || len(list) > 10 {
			return condUnknown, errorf(Invalid, "%s takes a list of 2 to 10 conditions", fn)
		}
		// And is decided by a false, Or by a true, even among unknowns.
		decisive := boolCond(fn == "Fn::Or")
		result := boolCond(fn == "Fn::And")
		for _, e := range list {
			c, err := t.condExpr(e)
			if err != nil {
				return condUnknown, err
			}
			if c == decisive {
				return decisive, nil
			}
			if c == condUnknown {
				result = condUnknown
			}
		}
		return result, nil
	}
	return condUnknown, errorf(Invalid, "%s is not a condition function", fn)
}

func (t *Template) equals(a, b any) (condValue, error) {
	va, err := t.Full(a)
	if err != nil {
		return condUnknown, err
	}
	vb, err := t.Full(b)
	if err != nil {
		return condUnknown, err
	}
	if isUnknown(va) || isUnknown(vb) {
		return condUnknown, nil
	}
	sa, okA := scalar(va)
	sb, okB := scalar(vb)
	if okA && okB {
		return boolCond(sa == sb), nil
	}
	ja, errA := tree.MarshalJSON(va)
	jb, errB := tree.MarshalJSON(vb)
	return boolCond(errA == nil && errB == nil && bytes.Equal(ja, jb)), nil
}

func (t *Template) fnIf(arg any) (any, error) {
	a, err := args(arg, "Fn::If", 3)
	if err != nil {
		return nil, err
	}
	name, ok := a[0].(string)
	if !ok {
		return nil, errorf(Invalid, "Fn::If: the first argument must be a condition name")
	}
	c, err := t.cond(name)
	if err != nil {
		return nil, err
	}
	switch c {
	case condTrue:
		return a[1], nil
	case condFalse:
		return a[2], nil
	}
	return unknown("!If ["+name+", …]", "condition "+name+" depends on values known only once the stack is deployed"), nil
}
