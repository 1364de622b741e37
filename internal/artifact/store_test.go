package artifact

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidateKey(t *testing.T) {
	tests := []struct {
		key    string
		reason string // "" when valid
	}{
		{key: "pipe/exec-1/SourceArtifact.zip"},
		{key: "p@1/a=b+c_d-e.f"},
		{key: "", reason: "empty"},
		{key: "a//b", reason: "empty segment"},
		{key: "/a", reason: "empty segment"},
		{key: "a/", reason: "empty segment"},
		{key: "../a", reason: "starts with a dot"},
		{key: "a/./b", reason: "starts with a dot"},
		{key: ".hidden", reason: "starts with a dot"},
		{key: "a b", reason: "not allowed"},
		{key: `a\b`, reason: "not allowed"},
		{key: strings.Repeat("k", MaxKeyLength+1), reason: "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			err := ValidateKey(tt.key)
			switch {
			case tt.reason == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.reason != "" && (err == nil || !strings.Contains(err.Error(), tt.reason)):
				t.Fatalf("error %v, want one saying %q", err, tt.reason)
			}
		})
	}
}

func TestFolderPutGet(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f, err := NewFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		key     string
		content string
		wantErr string
	}{
		{name: "new key", key: "p/e1/Out", content: "first"},
		{name: "overwrite", key: "p/e1/Out", content: "second"},
		{name: "bad key", key: "p/../x", wantErr: "starts with a dot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.Put(ctx, tt.key, strings.NewReader(tt.content))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rc, err := f.Get(ctx, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if string(got) != tt.content {
				t.Fatalf("got %q, want %q", got, tt.content)
			}
		})
	}
	if _, err := f.Get(ctx, "p/missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing key: %v, want ErrNotFound", err)
	}
	if _, err := f.Get(ctx, "p"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("folder as key: %v, want ErrNotFound", err)
	}
}

// failingReader fails after some bytes, as a broken upload would.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), r.n)
	r.n -= n
	return n, nil
}

func TestFolderPutIsAtomic(t *testing.T) {
	ctx := context.Background()
	f, err := NewFolder(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Put(ctx, "k", strings.NewReader("old")); err != nil {
		t.Fatal(err)
	}
	if err := f.Put(ctx, "k", &failingReader{n: 10}); err == nil {
		t.Fatal("put of a failing reader succeeded")
	}
	rc, err := f.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "old" {
		t.Fatalf("after a failed put the artifact is %q, want the old one", got)
	}
	entries, _ := os.ReadDir(f.Dir())
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := f.Put(cancelled, "k2", strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("put with a cancelled context: %v", err)
	}
}

func TestPackUnpackRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	mod := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	files := map[string]string{"a.txt": "A", "sub/b.txt": "B", "sub/deep/c.sh": "#!/bin/sh\necho c\n"}
	for name, body := range files {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		perm := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			perm = 0o755
		}
		if err := os.WriteFile(p, []byte(body), perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(src, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/b.txt", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	store, err := NewFolder(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	err = Pack(ctx, store, "p/e/Out", func(w *Writer) error {
		if err := w.AddTree(ctx, src); err != nil {
			return err
		}
		return errors.New("disk full")
	})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("a failing fill must fail Pack, got %v", err)
	}
	if _, err := store.Get(ctx, "p/e/Out"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a failed pack left an artifact: %v", err)
	}
	if err := Pack(ctx, store, "p/e/Out", func(w *Writer) error { return w.AddTree(ctx, src) }); err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	st, err := Unpack(ctx, store, "p/e/Out", dest, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != 3 || st.Symlinks != 1 || st.Dirs != 1 {
		t.Fatalf("stats %+v", st)
	}
	for name, body := range files {
		p := filepath.Join(dest, filepath.FromSlash(name))
		got, err := os.ReadFile(p)
		if err != nil || string(got) != body {
			t.Errorf("%s: %q %v", name, got, err)
		}
		info, _ := os.Stat(p)
		if !info.ModTime().Equal(mod) {
			t.Errorf("%s: modified %v, want %v", name, info.ModTime(), mod)
		}
	}
	if info, _ := os.Stat(filepath.Join(dest, "sub/deep/c.sh")); info.Mode().Perm() != 0o755 {
		t.Errorf("c.sh mode %v", info.Mode())
	}
	if target, _ := os.Readlink(filepath.Join(dest, "link")); target != "sub/b.txt" {
		t.Errorf("link target %q", target)
	}
	if _, err := Unpack(ctx, store, "p/e/None", dest, DefaultLimits); !errors.Is(err, ErrNotFound) {
		t.Errorf("unpack of a missing key: %v", err)
	}
}

// streamOnly hides the *os.File behind a plain reader, as a remote store's
// body would be.
type streamOnly struct{ Store }

func (s streamOnly) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.Store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{rc, rc}, nil
}

func TestUnpackFromAStream(t *testing.T) {
	ctx := context.Background()
	folder, err := NewFolder(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := folder.Put(ctx, "k", bytes.NewReader(rawZip(t, entry{name: "x", body: "y"}))); err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	if _, err := Unpack(ctx, streamOnly{folder}, "k", dest, DefaultLimits); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dest, "x")); string(got) != "y" {
		t.Fatalf("got %q", got)
	}
}

func TestWriterRefusesUnsafeNames(t *testing.T) {
	tests := []string{"../x", "/abs", "a/../../b", ".", "", "C:/x"}
	for _, name := range tests {
		t.Run(name, func(t *testing.T) {
			w := NewWriter(io.Discard)
			if err := w.AddReader(name, 0o644, time.Time{}, strings.NewReader("x")); err == nil {
				t.Fatalf("name %q accepted", name)
			}
		})
	}
}
