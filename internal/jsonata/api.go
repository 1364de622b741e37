package jsonata

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// IsExpression recognises a JSONata string of a JSONata-mode field: the whole
// string is "{%" expression "%}" (no text outside the delimiters). It returns
// the expression between them, trimmed.
func IsExpression(s string) (expr string, ok bool) {
	if len(s) < 4 || !strings.HasPrefix(s, "{%") || !strings.HasSuffix(s, "%}") {
		return "", false
	}
	return strings.TrimSpace(s[2 : len(s)-2]), true
}

// Expr is a compiled JSONata expression. It is safe for concurrent use.
type Expr struct {
	src  string
	root *node
}

// Compile parses a JSONata expression (without the {% %} delimiters). A syntax
// error is an *Error whose Text says what is wrong and Position where.
func Compile(expr string) (*Expr, error) {
	root, err := parse(expr)
	if err != nil {
		return nil, err
	}
	return &Expr{src: expr, root: root}, nil
}

// Source is the expression text.
func (x *Expr) Source() string { return x.src }

// Limits bound one evaluation.
type Limits struct {
	MaxDepth int           // nesting of evaluation levels (AWS allows 100)
	Timeout  time.Duration // wall-clock time
}

// DefaultLimits are AWS's bounds.
var DefaultLimits = Limits{MaxDepth: maxDepth, Timeout: defaultTimeout}

// Eval evaluates the expression. input is the context value ($); bindings
// holds the variables by name without '$' ("states" for $states, and the
// workflow variables). Values are encoding/json UseNumber values in both
// directions. defined is false when the expression returned nothing. An
// evaluation failure is an *Error.
func (x *Expr) Eval(input any, bindings map[string]any) (value any, defined bool, err error) {
	return x.EvalLimits(input, bindings, DefaultLimits)
}

// EvalLimits is Eval with explicit limits.
func (x *Expr) EvalLimits(input any, bindings map[string]any, limits Limits) (value any, defined bool, err error) {
	v, err := x.evalRaw(input, bindings, limits)
	if err != nil {
		return nil, false, err
	}
	out, ok := outValue(v)
	return out, ok, nil
}

func (x *Expr) evalRaw(input any, bindings map[string]any, limits Limits) (result any, err error) {
	if limits.MaxDepth <= 0 {
		limits.MaxDepth = maxDepth
	}
	if limits.Timeout <= 0 {
		limits.Timeout = defaultTimeout
	}
	now := time.Now()
	e := &evaluator{now: now, deadline: now.Add(limits.Timeout), limits: limits}
	env := &frame{root: bindings}
	env.bind("$", input)
	if a, ok := input.([]any); ok {
		input = &seq{items: []any{a}, sequence: true, outerWrapper: true}
	}
	return e.eval(x.root, input, env)
}

// StatesError names an evaluation failure as Step Functions does.
func (e *Error) StatesError() (name, cause string) {
	return QueryEvaluationError, e.Error()
}

// QueryEvaluationError is the Step Functions error name of every failure of
// this package.
const QueryEvaluationError = "States.QueryEvaluationError"

// QueryError is a States.QueryEvaluationError for a field of a state. Cause is
// the detail text as AWS words it (without the state prefix the interpreter
// adds).
type QueryError struct {
	Field string
	Expr  string
	Cause string
	Err   error // the underlying evaluation error, when the expression threw
}

func (e *QueryError) Error() string { return QueryEvaluationError + ": " + e.Cause }

// StatesError implements the engine's error contract.
func (e *QueryError) StatesError() (name, cause string) { return QueryEvaluationError, e.Cause }

func (e *QueryError) Unwrap() error { return e.Err }

// UndefinedError is AWS's failure for an expression that returned nothing.
func UndefinedError(field, expr string) *QueryError {
	return &QueryError{Field: field, Expr: expr,
		Cause: fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' returned nothing (undefined).", expr, field)}
}

// EvaluationError is AWS's failure for an expression that threw an error.
func EvaluationError(field, expr string, err error) *QueryError {
	var tail string
	if je, ok := err.(*Error); ok && !strings.HasPrefix(je.Code, "U") {
		tail = ". " + je.Error()
	} else if je, ok := err.(*Error); ok {
		tail = ": " + je.Text()
	} else {
		tail = ": " + err.Error()
	}
	return &QueryError{Field: field, Expr: expr, Err: err,
		Cause: fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' threw an error during evaluation%s", expr, field, tail)}
}

// TypeError is AWS's failure for a result of the wrong type, for example an
// Items expression that did not return an array. expected is a TypeName.
func TypeError(field, expr, expected string, value any) *QueryError {
	return &QueryError{Field: field, Expr: expr,
		Cause: fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' returned an unexpected result type. Expected '%s', but was '%s' for value: %s",
			expr, field, expected, TypeName(value), JSONText(value))}
}

// TypeName is the JSON type of a boundary value as AWS names it: "array",
// "object", "string", "number", "boolean" or "null".
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	if isNumber(v) {
		return "number"
	}
	return "object"
}

// JSONText is the compact JSON text of a boundary value, numbers as their text.
func JSONText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return jsonText(v, 0, false)
	}
	return string(b)
}

// EvalField evaluates the expression for a field of a state: a failure or an
// undefined result is a *QueryError naming the field.
func (x *Expr) EvalField(field string, input any, bindings map[string]any) (any, error) {
	v, ok, err := x.Eval(input, bindings)
	if err != nil {
		return nil, EvaluationError(field, x.src, err)
	}
	if !ok {
		return nil, UndefinedError(field, x.src)
	}
	return v, nil
}

// Template is a compiled JSONata-mode field value: an object, array or string
// in which every "{% %}" string is an expression and everything else is kept.
type Template struct {
	field string
	root  tmplNode
}

type tmplNode struct {
	field string
	expr  *Expr
	keys  []string
	elems []tmplNode
	obj   bool
	arr   bool
	value any
}

// CompileTemplate compiles the value of field (Arguments, Output, Assign,
// Items, ...). A syntax error names the field path where it is.
func CompileTemplate(field string, tmpl any) (*Template, error) {
	root, err := compileTmpl(field, tmpl)
	if err != nil {
		return nil, err
	}
	return &Template{field: field, root: root}, nil
}

func compileTmpl(field string, v any) (tmplNode, error) {
	switch x := v.(type) {
	case string:
		if src, ok := IsExpression(x); ok {
			e, err := Compile(src)
			if err != nil {
				return tmplNode{}, fmt.Errorf("%s: %w", field, err)
			}
			return tmplNode{field: field, expr: e}, nil
		}
	case map[string]any:
		n := tmplNode{field: field, obj: true}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			child, err := compileTmpl(field+"/"+k, x[k])
			if err != nil {
				return tmplNode{}, err
			}
			n.keys = append(n.keys, k)
			n.elems = append(n.elems, child)
		}
		return n, nil
	case []any:
		n := tmplNode{field: field, arr: true}
		for i, it := range x {
			child, err := compileTmpl(fmt.Sprintf("%s[%d]", field, i), it)
			if err != nil {
				return tmplNode{}, err
			}
			n.elems = append(n.elems, child)
		}
		return n, nil
	}
	return tmplNode{field: field, value: v}, nil
}

// Field is the field the template was compiled for.
func (t *Template) Field() string { return t.field }

// IsConstant reports whether the template holds no expression.
func (t *Template) IsConstant() bool { return t.root.constant() }

func (n *tmplNode) constant() bool {
	if n.expr != nil {
		return false
	}
	for i := range n.elems {
		if !n.elems[i].constant() {
			return false
		}
	}
	return true
}

// Eval evaluates the template: expressions are evaluated with input as $ and
// the bindings as variables, objects and arrays are rebuilt, other values
// kept. Errors are *QueryError with AWS's cause text.
func (t *Template) Eval(input any, bindings map[string]any) (any, error) {
	return t.root.eval(input, bindings)
}

func (n *tmplNode) eval(input any, bindings map[string]any) (any, error) {
	switch {
	case n.expr != nil:
		return n.expr.EvalField(n.field, input, bindings)
	case n.obj:
		out := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			v, err := n.elems[i].eval(input, bindings)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case n.arr:
		out := make([]any, len(n.elems))
		for i := range n.elems {
			v, err := n.elems[i].eval(input, bindings)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return n.value, nil
}
