package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-ci/sluice/internal/pipeline/tree"
)

// ErrTemplate is returned by Canonical for CloudFormation templates, which
// hold more than declarations and are left to CloudFormation's own tools.
var ErrTemplate = errors.New("a CloudFormation template is not rewritten; fmt formats declarations, CreatePipeline requests and GetPipeline responses")

// ErrEmpty is returned by Canonical for a declaration with no field set,
// which would format to an object nothing recognises as a pipeline.
var ErrEmpty = errors.New("the declaration sets no field; there is nothing to format")

// LossError is returned by Canonical when writing the file back would lose
// something: a field or value reading could not keep, or a comment inside
// a YAML document.
type LossError struct {
	Reasons []string
}

func (e *LossError) Error() string {
	return "formatting would lose content:\n  " + strings.Join(e.Reasons, "\n  ")
}

// Canonical writes the file in canonical form, in its own syntax (JSON or
// YAML) and its own envelope: the declaration's fields in the API model's
// order, configuration keys sorted, two-space indentation. What surrounds
// the declaration (tags, metadata, a recorded response's envelope) is kept
// as it was.
func (f *File) Canonical() ([]byte, error) {
	if f.Form == FormCloudFormation {
		return nil, ErrTemplate
	}
	var lost []string
	for _, p := range f.Pipelines {
		for _, n := range p.Notes {
			if n.Severity == SeverityError {
				lost = append(lost, n.String())
			}
		}
	}
	if f.innerComments {
		lost = append(lost, "comments inside the document (fmt keeps only the comment block at the top)")
	}
	if len(lost) > 0 {
		return nil, &LossError{Reasons: lost}
	}
	raw, err := json.Marshal(f.Pipelines[0].Declaration)
	if err != nil {
		return nil, fmt.Errorf("encode declaration: %w", err)
	}
	decl, _, err := tree.ParseJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("encode declaration: %w", err)
	}
	if obj, ok := decl.(*tree.Object); ok && len(obj.Members) == 0 {
		return nil, ErrEmpty
	}
	root := replaceAt(f.root, f.at, decl)
	if f.Format == FormatJSON {
		return tree.MarshalJSON(root)
	}
	out, err := tree.MarshalYAML(root)
	if err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	return append([]byte(f.header), out...), nil
}

// replaceAt returns a copy of root with the value at the key path at
// replaced by v; the copy shares everything else with root.
func replaceAt(root any, at []string, v any) any {
	if len(at) == 0 {
		return v
	}
	obj, ok := root.(*tree.Object)
	if !ok {
		return root
	}
	out := &tree.Object{Members: slices.Clone(obj.Members)}
	for i, m := range out.Members {
		if m.Key == at[0] {
			out.Members[i].Value = replaceAt(m.Value, at[1:], v)
		}
	}
	return out
}
