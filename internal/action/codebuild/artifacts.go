package codebuild

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/sluice-ci/sluice/internal/artifact"
)

// errNoFiles is wrapped when an artifact's patterns match nothing; CodeBuild
// fails the upload with CLIENT_ERROR then.
var errNoFiles = errors.New("no matching artifact paths found")

// artifactFile is one file chosen for an artifact.
type artifactFile struct {
	name string // name in the archive
	path string // file on disk
	link string // target, when kept as a symbolic link
}

// selectFiles applies an artifacts section to the source folder: files
// patterns relative to base-directory ("**" crosses folders; a pattern
// without wildcards naming a folder takes all of it), exclude-paths, discard-paths and
// enable-symlinks. Without enable-symlinks a link to a file contributes the
// file's content and a link to a folder is skipped.
func selectFiles(src string, a *Artifacts) ([]artifactFile, error) {
	base := filepath.Join(src, filepath.FromSlash(a.BaseDirectory))
	if info, err := os.Stat(base); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("no matching base directory path found for %s", a.BaseDirectory)
	}
	discard, _ := parseFlag(a.DiscardPaths)
	keepLinks, _ := parseFlag(a.EnableSymlinks)
	var files []artifactFile
	seen := map[string]string{}
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !matchAny(a.Files, rel) || matchAny(a.ExcludePaths, rel) {
			return nil
		}
		f := artifactFile{name: rel, path: p}
		if d.Type()&fs.ModeSymlink != 0 {
			if keepLinks {
				if f.link, err = os.Readlink(p); err != nil {
					return err
				}
			} else if info, err := os.Stat(p); err != nil || !info.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		if discard {
			f.name = path.Base(rel)
			if other, dup := seen[f.name]; dup {
				return fmt.Errorf("discard-paths: %s and %s would both be %s", other, rel, f.name)
			}
			seen[f.name] = rel
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: %s", errNoFiles, strings.Join(a.Files, ", "))
	}
	return files, nil
}

// packFiles writes the chosen files as the artifact under key.
func packFiles(ctx context.Context, store artifact.Store, key string, files []artifactFile) error {
	return artifact.Pack(ctx, store, key, func(w *artifact.Writer) error {
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			var err error
			if f.link != "" {
				info, lerr := os.Lstat(f.path)
				if lerr != nil {
					return lerr
				}
				err = w.AddSymlink(f.name, f.link, info.ModTime())
			} else {
				err = w.AddFile(f.name, f.path)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func matchAny(patterns []string, rel string) bool {
	for _, p := range patterns {
		p = strings.TrimPrefix(path.Clean(strings.TrimSpace(p)), "./")
		if p == "." || p == "" {
			p = "**/*"
		}
		segs := strings.Split(p, "/")
		name := strings.Split(rel, "/")
		if matchSegments(segs, name) {
			return true
		}
		// A pattern without wildcards that names a folder takes all of it.
		if !strings.ContainsAny(p, "*?[") && matchSegments(append(segs, "**", "*"), name) {
			return true
		}
	}
	return false
}

// matchSegments matches path segments against pattern segments, where "**"
// stands for any number of segments and the others follow path.Match.
func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for len(pat) > 1 && pat[1] == "**" {
				pat = pat[1:]
			}
			for i := 0; i <= len(name); i++ {
				if matchSegments(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], name[0]); err != nil || !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
