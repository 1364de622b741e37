package jsonata

import (
	"math"
	"strconv"
	"strings"

	"github.com/sluice-ci/sluice/internal/numtext"
)

// The number formatting functions follow the XPath and XQuery Functions and
// Operators 3.1 rules that JSONata adopts: format-number pictures (with their
// validation rules D3080 to D3093), format-integer pictures (decimal digit
// patterns, letters, roman numerals, words, ordinals) and their parsing.

func defineFormatting() {
	def("formatBase", "<n-n?:s>", 2, func(e *evaluator, c *callContext, args []any) (any, error) {
		f, ok := toNumber(args[0])
		if !ok {
			return undefined, nil
		}
		f = roundHalfEven(f, 0)
		radix := 10.0
		if r, ok := numArg(args, 1); ok {
			radix = r
		}
		if radix < 2 || radix > 36 {
			return nil, &Error{Code: "D3100", Position: c.pos, Value: radix}
		}
		if math.Abs(f) < 1<<63 {
			return strconv.FormatInt(int64(f), int(radix)), nil
		}
		return numtext.JavaScript(f), nil
	})
	def("formatNumber", "<n-so?:s>", 3, func(e *evaluator, c *callContext, args []any) (any, error) {
		f, ok := toNumber(args[0])
		if !ok {
			return undefined, nil
		}
		picture, _ := strArg(args, 1)
		return c.result(formatPicture(f, picture, argAt(args, 2)))
	})
	def("formatInteger", "<n-s:s>", 2, func(e *evaluator, c *callContext, args []any) (any, error) {
		f, ok := toNumber(args[0])
		if !ok {
			return undefined, nil
		}
		picture, _ := strArg(args, 1)
		spec, err := analyseIntegerPicture(picture)
		if err != nil {
			return c.result(nil, err)
		}
		return c.result(formatIntegerSpec(math.Floor(f), spec))
	})
	defString("parseInteger", "<s-s:n>", 2, func(e *evaluator, c *callContext, s string, args []any) (any, error) {
		picture, _ := strArg(args, 1)
		spec, err := analyseIntegerPicture(picture)
		if err != nil {
			return c.result(nil, err)
		}
		return c.result(parseIntegerSpec(s, spec))
	})
}

type decimalFormat struct {
	decimal, grouping, exponent, percent, perMille, zero, digit, pattern rune
	minus, infinity, nan                                                 string
	family                                                               []rune
}

func (d *decimalFormat) isDigit(r rune) bool { return r >= d.family[0] && r <= d.family[9] }

func (d *decimalFormat) isActive(r rune) bool {
	return d.isDigit(r) || r == d.decimal || r == d.exponent || r == d.grouping || r == d.digit || r == d.pattern
}

func newDecimalFormat(options any) *decimalFormat {
	d := &decimalFormat{decimal: '.', grouping: ',', exponent: 'e', percent: '%', perMille: '\u2030', zero: '0', digit: '#', pattern: ';',
		minus: "-", infinity: "Infinity", nan: "NaN"}
	if isObject(options) {
		first := func(k string, into *rune) {
			if v, ok := objectGet(options, k); ok {
				if s, ok := v.(string); ok && s != "" {
					*into = []rune(s)[0]
				}
			}
		}
		first("decimal-separator", &d.decimal)
		first("grouping-separator", &d.grouping)
		first("exponent-separator", &d.exponent)
		first("percent", &d.percent)
		first("per-mille", &d.perMille)
		first("zero-digit", &d.zero)
		first("digit", &d.digit)
		first("pattern-separator", &d.pattern)
		str := func(k string, into *string) {
			if v, ok := objectGet(options, k); ok {
				if s, ok := v.(string); ok {
					*into = s
				}
			}
		}
		str("minus-sign", &d.minus)
		str("infinity", &d.infinity)
		str("NaN", &d.nan)
	}
	for i := 0; i < 10; i++ {
		d.family = append(d.family, d.zero+rune(i))
	}
	return d
}

type subPicture struct {
	prefix, suffix, active, mantissa, integer, fractional []rune
	exponent                                              []rune
	hasExponent                                           bool
	picture                                               []rune
}

func runeIndex(rs []rune, r rune, from int) int {
	for i := max(from, 0); i < len(rs); i++ {
		if rs[i] == r {
			return i
		}
	}
	return -1
}

func runeLastIndex(rs []rune, r rune) int {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i] == r {
			return i
		}
	}
	return -1
}

func runeSlice(rs []rune, from, to int) []rune {
	from = min(max(from, 0), len(rs))
	to = min(max(to, from), len(rs))
	return rs[from:to]
}

func (d *decimalFormat) split(pic []rune) subPicture {
	p := subPicture{picture: pic}
	for i, r := range pic {
		if d.isActive(r) && r != d.exponent {
			p.prefix = pic[:i]
			break
		}
	}
	for i := len(pic) - 1; i >= 0; i-- {
		if d.isActive(pic[i]) && pic[i] != d.exponent {
			p.suffix = pic[i+1:]
			break
		}
	}
	p.active = runeSlice(pic, len(p.prefix), len(pic)-len(p.suffix))
	expPos := runeIndex(pic, d.exponent, len(p.prefix))
	if expPos == -1 || expPos > len(pic)-len(p.suffix) {
		p.mantissa = p.active
	} else {
		p.mantissa = runeSlice(p.active, 0, expPos)
		p.exponent = runeSlice(p.active, expPos+1, len(p.active))
		p.hasExponent = true
	}
	dec := runeIndex(p.mantissa, d.decimal, 0)
	if dec == -1 {
		p.integer = p.mantissa
		p.fractional = p.suffix
	} else {
		p.integer = p.mantissa[:dec]
		p.fractional = p.mantissa[dec+1:]
	}
	return p
}

func (d *decimalFormat) validate(p subPicture) *Error {
	code := ""
	pic := p.picture
	dec := runeIndex(pic, d.decimal, 0)
	if dec != runeLastIndex(pic, d.decimal) {
		code = "D3081"
	}
	if runeIndex(pic, d.percent, 0) != runeLastIndex(pic, d.percent) {
		code = "D3082"
	}
	if runeIndex(pic, d.perMille, 0) != runeLastIndex(pic, d.perMille) {
		code = "D3083"
	}
	if runeIndex(pic, d.percent, 0) != -1 && runeIndex(pic, d.perMille, 0) != -1 {
		code = "D3084"
	}
	valid := false
	for _, r := range p.mantissa {
		if d.isDigit(r) || r == d.digit {
			valid = true
			break
		}
	}
	if !valid {
		code = "D3085"
	}
	for _, r := range p.active {
		if !d.isActive(r) {
			code = "D3086"
			break
		}
	}
	at := func(i int) rune {
		if i < 0 || i >= len(pic) {
			return -1
		}
		return pic[i]
	}
	if dec != -1 {
		if at(dec-1) == d.grouping || at(dec+1) == d.grouping {
			code = "D3087"
		}
	} else if len(p.integer) > 0 && p.integer[len(p.integer)-1] == d.grouping {
		code = "D3088"
	}
	for i := 0; i+1 < len(pic); i++ {
		if pic[i] == d.grouping && pic[i+1] == d.grouping {
			code = "D3089"
			break
		}
	}
	if opt := runeIndex(p.integer, d.digit, 0); opt != -1 {
		for _, r := range p.integer[:opt] {
			if d.isDigit(r) {
				code = "D3090"
				break
			}
		}
	}
	if opt := runeLastIndex(p.fractional, d.digit); opt != -1 {
		for _, r := range p.fractional[opt:] {
			if d.isDigit(r) {
				code = "D3091"
				break
			}
		}
	}
	if p.hasExponent && len(p.exponent) > 0 && (runeIndex(pic, d.percent, 0) != -1 || runeIndex(pic, d.perMille, 0) != -1) {
		code = "D3092"
	}
	if p.hasExponent {
		bad := len(p.exponent) == 0
		for _, r := range p.exponent {
			if !d.isDigit(r) {
				bad = true
			}
		}
		if bad {
			code = "D3093"
		}
	}
	if code != "" {
		return &Error{Code: code}
	}
	return nil
}

type pictureVars struct {
	integerGroups    []int
	regularGrouping  int
	minInteger       int
	scaling          int
	prefix, suffix   string
	fractionalGroups []int
	minFraction      int
	maxFraction      int
	minExponent      int
	picture          []rune
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// regularInterval returns the common interval of grouping positions, or 0.
func regularInterval(positions []int) int {
	if len(positions) == 0 {
		return 0
	}
	factor := positions[0]
	for _, p := range positions[1:] {
		factor = gcd(factor, p)
	}
	for i := 1; i <= len(positions); i++ {
		found := false
		for _, p := range positions {
			if p == i*factor {
				found = true
				break
			}
		}
		if !found {
			return 0
		}
	}
	return factor
}

func (d *decimalFormat) analyse(p subPicture) pictureVars {
	countDigits := func(rs []rune, optional bool) int {
		n := 0
		for _, r := range rs {
			if d.isDigit(r) || (optional && r == d.digit) {
				n++
			}
		}
		return n
	}
	groupPositions := func(part []rune, toLeft bool) []int {
		var out []int
		pos := runeIndex(part, d.grouping, 0)
		for pos != -1 {
			if toLeft {
				out = append(out, countDigits(runeSlice(part, 0, pos), true))
			} else {
				out = append(out, countDigits(runeSlice(part, pos, len(part)), true))
			}
			pos = runeIndex(p.integer, d.grouping, pos+1)
		}
		return out
	}
	v := pictureVars{prefix: string(p.prefix), suffix: string(p.suffix), picture: p.picture}
	v.integerGroups = groupPositions(p.integer, false)
	v.regularGrouping = regularInterval(v.integerGroups)
	v.fractionalGroups = groupPositions(p.fractional, true)
	v.minInteger = countDigits(p.integer, false)
	v.scaling = v.minInteger
	v.minFraction = countDigits(p.fractional, false)
	v.maxFraction = countDigits(p.fractional, true)
	if v.minInteger == 0 && v.maxFraction == 0 {
		if p.hasExponent {
			v.minFraction, v.maxFraction = 1, 1
		} else {
			v.minInteger = 1
		}
	}
	if p.hasExponent && v.minInteger == 0 && runeIndex(p.integer, d.digit, 0) != -1 {
		v.minInteger = 1
	}
	if v.minInteger == 0 && v.minFraction == 0 {
		v.minFraction = 1
	}
	if p.hasExponent {
		v.minExponent = countDigits(p.exponent, false)
	}
	return v
}

func formatPicture(value float64, picture string, options any) (string, *Error) {
	d := newDecimalFormat(options)
	var subs [][]rune
	for _, s := range strings.Split(picture, string(d.pattern)) {
		subs = append(subs, []rune(s))
	}
	if len(subs) > 2 {
		return "", &Error{Code: "D3080"}
	}
	var parts []subPicture
	for _, s := range subs {
		p := d.split(s)
		if err := d.validate(p); err != nil {
			return "", err
		}
		parts = append(parts, p)
	}
	var vars []pictureVars
	for _, p := range parts {
		vars = append(vars, d.analyse(p))
	}
	if len(vars) == 1 {
		neg := vars[0]
		neg.prefix = d.minus + neg.prefix
		vars = append(vars, neg)
	}
	pic := vars[0]
	if value < 0 {
		pic = vars[1]
	}
	adjusted := value
	if runeIndex(pic.picture, d.percent, 0) != -1 {
		adjusted = value * 100
	} else if runeIndex(pic.picture, d.perMille, 0) != -1 {
		adjusted = value * 1000
	}
	mantissa := adjusted
	exponent := 0
	if pic.minExponent != 0 {
		maxM := math.Pow(10, float64(pic.scaling))
		minM := math.Pow(10, float64(pic.scaling-1))
		for mantissa != 0 && math.Abs(mantissa) < minM && exponent > -400 {
			mantissa *= 10
			exponent--
		}
		for math.Abs(mantissa) > maxM && exponent < 400 {
			mantissa /= 10
			exponent++
		}
	}
	rounded := roundHalfEven(mantissa, pic.maxFraction)
	makeString := func(v float64, dp int) []rune {
		s := strconv.FormatFloat(math.Abs(v), 'f', dp, 64)
		out := []rune(s)
		if d.zero != '0' {
			for i, r := range out {
				if r >= '0' && r <= '9' {
					out[i] = d.family[r-'0']
				}
			}
		}
		return out
	}
	sv := makeString(rounded, pic.maxFraction)
	if i := runeIndex(sv, '.', 0); i == -1 {
		sv = append(sv, d.decimal)
	} else {
		sv[i] = d.decimal
	}
	for len(sv) > 0 && sv[0] == d.zero {
		sv = sv[1:]
	}
	for len(sv) > 0 && sv[len(sv)-1] == d.zero {
		sv = sv[:len(sv)-1]
	}
	decPos := runeIndex(sv, d.decimal, 0)
	padLeft := pic.minInteger - decPos
	padRight := pic.minFraction - (len(sv) - decPos - 1)
	if padLeft > 0 {
		sv = append([]rune(strings.Repeat(string(d.zero), padLeft)), sv...)
	}
	if padRight > 0 {
		sv = append(sv, []rune(strings.Repeat(string(d.zero), padRight))...)
	}
	insert := func(rs []rune, at int, r rune) []rune {
		at = min(max(at, 0), len(rs))
		out := make([]rune, 0, len(rs)+1)
		out = append(out, rs[:at]...)
		out = append(out, r)
		return append(out, rs[at:]...)
	}
	decPos = runeIndex(sv, d.decimal, 0)
	if pic.regularGrouping > 0 {
		groups := (decPos - 1) / pic.regularGrouping
		for g := 1; g <= groups; g++ {
			sv = insert(sv, decPos-g*pic.regularGrouping, d.grouping)
		}
	} else {
		for _, pos := range pic.integerGroups {
			sv = insert(sv, decPos-pos, d.grouping)
			decPos++
		}
	}
	decPos = runeIndex(sv, d.decimal, 0)
	for _, pos := range pic.fractionalGroups {
		sv = insert(sv, pos+decPos+1, d.grouping)
	}
	decPos = runeIndex(sv, d.decimal, 0)
	if pic.minFraction == 0 && decPos == len(sv)-1 {
		sv = sv[:len(sv)-1]
	}
	if pic.minExponent != 0 {
		se := makeString(float64(exponent), 0)
		if pad := pic.minExponent - len(se); pad > 0 {
			se = append([]rune(strings.Repeat(string(d.zero), pad)), se...)
		}
		minus := ""
		if exponent < 0 {
			minus = d.minus
		}
		sv = append(append(sv, d.exponent), []rune(minus+string(se))...)
	}
	return pic.prefix + string(sv) + pic.suffix, nil
}

type integerFormat int

const (
	intDecimal integerFormat = iota
	intLetters
	intRoman
	intWords
	intSequence
)

type letterCase int

const (
	caseLower letterCase = iota
	caseUpper
	caseTitle
)

type groupSep struct {
	position int
	char     string
}

type integerPicture struct {
	primary    integerFormat
	letterCase letterCase
	ordinal    bool
	zeroCode   rune
	mandatory  int
	optional   int
	regular    bool
	regularSep groupSep
	separators []groupSep
	token      string
}

var decimalGroups = []rune{0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10}

func analyseIntegerPicture(picture string) (*integerPicture, *Error) {
	f := &integerPicture{primary: intDecimal, letterCase: caseLower}
	primary := picture
	if semi := strings.LastIndex(picture, ";"); semi != -1 {
		primary = picture[:semi]
		if strings.HasPrefix(picture[semi+1:], "o") {
			f.ordinal = true
		}
	}
	switch primary {
	case "A":
		f.letterCase = caseUpper
		f.primary = intLetters
	case "a":
		f.primary = intLetters
	case "I":
		f.letterCase = caseUpper
		f.primary = intRoman
	case "i":
		f.primary = intRoman
	case "W":
		f.letterCase = caseUpper
		f.primary = intWords
	case "Ww":
		f.letterCase = caseTitle
		f.primary = intWords
	case "w":
		f.primary = intWords
	default:
		return analyseDecimalPattern(f, primary)
	}
	return f, nil
}

func analyseDecimalPattern(f *integerPicture, primary string) (*integerPicture, *Error) {
	var zero rune = -1
	position := 0
	runes := []rune(primary)
	for i := len(runes) - 1; i >= 0; i-- {
		cp := runes[i]
		digit := false
		for _, g := range decimalGroups {
			if cp >= g && cp <= g+9 {
				digit = true
				f.mandatory++
				position++
				if zero == -1 {
					zero = g
				} else if g != zero {
					return nil, &Error{Code: "D3131"}
				}
				break
			}
		}
		if digit {
			continue
		}
		if cp == '#' {
			position++
			f.optional++
		} else {
			f.separators = append(f.separators, groupSep{position: position, char: string(cp)})
		}
	}
	if f.mandatory == 0 {
		f.primary = intSequence
		f.token = primary
		return f, nil
	}
	f.zeroCode = zero
	if len(f.separators) > 0 {
		same := true
		positions := make([]int, len(f.separators))
		for i, s := range f.separators {
			positions[i] = s.position
			if s.char != f.separators[0].char {
				same = false
			}
		}
		if r := regularInterval(positions); same && r > 0 {
			f.regular = true
			f.regularSep = groupSep{position: r, char: f.separators[0].char}
		}
	}
	return f, nil
}

var (
	fewWords      = []string{"Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"}
	ordinalWords  = []string{"Zeroth", "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth", "Eleventh", "Twelfth", "Thirteenth", "Fourteenth", "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"}
	decadeWords   = []string{"Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred"}
	magnitudeWord = []string{"Thousand", "Million", "Billion", "Trillion"}
)

func numberToWords(num float64, prev, ordinal bool) string {
	and := ""
	if prev {
		and = " and "
	}
	switch {
	case num <= 19:
		if ordinal {
			return and + ordinalWords[int(num)]
		}
		return and + fewWords[int(num)]
	case num < 100:
		tens := int(num) / 10
		rem := math.Mod(num, 10)
		words := and + decadeWords[tens-2]
		if rem > 0 {
			words += "-" + numberToWords(rem, false, ordinal)
		} else if ordinal {
			words = words[:len(words)-1] + "ieth"
		}
		return words
	case num < 1000:
		comma := ""
		if prev {
			comma = ", "
		}
		hundreds := int(num) / 100
		rem := math.Mod(num, 100)
		words := comma + fewWords[hundreds] + " Hundred"
		if rem > 0 {
			words += numberToWords(rem, true, ordinal)
		} else if ordinal {
			words += "th"
		}
		return words
	}
	comma := ""
	if prev {
		comma = ", "
	}
	mag := int(math.Floor(math.Log10(num) / 3))
	if mag > len(magnitudeWord) {
		mag = len(magnitudeWord)
	}
	factor := math.Pow(10, float64(mag*3))
	mant := math.Floor(num / factor)
	rem := num - mant*factor
	words := comma + numberToWords(mant, false, false) + " " + magnitudeWord[mag-1]
	if rem > 0 {
		words += numberToWords(rem, true, ordinal)
	} else if ordinal {
		words += "th"
	}
	return words
}

var romanNumerals = []struct {
	value int
	text  string
}{{1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"}, {90, "xc"}, {50, "l"}, {40, "xl"}, {10, "x"}, {9, "ix"}, {5, "v"}, {4, "iv"}, {1, "i"}}

func formatIntegerSpec(value float64, f *integerPicture) (string, *Error) {
	negative := value < 0
	value = math.Abs(value)
	var out string
	switch f.primary {
	case intLetters:
		a := 'a'
		if f.letterCase == caseUpper {
			a = 'A'
		}
		var letters []rune
		for v := value; v > 0; v = math.Floor((v - 1) / 26) {
			letters = append([]rune{a + rune(math.Mod(v-1, 26))}, letters...)
		}
		out = string(letters)
	case intRoman:
		if value > 1e6 {
			return "", &Error{Code: "U1003"}
		}
		v := int(value)
		var b strings.Builder
		for _, rn := range romanNumerals {
			for v >= rn.value {
				b.WriteString(rn.text)
				v -= rn.value
			}
		}
		out = b.String()
		if f.letterCase == caseUpper {
			out = strings.ToUpper(out)
		}
	case intWords:
		out = numberToWords(value, false, f.ordinal)
		switch f.letterCase {
		case caseUpper:
			out = strings.ToUpper(out)
		case caseLower:
			out = strings.ToLower(out)
		}
	case intDecimal:
		out = numtext.JavaScript(value)
		if pad := f.mandatory - len(out); pad > 0 {
			out = strings.Repeat("0", pad) + out
		}
		if f.zeroCode != '0' {
			rs := []rune(out)
			for i, r := range rs {
				rs[i] = r + f.zeroCode - '0'
			}
			out = string(rs)
		}
		rs := []rune(out)
		if f.regular {
			n := (len(rs) - 1) / f.regularSep.position
			for i := n; i > 0; i-- {
				pos := len(rs) - i*f.regularSep.position
				rs = append(rs[:pos:pos], append([]rune(f.regularSep.char), rs[pos:]...)...)
			}
		} else {
			for i := len(f.separators) - 1; i >= 0; i-- {
				sep := f.separators[i]
				pos := min(max(len(rs)-sep.position, 0), len(rs))
				rs = append(rs[:pos:pos], append([]rune(sep.char), rs[pos:]...)...)
			}
		}
		out = string(rs)
		if f.ordinal {
			suffix := map[byte]string{'1': "st", '2': "nd", '3': "rd"}[out[len(out)-1]]
			if suffix == "" || (len(out) > 1 && out[len(out)-2] == '1') {
				suffix = "th"
			}
			out += suffix
		}
	case intSequence:
		return "", &Error{Code: "D3130", Value: f.token}
	}
	if negative {
		out = "-" + out
	}
	return out, nil
}

var wordValues = func() map[string]float64 {
	m := make(map[string]float64)
	for i, w := range fewWords {
		m[strings.ToLower(w)] = float64(i)
	}
	for i, w := range ordinalWords {
		m[strings.ToLower(w)] = float64(i)
	}
	for i, w := range decadeWords {
		lw := strings.ToLower(w)
		m[lw] = float64(i+2) * 10
		m[lw[:len(lw)-1]+"ieth"] = m[lw]
	}
	m["hundredth"] = 100
	for i, w := range magnitudeWord {
		lw := strings.ToLower(w)
		v := math.Pow(10, float64(i+1)*3)
		m[lw] = v
		m[lw+"th"] = v
	}
	return m
}()

var wordSplitter = strings.NewReplacer(", ", "\x00", " and ", "\x00", " ", "\x00", "-", "\x00", "\\", "\x00")

func wordsToNumber(text string) float64 {
	segs := []float64{0}
	for _, part := range strings.Split(wordSplitter.Replace(text), "\x00") {
		v, ok := wordValues[part]
		if !ok {
			return math.NaN()
		}
		top := segs[len(segs)-1]
		segs = segs[:len(segs)-1]
		if v < 100 {
			if top >= 1000 {
				segs = append(segs, top)
				top = 0
			}
			segs = append(segs, top+v)
		} else {
			segs = append(segs, top*v)
		}
	}
	total := 0.0
	for _, s := range segs {
		total += s
	}
	return total
}

var romanValues = map[rune]float64{'M': 1000, 'D': 500, 'C': 100, 'L': 50, 'X': 10, 'V': 5, 'I': 1}

// jsParseInt is JavaScript's parseInt(s, 10): the leading integer, or NaN.
func jsParseInt(s string) float64 {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	sign := 1.0
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == 0 {
		return math.NaN()
	}
	v, _ := strconv.ParseFloat(s[:n], 64)
	return sign * v
}

func parseIntegerSpec(s string, f *integerPicture) (any, *Error) {
	switch f.primary {
	case intLetters:
		a := 'a'
		if f.letterCase == caseUpper {
			a = 'A'
		}
		rs := []rune(s)
		total := 0.0
		for i, r := range rs {
			total += float64(r-a+1) * math.Pow(26, float64(len(rs)-i-1))
		}
		return total, nil
	case intRoman:
		if f.letterCase != caseUpper {
			s = strings.ToUpper(s)
		}
		rs := []rune(s)
		total, maxV := 0.0, 1.0
		for i := len(rs) - 1; i >= 0; i-- {
			v, ok := romanValues[rs[i]]
			if !ok {
				return math.NaN(), nil
			}
			if v < maxV {
				total -= v
			} else {
				maxV = v
				total += v
			}
		}
		return total, nil
	case intWords:
		return wordsToNumber(strings.ToLower(s)), nil
	case intDecimal:
		digits := s
		if f.ordinal && len(digits) >= 2 {
			digits = digits[:len(digits)-2]
		}
		if f.regular {
			digits = strings.ReplaceAll(digits, ",", "")
		} else {
			for _, sep := range f.separators {
				digits = strings.ReplaceAll(digits, sep.char, "")
			}
		}
		if f.zeroCode != '0' {
			rs := []rune(digits)
			for i, r := range rs {
				rs[i] = r - f.zeroCode + '0'
			}
			digits = string(rs)
		}
		return jsParseInt(digits), nil
	}
	return nil, &Error{Code: "D3130", Value: f.token}
}
