// Package variables resolves CodePipeline's variable references in action
// configuration: #{Namespace.Key} for the output variables of earlier
// actions, #{codepipeline.PipelineExecutionId}, and #{variables.Name} for
// pipeline-level variables (their defaults, overridden at start). It also
// settles the pipeline-level variables of a new execution. Everything here
// is pure.
package variables

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
)

// Reserved namespaces.
const (
	NamespaceCodePipeline = "codepipeline"
	NamespaceVariables    = "variables"
)

// reference is #{namespace.key}: a namespace without dots, a key up to the
// closing brace.
var reference = regexp.MustCompile(`#\{([^.{}]*)\.([^{}]*)\}`)

// Context is what references resolve against.
type Context struct {
	PipelineExecutionID string
	// Pipeline holds the execution's pipeline-level variables.
	Pipeline map[string]string
	// Namespaces holds, by namespace, the output variables of the actions
	// that ran before in this execution.
	Namespaces map[string]map[string]string
}

// Resolve returns the configuration with every reference replaced. A
// reference that does not resolve is an error naming the property and the
// reference.
func Resolve(config map[string]string, c Context) (map[string]string, error) {
	if config == nil {
		return nil, nil
	}
	out := make(map[string]string, len(config))
	var problems []string
	for _, key := range slices.Sorted(maps.Keys(config)) {
		v, errs := resolveString(config[key], c)
		for _, e := range errs {
			problems = append(problems, fmt.Sprintf("configuration property %s: %s", key, e))
		}
		out[key] = v
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("unresolved variables: %s", strings.Join(problems, "; "))
	}
	return out, nil
}

// String resolves the references of one value (a command, an environment
// variable).
func String(s string, c Context) (string, error) {
	v, errs := resolveString(s, c)
	if len(errs) > 0 {
		return "", fmt.Errorf("unresolved variables: %s", strings.Join(errs, "; "))
	}
	return v, nil
}

// resolveString replaces the references of s in one pass over the
// regular expression's matches.
func resolveString(s string, c Context) (string, []string) {
	matches := reference.FindAllStringSubmatchIndex(s, -1)
	if matches == nil {
		return s, nil
	}
	var (
		b    strings.Builder
		errs []string
		last int
	)
	for _, m := range matches {
		b.WriteString(s[last:m[0]])
		last = m[1]
		val, err := lookup(s[m[2]:m[3]], s[m[4]:m[5]], c)
		if err != "" {
			errs = append(errs, s[m[0]:m[1]]+": "+err)
			val = s[m[0]:m[1]]
		}
		b.WriteString(val)
	}
	b.WriteString(s[last:])
	return b.String(), errs
}

func lookup(ns, key string, c Context) (string, string) {
	switch ns {
	case NamespaceCodePipeline:
		if key == "PipelineExecutionId" {
			return c.PipelineExecutionID, ""
		}
		return "", "codepipeline has no variable " + key + " (only PipelineExecutionId)"
	case NamespaceVariables:
		if v, ok := c.Pipeline[key]; ok {
			return v, ""
		}
		return "", "the pipeline declares no variable " + key
	}
	vars, ok := c.Namespaces[ns]
	if !ok {
		return "", "no action before this one has the namespace " + ns
	}
	if v, ok := vars[key]; ok {
		return v, ""
	}
	return "", "the action with namespace " + ns + " produced no variable " + key
}

// Namespaces lists the action namespaces the values refer to (not the
// reserved codepipeline and variables), each once, in order of first use.
func Namespaces(values ...string) []string {
	var out []string
	for _, v := range values {
		for _, m := range reference.FindAllStringSubmatch(v, -1) {
			ns := m[1]
			if ns != NamespaceCodePipeline && ns != NamespaceVariables && !slices.Contains(out, ns) {
				out = append(out, ns)
			}
		}
	}
	return out
}

// Pipeline settles an execution's pipeline-level variables: each declared
// variable takes its override when StartPipelineExecution gives one, else
// its default. An override of an undeclared variable, and a variable with
// neither, are errors.
func Pipeline(declared []pipeline.Variable, overrides map[string]string) ([]store.ResolvedPipelineVariable, error) {
	known := map[string]bool{}
	var out []store.ResolvedPipelineVariable
	var problems []string
	for _, d := range declared {
		known[d.Name] = true
		v, ok := overrides[d.Name]
		if !ok {
			v = d.DefaultValue
			if v == "" {
				problems = append(problems, "variable "+d.Name+" has no default value and none was given")
				continue
			}
		}
		out = append(out, store.ResolvedPipelineVariable{Name: d.Name, ResolvedValue: v})
	}
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		if !known[name] {
			problems = append(problems, "the pipeline declares no variable "+name)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("pipeline variables: %s", strings.Join(problems, "; "))
	}
	return out, nil
}

// Map turns an execution's resolved variables into the Context's Pipeline
// map.
func Map(vars []store.ResolvedPipelineVariable) map[string]string {
	m := make(map[string]string, len(vars))
	for _, v := range vars {
		m[v.Name] = v.ResolvedValue
	}
	return m
}
