package jsonata

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-ci/sluice/internal/numtext"
)

// Date and time functions: $now, $millis, $fromMillis and $toMillis with the
// XPath F&O 3.1 picture strings JSONata uses ([Y0001]-[M01]-[D01] ...).

func defineDateTime() {
	def("millis", "<:n>", 0, func(e *evaluator, c *callContext, args []any) (any, error) {
		return float64(e.now.UnixMilli()), nil
	})
	def("now", "<s?s?:s>", 2, func(e *evaluator, c *callContext, args []any) (any, error) {
		return c.result(formatDateTime(float64(e.now.UnixMilli()), argAt(args, 0), argAt(args, 1)))
	})
	def("fromMillis", "<n-s?s?:s>", 3, func(e *evaluator, c *callContext, args []any) (any, error) {
		ms, ok := toNumber(args[0])
		if !ok {
			return undefined, nil
		}
		return c.result(formatDateTime(ms, argAt(args, 1), argAt(args, 2)))
	})
	defString("toMillis", "<s-s?:n>", 2, func(e *evaluator, c *callContext, s string, args []any) (any, error) {
		if picture, ok := strArg(args, 1); ok {
			return c.result(parseDateTime(s, picture, e.now))
		}
		if !iso8601.MatchString(s) {
			return nil, &Error{Code: "D3110", Position: c.pos, Value: s}
		}
		return parseISO(s), nil
	})
}

var iso8601 = regexp.MustCompile(`^\d{4}(-[01]\d)*(-[0-3]\d)*(T[0-2]\d:[0-5]\d:[0-5]\d)*(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$`)

var isoParts = regexp.MustCompile(`^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:T(\d{2}):(\d{2}):(\d{2}))?(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$`)

// parseISO is Date.parse for the ISO 8601 forms $toMillis accepts; times
// without an offset are read as UTC.
func parseISO(s string) float64 {
	m := isoParts.FindStringSubmatch(s)
	if m == nil {
		return math.NaN()
	}
	num := func(x string, def int) int {
		if x == "" {
			return def
		}
		v, _ := strconv.Atoi(x)
		return v
	}
	year, month, day := num(m[1], 0), num(m[2], 1), num(m[3], 1)
	hour, minute, sec := num(m[4], 0), num(m[5], 0), num(m[6], 0)
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 24 || minute > 59 || sec > 59 || (hour == 24 && (minute > 0 || sec > 0)) {
		return math.NaN()
	}
	ms := 0
	if m[7] != "" {
		frac := (m[7] + "00")[:3]
		ms, _ = strconv.Atoi(frac)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, ms*1e6, time.UTC)
	if tz := m[8]; tz != "" && tz != "Z" {
		tz = strings.ReplaceAll(tz, ":", "")
		h, _ := strconv.Atoi(tz[1:3])
		mi, _ := strconv.Atoi(tz[3:5])
		off := time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute
		if tz[0] == '+' {
			t = t.Add(-off)
		} else {
			t = t.Add(off)
		}
	}
	return float64(t.UnixMilli())
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

type dtPart struct {
	literal       string
	isLiteral     bool
	component     byte
	presentation1 string
	presentation2 string
	names         letterCase
	hasNames      bool
	intFormat     *integerPicture
	widthMin      int
	widthMax      int
	n             int
}

var defaultPresentation = map[byte]string{'Y': "1", 'M': "1", 'D': "1", 'd': "1", 'F': "n", 'W': "1", 'w': "1", 'X': "1", 'x': "1",
	'H': "1", 'h': "1", 'P': "n", 'm': "01", 's': "01", 'f': "1", 'Z': "01:01", 'z': "01:01", 'C': "n", 'E': "n"}

var isoPicture = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]"

func analyseDateTimePicture(picture string) ([]dtPart, *Error) {
	var parts []dtPart
	addLiteral := func(s string) {
		if s != "" {
			parts = append(parts, dtPart{isLiteral: true, literal: strings.ReplaceAll(s, "]]", "]")})
		}
	}
	start, pos := 0, 0
	for pos < len(picture) {
		if picture[pos] != '[' {
			pos++
			continue
		}
		if pos+1 < len(picture) && picture[pos+1] == '[' {
			addLiteral(picture[start:pos])
			parts = append(parts, dtPart{isLiteral: true, literal: "["})
			pos += 2
			start = pos
			continue
		}
		addLiteral(picture[start:pos])
		start = pos
		end := strings.IndexByte(picture[start:], ']')
		if end < 0 {
			return nil, &Error{Code: "D3135"}
		}
		pos = start + end
		marker := strings.Join(strings.Fields(picture[start+1:pos]), "")
		p := dtPart{widthMin: -1, widthMax: -1, n: -1}
		if marker != "" {
			p.component = marker[0]
		}
		var pres string
		if comma := strings.LastIndexByte(marker, ','); comma != -1 {
			width := marker[comma+1:]
			lo, hi := width, ""
			if dash := strings.IndexByte(width, '-'); dash != -1 {
				lo, hi = width[:dash], width[dash+1:]
			}
			parseWidth := func(w string) int {
				if w == "" || w == "*" {
					return -1
				}
				v := jsParseInt(w)
				if math.IsNaN(v) {
					return -1
				}
				return int(v)
			}
			p.widthMin, p.widthMax = parseWidth(lo), parseWidth(hi)
			if comma > 0 {
				pres = marker[1:comma]
			}
		} else if marker != "" {
			pres = marker[1:]
		}
		switch {
		case len(pres) == 1:
			p.presentation1 = pres
		case len(pres) > 1:
			last := pres[len(pres)-1]
			if strings.IndexByte("atco", last) != -1 {
				p.presentation2 = string(last)
				p.presentation1 = pres[:len(pres)-1]
			} else {
				p.presentation1 = pres
			}
		default:
			def, ok := defaultPresentation[p.component]
			if !ok {
				return nil, &Error{Code: "D3132", Value: string(p.component)}
			}
			p.presentation1 = def
		}
		switch {
		case strings.HasPrefix(p.presentation1, "n"):
			p.hasNames, p.names = true, caseLower
		case strings.HasPrefix(p.presentation1, "N"):
			p.hasNames, p.names = true, caseUpper
			if strings.HasPrefix(p.presentation1, "Nn") {
				p.names = caseTitle
			}
		case strings.IndexByte("YMDdFWwXxHhmsf", p.component) != -1:
			pattern := p.presentation1
			if p.presentation2 != "" {
				pattern += ";" + p.presentation2
			}
			f, err := analyseIntegerPicture(pattern)
			if err != nil {
				return nil, err
			}
			p.intFormat = f
			if p.widthMin >= 0 && f.mandatory < p.widthMin {
				f.mandatory = p.widthMin
			}
			if strings.IndexByte("YMD", p.component) != -1 {
				if p.widthMax >= 0 {
					p.n = p.widthMax
					f.mandatory = p.n
				} else if w := f.mandatory + f.optional; w >= 2 {
					p.n = w
				}
			}
		}
		if p.component == 'Z' || p.component == 'z' {
			f, err := analyseIntegerPicture(p.presentation1)
			if err != nil {
				return nil, err
			}
			p.intFormat = f
		}
		parts = append(parts, p)
		start = pos + 1
		pos++
	}
	addLiteral(picture[start:])
	return parts, nil
}

var (
	dayNames   = []string{"", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

const millisPerDay = 86400000

func utcMillis(year, month int) float64 {
	return float64(time.Date(year, time.Month(month+1), 1, 0, 0, 0, 0, time.UTC).UnixMilli())
}

// startOfFirstWeek is the Monday of the week holding the first Thursday of
// the month (ISO 8601 week numbering, extended to months by XPath).
func startOfFirstWeek(year, month int) float64 {
	first := utcMillis(year, month)
	dow := int(time.UnixMilli(int64(first)).UTC().Weekday())
	if dow == 0 {
		dow = 7
	}
	if dow > 4 {
		return first + float64(8-dow)*millisPerDay
	}
	return first - float64(dow-1)*millisPerDay
}

func deltaWeeks(start, end float64) float64 { return (end-start)/(millisPerDay*7) + 1 }

func nextMonth(y, m int) (int, int) {
	if m == 11 {
		return y + 1, 0
	}
	return y, m + 1
}

func previousMonth(y, m int) (int, int) {
	if m == 0 {
		return y - 1, 11
	}
	return y, m - 1
}

// dateFragment is the value of one component of a UTC date.
func dateFragment(t time.Time, component byte) any {
	switch component {
	case 'Y':
		return float64(t.Year())
	case 'M':
		return float64(t.Month())
	case 'D':
		return float64(t.Day())
	case 'd':
		return float64(t.YearDay())
	case 'F':
		d := int(t.Weekday())
		if d == 0 {
			d = 7
		}
		return float64(d)
	case 'W':
		y := t.Year()
		now := float64(time.Date(y, t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).UnixMilli())
		week := deltaWeeks(startOfFirstWeek(y, 0), now)
		if week > 52 {
			if now >= startOfFirstWeek(y+1, 0) {
				week = 1
			}
		} else if week < 1 {
			week = deltaWeeks(startOfFirstWeek(y-1, 0), now)
		}
		return math.Floor(week)
	case 'X':
		y := t.Year()
		now := float64(t.UnixMilli())
		switch {
		case now < startOfFirstWeek(y, 0):
			return float64(y - 1)
		case now >= startOfFirstWeek(y+1, 0):
			return float64(y + 1)
		}
		return float64(y)
	case 'w':
		y, m := t.Year(), int(t.Month())-1
		now := float64(time.Date(y, t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).UnixMilli())
		week := deltaWeeks(startOfFirstWeek(y, m), now)
		if week > 4 {
			if ny, nm := nextMonth(y, m); now >= startOfFirstWeek(ny, nm) {
				week = 1
			}
		} else if week < 1 {
			py, pm := previousMonth(y, m)
			week = deltaWeeks(startOfFirstWeek(py, pm), now)
		}
		return math.Floor(week)
	case 'x':
		y, m := t.Year(), int(t.Month())-1
		now := float64(t.UnixMilli())
		ny, nm := nextMonth(y, m)
		switch {
		case now < startOfFirstWeek(y, m):
			_, pm := previousMonth(y, m)
			return float64(pm + 1)
		case now >= startOfFirstWeek(ny, nm):
			return float64(nm + 1)
		}
		return float64(m + 1)
	case 'H':
		return float64(t.Hour())
	case 'h':
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return float64(h)
	case 'P':
		if t.Hour() >= 12 {
			return "pm"
		}
		return "am"
	case 'm':
		return float64(t.Minute())
	case 's':
		return float64(t.Second())
	case 'f':
		return float64(t.Nanosecond() / 1e6)
	case 'C', 'E':
		return "ISO"
	}
	return undefined
}

func formatDateTime(millis float64, picture, timezone any) (string, *Error) {
	offsetHours, offsetMinutes := 0.0, 0.0
	if tz, ok := timezone.(string); ok {
		offset := jsParseInt(tz)
		if !math.IsNaN(offset) {
			offsetHours = math.Floor(offset / 100)
			offsetMinutes = math.Mod(offset, 100)
		}
	}
	pic := isoPicture
	if p, ok := picture.(string); ok {
		pic = p
	}
	parts, err := analyseDateTimePicture(pic)
	if err != nil {
		return "", err
	}
	ms := millis + (offsetHours*60+offsetMinutes)*60000
	if math.IsNaN(ms) || math.Abs(ms) > 8.64e15 {
		return "", &Error{Code: "D3137", Value: "Invalid date: " + numtext.JavaScript(millis)}
	}
	t := time.UnixMilli(int64(math.Trunc(ms))).UTC()
	var b strings.Builder
	for _, p := range parts {
		if p.isLiteral {
			b.WriteString(p.literal)
			continue
		}
		s, err := formatComponent(t, p, offsetHours, offsetMinutes)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func formatComponent(t time.Time, p dtPart, offsetHours, offsetMinutes float64) (string, *Error) {
	value := dateFragment(t, p.component)
	switch {
	case strings.IndexByte("YMDdFWwXxHhms", p.component) != -1:
		f, _ := value.(float64)
		if p.component == 'Y' && p.n != -1 {
			f = math.Mod(f, math.Pow(10, float64(p.n)))
		}
		if p.hasNames {
			var name string
			switch p.component {
			case 'M', 'x':
				name = monthNames[int(f)-1]
			case 'F':
				name = dayNames[int(f)]
			default:
				return "", &Error{Code: "D3133", Value: string(p.component)}
			}
			switch p.names {
			case caseUpper:
				name = strings.ToUpper(name)
			case caseLower:
				name = strings.ToLower(name)
			}
			if p.widthMax >= 0 && len(name) > p.widthMax {
				name = name[:p.widthMax]
			}
			return name, nil
		}
		if p.intFormat == nil {
			return "", &Error{Code: "D3132", Value: string(p.component)}
		}
		return formatIntegerSpec(f, p.intFormat)
	case p.component == 'f':
		f, _ := value.(float64)
		if p.intFormat == nil {
			return "", &Error{Code: "D3132", Value: string(p.component)}
		}
		return formatIntegerSpec(f, p.intFormat)
	case p.component == 'Z' || p.component == 'z':
		offset := offsetHours*100 + offsetMinutes
		var s string
		var err *Error
		if p.intFormat.regular {
			s, err = formatIntegerSpec(offset, p.intFormat)
		} else {
			switch digits := p.intFormat.mandatory; {
			case digits == 1 || digits == 2:
				s, err = formatIntegerSpec(offsetHours, p.intFormat)
				if err == nil && offsetMinutes != 0 {
					m, _ := formatIntegerSpec(offsetMinutes, &integerPicture{primary: intDecimal, zeroCode: '0', mandatory: 2})
					s += ":" + m
				}
			case digits == 3 || digits == 4:
				s, err = formatIntegerSpec(offset, p.intFormat)
			default:
				return "", &Error{Code: "D3134", Value: float64(digits)}
			}
		}
		if err != nil {
			return "", err
		}
		if offset >= 0 {
			s = "+" + s
		}
		if p.component == 'z' {
			s = "GMT" + s
		}
		if offset == 0 && p.presentation2 == "t" {
			s = "Z"
		}
		return s, nil
	case p.component == 'P':
		s, _ := value.(string)
		if p.hasNames && p.names == caseUpper {
			s = strings.ToUpper(s)
		}
		return s, nil
	}
	if s, ok := value.(string); ok {
		return s, nil
	}
	return "", &Error{Code: "D3132", Value: string(p.component)}
}

type dtMatcher struct {
	regex     string
	component byte
	parse     func(string) (float64, bool)
}

func integerMatcher(f *integerPicture, n int) (dtMatcher, *Error) {
	occurrences := "+"
	if n > 0 {
		if f.optional == 0 {
			occurrences = "{" + itoa(n) + "}"
		} else {
			occurrences = "{" + itoa(n-f.optional) + "," + itoa(n) + "}"
		}
	}
	switch f.primary {
	case intLetters:
		re := "[a-z]+"
		if f.letterCase == caseUpper {
			re = "[A-Z]+"
		}
		return dtMatcher{regex: re, parse: func(s string) (float64, bool) {
			v, _ := parseIntegerSpec(s, f)
			x, _ := v.(float64)
			return x, true
		}}, nil
	case intRoman:
		re := "[mdclxvi]+"
		if f.letterCase == caseUpper {
			re = "[MDCLXVI]+"
		}
		return dtMatcher{regex: re, parse: func(s string) (float64, bool) {
			v, _ := parseIntegerSpec(s, f)
			x, _ := v.(float64)
			return x, true
		}}, nil
	case intWords:
		words := make([]string, 0, len(wordValues)+2)
		for w := range wordValues {
			words = append(words, w)
		}
		words = append(words, "and", `[\-, ]`)
		return dtMatcher{regex: "(?:" + strings.Join(words, "|") + ")+", parse: func(s string) (float64, bool) {
			return wordsToNumber(strings.ToLower(s)), true
		}}, nil
	case intDecimal:
		re := "[0-9]" + occurrences
		if f.ordinal {
			re += "(?:th|st|nd|rd)"
		}
		return dtMatcher{regex: re, parse: func(s string) (float64, bool) {
			v, _ := parseIntegerSpec(s, f)
			x, _ := v.(float64)
			return x, true
		}}, nil
	}
	return dtMatcher{}, &Error{Code: "D3130", Value: f.token}
}

func parseDateTime(timestamp, picture string, now time.Time) (any, *Error) {
	parts, err := analyseDateTimePicture(picture)
	if err != nil {
		return nil, err
	}
	var matchers []dtMatcher
	for _, p := range parts {
		var m dtMatcher
		switch {
		case p.isLiteral:
			m.regex = regexp.QuoteMeta(p.literal)
		case p.component == 'Z' || p.component == 'z':
			sep := ""
			if p.intFormat.regular {
				sep = p.intFormat.regularSep.char
			}
			if p.component == 'z' {
				m.regex = "GMT"
			}
			m.regex += "[-+][0-9]+"
			if sep != "" {
				m.regex += regexp.QuoteMeta(sep) + "[0-9]+"
			}
			isZ := p.component == 'z'
			m.parse = func(v string) (float64, bool) {
				if isZ {
					v = v[3:]
				}
				var h, mi float64
				if sep != "" {
					i := strings.Index(v, sep)
					h, mi = jsParseInt(v[:i]), jsParseInt(v[i+len(sep):])
				} else if len(v)-1 <= 2 {
					h = jsParseInt(v)
				} else {
					h, mi = jsParseInt(v[:3]), jsParseInt(v[3:])
				}
				return h*60 + mi, true
			}
		case p.intFormat != nil:
			var err *Error
			if m, err = integerMatcher(p.intFormat, p.n); err != nil {
				return nil, err
			}
		default:
			m.regex = "[a-zA-Z]+"
			lookup := map[string]float64{}
			switch p.component {
			case 'M', 'x':
				for i, name := range monthNames {
					if p.widthMax > 0 && len(name) > p.widthMax {
						name = name[:p.widthMax]
					}
					lookup[name] = float64(i + 1)
				}
			case 'F':
				for i, name := range dayNames[1:] {
					if p.widthMax > 0 && len(name) > p.widthMax {
						name = name[:p.widthMax]
					}
					lookup[name] = float64(i + 1)
				}
			case 'P':
				lookup = map[string]float64{"am": 0, "AM": 0, "pm": 1, "PM": 1}
			default:
				return nil, &Error{Code: "D3133", Value: string(p.component)}
			}
			m.parse = func(v string) (float64, bool) {
				x, ok := lookup[v]
				return x, ok
			}
		}
		m.component = p.component
		matchers = append(matchers, m)
	}
	var full strings.Builder
	full.WriteString("(?i)^")
	for _, m := range matchers {
		full.WriteString("(" + m.regex + ")")
	}
	full.WriteString("$")
	re, rerr := regexp.Compile(full.String())
	if rerr != nil {
		return nil, &Error{Code: "D3136"}
	}
	info := re.FindStringSubmatch(timestamp)
	if info == nil {
		return undefined, nil
	}
	comps := map[byte]float64{}
	for i, m := range matchers {
		if m.parse == nil {
			continue
		}
		if v, ok := m.parse(info[i+1]); ok {
			comps[m.component] = v
		}
	}
	if len(comps) == 0 {
		return undefined, nil
	}
	maskOf := func(order string) int {
		mask := 0
		for i := 0; i < len(order); i++ {
			mask <<= 1
			if _, ok := comps[order[i]]; ok {
				mask++
			}
		}
		return mask
	}
	isType := func(typ, mask int) bool { return ^typ&mask == 0 && typ&mask != 0 }
	dmask := maskOf("YXMxWwdD")
	dateA := isType(161, dmask)
	dateB := !dateA && isType(130, dmask)
	dateC := isType(84, dmask)
	dateD := !dateC && isType(72, dmask)
	tmask := maskOf("PHhmsf")
	timeA := isType(23, tmask)
	timeB := !timeA && isType(47, tmask)
	dateComps := "YMD"
	switch {
	case dateB:
		dateComps = "Yd"
	case dateC:
		dateComps = "XxwF"
	case dateD:
		dateComps = "XWF"
	}
	timeComps := "Hmsf"
	if timeB {
		timeComps = "Phmsf"
	}
	order := dateComps + timeComps
	nowUTC := now.UTC()
	started, ended := false, false
	for i := 0; i < len(order); i++ {
		c := order[i]
		if _, ok := comps[c]; ok {
			started = true
			if ended {
				return nil, &Error{Code: "D3136"}
			}
			continue
		}
		if started {
			if strings.IndexByte("MDd", c) != -1 {
				comps[c] = 1
			} else {
				comps[c] = 0
			}
			ended = true
		} else {
			switch v := dateFragment(nowUTC, c).(type) {
			case float64:
				comps[c] = v
			case string:
				if v == "pm" {
					comps[c] = 1
				} else {
					comps[c] = 0
				}
			}
		}
	}
	if comps['M'] > 0 {
		comps['M']--
	} else {
		comps['M'] = 0
	}
	if dateB {
		d := time.UnixMilli(int64(utcMillis(int(comps['Y']), 0) + (comps['d']-1)*millisPerDay)).UTC()
		comps['M'] = float64(int(d.Month()) - 1)
		comps['D'] = float64(d.Day())
	}
	if dateC || dateD {
		return nil, &Error{Code: "D3136"}
	}
	if timeB {
		h := comps['h']
		if h == 12 {
			h = 0
		}
		comps['H'] = h
		if comps['P'] == 1 {
			comps['H'] += 12
		}
	}
	for _, c := range "YMDHmsf" {
		if math.IsNaN(comps[byte(c)]) || math.IsInf(comps[byte(c)], 0) || math.Abs(comps[byte(c)]) > 1e9 {
			return math.NaN(), nil
		}
	}
	year := int(comps['Y'])
	if year >= 0 && year <= 99 {
		year += 1900
	}
	t := time.Date(year, time.Month(int(comps['M'])+1), int(comps['D']), int(comps['H']), int(comps['m']), int(comps['s']), int(comps['f'])*1e6, time.UTC)
	millis := float64(t.UnixMilli())
	if z, ok := comps['Z']; ok && z != 0 {
		millis -= z * 60000
	} else if z, ok := comps['z']; ok && z != 0 {
		millis -= z * 60000
	}
	return millis, nil
}
