package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/action/actiontest"
	"github.com/sluice-ci/sluice/internal/artifact"
)

var (
	authorWhen    = time.Date(2024, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	committerWhen = time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC)
)

// repoFixture is a git repository with a work tree, committed to by tests.
type repoFixture struct {
	t    *testing.T
	path string
	repo *git.Repository
}

func newRepo(t *testing.T, path string) *repoFixture {
	t.Helper()
	repo, err := git.PlainInitWithOptions(path, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &repoFixture{t: t, path: path, repo: repo}
}

// commit writes files ("->target" makes a link, "" removes), stages them
// and commits.
func (r *repoFixture) commit(msg string, files map[string]string) plumbing.Hash {
	r.t.Helper()
	wt, err := r.repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	for name, body := range files {
		p := filepath.Join(r.path, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		os.Remove(p)
		switch target, link := strings.CutPrefix(body, "->"); {
		case body == "":
		case link:
			err = os.Symlink(target, p)
		default:
			perm := os.FileMode(0o644)
			if strings.HasSuffix(name, ".sh") {
				perm = 0o755
			}
			err = os.WriteFile(p, []byte(body), perm)
		}
		if err != nil {
			r.t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			r.t.Fatal(err)
		}
	}
	h, err := wt.Commit(msg, &git.CommitOptions{
		Author:    &object.Signature{Name: "Ada Lovelace", Email: "ada@example.com", When: authorWhen},
		Committer: &object.Signature{Name: "CI", Email: "ci@example.com", When: committerWhen},
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

func (r *repoFixture) branch(name string, h plumbing.Hash) {
	r.t.Helper()
	if err := r.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(name), h)); err != nil {
		r.t.Fatal(err)
	}
}

func job(provider string, config map[string]string, overrides ...action.SourceRevisionOverride) *action.Job {
	owner := "AWS"
	if provider == "GitHub" {
		owner = "ThirdParty"
	}
	return &action.Job{
		ID: "j", ActionName: "Source", ActionType: action.Type{Category: "Source", Owner: owner, Provider: provider, Version: "1"},
		Configuration:   config,
		OutputArtifacts: []action.Artifact{{Name: "SourceArtifact", Key: "p/e/SourceArtifact"}},
		SourceRevisions: overrides,
	}
}

func TestGitSources(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	cc := newRepo(t, filepath.Join(data, "codecommit", "my-repo"))
	firstFiles := map[string]string{
		"README.md":       "# app",
		"src/main.go":     "package main",
		"scripts/test.sh": "#!/bin/sh\nexit 0\n",
		"link":            "->src/main.go",
	}
	first := cc.commit("first commit\n\nwith a body\n", firstFiles)
	second := cc.commit("second commit", map[string]string{"README.md": "# app v2", "src/main.go": ""})
	cc.branch("feature", first)
	// Uncommitted work must not reach the artifact.
	if err := os.WriteFile(filepath.Join(cc.path, "untracked.txt"), []byte("no"), 0o644); err != nil {
		t.Fatal(err)
	}
	gh := newRepo(t, filepath.Join(data, "git", "octo", "web"))
	ghHead := gh.commit("Add site", map[string]string{"index.html": "<p>hi</p>"})
	newRepo(t, filepath.Join(data, "codecommit", "empty"))

	ccProvider := &CodeCommit{Dir: filepath.Join(data, "codecommit")}
	connProvider := &Connection{Dir: filepath.Join(data, "git")}
	ghProvider := &GitHub{Dir: filepath.Join(data, "git")}
	arn := "arn:aws:codestar-connections:us-east-1:123456789012:connection/abc"
	ghURL := "https://github.com/octo/web/commit/" + ghHead.String()

	tests := []struct {
		name      string
		provider  action.Provider
		job       *action.Job
		wantFiles map[string]string
		wantVars  map[string]string
		wantRev   action.Revision
		wantCode  string
		wantInMsg string
	}{
		{
			name:     "codecommit head of main",
			provider: ccProvider,
			job:      job("CodeCommit", map[string]string{"RepositoryName": "my-repo", "BranchName": "main"}),
			wantFiles: map[string]string{
				"README.md": "# app v2", "scripts/test.sh": "#!/bin/sh\nexit 0\n", "link": "->src/main.go",
			},
			wantVars: map[string]string{
				"CommitId": second.String(), "CommitMessage": "second commit", "RepositoryName": "my-repo", "BranchName": "main",
				"AuthorDate": "2024-03-04T04:06:07Z", "CommitterDate": "2024-03-05T06:07:08Z",
			},
			wantRev: action.Revision{RevisionID: second.String(), RevisionSummary: "second commit", ChangeIdentifier: "2024-03-05T06:07:08Z", Created: committerWhen},
		},
		{
			name:      "codecommit other branch",
			provider:  ccProvider,
			job:       job("CodeCommit", map[string]string{"RepositoryName": "my-repo", "BranchName": "feature"}),
			wantFiles: firstFiles,
			wantVars:  map[string]string{"CommitId": first.String(), "CommitMessage": "first commit\n\nwith a body", "BranchName": "feature"},
			wantRev:   action.Revision{RevisionID: first.String(), RevisionSummary: "first commit\n\nwith a body"},
		},
		{
			name:     "codecommit commit override",
			provider: ccProvider,
			job: job("CodeCommit", map[string]string{"RepositoryName": "my-repo", "BranchName": "main"},
				action.SourceRevisionOverride{RevisionType: action.RevisionCommitID, RevisionValue: first.String()}),
			wantFiles: firstFiles,
			wantVars:  map[string]string{"CommitId": first.String(), "BranchName": "main"},
			wantRev:   action.Revision{RevisionID: first.String()},
		},
		{
			name:      "connection",
			provider:  connProvider,
			job:       job("CodeStarSourceConnection", map[string]string{"ConnectionArn": arn, "FullRepositoryId": "octo/web", "BranchName": "main"}),
			wantFiles: map[string]string{"index.html": "<p>hi</p>"},
			wantVars: map[string]string{
				"CommitId": ghHead.String(), "CommitMessage": "Add site", "BranchName": "main", "AuthorDate": "2024-03-04T04:06:07Z",
				"ConnectionArn": arn, "FullRepositoryName": "octo/web",
			},
			wantRev: action.Revision{RevisionID: ghHead.String(), RevisionSummary: `{"ProviderType":"GitHub","CommitMessage":"Add site"}`},
		},
		{
			name:      "github version 1",
			provider:  ghProvider,
			job:       job("GitHub", map[string]string{"Owner": "octo", "Repo": "web", "Branch": "main", "OAuthToken": "****"}),
			wantFiles: map[string]string{"index.html": "<p>hi</p>"},
			wantVars:  map[string]string{"CommitId": ghHead.String(), "RepositoryName": "web", "CommitterDate": "2024-03-05T06:07:08Z", "CommitUrl": ghURL},
			wantRev:   action.Revision{RevisionID: ghHead.String(), RevisionSummary: "Add site", RevisionURL: ghURL},
		},
		{
			name:      "missing repository",
			provider:  ccProvider,
			job:       job("CodeCommit", map[string]string{"RepositoryName": "nope", "BranchName": "main"}),
			wantCode:  action.CodeConfigurationError,
			wantInMsg: "no git repository at " + filepath.Join(data, "codecommit", "nope"),
		},
		{
			name:      "missing branch",
			provider:  ccProvider,
			job:       job("CodeCommit", map[string]string{"RepositoryName": "my-repo", "BranchName": "release"}),
			wantCode:  action.CodeConfigurationError,
			wantInMsg: "branch release not found",
		},
		{
			name:      "empty repository",
			provider:  ccProvider,
			job:       job("CodeCommit", map[string]string{"RepositoryName": "empty", "BranchName": "main"}),
			wantCode:  action.CodeConfigurationError,
			wantInMsg: "branch main not found",
		},
		{
			name:     "unknown commit",
			provider: ccProvider,
			job: job("CodeCommit", map[string]string{"RepositoryName": "my-repo", "BranchName": "main"},
				action.SourceRevisionOverride{RevisionType: action.RevisionCommitID, RevisionValue: strings.Repeat("0", 40)}),
			wantCode:  action.CodeRevisionUnavailable,
			wantInMsg: "not found",
		},
		{
			name:      "repository name escaping",
			provider:  ccProvider,
			job:       job("CodeCommit", map[string]string{"RepositoryName": "..", "BranchName": "main"}),
			wantCode:  action.CodeConfigurationError,
			wantInMsg: `name ".." is not allowed`,
		},
		{
			name:      "full repository id",
			provider:  connProvider,
			job:       job("CodeStarSourceConnection", map[string]string{"ConnectionArn": arn, "FullRepositoryId": "web", "BranchName": "main"}),
			wantCode:  action.CodeConfigurationError,
			wantInMsg: "want owner/repository",
		},
		{
			name:     "clone ref format",
			provider: connProvider,
			job: job("CodeStarSourceConnection", map[string]string{
				"ConnectionArn": arn, "FullRepositoryId": "octo/web", "BranchName": "main", "OutputArtifactFormat": "CODEBUILD_CLONE_REF",
			}),
			wantCode:  action.CodeConfigurationError,
			wantInMsg: "CODEBUILD_CLONE_REF is not supported",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.job.Artifacts = actiontest.Artifacts(t)
			res, err := tt.provider.Run(ctx, tt.job)
			if !actiontest.Check(t, res, err, tt.wantCode, tt.wantInMsg) {
				return
			}
			got := actiontest.Unzip(t, tt.job.Artifacts, "p/e/SourceArtifact")
			if len(got) != len(tt.wantFiles) {
				t.Errorf("artifact files %v, want %v", got, tt.wantFiles)
			}
			for name, want := range tt.wantFiles {
				if got[name] != want {
					t.Errorf("artifact %s = %q, want %q", name, got[name], want)
				}
			}
			for k, want := range tt.wantVars {
				if res.OutputVariables[k] != want {
					t.Errorf("variable %s = %q, want %q", k, res.OutputVariables[k], want)
				}
			}
			rev, want := res.Revision, tt.wantRev
			if rev.RevisionID != want.RevisionID ||
				(want.RevisionSummary != "" && rev.RevisionSummary != want.RevisionSummary) ||
				(want.RevisionURL != "" && rev.RevisionURL != want.RevisionURL) ||
				(want.ChangeIdentifier != "" && rev.ChangeIdentifier != want.ChangeIdentifier) ||
				(!want.Created.IsZero() && !rev.Created.Equal(want.Created)) {
				t.Errorf("revision %+v, want %+v", rev, want)
			}
		})
	}
}

func TestArtifactIsTheSameForTheSameCommit(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	r := newRepo(t, filepath.Join(data, "work"))
	r.commit("one", map[string]string{"a.txt": "a", "b/c.sh": "#!/bin/sh"})
	// A bare clone works as well as a work tree.
	if _, err := git.PlainClone(filepath.Join(data, "codecommit", "bare"), true, &git.CloneOptions{URL: r.path}); err != nil {
		t.Fatal(err)
	}
	p := &CodeCommit{Dir: filepath.Join(data, "codecommit")}
	arts := actiontest.Artifacts(t)
	var archives []string
	for range 2 {
		j := job("CodeCommit", map[string]string{"RepositoryName": "bare", "BranchName": "main"})
		j.Artifacts = arts
		res, err := p.Run(ctx, j)
		actiontest.Check(t, res, err, "", "")
		archives = append(archives, string(actiontest.Read(t, arts, "p/e/SourceArtifact")))
	}
	if archives[0] != archives[1] {
		t.Fatal("two fetches of the same commit gave different archives")
	}
	if files := actiontest.Unzip(t, arts, "p/e/SourceArtifact"); len(files) != 2 || files["b/c.sh"] != "#!/bin/sh" {
		t.Fatalf("files %v", files)
	}
	dir := t.TempDir()
	if _, err := artifact.Unpack(ctx, arts, "p/e/SourceArtifact", dir, artifact.DefaultLimits); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{"a.txt": 0o644, "b/c.sh": 0o755} {
		if info, err := os.Stat(filepath.Join(dir, name)); err != nil || info.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", name, info.Mode(), err, want)
		}
	}
}
