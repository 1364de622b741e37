// Package jsonpathtest holds test support for the JSONPath-mode packages:
// finding and reading the recorded AWS conformance cases in the shared
// folder, decoding JSON as the engine does, and comparing a value with an
// expectation under the corpus's placeholder rules.
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
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", text, err)
	}
	return v
}

// wholeValue are expected values that stand for any string or number.
var wholeValue = map[string]bool{"timestamp": true, "date": true, "datetime": true, "snf_role_arn": true, "RequestId": true}

var tokenRE = regexp.MustCompile(`<[^<>\s]+>`)

// Matcher compares actual values with expected ones under the corpus's
// comparison rules: numbers by value, key order ignored, and placeholders
// written by snapshot normalisation treated as wildcards.
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
		return ok && (a == e || m.pattern(e).MatchString(a))
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
		if !ok || len(a) != len(e) {
			return false
		}
		for k, ev := range e {
			av, ok := a[k]
			if !ok || !m.Match(ev, av) {
				return false
			}
		}
		return true
	}
	return jsonpath.Equal(expected, actual)
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

func (m *Matcher) pattern(s string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	rest := s
	for rest != "" {
		loc := tokenRE.FindStringIndex(rest)
		lit := rest
		if loc != nil {
			lit = rest[:loc[0]]
		}
		b.WriteString(m.literal(lit))
		if loc == nil {
			break
		}
		b.WriteString(".+")
		rest = rest[loc[1]:]
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// literal quotes text, widening the account id, "date" and long placeholders.
func (m *Matcher) literal(s string) string {
	q := regexp.QuoteMeta(s)
	q = strings.ReplaceAll(q, "111111111111", `\d{12}`)
	q = strings.ReplaceAll(q, "date", `(?:date|\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)`)
	for _, p := range m.placeholders {
		if len(p) >= 6 {
			q = strings.ReplaceAll(q, regexp.QuoteMeta(p), ".+")
		}
	}
	return q
}
