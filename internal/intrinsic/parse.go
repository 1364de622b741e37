// Package intrinsic owns the intrinsic functions of JSONPath-mode States
// Language (States.Format('x {}', $.a) and the rest): parsing a call once,
// and evaluating it with AWS's argument rules and results.
//
// The rules follow what AWS records rather than only what its documentation
// says: integer arguments of ArrayRange, ArrayPartition, ArrayGetItem and
// MathRandom are truncated toward zero while MathAdd rounds half up;
// StringSplit splits on every character of the delimiter and drops empty
// strings; Base64Decode ignores characters outside the alphabet and stops at
// padding; Format renders values the way Java's String.valueOf does
// ({a=1, b=[x]}); a bad argument fails the state with States.Runtime and the
// cause "Invalid arguments in States.<Name>". The grammar is small and no
// library parses it, so the parser is hand-written.
package intrinsic

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sluice-ci/sluice/internal/jsonpath"
	"github.com/sluice-ci/sluice/internal/numtext"
)

// MaxNesting is how deep AWS lets intrinsic calls nest within one field.
const MaxNesting = 10

// Call is a parsed intrinsic function call. It is safe for concurrent use.
type Call struct {
	text string
	fn   *function
	args []arg
}

type argKind uint8

const (
	argLiteral argKind = iota
	argPath
	argCall
)

type arg struct {
	kind  argKind
	value any // literal value
	path  *jsonpath.Path
	call  *Call
	tmpl  *template // a string literal read as a States.Format template
}

// IsIntrinsic reports whether a ".$" value is an intrinsic function call
// rather than a path.
func IsIntrinsic(s string) bool {
	return strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "States.")
}

// String returns the call as written.
func (c *Call) String() string { return c.text }

// Name returns the function name, for example "States.Format".
func (c *Call) Name() string { return c.fn.name }

// Parse parses an intrinsic function call such as
// States.Format('Hello {}', States.ArrayGetItem($.names, 0)).
func Parse(expr string) (*Call, error) {
	p := &parser{s: expr}
	p.skipSpace()
	c, err := p.parseCall(1)
	if err != nil {
		return nil, fmt.Errorf("invalid intrinsic function %q: %w", expr, err)
	}
	p.skipSpace()
	if p.pos != len(p.s) {
		return nil, fmt.Errorf("invalid intrinsic function %q: unexpected %q after the closing ')'", expr, p.s[p.pos:])
	}
	return c, nil
}

type parser struct {
	s   string
	pos int
}

func (p *parser) errorf(format string, a ...any) error {
	return fmt.Errorf("at position %d: %s", p.pos, fmt.Sprintf(format, a...))
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *parser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *parser) parseCall(depth int) (*Call, error) {
	if depth > MaxNesting {
		return nil, p.errorf("intrinsic functions nest more than %d deep", MaxNesting)
	}
	start := p.pos
	for p.pos < len(p.s) && (isNameChar(p.s[p.pos]) || p.s[p.pos] == '.') {
		p.pos++
	}
	name := p.s[start:p.pos]
	fn, ok := functions[name]
	if !ok {
		if name == "" {
			return nil, p.errorf("expected an intrinsic function name")
		}
		return nil, fmt.Errorf("at position %d: unknown intrinsic function %q", start, name)
	}
	p.skipSpace()
	if p.peek() != '(' {
		return nil, p.errorf("expected '(' after %s", name)
	}
	p.pos++
	c := &Call{fn: fn}
	p.skipSpace()
	if p.peek() == ')' {
		p.pos++
		c.text = p.s[start:p.pos]
		return c, nil
	}
	for {
		p.skipSpace()
		a, err := p.parseArg(depth)
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, a)
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
			continue
		case ')':
			p.pos++
			c.text = p.s[start:p.pos]
			return c, nil
		case 0:
			return nil, p.errorf("missing ')' to close %s(", name)
		default:
			return nil, p.errorf("expected ',' or ')' in the arguments of %s, found %q", name, p.s[p.pos])
		}
	}
}

func isNameChar(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (p *parser) parseArg(depth int) (arg, error) {
	switch c := p.peek(); {
	case c == '\'':
		return p.parseString()
	case c == '$':
		return p.parsePath()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.parseNumber()
	case strings.HasPrefix(p.s[p.pos:], "States."):
		call, err := p.parseCall(depth + 1)
		if err != nil {
			return arg{}, err
		}
		return arg{kind: argCall, call: call}, nil
	}
	for _, kw := range []struct {
		word  string
		value any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		rest := p.s[p.pos:]
		if strings.HasPrefix(rest, kw.word) && (len(rest) == len(kw.word) || !isNameChar(rest[len(kw.word)])) {
			p.pos += len(kw.word)
			return arg{value: kw.value}, nil
		}
	}
	if p.pos >= len(p.s) {
		return arg{}, p.errorf("expected an argument, found end of text")
	}
	return arg{}, p.errorf("unexpected %q: an argument is a 'string', a number, true, false, null, a path or an intrinsic function", p.s[p.pos])
}

// parseString reads a '...' literal. Inside it \' \{ \} and \\ stand for the
// character; any other backslash is an error, as in AWS.
func (p *parser) parseString() (arg, error) {
	p.pos++ // opening quote
	start := p.pos
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch c {
		case '\\':
			if p.pos+1 >= len(p.s) || strings.IndexByte(`'{}\`, p.s[p.pos+1]) < 0 {
				return arg{}, p.errorf(`open escape: only \', \{, \} and \\ may follow a backslash`)
			}
			b.WriteByte(p.s[p.pos+1])
			p.pos += 2
		case '\'':
			raw := p.s[start:p.pos]
			p.pos++
			return arg{value: b.String(), tmpl: parseTemplate(raw, true)}, nil
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return arg{}, p.errorf("unterminated string literal")
}

// parsePath reads a path argument up to the ',' or ')' that ends it,
// skipping brackets, parentheses and quotes inside filters.
func (p *parser) parsePath() (arg, error) {
	start := p.pos
	depth := 0
	var quote byte
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case quote != 0:
			if c == '\\' && p.pos+1 < len(p.s) {
				p.pos++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[' || c == '(':
			depth++
		case c == ']' || (c == ')' && depth > 0):
			depth--
		case depth == 0 && (c == ',' || c == ')' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return p.compilePath(start)
		}
		p.pos++
	}
	return p.compilePath(start)
}

func (p *parser) compilePath(start int) (arg, error) {
	path, err := jsonpath.Compile(p.s[start:p.pos])
	if err != nil {
		return arg{}, err
	}
	return arg{kind: argPath, path: path}, nil
}

func (p *parser) parseNumber() (arg, error) {
	start := p.pos
	for p.pos < len(p.s) && strings.IndexByte("+-0123456789.eE", p.s[p.pos]) >= 0 {
		p.pos++
	}
	text := p.s[start:p.pos]
	if !numtext.IsJSON(text) {
		return arg{}, fmt.Errorf("at position %d: invalid number %q", start, text)
	}
	return arg{value: json.Number(text)}, nil
}

// template is a States.Format template split at its {} placeholders.
type template struct {
	parts []string // literal text; a placeholder sits between each two parts
	bad   bool     // a lone '{' or '}'
}

func (t *template) placeholders() int { return len(t.parts) - 1 }

// parseTemplate splits a template. In a literal written in the definition
// (escaped) \{ and \} are literal braces; a template read from a path has no
// escapes.
func parseTemplate(s string, escaped bool) *template {
	t := &template{}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped && c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '{':
			if i+1 < len(s) && s[i+1] == '}' {
				t.parts = append(t.parts, b.String())
				b.Reset()
				i++
			} else {
				t.bad = true
				b.WriteByte(c)
			}
		case c == '}':
			t.bad = true
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	t.parts = append(t.parts, b.String())
	return t
}
