package local

import (
	"path/filepath"
	"testing"

	"github.com/sluice-ci/sluice/internal/pipeline"
)

// TestEntityURL checks which folder of the data folder each local stand-in's
// entityUrl names, and that a name left to a variable or missing names none.
func TestEntityURL(t *testing.T) {
	dir := t.TempDir()
	l := &Local{DataDir: dir}
	action := func(category pipeline.ActionCategory, provider string, config map[string]string) *pipeline.Action {
		return &pipeline.Action{ActionTypeID: pipeline.ActionTypeID{Category: category, Owner: pipeline.OwnerAWS, Provider: provider, Version: "1"}, Configuration: config}
	}
	tests := []struct {
		name   string
		action *pipeline.Action
		want   string // relative to the data folder; "" for none
	}{
		{"CodeCommit source", action(pipeline.CategorySource, "CodeCommit", map[string]string{"RepositoryName": "app"}), "codecommit/app"},
		{"connection source", action(pipeline.CategorySource, "CodeStarSourceConnection", map[string]string{"FullRepositoryId": "acme/app"}), "git/acme/app"},
		{"GitHub source", action(pipeline.CategorySource, "GitHub", map[string]string{"Owner": "acme", "Repo": "app"}), "git/acme/app"},
		{"S3 source", action(pipeline.CategorySource, "S3", map[string]string{"S3Bucket": "sources", "S3ObjectKey": "app.zip"}), "s3/sources"},
		{"S3 deploy", action(pipeline.CategoryDeploy, "S3", map[string]string{"BucketName": "site", "Extract": "true"}), "s3/site"},
		{"CodeBuild", action(pipeline.CategoryBuild, "CodeBuild", map[string]string{"ProjectName": "build"}), "codebuild/build"},
		{"a bucket left to a variable", action(pipeline.CategoryDeploy, "S3", map[string]string{"BucketName": "site-#{variables.Env}"}), ""},
		{"no repository named", action(pipeline.CategorySource, "CodeCommit", map[string]string{}), ""},
		{"no local stand-in", action(pipeline.CategoryDeploy, "CloudFormation", map[string]string{"StackName": "app"}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := ""
			if tt.want != "" {
				want = fileURL(filepath.Join(dir, filepath.FromSlash(tt.want)))
			}
			if got := l.entityURL(tt.action); got != want {
				t.Errorf("entityUrl %q, want %q", got, want)
			}
		})
	}
}
