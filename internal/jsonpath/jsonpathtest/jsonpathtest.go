// Package jsonpathtest holds test support for the packages of the embedded
// engine: finding and reading the recorded AWS conformance cases in the
// shared folder, decoding JSON as the engine does, and comparing a value or
// an error cause with an expectation under the corpus's placeholder rules.
package jsonpathtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/jsonpath"
	"github.com/sluice-ci/sluice/internal/testshared"
)

// Case is one recorded execution of the conformance corpus, reduced to what
// unit tests of the path packages read.
type Case struct {
	ID         string         `json:"id"`
	Category   string         `json:"category"`
	Definition map[string]any `json:"definition"`
	Input      any            `json:"input"`
	Expected   Expected       `json:"expected"`
	File       string         `json:"-"`
}

// Expected is the recorded outcome of a case.
type Expected struct {
	Status       string   `json:"status"`
	Output       any      `json:"output"`
	Error        any      `json:"error"`
	Cause        any      `json:"cause"`
	Placeholders []string `json:"placeholders"`
}

// Cases reads every case of the given categories (all when none is given),
// sorted by file name, from the cases folder of the shared asl-conformance
// folder (testshared.Dir).
func Cases(t testing.TB, categories ...string) []Case {
	t.Helper()
	dir := filepath.Join(testshared.Dir(t, "asl-conformance"), "cases")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read conformance cases: %v", err)
	}
	want := map[string]bool{}
	for _, c := range categories {
		want[c] = true
	}
	var cases []Case
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("read %s: %v", e.Name(), err)
		}
		var c Case
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("decode %s: %v", e.Name(), err)
		}
		if len(want) > 0 && !want[c.Category] {
			continue
		}
		c.File = e.Name()
		cases = append(cases, c)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].File < cases[j].File })
	return cases
}

// OnlyState returns the state of a JSONPath-mode machine made of exactly one
// state, or nil.
func (c *Case) OnlyState() map[string]any {
	states, _ := c.Definition["States"].(map[string]any)
	if len(states) != 1 || c.Definition["QueryLanguage"] == "JSONata" {
		return nil
	}
	for _, s := range states {
		st, _ := s.(map[string]any)
		if st["QueryLanguage"] == "JSONata" {
			return nil
		}
		return st
	}
	return nil
}

var causePrefix = regexp.MustCompile(`^An error occurred while executing the state '[^']*' \(entered at the event id #\d+\)\. `)

// Check compares an evaluation's outcome with the recorded one: the output
// when AWS succeeded, otherwise the error name and the cause without the
// "An error occurred while executing the state ..." prefix the interpreter
// adds.
func (c *Case) Check(t testing.TB, got any, err error) {
	t.Helper()
	m := NewMatcher(c.Expected.Placeholders)
	if c.Expected.Status == "SUCCEEDED" {
		if err != nil {
			t.Fatalf("AWS succeeded, got %v", err)
		}
		if !m.Match(c.Expected.Output, got) {
			t.Errorf("got %.300s, AWS recorded %.300s", jsonpath.Text(got), jsonpath.Text(c.Expected.Output))
		}
		return
	}
	var f *jsonpath.Failure
	if !errors.As(err, &f) {
		t.Fatalf("got %.300s, %v; AWS failed with %v", jsonpath.Text(got), err, c.Expected.Error)
	}
	want, _ := c.Expected.Cause.(string)
	if f.Name != c.Expected.Error || !m.Match(causePrefix.ReplaceAllString(want, ""), f.Cause) {
		t.Errorf("failure %s: %s\nAWS recorded %v: %s", f.Name, f.Cause, c.Expected.Error, want)
	}
}

// Decode parses JSON text with UseNumber, failing the test on error.
func Decode(t testing.TB, text string) any {
	t.Helper()
	v, err := decodeJSON(text)
	if err != nil {
		t.Fatalf("decode %q: %v", text, err)
	}
	return v
}

// wholeValue are expected values that stand for any string or number.
var wholeValue = map[string]bool{
	"timestamp": true, "date": true, "datetime": true, "snf_role_arn": true, "RequestId": true,
	"start-date": true, "stop-date": true, "start-time": true, "entered-time": true, "request_id": true, "uuid": true,
}

var (
	// tokenRE finds the <token> placeholders snapshot normalisation wrote.
	tokenRE   = regexp.MustCompile(`<[^<>\s]+>`)
	accountRE = regexp.MustCompile(`111111111111`)
	dateRE    = regexp.MustCompile(`date`)
)

// isoTimestamp is what "date" inside an expected string may stand for.
const isoTimestamp = `\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?`

// Matcher compares actual values with expected ones under the comparison
// rules of the corpus (its README): numbers by value, key order ignored,
// and the placeholders written by snapshot normalisation, in values and in
// object keys, treated as wildcards.
type Matcher struct {
	placeholders []string
}

// NewMatcher returns a matcher for a case's extra placeholder strings.
func NewMatcher(placeholders []string) *Matcher {
	return &Matcher{placeholders: placeholders}
}

// Match reports whether actual satisfies expected.
func (m *Matcher) Match(expected, actual any) bool {
	switch e := expected.(type) {
	case string:
		if m.isWildcard(e) {
			switch actual.(type) {
			case string, json.Number:
				return true
			}
			return false
		}
		a, ok := actual.(string)
		return ok && m.matchString(e, a)
	case []any:
		a, ok := actual.([]any)
		if !ok || len(a) != len(e) {
			return false
		}
		for i := range e {
			if !m.Match(e[i], a[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		a, ok := actual.(map[string]any)
		return ok && m.matchObject(e, a)
	}
	return jsonpath.Equal(expected, actual)
}

// matchObject matches objects key by key: first the keys both have, then
// each other expected key, a placeholder, against an actual key left over.
func (m *Matcher) matchObject(e, a map[string]any) bool {
	if len(a) != len(e) {
		return false
	}
	used := map[string]bool{}
	var rest []string
	for k, ev := range e {
		av, ok := a[k]
		if !ok {
			rest = append(rest, k)
			continue
		}
		if !m.Match(ev, av) {
			return false
		}
		used[k] = true
	}
	for _, k := range rest {
		found := false
		for ak, av := range a {
			if !used[ak] && m.matchString(k, ak) && m.Match(e[k], av) {
				used[ak], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// MatchCause reports whether an error's cause satisfies the expected one:
// no expected cause wants none (or an empty one); an expected cause that is
// JSON (an object or an array, or text that parses as one) wants the cause
// to parse as matching JSON; other text is matched as a string.
func (m *Matcher) MatchCause(expected any, cause *string) bool {
	if expected == nil {
		return cause == nil || *cause == ""
	}
	if cause == nil {
		return false
	}
	if s, ok := expected.(string); ok {
		t := strings.TrimSpace(s)
		parsed, err := decodeJSON(t)
		if (!strings.HasPrefix(t, "{") && !strings.HasPrefix(t, "[")) || err != nil {
			return m.matchString(s, *cause)
		}
		expected = parsed
	}
	got, err := decodeJSON(*cause)
	return err == nil && m.Match(expected, got)
}

func (m *Matcher) isWildcard(s string) bool {
	if wholeValue[s] || tokenRE.FindString(s) == s {
		return true
	}
	for _, p := range m.placeholders {
		if s == p {
			return true
		}
	}
	return false
}

func (m *Matcher) matchString(want, got string) bool {
	return want == got || m.pattern(want).MatchString(got)
}

// pattern turns an expected string into a regular expression: <token>
// placeholders and the long extra placeholders match any text, the account
// id 111111111111 any twelve digits, and "date" itself or a timestamp.
func (m *Matcher) pattern(s string) *regexp.Regexp {
	type span struct {
		from, to int
		re       string
	}
	var spans []span
	add := func(re *regexp.Regexp, with string) {
		for _, loc := range re.FindAllStringIndex(s, -1) {
			spans = append(spans, span{loc[0], loc[1], with})
		}
	}
	add(tokenRE, `.+?`)
	add(accountRE, `\d{12}`)
	add(dateRE, `(?:date|`+isoTimestamp+`)`)
	for _, p := range m.placeholders {
		if len(p) >= 6 {
			add(regexp.MustCompile(regexp.QuoteMeta(p)), `.+?`)
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	var b strings.Builder
	b.WriteString(`(?s)^`)
	pos := 0
	for _, sp := range spans {
		if sp.from < pos {
			continue
		}
		b.WriteString(regexp.QuoteMeta(s[pos:sp.from]))
		b.WriteString(sp.re)
		pos = sp.to
	}
	b.WriteString(regexp.QuoteMeta(s[pos:]))
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

// decodeJSON parses JSON text with UseNumber.
func decodeJSON(text string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
