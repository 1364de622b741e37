package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/smithy-go/middleware"
)

// upperMembers are the members the API model names with a capital letter;
// every other member is its SDK field's name with a small first letter.
var upperMembers = map[string]bool{
	"WebhookAuthConfiguration.AllowedIPRange": true,
	"WebhookAuthConfiguration.SecretToken":    true,
	"ListWebhooksInput.NextToken":             true,
	"ListWebhooksOutput.NextToken":            true,
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	metadataType = reflect.TypeFor[middleware.Metadata]()
)

// WriteJSON writes v, a value of the SDK's codepipeline shapes, as the
// CodePipeline API writes it: the model's member names, members that are
// not set left out, timestamps as epoch seconds with milliseconds, map keys
// sorted; indented by two spaces, with a final newline. An output's
// ResultMetadata is left out.
func WriteJSON(w io.Writer, v any) error {
	b, err := MarshalJSON(v)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return fmt.Errorf("indent JSON: %w", err)
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// MarshalJSON returns v's compact JSON, as WriteJSON writes it.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := encode(&buf, reflect.ValueOf(v)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func encode(buf *bytes.Buffer, v reflect.Value) error {
	if !v.IsValid() {
		buf.WriteString("null")
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			buf.WriteString("null")
			return nil
		}
		return encode(buf, v.Elem())
	case reflect.Struct:
		if v.Type() == timeType {
			ms := v.Interface().(time.Time).UnixMilli()
			buf.Write(strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64))
			return nil
		}
		return encodeStruct(buf, v)
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("encode %s: map keys are not strings", v.Type())
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, k.String())
			buf.WriteByte(':')
			if err := encode(buf, v.MapIndex(k)); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case reflect.Slice, reflect.Array:
		buf.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encode(buf, v.Index(i)); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case reflect.String:
		writeString(buf, v.String())
		return nil
	case reflect.Bool:
		buf.WriteString(strconv.FormatBool(v.Bool()))
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		buf.WriteString(strconv.FormatInt(v.Int(), 10))
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		buf.WriteString(strconv.FormatUint(v.Uint(), 10))
		return nil
	case reflect.Float32, reflect.Float64:
		buf.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, 64))
		return nil
	}
	return fmt.Errorf("encode %s: a %s is not part of the API's shapes", v.Type(), v.Kind())
}

func encodeStruct(buf *bytes.Buffer, v reflect.Value) error {
	t := v.Type()
	buf.WriteByte('{')
	first := true
	for i := range t.NumField() {
		f := t.Field(i)
		fv := v.Field(i)
		if !f.IsExported() || f.Type == metadataType || unset(fv) {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		writeString(buf, memberName(t.Name(), f.Name))
		buf.WriteByte(':')
		if err := encode(buf, fv); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

// unset says whether a member is left out: a nil pointer, list or map, or
// an empty string (an enum that is not set). Booleans and numbers that are
// not pointers are always written, as the SDK serialises them.
func unset(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
		return v.IsNil()
	case reflect.String:
		return v.Len() == 0
	}
	return false
}

// memberName is the API model's name of a field of an SDK type.
func memberName(typeName, field string) string {
	if upperMembers[typeName+"."+field] {
		return field
	}
	r, n := utf8.DecodeRuneInString(field)
	return string(unicode.ToLower(r)) + field[n:]
}

func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	buf.Truncate(buf.Len() - 1)
}
