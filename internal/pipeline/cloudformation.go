package pipeline

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/sluice-ci/sluice/internal/pipeline/cfn"
	"github.com/sluice-ci/sluice/internal/pipeline/tree"
)

// pipelineResourceType is the CloudFormation resource type of a pipeline.
const pipelineResourceType = "AWS::CodePipeline::Pipeline"

// StageTransition is an entry of a template's DisableInboundStageTransitions:
// a stage whose inbound transition starts disabled.
type StageTransition struct {
	StageName string `json:"stageName,omitzero"`
	Reason    string `json:"reason,omitzero"`
}

// readTemplate reads every AWS::CodePipeline::Pipeline resource of a
// CloudFormation template.
func (f *File) readTemplate(root *tree.Object, opts Options) error {
	f.Form = FormCloudFormation
	tmpl, err := cfn.New(root, opts.Params)
	if err != nil {
		return fmt.Errorf("template: %w", err)
	}
	f.checkParams(tmpl, opts.Params)
	v, _ := root.Get("Resources")
	resources, ok := v.(*tree.Object)
	if !ok {
		return errors.New("a CloudFormation template without Resources")
	}
	found := 0
	for _, m := range resources.Members {
		res, ok := m.Value.(*tree.Object)
		if !ok {
			continue
		}
		if typ, _ := res.Get("Type"); typ != pipelineResourceType {
			continue
		}
		found++
		if !f.resourceCreated(tmpl, m.Key, res) {
			continue
		}
		f.Pipelines = append(f.Pipelines, readResource(tmpl, m.Key, res))
	}
	if found == 0 {
		return errors.New("the template has no " + pipelineResourceType + " resource")
	}
	return nil
}

// checkParams warns about --param values the template has no parameter for.
func (f *File) checkParams(tmpl *cfn.Template, given map[string]string) {
	declared := map[string]bool{}
	var names []string
	for _, p := range tmpl.Parameters() {
		declared[p.Name] = true
		names = append(names, p.Name)
	}
	keys := make([]string, 0, len(given))
	for k := range given {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !declared[k] && !strings.HasPrefix(k, "AWS::") {
			f.Notes = append(f.Notes, Problem{Code: CodeUnknownReference, Severity: SeverityWarning,
				Message: fmt.Sprintf("--param %s: the template has no parameter %s%s", k, k, didYouMean(k, names))})
		}
	}
}

// resourceCreated evaluates a resource's Condition; a resource whose
// condition is false is not part of the stack.
func (f *File) resourceCreated(tmpl *cfn.Template, id string, res *tree.Object) bool {
	c, ok := res.Get("Condition")
	if !ok {
		return true
	}
	name, _ := c.(string)
	value, known, err := tmpl.Condition(name)
	switch {
	case err != nil:
		f.Notes = append(f.Notes, evalProblem(path("Resources."+id+".Condition"), err))
	case !known:
		f.Notes = append(f.Notes, Problem{Code: CodeUnresolvedValue, Severity: SeverityWarning,
			Message: fmt.Sprintf("resource %s exists only if condition %s holds, which is known only once the stack is deployed; checked as if it does", id, name)})
	case !value:
		f.Notes = append(f.Notes, Problem{Code: CodeUnresolvedValue, Severity: SeverityWarning,
			Message: fmt.Sprintf("resource %s is left out: its condition %s is false", id, name)})
		return false
	}
	return true
}

// readResource converts one pipeline resource's Properties (PascalCase,
// with intrinsics) to a declaration.
func readResource(tmpl *cfn.Template, id string, res *tree.Object) *Pipeline {
	c := &converter{tmpl: tmpl, derived: map[string]bool{}}
	props, _ := res.Get("Properties")
	obj := &tree.Object{}
	if props == nil {
		c.errorf("", CodeRequiredField, "resource %s has no Properties", id)
	} else if converted, keep := c.value(props, "", false); keep {
		if o, ok := converted.(*tree.Object); ok {
			obj = o
		} else {
			c.errorf("", CodeTypeMismatch, "Properties: want an object, got %s", tree.Kind(converted))
		}
	}
	// Properties of the resource that are not part of the declaration.
	extra := map[string]any{}
	for _, key := range []string{"tags", "disableInboundStageTransitions", "restartExecutionOnUpdate"} {
		if v, ok := obj.Get(key); ok {
			extra[key] = v
			obj.Members = removeMember(obj.Members, key)
		}
	}
	if _, named := obj.Get("name"); !named {
		obj.Members = append([]tree.Member{{Key: "name", Value: &tree.Unknown{Expr: id,
			Reason: "Name is not set, so CloudFormation names the pipeline when it creates the stack"}}}, obj.Members...)
	}
	p := decodeDeclaration(obj, c.list)
	p.Resource = id
	p.derived = c.derived
	if region, err := tmpl.Eval(&tree.Object{Members: []tree.Member{{Key: "Ref", Value: "AWS::Region"}}}); err == nil {
		p.Region, _ = region.(string)
	}
	d := &decoder{unresolved: p.unresolved}
	d.decode(extra["tags"], reflect.ValueOf(&p.Tags).Elem(), "tags")
	d.decode(extra["disableInboundStageTransitions"], reflect.ValueOf(&p.DisabledTransitions).Elem(), "disableInboundStageTransitions")
	p.Notes = append(p.Notes, d.list...)
	return p
}

func removeMember(members []tree.Member, key string) []tree.Member {
	out := members[:0]
	for _, m := range members {
		if m.Key != key {
			out = append(out, m)
		}
	}
	return out
}

// converter evaluates intrinsics and renames PascalCase properties to the
// declaration's camelCase fields, so that every later problem is reported
// at the declaration's path.
type converter struct {
	tmpl *cfn.Template
	problems
	// derived holds the paths of values computed by intrinsics.
	derived map[string]bool
}

// value converts v. keepKeys is set inside configuration maps, whose keys
// are the action type's own. It returns false when v is to be left out
// (AWS::NoValue, or an evaluation error already reported).
func (c *converter) value(v any, at path, keepKeys bool) (any, bool) {
	for cfn.IsIntrinsic(v) {
		c.derived[string(at)] = true
		r, err := c.tmpl.Eval(v)
		if err != nil {
			c.list = append(c.list, evalProblem(at, err))
			return &tree.Unknown{Expr: shortForm(v)}, true
		}
		if r == cfn.NoValue {
			return nil, false
		}
		if _, ok := r.(*tree.Unknown); ok {
			return r, true
		}
		v = r
	}
	switch x := v.(type) {
	case *tree.Object:
		out := &tree.Object{Members: make([]tree.Member, 0, len(x.Members))}
		for _, m := range x.Members {
			key := m.Key
			if !keepKeys {
				key = lowerFirst(key)
			}
			child := at.key(key)
			if !keepKeys {
				child = at.field(key)
			}
			var (
				cv   any
				keep bool
			)
			if !keepKeys && at == "" && key == "artifactStores" {
				cv, keep = c.artifactStores(m.Value, child)
			} else {
				cv, keep = c.value(m.Value, child, keepKeys || key == "configuration")
			}
			if keep {
				out.Members = append(out.Members, tree.Member{Key: key, Value: cv})
			}
		}
		return out, true
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if cv, keep := c.value(e, at.index(len(out)), keepKeys); keep {
				out = append(out, cv)
			}
		}
		return out, true
	}
	return v, true
}

// artifactStores turns CloudFormation's list of {Region, ArtifactStore}
// into the API's map from region to artifact store.
func (c *converter) artifactStores(v any, at path) (any, bool) {
	list, keep := c.value(v, at, false)
	entries, ok := list.([]any)
	if !keep || !ok {
		return list, keep
	}
	out := &tree.Object{}
	for i, e := range entries {
		entry, ok := e.(*tree.Object)
		if !ok {
			c.errorf(at.index(i), CodeTypeMismatch, "want an object with region and artifactStore, got %s", tree.Kind(e))
			continue
		}
		region, _ := entry.Get("region")
		name, ok := region.(string)
		if !ok {
			if u, isUnknown := region.(*tree.Unknown); isUnknown {
				c.warnf(at.index(i).field("region"), CodeUnresolvedValue, "%s: %s; the artifact store is left out", brief(u.Expr), u.Reason)
			} else {
				c.errorf(at.index(i).field("region"), CodeRequiredField, "an artifact store entry needs a region")
			}
			continue
		}
		store, _ := entry.Get("artifactStore")
		for _, k := range entry.Keys() {
			if k != "region" && k != "artifactStore" {
				c.errorf(at.index(i).field(k), CodeUnknownField, "unknown field '%s'%s", k, didYouMean(k, []string{"region", "artifactStore"}))
			}
		}
		out.Members = append(out.Members, tree.Member{Key: name, Value: store})
	}
	return out, true
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// evalProblem turns an evaluation error into a problem at path.
func evalProblem(at path, err error) Problem {
	var e *cfn.Error
	if !errors.As(err, &e) {
		return Problem{Path: string(at), Code: CodeInvalidIntrinsic, Message: err.Error(), Severity: SeverityError}
	}
	switch e.Kind {
	case cfn.MissingParameter:
		return Problem{Path: string(at), Code: CodeParameterMissing, Message: e.Message, Severity: SeverityError}
	case cfn.UnknownReference:
		return Problem{Path: string(at), Code: CodeUnknownReference, Message: e.Message + didYouMean(e.Name, e.Candidates), Severity: SeverityError}
	}
	return Problem{Path: string(at), Code: CodeInvalidIntrinsic, Message: e.Message, Severity: SeverityError}
}

// shortForm writes an intrinsic call in CloudFormation's short YAML form,
// for messages and placeholders: !Ref Name, !Sub 'text', !GetAtt A.B.
func shortForm(v any) string {
	obj := v.(*tree.Object)
	name, arg := obj.Members[0].Key, obj.Members[0].Value
	tag := "!" + strings.TrimPrefix(name, "Fn::")
	if s, ok := scalarText(arg); ok {
		return tag + " " + s
	}
	if list, ok := arg.([]any); ok {
		parts := make([]string, len(list))
		for i, e := range list {
			if s, ok := scalarText(e); ok {
				parts[i] = s
			} else {
				parts[i] = "…"
			}
		}
		return tag + " [" + strings.Join(parts, ", ") + "]"
	}
	return tag + " …"
}
