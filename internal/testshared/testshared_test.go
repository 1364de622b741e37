package testshared

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that notes a skip or a failure instead of ending
// the test.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()                 {}
func (r *recorder) Skipf(string, ...any)    { r.skipped = true }
func (r *recorder) Fatalf(string, ...any)   { r.failed = true }
func (r *recorder) Logf(f string, a ...any) { r.TB.Logf(f, a...) }

func TestDir(t *testing.T) {
	// base/repo holds go.mod; base/shared holds the shared folders, and
	// base/elsewhere is where SLUICE_SHARED_DIR points in some cases.
	base := t.TempDir()
	for _, d := range []string{"repo/internal/pkg", "shared/corpus", "elsewhere/cases"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"repo/go.mod", "shared/file"} {
		if err := os.WriteFile(filepath.Join(base, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(filepath.Join(base, "repo", "internal", "pkg"))

	tests := []struct {
		name, env, ci, folder string
		want                  string // "" when the test is to stop
		failed                bool   // stopped by failing rather than skipping
	}{
		{name: "beside the repository", folder: "corpus", want: "repo/../shared/corpus"},
		{name: "named by the variable", env: "elsewhere", folder: "cases", want: "elsewhere/cases"},
		{name: "the variable wins", env: "elsewhere", folder: "corpus"},
		{name: "missing", folder: "nothing"},
		{name: "a file", folder: "file"},
		{name: "missing in CI", ci: "true", folder: "nothing", failed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := ""
			if tt.env != "" {
				env = filepath.Join(base, tt.env)
			}
			t.Setenv("SLUICE_SHARED_DIR", env)
			t.Setenv("CI", tt.ci)
			r := &recorder{TB: t}
			got := Dir(r, tt.folder)
			if tt.want == "" {
				if got != "" || r.failed != tt.failed || r.skipped == tt.failed {
					t.Errorf("got %q, skipped %v, failed %v; want failed %v", got, r.skipped, r.failed, tt.failed)
				}
				return
			}
			if want := filepath.Join(base, tt.want); got != want || r.skipped || r.failed {
				t.Errorf("got %q (skipped %v, failed %v), want %q", got, r.skipped, r.failed, want)
			}
		})
	}
}
