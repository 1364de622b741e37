// Package numtext writes numbers as text the way the runtimes behind Step
// Functions do, and recognises JSON number text.
//
// Java is Java's Double.toString, the form JSONPath-mode states print
// (States.Format, causes); JavaScript is Number.prototype.toString, the form
// JSONata prints. Both start from the shortest decimal digits that read back
// as the same float64, which strconv gives, and differ only in where they
// switch to exponent notation and how they write it. No library offers
// either layout, so they are written here.
package numtext

import (
	"math"
	"strconv"
	"strings"
)

// Java formats f as Java's Double.toString: plain notation with at least
// one fractional digit for magnitudes in [1e-3, 1e7) ("0.001", "100.0"), and
// computerized scientific notation ("1.0E7", "1.5E-4") otherwise. The digits
// are the shortest that read back as f, as JDK 19 and later print them;
// earlier JDKs print a longer form for a few numbers ("-1.2499999999999999E22"
// for -1.25e22).
func Java(f float64) string {
	if s, ok := nonFinite(f); ok {
		return s
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	neg, digits, point := shortest(f)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if abs := math.Abs(f); abs >= 1e-3 && abs < 1e7 {
		writePlain(&b, digits, point)
		if point >= len(digits) {
			b.WriteString(".0")
		}
		return b.String()
	}
	b.WriteByte(digits[0])
	b.WriteByte('.')
	if len(digits) > 1 {
		b.WriteString(digits[1:])
	} else {
		b.WriteByte('0')
	}
	b.WriteByte('E')
	b.WriteString(strconv.Itoa(point - 1))
	return b.String()
}

// JavaScript formats f as JavaScript's Number.prototype.toString: integers
// without a decimal point, plain notation from 1e-6 up to 1e21, and exponent
// notation ("1e+21", "1.5e-7") beyond. Negative zero is "0".
func JavaScript(f float64) string {
	if s, ok := nonFinite(f); ok {
		return s
	}
	if f == 0 {
		return "0"
	}
	neg, digits, point := shortest(f)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if -6 < point && point <= 21 {
		writePlain(&b, digits, point)
		return b.String()
	}
	b.WriteByte(digits[0])
	if len(digits) > 1 {
		b.WriteByte('.')
		b.WriteString(digits[1:])
	}
	b.WriteByte('e')
	if point > 0 {
		b.WriteByte('+')
	}
	b.WriteString(strconv.Itoa(point - 1))
	return b.String()
}

// nonFinite names infinities and NaN as both Java and JavaScript do.
func nonFinite(f float64) (string, bool) {
	switch {
	case math.IsNaN(f):
		return "NaN", true
	case math.IsInf(f, 1):
		return "Infinity", true
	case math.IsInf(f, -1):
		return "-Infinity", true
	}
	return "", false
}

// shortest splits a finite, non-zero f into its sign and the shortest
// digits that read back as f, with the decimal point after point digits:
// |f| = 0.digits × 10^point.
func shortest(f float64) (neg bool, digits string, point int) {
	s := strconv.FormatFloat(math.Abs(f), 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	e, _ := strconv.Atoi(exp)
	return f < 0, strings.Replace(mant, ".", "", 1), e + 1
}

// writePlain writes digits with the decimal point after point digits,
// padding with zeros on either side: ("15", 3) is "150", ("15", 1) is "1.5",
// ("15", -1) is "0.015".
func writePlain(b *strings.Builder, digits string, point int) {
	switch {
	case point >= len(digits):
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", point-len(digits)))
	case point > 0:
		b.WriteString(digits[:point])
		b.WriteByte('.')
		b.WriteString(digits[point:])
	default:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -point))
		b.WriteString(digits)
	}
}

// IsJSON reports whether s is a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func IsJSON(s string) bool { return scan(s, false) }

// IsLooseJSON is IsJSON with leading zeros allowed in the integer part
// ("007", "-01.5"), the number text JSONata's $number accepts.
func IsLooseJSON(s string) bool { return scan(s, true) }

func scan(s string, leadingZeros bool) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if !leadingZeros && i < len(s) && s[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
