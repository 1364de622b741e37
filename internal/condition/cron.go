package condition

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Window is a DeploymentWindow rule's schedule: the minutes its cron
// expression matches, in its time zone, are the minutes a deployment is
// allowed.
type Window struct {
	loc *time.Location
	// Sets of allowed values, indexed by value.
	minutes, hours [60]bool
	months         [13]bool
	years          map[int]bool // nil: every year
	dom            dayOfMonth
	dow            dayOfWeek
}

// dayOfMonth is a day-of-month field: a set of days, or CodePipeline's
// L (last day, less an offset), W (nearest weekday) and LW.
type dayOfMonth struct {
	any     bool     // * or ?
	days    [32]bool // plain days
	last    []int    // L or L-n: offsets from the last day
	weekday []int    // nW: the weekday nearest day n
	lastWD  bool     // LW: the last weekday of the month
}

// dayOfWeek is a day-of-week field: a set of weekdays, or nL (the last
// weekday n of the month) and n#k (the k-th weekday n).
type dayOfWeek struct {
	any  bool
	days [7]bool // time.Weekday
	last []time.Weekday
	nth  []nthWeekday
}

type nthWeekday struct {
	day time.Weekday
	k   int
}

var monthNames = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
var dayNames = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

// Year bounds of the cron syntax.
const (
	minYear = 1970
	maxYear = 2199
)

// ParseWindow reads a DeploymentWindow rule's Cron and TimeZone. The cron
// expression has six fields and an optional seventh: seconds, minutes,
// hours, day of month, month, day of week, year. The seconds field is read
// and not used: a window is allowed or not minute by minute. The time zone
// is an IANA name (America/New_York) or UTC; empty means UTC.
func ParseWindow(cron, zone string) (*Window, error) {
	w := &Window{loc: time.UTC}
	if zone != "" {
		loc, err := time.LoadLocation(zone)
		if zone == "Local" {
			// LoadLocation's name for the host's zone, which differs from
			// one host to another.
			err = fmt.Errorf("not a time zone name")
		}
		if err != nil {
			return nil, fmt.Errorf("the TimeZone %q is not a time zone name such as UTC or America/New_York", zone)
		}
		w.loc = loc
	}
	fields := strings.Fields(cron)
	if len(fields) != 6 && len(fields) != 7 {
		return nil, fmt.Errorf("the Cron %q has %d fields; it has 6 (seconds, minutes, hours, day of month, month, day of week) and an optional year", cron, len(fields))
	}
	var seconds [60]bool
	steps := []struct {
		name string
		err  error
	}{
		{"seconds", parseSet(fields[0], 0, 59, nil, seconds[:])},
		{"minutes", parseSet(fields[1], 0, 59, nil, w.minutes[:])},
		{"hours", parseSet(fields[2], 0, 23, nil, w.hours[:])},
		{"day-of-month", w.dom.parse(fields[3])},
		{"month", parseSet(fields[4], 1, 12, monthNames, w.months[:])},
		{"day-of-week", w.dow.parse(fields[5])},
	}
	for _, s := range steps {
		if s.err != nil {
			return nil, fmt.Errorf("the Cron %q, %s field: %w", cron, s.name, s.err)
		}
	}
	if len(fields) == 7 && fields[6] != "*" {
		years := make([]bool, maxYear+1)
		if err := parseSet(fields[6], minYear, maxYear, nil, years); err != nil {
			return nil, fmt.Errorf("the Cron %q, year field: %w", cron, err)
		}
		w.years = map[int]bool{}
		for y := minYear; y <= maxYear; y++ {
			if years[y] {
				w.years[y] = true
			}
		}
	}
	return w, nil
}

// parseSet reads a comma-separated list of *, values, ranges a-b and steps
// (*/s, a/s, a-b/s) into set, indexed by value. names, when given, are the
// names of the values from lo on (JAN for 1, SUN for 1).
func parseSet(field string, lo, hi int, names []string, set []bool) error {
	for item := range strings.SplitSeq(field, ",") {
		if err := parseItem(item, lo, hi, names, set); err != nil {
			return err
		}
	}
	return nil
}

func parseItem(item string, lo, hi int, names []string, set []bool) error {
	rng, stepText, stepped := strings.Cut(item, "/")
	step := 1
	if stepped {
		n, err := strconv.Atoi(stepText)
		if err != nil || n < 1 {
			return fmt.Errorf("%q: the step after / is a positive number", item)
		}
		step = n
	}
	from, to := lo, hi
	switch {
	case rng == "*":
	case strings.Contains(rng, "-"):
		a, b, _ := strings.Cut(rng, "-")
		var err error
		if from, err = value(a, lo, hi, names); err != nil {
			return err
		}
		if to, err = value(b, lo, hi, names); err != nil {
			return err
		}
		if from > to {
			return fmt.Errorf("%q: the range runs backwards", item)
		}
	default:
		v, err := value(rng, lo, hi, names)
		if err != nil {
			return err
		}
		from = v
		if !stepped {
			to = v
		}
	}
	for v := from; v <= to; v += step {
		set[v] = true
	}
	return nil
}

// value reads one value: a number from lo to hi, or one of names.
func value(s string, lo, hi int, names []string) (int, error) {
	if i := slices.Index(names, strings.ToUpper(s)); i >= 0 {
		return lo + i, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		if names != nil {
			return 0, fmt.Errorf("%q is not from %d to %d or %s to %s", s, lo, hi, names[0], names[len(names)-1])
		}
		return 0, fmt.Errorf("%q is not a number from %d to %d", s, lo, hi)
	}
	return n, nil
}

func (f *dayOfMonth) parse(field string) error {
	if field == "*" || field == "?" {
		f.any = true
		return nil
	}
	for item := range strings.SplitSeq(field, ",") {
		switch {
		case item == "LW":
			f.lastWD = true
		case item == "L":
			f.last = append(f.last, 0)
		case strings.HasPrefix(item, "L-"):
			n, err := strconv.Atoi(item[2:])
			if err != nil || n < 0 || n > 30 {
				return fmt.Errorf("%q: L-n takes n from 0 to 30", item)
			}
			f.last = append(f.last, n)
		case strings.HasSuffix(item, "W"):
			n, err := value(item[:len(item)-1], 1, 31, nil)
			if err != nil {
				return err
			}
			f.weekday = append(f.weekday, n)
		default:
			if err := parseItem(item, 1, 31, nil, f.days[:]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *dayOfWeek) parse(field string) error {
	if field == "*" || field == "?" {
		f.any = true
		return nil
	}
	var days [8]bool // 1 (SUN) to 7 (SAT)
	for item := range strings.SplitSeq(field, ",") {
		switch {
		case item == "L":
			days[7] = true
		case strings.HasSuffix(item, "L"):
			n, err := value(item[:len(item)-1], 1, 7, dayNames)
			if err != nil {
				return err
			}
			f.last = append(f.last, time.Weekday(n-1))
		case strings.Contains(item, "#"):
			d, k, _ := strings.Cut(item, "#")
			n, err := value(d, 1, 7, dayNames)
			if err != nil {
				return err
			}
			nth, err := strconv.Atoi(k)
			if err != nil || nth < 1 || nth > 5 {
				return fmt.Errorf("%q: the week after # is from 1 to 5", item)
			}
			f.nth = append(f.nth, nthWeekday{time.Weekday(n - 1), nth})
		default:
			if err := parseItem(item, 1, 7, dayNames, days[:]); err != nil {
				return err
			}
		}
	}
	for i := 1; i <= 7; i++ {
		f.days[i-1] = days[i]
	}
	return nil
}

// matchDay reports whether a date (in the window's zone) is allowed by the
// day-of-month, month, day-of-week and year fields. Both day fields must
// match; * and ? match every day.
func (w *Window) matchDay(y int, m time.Month, d int) bool {
	if !w.months[m] || w.years != nil && !w.years[y] {
		return false
	}
	last := daysIn(y, m)
	wd := time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()
	return w.dom.match(y, m, d, last) && w.dow.match(d, wd, last)
}

func (f *dayOfMonth) match(y int, m time.Month, d, last int) bool {
	if f.any || f.days[d] {
		return true
	}
	for _, off := range f.last {
		if d == last-off {
			return true
		}
	}
	for _, n := range f.weekday {
		if d == nearestWeekday(y, m, min(n, last), last) {
			return true
		}
	}
	return f.lastWD && d == nearestWeekday(y, m, last, last)
}

func (f *dayOfWeek) match(d int, wd time.Weekday, last int) bool {
	if f.any || f.days[wd] {
		return true
	}
	if slices.Contains(f.last, wd) && d+7 > last {
		return true
	}
	for _, n := range f.nth {
		if n.day == wd && (d-1)/7+1 == n.k {
			return true
		}
	}
	return false
}

// nearestWeekday is the weekday (Monday to Friday) nearest day n of the
// month, never in another month.
func nearestWeekday(y int, m time.Month, n, last int) int {
	switch time.Date(y, m, n, 12, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2
		}
		return n + 1
	}
	return n
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
}

// Open reports whether the window allows the minute of t.
func (w *Window) Open(t time.Time) bool {
	t = t.In(w.loc)
	return w.matchDay(t.Year(), t.Month(), t.Day()) && w.hours[t.Hour()] && w.minutes[t.Minute()]
}

// horizon bounds the search for the next opening, in years from the
// start: the calendar repeats itself every 28 years.
const horizon = 29

// Next returns the first minute from t on (t itself when the window is
// open) that the window allows, and false when it never opens again.
func (w *Window) Next(t time.Time) (time.Time, bool) {
	t = t.In(w.loc).Truncate(time.Minute)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, w.loc)
	for day.Year() <= t.Year()+horizon || w.years != nil && day.Year() <= maxYear {
		y, m, d := day.Date()
		if w.years != nil && !w.years[y] {
			day = time.Date(y+1, time.January, 1, 0, 0, 0, 0, w.loc)
			continue
		}
		if w.matchDay(y, m, d) {
			// The earliest allowed minute of the day from t on. Local times
			// do not always follow each other: the hour repeated at a
			// change back from summer time comes twice.
			var first time.Time
			for h := range 24 {
				if !w.hours[h] {
					continue
				}
				for mi := range 60 {
					if !w.minutes[mi] {
						continue
					}
					at := time.Date(y, m, d, h, mi, 0, 0, w.loc)
					// A local time that does not exist (the hour skipped at
					// a change to summer time) moves: it is not this minute.
					if at.Hour() != h || at.Minute() != mi {
						continue
					}
					if at.Before(t) {
						var ok bool
						if at, ok = again(at); !ok || at.Before(t) {
							continue
						}
					}
					if first.IsZero() || at.Before(first) {
						first = at
					}
				}
			}
			if !first.IsZero() {
				return first, true
			}
		}
		day = time.Date(y, m, d+1, 0, 0, 0, 0, w.loc)
	}
	return time.Time{}, false
}

// again returns the second instant of a local time that comes twice: at,
// its first, falls in the hour a change back from summer time repeats.
func again(at time.Time) (time.Time, bool) {
	_, end := at.ZoneBounds()
	if end.IsZero() {
		return time.Time{}, false
	}
	_, before := at.Zone()
	_, after := end.Zone()
	if after >= before {
		return time.Time{}, false
	}
	second := at.Add(time.Duration(before-after) * time.Second)
	if !second.Before(end) && second.Hour() == at.Hour() && second.Minute() == at.Minute() && second.Day() == at.Day() {
		return second, true
	}
	return time.Time{}, false
}
