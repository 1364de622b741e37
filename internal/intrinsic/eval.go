package intrinsic

import (
	"github.com/sluice-ci/sluice/internal/jsonpath"
)

// Eval evaluates the call. Arguments are evaluated left to right first. A
// path argument that selects nothing returns the path's
// *jsonpath.NotFoundError (the caller names the field in its States.Runtime
// cause); an argument AWS rejects returns a *jsonpath.Failure with
// States.Runtime and "Invalid arguments in States.<Name>".
func (c *Call) Eval(env jsonpath.Env) (any, error) {
	var buf [4]any
	args := buf[:0]
	if len(c.args) > len(buf) {
		args = make([]any, 0, len(c.args))
	}
	for i := range c.args {
		v, err := c.args[i].eval(env)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	if len(args) < c.fn.min || (c.fn.max >= 0 && len(args) > c.fn.max) {
		return nil, c.fn.invalid()
	}
	return c.fn.eval(c, args)
}

func (a *arg) eval(env jsonpath.Env) (any, error) {
	switch a.kind {
	case argPath:
		return a.path.Get(env)
	case argCall:
		return a.call.Eval(env)
	}
	return a.value, nil
}
