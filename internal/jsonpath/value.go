package jsonpath

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sluice-ci/sluice/internal/numtext"
)

// Text renders a JSON value as compact JSON text the way AWS prints it in
// causes and States.JsonToString: no insignificant space, no HTML escaping,
// numbers exactly as written. Object keys come out sorted, since Go maps keep
// no order.
func Text(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Values decoded by encoding/json always encode; anything else is a
		// programming error that should still print something readable.
		return JavaString(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// IsInteger reports whether a JSON number is written as an integer (no
// fraction and no exponent), which is how Java's JSON parsers decide between
// an integral and a floating type.
func IsInteger(n json.Number) bool {
	return !strings.ContainsAny(string(n), ".eE")
}

// JavaString renders a value the way Java's String.valueOf renders the
// object a JSON parser such as Jackson produces for it. AWS uses this form in
// States.Format and in some causes: strings are bare, objects print as
// {a=1, b=[x, y]}, null prints as null, fractional numbers as Java doubles.
func JavaString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var b strings.Builder
	writeJava(&b, v)
	return b.String()
}

func writeJava(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case string:
		b.WriteString(t)
	case json.Number:
		b.WriteString(javaNumber(t))
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJava(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(t)) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteByte('=')
			writeJava(b, t[k])
		}
		b.WriteByte('}')
	default:
		b.WriteString(Text(v))
	}
}

// javaNumber renders an integer as written (Java's Integer, Long and
// BigInteger print every digit) and anything else as Double.toString does.
func javaNumber(n json.Number) string {
	s := string(n)
	if IsInteger(n) {
		if s == "-0" {
			return "0"
		}
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return s
	}
	return numtext.Java(f)
}

// Equal reports whether two JSON values are equal: numbers compare by value
// (1 == 1.0), objects by their members, arrays element by element. Booleans
// are never numbers.
func Equal(a, b any) bool {
	return EqualFunc(a, b, func(x, y json.Number) bool {
		c, ok := CompareNumbers(x, y)
		return ok && c == 0
	})
}

// EqualFunc is Equal with numbers compared by eq.
func EqualFunc(a, b any, eq func(x, y json.Number) bool) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		return ok && eq(x, y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !EqualFunc(x[i], y[i], eq) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !EqualFunc(xv, yv, eq) {
				return false
			}
		}
		return true
	}
	return false
}

// decimal is a JSON number split into its parts without converting it:
// value = ±(ip.fp) × 10^exp.
type decimal struct {
	neg    bool
	ip, fp string
	exp    int
}

// parseDecimal splits JSON number text. It accepts the JSON grammar and is
// lenient about leading zeros and a leading '+', which never reach it from
// encoding/json.
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	if s == "" {
		return d, false
	}
	i := 0
	switch s[0] {
	case '-':
		d.neg = true
		i++
	case '+':
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	d.ip = s[start:i]
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		d.fp = s[start:i]
	}
	if d.ip == "" && d.fp == "" {
		return d, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return d, false
		}
		e := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if e < 1<<30 {
				e = e*10 + int(s[i]-'0')
			}
			i++
		}
		if eneg {
			e = -e
		}
		d.exp = e
	}
	return d, i == len(s)
}

func (d decimal) digit(i int) byte {
	if i < len(d.ip) {
		return d.ip[i]
	}
	if i-len(d.ip) < len(d.fp) {
		return d.fp[i-len(d.ip)]
	}
	return '0'
}

func (d decimal) ndigits() int { return len(d.ip) + len(d.fp) }

// first returns the index of the first non-zero digit, or -1 for zero.
func (d decimal) first() int {
	for i := 0; i < d.ndigits(); i++ {
		if d.digit(i) != '0' {
			return i
		}
	}
	return -1
}

// compareAbs compares |a| and |b|.
func compareAbs(a, b decimal) int {
	fa, fb := a.first(), b.first()
	switch {
	case fa < 0 && fb < 0:
		return 0
	case fa < 0:
		return -1
	case fb < 0:
		return 1
	}
	// Magnitude: position of the first significant digit relative to the point.
	ma := len(a.ip) - fa + a.exp
	mb := len(b.ip) - fb + b.exp
	if ma != mb {
		if ma < mb {
			return -1
		}
		return 1
	}
	na, nb := a.ndigits()-fa, b.ndigits()-fb
	n := max(na, nb)
	for k := 0; k < n; k++ {
		var ca, cb byte = '0', '0'
		if k < na {
			ca = a.digit(fa + k)
		}
		if k < nb {
			cb = b.digit(fb + k)
		}
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	return 0
}

// CompareNumbers compares two JSON numbers exactly, whatever their size or
// precision, without going through float64. ok is false when either text is
// not a number.
func CompareNumbers(a, b json.Number) (c int, ok bool) {
	if ia, ok := smallInt(string(a)); ok {
		if ib, ok := smallInt(string(b)); ok {
			switch {
			case ia < ib:
				return -1, true
			case ia > ib:
				return 1, true
			}
			return 0, true
		}
	}
	da, oka := parseDecimal(string(a))
	db, okb := parseDecimal(string(b))
	if !oka || !okb {
		return 0, false
	}
	za, zb := da.first() < 0, db.first() < 0
	if za {
		da.neg = false
	}
	if zb {
		db.neg = false
	}
	if da.neg != db.neg {
		if da.neg {
			return -1, true
		}
		return 1, true
	}
	c = compareAbs(da, db)
	if da.neg {
		c = -c
	}
	return c, true
}

// smallInt parses an integer of at most 18 digits without allocating.
func smallInt(s string) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// javaClass names the Java class that Jayway's Jackson provider reports for
// a value in its messages.
func javaClass(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case bool:
		return "java.lang.Boolean"
	case string:
		return "java.lang.String"
	case json.Number:
		if !IsInteger(t) {
			return "java.lang.Double"
		}
		if _, err := strconv.ParseInt(string(t), 10, 32); err == nil {
			return "java.lang.Integer"
		}
		if _, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return "java.lang.Long"
		}
		return "java.math.BigInteger"
	case []any:
		return "java.util.ArrayList"
	case map[string]any:
		return "java.util.LinkedHashMap"
	}
	return "java.lang.Object"
}
