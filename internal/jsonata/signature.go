package jsonata

import (
	"regexp"
	"strings"
)

// signature is a parsed function signature such as <s-nn?:s>. Arguments are
// matched by a regular expression over their type symbols, which also decides
// where the context value fills in for a missing first argument ('-').
type signature struct {
	text   string
	params []sigParam
	re     *regexp.Regexp
}

type sigParam struct {
	regex     string
	typ       string
	subtype   string
	context   bool
	contextRe *regexp.Regexp
}

var arrayTypeNames = map[string]string{
	"a": "arrays", "b": "booleans", "f": "functions", "n": "numbers", "o": "objects", "s": "strings",
}

func mustSignature(s string) *signature {
	sig, err := parseSignature(s)
	if err != nil {
		panic("jsonata: bad builtin signature " + s + ": " + err.Error())
	}
	return sig
}

func findClosing(s string, start int, open, close byte) int {
	depth := 1
	pos := start
	for pos < len(s)-1 {
		pos++
		if s[pos] == close {
			depth--
			if depth == 0 {
				break
			}
		} else if s[pos] == open {
			depth++
		}
	}
	return pos
}

// typeCodes is, for each type letter of a signature, the pattern of argument
// type symbols (typeSymbol) it accepts: every type takes an undefined
// argument (m) except a function, an array takes any value, j any JSON value
// and x anything.
var typeCodes = map[byte]string{
	's': "[sm]", 'n': "[nm]", 'b': "[bm]", 'l': "[lm]", 'o': "[om]",
	'a': "[asnblfom]", 'f': "f", 'j': "[asnblom]", 'x': "[asnblfom]",
}

func parseSignature(s string) (*signature, error) {
	sig := &signature{text: s}
	var param sigParam
	prev := -1
	next := func() {
		sig.params = append(sig.params, param)
		prev = len(sig.params) - 1
		param = sigParam{}
	}
	for pos := 1; pos < len(s); pos++ {
		c := s[pos]
		if c == ':' {
			break
		}
		switch c {
		case 's', 'n', 'b', 'l', 'o', 'a', 'f', 'j', 'x':
			param.regex = typeCodes[c]
			param.typ = string(c)
			next()
		case '-':
			if prev >= 0 {
				p := &sig.params[prev]
				p.context = true
				p.contextRe = regexp.MustCompile(p.regex)
				p.regex += "?"
			}
		case '?', '+':
			if prev >= 0 {
				sig.params[prev].regex += string(c)
			}
		case '(':
			end := findClosing(s, pos, '(', ')')
			choice := s[pos+1 : end]
			if strings.Contains(choice, "<") {
				return nil, &Error{Code: "S0402", Position: pos, Value: choice}
			}
			param.regex = "[" + choice + "m]"
			param.typ = "(" + choice + ")"
			pos = end
			next()
		case '<':
			if prev >= 0 && (sig.params[prev].typ == "a" || sig.params[prev].typ == "f") {
				end := findClosing(s, pos, '<', '>')
				sig.params[prev].subtype = s[pos+1 : end]
				pos = end
			} else {
				typ := ""
				if prev >= 0 {
					typ = sig.params[prev].typ
				}
				return nil, &Error{Code: "S0401", Position: pos, Value: typ}
			}
		}
	}
	var b strings.Builder
	b.WriteByte('^')
	for _, p := range sig.params {
		b.WriteString("(" + p.regex + ")")
	}
	b.WriteByte('$')
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, &Error{Code: "S0401", Position: 0, Value: s}
	}
	sig.re = re
	return sig, nil
}

// validate checks the arguments against the signature, substitutes the
// context value where the signature allows it and wraps single values passed
// for array parameters.
func (sig *signature) validate(args []any, context any, name string, pos int) ([]any, error) {
	symbols := make([]byte, len(args))
	for i, a := range args {
		symbols[i] = typeSymbol(a)
	}
	m := sig.re.FindStringSubmatch(string(symbols))
	if m == nil {
		return nil, sig.validationError(args, string(symbols), name, pos)
	}
	out := make([]any, 0, len(sig.params))
	argIndex := 0
	for i, p := range sig.params {
		match := m[i+1]
		if match == "" {
			if p.context && p.contextRe != nil {
				if !p.contextRe.MatchString(string(typeSymbol(context))) {
					return nil, &Error{Code: "T0411", Position: pos, Token: name, Value: context, Index: argIndex + 1}
				}
				out = append(out, context)
			} else {
				out = append(out, argAt(args, argIndex))
				argIndex++
			}
			continue
		}
		for j := 0; j < len(match); j++ {
			arg := argAt(args, argIndex)
			if p.typ == "a" {
				wrapped, ok := p.arrayArg(match[j], match, arg)
				if !ok {
					return nil, &Error{Code: "T0412", Position: pos, Token: name, Value: arg, Index: argIndex + 1, Type: arrayTypeNames[p.subtype]}
				}
				arg = wrapped
			}
			out = append(out, arg)
			argIndex++
		}
	}
	return out, nil
}

// arrayArg passes an argument of an array parameter: single is its type
// symbol and match the symbols of every argument the parameter took. An
// undefined argument stays undefined and a single value is wrapped in an
// array. It reports false when the argument breaks the parameter's subtype
// (a<n>: every item a number).
func (p *sigParam) arrayArg(single byte, match string, arg any) (any, bool) {
	if single == 'm' {
		return undefined, true
	}
	if p.subtype != "" && !p.ofSubtype(single, match, arg) {
		return nil, false
	}
	if single != 'a' {
		return []any{arg}, true
	}
	return arg, true
}

// ofSubtype reports whether an argument of an a<subtype> parameter is of
// the subtype: an array whose items all are, or a single value given where
// the parameter took exactly one value of it.
func (p *sigParam) ofSubtype(single byte, match string, arg any) bool {
	if single != 'a' {
		return match == p.subtype
	}
	items, _ := arrayItems(arg)
	for _, it := range items {
		if typeSymbol(it) != p.subtype[0] {
			return false
		}
	}
	return true
}

func (sig *signature) validationError(args []any, symbols, name string, pos int) error {
	partial := "^"
	goodTo := 0
	for _, p := range sig.params {
		partial += p.regex
		loc := regexp.MustCompile(partial).FindStringIndex(symbols)
		if loc == nil {
			return &Error{Code: "T0410", Position: pos, Token: name, Value: argAt(args, goodTo), Index: goodTo + 1}
		}
		goodTo = loc[1]
	}
	return &Error{Code: "T0410", Position: pos, Token: name, Value: argAt(args, goodTo), Index: goodTo + 1}
}
