package states

import (
	"fmt"

	"github.com/sluice-ci/sluice/internal/choice"
	"github.com/sluice-ci/sluice/internal/intrinsic"
	"github.com/sluice-ci/sluice/internal/jsonata"
	"github.com/sluice-ci/sluice/internal/jsonpath"
	"github.com/sluice-ci/sluice/internal/payload"
)

// evalEnv is what an expression of a state sees: the input ($ or
// $states.input), the context object, the variables, and in JSONata mode
// the task result and the error output.
type evalEnv struct {
	input       any
	context     func() any
	vars        *varScope
	result      any
	hasResult   bool
	errorOutput any
	hasError    bool
}

func (e *evalEnv) pathEnv() jsonpath.Env {
	env := jsonpath.Env{Input: e.input}
	if e.context != nil {
		env.Context = e.context()
	}
	if e.vars != nil {
		env.Vars = e.vars.lookup
	}
	return env
}

// bindings returns the JSONata bindings: $states and every visible variable.
func (e *evalEnv) bindings() map[string]any {
	st := map[string]any{"input": e.input}
	if e.context != nil {
		st["context"] = e.context()
	}
	if e.hasResult {
		st["result"] = e.result
	}
	if e.hasError {
		st["errorOutput"] = e.errorOutput
	}
	b := map[string]any{}
	if e.vars != nil {
		e.vars.each(func(name string, v any) { b[name] = v })
	}
	b["states"] = st
	return b
}

// template is a compiled payload template or JSONata-mode value.
type template interface {
	eval(e *evalEnv) (any, error)
}

// expr is a compiled single value: a literal, a path or an expression.
type expr interface {
	eval(e *evalEnv) (any, error)
}

// condition is a compiled Choice rule.
type condition interface {
	eval(e *evalEnv) (bool, error)
}

type literal struct{ v any }

func (l literal) eval(*evalEnv) (any, error) { return l.v, nil }

// pathExpr reads a JSONPath; field names it in "could not be found" causes.
type pathExpr struct {
	field string
	path  *jsonpath.Path
}

func (p pathExpr) eval(e *evalEnv) (any, error) {
	env := e.pathEnv()
	v, err := p.path.Get(env)
	if err != nil {
		if _, ok := err.(*jsonpath.NotFoundError); ok {
			return nil, jsonpath.FieldNotFound(p.field, p.path.String(), env.Input)
		}
		return nil, err
	}
	return v, nil
}

// payloadTemplate is a JSONPath-mode payload template.
type payloadTemplate struct{ t *payload.Template }

func (p payloadTemplate) eval(e *evalEnv) (any, error) { return p.t.Eval(e.pathEnv()) }

// intrinsicExpr is an intrinsic function call (ErrorPath, CausePath).
type intrinsicExpr struct{ c *intrinsic.Call }

func (i intrinsicExpr) eval(e *evalEnv) (any, error) { return i.c.Eval(e.pathEnv()) }

// choiceRule is a JSONPath-mode Choice rule.
type choiceRule struct{ r *choice.Rule }

func (c choiceRule) eval(e *evalEnv) (bool, error) { return c.r.Eval(e.pathEnv()) }

func compileTemplate(field string, v any, isJSONata bool) (template, error) {
	if isJSONata {
		t, err := jsonata.CompileTemplate(field, v)
		if err != nil {
			return nil, err
		}
		return jsonataTemplate{t}, nil
	}
	t, err := payload.Compile(v)
	if err != nil {
		return nil, err
	}
	return payloadTemplate{t}, nil
}

func compileValue(field string, v any, isJSONata bool) (expr, error) {
	if s, ok := v.(string); ok && isJSONata {
		if src, ok := jsonata.IsExpression(s); ok {
			x, err := jsonata.Compile(src)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", field, err)
			}
			return jsonataExpr{field: field, x: x}, nil
		}
	}
	return literal{v}, nil
}

func compilePathValue(field string, v any) (expr, error) {
	s, _ := v.(string)
	if intrinsic.IsIntrinsic(s) {
		c, err := intrinsic.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		return intrinsicExpr{c}, nil
	}
	path, err := jsonpath.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return pathExpr{field: field, path: path}, nil
}

func compileChoiceRule(rule map[string]any) (condition, error) {
	r, err := choice.Parse(rule)
	if err != nil {
		return nil, err
	}
	return choiceRule{r}, nil
}

func compileCondition(v any) (condition, error) {
	if b, ok := v.(bool); ok {
		return constCondition(b), nil
	}
	s, _ := v.(string)
	src, ok := jsonata.IsExpression(s)
	if !ok {
		return nil, fmt.Errorf("the condition %q is not a JSONata expression", s)
	}
	x, err := jsonata.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("condition: %w", err)
	}
	return jsonataCondition{jsonataExpr{field: "Condition", x: x}}, nil
}

// jsonataTemplate is a JSONata-mode field value.
type jsonataTemplate struct{ t *jsonata.Template }

func (j jsonataTemplate) eval(e *evalEnv) (any, error) { return j.t.Eval(e.input, e.bindings()) }

// jsonataExpr is a JSONata expression that must return a value.
type jsonataExpr struct {
	field string
	x     *jsonata.Expr
}

func (j jsonataExpr) eval(e *evalEnv) (any, error) {
	return j.x.EvalField(j.field, e.input, e.bindings())
}

// jsonataCondition is the Condition of a JSONata-mode choice rule.
type jsonataCondition struct{ jsonataExpr }

func (j jsonataCondition) eval(e *evalEnv) (bool, error) {
	v, err := j.jsonataExpr.eval(e)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, jsonata.TypeError(j.field, j.x.Source(), "boolean", v)
	}
	return b, nil
}

type constCondition bool

func (c constCondition) eval(*evalEnv) (bool, error) { return bool(c), nil }
