package jsonata

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sluice-ci/sluice/internal/numtext"
)

// Values inside the evaluator are the encoding/json UseNumber values the
// package receives (nil, bool, string, json.Number, []any, map[string]any),
// plus the evaluator's own kinds:
//
//   - undefined: the absence of a value (JSON null is Go nil)
//   - float64: a number computed by the expression
//   - *seq: a sequence (or an array built by an array constructor)
//   - *object: an object built by the expression, keeping key order
//   - tuple: one binding of a tuple stream ('@', '#' and '%' paths)
//   - function values (*lambda, *builtin, *partialFn, *regexValue, *nativeFn)
//
// Numbers read from the input stay json.Number until arithmetic touches them,
// so their text survives. outValue converts back at the package boundary.

type undefinedType struct{}

var undefined any = undefinedType{}

// seq is a JSONata sequence. cons marks an array built by an array constructor
// that must not be flattened into the surrounding sequence.
type seq struct {
	items         []any
	sequence      bool
	cons          bool
	keepSingleton bool
	outerWrapper  bool
	tupleStream   bool
}

func newSeq(items ...any) *seq {
	return &seq{items: items, sequence: true}
}

// object is an object built by an expression; keys keeps insertion order.
type object struct {
	keys []string
	vals map[string]any
}

func newObject(n int) *object {
	return &object{keys: make([]string, 0, n), vals: make(map[string]any, n)}
}

func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) del(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	for i, key := range o.keys {
		if key == k {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

// tuple is one item of a tuple stream: '@' holds the context value, other
// keys the focus, index and ancestor bindings.
type tuple map[string]any

// arrayItems returns the items of an array value (input array or sequence).
func arrayItems(v any) ([]any, bool) {
	switch a := v.(type) {
	case []any:
		return a, true
	case *seq:
		return a.items, true
	}
	return nil, false
}

func isArray(v any) bool {
	switch v.(type) {
	case []any, *seq:
		return true
	}
	return false
}

func isSequence(v any) bool {
	s, ok := v.(*seq)
	return ok && s.sequence
}

// isObject reports whether v is a JSON object (input map or built object).
func isObject(v any) bool {
	switch v.(type) {
	case map[string]any, *object:
		return true
	}
	return false
}

// objectKeys returns the keys of an object in order: insertion order for built
// objects, sorted order for input maps (encoding/json keeps no order).
func objectKeys(v any) []string {
	switch o := v.(type) {
	case *object:
		return o.keys
	case map[string]any:
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
	return nil
}

func objectGet(v any, k string) (any, bool) {
	switch o := v.(type) {
	case *object:
		x, ok := o.vals[k]
		return x, ok
	case map[string]any:
		x, ok := o[k]
		return x, ok
	}
	return nil, false
}

func objectLen(v any) int {
	switch o := v.(type) {
	case *object:
		return len(o.keys)
	case map[string]any:
		return len(o)
	}
	return 0
}

// toNumber returns v as a float64 when v is a JSON number.
func toNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return f, true
			}
			return 0, false
		}
		return f, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case float32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint:
		return float64(n), true
	}
	return 0, false
}

func isNumber(v any) bool {
	_, ok := toNumber(v)
	return ok
}

func isFunction(v any) bool {
	switch v.(type) {
	case *lambda, *builtin, *partialFn, *regexValue, *nativeFn:
		return true
	}
	return false
}

// typeSymbol is the signature symbol of a value.
func typeSymbol(v any) byte {
	switch v.(type) {
	case undefinedType:
		return 'm'
	case nil:
		return 'l'
	case string:
		return 's'
	case bool:
		return 'b'
	case []any, *seq:
		return 'a'
	case map[string]any, *object, tuple:
		return 'o'
	}
	if isFunction(v) {
		return 'f'
	}
	if isNumber(v) {
		return 'n'
	}
	return 'o'
}

// booleanOf is the JSONata $boolean casting rule.
func booleanOf(v any) (bool, bool) {
	switch x := v.(type) {
	case undefinedType:
		return false, false
	case nil:
		return false, true
	case bool:
		return x, true
	case string:
		return x != "", true
	case []any, *seq:
		items, _ := arrayItems(v)
		if len(items) == 1 {
			b, _ := booleanOf(items[0])
			return b, true
		}
		for _, it := range items {
			if b, _ := booleanOf(it); b {
				return true, true
			}
		}
		return false, true
	case map[string]any, *object:
		return objectLen(v) > 0, true
	}
	if f, ok := toNumber(v); ok {
		return f != 0 && !math.IsNaN(f), true
	}
	return false, true
}

// deepEqual is JSONata's equality: numbers by value, arrays and objects by
// content.
func deepEqual(a, b any) bool {
	if af, ok := toNumber(a); ok {
		bf, ok := toNumber(b)
		return ok && af == bf
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case []any, *seq:
		ai, _ := arrayItems(a)
		bi, ok := arrayItems(b)
		if !ok || len(ai) != len(bi) {
			return false
		}
		for i := range ai {
			if !deepEqual(ai[i], bi[i]) {
				return false
			}
		}
		return true
	case map[string]any, *object:
		if !isObject(b) || objectLen(a) != objectLen(b) {
			return false
		}
		for _, k := range objectKeys(a) {
			av, _ := objectGet(a, k)
			bv, ok := objectGet(b, k)
			if !ok || !deepEqual(av, bv) {
				return false
			}
		}
		return true
	case undefinedType:
		return b == undefined
	}
	return a == b
}

// strictEqual is JavaScript's === as the 'in' operator uses it: primitives by
// value, everything else by identity.
func strictEqual(a, b any) bool {
	if af, ok := toNumber(a); ok {
		bf, ok := toNumber(b)
		return ok && af == bf
	}
	switch x := a.(type) {
	case nil, string, bool, undefinedType:
		return a == b
	case []any:
		y, ok := b.([]any)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case map[string]any:
		y, ok := b.(map[string]any)
		return ok && sameMap(x, y)
	}
	return a == b
}

func sameMap(a, b map[string]any) bool {
	return len(a) == len(b) && (len(a) == 0 || mapIdentity(a) == mapIdentity(b))
}

// mapIdentity gives a stable identity for a map value.
func mapIdentity(m map[string]any) uintptr {
	return reflectPointer(m)
}

// precision15 rounds to 15 significant digits, as $string and '&' do.
func precision15(f float64) float64 {
	if f == 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return f
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'e', 14, 64), 64)
	return r
}

// isIntegerText reports whether a json.Number text is a plain integer.
func isIntegerText(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// numberText renders a number for $string and string concatenation.
func numberText(v any) string {
	if n, ok := v.(json.Number); ok && isIntegerText(string(n)) {
		s := string(n)
		if s == "-0" {
			return "0"
		}
		return s
	}
	f, _ := toNumber(v)
	return numtext.JavaScript(precision15(f))
}

// jsonText writes v as JSON.stringify does ($string of objects and arrays,
// error messages). indent is the number of spaces per level, 0 for compact.
// Numbers are rounded to 15 significant digits when round15 is set.
func jsonText(v any, indent int, round15 bool) string {
	var b strings.Builder
	writeJSON(&b, v, indent, 0, round15)
	return b.String()
}

func writeJSON(b *strings.Builder, v any, indent, level int, round15 bool) bool {
	switch x := v.(type) {
	case undefinedType:
		return false
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		writeJSONString(b, x)
	case []any, *seq:
		items, _ := arrayItems(v)
		if s, ok := v.(*seq); ok && s.outerWrapper && len(items) > 0 {
			return writeJSON(b, items[0], indent, level, round15)
		}
		if len(items) == 0 {
			b.WriteString("[]")
			return true
		}
		b.WriteByte('[')
		for i, it := range items {
			if i > 0 {
				b.WriteByte(',')
			}
			newline(b, indent, level+1)
			if isFunction(it) {
				b.WriteString(`""`)
			} else if !writeJSON(b, it, indent, level+1, round15) {
				b.WriteString("null")
			}
		}
		newline(b, indent, level)
		b.WriteByte(']')
	case map[string]any, *object, tuple:
		var keys []string
		if t, ok := v.(tuple); ok {
			keys = slices.Sorted(maps.Keys(t))
		} else {
			keys = objectKeys(v)
		}
		b.WriteByte('{')
		n := 0
		for _, k := range keys {
			var val any
			if t, ok := v.(tuple); ok {
				val = t[k]
			} else {
				val, _ = objectGet(v, k)
			}
			if val == undefined {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			newline(b, indent, level+1)
			writeJSONString(b, k)
			b.WriteByte(':')
			if indent > 0 {
				b.WriteByte(' ')
			}
			if isFunction(val) {
				b.WriteString(`""`)
			} else {
				writeJSON(b, val, indent, level+1, round15)
			}
		}
		if n > 0 {
			newline(b, indent, level)
		}
		b.WriteByte('}')
	default:
		if isFunction(v) {
			return false
		}
		if n, ok := v.(json.Number); ok && isIntegerText(string(n)) {
			b.WriteString(numberText(n))
			return true
		}
		f, ok := toNumber(v)
		if !ok {
			return false
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			b.WriteString("null")
			return true
		}
		if round15 {
			f = precision15(f)
		}
		b.WriteString(numtext.JavaScript(f))
	}
	return true
}

func newline(b *strings.Builder, indent, level int) {
	if indent == 0 {
		return
	}
	b.WriteByte('\n')
	b.WriteString(strings.Repeat(" ", indent*level))
}

const hexDigits = "0123456789abcdef"

func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				b.WriteString(`\"`)
			case '\\':
				b.WriteString(`\\`)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				if c < 0x20 {
					b.WriteString(`\u00`)
					b.WriteByte(hexDigits[c>>4])
					b.WriteByte(hexDigits[c&0xF])
				} else {
					b.WriteByte(c)
				}
			}
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		b.WriteString(s[i : i+size])
		i += size
	}
	b.WriteByte('"')
}

// jsString renders a value for error messages the way JSON.stringify does.
func jsString(v any) string {
	if v == undefined {
		return "undefined"
	}
	if isFunction(v) {
		return "undefined"
	}
	if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
		return "null"
	}
	return jsonText(v, 0, false)
}

// outValue converts an evaluation result to the package's boundary values:
// float64 becomes json.Number, sequences become []any, built objects become
// map[string]any. Unchanged input subtrees are returned as they are. ok is
// false for values JSON cannot hold (undefined, functions).
func outValue(v any) (any, bool) {
	switch x := v.(type) {
	case undefinedType:
		return nil, false
	case nil, string, bool, json.Number:
		return v, true
	case float64:
		return numberOut(x), true
	case []any:
		var out []any
		for i, it := range x {
			o, ok := outValue(it)
			if !ok {
				o = nil
			}
			if out == nil && !sameValue(o, it) {
				out = make([]any, len(x))
				copy(out, x[:i])
			}
			if out != nil {
				out[i] = o
			}
		}
		if out == nil {
			return x, true
		}
		return out, true
	case *seq:
		if x.outerWrapper && len(x.items) > 0 {
			return outValue(x.items[0])
		}
		out := make([]any, 0, len(x.items))
		for _, it := range x.items {
			o, ok := outValue(it)
			if !ok {
				o = nil
			}
			out = append(out, o)
		}
		return out, true
	case map[string]any:
		var out map[string]any
		for k, it := range x {
			o, ok := outValue(it)
			if ok && sameValue(o, it) {
				continue
			}
			if out == nil {
				out = make(map[string]any, len(x))
				for k2, v2 := range x {
					out[k2] = v2
				}
			}
			if ok {
				out[k] = o
			} else {
				delete(out, k)
			}
		}
		if out == nil {
			return x, true
		}
		return out, true
	case *object:
		out := make(map[string]any, len(x.keys))
		for _, k := range x.keys {
			if o, ok := outValue(x.vals[k]); ok {
				out[k] = o
			}
		}
		return out, true
	case tuple:
		return outValue(x["@"])
	}
	if isFunction(v) {
		return nil, false
	}
	if f, ok := toNumber(v); ok {
		return numberOut(f), true
	}
	return nil, false
}

// sameValue reports whether outValue left a value untouched.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case map[string]any:
		y, ok := b.(map[string]any)
		return ok && sameMap(x, y)
	case float64, *seq, *object:
		return false
	}
	if _, ok := b.(float64); ok {
		return false
	}
	return a == b
}

// numberOut renders a computed number as a json.Number. JSON has no literal
// for non-finite numbers; AWS writes them as the strings JavaScript names them
// by, and so does this package.
func numberOut(f float64) any {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return numtext.JavaScript(f)
	}
	return json.Number(numtext.JavaScript(f))
}

// asTuple views a tuple stream item as a tuple; anything else has no bindings
// and an undefined context.
func asTuple(v any) tuple {
	if t, ok := v.(tuple); ok {
		return t
	}
	return tuple{"@": undefined}
}
