package artifact

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// Errors that Extract wraps, with the entry and the detail, when it refuses
// an archive.
var (
	ErrUnsafePath     = errors.New("path escapes the extraction folder")
	ErrTooLarge       = errors.New("uncompressed size exceeds the cap")
	ErrTooManyEntries = errors.New("entry count exceeds the cap")
)

// Limits caps what one extraction may write.
type Limits struct {
	// MaxBytes caps the uncompressed bytes of all entries together.
	MaxBytes int64
	// MaxEntries caps the number of entries (files, directories and links).
	MaxEntries int
}

// DefaultLimits are generous for build artifacts (CodePipeline caps source
// artifacts at a few GB) and still stop a zip bomb long before the disk fills.
var DefaultLimits = Limits{MaxBytes: 8 << 30, MaxEntries: 250_000}

// maxLinkTarget caps the size of a symbolic link entry's content.
const maxLinkTarget = 4096

// Stats counts what an extraction wrote.
type Stats struct {
	Files, Dirs, Symlinks int
	Bytes                 int64
}

// Extract writes the zip archive read from r (size bytes) into dest, which is
// created if needed. Existing files are replaced; nothing else is removed.
//
// It refuses, before writing anything for that entry, an entry whose name is
// absolute or contains "..", a symbolic link whose target is absolute or
// leaves dest, and it stops with ErrTooManyEntries or ErrTooLarge when the
// archive has more entries or more uncompressed bytes than lim allows
// (counted as they are written, whatever the headers claim). All writes go
// through an os.Root on dest, so a symbolic link can never redirect one
// outside it. Memory use is bounded by the archive's central directory
// (capped by MaxEntries), never by the size of its content.
func Extract(ctx context.Context, r io.ReaderAt, size int64, dest string, lim Limits) (Stats, error) {
	var st Stats
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return st, fmt.Errorf("read zip: %w", err)
	}
	if lim.MaxEntries > 0 && len(zr.File) > lim.MaxEntries {
		return st, fmt.Errorf("zip has %d entries: %w (%d)", len(zr.File), ErrTooManyEntries, lim.MaxEntries)
	}
	var declared uint64
	for _, f := range zr.File {
		declared += f.UncompressedSize64
		if lim.MaxBytes > 0 && declared > uint64(lim.MaxBytes) {
			return st, fmt.Errorf("zip declares more than %d bytes uncompressed (at entry %q): %w", lim.MaxBytes, f.Name, ErrTooLarge)
		}
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return st, fmt.Errorf("create extraction folder: %w", err)
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return st, fmt.Errorf("open extraction folder: %w", err)
	}
	defer root.Close()
	x := &extractor{ctx: ctx, root: root, lim: lim, st: &st, realDirs: map[string]bool{".": true}}
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if err := x.entry(f); err != nil {
			return st, err
		}
	}
	return st, nil
}

type extractor struct {
	ctx  context.Context
	root *os.Root
	lim  Limits
	st   *Stats
	// realDirs holds the directories known to be directories and not
	// symbolic links, so that link depth checks need one Lstat per folder.
	realDirs map[string]bool
}

func (x *extractor) entry(f *zip.File) error {
	name, reason := cleanEntryName(f.Name)
	if reason != "" {
		return fmt.Errorf("zip entry %q: %s: %w", f.Name, reason, ErrUnsafePath)
	}
	mode := f.Mode()
	switch {
	case name == ".":
		return nil
	case mode.IsDir() || strings.HasSuffix(f.Name, "/"):
		if err := x.root.MkdirAll(name, 0o755); err != nil {
			return fmt.Errorf("zip entry %q: %w", f.Name, err)
		}
		x.st.Dirs++
		return nil
	case mode&fs.ModeSymlink != 0:
		return x.symlink(f, name)
	case mode.IsRegular():
		return x.file(f, name, mode)
	default:
		return fmt.Errorf("zip entry %q: unsupported file type %s", f.Name, mode.Type())
	}
}

func (x *extractor) file(f *zip.File, name string, mode fs.FileMode) error {
	if err := x.mkParent(name); err != nil {
		return fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	// Replace a link rather than write through it.
	if info, err := x.root.Lstat(name); err == nil && info.Mode()&fs.ModeSymlink != 0 {
		if err := x.root.Remove(name); err != nil {
			return fmt.Errorf("zip entry %q: %w", f.Name, err)
		}
	}
	perm := fs.FileMode(0o644)
	if mode.Perm()&0o111 != 0 {
		perm = 0o755
	}
	src, err := f.Open()
	if err != nil {
		return fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	defer src.Close()
	dst, err := x.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	remaining := int64(-1)
	if x.lim.MaxBytes > 0 {
		remaining = x.lim.MaxBytes - x.st.Bytes
	}
	n, err := copyCapped(dst, contextReader{x.ctx, src}, remaining)
	x.st.Bytes += n
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, ErrTooLarge) {
		return fmt.Errorf("zip entry %q: %w: more than %d bytes uncompressed", f.Name, ErrTooLarge, x.lim.MaxBytes)
	}
	if err != nil {
		return fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	// Permissions are set again in case the file existed with others.
	if err := x.root.Chmod(name, perm); err != nil {
		return fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	if !f.Modified.IsZero() {
		if err := x.root.Chtimes(name, f.Modified, f.Modified); err != nil {
			return fmt.Errorf("zip entry %q: %w", f.Name, err)
		}
	}
	x.st.Files++
	return nil
}

// copyCapped copies src to dst and fails with ErrTooLarge once more than
// limit bytes come (limit < 0: no cap).
func copyCapped(dst io.Writer, src io.Reader, limit int64) (int64, error) {
	if limit < 0 {
		return io.Copy(dst, src)
	}
	n, err := io.Copy(dst, io.LimitReader(src, limit+1))
	if err != nil {
		return n, err
	}
	if n > limit {
		return n, ErrTooLarge
	}
	return n, nil
}

func (x *extractor) symlink(f *zip.File, name string) error {
	if f.UncompressedSize64 > maxLinkTarget {
		return fmt.Errorf("zip entry %q: symbolic link target longer than %d bytes", f.Name, maxLinkTarget)
	}
	src, err := f.Open()
	if err != nil {
		return fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	raw, err := io.ReadAll(io.LimitReader(src, maxLinkTarget+1))
	src.Close()
	if err != nil {
		return fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	target := string(raw)
	if err := x.mkParent(name); err != nil {
		return fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	depth, err := x.realDepth(path.Dir(name))
	if err != nil {
		return fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	if reason := linkEscapes(target, depth); reason != "" {
		return fmt.Errorf("zip entry %q: symbolic link to %q: %s: %w", f.Name, target, reason, ErrUnsafePath)
	}
	if info, err := x.root.Lstat(name); err == nil {
		if info.IsDir() {
			return fmt.Errorf("zip entry %q: a directory already has this name", f.Name)
		}
		if err := x.root.Remove(name); err != nil {
			return fmt.Errorf("zip entry %q: %w", f.Name, err)
		}
	}
	if err := x.root.Symlink(target, name); err != nil {
		return fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	x.st.Symlinks++
	return nil
}

func (x *extractor) mkParent(name string) error {
	dir := path.Dir(name)
	if x.realDirs[dir] {
		return nil
	}
	return x.root.MkdirAll(dir, 0o755)
}

// realDepth returns the depth of dir below the root after checking that no
// folder on the way is a symbolic link: only then does a link's "../"
// count mean the same thing on disk as in its name.
func (x *extractor) realDepth(dir string) (int, error) {
	if dir == "." {
		return 0, nil
	}
	parts := strings.Split(dir, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		if x.realDirs[p] {
			continue
		}
		info, err := x.root.Lstat(p)
		if err != nil {
			return 0, err
		}
		if !info.IsDir() {
			return 0, fmt.Errorf("folder %q is not a directory (a symbolic link?): %w", p, ErrUnsafePath)
		}
		x.realDirs[p] = true
	}
	return len(parts), nil
}

// linkEscapes tells why a link with target, placed depth folders below the
// root, would point outside it ("" when it stays inside). The target is read
// as the kernel reads it: ".." may only lead the path (after a name it could
// climb out of a linked folder), and no more of them than depth.
func linkEscapes(target string, depth int) string {
	switch {
	case target == "":
		return "empty target"
	case strings.ContainsRune(target, 0):
		return "NUL byte in target"
	case strings.HasPrefix(target, "/") || strings.HasPrefix(target, `\`) ||
		(len(target) >= 2 && target[1] == ':' && isLetter(target[0])):
		return "absolute target"
	case strings.ContainsRune(target, '\\'):
		return "backslash in target"
	}
	ups, named := 0, false
	for seg := range strings.SplitSeq(target, "/") {
		switch seg {
		case "", ".":
		case "..":
			if named {
				return "\"..\" after a name"
			}
			ups++
		default:
			named = true
		}
	}
	if ups > depth {
		return "climbs above the folder"
	}
	return ""
}

// Unpack extracts the artifact stored under key into dest. A store reader
// with random access (the folder store's files) is read in place; any other
// is first copied to a temporary file, since a zip is read from its end.
func Unpack(ctx context.Context, store Store, key, dest string, lim Limits) (Stats, error) {
	rc, err := store.Get(ctx, key)
	if err != nil {
		return Stats{}, err
	}
	defer rc.Close()
	f, ok := rc.(*os.File)
	if !ok {
		tmp, err := os.CreateTemp("", "sluice-artifact-*.zip")
		if err != nil {
			return Stats{}, fmt.Errorf("unpack artifact %s: %w", key, err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if _, err := io.Copy(tmp, contextReader{ctx, rc}); err != nil {
			return Stats{}, fmt.Errorf("unpack artifact %s: %w", key, err)
		}
		f = tmp
	}
	info, err := f.Stat()
	if err != nil {
		return Stats{}, fmt.Errorf("unpack artifact %s: %w", key, err)
	}
	st, err := Extract(ctx, f, info.Size(), dest, lim)
	if err != nil {
		return st, fmt.Errorf("unpack artifact %s: %w", key, err)
	}
	return st, nil
}
