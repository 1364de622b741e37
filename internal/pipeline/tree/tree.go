// Package tree reads JSON and YAML documents into one generic, ordered value
// model, so that every input form of a pipeline declaration is handled by the
// same code whatever its syntax.
//
// A value is one of: *Object (members in document order), []any, string,
// Number, bool, or nil. encoding/json's map[string]any would lose member order
// and turn every number into a float64; the ordered form keeps problems in
// document order and numbers as written.
//
// YAML is read with go.yaml.in/yaml/v3 (the YAML organisation's maintained
// go-yaml), walking its node tree rather than decoding into Go values.
// Walking the nodes is what makes CloudFormation templates readable:
// scalars keep their literal text (so the unquoted
// `AWSTemplateFormatVersion: 2010-09-09` stays the string it is meant to be
// instead of becoming a timestamp), and CloudFormation's short tags (`!Ref`,
// `!Sub`, `!GetAtt`, `!If`, …) are rewritten to their long JSON forms
// (`{"Ref": …}`, `{"Fn::Sub": …}`) exactly as CloudFormation reads them.
// github.com/goccy/go-yaml, the project's other YAML library, is not used
// here because it misreads flow mappings common in templates: a tagged
// scalar holding "::" (`{Value: !Ref AWS::StackName}`) is a syntax error to
// it, and a key holding "::" (`{Fn::Sub: x}`) is split at the first colon.
package tree

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Object is a JSON object or YAML mapping with its members in document order.
type Object struct {
	Members []Member
}

// Member is one key and value of an Object.
type Member struct {
	Key   string
	Value any
}

// Number is a number as written in the document.
type Number string

// Get returns the value of the member named key.
func (o *Object) Get(key string) (any, bool) {
	for i := range o.Members {
		if o.Members[i].Key == key {
			return o.Members[i].Value, true
		}
	}
	return nil, false
}

// Set replaces the value of the member named key, or appends a member.
func (o *Object) Set(key string, value any) {
	for i := range o.Members {
		if o.Members[i].Key == key {
			o.Members[i].Value = value
			return
		}
	}
	o.Members = append(o.Members, Member{Key: key, Value: value})
}

// Keys returns the member names in order.
func (o *Object) Keys() []string {
	keys := make([]string, len(o.Members))
	for i, m := range o.Members {
		keys[i] = m.Key
	}
	return keys
}

// Kind names the kind of a value in words, for error messages.
func Kind(v any) string {
	switch v.(type) {
	case *Object:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

// LooksLikeJSON reports whether data starts, after white space, like a JSON
// object or array.
func LooksLikeJSON(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n\ufeff")
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	return len(data) > 0 && (data[0] == '{' || data[0] == '[')
}

// ParseJSON reads one JSON value. A key given twice in one object keeps its
// later value, as encoding/json reads it, and is reported in the returned
// warnings.
func ParseJSON(data []byte) (any, []string, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	r := jsonReader{dec: dec, data: data}
	v, err := r.value(0)
	if err != nil {
		return nil, nil, jsonError(data, dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("line %d: unexpected data after the JSON value", r.line())
	}
	return v, r.warnings, nil
}

type jsonReader struct {
	dec      *json.Decoder
	data     []byte
	warnings []string
}

func (r *jsonReader) line() int {
	return 1 + bytes.Count(r.data[:min(int(r.dec.InputOffset()), len(r.data))], []byte("\n"))
}

func jsonError(data []byte, dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	offset := dec.InputOffset()
	if errors.As(err, &se) {
		offset = se.Offset
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of JSON input")
	}
	line := 1 + bytes.Count(data[:min(int(offset), len(data))], []byte("\n"))
	return fmt.Errorf("line %d: %w", line, err)
}

func (r *jsonReader) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested more than %d levels deep", maxDepth)
	}
	dec := r.dec
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := &Object{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				if _, dup := obj.Get(key); dup {
					r.warnings = append(r.warnings, fmt.Sprintf("line %d: key %q is given twice; the later value is used", r.line(), key))
				}
				val, err := r.value(depth + 1)
				if err != nil {
					return nil, err
				}
				obj.Set(key, val)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return obj, nil
		case '[':
			list := []any{}
			for dec.More() {
				val, err := r.value(depth + 1)
				if err != nil {
					return nil, err
				}
				list = append(list, val)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return list, nil
		}
		return nil, fmt.Errorf("unexpected %q", t)
	case json.Number:
		return Number(t), nil
	default:
		return t, nil
	}
}

// MarshalJSON writes v as indented JSON, members in order.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, v, ""); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func writeJSON(buf *bytes.Buffer, v any, indent string) error {
	switch t := v.(type) {
	case *Object:
		if len(t.Members) == 0 {
			buf.WriteString("{}")
			return nil
		}
		buf.WriteString("{\n")
		for i, m := range t.Members {
			buf.WriteString(indent + "  ")
			writeString(buf, m.Key)
			buf.WriteString(": ")
			if err := writeJSON(buf, m.Value, indent+"  "); err != nil {
				return err
			}
			if i < len(t.Members)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(indent + "}")
	case []any:
		if len(t) == 0 {
			buf.WriteString("[]")
			return nil
		}
		buf.WriteString("[\n")
		for i, e := range t {
			buf.WriteString(indent + "  ")
			if err := writeJSON(buf, e, indent+"  "); err != nil {
				return err
			}
			if i < len(t)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(indent + "]")
	case string:
		writeString(buf, t)
	case Number:
		if !json.Valid([]byte(t)) {
			return fmt.Errorf("number %q is not valid JSON", string(t))
		}
		buf.WriteString(string(t))
	case bool:
		buf.WriteString(strconv.FormatBool(t))
	case nil:
		buf.WriteString("null")
	default:
		return fmt.Errorf("cannot write %T as JSON", v)
	}
	return nil
}

func writeString(buf *bytes.Buffer, s string) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	buf.WriteString(strings.TrimSuffix(sb.String(), "\n"))
}

// Unknown stands for a value that cannot be known from the document alone,
// such as a CloudFormation Fn::GetAtt, which names an attribute of a resource
// that exists only once the stack is deployed.
type Unknown struct {
	// Expr is the expression in CloudFormation's short form, such as
	// "!GetAtt Role.Arn".
	Expr string
	// Reason says why the value is not known, in plain words. It is empty
	// when the value could not be evaluated and that was reported already.
	Reason string
}
