package trigger

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Glob is a compiled trigger filter pattern. It is safe for concurrent use.
//
// The syntax is the one CodePipeline documents for trigger filters, Java's
// "glob:" syntax, matched against the whole name or path:
//
//   - any characters of one path component (no '/')
//     **      any characters, across '/'
//     ?       one character other than '/'
//     [abc]   one character of a set; [a-z] a range; [!a-c] any but these;
//     inside, *, ? and \ match themselves, and '-' does when it comes
//     first (or first after '!'); '/' is not allowed
//     {a,b}   either sub-pattern; groups do not nest
//     \c      the character c itself
//
// A pattern compiles to an RE2 regular expression, so matching takes time
// linear in the name whatever the pattern; a pattern without wildcards is
// compared as a string.
type Glob struct {
	pattern string
	literal string
	re      *regexp.Regexp
}

// GlobError says what is wrong with a pattern and where.
type GlobError struct {
	Pattern string
	Offset  int // byte offset in the pattern
	Msg     string
}

func (e *GlobError) Error() string {
	return fmt.Sprintf("glob %q: %s at offset %d", e.Pattern, e.Msg, e.Offset)
}

// CompileGlob compiles a pattern.
func CompileGlob(pattern string) (*Glob, error) {
	c := globCompiler{p: pattern}
	re, literal, err := c.compile()
	if err != nil {
		return nil, err
	}
	g := &Glob{pattern: pattern, literal: literal}
	if !c.wild {
		return g, nil
	}
	if g.re, err = regexp.Compile(re); err != nil {
		return nil, &GlobError{Pattern: pattern, Msg: err.Error()}
	}
	return g, nil
}

// Match reports whether name matches the whole pattern.
func (g *Glob) Match(name string) bool {
	if g.re == nil {
		return name == g.literal
	}
	return g.re.MatchString(name)
}

// String returns the pattern as written.
func (g *Glob) String() string { return g.pattern }

type globCompiler struct {
	p    string
	i    int
	wild bool // the pattern has a wildcard: it needs the expression
}

func (c *globCompiler) fail(at int, format string, a ...any) error {
	return &GlobError{Pattern: c.p, Offset: at, Msg: fmt.Sprintf(format, a...)}
}

func (c *globCompiler) next() (rune, bool) {
	if c.i >= len(c.p) {
		return 0, false
	}
	r, size := utf8.DecodeRuneInString(c.p[c.i:])
	c.i += size
	return r, true
}

func (c *globCompiler) peek() rune {
	if c.i >= len(c.p) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(c.p[c.i:])
	return r
}

// compile translates the pattern into a regular expression, and into the
// string it stands for when it has no wildcard.
func (c *globCompiler) compile() (re, literal string, err error) {
	var b, lit strings.Builder
	b.WriteString(`^(?:`)
	group := -1 // offset of the open group's '{'
	for {
		at := c.i
		r, ok := c.next()
		if !ok {
			break
		}
		switch r {
		case '\\':
			e, ok := c.next()
			if !ok {
				return "", "", c.fail(at, "no character to escape")
			}
			b.WriteString(regexp.QuoteMeta(string(e)))
			lit.WriteRune(e)
		case '*':
			c.wild = true
			if c.peek() == '*' {
				c.i++
				b.WriteString(`.*`)
			} else {
				b.WriteString(`[^/]*`)
			}
		case '?':
			c.wild = true
			b.WriteString(`[^/]`)
		case '[':
			c.wild = true
			class, err := c.bracket(at)
			if err != nil {
				return "", "", err
			}
			b.WriteString(class)
		case '{':
			if group >= 0 {
				return "", "", c.fail(at, "a group cannot be nested in the group at offset %d", group)
			}
			c.wild = true
			group = at
			b.WriteString(`(?:(?:`)
		case '}':
			if group < 0 {
				b.WriteString(`\}`)
				lit.WriteRune(r)
				continue
			}
			group = -1
			b.WriteString(`))`)
		case ',':
			if group < 0 {
				b.WriteRune(r)
				lit.WriteRune(r)
				continue
			}
			b.WriteString(`)|(?:`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
			lit.WriteRune(r)
		}
	}
	if group >= 0 {
		return "", "", c.fail(group, "the group has no closing '}'")
	}
	b.WriteString(`)$`)
	return b.String(), lit.String(), nil
}

type runeRange struct{ lo, hi rune }

// bracket reads a bracket expression whose '[' is at open, and returns it
// as a character class that never matches '/'.
func (c *globCompiler) bracket(open int) (string, error) {
	var ranges []runeRange
	negate := false
	switch c.peek() {
	case '^': // Java's glob takes '^' literally here
		c.i++
		ranges = append(ranges, runeRange{'^', '^'})
	case '!':
		c.i++
		negate = true
		fallthrough
	default:
		if c.peek() == '-' {
			c.i++
			ranges = append(ranges, runeRange{'-', '-'})
		}
	}
	canRange := false
	for {
		at := c.i
		r, ok := c.next()
		if !ok {
			return "", c.fail(open, "the bracket expression has no closing ']'")
		}
		switch {
		case r == ']':
			if len(ranges) == 0 {
				return "", c.fail(open, "the bracket expression is empty")
			}
			return classOf(ranges, negate), nil
		case r == '/':
			return "", c.fail(at, "'/' cannot be in a bracket expression")
		case r == '-':
			if !canRange {
				return "", c.fail(at, "a range needs a character before '-'")
			}
			hi, ok := c.next()
			if !ok {
				return "", c.fail(open, "the bracket expression has no closing ']'")
			}
			if hi == ']' { // a '-' last is itself
				ranges = append(ranges, runeRange{'-', '-'})
				return classOf(ranges, negate), nil
			}
			lo := ranges[len(ranges)-1].lo
			if hi < lo {
				return "", c.fail(at, "the range %c-%c runs backwards", lo, hi)
			}
			ranges[len(ranges)-1].hi = hi
			canRange = false
		default:
			ranges = append(ranges, runeRange{r, r})
			canRange = true
		}
	}
}

// classOf writes ranges as an RE2 character class, '/' always left out as
// Java's glob leaves it out.
func classOf(ranges []runeRange, negate bool) string {
	var b strings.Builder
	b.WriteByte('[')
	if negate {
		b.WriteString(`^/`)
	}
	var parts []runeRange
	for _, r := range ranges {
		if !negate && r.lo <= '/' && '/' <= r.hi {
			if r.lo < '/' {
				parts = append(parts, runeRange{r.lo, '/' - 1})
			}
			if r.hi > '/' {
				parts = append(parts, runeRange{'/' + 1, r.hi})
			}
			continue
		}
		parts = append(parts, r)
	}
	if len(parts) == 0 { // only '/' was in the set: nothing matches
		return `[^\x00-\x{10FFFF}]`
	}
	slices.SortFunc(parts, func(a, b runeRange) int { return int(a.lo - b.lo) })
	for _, r := range parts {
		fmt.Fprintf(&b, `\x{%x}`, r.lo)
		if r.hi != r.lo {
			fmt.Fprintf(&b, `-\x{%x}`, r.hi)
		}
	}
	b.WriteByte(']')
	return b.String()
}
