package golden

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name, want, got, diff string
	}{
		{"same", "a\nb\n", "a\nb\n", ""},
		{"changed line", "a\nb\n", "a\nc\n", "- b\n+ c\n"},
		{"added line", "a\n", "a\nb\n", "+ b\n"},
		{"removed line", "a\nb\n", "b\n", "- a\n"},
		{"reordered", "a\nb\n", "b\na\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := Diff(tt.want, tt.got); d != tt.diff {
				t.Errorf("Diff = %q, want %q", d, tt.diff)
			}
		})
	}
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Fatal(...any)          { r.failed = true }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.golden")
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, got string
		fails           bool
	}{
		{"equal", path, "a\nb\n", false},
		{"different", path, "a\nc\n", true},
		{"reordered", path, "b\na\n", true},
		{"no golden file", filepath.Join(t.TempDir(), "missing.golden"), "a\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			Check(r, tt.path, []byte(tt.got))
			if r.failed != tt.fails {
				t.Errorf("Check failed %t, want %t", r.failed, tt.fails)
			}
		})
	}
}
