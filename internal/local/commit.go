package local

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/sluice-ci/sluice/internal/pipeline"
)

// SourceRepository is the data folder's git repository that a source action
// reads (codecommit/R, or git/owner/repo for the CodeStarSourceConnection and
// GitHub actions), and the branch it reads.
func SourceRepository(dataDir string, a *pipeline.Action) (path, branch string, err error) {
	c := a.Configuration
	switch a.ActionTypeID.Provider {
	case "CodeCommit":
		path, branch = filepath.Join(dataDir, "codecommit", c["RepositoryName"]), c["BranchName"]
	case "CodeStarSourceConnection":
		path, branch = filepath.Join(dataDir, "git", filepath.FromSlash(c["FullRepositoryId"])), c["BranchName"]
	case "GitHub":
		path, branch = filepath.Join(dataDir, "git", c["Owner"], c["Repo"]), c["Branch"]
	default:
		return "", "", fmt.Errorf("action %s (%s) does not read a git repository", a.Name, a.ActionTypeID.Provider)
	}
	if strings.Contains(path+branch, "#{") || branch == "" {
		return "", "", fmt.Errorf("action %s: its repository and branch must be plain names, without variables", a.Name)
	}
	return path, branch, nil
}

// CommitDir records the files of dir as the head of branch in the git
// repository at repoPath, creating a bare repository when there is none,
// with a new commit only when the files differ from the branch's head.
// Files that dir's .gitignore files exclude, and .git folders, are left
// out; executable bits and symbolic links are kept. A work tree of an
// existing repository is left alone. It returns the head commit and whether
// it is new.
//
// Written with go-git's object model rather than a work tree, so that it
// needs no git program and leaves no checkout behind.
func CommitDir(repoPath, branch, dir, message, author string) (string, bool, error) {
	repo, err := git.PlainOpen(repoPath)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		repo, err = git.PlainInitWithOptions(repoPath, &git.PlainInitOptions{
			Bare:        true,
			InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(branch)},
		})
	}
	if err != nil {
		return "", false, fmt.Errorf("open git repository %s: %w", repoPath, err)
	}
	patterns, err := gitignore.ReadPatterns(osfs.New(dir), nil)
	if err != nil {
		return "", false, fmt.Errorf("read .gitignore files of %s: %w", dir, err)
	}
	s := snapshot{st: repo.Storer, ignore: gitignore.NewMatcher(patterns)}
	tree, err := s.tree(dir, nil)
	if err != nil {
		return "", false, err
	}
	ref := plumbing.NewBranchReferenceName(branch)
	var parents []plumbing.Hash
	head, err := repo.Reference(ref, true)
	switch {
	case err == nil:
		parent, err := repo.CommitObject(head.Hash())
		if err != nil {
			return "", false, fmt.Errorf("read the head of branch %s: %w", branch, err)
		}
		if parent.TreeHash == tree {
			return parent.Hash.String(), false, nil
		}
		parents = []plumbing.Hash{parent.Hash}
	case !errors.Is(err, plumbing.ErrReferenceNotFound):
		return "", false, fmt.Errorf("read branch %s: %w", branch, err)
	}
	sig := object.Signature{Name: author, Email: author + "@localhost", When: time.Now()}
	c := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: tree, ParentHashes: parents}
	h, err := s.store(c)
	if err != nil {
		return "", false, fmt.Errorf("write commit: %w", err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(ref, h)); err != nil {
		return "", false, fmt.Errorf("update branch %s: %w", branch, err)
	}
	return h.String(), true, nil
}

// snapshot writes a folder's files into a repository's object store.
type snapshot struct {
	st     storer.EncodedObjectStorer
	ignore gitignore.Matcher
}

type encoder interface {
	Encode(plumbing.EncodedObject) error
}

func (s snapshot) store(o encoder) (plumbing.Hash, error) {
	obj := s.st.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.st.SetEncodedObject(obj)
}

func (s snapshot) blob(r io.Reader) (plumbing.Hash, error) {
	obj := s.st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.st.SetEncodedObject(obj)
}

// tree writes the tree of folder dir (at path parts rel in the snapshot).
func (s snapshot) tree(dir string, rel []string) (plumbing.Hash, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read %s: %w", dir, err)
	}
	t := &object.Tree{}
	for _, e := range entries {
		name := e.Name()
		at := append(append([]string{}, rel...), name)
		if name == ".git" || s.ignore.Match(at, e.IsDir()) {
			continue
		}
		full := filepath.Join(dir, name)
		var (
			h    plumbing.Hash
			mode filemode.FileMode
		)
		switch typ := e.Type(); {
		case typ.IsDir():
			h, err = s.tree(full, at)
			mode = filemode.Dir
		case typ&fs.ModeSymlink != 0:
			var target string
			if target, err = os.Readlink(full); err == nil {
				h, err = s.blob(strings.NewReader(target))
			}
			mode = filemode.Symlink
		case typ.IsRegular():
			h, mode, err = s.file(full)
		default:
			continue // sockets, devices: nothing git keeps
		}
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if mode == filemode.Dir && h == emptyTree {
			continue // git keeps no empty folders
		}
		t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: mode, Hash: h})
	}
	// Git orders a tree's entries by name, a folder's name as if it ended in
	// a slash.
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(t.Entries, func(i, j int) bool { return key(t.Entries[i]) < key(t.Entries[j]) })
	if len(t.Entries) == 0 {
		return emptyTree, nil
	}
	return s.store(t)
}

// emptyTree is the hash git gives a tree with no entries.
var emptyTree = plumbing.NewHash("4b825dc642cb6eb9a060e54bf8d69288fbee4904")

func (s snapshot) file(path string) (plumbing.Hash, filemode.FileMode, error) {
	f, err := os.Open(path)
	if err != nil {
		return plumbing.ZeroHash, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return plumbing.ZeroHash, 0, err
	}
	mode := filemode.Regular
	if st.Mode()&0o111 != 0 {
		mode = filemode.Executable
	}
	h, err := s.blob(f)
	if err != nil {
		return plumbing.ZeroHash, 0, fmt.Errorf("store %s: %w", path, err)
	}
	return h, mode, nil
}
