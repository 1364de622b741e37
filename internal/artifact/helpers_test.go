package artifact

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// entry describes one entry of a hand-made archive.
type entry struct {
	name   string
	body   string // file content, or link target
	link   bool
	dir    bool
	mode   fs.FileMode
	repeat int // body repeated this many times (0: once)
}

// rawZip builds an archive with names written exactly as given, which the
// package's own Writer would refuse.
func rawZip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
		switch {
		case e.link:
			h.SetMode(fs.ModeSymlink | 0o777)
		case e.dir:
			h.SetMode(fs.ModeDir | 0o755)
		case e.mode != 0:
			h.SetMode(e.mode)
		default:
			h.SetMode(0o644)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		n := max(e.repeat, 1)
		if strings.HasSuffix(e.name, "/") {
			n = 0 // archive/zip writes no content for folder names
		}
		for range n {
			if _, err := w.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sandbox is a folder holding the extraction folder "out" and a witness
// folder "outside" that nothing may touch.
type sandbox struct {
	parent, dest string
	before       []string
	// planted names links the test itself made in dest, left unchecked.
	planted map[string]bool
}

func newSandbox(t testing.TB) *sandbox {
	t.Helper()
	parent := t.TempDir()
	if err := os.MkdirAll(filepath.Join(parent, "outside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, "outside", "keep"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &sandbox{parent: parent, dest: filepath.Join(parent, "out")}
	s.before = s.outsideListing(t)
	return s
}

// outsideListing lists every path under parent that is not under dest, with
// the content of regular files.
func (s *sandbox) outsideListing(t testing.TB) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(s.parent, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == s.dest {
			return filepath.SkipDir
		}
		line := p
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += "=" + string(b)
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// check fails the test if anything outside dest changed or if a link under
// dest resolves outside it.
func (s *sandbox) check(t testing.TB) {
	t.Helper()
	after := s.outsideListing(t)
	if strings.Join(after, "\n") != strings.Join(s.before, "\n") {
		t.Fatalf("extraction wrote outside its folder:\nbefore %q\nafter  %q", s.before, after)
	}
	realDest, err := filepath.EvalSymlinks(s.dest)
	if err != nil {
		return // dest was never created
	}
	_ = filepath.WalkDir(s.dest, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 || s.planted[p] {
			return nil
		}
		target, err := os.Readlink(p)
		if err != nil {
			t.Fatalf("read link %s: %v", p, err)
		}
		if filepath.IsAbs(target) {
			t.Fatalf("link %s has absolute target %q", p, target)
		}
		resolved, err := filepath.EvalSymlinks(p)
		if err != nil {
			// Dangling or looping: check where it would point lexically
			// from its real parent folder.
			parent, perr := filepath.EvalSymlinks(filepath.Dir(p))
			if perr != nil {
				return nil
			}
			resolved = filepath.Join(parent, target)
		}
		if resolved != realDest && !strings.HasPrefix(resolved, realDest+string(filepath.Separator)) {
			t.Fatalf("link %s -> %q resolves outside the folder: %s", p, target, resolved)
		}
		return nil
	})
}

// lyingZip builds an archive whose one entry claims claimed bytes but
// inflates to actual bytes.
func lyingZip(t testing.TB, claimed uint64, actual int) []byte {
	t.Helper()
	var body bytes.Buffer
	fw, err := flate.NewWriter(&body, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(make([]byte, actual)); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "liar", Method: zip.Deflate, UncompressedSize64: claimed, CompressedSize64: uint64(body.Len())}
	h.SetMode(0o644)
	w, err := zw.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(body.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
