// Package actiontest holds helpers for the tests of action providers: an
// artifact store in a temporary folder, zip fixtures, and result checks.
package actiontest

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/artifact"
)

// Artifacts returns a folder artifact store in a temporary folder.
func Artifacts(t testing.TB) *artifact.Folder {
	t.Helper()
	f, err := artifact.NewFolder(filepath.Join(t.TempDir(), "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Zip returns an archive holding files (name -> content); names ending in
// ".sh" are executable.
func Zip(t testing.TB, files map[string]string) []byte {
	t.Helper()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	w := artifact.NewWriter(&buf)
	for _, name := range names {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := w.AddReader(name, mode, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), strings.NewReader(files[name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Put stores data under key.
func Put(t testing.TB, store artifact.Store, key string, data []byte) {
	t.Helper()
	if err := store.Put(context.Background(), key, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}

// Read returns the artifact stored under key.
func Read(t testing.TB, store artifact.Store, key string) []byte {
	t.Helper()
	rc, err := store.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Unzip extracts the artifact stored under key and returns its files
// (name -> content; links as "->target").
func Unzip(t testing.TB, store artifact.Store, key string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	if _, err := artifact.Unpack(context.Background(), store, key, dir, artifact.DefaultLimits); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if info.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			files[filepath.ToSlash(rel)] = "->" + target
			return err
		}
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// Check fails the test unless Run returned no error and, when wantCode is
// set, a failed result with that code whose message contains wantMsg. It
// reports whether the action succeeded (so the caller goes on checking).
func Check(t testing.TB, res *action.Result, err error, wantCode, wantMsg string) bool {
	t.Helper()
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if wantCode != "" {
		if res.Status != action.StatusFailed || res.ErrorDetails == nil || res.ErrorDetails.Code != wantCode || !strings.Contains(res.ErrorDetails.Message, wantMsg) {
			t.Fatalf("result %+v (%+v), want %s saying %q", res, res.ErrorDetails, wantCode, wantMsg)
		}
		return false
	}
	if res.Status != action.StatusSucceeded {
		t.Fatalf("result %+v (%+v), want Succeeded", res, res.ErrorDetails)
	}
	return true
}
