package tree

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// shortTags maps CloudFormation's YAML short tags to the key of their long
// form. Every other tag except YAML's own (!!str, …) is an error.
var shortTags = map[string]string{
	"!Ref":          "Ref",
	"!Condition":    "Condition",
	"!Base64":       "Fn::Base64",
	"!Cidr":         "Fn::Cidr",
	"!FindInMap":    "Fn::FindInMap",
	"!ForEach":      "Fn::ForEach",
	"!GetAtt":       "Fn::GetAtt",
	"!GetAZs":       "Fn::GetAZs",
	"!ImportValue":  "Fn::ImportValue",
	"!Join":         "Fn::Join",
	"!Length":       "Fn::Length",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!Sub":          "Fn::Sub",
	"!ToJsonString": "Fn::ToJsonString",
	"!Transform":    "Fn::Transform",
	"!And":          "Fn::And",
	"!Equals":       "Fn::Equals",
	"!If":           "Fn::If",
	"!Not":          "Fn::Not",
	"!Or":           "Fn::Or",
}

// ParseYAML reads a YAML stream with one document in it. CloudFormation
// short tags become their long forms. A key given twice in one mapping keeps
// its later value, as CloudFormation reads it, and is reported in the
// returned warnings.
func ParseYAML(data []byte) (any, []string, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, nil, errors.New("the document is empty")
		}
		return nil, nil, err
	}
	var second yaml.Node
	if err := dec.Decode(&second); err == nil {
		return nil, nil, fmt.Errorf("line %d: a second YAML document; a pipeline file holds one", second.Line)
	} else if err != io.EOF {
		return nil, nil, err
	}
	if len(doc.Content) == 0 {
		return nil, nil, errors.New("the document is empty")
	}
	r := yamlReader{}
	v, err := r.value(doc.Content[0], 0)
	if err != nil {
		return nil, nil, err
	}
	return v, r.warnings, nil
}

type yamlReader struct {
	warnings []string
	// values counts the values read, aliases expanded, against maxValues.
	values int
}

// maxDepth bounds nesting, so that alias cycles and hostile input end.
const maxDepth = 200

// maxValues bounds the values a document expands to, so that aliases of
// aliases (a "billion laughs" document) cannot blow up.
const maxValues = 200_000

func (r *yamlReader) value(n *yaml.Node, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: nested more than %d levels deep", n.Line, maxDepth)
	}
	if r.values++; r.values > maxValues {
		return nil, fmt.Errorf("line %d: the document expands to more than %d values; aliases may repeat each other", n.Line, maxValues)
	}
	if key, ok := shortTags[n.Tag]; ok {
		return r.shortForm(n, key, depth)
	}
	if n.Tag != "" && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, fmt.Errorf("line %d: alias *%s names no anchor", n.Line, n.Value)
		}
		return r.value(n.Alias, depth+1)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return r.value(n.Content[0], depth+1)
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := r.value(e, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		return list, nil
	case yaml.MappingNode:
		return r.mapping(n, depth)
	}
	return scalar(n)
}

// scalar reads a scalar by its resolved tag. Timestamps and binary stay the
// text they were written as: no pipeline field holds a time.
func scalar(n *yaml.Node) (any, error) {
	switch n.Tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return b, nil
	case "!!int":
		text := strings.ReplaceAll(strings.TrimPrefix(n.Value, "+"), "_", "")
		if i, err := strconv.ParseInt(text, 0, 64); err == nil {
			return Number(strconv.FormatInt(i, 10)), nil
		}
		return Number(text), nil
	case "!!float":
		text := strings.TrimPrefix(n.Value, "+")
		if _, err := strconv.ParseFloat(text, 64); err != nil || strings.ContainsAny(text, "InfinityNaN") {
			return n.Value, nil
		}
		return Number(text), nil
	}
	return n.Value, nil
}

func (r *yamlReader) mapping(n *yaml.Node, depth int) (any, error) {
	obj := &Object{}
	// merged holds the keys a merge key brought in, which the mapping's own
	// keys override without a warning.
	merged := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, vn := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			if err := r.merge(obj, merged, vn, depth); err != nil {
				return nil, err
			}
			continue
		}
		kv, err := r.value(k, depth+1)
		if err != nil {
			return nil, err
		}
		key, err := keyText(kv)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", k.Line, err)
		}
		val, err := r.value(vn, depth+1)
		if err != nil {
			return nil, err
		}
		if _, dup := obj.Get(key); dup && !merged[key] {
			r.warnings = append(r.warnings, fmt.Sprintf("line %d: key %q is given twice; the later value is used", k.Line, key))
		}
		delete(merged, key)
		obj.Set(key, val)
	}
	return obj, nil
}

func keyText(v any) (string, error) {
	switch k := v.(type) {
	case string:
		return k, nil
	case Number:
		return string(k), nil
	case bool:
		return strconv.FormatBool(k), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("a mapping key must be a scalar, not %s", Kind(v))
}

// merge applies a `<<` merge key: members of the merged mappings that the
// mapping does not set itself.
func (r *yamlReader) merge(obj *Object, merged map[string]bool, n *yaml.Node, depth int) error {
	v, err := r.value(n, depth+1)
	if err != nil {
		return err
	}
	sources := []any{v}
	if list, ok := v.([]any); ok {
		sources = list
	}
	for _, s := range sources {
		src, ok := s.(*Object)
		if !ok {
			return fmt.Errorf("line %d: a merge key takes a mapping, not %s", n.Line, Kind(s))
		}
		for _, m := range src.Members {
			if _, set := obj.Get(m.Key); !set {
				obj.Members = append(obj.Members, m)
				merged[m.Key] = true
			}
		}
	}
	return nil
}

// shortForm rewrites a CloudFormation short tag to its long form. The
// tagged node is read as if untagged: a scalar as a string, a sequence as a
// list, a mapping as an object.
func (r *yamlReader) shortForm(n *yaml.Node, key string, depth int) (any, error) {
	var v any
	if n.Kind == yaml.ScalarNode {
		v = n.Value
	} else {
		untagged := *n
		untagged.Tag = ""
		var err error
		if v, err = r.value(&untagged, depth+1); err != nil {
			return nil, err
		}
	}
	if s, isString := v.(string); isString && key == "Fn::GetAtt" {
		resource, attribute, found := strings.Cut(s, ".")
		if !found {
			return nil, fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", n.Line, s)
		}
		v = []any{resource, attribute}
	}
	return &Object{Members: []Member{{Key: key, Value: v}}}, nil
}

// MarshalYAML writes v as block-style YAML with two-space indentation,
// members in order; multi-line strings as literal blocks.
func MarshalYAML(v any) ([]byte, error) {
	n, err := toNode(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func toNode(v any) (*yaml.Node, error) {
	switch t := v.(type) {
	case *Object:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, m := range t.Members {
			val, err := toNode(m.Value)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: m.Key}, val)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range t {
			val, err := toNode(e)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, val)
		}
		return n, nil
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}
		if strings.Contains(t, "\n") {
			n.Style = yaml.LiteralStyle
		}
		return n, nil
	case Number:
		if _, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: string(t)}, nil
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: string(t)}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(t)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("cannot write %T as YAML", v)
}

// YAMLComments returns the comment block at the top of a YAML document (the
// lines before its first content: comments and blank lines, as written) and
// whether there are comments after it.
func YAMLComments(data []byte) (header string, more bool) {
	lines := strings.SplitAfter(string(data), "\n")
	n := 0
	for n < len(lines) {
		trimmed := strings.TrimSpace(lines[n])
		if trimmed != "" && !strings.HasPrefix(trimmed, "#") {
			break
		}
		n++
	}
	header = strings.Join(lines[:n], "")
	// Blank out the header, keeping line numbers, and look for comments in
	// what is left.
	rest := strings.Repeat("\n", n) + strings.Join(lines[n:], "")
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(rest), &doc); err != nil {
		return header, false
	}
	return header, hasComments(&doc, 0)
}

func hasComments(n *yaml.Node, depth int) bool {
	if n == nil || depth > maxDepth {
		return false
	}
	if n.HeadComment != "" || n.LineComment != "" || n.FootComment != "" {
		return true
	}
	for _, c := range n.Content {
		if hasComments(c, depth+1) {
			return true
		}
	}
	return false
}
