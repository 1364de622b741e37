// Package source holds the local stand-ins for CodePipeline's git source
// actions: CodeCommit (repository R is the git repository codecommit/R of
// the data folder), CodeStarSourceConnection and the GitHub version 1 action
// (owner/repo is git/owner/repo). Repositories may be bare or have a work
// tree; they are read with go-git, never changed.
//
// Each action resolves its branch (or the commit of a COMMIT_ID source
// revision override) and writes a CODE_ZIP artifact of that commit's tree:
// the committed files only, with their executable bits and symbolic links,
// without .git or anything uncommitted, every entry dated at the commit's
// time so that the same commit always gives the same archive. Output
// variables and revision summaries are named and shaped as CodePipeline does
// for each provider.
package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/artifact"
)

// CodeCommit is the CodeCommit source action (Source/AWS/CodeCommit).
// Configuration: RepositoryName, BranchName (required), OutputArtifactFormat
// (CODE_ZIP only); PollForSourceChanges has no effect locally. Output
// variables: CommitId, CommitMessage, RepositoryName, BranchName, AuthorDate,
// CommitterDate. Revision summary: the commit message.
type CodeCommit struct {
	// Dir holds the repositories (the data folder's codecommit).
	Dir string
}

// Run writes the artifact of the branch's head commit.
func (c *CodeCommit) Run(ctx context.Context, job *action.Job) (*action.Result, error) {
	if res := job.Check([]string{"RepositoryName", "BranchName"}, 0, 0, 1, 1); res != nil {
		return res, nil
	}
	repo, branch := job.Configuration["RepositoryName"], job.Configuration["BranchName"]
	if err := checkName(repo); err != nil {
		return action.Failed(action.CodeConfigurationError, "action %s: RepositoryName: %v", job.ActionName, err), nil
	}
	return fetch(ctx, job, filepath.Join(c.Dir, repo), branch, func(cm *object.Commit) (map[string]string, *action.Revision) {
		vars := commonVariables(cm, branch)
		vars["RepositoryName"] = repo
		vars["CommitterDate"] = isoDate(cm.Committer.When)
		return vars, &action.Revision{RevisionSummary: message(cm)}
	})
}

// Connection is the CodeStarSourceConnection action
// (Source/AWS/CodeStarSourceConnection) for GitHub, Bitbucket and GitLab.
// Configuration: ConnectionArn, FullRepositoryId, BranchName (required),
// OutputArtifactFormat (CODE_ZIP only); DetectChanges has no effect locally.
// Output variables: AuthorDate, BranchName, CommitId, CommitMessage,
// ConnectionArn, FullRepositoryName. Revision summary: the JSON
// {"ProviderType":"GitHub","CommitMessage":...} that CodePipeline shows (the
// provider type is not known locally: GitHub is assumed).
type Connection struct {
	// Dir holds the repositories as owner/repo (the data folder's git).
	Dir string
}

// Run writes the artifact of the branch's head commit.
func (c *Connection) Run(ctx context.Context, job *action.Job) (*action.Result, error) {
	if res := job.Check([]string{"ConnectionArn", "FullRepositoryId", "BranchName"}, 0, 0, 1, 1); res != nil {
		return res, nil
	}
	full, branch := job.Configuration["FullRepositoryId"], job.Configuration["BranchName"]
	owner, name, ok := strings.Cut(full, "/")
	if !ok {
		return action.Failed(action.CodeConfigurationError, "action %s: FullRepositoryId %q: want owner/repository", job.ActionName, full), nil
	}
	if err := errors.Join(checkName(owner), checkName(name)); err != nil {
		return action.Failed(action.CodeConfigurationError, "action %s: FullRepositoryId: %v", job.ActionName, err), nil
	}
	return fetch(ctx, job, filepath.Join(c.Dir, owner, name), branch, func(cm *object.Commit) (map[string]string, *action.Revision) {
		vars := commonVariables(cm, branch)
		vars["ConnectionArn"] = job.Configuration["ConnectionArn"]
		vars["FullRepositoryName"] = full
		summary, _ := json.Marshal(struct {
			ProviderType  string
			CommitMessage string
		}{"GitHub", message(cm)})
		return vars, &action.Revision{RevisionSummary: string(summary)}
	})
}

// GitHub is the version 1 GitHub source action (Source/ThirdParty/GitHub).
// Configuration: Owner, Repo, Branch (required); OAuthToken and
// PollForSourceChanges have no effect locally. Output variables: AuthorDate,
// BranchName, CommitId, CommitMessage, CommitterDate, CommitUrl,
// RepositoryName. Revision summary: the commit message; revision URL: the
// commit's page on GitHub.
type GitHub struct {
	// Dir holds the repositories as owner/repo (the data folder's git).
	Dir string
}

// Run writes the artifact of the branch's head commit.
func (g *GitHub) Run(ctx context.Context, job *action.Job) (*action.Result, error) {
	if res := job.Check([]string{"Owner", "Repo", "Branch"}, 0, 0, 1, 1); res != nil {
		return res, nil
	}
	owner, name, branch := job.Configuration["Owner"], job.Configuration["Repo"], job.Configuration["Branch"]
	if err := errors.Join(checkName(owner), checkName(name)); err != nil {
		return action.Failed(action.CodeConfigurationError, "action %s: %v", job.ActionName, err), nil
	}
	return fetch(ctx, job, filepath.Join(g.Dir, owner, name), branch, func(cm *object.Commit) (map[string]string, *action.Revision) {
		url := fmt.Sprintf("https://github.com/%s/%s/commit/%s", owner, name, cm.Hash)
		vars := commonVariables(cm, branch)
		vars["CommitterDate"] = isoDate(cm.Committer.When)
		vars["CommitUrl"] = url
		vars["RepositoryName"] = name
		return vars, &action.Revision{RevisionSummary: message(cm), RevisionURL: url}
	})
}

// describeFunc gives a provider's output variables and the provider-specific
// part of the revision (summary, URL) for the fetched commit.
type describeFunc func(*object.Commit) (map[string]string, *action.Revision)

// fetch resolves the commit, writes its tree as the output artifact, and
// builds the result.
func fetch(ctx context.Context, job *action.Job, repoPath, branch string, describe describeFunc) (*action.Result, error) {
	if f := job.Configuration["OutputArtifactFormat"]; f != "" && f != "CODE_ZIP" {
		return action.Failed(action.CodeConfigurationError,
			"action %s: OutputArtifactFormat %s is not supported by the local git stand-in; use CODE_ZIP", job.ActionName, f), nil
	}
	if _, err := os.Stat(repoPath); errors.Is(err, fs.ErrNotExist) {
		return action.Failed(action.CodeConfigurationError,
			"action %s: no git repository at %s: create one there (git init) and commit to branch %s", job.ActionName, repoPath, branch), nil
	}
	repo, err := git.PlainOpen(repoPath)
	if err != nil {
		return action.Failed(action.CodeConfigurationError, "action %s: open git repository %s: %v", job.ActionName, repoPath, err), nil
	}
	cm, res := resolve(repo, job, repoPath, branch)
	if res != nil {
		return res, nil
	}
	out := job.OutputArtifacts[0]
	files := 0
	err = artifact.Pack(ctx, job.Artifacts, out.Key, func(w *artifact.Writer) error {
		n, err := writeTree(ctx, w, cm)
		files = n
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("write artifact %s of commit %s: %w", out.Name, cm.Hash, err)
	}
	fmt.Fprintf(job.Logger(), "%s: branch %s at commit %s (%d files) -> artifact %s\n", repoPath, branch, cm.Hash, files, out.Name)
	vars, rev := describe(cm)
	rev.RevisionID = cm.Hash.String()
	rev.ChangeIdentifier = isoDate(cm.Committer.When)
	rev.Created = cm.Committer.When.UTC()
	rev.RevisionSummary = cut(rev.RevisionSummary, 2048)
	return &action.Result{
		Status:              action.StatusSucceeded,
		Summary:             cut(message(cm), 2048),
		ExternalExecutionID: cm.Hash.String(),
		OutputVariables:     vars,
		Revision:            rev,
	}, nil
}

// resolve finds the commit to fetch: the COMMIT_ID override when there is
// one, else the head of the branch. A failed result says why there is none.
func resolve(repo *git.Repository, job *action.Job, repoPath, branch string) (*object.Commit, *action.Result) {
	if rev, ok := job.Override(action.RevisionCommitID); ok {
		h, err := repo.ResolveRevision(plumbing.Revision(rev))
		if err != nil {
			return nil, action.Failed(action.CodeRevisionUnavailable, "action %s: commit %s not found in %s: %v", job.ActionName, rev, repoPath, err)
		}
		cm, err := repo.CommitObject(*h)
		if err != nil {
			return nil, action.Failed(action.CodeRevisionUnavailable, "action %s: %s in %s is not a commit: %v", job.ActionName, rev, repoPath, err)
		}
		return cm, nil
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		return nil, action.Failed(action.CodeConfigurationError, "action %s: branch %s not found in %s", job.ActionName, branch, repoPath)
	}
	cm, err := repo.CommitObject(ref.Hash())
	if err != nil {
		return nil, action.Failed(action.CodeRevisionUnavailable, "action %s: branch %s of %s: %v", job.ActionName, branch, repoPath, err)
	}
	return cm, nil
}

// writeTree adds the commit's files to the archive and counts them.
func writeTree(ctx context.Context, w *artifact.Writer, cm *object.Commit) (int, error) {
	tree, err := cm.Tree()
	if err != nil {
		return 0, err
	}
	when := cm.Committer.When
	n := 0
	err = tree.Files().ForEach(func(f *object.File) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		n++
		if f.Mode == filemode.Symlink {
			target, err := f.Contents()
			if err != nil {
				return err
			}
			return w.AddSymlink(f.Name, target, when)
		}
		perm := fs.FileMode(0o644)
		if f.Mode == filemode.Executable {
			perm = 0o755
		}
		r, err := f.Reader()
		if err != nil {
			return err
		}
		defer r.Close()
		return w.AddReader(f.Name, perm, when, r)
	})
	return n, err
}

// commonVariables are the variables every git source produces.
func commonVariables(cm *object.Commit, branch string) map[string]string {
	return map[string]string{
		"CommitId":      cm.Hash.String(),
		"CommitMessage": message(cm),
		"BranchName":    branch,
		"AuthorDate":    isoDate(cm.Author.When),
	}
}

func message(cm *object.Commit) string { return strings.TrimRight(cm.Message, "\n\r\t ") }

func isoDate(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// checkName accepts a repository or owner name that is one folder below the
// repositories folder.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case name == "." || name == "..":
		return fmt.Errorf("name %q is not allowed", name)
	case strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, 0):
		return fmt.Errorf("name %q has a path separator", name)
	}
	return nil
}
