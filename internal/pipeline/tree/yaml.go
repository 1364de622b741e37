package tree

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
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
	file, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		return nil, nil, errors.New(yaml.FormatError(err, false, false))
	}
	var body ast.Node
	for _, doc := range file.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body != nil {
			return nil, nil, fmt.Errorf("line %d: a second YAML document; a pipeline file holds one", line(doc.Body))
		}
		body = doc.Body
	}
	if body == nil {
		return nil, nil, errors.New("the document is empty")
	}
	r := yamlReader{anchors: map[string]ast.Node{}}
	v, err := r.value(body, 0)
	if err != nil {
		return nil, nil, err
	}
	return v, r.warnings, nil
}

type yamlReader struct {
	anchors  map[string]ast.Node
	warnings []string
}

// maxDepth bounds nesting, so that alias cycles and hostile input end.
const maxDepth = 200

func line(n ast.Node) int {
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

func (r *yamlReader) value(n ast.Node, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: nested more than %d levels deep", line(n), maxDepth)
	}
	switch t := n.(type) {
	case *ast.NullNode:
		return nil, nil
	case *ast.BoolNode:
		return t.Value, nil
	case *ast.IntegerNode:
		return integer(t), nil
	case *ast.FloatNode:
		return Number(strings.TrimPrefix(t.Token.Value, "+")), nil
	case *ast.InfinityNode, *ast.NanNode:
		return t.GetToken().Value, nil
	case *ast.StringNode:
		return t.Value, nil
	case *ast.LiteralNode:
		return t.Value.Value, nil
	case *ast.MappingNode:
		return r.mapping(t.Values, depth)
	case *ast.MappingValueNode:
		return r.mapping([]*ast.MappingValueNode{t}, depth)
	case *ast.SequenceNode:
		list := make([]any, 0, len(t.Values))
		for _, e := range t.Values {
			v, err := r.value(e, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		return list, nil
	case *ast.AnchorNode:
		r.anchors[t.Name.GetToken().Value] = t.Value
		return r.value(t.Value, depth+1)
	case *ast.AliasNode:
		name := t.Value.GetToken().Value
		target, ok := r.anchors[name]
		if !ok {
			return nil, fmt.Errorf("line %d: alias *%s names no anchor", line(n), name)
		}
		return r.value(target, depth+1)
	case *ast.TagNode:
		return r.tagged(t, depth)
	case *ast.DocumentNode:
		return r.value(t.Body, depth+1)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node %s", line(n), n.Type())
}

// integer keeps decimal integers as written and turns the hex, octal and
// binary forms into decimal, since JSON has no such forms.
func integer(n *ast.IntegerNode) Number {
	text := strings.TrimPrefix(n.Token.Value, "+")
	digits := strings.TrimPrefix(text, "-")
	if _, err := strconv.ParseInt(text, 10, 64); err == nil && (digits == "0" || !strings.HasPrefix(digits, "0")) {
		return Number(text)
	}
	return Number(fmt.Sprint(n.Value))
}

func (r *yamlReader) mapping(values []*ast.MappingValueNode, depth int) (any, error) {
	obj := &Object{}
	for _, mv := range values {
		if mv.Key.IsMergeKey() {
			if err := r.merge(obj, mv.Value, depth); err != nil {
				return nil, err
			}
			continue
		}
		kv, err := r.value(mv.Key, depth+1)
		if err != nil {
			return nil, err
		}
		key, err := keyText(kv)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line(mv.Key), err)
		}
		val, err := r.value(mv.Value, depth+1)
		if err != nil {
			return nil, err
		}
		if _, dup := obj.Get(key); dup {
			r.warnings = append(r.warnings, fmt.Sprintf("line %d: key %q is given twice; the later value is used", line(mv.Key), key))
		}
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
	}
	return "", fmt.Errorf("a mapping key must be a scalar, not %s", Kind(v))
}

// merge applies a `<<` merge key: members of the merged mappings that the
// mapping does not set itself.
func (r *yamlReader) merge(obj *Object, n ast.Node, depth int) error {
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
			return fmt.Errorf("line %d: a merge key takes a mapping, not %s", line(n), Kind(s))
		}
		for _, m := range src.Members {
			if _, set := obj.Get(m.Key); !set {
				obj.Members = append(obj.Members, m)
			}
		}
	}
	return nil
}

func (r *yamlReader) tagged(t *ast.TagNode, depth int) (any, error) {
	tag := t.Start.Value
	if key, ok := shortTags[tag]; ok {
		v, err := r.value(t.Value, depth+1)
		if err != nil {
			return nil, err
		}
		if s, isString := v.(string); isString && key == "Fn::GetAtt" {
			resource, attribute, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", line(t), s)
			}
			v = []any{resource, attribute}
		}
		return &Object{Members: []Member{{Key: key, Value: v}}}, nil
	}
	v, err := r.value(t.Value, depth+1)
	if err != nil {
		return nil, err
	}
	switch tag {
	case "!!str", "!!binary":
		switch s := v.(type) {
		case Number:
			return string(s), nil
		case bool:
			return strconv.FormatBool(s), nil
		case nil:
			return "", nil
		}
		return v, nil
	case "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq", "!!omap", "!!set", "!!timestamp":
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unknown tag %s", line(t), tag)
}

// MarshalYAML writes v as block-style YAML, members in order.
func MarshalYAML(v any) ([]byte, error) {
	return yaml.MarshalWithOptions(toYAML(v), yaml.Indent(2), yaml.IndentSequence(true),
		yaml.UseLiteralStyleIfMultiline(true), yaml.UseSingleQuote(true))
}

func toYAML(v any) any {
	switch t := v.(type) {
	case *Object:
		ms := make(yaml.MapSlice, len(t.Members))
		for i, m := range t.Members {
			ms[i] = yaml.MapItem{Key: m.Key, Value: toYAML(m.Value)}
		}
		return ms
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = toYAML(e)
		}
		return out
	case Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return i
		}
		if f, err := strconv.ParseFloat(string(t), 64); err == nil {
			return f
		}
		return string(t)
	}
	return v
}

// YAMLComments returns the comment block at the top of a YAML document (the
// lines before its first content, comments and blank lines, as written) and
// whether there are comments after it.
func YAMLComments(data []byte) (header string, more bool) {
	tokens := lexer.Tokenize(string(data))
	firstContent := -1
	for _, tk := range tokens {
		if tk.Type != token.CommentType && tk.Position != nil {
			firstContent = tk.Position.Line
			break
		}
	}
	for _, tk := range tokens {
		if tk.Type == token.CommentType && tk.Position != nil && firstContent >= 0 && tk.Position.Line >= firstContent {
			more = true
		}
	}
	if firstContent < 0 {
		return "", false
	}
	lines := strings.SplitAfter(string(data), "\n")
	return strings.Join(lines[:min(firstContent-1, len(lines))], ""), more
}
