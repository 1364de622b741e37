package jsonata

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokenKind int

const (
	tokEnd tokenKind = iota
	tokName
	tokVariable
	tokOperator
	tokString
	tokNumber
	tokValue
	tokRegex
)

type token struct {
	kind  tokenKind
	text  string // name, variable, operator or string value
	num   float64
	value any // true, false or nil for tokValue
	regex *regexLiteral
	pos   int // offset just after the token, as JSONata reports positions
}

// regexLiteral is a /pattern/flags literal.
type regexLiteral struct {
	pattern string
	flags   string
}

// operatorChars are the single-character operators; a name ends at any of them.
var operatorChars = map[byte]bool{
	'.': true, '[': true, ']': true, '{': true, '}': true, '(': true, ')': true, ',': true,
	'@': true, '#': true, ';': true, ':': true, '?': true, '+': true, '-': true, '*': true,
	'/': true, '%': true, '|': true, '=': true, '<': true, '>': true, '^': true, '&': true,
	'!': true, '~': true,
}

var twoCharOperators = []string{"..", ":=", "!=", ">=", "<=", "**", "~>"}

type lexer struct {
	src string
	pos int
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
}

// next scans one token. regexAllowed is true where an operand is expected, so
// that '/' opens a regular expression rather than being the division operator.
func (l *lexer) next(regexAllowed bool) (token, error) {
	src := l.src
	for {
		for l.pos < len(src) && isSpace(src[l.pos]) {
			l.pos++
		}
		if strings.HasPrefix(src[l.pos:], "/*") {
			end := strings.Index(src[l.pos+2:], "*/")
			if end < 0 {
				l.pos = len(src)
				return token{}, newError("S0106", l.pos)
			}
			l.pos += end + 4
			continue
		}
		break
	}
	if l.pos >= len(src) {
		return token{kind: tokEnd, pos: len(src)}, nil
	}
	c := src[l.pos]
	if regexAllowed && c == '/' {
		l.pos++
		return l.scanRegex()
	}
	for _, op := range twoCharOperators {
		if strings.HasPrefix(src[l.pos:], op) {
			l.pos += 2
			return token{kind: tokOperator, text: op, pos: l.pos}, nil
		}
	}
	if operatorChars[c] {
		l.pos++
		return token{kind: tokOperator, text: string(c), pos: l.pos}, nil
	}
	if c == '"' || c == '\'' {
		return l.scanString(c)
	}
	if c >= '0' && c <= '9' {
		return l.scanNumber()
	}
	if c == '`' {
		end := strings.IndexByte(src[l.pos+1:], '`')
		if end < 0 {
			l.pos = len(src)
			return token{}, newError("S0105", l.pos)
		}
		name := src[l.pos+1 : l.pos+1+end]
		l.pos += end + 2
		return token{kind: tokName, text: name, pos: l.pos}, nil
	}
	start := l.pos
	i := l.pos
	for i < len(src) && !isSpace(src[i]) && !operatorChars[src[i]] {
		i++
	}
	l.pos = i
	if src[start] == '$' {
		return token{kind: tokVariable, text: src[start+1 : i], pos: i}, nil
	}
	name := src[start:i]
	switch name {
	case "and", "or", "in":
		return token{kind: tokOperator, text: name, pos: i}, nil
	case "true":
		return token{kind: tokValue, value: true, pos: i}, nil
	case "false":
		return token{kind: tokValue, value: false, pos: i}, nil
	case "null":
		return token{kind: tokValue, value: nil, pos: i}, nil
	}
	return token{kind: tokName, text: name, pos: i}, nil
}

func (l *lexer) scanRegex() (token, error) {
	src := l.src
	start := l.pos
	depth := 0
	for l.pos < len(src) {
		c := src[l.pos]
		switch {
		case c == '\\':
			l.pos++
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case c == '/' && depth == 0:
			pattern := src[start:l.pos]
			if pattern == "" {
				return token{}, newError("S0301", l.pos)
			}
			l.pos++
			fstart := l.pos
			for l.pos < len(src) && (src[l.pos] == 'i' || src[l.pos] == 'm') {
				l.pos++
			}
			return token{kind: tokRegex, regex: &regexLiteral{pattern: pattern, flags: src[fstart:l.pos]}, pos: l.pos}, nil
		}
		l.pos++
	}
	return token{}, newError("S0302", l.pos)
}

func (l *lexer) scanString(quote byte) (token, error) {
	src := l.src
	l.pos++
	var b strings.Builder
	for l.pos < len(src) {
		c := src[l.pos]
		if c == '\\' {
			l.pos++
			if l.pos >= len(src) {
				break
			}
			e := src[l.pos]
			switch e {
			case '"', '\\', '/', '\'':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, n, ok := scanUnicodeEscape(src[l.pos+1:])
				if !ok {
					return token{}, newError("S0104", l.pos)
				}
				b.WriteRune(r)
				l.pos += n
			default:
				return token{}, &Error{Code: "S0103", Position: l.pos, Token: string(e)}
			}
			l.pos++
			continue
		}
		if c == quote {
			l.pos++
			return token{kind: tokString, text: b.String(), pos: l.pos}, nil
		}
		_, size := utf8.DecodeRuneInString(src[l.pos:])
		b.WriteString(src[l.pos : l.pos+size])
		l.pos += size
	}
	return token{}, newError("S0101", l.pos)
}

// scanUnicodeEscape reads the four hex digits of a \u escape (and a
// following low surrogate escape when they name a high surrogate). It
// returns the rune and how many bytes after the 'u' it consumed.
func scanUnicodeEscape(s string) (rune, int, bool) {
	if len(s) < 4 {
		return 0, 0, false
	}
	v, err := strconv.ParseUint(s[:4], 16, 32)
	if err != nil {
		return 0, 0, false
	}
	r := rune(v)
	if r >= 0xD800 && r < 0xDC00 && len(s) >= 10 && s[4] == '\\' && s[5] == 'u' {
		if lo, err := strconv.ParseUint(s[6:10], 16, 32); err == nil && lo >= 0xDC00 && lo < 0xE000 {
			return 0x10000 + (r-0xD800)<<10 + (rune(lo) - 0xDC00), 10, true
		}
	}
	if r >= 0xD800 && r < 0xE000 {
		r = utf8.RuneError
	}
	return r, 4, true
}

func (l *lexer) scanNumber() (token, error) {
	src := l.src
	i := l.pos
	if src[i] == '0' {
		i++
	} else {
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
	}
	if i+1 < len(src) && src[i] == '.' && src[i+1] >= '0' && src[i+1] <= '9' {
		i++
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && src[j] >= '0' && src[j] <= '9' {
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			i = j
		}
	}
	text := src[l.pos:i]
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return token{}, &Error{Code: "S0102", Position: l.pos, Token: text}
	}
	l.pos = i
	return token{kind: tokNumber, num: f, text: text, pos: i}, nil
}
