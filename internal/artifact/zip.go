package artifact

import (
	"archive/zip"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Writer writes a zip archive entry by entry, streaming each entry's content
// through a deflate compressor, so memory stays bounded whatever the size of
// the entries. Entry names are checked as Extract checks them: a Writer never
// produces an archive that Extract would refuse for its names.
type Writer struct {
	zw *zip.Writer
}

// NewWriter returns a Writer that writes the archive to w. Deflate runs at
// its fastest level: artifacts are written once per action and read soon
// after, so time matters more than the last percent of size.
func NewWriter(w io.Writer) *Writer {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, newPooledFlate)
	return &Writer{zw: zw}
}

// flateWriters recycles compressors: each holds about a megabyte of tables,
// too much to allocate for every entry of a tree of small files.
var flateWriters sync.Pool

type pooledFlate struct{ *flate.Writer }

func newPooledFlate(out io.Writer) (io.WriteCloser, error) {
	if fw, ok := flateWriters.Get().(*flate.Writer); ok {
		fw.Reset(out)
		return pooledFlate{fw}, nil
	}
	fw, err := flate.NewWriter(out, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	return pooledFlate{fw}, nil
}

func (p pooledFlate) Close() error {
	err := p.Writer.Close()
	flateWriters.Put(p.Writer)
	return err
}

// AddReader adds a regular file named name with the permission bits of mode
// and the modification time mod, its content read from r.
func (w *Writer) AddReader(name string, mode fs.FileMode, mod time.Time, r io.Reader) error {
	clean, err := entryName(name)
	if err != nil {
		return err
	}
	h := &zip.FileHeader{Name: clean, Method: zip.Deflate, Modified: mod}
	h.SetMode(mode.Perm())
	dst, err := w.zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("zip entry %q: %w", clean, err)
	}
	if _, err := io.Copy(dst, r); err != nil {
		return fmt.Errorf("zip entry %q: %w", clean, err)
	}
	return nil
}

// AddFile adds the regular file at path (symbolic links are followed) as
// entry name, keeping its permission bits and modification time.
func (w *Writer) AddFile(name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("zip entry %q: %w", name, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("zip entry %q: %w", name, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("zip entry %q: %s is not a regular file", name, path)
	}
	return w.AddReader(name, info.Mode(), info.ModTime(), f)
}

// AddSymlink adds a symbolic link entry named name pointing at target.
func (w *Writer) AddSymlink(name, target string, mod time.Time) error {
	clean, err := entryName(name)
	if err != nil {
		return err
	}
	h := &zip.FileHeader{Name: clean, Method: zip.Store, Modified: mod}
	h.SetMode(fs.ModeSymlink | 0o777)
	dst, err := w.zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("zip entry %q: %w", clean, err)
	}
	if _, err := io.WriteString(dst, target); err != nil {
		return fmt.Errorf("zip entry %q: %w", clean, err)
	}
	return nil
}

// AddDir adds a directory entry, which keeps an empty directory.
func (w *Writer) AddDir(name string, mod time.Time) error {
	clean, err := entryName(name)
	if err != nil {
		return err
	}
	h := &zip.FileHeader{Name: clean + "/", Method: zip.Store, Modified: mod}
	h.SetMode(fs.ModeDir | 0o755)
	if _, err := w.zw.CreateHeader(h); err != nil {
		return fmt.Errorf("zip entry %q: %w", clean, err)
	}
	return nil
}

// Close writes the central directory. It does not close the underlying writer.
func (w *Writer) Close() error {
	if err := w.zw.Close(); err != nil {
		return fmt.Errorf("finish zip: %w", err)
	}
	return nil
}

// entryName checks and cleans the name of an entry to be written.
func entryName(name string) (string, error) {
	clean, reason := cleanEntryName(name)
	if reason != "" {
		return "", fmt.Errorf("zip entry %q: %s", name, reason)
	}
	if clean == "." {
		return "", fmt.Errorf("zip entry %q: names the archive root", name)
	}
	return clean, nil
}

// cleanEntryName normalises an entry name (backslashes to slashes, "." and
// empty segments dropped) and returns the reason it is unsafe, if it is.
func cleanEntryName(name string) (string, string) {
	if name == "" {
		return "", "empty name"
	}
	if strings.ContainsRune(name, 0) {
		return "", "NUL byte in name"
	}
	n := strings.ReplaceAll(name, `\`, "/")
	if strings.HasPrefix(n, "/") || (len(n) >= 2 && n[1] == ':' && isLetter(n[0])) {
		return "", "absolute path"
	}
	for seg := range strings.SplitSeq(n, "/") {
		if seg == ".." {
			return "", "parent directory reference"
		}
	}
	return path.Clean(n), ""
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// AddTree adds the content of dir: regular files, symbolic links kept as
// links, and empty directories, named relative to dir, in lexical order.
func (w *Writer) AddTree(ctx context.Context, dir string) error {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		name := filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return w.AddSymlink(name, target, info.ModTime())
		case d.IsDir():
			entries, err := os.ReadDir(p)
			if err != nil {
				return err
			}
			if len(entries) == 0 {
				return w.AddDir(name, info.ModTime())
			}
			return nil
		case d.Type().IsRegular():
			return w.AddFile(name, p)
		default:
			return nil
		}
	})
	if err != nil {
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	return nil
}

// Pack streams the archive that fill writes into the store under key. The
// zip is produced in a goroutine and consumed by Put through a pipe, so it is
// never held in memory whole.
func Pack(ctx context.Context, store Store, key string, fill func(*Writer) error) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		w := NewWriter(pw)
		err := fill(w)
		if err == nil {
			err = w.Close()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	err := store.Put(ctx, key, pr)
	// Unblock the producer if Put stopped reading early, then wait for it so
	// that nothing it uses outlives the call.
	pr.CloseWithError(io.ErrClosedPipe)
	if fillErr := <-done; err == nil && fillErr != nil {
		err = fillErr
	}
	return err
}
