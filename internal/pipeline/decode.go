package pipeline

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/sluice-ci/sluice/internal/pipeline/tree"
)

// decoder fills the declaration types from the generic tree, by their json
// tags. Unlike encoding/json it keeps going after a mistake, so that every
// unknown field and wrong type is reported with its path, and it reads the
// loose scalars that YAML and CloudFormation allow (RunOrder: "2",
// Version: 1, PollForSourceChanges: false) as the API's types.
type decoder struct {
	problems
	// unresolved holds the paths of values that are not known statically.
	unresolved map[string]bool
	// dropped is set when a list entry was left out because it is not known
	// statically.
	dropped bool
}

var timestampType = reflect.TypeFor[Timestamp]()

func (d *decoder) decode(v any, rv reflect.Value, at path) {
	if u, ok := v.(*tree.Unknown); ok {
		d.unknown(u, rv, at)
		return
	}
	if v == nil {
		return
	}
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		d.decode(v, rv.Elem(), at)
	case reflect.Struct:
		if rv.Type() == timestampType {
			if err := rv.Addr().Interface().(*Timestamp).fromTree(v); err != nil {
				d.errorf(at, CodeTypeMismatch, "%v", err)
			}
			return
		}
		d.decodeStruct(v, rv, at)
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			d.mismatch(at, "a list", v)
			return
		}
		s := reflect.MakeSlice(rv.Type(), 0, len(list))
		for i, e := range list {
			elem := reflect.New(rv.Type().Elem()).Elem()
			if u, ok := e.(*tree.Unknown); ok && elem.Kind() == reflect.Struct {
				d.dropped = true
				d.warnf(at, CodeUnresolvedValue, "entry %d, %s: %s; the entry is left out", i, brief(u.Expr), u.Reason)
				continue
			}
			if e == nil {
				d.errorf(at.index(s.Len()), CodeTypeMismatch, "an entry must not be null")
				continue
			}
			d.decode(e, elem, at.index(s.Len()))
			s = reflect.Append(s, elem)
		}
		rv.Set(s)
	case reflect.Map:
		obj, ok := v.(*tree.Object)
		if !ok {
			d.mismatch(at, "an object", v)
			return
		}
		m := reflect.MakeMapWithSize(rv.Type(), len(obj.Members))
		for _, member := range obj.Members {
			elem := reflect.New(rv.Type().Elem()).Elem()
			d.decode(member.Value, elem, at.key(member.Key))
			m.SetMapIndex(reflect.ValueOf(member.Key), elem)
		}
		rv.Set(m)
	case reflect.String:
		s, ok := scalarText(v)
		if !ok {
			d.mismatch(at, "a string", v)
			return
		}
		rv.SetString(s)
	case reflect.Int32:
		n, ok := wholeNumber(v)
		if !ok {
			d.mismatch(at, "a whole number", v)
			return
		}
		rv.SetInt(n)
	}
}

func (d *decoder) decodeStruct(v any, rv reflect.Value, at path) {
	obj, ok := v.(*tree.Object)
	if !ok {
		d.mismatch(at, "an object", v)
		return
	}
	fields := fieldsOf(rv.Type())
	for _, m := range obj.Members {
		i, ok := fields.index[m.Key]
		if !ok {
			d.errorf(at.field(m.Key), CodeUnknownField, "unknown field '%s'%s", m.Key, didYouMean(m.Key, fields.names))
			continue
		}
		d.decode(m.Value, rv.Field(i), at.field(m.Key))
	}
}

// unknown records a value that is not known statically. A string field
// holds the expression so that the declaration still reads sensibly.
func (d *decoder) unknown(u *tree.Unknown, rv reflect.Value, at path) {
	d.unresolved[string(at)] = true
	if u.Reason != "" {
		d.warnf(at, CodeUnresolvedValue, "%s: %s; not checked", brief(u.Expr), u.Reason)
	}
	if rv.Kind() == reflect.String {
		rv.SetString(u.Expr)
	}
}

func (d *decoder) mismatch(at path, want string, got any) {
	if s, ok := got.(string); ok {
		d.errorf(at, CodeTypeMismatch, "want %s, got the string %q", want, s)
		return
	}
	if n, ok := got.(tree.Number); ok {
		d.errorf(at, CodeTypeMismatch, "want %s, got %s", want, string(n))
		return
	}
	d.errorf(at, CodeTypeMismatch, "want %s, got %s", want, tree.Kind(got))
}

// scalarText reads a scalar as the string the API takes: numbers as
// written, booleans as true or false.
func scalarText(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case tree.Number:
		return string(t), true
	case bool:
		return strconv.FormatBool(t), true
	}
	return "", false
}

// wholeNumber reads an int32 from a number or a string of digits.
func wholeNumber(v any) (int64, bool) {
	var text string
	switch t := v.(type) {
	case tree.Number:
		text = string(t)
	case string:
		text = strings.TrimSpace(t)
	default:
		return 0, false
	}
	n, err := strconv.ParseInt(text, 10, 32)
	if err != nil {
		f, ferr := strconv.ParseFloat(text, 64)
		if ferr != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return 0, false
		}
		n = int64(f)
	}
	return n, true
}

type structFields struct {
	index map[string]int
	names []string
}

var fieldCache sync.Map // reflect.Type → *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{index: map[string]int{}}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		f.index[name] = i
		f.names = append(f.names, name)
	}
	fieldCache.Store(t, f)
	return f
}

// brief shortens an expression to one line of at most 100 characters, for
// messages.
func brief(expr string) string {
	first, _, multiline := strings.Cut(expr, "\n")
	if len(first) > 100 {
		first, multiline = first[:97], true
	}
	if multiline {
		return strings.TrimSpace(first) + " …"
	}
	return first
}
