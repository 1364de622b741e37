package choice

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/sluice-ci/sluice/internal/jsonpath"
)

type valueType uint8

const (
	typeString valueType = iota
	typeNumber
	typeBoolean
	typeTimestamp
	typeTest // Is*: the operand is true or false
)

type comparison uint8

const (
	cmpEq comparison = iota
	cmpLt
	cmpGt
	cmpLe
	cmpGe
	cmpMatch
	cmpPresent
	cmpNull
	cmpIsNumber
	cmpIsString
	cmpIsBoolean
	cmpIsTimestamp
)

type operator struct {
	typ  valueType
	cmp  comparison
	path bool // the *Path variant: the operand is a path to compare against
}

// operators lists every comparison operator of JSONPath-mode Choice rules.
var operators = map[string]*operator{}

func init() {
	for _, family := range []struct {
		prefix string
		typ    valueType
	}{{"String", typeString}, {"Numeric", typeNumber}, {"Timestamp", typeTimestamp}} {
		for _, c := range []struct {
			suffix string
			cmp    comparison
		}{{"Equals", cmpEq}, {"LessThan", cmpLt}, {"GreaterThan", cmpGt}, {"LessThanEquals", cmpLe}, {"GreaterThanEquals", cmpGe}} {
			operators[family.prefix+c.suffix] = &operator{typ: family.typ, cmp: c.cmp}
			operators[family.prefix+c.suffix+"Path"] = &operator{typ: family.typ, cmp: c.cmp, path: true}
		}
	}
	operators["BooleanEquals"] = &operator{typ: typeBoolean, cmp: cmpEq}
	operators["BooleanEqualsPath"] = &operator{typ: typeBoolean, cmp: cmpEq, path: true}
	operators["StringMatches"] = &operator{typ: typeString, cmp: cmpMatch}
	operators["IsPresent"] = &operator{typ: typeTest, cmp: cmpPresent}
	operators["IsNull"] = &operator{typ: typeTest, cmp: cmpNull}
	operators["IsNumeric"] = &operator{typ: typeTest, cmp: cmpIsNumber}
	operators["IsString"] = &operator{typ: typeTest, cmp: cmpIsString}
	operators["IsBoolean"] = &operator{typ: typeTest, cmp: cmpIsBoolean}
	operators["IsTimestamp"] = &operator{typ: typeTest, cmp: cmpIsTimestamp}
}

// compareLiteral compares the Variable's value with the rule's operand.
func (c *cond) compareLiteral(v any) bool {
	switch c.op.typ {
	case typeTest:
		return c.op.test(v) == c.boolean
	case typeString:
		s, ok := v.(string)
		if !ok {
			return false
		}
		if c.op.cmp == cmpMatch {
			return matchGlob(c.glob, s)
		}
		return c.op.holds(jsonpath.CompareStrings(s, c.str))
	case typeNumber:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		r, ok := jsonpath.CompareNumbers(n, c.num)
		return ok && c.op.holds(r)
	case typeBoolean:
		b, ok := v.(bool)
		return ok && b == c.boolean
	case typeTimestamp:
		s, ok := v.(string)
		if !ok {
			return false
		}
		t, ok := ParseTimestamp(s)
		return ok && c.op.holds(t.Compare(c.instant))
	}
	return false
}

// compareValues compares two values read from paths (the *Path variants).
func (op *operator) compareValues(v, w any) bool {
	switch op.typ {
	case typeString:
		s, ok1 := v.(string)
		t, ok2 := w.(string)
		return ok1 && ok2 && op.holds(jsonpath.CompareStrings(s, t))
	case typeNumber:
		n, ok1 := v.(json.Number)
		m, ok2 := w.(json.Number)
		if !ok1 || !ok2 {
			return false
		}
		r, ok := jsonpath.CompareNumbers(n, m)
		return ok && op.holds(r)
	case typeBoolean:
		a, ok1 := v.(bool)
		b, ok2 := w.(bool)
		return ok1 && ok2 && a == b
	case typeTimestamp:
		s, ok1 := v.(string)
		t, ok2 := w.(string)
		if !ok1 || !ok2 {
			return false
		}
		a, ok1 := ParseTimestamp(s)
		b, ok2 := ParseTimestamp(t)
		return ok1 && ok2 && op.holds(a.Compare(b))
	}
	return false
}

func (op *operator) holds(r int) bool {
	switch op.cmp {
	case cmpEq:
		return r == 0
	case cmpLt:
		return r < 0
	case cmpGt:
		return r > 0
	case cmpLe:
		return r <= 0
	case cmpGe:
		return r >= 0
	}
	return false
}

// test answers an Is* operator for a present value.
func (op *operator) test(v any) bool {
	switch op.cmp {
	case cmpNull:
		return v == nil
	case cmpIsNumber:
		_, ok := v.(json.Number)
		return ok
	case cmpIsString:
		_, ok := v.(string)
		return ok
	case cmpIsBoolean:
		_, ok := v.(bool)
		return ok
	case cmpIsTimestamp:
		s, ok := v.(string)
		if !ok {
			return false
		}
		_, ok = ParseTimestamp(s)
		return ok
	}
	return false
}

// parseGlob splits a StringMatches pattern at its unescaped '*'. In the
// pattern \* is a literal asterisk and \\ a literal backslash.
func parseGlob(p string) ([]string, error) {
	var pieces []string
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\':
			if i+1 >= len(p) || (p[i+1] != '*' && p[i+1] != '\\') {
				return nil, errors.New(`in StringMatches only \* and \\ may follow a backslash`)
			}
			i++
			b.WriteByte(p[i])
		case '*':
			pieces = append(pieces, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(pieces, b.String()), nil
}

// matchGlob matches s against pattern pieces: the first must start s, the
// last must end it, and the ones between must follow in order.
func matchGlob(pieces []string, s string) bool {
	if len(pieces) == 1 {
		return s == pieces[0]
	}
	first, last := pieces[0], pieces[len(pieces)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	rest := s[len(first) : len(s)-len(last)]
	for _, p := range pieces[1 : len(pieces)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}

// ParseTimestamp parses a States Language timestamp: RFC 3339 with an
// uppercase T, seconds, an optional fraction of up to nine digits, and Z or a
// numeric offset (2016-03-14T01:59:00Z, 2016-03-14T01:59:00.123+01:00).
// Anything else, including an impossible date or time, is rejected.
func ParseTimestamp(s string) (time.Time, bool) {
	// YYYY-MM-DDTHH:MM:SS
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 ||
		month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	i := 19
	nanos := 0
	if s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		n := i - start
		if n == 0 || n > 9 {
			return time.Time{}, false
		}
		nanos, _ = digits(s[start:i])
		for ; n < 9; n++ {
			nanos *= 10
		}
	}
	if i >= len(s) {
		return time.Time{}, false
	}
	offset := 0
	switch s[i] {
	case 'Z':
		i++
	case '+', '-':
		if len(s)-i != 6 || s[i+3] != ':' {
			return time.Time{}, false
		}
		oh, ok1 := digits(s[i+1 : i+3])
		om, ok2 := digits(s[i+4 : i+6])
		if !ok1 || !ok2 || oh > 18 || om > 59 {
			return time.Time{}, false
		}
		offset = oh*3600 + om*60
		if s[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		return time.Time{}, false
	}
	if i != len(s) {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nanos, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
