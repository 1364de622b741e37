package local

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/sluice-ci/sluice/internal/pipeline"
)

// tree lists a commit's files with their modes.
func tree(t *testing.T, repoPath, id string) map[string]filemode.FileMode {
	t.Helper()
	repo, err := git.PlainOpen(repoPath)
	if err != nil {
		t.Fatal(err)
	}
	c, err := repo.CommitObject(plumbing.NewHash(id))
	if err != nil {
		t.Fatal(err)
	}
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]filemode.FileMode{}
	files.ForEach(func(f *object.File) error {
		out[f.Name] = f.Mode
		return nil
	})
	return out
}

func write(t *testing.T, dir, name, content string, mode os.FileMode) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// TestCommitDir commits a folder as it changes: a first commit creates the
// repository, an unchanged folder makes no commit, a change makes one on
// top of the last; ignored files, .git and empty folders stay out.
func TestCommitDir(t *testing.T) {
	src, repo := t.TempDir(), filepath.Join(t.TempDir(), "codecommit", "app")
	steps := []struct {
		name    string
		change  func()
		fresh   bool
		want    map[string]filemode.FileMode
		parents int
	}{
		{"first commit", func() {
			write(t, src, "main.go", "package main\n", 0o644)
			write(t, src, "run.sh", "#!/bin/sh\n", 0o755)
			write(t, src, "docs/a.md", "a\n", 0o644)
			write(t, src, "build/out.bin", "x", 0o644)
			write(t, src, ".gitignore", "build/\n*.log\n", 0o644)
			write(t, src, "debug.log", "noise", 0o644)
			write(t, src, ".git/HEAD", "ref: refs/heads/elsewhere\n", 0o644)
			if err := os.MkdirAll(filepath.Join(src, "empty"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("main.go", filepath.Join(src, "link.go")); err != nil {
				t.Fatal(err)
			}
		}, true, map[string]filemode.FileMode{
			".gitignore": filemode.Regular, "main.go": filemode.Regular, "run.sh": filemode.Executable,
			"docs/a.md": filemode.Regular, "link.go": filemode.Symlink,
		}, 0},
		{"nothing changed", func() { write(t, src, "debug.log", "more noise", 0o644) }, false, nil, 0},
		{"a file changed and one removed", func() {
			write(t, src, "main.go", "package main\n\nfunc main() {}\n", 0o644)
			if err := os.Remove(filepath.Join(src, "docs/a.md")); err != nil {
				t.Fatal(err)
			}
		}, true, map[string]filemode.FileMode{
			".gitignore": filemode.Regular, "main.go": filemode.Regular, "run.sh": filemode.Executable, "link.go": filemode.Symlink,
		}, 1},
	}
	var last string
	for _, st := range steps {
		st.change()
		id, fresh, err := CommitDir(repo, "main", src, st.name, "tester")
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if fresh != st.fresh {
			t.Errorf("%s: new commit %v, want %v", st.name, fresh, st.fresh)
		}
		if !fresh {
			if id != last {
				t.Errorf("%s: head %s, want the last commit %s", st.name, id, last)
			}
			continue
		}
		if got := tree(t, repo, id); !reflect.DeepEqual(got, st.want) {
			t.Errorf("%s: committed %v, want %v", st.name, got, st.want)
		}
		r, _ := git.PlainOpen(repo)
		c, _ := r.CommitObject(plumbing.NewHash(id))
		if len(c.ParentHashes) != st.parents || (st.parents == 1 && c.ParentHashes[0].String() != last) {
			t.Errorf("%s: parents %v, want %d on %s", st.name, c.ParentHashes, st.parents, last)
		}
		head, err := r.Reference(plumbing.NewBranchReferenceName("main"), true)
		if err != nil || head.Hash().String() != id {
			t.Errorf("%s: branch main at %v (%v), want %s", st.name, head, err, id)
		}
		last = id
	}
}

func TestSourceRepository(t *testing.T) {
	tests := []struct {
		provider string
		config   map[string]string
		want     []string // path under the data folder, branch
	}{
		{"CodeCommit", map[string]string{"RepositoryName": "app", "BranchName": "main"}, []string{"codecommit/app", "main"}},
		{"CodeStarSourceConnection", map[string]string{"FullRepositoryId": "acme/app", "BranchName": "dev"}, []string{"git/acme/app", "dev"}},
		{"GitHub", map[string]string{"Owner": "acme", "Repo": "app", "Branch": "trunk"}, []string{"git/acme/app", "trunk"}},
		{"S3", map[string]string{"S3Bucket": "b", "S3ObjectKey": "k"}, nil},
		{"CodeCommit", map[string]string{"RepositoryName": "#{variables.Repo}", "BranchName": "main"}, nil},
	}
	for _, tt := range tests {
		a := &pipeline.Action{Name: "Source", ActionTypeID: pipeline.ActionTypeID{Category: "Source", Provider: tt.provider}, Configuration: tt.config}
		path, branch, err := SourceRepository("/data", a)
		if tt.want == nil {
			if err == nil {
				t.Errorf("%s %v: %s %s, want an error", tt.provider, tt.config, path, branch)
			}
			continue
		}
		if err != nil || path != filepath.Join("/data", filepath.FromSlash(tt.want[0])) || branch != tt.want[1] {
			t.Errorf("%s: %s %s (%v), want %v", tt.provider, path, branch, err, tt.want)
		}
	}
}
