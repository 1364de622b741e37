// Package artifact owns pipeline artifacts: the store port that keeps them
// (zip files streamed in and out by key), its folder implementation for local
// runs, and safe zip creation and extraction.
//
// Extraction is written on archive/zip and os.Root rather than a third-party
// unzip library because the guarantees matter more than the convenience: every
// write goes through an os.Root opened on the destination, so no entry and no
// symbolic link (old or new) can make a write land outside it; symbolic link
// entries are checked so that they cannot point outside the folder for the
// programs that read it later; and caps on entries and uncompressed bytes stop
// zip bombs while they are read, not after.
package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Store keeps artifacts by key. Put streams the whole content in and makes
// it visible under the key only once it is complete; Get streams it out and
// returns an error wrapping ErrNotFound when the key holds nothing. Both are
// safe for concurrent use; the last complete Put of a key wins.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
}

// ErrNotFound is wrapped by Store.Get when no artifact has the key.
var ErrNotFound = errors.New("artifact not found")

// MaxKeyLength is the longest key accepted, S3's limit for object keys.
const MaxKeyLength = 1024

// ValidateKey reports whether key can name an artifact in every store: one or
// more segments separated by "/", each made of letters, digits and
// "-_.@=+", not starting with "." (so no "." or ".." and no hidden files),
// at most MaxKeyLength bytes in all.
func ValidateKey(key string) error {
	if key == "" {
		return errors.New("artifact key is empty")
	}
	if len(key) > MaxKeyLength {
		return fmt.Errorf("artifact key %.40q...: longer than %d bytes", key, MaxKeyLength)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" {
			return fmt.Errorf("artifact key %q: empty segment", key)
		}
		if seg[0] == '.' {
			return fmt.Errorf("artifact key %q: segment %q starts with a dot", key, seg)
		}
		for _, c := range seg {
			if !keyChar(c) {
				return fmt.Errorf("artifact key %q: character %q is not allowed (letters, digits and -_.@=+ only)", key, c)
			}
		}
	}
	return nil
}

func keyChar(c rune) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.ContainsRune("-_.@=+", c)
}

// Folder is the Store of local runs: the artifact with key K is the file
// K below the folder. Writes go to a hidden temporary file beside the target,
// are synced, and are renamed over it, so readers see either the old or the
// new artifact, never a part of one.
type Folder struct {
	dir string
}

// NewFolder returns the store kept in dir, creating dir if needed.
func NewFolder(dir string) (*Folder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create artifact folder: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve artifact folder: %w", err)
	}
	return &Folder{dir: abs}, nil
}

// Dir is the folder that holds the artifacts.
func (f *Folder) Dir() string { return f.dir }

// Path is the file that holds the artifact with the key.
func (f *Folder) Path(key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return filepath.Join(f.dir, filepath.FromSlash(key)), nil
}

// Put writes the artifact atomically: temporary file, fsync, rename.
func (f *Folder) Put(ctx context.Context, key string, r io.Reader) error {
	target, err := f.Path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("put artifact %s: %w", key, err)
	}
	if err := WriteFileAtomic(ctx, target, r, 0o644); err != nil {
		return fmt.Errorf("put artifact %s: %w", key, err)
	}
	return nil
}

// Get opens the artifact. The returned reader is an *os.File, so callers
// that need random access (zip extraction) can use it without a copy.
func (f *Folder) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path, err := f.Path(key)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get artifact %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get artifact %s: %w", key, err)
	}
	if info, err := file.Stat(); err == nil && info.IsDir() {
		file.Close()
		return nil, fmt.Errorf("get artifact %s: %w", key, ErrNotFound)
	}
	return file, nil
}

// WriteFileAtomic streams r into path through a hidden temporary file in the
// same folder that is synced and then renamed over path. On any error,
// including the context being cancelled, the temporary file is removed and
// path is left as it was.
func WriteFileAtomic(ctx context.Context, path string, r io.Reader, perm fs.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = io.Copy(tmp, contextReader{ctx, r}); err != nil {
		return err
	}
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// contextReader stops a copy once its context is done.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
