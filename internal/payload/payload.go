// Package payload owns the payload templates of JSONPath-mode states:
// Parameters, ResultSelector, ItemSelector and JSONPath-mode Assign. A
// template is an object whose keys ending in ".$" hold a path ($.x, $$.x,
// $var.x) or an intrinsic function call, evaluated against the state's
// input; every other value is copied as it is, and nested objects and arrays
// are walked. A template compiles once and evaluates many times; parts with
// nothing to evaluate are shared by every result rather than rebuilt.
package payload

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sluice-ci/sluice/internal/intrinsic"
	"github.com/sluice-ci/sluice/internal/jsonpath"
)

// Template is a compiled payload template. It is safe for concurrent use.
type Template struct {
	root node
}

type nodeKind uint8

const (
	nodeStatic nodeKind = iota
	nodeObject
	nodeArray
	nodePath
	nodeCall
)

type node struct {
	kind   nodeKind
	value  any // nodeStatic
	fields []field
	items  []node
	path   *jsonpath.Path
	call   *intrinsic.Call
	key    string // the ".$" key a path or call came from
}

type field struct {
	name string // output key, without ".$"
	node node
}

// Compile validates and compiles a template. Errors name the field,
// for example `field "a.b.$": invalid JSONPath "$.": ...`; the caller
// prefixes the state and the template's own field name.
func Compile(tmpl any) (*Template, error) {
	n, err := compile(tmpl, "")
	if err != nil {
		return nil, err
	}
	return &Template{root: n}, nil
}

// MustCompile is Compile for templates known at build time; it panics on
// error.
func MustCompile(tmpl any) *Template {
	t, err := Compile(tmpl)
	if err != nil {
		panic(err)
	}
	return t
}

// IsStatic reports whether the template has nothing to evaluate, so that
// Eval always returns the template itself.
func (t *Template) IsStatic() bool { return t.root.kind == nodeStatic }

func join(loc, key string) string {
	if loc == "" {
		return key
	}
	return loc + "." + key
}

func compile(v any, loc string) (node, error) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		n := node{kind: nodeObject, fields: make([]field, 0, len(t))}
		seen := make(map[string]string, len(t))
		dynamic := false
		for _, k := range keys {
			name := k
			var child node
			var err error
			if strings.HasSuffix(k, ".$") {
				name = strings.TrimSuffix(k, ".$")
				child, err = compileExpr(t[k], k, join(loc, k))
			} else {
				child, err = compile(t[k], join(loc, k))
			}
			if err != nil {
				return node{}, err
			}
			if other, dup := seen[name]; dup {
				return node{}, fmt.Errorf("field %q: fields %q and %q both produce the key %q", join(loc, k), other, k, name)
			}
			seen[name] = k
			dynamic = dynamic || child.kind != nodeStatic
			n.fields = append(n.fields, field{name: name, node: child})
		}
		if !dynamic {
			return node{kind: nodeStatic, value: t}, nil
		}
		return n, nil
	case []any:
		n := node{kind: nodeArray, items: make([]node, len(t))}
		dynamic := false
		for i, e := range t {
			child, err := compile(e, loc+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return node{}, err
			}
			dynamic = dynamic || child.kind != nodeStatic
			n.items[i] = child
		}
		if !dynamic {
			return node{kind: nodeStatic, value: t}, nil
		}
		return n, nil
	}
	return node{kind: nodeStatic, value: v}, nil
}

// compileExpr compiles the value of a ".$" key.
func compileExpr(v any, key, loc string) (node, error) {
	s, ok := v.(string)
	if !ok {
		return node{}, fmt.Errorf("field %q: the value for the field '%s' must be a valid JSONPath or a valid intrinsic function call, not %s", loc, key, jsonpath.Text(v))
	}
	switch {
	case strings.HasPrefix(s, "$"):
		p, err := jsonpath.Compile(s)
		if err != nil {
			return node{}, fmt.Errorf("field %q: %w", loc, err)
		}
		return node{kind: nodePath, path: p, key: key}, nil
	case intrinsic.IsIntrinsic(s):
		c, err := intrinsic.Parse(s)
		if err != nil {
			return node{}, fmt.Errorf("field %q: %w", loc, err)
		}
		return node{kind: nodeCall, call: c, key: key}, nil
	}
	return node{}, fmt.Errorf("field %q: the value for the field '%s' must be a valid JSONPath or a valid intrinsic function call, not %q", loc, key, s)
}

// Eval builds the payload for one evaluation. A path that selects nothing
// fails with States.Runtime and AWS's cause
// "The JSONPath '$.x' specified for the field 'x.$' could not be found in the input '...'";
// intrinsic failures pass through as they are.
func (t *Template) Eval(env jsonpath.Env) (any, error) {
	return t.root.eval(env)
}

func (n *node) eval(env jsonpath.Env) (any, error) {
	switch n.kind {
	case nodeObject:
		out := make(map[string]any, len(n.fields))
		for i := range n.fields {
			f := &n.fields[i]
			v, err := f.node.eval(env)
			if err != nil {
				return nil, err
			}
			out[f.name] = v
		}
		return out, nil
	case nodeArray:
		out := make([]any, len(n.items))
		for i := range n.items {
			v, err := n.items[i].eval(env)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case nodePath:
		v, err := n.path.Get(env)
		if err != nil {
			return nil, n.fail(err, env)
		}
		return v, nil
	case nodeCall:
		v, err := n.call.Eval(env)
		if err != nil {
			return nil, n.fail(err, env)
		}
		return v, nil
	}
	return n.value, nil
}

// fail turns a path that selected nothing into AWS's States.Runtime cause
// for the field.
func (n *node) fail(err error, env jsonpath.Env) error {
	var nf *jsonpath.NotFoundError
	if errors.As(err, &nf) {
		return jsonpath.FieldNotFound(n.key, nf.Path, env.Input)
	}
	return err
}
