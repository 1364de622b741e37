package states_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-ci/sluice/internal/golden"
	"github.com/sluice-ci/sluice/internal/jsonpath/jsonpathtest"
	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/testshared"
)

// Pass-rate floors of the conformance corpus: the whole corpus, and every
// category.
const (
	minTotalRate    = 0.95
	minCategoryRate = 0.85
)

// conformanceCase is one case of the ASL conformance corpus.
type conformanceCase struct {
	ID         string          `json:"id"`
	Category   string          `json:"category"`
	Definition json.RawMessage `json:"definition"`
	Input      json.RawMessage `json:"input"`
	MockConfig json.RawMessage `json:"mock_config"`
	Expected   struct {
		Status       string          `json:"status"`
		Output       json.RawMessage `json:"output"`
		Error        *string         `json:"error"`
		Cause        json.RawMessage `json:"cause"`
		Events       []projected     `json:"events"`
		Placeholders []string        `json:"placeholders"`
	} `json:"expected"`
}

type projected struct {
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
}

// loadCases reads the corpus from the shared folder asl-conformance
// (testshared.Dir): the test is skipped when the folder is missing or holds
// no case, and fails instead when CI is set.
func loadCases(t *testing.T) []*conformanceCase {
	dir := filepath.Join(testshared.Dir(t, "asl-conformance"), "cases")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("no conformance cases in %s", dir)
		}
		t.Skipf("no conformance cases in %s", dir)
	}
	var cases []*conformanceCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := &conformanceCase{}
		if err := json.Unmarshal(data, c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		cases = append(cases, c)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].ID < cases[j].ID })
	return cases
}

// runCase runs a case as `sluice states run --virtual-clock --history` does
// and returns the printed JSON.
func runCase(c *conformanceCase) ([]byte, error) {
	opts := states.RunOptions{Definition: c.Definition, Input: c.Input, VirtualClock: true, History: true}
	if len(c.MockConfig) > 0 && string(c.MockConfig) != "null" {
		mc, err := states.ParseMockConfig(c.MockConfig)
		if err != nil {
			return nil, err
		}
		opts.Mocks, opts.TestCase = mc, "Replay"
	}
	res, err := states.Run(context.Background(), opts)
	if err != nil {
		return nil, err
	}
	return res.Encode()
}

type caseResult struct {
	c      *conformanceCase
	reason string // empty when the case passed
	events bool   // the event projection matched
}

func TestConformance(t *testing.T) {
	cases := loadCases(t)
	results := make([]caseResult, len(cases))
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = checkCase(cases[i])
			}
		}()
	}
	for i := range cases {
		work <- i
	}
	close(work)
	wg.Wait()

	type tally struct{ pass, total int }
	byCat := map[string]*tally{}
	var total tally
	var evMatch, evTotal int
	var failing []string
	for _, r := range results {
		tl := byCat[r.c.Category]
		if tl == nil {
			tl = &tally{}
			byCat[r.c.Category] = tl
		}
		tl.total++
		total.total++
		if r.reason == "" {
			tl.pass++
			total.pass++
		} else {
			failing = append(failing, fmt.Sprintf("  %s: %s", r.c.ID, r.reason))
		}
		if r.c.Expected.Events != nil {
			evTotal++
			if r.events {
				evMatch++
			}
		}
	}
	cats := make([]string, 0, len(byCat))
	for c := range byCat {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	var report strings.Builder
	fmt.Fprintf(&report, "ASL conformance: %d/%d passed (%.1f%%)\n", total.pass, total.total, 100*float64(total.pass)/float64(total.total))
	low := false
	for _, c := range cats {
		tl := byCat[c]
		rate := float64(tl.pass) / float64(tl.total)
		fmt.Fprintf(&report, "  %-22s %4d/%-4d %5.1f%%\n", c, tl.pass, tl.total, 100*rate)
		if rate < minCategoryRate {
			low = true
		}
	}
	fmt.Fprintf(&report, "events_match: %d/%d (%.1f%%)\n", evMatch, evTotal, 100*float64(evMatch)/float64(max(evTotal, 1)))
	if len(failing) > 0 {
		fmt.Fprintf(&report, "failing cases:\n%s\n", strings.Join(failing, "\n"))
	}
	t.Log(report.String())
	if float64(total.pass)/float64(total.total) < minTotalRate || low {
		t.Errorf("conformance below %.0f%% overall or %.0f%% in a category", 100*minTotalRate, 100*minCategoryRate)
	}
	checkFailingCases(t, results)
}

// conformanceGolden records the failing cases of the corpus at hand, so
// that a case that regresses fails the test even while the pass rates stay
// above their floors.
const conformanceGolden = "testdata/conformance.golden"

// checkFailingCases compares the failing cases with the ones
// conformanceGolden records for the same corpus (named by a hash of its
// case ids); on another corpus only the floors apply. -update rewrites the
// file.
func checkFailingCases(t *testing.T, results []caseResult) {
	ids := make([]string, len(results))
	var got strings.Builder
	for i, r := range results {
		ids[i] = r.c.ID
	}
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	fmt.Fprintf(&got, "corpus %x\n", sum)
	for _, r := range results {
		if r.reason != "" {
			fmt.Fprintf(&got, "fail %s\n", r.c.ID)
		}
	}
	if golden.Updating() {
		if err := os.WriteFile(conformanceGolden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(conformanceGolden)
	if err != nil {
		t.Fatal(err)
	}
	corpus, _, _ := strings.Cut(got.String(), "\n")
	if !strings.HasPrefix(string(want), corpus+"\n") {
		t.Logf("%s records another corpus: only the pass-rate floors apply", conformanceGolden)
		return
	}
	if string(want) != got.String() {
		t.Errorf("the failing cases changed; they are now (go test -run TestConformance -update records them):\n%s", got.String())
	}
}

// checkCase runs a case and compares it by the corpus rules.
func checkCase(c *conformanceCase) (r caseResult) {
	r.c = c
	defer func() {
		if p := recover(); p != nil {
			r.reason = fmt.Sprintf("panic: %v", p)
		}
	}()
	out, err := runCase(c)
	if err != nil {
		r.reason = oneLine("run: " + err.Error())
		return r
	}
	var got struct {
		Status string          `json:"status"`
		Output json.RawMessage `json:"output"`
		Error  *string         `json:"error"`
		Cause  *string         `json:"cause"`
		Events []struct {
			Type    string `json:"type"`
			Entered *struct {
				Name string `json:"name"`
			} `json:"stateEnteredEventDetails"`
			Exited *struct {
				Name string `json:"name"`
			} `json:"stateExitedEventDetails"`
		} `json:"events"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		r.reason = "bad output: " + err.Error()
		return r
	}
	if c.Expected.Events != nil {
		var proj []projected
		for _, e := range got.Events {
			p := projected{Type: e.Type}
			if e.Entered != nil {
				p.Name = e.Entered.Name
			} else if e.Exited != nil {
				p.Name = e.Exited.Name
			}
			proj = append(proj, p)
		}
		r.events = eventsMatch(c.Expected.Events, proj)
	}
	m := jsonpathtest.NewMatcher(c.Expected.Placeholders)
	exp := c.Expected
	switch {
	case got.Status != exp.Status:
		r.reason = fmt.Sprintf("status %s, want %s (error %s, cause %s)", got.Status, exp.Status, str(got.Error), str(got.Cause))
	case exp.Status == "SUCCEEDED":
		if !m.Match(decode(exp.Output), decode(got.Output)) {
			r.reason = oneLine(fmt.Sprintf("output %s, want %s", got.Output, exp.Output))
		}
	default:
		if str(exp.Error) != str(got.Error) {
			r.reason = oneLine(fmt.Sprintf("error %q, want %q (cause %s)", str(got.Error), str(exp.Error), str(got.Cause)))
		} else if !m.MatchCause(decode(exp.Cause), got.Cause) {
			r.reason = oneLine(fmt.Sprintf("cause %q, want %s", str(got.Cause), exp.Cause))
		}
	}
	return r
}

func str(s *string) string {
	if s == nil {
		return "<none>"
	}
	return *s
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func decode(raw []byte) any {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return string(raw)
	}
	return v
}

// eventsMatch compares {type, name} projections exactly, except inside
// each outermost Parallel state, where both sides are sorted.
func eventsMatch(want, got []projected) bool {
	a, b := normalizeEvents(want), normalizeEvents(got)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func normalizeEvents(list []projected) []projected {
	out := append([]projected(nil), list...)
	for i := 0; i < len(out); i++ {
		if out[i].Type != "ParallelStateEntered" {
			continue
		}
		depth, end := 0, len(out)
		for j := i; j < len(out); j++ {
			switch out[j].Type {
			case "ParallelStateEntered":
				depth++
			case "ParallelStateExited":
				depth--
			}
			if depth == 0 {
				end = j
				break
			}
		}
		win := out[i+1 : end]
		sort.SliceStable(win, func(x, y int) bool {
			if win[x].Type != win[y].Type {
				return win[x].Type < win[y].Type
			}
			return win[x].Name < win[y].Name
		})
		i = end
	}
	return out
}
