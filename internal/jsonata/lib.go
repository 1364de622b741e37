package jsonata

import (
	"encoding/base64"
	"math"
	"math/rand/v2"
	"strings"
	"unicode/utf8"

	"github.com/sluice-ci/sluice/internal/numtext"
)

// builtins is the standard function library of JSONata 2.0 (without $eval,
// which Step Functions does not offer) plus the functions Step Functions adds.
var builtins map[string]*builtin

func def(name, sig string, arity int, fn func(e *evaluator, c *callContext, args []any) (any, error)) {
	builtins[name] = &builtin{name: name, sig: mustSignature(sig), arity: arity, fn: fn}
}

// defString defines a function whose first parameter is a string: fn is
// given it as s, and the result is undefined when that argument is.
func defString(name, sig string, arity int, fn func(e *evaluator, c *callContext, s string, args []any) (any, error)) {
	def(name, sig, arity, func(e *evaluator, c *callContext, args []any) (any, error) {
		s, ok := strArg(args, 0)
		if !ok {
			return undefined, nil
		}
		return fn(e, c, s, args)
	})
}

// defStringMap defines a function from one string to another.
func defStringMap(name string, fn func(string) string) {
	defString(name, "<s-:s>", 1, func(_ *evaluator, _ *callContext, s string, _ []any) (any, error) {
		return fn(s), nil
	})
}

func init() {
	builtins = make(map[string]*builtin, 80)
	defineAggregates()
	defineStrings()
	defineNumbers()
	defineArrays()
	defineObjects()
	defineHigherOrder()
	defineEncoding()
	defineFormatting()
	defineDateTime()
	defineAWS()
}

func defineAggregates() {
	def("sum", "<a<n>:n>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		items, ok := arrayItems(args[0])
		if !ok {
			return undefined, nil
		}
		total := 0.0
		for _, it := range items {
			f, _ := toNumber(it)
			total += f
		}
		return total, nil
	})
	def("count", "<a:n>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		items, ok := arrayItems(args[0])
		if !ok {
			return 0.0, nil
		}
		return float64(len(items)), nil
	})
	extreme := func(max bool) func(e *evaluator, c *callContext, args []any) (any, error) {
		return func(e *evaluator, c *callContext, args []any) (any, error) {
			items, ok := arrayItems(args[0])
			if !ok || len(items) == 0 {
				return undefined, nil
			}
			best, _ := toNumber(items[0])
			for _, it := range items[1:] {
				f, _ := toNumber(it)
				if (max && f > best) || (!max && f < best) {
					best = f
				}
			}
			return best, nil
		}
	}
	def("max", "<a<n>:n>", 1, extreme(true))
	def("min", "<a<n>:n>", 1, extreme(false))
	def("average", "<a<n>:n>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		items, ok := arrayItems(args[0])
		if !ok || len(items) == 0 {
			return undefined, nil
		}
		total := 0.0
		for _, it := range items {
			f, _ := toNumber(it)
			total += f
		}
		return total / float64(len(items)), nil
	})
}

// stringOf is $string: strings as they are, numbers to 15 significant digits,
// everything else as JSON.
func stringOf(v any, pretty bool, pos int) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		return "null", nil
	}
	if isFunction(v) {
		return "", nil
	}
	if f, ok := toNumber(v); ok {
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return "", &Error{Code: "D3001", Position: pos, Value: f}
		}
		return numberText(v), nil
	}
	indent := 0
	if pretty {
		indent = 2
	}
	s := jsonText(v, indent, true)
	if len(s) > maxValueBytes {
		return "", &Error{Code: "U1003", Position: pos}
	}
	return s, nil
}

// jsTruthy is JavaScript's truthiness, which $sort applies to comparator
// results.
func jsTruthy(v any) bool {
	switch x := v.(type) {
	case undefinedType, nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	}
	if f, ok := toNumber(v); ok {
		return f != 0 && !math.IsNaN(f)
	}
	return true
}

func strArg(args []any, i int) (string, bool) {
	s, ok := argAt(args, i).(string)
	return s, ok
}

func numArg(args []any, i int) (float64, bool) {
	return toNumber(argAt(args, i))
}

// jsSliceBounds resolves JavaScript slice(start, end) arguments over n items.
func jsSliceBounds(n int, start float64, end *float64) (int, int) {
	clamp := func(f float64) int {
		f = math.Trunc(f)
		if f < 0 {
			f += float64(n)
			if f < 0 {
				f = 0
			}
		}
		if f > float64(n) {
			f = float64(n)
		}
		return int(f)
	}
	from := clamp(start)
	to := n
	if end != nil {
		to = clamp(*end)
	}
	if to < from {
		to = from
	}
	return from, to
}

func defineStrings() {
	def("string", "<x-b?:s>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		if args[0] == undefined {
			return undefined, nil
		}
		pretty, _ := argAt(args, 1).(bool)
		s, err := stringOf(args[0], pretty, c.pos)
		if err != nil {
			return nil, err
		}
		if err := e.work(len(s)/16, c.pos); err != nil {
			return nil, err
		}
		return s, nil
	})
	defString("substring", "<s-nn?:s>", 3, func(e *evaluator, c *callContext, s string, args []any) (any, error) {
		runes := []rune(s)
		start, _ := numArg(args, 1)
		n := float64(len(runes))
		if n+start < 0 {
			start = 0
		}
		if length, ok := numArg(args, 2); ok {
			if length <= 0 {
				return "", nil
			}
			end := start + length
			if start < 0 {
				end = n + start + length
			}
			from, to := jsSliceBounds(len(runes), start, &end)
			return string(runes[from:to]), nil
		}
		from, to := jsSliceBounds(len(runes), start, nil)
		return string(runes[from:to]), nil
	})
	// $substringBefore and $substringAfter give the whole string when the
	// other one is not in it.
	substringAround := func(name string, after bool) {
		defString(name, "<s-s:s>", 2, func(_ *evaluator, _ *callContext, s string, args []any) (any, error) {
			chars, ok := strArg(args, 1)
			if !ok {
				return s, nil
			}
			before, rest, found := strings.Cut(s, chars)
			switch {
			case !found:
				return s, nil
			case after:
				return rest, nil
			}
			return before, nil
		})
	}
	substringAround("substringBefore", false)
	substringAround("substringAfter", true)
	defStringMap("lowercase", strings.ToLower)
	defStringMap("uppercase", jsUpper)
	defStringMap("trim", jsTrim)
	defString("length", "<s-:n>", 1, func(_ *evaluator, _ *callContext, s string, _ []any) (any, error) {
		return float64(utf8.RuneCountInString(s)), nil
	})
	defString("pad", "<s-ns?:s>", 3, func(e *evaluator, c *callContext, s string, args []any) (any, error) {
		w, _ := numArg(args, 1)
		ch, ok := strArg(args, 2)
		if !ok || ch == "" {
			ch = " "
		}
		width := math.Trunc(w)
		padLength := math.Abs(width) - float64(utf8.RuneCountInString(s))
		if padLength <= 0 {
			return s, nil
		}
		if padLength > maxValueBytes {
			return nil, &Error{Code: "U1003", Position: c.pos}
		}
		if err := e.work(int(padLength)/16, c.pos); err != nil {
			return nil, err
		}
		chRunes := []rune(ch)
		pad := make([]rune, int(padLength))
		for i := range pad {
			pad[i] = chRunes[i%len(chRunes)]
		}
		if width > 0 {
			return s + string(pad), nil
		}
		return string(pad) + s, nil
	})
	defString("contains", "<s-(sf):b>", 2, func(e *evaluator, c *callContext, s string, args []any) (any, error) {
		if token, ok := args[1].(string); ok {
			return strings.Contains(s, token), nil
		}
		m, err := e.firstMatch(args[1], s, c)
		if err != nil {
			return nil, err
		}
		return m != nil, nil
	})
	defString("split", "<s-(sf)n?:a<s>>", 3, func(e *evaluator, c *callContext, s string, args []any) (any, error) {
		limit, hasLimit := numArg(args, 2)
		if hasLimit && limit < 0 {
			return nil, &Error{Code: "D3020", Position: c.pos, Value: limit}
		}
		result := []any{}
		if hasLimit && limit <= 0 {
			return result, nil
		}
		max := math.MaxInt
		if hasLimit && limit < float64(math.MaxInt32) {
			max = int(limit)
		}
		if sep, ok := args[1].(string); ok {
			var parts []string
			if sep == "" {
				for _, r := range s {
					parts = append(parts, string(r))
				}
			} else {
				parts = strings.Split(s, sep)
			}
			for i, p := range parts {
				if i >= max {
					break
				}
				result = append(result, p)
			}
			return result, nil
		}
		runes := []rune(s)
		m, err := e.firstMatch(args[1], s, c)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return []any{s}, nil
		}
		start, count := 0, 0
		for m != nil && count < max {
			result = append(result, string(runes[start:clampIndex(m.start, start, len(runes))]))
			start = clampIndex(m.end, start, len(runes))
			if m, err = m.next(); err != nil {
				return nil, err
			}
			count++
		}
		if count < max {
			result = append(result, string(runes[start:]))
		}
		return result, nil
	})
	def("join", "<a<s>s?:s>", 2, func(e *evaluator, c *callContext, args []any) (any, error) {
		items, ok := arrayItems(args[0])
		if !ok {
			return undefined, nil
		}
		sep, _ := strArg(args, 1)
		parts := make([]string, len(items))
		size := 0
		for i, it := range items {
			parts[i], _ = it.(string)
			size += len(parts[i]) + len(sep)
		}
		if size > maxValueBytes {
			return nil, &Error{Code: "U1003", Position: c.pos}
		}
		if err := e.work(size/16, c.pos); err != nil {
			return nil, err
		}
		return strings.Join(parts, sep), nil
	})
	defString("match", "<s-f<s:o>n?:a<o>>", 3, func(e *evaluator, c *callContext, s string, args []any) (any, error) {
		limit, hasLimit := numArg(args, 2)
		if hasLimit && limit < 0 {
			return nil, &Error{Code: "D3040", Position: c.pos, Value: limit}
		}
		result := newSeq()
		if hasLimit && limit <= 0 {
			return result, nil
		}
		m, err := e.firstMatch(args[1], s, c)
		if err != nil {
			return nil, err
		}
		for count := 0; m != nil && (!hasLimit || float64(count) < limit); count++ {
			o := newObject(3)
			o.set("match", m.match)
			o.set("index", float64(m.start))
			o.set("groups", m.groups)
			result.items = append(result.items, o)
			if m, err = m.next(); err != nil {
				return nil, err
			}
		}
		return result, nil
	})
	defString("replace", "<s-(sf)(sf)n?:s>", 4, replaceFn)
}

func clampIndex(i, lo, hi int) int {
	if i < lo {
		return lo
	}
	if i > hi {
		return hi
	}
	return i
}

// jsTrim is $trim: runs of whitespace become one space, then the ends are
// trimmed.
func jsTrim(s string) string {
	var b strings.Builder
	inSpace := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			if !inSpace {
				b.WriteByte(' ')
			}
			inSpace = true
			continue
		}
		inSpace = false
		b.WriteByte(c)
	}
	r := b.String()
	r = strings.TrimPrefix(r, " ")
	return strings.TrimSuffix(r, " ")
}

// jsUpper is String.prototype.toUpperCase, including the one-to-many
// mappings Go's per-rune mapping leaves out.
func jsUpper(s string) string {
	u := strings.ToUpper(s)
	if !strings.ContainsAny(u, "ßŉǰΐΰﬀﬁﬂﬃﬄﬅﬆ") {
		return u
	}
	r := strings.NewReplacer("ß", "SS", "ŉ", "ʼN", "ǰ", "J̌", "ﬀ", "FF", "ﬁ", "FI", "ﬂ", "FL", "ﬃ", "FFI", "ﬄ", "FFL", "ﬅ", "ST", "ﬆ", "ST")
	return r.Replace(u)
}

func replaceFn(e *evaluator, c *callContext, s string, args []any) (any, error) {
	if p, ok := args[1].(string); ok && p == "" {
		return nil, &Error{Code: "D3010", Position: c.pos, Value: p}
	}
	limit, hasLimit := numArg(args, 3)
	if hasLimit && limit < 0 {
		return nil, &Error{Code: "D3011", Position: c.pos, Value: limit}
	}
	if hasLimit && limit <= 0 {
		return s, nil
	}
	replacement := argAt(args, 2)
	within := func(count int) bool { return !hasLimit || float64(count) < limit }
	var b strings.Builder
	if pattern, ok := args[1].(string); ok {
		rs, _ := replacement.(string)
		pos := 0
		for count := 0; within(count); count++ {
			i := strings.Index(s[pos:], pattern)
			if i < 0 {
				break
			}
			b.WriteString(s[pos : pos+i])
			b.WriteString(rs)
			pos += i + len(pattern)
			if b.Len() > maxValueBytes {
				return nil, &Error{Code: "U1003", Position: c.pos}
			}
		}
		b.WriteString(s[pos:])
		return b.String(), nil
	}
	runes := []rune(s)
	m, err := e.firstMatch(args[1], s, c)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return s, nil
	}
	pos := 0
	for count := 0; m != nil && within(count); count++ {
		b.WriteString(string(runes[pos:clampIndex(m.start, pos, len(runes))]))
		var with any
		if rs, ok := replacement.(string); ok {
			with = substituteGroups(rs, m)
		} else {
			mo := newObject(5)
			mo.set("match", m.match)
			mo.set("start", float64(m.start))
			mo.set("end", float64(m.end))
			mo.set("groups", m.groups)
			if with, err = e.apply(replacement, []any{mo}, nil, c.env, c.pos, ""); err != nil {
				return nil, err
			}
		}
		ws, ok := with.(string)
		if !ok {
			return nil, &Error{Code: "D3012", Position: c.pos, Value: with}
		}
		b.WriteString(ws)
		if b.Len() > maxValueBytes {
			return nil, &Error{Code: "U1003", Position: c.pos}
		}
		pos = clampIndex(m.start+utf8.RuneCountInString(m.match), pos, len(runes))
		if m, err = m.next(); err != nil {
			return nil, err
		}
	}
	b.WriteString(string(runes[pos:]))
	return b.String(), nil
}

// substituteGroups expands $0, $1.. and $$ in a replacement string.
func substituteGroups(repl string, m *matchResult) string {
	var b strings.Builder
	pos := 0
	for pos < len(repl) {
		i := strings.IndexByte(repl[pos:], '$')
		if i < 0 {
			break
		}
		b.WriteString(repl[pos : pos+i])
		pos += i + 1
		if pos >= len(repl) {
			b.WriteByte('$')
			break
		}
		switch d := repl[pos]; {
		case d == '$':
			b.WriteByte('$')
			pos++
		case d == '0':
			b.WriteString(m.match)
			pos++
		default:
			maxDigits := 1
			if len(m.groups) > 0 {
				maxDigits = int(math.Floor(math.Log10(float64(len(m.groups))))) + 1
			}
			index, n := leadingInt(repl[pos:], maxDigits)
			if maxDigits > 1 && index > len(m.groups) {
				index, n = leadingInt(repl[pos:], maxDigits-1)
			}
			if n == 0 {
				b.WriteByte('$')
				continue
			}
			if len(m.groups) > 0 && index >= 1 && index <= len(m.groups) {
				if g, ok := m.groups[index-1].(string); ok {
					b.WriteString(g)
				}
			}
			pos += n
		}
	}
	if pos < len(repl) {
		b.WriteString(repl[pos:])
	}
	return b.String()
}

func leadingInt(s string, maxDigits int) (int, int) {
	n := 0
	v := 0
	for n < len(s) && n < maxDigits && s[n] >= '0' && s[n] <= '9' {
		v = v*10 + int(s[n]-'0')
		n++
	}
	return v, n
}

// matchResult is one match of a regex (or of a custom matcher function).
type matchResult struct {
	match  string
	start  int
	end    int
	groups []any
	next   func() (*matchResult, error)
}

// firstMatch runs a matcher over s: a regular expression, or a function that
// follows JSONata's matcher protocol.
func (e *evaluator) firstMatch(matcher any, s string, c *callContext) (*matchResult, error) {
	if rv, ok := matcher.(*regexValue); ok {
		runes := []rune(s)
		m, err := rv.matchRunes(e, runes, 0)
		if err != nil || m == nil {
			return nil, err
		}
		return wrapRegexMatch(m, c.pos), nil
	}
	res, err := e.apply(matcher, []any{s}, nil, c.env, c.pos, c.name)
	if err != nil {
		return nil, err
	}
	return e.customMatch(res, c)
}

func wrapRegexMatch(m *regexMatch, pos int) *matchResult {
	r := &matchResult{match: m.match, start: m.start, end: m.end, groups: m.groups}
	r.next = func() (*matchResult, error) {
		n, err := m.next(pos)
		if err != nil || n == nil {
			return nil, err
		}
		return wrapRegexMatch(n, pos), nil
	}
	return r
}

func (e *evaluator) customMatch(res any, c *callContext) (*matchResult, error) {
	if res == undefined {
		return nil, nil
	}
	bad := &Error{Code: "T1010", Position: c.pos, Token: c.name}
	if !isObject(res) {
		return nil, bad
	}
	start, okS := toNumber(lookupField(res, "start"))
	end, okE := toNumber(lookupField(res, "end"))
	groups, okG := arrayItems(lookupField(res, "groups"))
	next := lookupField(res, "next")
	if !okS && !okE && !okG && !isFunction(next) {
		return nil, bad
	}
	match, _ := lookupField(res, "match").(string)
	r := &matchResult{match: match, start: int(start), end: int(end), groups: groups}
	r.next = func() (*matchResult, error) {
		if !isFunction(next) {
			return nil, nil
		}
		v, err := e.apply(next, nil, nil, c.env, c.pos, c.name)
		if err != nil {
			return nil, err
		}
		return e.customMatch(v, c)
	}
	return r, nil
}

func defineEncoding() {
	defStringMap("base64encode", func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) })
	defString("base64decode", "<s-:s>", 1, func(e *evaluator, c *callContext, s string, args []any) (any, error) {
		clean := strings.Map(func(r rune) rune {
			if r == '-' {
				return '+'
			}
			if r == '_' {
				return '/'
			}
			if (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '+' || r == '/' {
				return r
			}
			return -1
		}, s)
		b, err := base64.RawStdEncoding.DecodeString(clean)
		if err != nil {
			return nil, &Error{Code: "D3137", Position: c.pos, Value: "Invalid base64 string: " + jsString(s)}
		}
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	})
	url := func(name string, fn func(string) (string, bool)) {
		defString(name, "<s-:s>", 1, func(_ *evaluator, c *callContext, s string, _ []any) (any, error) {
			out, ok := fn(s)
			if !ok {
				return nil, &Error{Code: "D3140", Position: c.pos, Token: name, Value: s}
			}
			return out, nil
		})
	}
	url("encodeUrlComponent", func(s string) (string, bool) { return uriEncode(s, uriUnreservedComponent) })
	url("encodeUrl", func(s string) (string, bool) { return uriEncode(s, uriUnreservedFull) })
	url("decodeUrlComponent", func(s string) (string, bool) { return uriDecode(s, "") })
	url("decodeUrl", func(s string) (string, bool) { return uriDecode(s, ";/?:@&=+$,#") })
}

const (
	uriUnreservedComponent = "-_.!~*'()"
	uriUnreservedFull      = "-_.!~*'();/?:@&=+$,#"
)

// uriEncode is encodeURIComponent / encodeURI.
func uriEncode(s string, keep string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&0xF])
	}
	return b.String(), true
}

// uriDecode is decodeURIComponent / decodeURI; reserved lists the characters
// whose escapes decodeURI leaves alone.
func uriDecode(s string, reserved string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '%' {
			b.WriteByte(s[i])
			i++
			continue
		}
		var bytes []byte
		start := i
		for i < len(s) && s[i] == '%' {
			if i+2 >= len(s) {
				return "", false
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			bytes = append(bytes, hi<<4|lo)
			i += 3
			if utf8.FullRune(bytes) {
				break
			}
		}
		r, size := utf8.DecodeRune(bytes)
		if r == utf8.RuneError || size != len(bytes) {
			return "", false
		}
		if r < utf8.RuneSelf && strings.ContainsRune(reserved, r) {
			b.WriteString(s[start:i])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String(), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func defineNumbers() {
	def("number", "<(nsb)-:n>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		switch x := args[0].(type) {
		case undefinedType:
			return undefined, nil
		case bool:
			if x {
				return 1.0, nil
			}
			return 0.0, nil
		case string:
			if f, ok := parseJSNumber(x); ok {
				return f, nil
			}
			return nil, &Error{Code: "D3030", Position: c.pos, Value: x}
		}
		if isNumber(args[0]) {
			return args[0], nil
		}
		return nil, &Error{Code: "D3030", Position: c.pos, Value: args[0]}
	})
	unary := func(name string, fn func(float64) float64) {
		def(name, "<n-:n>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
			f, ok := toNumber(args[0])
			if !ok {
				return undefined, nil
			}
			return fn(f), nil
		})
	}
	unary("floor", math.Floor)
	unary("ceil", math.Ceil)
	unary("abs", math.Abs)
	def("sqrt", "<n-:n>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		f, ok := toNumber(args[0])
		if !ok {
			return undefined, nil
		}
		if f < 0 {
			return nil, &Error{Code: "D3060", Position: c.pos, Value: args[0]}
		}
		return math.Sqrt(f), nil
	})
	def("round", "<n-n?:n>", 2, func(e *evaluator, c *callContext, args []any) (any, error) {
		f, ok := toNumber(args[0])
		if !ok {
			return undefined, nil
		}
		p, _ := numArg(args, 1)
		return roundHalfEven(f, int(p)), nil
	})
	def("power", "<n-n:n>", 2, func(e *evaluator, c *callContext, args []any) (any, error) {
		b, ok := toNumber(args[0])
		if !ok {
			return undefined, nil
		}
		x, _ := numArg(args, 1)
		r := math.Pow(b, x)
		if math.IsInf(r, 0) || math.IsNaN(r) {
			return nil, &Error{Code: "D3061", Position: c.pos, Value: args[0], Value2: args[1]}
		}
		return r, nil
	})
}

// parseJSNumber is the string form $number accepts: a JSON number, or a hex,
// octal or binary integer literal.
func parseJSNumber(s string) (float64, bool) {
	if numtext.IsLooseJSON(s) {
		f, err := parseFloat(s)
		if err != nil || math.IsInf(f, 0) {
			return 0, false
		}
		return f, true
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			v := 0.0
			for _, r := range s[2:] {
				d, ok := unhex(byte(r))
				if r > 0x7f || !ok || int(d) >= base {
					return 0, false
				}
				v = v*float64(base) + float64(d)
			}
			return v, true
		}
	}
	return 0, false
}

// roundHalfEven is $round: round half to even at the given decimal place,
// shifting the decimal point in the number's text to avoid binary error.
func roundHalfEven(f float64, precision int) float64 {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return f
	}
	v := f
	if precision != 0 {
		v = shiftDecimal(f, precision)
	}
	r := math.Floor(v + 0.5)
	if math.Abs(r-v) == 0.5 && math.Mod(math.Abs(r), 2) == 1 {
		r--
	}
	if precision != 0 {
		r = shiftDecimal(r, -precision)
	}
	if r == 0 {
		return 0
	}
	return r
}

func shiftDecimal(f float64, places int) float64 {
	s := numtext.JavaScript(f)
	mant, exp, found := strings.Cut(s, "e")
	e := 0
	if found {
		e = atoiSigned(exp)
	}
	v, _ := parseFloat(mant + "e" + itoa(e+places))
	return v
}

func defineArrays() {
	def("append", "<xx:a>", 2, func(e *evaluator, c *callContext, args []any) (any, error) {
		v := appendValues(args[0], args[1])
		if items, ok := arrayItems(v); ok {
			if len(items)*8 > maxValueBytes {
				return nil, &Error{Code: "U1003", Position: c.pos}
			}
			if err := e.work(len(items), c.pos); err != nil {
				return nil, err
			}
		}
		return v, nil
	})
	def("reverse", "<a:a>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		items, ok := arrayItems(args[0])
		if !ok {
			return undefined, nil
		}
		if len(items) <= 1 {
			return args[0], nil
		}
		out := make([]any, len(items))
		for i, it := range items {
			out[len(items)-1-i] = it
		}
		return out, nil
	})
	def("shuffle", "<a:a>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		items, ok := arrayItems(args[0])
		if !ok {
			return undefined, nil
		}
		if len(items) <= 1 {
			return args[0], nil
		}
		out := append([]any(nil), items...)
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out, nil
	})
	def("distinct", "<x:x>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		items, ok := arrayItems(args[0])
		if !ok || len(items) <= 1 {
			return args[0], nil
		}
		out := make([]any, 0, len(items))
		for _, it := range items {
			if err := e.work(len(out)+1, c.pos); err != nil {
				return nil, err
			}
			dup := false
			for _, o := range out {
				if deepEqual(it, o) {
					dup = true
					break
				}
			}
			if !dup {
				out = append(out, it)
			}
		}
		if isSequence(args[0]) {
			return &seq{items: out, sequence: true}, nil
		}
		return out, nil
	})
	def("zip", "<a+>", 0, func(e *evaluator, c *callContext, args []any) (any, error) {
		length := math.MaxInt
		lists := make([][]any, len(args))
		for i, a := range args {
			items, _ := arrayItems(a)
			lists[i] = items
			if len(items) < length {
				length = len(items)
			}
		}
		if len(args) == 0 {
			length = 0
		}
		out := make([]any, 0, length)
		for i := 0; i < length; i++ {
			t := make([]any, len(lists))
			for j := range lists {
				t[j] = lists[j][i]
			}
			out = append(out, t)
		}
		return out, nil
	})
	def("sort", "<af?:a>", 2, func(e *evaluator, c *callContext, args []any) (any, error) {
		items, ok := arrayItems(args[0])
		if !ok {
			return undefined, nil
		}
		if len(items) <= 1 {
			return args[0], nil
		}
		var greater func(a, b any) (bool, error)
		if fn := argAt(args, 1); fn != undefined {
			greater = func(a, b any) (bool, error) {
				r, err := e.apply(fn, []any{a, b}, nil, c.env, c.pos, "")
				if err != nil {
					return false, err
				}
				return jsTruthy(r), nil
			}
		} else {
			allNum, allStr := true, true
			for _, it := range items {
				if !isNumber(it) {
					allNum = false
				}
				if _, ok := it.(string); !ok {
					allStr = false
				}
			}
			if !allNum && !allStr {
				return nil, &Error{Code: "D3070", Position: c.pos}
			}
			greater = func(a, b any) (bool, error) {
				if allStr {
					return compareJSStrings(a.(string), b.(string)) > 0, nil
				}
				af, _ := toNumber(a)
				bf, _ := toNumber(b)
				return af > bf, nil
			}
		}
		return mergeSort(items, greater)
	})
}

func defineObjects() {
	def("keys", "<x-:a<s>>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		result := newSeq()
		if items, ok := arrayItems(args[0]); ok {
			seen := make(map[string]bool)
			for _, it := range items {
				for _, k := range objectKeys(it) {
					if !seen[k] {
						seen[k] = true
						result.items = append(result.items, k)
					}
				}
			}
			return result, nil
		}
		for _, k := range objectKeys(args[0]) {
			result.items = append(result.items, k)
		}
		return result, nil
	})
	def("lookup", "<x-s:x>", 2, func(e *evaluator, c *callContext, args []any) (any, error) {
		k, _ := strArg(args, 1)
		return lookupField(args[0], k), nil
	})
	def("spread", "<x-:a<o>>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		return spread(args[0]), nil
	})
	def("merge", "<a<o>:o>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		items, ok := arrayItems(args[0])
		if !ok {
			return undefined, nil
		}
		out := newObject(0)
		for _, it := range items {
			for _, k := range objectKeys(it) {
				v, _ := objectGet(it, k)
				out.set(k, v)
			}
		}
		return out, nil
	})
	def("error", "<s?:x>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		msg, ok := strArg(args, 0)
		if !ok {
			msg = "$error() function evaluated"
		}
		return nil, &Error{Code: "D3137", Position: c.pos, Value: msg}
	})
	def("assert", "<bs?:x>", 2, func(e *evaluator, c *callContext, args []any) (any, error) {
		if b, _ := args[0].(bool); !b {
			msg, ok := strArg(args, 1)
			if !ok {
				msg = "$assert() statement failed"
			}
			return nil, &Error{Code: "D3141", Position: c.pos, Value: msg}
		}
		return undefined, nil
	})
	def("type", "<x:s>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		v := args[0]
		switch v.(type) {
		case undefinedType:
			return undefined, nil
		case nil:
			return "null", nil
		case string:
			return "string", nil
		case bool:
			return "boolean", nil
		case []any, *seq:
			return "array", nil
		}
		if isNumber(v) {
			return "number", nil
		}
		if isFunction(v) {
			return "function", nil
		}
		return "object", nil
	})
	def("clone", "<(oa)-:o>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		if args[0] == undefined {
			return undefined, nil
		}
		return deepClone(args[0]), nil
	})
	def("boolean", "<x-:b>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		b, ok := booleanOf(args[0])
		if !ok {
			return undefined, nil
		}
		return b, nil
	})
	def("not", "<x-:b>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		b, ok := booleanOf(args[0])
		if !ok {
			return undefined, nil
		}
		return !b, nil
	})
	def("exists", "<x:b>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		return args[0] != undefined, nil
	})
}

func spread(v any) any {
	if items, ok := arrayItems(v); ok {
		var result any = newSeq()
		for _, it := range items {
			result = appendValues(result, spread(it))
		}
		return result
	}
	if isObject(v) {
		result := newSeq()
		for _, k := range objectKeys(v) {
			val, _ := objectGet(v, k)
			o := newObject(1)
			o.set(k, val)
			result.items = append(result.items, o)
		}
		return result
	}
	return v
}

// deepClone copies a value into fresh built objects and arrays that the
// transform operator may change.
func deepClone(v any) any {
	switch x := v.(type) {
	case []any, *seq:
		items, _ := arrayItems(x)
		out := make([]any, 0, len(items))
		for _, it := range items {
			if it == undefined {
				continue
			}
			if isFunction(it) {
				out = append(out, "")
				continue
			}
			out = append(out, deepClone(it))
		}
		return out
	case map[string]any, *object:
		keys := objectKeys(x)
		out := newObject(len(keys))
		for _, k := range keys {
			val, _ := objectGet(x, k)
			if val == undefined {
				continue
			}
			if isFunction(val) {
				out.set(k, "")
				continue
			}
			out.set(k, deepClone(val))
		}
		return out
	}
	return v
}

// callback calls fn, the function argument of a higher-order function, with
// a value, its index or key, and the whole input: as many of them as fn
// takes.
func (e *evaluator) callback(c *callContext, fn, value, key, all any) (any, error) {
	args := []any{value}
	n := arity(fn)
	if n >= 2 {
		args = append(args, key)
	}
	if n >= 3 {
		args = append(args, all)
	}
	return e.apply(fn, args, nil, c.env, c.pos, "")
}

func defineHigherOrder() {
	// $map keeps each defined result, $filter each item whose result is
	// true.
	eachItem := func(name string, keep func(item, result any) (any, bool)) {
		def(name, "<af>", 2, func(e *evaluator, c *callContext, args []any) (any, error) {
			items, ok := arrayItems(args[0])
			if !ok {
				return undefined, nil
			}
			result := newSeq()
			for i, it := range items {
				r, err := e.callback(c, args[1], it, float64(i), args[0])
				if err != nil {
					return nil, err
				}
				if v, ok := keep(it, r); ok {
					result.items = append(result.items, v)
				}
			}
			return result, nil
		})
	}
	eachItem("map", func(_, r any) (any, bool) { return r, r != undefined })
	eachItem("filter", func(it, r any) (any, bool) {
		b, _ := booleanOf(r)
		return it, b
	})
	def("single", "<af?>", 2, func(e *evaluator, c *callContext, args []any) (any, error) {
		items, ok := arrayItems(args[0])
		if !ok {
			return undefined, nil
		}
		fn := argAt(args, 1)
		found := false
		var result any = undefined
		for i, it := range items {
			positive := true
			if fn != undefined {
				r, err := e.callback(c, fn, it, float64(i), args[0])
				if err != nil {
					return nil, err
				}
				positive, _ = booleanOf(r)
			}
			if positive {
				if found {
					return nil, &Error{Code: "D3138", Position: c.pos, Index: i}
				}
				result = it
				found = true
			}
		}
		if !found {
			return nil, &Error{Code: "D3139", Position: c.pos}
		}
		return result, nil
	})
	def("reduce", "<afj?:j>", 3, func(e *evaluator, c *callContext, args []any) (any, error) {
		items, ok := arrayItems(args[0])
		if !ok {
			return undefined, nil
		}
		fn := args[1]
		n := arity(fn)
		if n < 2 {
			return nil, &Error{Code: "D3050", Position: c.pos, Index: 1}
		}
		result := argAt(args, 2)
		index := 0
		if result == undefined && len(items) > 0 {
			result = items[0]
			index = 1
		}
		for ; index < len(items); index++ {
			a := []any{result, items[index]}
			if n >= 3 {
				a = append(a, float64(index))
			}
			if n >= 4 {
				a = append(a, args[0])
			}
			var err error
			if result, err = e.apply(fn, a, nil, c.env, c.pos, ""); err != nil {
				return nil, err
			}
		}
		return result, nil
	})
	def("each", "<o-f:a>", 2, func(e *evaluator, c *callContext, args []any) (any, error) {
		if !isObject(args[0]) {
			return undefined, nil
		}
		result := newSeq()
		for _, k := range objectKeys(args[0]) {
			v, _ := objectGet(args[0], k)
			r, err := e.callback(c, args[1], v, k, args[0])
			if err != nil {
				return nil, err
			}
			if r != undefined {
				result.items = append(result.items, r)
			}
		}
		return result, nil
	})
	def("sift", "<o-f?:o>", 2, func(e *evaluator, c *callContext, args []any) (any, error) {
		if !isObject(args[0]) {
			return undefined, nil
		}
		fn := argAt(args, 1)
		out := newObject(0)
		for _, k := range objectKeys(args[0]) {
			v, _ := objectGet(args[0], k)
			r, err := e.callback(c, fn, v, k, args[0])
			if err != nil {
				return nil, err
			}
			if b, _ := booleanOf(r); b {
				out.set(k, v)
			}
		}
		if len(out.keys) == 0 {
			return undefined, nil
		}
		return out, nil
	})
}
