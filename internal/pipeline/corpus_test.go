package pipeline

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/golden"
	"github.com/sluice-ci/sluice/internal/testshared"
)

// corpusEntry is what the corpus table says about one file.
type corpusEntry struct {
	// Params are the template parameters the file needs.
	Params map[string]string `json:"params,omitempty"`
	// Note says why, where it is not obvious.
	Note string `json:"note,omitempty"`
	// Errors lists the errors of an intentionally invalid file, as
	// "resource path Code" (path "-" for the file as a whole).
	Errors []string `json:"errors,omitempty"`
}

// TestCorpus reads every declaration of the shared corpus: the
// intentionally invalid ones report the errors the table lists, the others
// are valid given their parameters, and every warning (unresolved values
// among them) matches the golden file.
func TestCorpus(t *testing.T) {
	dir := testshared.Dir(t, "pipelines-corpus")
	raw, err := os.ReadFile("testdata/corpus/corpus.json")
	if err != nil {
		t.Fatal(err)
	}
	var table map[string]corpusEntry
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatalf("corpus table: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && filepath.Ext(e.Name()) != ".md" {
			files = append(files, e.Name())
		}
	}
	for name := range table {
		if !slices.Contains(files, name) {
			t.Errorf("the corpus table names %s, which is not in %s", name, dir)
		}
	}
	var warnings strings.Builder
	for _, name := range files {
		entry := table[name]
		t.Run(name, func(t *testing.T) {
			f, err := Load(filepath.Join(dir, name), Options{Params: entry.Params})
			if err != nil {
				t.Fatal(err)
			}
			var errs []string
			record := func(resource string, p Problem) {
				at := p.Path
				if at == "" {
					at = "-"
				}
				if resource == "" {
					resource = "-"
				}
				line := resource + " " + at + " " + string(p.Code)
				if p.Severity == SeverityError {
					errs = append(errs, line)
				} else {
					fmt.Fprintf(&warnings, "%s: %s: %s\n", name, line, p.Message)
				}
			}
			for _, p := range f.Notes {
				record("", p)
			}
			for _, p := range f.Pipelines {
				for _, pr := range p.Problems() {
					record(p.Resource, pr)
				}
			}
			want := entry.Errors
			slices.Sort(errs)
			slices.Sort(want)
			if !slices.Equal(errs, want) {
				t.Errorf("errors:\n got %q\nwant %q", errs, want)
			}
		})
	}
	golden.Check(t, "testdata/corpus/warnings.golden", []byte(warnings.String()))
}
