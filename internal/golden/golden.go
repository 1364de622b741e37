// Package golden compares what a test produced with a golden file kept in
// the package's testdata, and rewrites the file when the test runs with
// -update (go test ./internal/x -update), so that every package's golden
// files are checked and renewed the same way.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Updating reports whether the test runs with -update, for tests that
// write their golden files themselves.
func Updating() bool { return *update }

// Check compares got with the golden file at path. With -update it writes
// got there instead, creating the file's folder.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		d := Diff(string(want), string(got))
		if d == "" {
			d = "the same lines in another order or number; got:\n" + string(got)
		}
		t.Errorf("%s differs (go test -update rewrites it; review the diff):\n%s", path, d)
	}
}

// Diff lists the lines only in want (-), then those only in got (+), in
// their order.
func Diff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range wl {
		if !slices.Contains(gl, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range gl {
		if !slices.Contains(wl, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
