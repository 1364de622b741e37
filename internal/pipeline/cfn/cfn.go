// Package cfn evaluates CloudFormation intrinsic functions statically, so
// that a template's pipeline can be checked before the stack exists.
//
// Parameters take the values given by the caller or their Default;
// pseudo parameters (AWS::Region, AWS::AccountId, …) take the caller's
// values or documented stand-ins. Fn::Sub, Fn::Join, Fn::Select, Fn::Split,
// Fn::FindInMap, Fn::Base64, Fn::Length, Fn::ToJsonString and Fn::If are
// evaluated over what is known; conditions are evaluated when their
// parameters are known. What only a deployed stack knows (Fn::GetAtt,
// Fn::ImportValue, Fn::GetAZs, Fn::Cidr, a Ref to a resource) becomes a
// *tree.Unknown, and so does anything computed from one.
//
// No library evaluates CloudFormation intrinsics in Go (cfn-lint and the
// CloudFormation service do it in Python and Java), so this is written by
// hand over the generic tree of package tree.
package cfn

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sluice-ci/sluice/internal/pipeline/tree"
)

// PseudoDefaults are the values pseudo parameters take unless the caller
// gives others. AWS::StackId is made of them; AWS::NotificationARNs is an
// empty list.
var PseudoDefaults = map[string]string{
	"AWS::AccountId": "123456789012",
	"AWS::Region":    "us-east-1",
	"AWS::Partition": "aws",
	"AWS::URLSuffix": "amazonaws.com",
	"AWS::StackName": "stack",
}

// NoValue is what a Ref to AWS::NoValue evaluates to: the property or list
// entry holding it is removed.
var NoValue = &struct{ noValue bool }{true}

// Kind classifies an evaluation error.
type Kind int

// The kinds of evaluation error.
const (
	// MissingParameter: a parameter without a Default was given no value.
	MissingParameter Kind = iota + 1
	// UnknownReference: a Ref, Sub variable, condition or mapping names
	// nothing in the template.
	UnknownReference
	// Invalid: an intrinsic function written wrongly.
	Invalid
)

// Error is an evaluation error.
type Error struct {
	Kind    Kind
	Message string
	// Name and Candidates are set for UnknownReference: the name that was
	// not found and the names that exist, for a did-you-mean.
	Name       string
	Candidates []string
}

func (e *Error) Error() string { return e.Message }

func unknownRef(name string, candidates []string, format string, args ...any) error {
	return &Error{Kind: UnknownReference, Message: fmt.Sprintf(format, args...), Name: name, Candidates: candidates}
}

func errorf(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Parameter is a template parameter.
type Parameter struct {
	Name    string
	Type    string
	Default *string
	NoEcho  bool
}

// Template evaluates intrinsic functions against one template.
type Template struct {
	params     map[string]Parameter
	order      []string
	values     map[string]string
	resources  map[string]bool
	mappings   *tree.Object
	conditions map[string]any
	condCache  map[string]condValue
	evaluating map[string]bool
}

// New reads a template's Parameters, Mappings, Conditions and resource
// names. values gives parameter values by name, and may set pseudo
// parameters.
func New(root *tree.Object, values map[string]string) (*Template, error) {
	t := &Template{
		params:     map[string]Parameter{},
		values:     values,
		resources:  map[string]bool{},
		conditions: map[string]any{},
		condCache:  map[string]condValue{},
		evaluating: map[string]bool{},
	}
	if v, ok := root.Get("Parameters"); ok && v != nil {
		obj, isObj := v.(*tree.Object)
		if !isObj {
			return nil, fmt.Errorf("Parameters: want an object, got %s", tree.Kind(v))
		}
		for _, m := range obj.Members {
			p := Parameter{Name: m.Key}
			if def, isObj := m.Value.(*tree.Object); isObj {
				if typ, ok := def.Get("Type"); ok {
					p.Type, _ = typ.(string)
				}
				if d, ok := def.Get("Default"); ok {
					if s, ok := scalar(d); ok {
						p.Default = &s
					} else if list, ok := d.([]any); ok {
						s := joinScalars(list)
						p.Default = &s
					}
				}
				if ne, ok := def.Get("NoEcho"); ok {
					s, _ := scalar(ne)
					p.NoEcho = s == "true"
				}
			}
			t.params[m.Key] = p
			t.order = append(t.order, m.Key)
		}
	}
	if v, ok := root.Get("Mappings"); ok {
		t.mappings, _ = v.(*tree.Object)
	}
	if v, ok := root.Get("Conditions"); ok {
		if obj, isObj := v.(*tree.Object); isObj {
			for _, m := range obj.Members {
				t.conditions[m.Key] = m.Value
			}
		}
	}
	if v, ok := root.Get("Resources"); ok {
		if obj, isObj := v.(*tree.Object); isObj {
			for _, m := range obj.Members {
				t.resources[m.Key] = true
			}
		}
	}
	return t, nil
}

// Parameters lists the template's parameters in template order.
func (t *Template) Parameters() []Parameter {
	out := make([]Parameter, len(t.order))
	for i, name := range t.order {
		out[i] = t.params[name]
	}
	return out
}

// IsIntrinsic reports whether v is an intrinsic function call: an object
// with one member named Ref, Condition or Fn::….
func IsIntrinsic(v any) bool {
	obj, ok := v.(*tree.Object)
	if !ok || len(obj.Members) != 1 {
		return false
	}
	k := obj.Members[0].Key
	return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
}

// Eval evaluates one intrinsic function call. Fn::If returns the chosen
// branch as written, for the caller to walk; every other function returns
// a value free of intrinsics, a *tree.Unknown, or NoValue.
func (t *Template) Eval(v any) (any, error) {
	obj := v.(*tree.Object)
	name, arg := obj.Members[0].Key, obj.Members[0].Value
	switch name {
	case "Ref":
		return t.ref(arg)
	case "Fn::If":
		return t.fnIf(arg)
	case "Fn::Sub":
		return t.sub(arg)
	case "Fn::Join":
		return t.join(arg)
	case "Fn::Select":
		return t.selectFn(arg)
	case "Fn::Split":
		return t.split(arg)
	case "Fn::FindInMap":
		return t.findInMap(arg)
	case "Fn::Base64":
		s, err := t.str(arg, name)
		if err != nil || isUnknown(s) {
			return s, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s.(string))), nil
	case "Fn::Length":
		list, err := t.list(arg, name)
		if err != nil || isUnknown(list) {
			return list, err
		}
		return tree.Number(strconv.Itoa(len(list.([]any)))), nil
	case "Fn::ToJsonString":
		full, err := t.Full(arg)
		if err != nil || isUnknown(full) {
			return full, err
		}
		out, err := tree.MarshalJSON(full)
		if err != nil {
			return nil, errorf(Invalid, "Fn::ToJsonString: %v", err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, out); err != nil {
			return nil, errorf(Invalid, "Fn::ToJsonString: %v", err)
		}
		return compact.String(), nil
	case "Fn::GetAtt":
		return unknown("!GetAtt "+getAttText(arg), "a resource attribute is known only once the stack is deployed"), nil
	case "Fn::ImportValue":
		s, err := t.str(arg, name)
		if err != nil {
			return nil, err
		}
		text, _ := s.(string)
		if u, ok := s.(*tree.Unknown); ok {
			text = u.Expr
		}
		return unknown("!ImportValue "+text, "an export of another stack is known only once that stack is deployed"), nil
	case "Fn::GetAZs":
		return unknown("!GetAZs", "availability zones are known only in a deployed account"), nil
	case "Fn::Cidr":
		return unknown("!Cidr", "Fn::Cidr is not evaluated"), nil
	case "Condition":
		return nil, errorf(Invalid, "Condition names a condition only inside Conditions and Fn::If")
	}
	return nil, errorf(Invalid, "%s is not an intrinsic function Sluice evaluates", name)
}

// Full evaluates v and everything in it, returning a value free of
// intrinsics, or a *tree.Unknown when any part of it is unknown. NoValue
// members and entries are removed.
func (t *Template) Full(v any) (any, error) {
	for IsIntrinsic(v) {
		r, err := t.Eval(v)
		if err != nil {
			return nil, err
		}
		if isUnknown(r) || r == NoValue {
			return r, nil
		}
		v = r
	}
	switch x := v.(type) {
	case *tree.Object:
		out := &tree.Object{}
		for _, m := range x.Members {
			r, err := t.Full(m.Value)
			if err != nil || isUnknown(r) {
				return r, err
			}
			if r != NoValue {
				out.Members = append(out.Members, tree.Member{Key: m.Key, Value: r})
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			r, err := t.Full(e)
			if err != nil || isUnknown(r) {
				return r, err
			}
			if r != NoValue {
				out = append(out, r)
			}
		}
		return out, nil
	}
	return v, nil
}

func unknown(expr, reason string) *tree.Unknown {
	return &tree.Unknown{Expr: expr, Reason: reason}
}

func isUnknown(v any) bool {
	_, ok := v.(*tree.Unknown)
	return ok
}

func getAttText(arg any) string {
	switch a := arg.(type) {
	case string:
		return a
	case []any:
		parts := make([]string, len(a))
		for i, p := range a {
			parts[i], _ = scalar(p)
		}
		return strings.Join(parts, ".")
	}
	return ""
}

func (t *Template) ref(arg any) (any, error) {
	name, ok := arg.(string)
	if !ok {
		return nil, errorf(Invalid, "Ref takes a name, not %s", tree.Kind(arg))
	}
	return t.lookup(name, "Ref")
}

// lookup resolves a name as Ref and ${…} in Fn::Sub do.
func (t *Template) lookup(name, fn string) (any, error) {
	if name == "AWS::NoValue" {
		return NoValue, nil
	}
	if name == "AWS::NotificationARNs" {
		return []any{}, nil
	}
	if v, ok := t.values[name]; ok {
		if p, isParam := t.params[name]; isParam && isListType(p.Type) {
			return splitList(v), nil
		}
		return v, nil
	}
	if name == "AWS::StackId" {
		return "arn:" + t.pseudo("AWS::Partition") + ":cloudformation:" + t.pseudo("AWS::Region") + ":" +
			t.pseudo("AWS::AccountId") + ":stack/" + t.pseudo("AWS::StackName") + "/00000000-0000-0000-0000-000000000000", nil
	}
	if v, ok := PseudoDefaults[name]; ok {
		return v, nil
	}
	if p, ok := t.params[name]; ok {
		if p.Default == nil {
			return nil, errorf(MissingParameter, "parameter %s has no Default and no value; pass --param %s=VALUE", name, name)
		}
		if isListType(p.Type) {
			return splitList(*p.Default), nil
		}
		return *p.Default, nil
	}
	if t.resources[name] {
		return unknown("!Ref "+name, "the physical ID of resource "+name+" is known only once the stack is deployed"), nil
	}
	candidates := append(t.Names(), "AWS::AccountId", "AWS::Region", "AWS::StackName", "AWS::Partition")
	return nil, unknownRef(name, candidates, "%s %s names no parameter or resource of the template", fn, name)
}

func (t *Template) pseudo(name string) string {
	if v, ok := t.values[name]; ok {
		return v
	}
	return PseudoDefaults[name]
}

// Names lists the parameter and resource names, sorted.
func (t *Template) Names() []string {
	names := make([]string, 0, len(t.params)+len(t.resources))
	for n := range t.params {
		names = append(names, n)
	}
	for n := range t.resources {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func isListType(typ string) bool {
	return typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<")
}

func splitList(s string) []any {
	parts := strings.Split(s, ",")
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = strings.TrimSpace(p)
	}
	return out
}

func joinScalars(list []any) string {
	parts := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := scalar(e); ok {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ",")
}

// scalar reads a scalar as CloudFormation turns it into a string.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case tree.Number:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// str evaluates v to a string, or a *tree.Unknown.
func (t *Template) str(v any, fn string) (any, error) {
	r, err := t.Full(v)
	if err != nil || isUnknown(r) {
		return r, err
	}
	s, ok := scalar(r)
	if !ok {
		return nil, errorf(Invalid, "%s: want a string, got %s", fn, tree.Kind(r))
	}
	return s, nil
}

// list evaluates v to a list, or a *tree.Unknown.
func (t *Template) list(v any, fn string) (any, error) {
	r, err := t.Full(v)
	if err != nil || isUnknown(r) {
		return r, err
	}
	l, ok := r.([]any)
	if !ok {
		return nil, errorf(Invalid, "%s: want a list, got %s", fn, tree.Kind(r))
	}
	return l, nil
}

// args checks that an intrinsic's argument is a list of n entries.
func args(v any, fn string, n ...int) ([]any, error) {
	l, ok := v.([]any)
	if ok {
		for _, want := range n {
			if len(l) == want {
				return l, nil
			}
		}
	}
	counts := make([]string, len(n))
	for i, c := range n {
		counts[i] = strconv.Itoa(c)
	}
	return nil, errorf(Invalid, "%s takes a list of %s arguments", fn, strings.Join(counts, " or "))
}

func (t *Template) join(arg any) (any, error) {
	a, err := args(arg, "Fn::Join", 2)
	if err != nil {
		return nil, err
	}
	delim, ok := a[0].(string)
	if !ok {
		return nil, errorf(Invalid, "Fn::Join: the delimiter must be a string")
	}
	items, err := t.list(a[1], "Fn::Join")
	if err != nil || isUnknown(items) {
		return joinUnknown(items), err
	}
	parts := make([]string, 0, len(items.([]any)))
	for _, item := range items.([]any) {
		s, ok := scalar(item)
		if !ok {
			return nil, errorf(Invalid, "Fn::Join: want strings to join, got %s", tree.Kind(item))
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, delim), nil
}

func joinUnknown(v any) any {
	if u, ok := v.(*tree.Unknown); ok {
		return unknown("!Join […, "+u.Expr+", …]", u.Reason)
	}
	return v
}

func (t *Template) selectFn(arg any) (any, error) {
	a, err := args(arg, "Fn::Select", 2)
	if err != nil {
		return nil, err
	}
	idx, err := t.str(a[0], "Fn::Select")
	if err != nil || isUnknown(idx) {
		return idx, err
	}
	i, convErr := strconv.Atoi(idx.(string))
	if convErr != nil {
		return nil, errorf(Invalid, "Fn::Select: index %q is not a whole number", idx)
	}
	items, err := t.list(a[1], "Fn::Select")
	if err != nil || isUnknown(items) {
		return items, err
	}
	l := items.([]any)
	if i < 0 || i >= len(l) {
		return nil, errorf(Invalid, "Fn::Select: index %d is outside the list of %d", i, len(l))
	}
	return l[i], nil
}

func (t *Template) split(arg any) (any, error) {
	a, err := args(arg, "Fn::Split", 2)
	if err != nil {
		return nil, err
	}
	delim, ok := a[0].(string)
	if !ok || delim == "" {
		return nil, errorf(Invalid, "Fn::Split: the delimiter must be a non-empty string")
	}
	s, err := t.str(a[1], "Fn::Split")
	if err != nil || isUnknown(s) {
		return s, err
	}
	parts := strings.Split(s.(string), delim)
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func (t *Template) findInMap(arg any) (any, error) {
	a, err := args(arg, "Fn::FindInMap", 3, 4)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 3)
	for i := range keys {
		k, err := t.str(a[i], "Fn::FindInMap")
		if err != nil || isUnknown(k) {
			return k, err
		}
		keys[i] = k.(string)
	}
	var cur any // a template without Mappings has no mapping at all
	if t.mappings != nil {
		cur = t.mappings
	}
	for i, k := range keys {
		obj, ok := cur.(*tree.Object)
		if !ok {
			return nil, errorf(UnknownReference, "Fn::FindInMap: the template has no mapping %s", strings.Join(keys[:i+1], "."))
		}
		next, ok := obj.Get(k)
		if !ok {
			return nil, unknownRef(k, obj.Keys(), "Fn::FindInMap: %s has no key %q",
				strings.Join(append([]string{"Mappings"}, keys[:i]...), "."), k)
		}
		cur = next
	}
	return t.Full(cur)
}

// sub evaluates Fn::Sub. When a variable is unknown the result is unknown,
// with the known variables substituted in its expression.
func (t *Template) sub(arg any) (any, error) {
	text, ok := arg.(string)
	vars := map[string]any{}
	if !ok {
		a, err := args(arg, "Fn::Sub", 2)
		if err != nil {
			return nil, errorf(Invalid, "Fn::Sub takes a string, or a list of a string and a map of variables")
		}
		if text, ok = a[0].(string); !ok {
			return nil, errorf(Invalid, "Fn::Sub: the text must be a string")
		}
		obj, ok := a[1].(*tree.Object)
		if !ok {
			return nil, errorf(Invalid, "Fn::Sub: the variables must be a map")
		}
		for _, m := range obj.Members {
			vars[m.Key] = m.Value
		}
	}
	var out strings.Builder
	var reason string
	for {
		start := strings.Index(text, "${")
		if start < 0 {
			out.WriteString(text)
			break
		}
		end := strings.Index(text[start:], "}")
		if end < 0 {
			out.WriteString(text)
			break
		}
		out.WriteString(text[:start])
		name := text[start+2 : start+end]
		text = text[start+end+1:]
		if strings.HasPrefix(name, "!") {
			out.WriteString("${" + name[1:] + "}")
			continue
		}
		val, err := t.subVar(strings.TrimSpace(name), vars)
		if err != nil {
			return nil, err
		}
		if u, isU := val.(*tree.Unknown); isU {
			if reason == "" {
				reason = u.Reason
			}
			out.WriteString("${" + name + "}")
			continue
		}
		s, ok := scalar(val)
		if !ok {
			return nil, errorf(Invalid, "Fn::Sub: ${%s} is %s, not a string", name, tree.Kind(val))
		}
		out.WriteString(s)
	}
	if reason != "" {
		return unknown("!Sub "+out.String(), reason), nil
	}
	return out.String(), nil
}

func (t *Template) subVar(name string, vars map[string]any) (any, error) {
	if v, ok := vars[name]; ok {
		return t.Full(v)
	}
	if resource, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
		if !t.resources[resource] {
			return nil, unknownRef(resource, t.Names(), "Fn::Sub ${%s} names no resource of the template", name)
		}
		return unknown("!GetAtt "+resource+"."+attr, "a resource attribute is known only once the stack is deployed"), nil
	}
	v, err := t.lookup(name, "Fn::Sub ${…}")
	if v == NoValue {
		return nil, errorf(Invalid, "Fn::Sub: ${AWS::NoValue} cannot stand in a string")
	}
	return v, err
}
