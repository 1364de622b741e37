package compile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/golden"
)

// TestStatemachinesUpToDate fails when statemachines/ differs from what the
// pipelines in pipelines/ compile to. `make statemachines` (or this test
// with -update) regenerates them.
func TestStatemachinesUpToDate(t *testing.T) {
	root := repoRoot(t)
	pipelinesDir, outDir := filepath.Join(root, "pipelines"), filepath.Join(root, "statemachines")
	var compiled []Compiled
	if _, err := os.Stat(pipelinesDir); err == nil {
		var err error
		if compiled, err = Dir(pipelinesDir, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]byte{}
	for _, c := range compiled {
		want[DefinitionFile(c.Pipeline)] = c.Definition
	}
	if golden.Updating() {
		if err := WriteDir(outDir, compiled, true); err != nil {
			t.Fatal(err)
		}
	}
	have, _ := filepath.Glob(filepath.Join(outDir, "*.asl.json"))
	for _, path := range have {
		if _, ok := want[filepath.Base(path)]; !ok {
			t.Errorf("%s has no pipeline in pipelines/ any more; run make statemachines", path)
		}
	}
	for name, def := range want {
		got, err := os.ReadFile(filepath.Join(outDir, name))
		if err != nil {
			t.Errorf("statemachines/%s is missing; run make statemachines", name)
			continue
		}
		if !bytes.Equal(got, def) {
			t.Errorf("statemachines/%s is out of date; run make statemachines", name)
		}
	}
}

func TestDirSkipsFoldersAndOtherFiles(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/pipelines/minimal.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "minimal.json"), src, 0o644)
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("# not a pipeline"), 0o644)
	os.Mkdir(filepath.Join(dir, "demo"), 0o755)
	os.WriteFile(filepath.Join(dir, "demo", "buildspec.yml"), []byte("version: 0.2"), 0o644)
	got, err := Dir(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Pipeline != "minimal" {
		t.Fatalf("compiled %+v, want only minimal", got)
	}
	os.WriteFile(filepath.Join(dir, "again.json"), src, 0o644)
	if _, err := Dir(dir, Options{}); err == nil || !strings.Contains(err.Error(), "declared in both") {
		t.Errorf("duplicate pipeline: %v", err)
	}
}
