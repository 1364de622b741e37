package local

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/action/actiontest"
)

// TestSourceBuildDeploy runs a commit from a local CodeCommit repository
// through a build to a local bucket, as a pipeline would, through the
// registry.
func TestSourceBuildDeploy(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	ctx := context.Background()
	data := t.TempDir()
	repo := filepath.Join(data, "codecommit", "app")
	files := map[string]string{
		"index.html": "<h1>v1</h1>",
		"buildspec.yml": `version: 0.2
env: {exported-variables: [COMMIT]}
phases:
  build:
    commands:
      - mkdir -p site && cp index.html site/
      - COMMIT=$CODEBUILD_RESOLVED_SOURCE_VERSION
artifacts: {base-directory: site, files: ['**/*']}
`,
	}
	for name, body := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(repo, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "."},
		{"-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	reg := NewRegistry(data)
	arts := actiontest.Artifacts(t)
	run := func(j *action.Job) *action.Result {
		t.Helper()
		j.Artifacts, j.PipelineName, j.ID = arts, "demo", j.ActionName
		res, err := reg.Run(ctx, j)
		actiontest.Check(t, res, err, "", "")
		return res
	}
	src := run(&action.Job{
		ActionName:      "Source",
		ActionType:      action.Type{Category: "Source", Owner: "AWS", Provider: "CodeCommit", Version: "1"},
		Configuration:   map[string]string{"RepositoryName": "app", "BranchName": "main"},
		OutputArtifacts: []action.Artifact{{Name: "Src", Key: "demo/e/Src"}},
	})
	build := run(&action.Job{
		ActionName:      "Build",
		ActionType:      action.Type{Category: "Build", Owner: "AWS", Provider: "CodeBuild", Version: "1"},
		Configuration:   map[string]string{"ProjectName": "site"},
		InputArtifacts:  []action.Artifact{{Name: "Src", Key: "demo/e/Src", Revision: src.Revision.RevisionID}},
		OutputArtifacts: []action.Artifact{{Name: "Site", Key: "demo/e/Site"}},
	})
	if build.OutputVariables["COMMIT"] != src.OutputVariables["CommitId"] {
		t.Fatalf("build saw commit %q, source gave %q", build.OutputVariables["COMMIT"], src.OutputVariables["CommitId"])
	}
	run(&action.Job{
		ActionName:     "Deploy",
		ActionType:     action.Type{Category: "Deploy", Owner: "AWS", Provider: "S3", Version: "1"},
		Configuration:  map[string]string{"BucketName": "my-site", "Extract": "true"},
		InputArtifacts: []action.Artifact{{Name: "Site", Key: "demo/e/Site"}},
	})
	got, err := os.ReadFile(filepath.Join(data, "s3", "my-site", "index.html"))
	if err != nil || string(got) != "<h1>v1</h1>" {
		t.Fatalf("deployed index.html: %q %v", got, err)
	}
}

func TestRegisteredTypes(t *testing.T) {
	reg := NewRegistry(t.TempDir())
	tests := []struct {
		typ  action.Type
		want bool
	}{
		{action.Type{Category: "Source", Owner: "AWS", Provider: "S3"}, true},
		{action.Type{Category: "Deploy", Owner: "AWS", Provider: "S3"}, true},
		{action.Type{Category: "Source", Owner: "AWS", Provider: "CodeCommit"}, true},
		{action.Type{Category: "Source", Owner: "AWS", Provider: "CodeStarSourceConnection"}, true},
		{action.Type{Category: "Source", Owner: "ThirdParty", Provider: "GitHub"}, true},
		{action.Type{Category: "Build", Owner: "AWS", Provider: "CodeBuild"}, true},
		{action.Type{Category: "Test", Owner: "AWS", Provider: "CodeBuild"}, true},
		{action.Type{Category: "Compute", Owner: "AWS", Provider: "Commands"}, true},
		{action.Type{Category: "Deploy", Owner: "AWS", Provider: "CloudFormation"}, false},
		{action.Type{Category: "Approval", Owner: "AWS", Provider: "Manual"}, false},
	}
	for _, tt := range tests {
		if _, err := reg.Lookup(tt.typ); (err == nil) != tt.want {
			t.Errorf("%s registered: %v, want %v", tt.typ, err == nil, tt.want)
		}
	}
}
