package api

import (
	"context"
	"testing"

	"github.com/sluice-ci/sluice/internal/sigv4"
)

func TestKeysAuthorize(t *testing.T) {
	keys, err := NewKeys("123456789012", []Key{
		{Name: "admin", AccessKeyID: "AKIAADMIN", SecretAccessKey: "s", Pipelines: []string{"*"}},
		{Name: "deployer", AccessKeyID: "AKIADEPLOY", SecretAccessKey: "s", Pipelines: []string{"release", "web-*", "webhook:release-*"}},
		{Name: "viewer", AccessKeyID: "AKIAVIEW", SecretAccessKey: "s", Pipelines: []string{"release"}, Actions: []string{"codepipeline:Get*", "codepipeline:List*"}},
	}, sigv4.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:codepipeline:us-east-1:123456789012:"
	tests := []struct {
		key, action, resource string
		want                  bool
	}{
		{"AKIAADMIN", "codepipeline:DeletePipeline", arn + "anything", true},
		{"AKIAADMIN", "codepipeline:PutWebhook", arn + "webhook:hook", true},
		{"AKIADEPLOY", "codepipeline:PutApprovalResult", arn + "release/Approve/Release", true},
		{"AKIADEPLOY", "codepipeline:StartPipelineExecution", arn + "web-frontend", true},
		{"AKIADEPLOY", "codepipeline:StartPipelineExecution", arn + "other", false},
		{"AKIADEPLOY", "codepipeline:PutWebhook", arn + "webhook:release-push", true},
		{"AKIADEPLOY", "codepipeline:PutWebhook", arn + "webhook:other", false},
		{"AKIADEPLOY", "codepipeline:ListPipelines", "*", true},
		{"AKIADEPLOY", "codepipeline:GetPipeline", "arn:aws:codepipeline:us-east-1:999999999999:release", false},
		{"AKIADEPLOY", "codepipeline:GetPipeline", "arn:aws:s3:::release", false},
		{"AKIAVIEW", "codepipeline:GetPipelineState", arn + "release", true},
		{"AKIAVIEW", "codepipeline:PutApprovalResult", arn + "release/Approve/Release", false},
		{"AKIAVIEW", "codepipeline:ListPipelines", "*", true},
		{"AKIAVIEW", "codepipeline:TagResource", "*", false},
		{"AKIAUNKNOWN", "codepipeline:GetPipeline", arn + "release", false},
	}
	for _, tt := range tests {
		if got := keys.Authorize(context.Background(), Caller{AccessKeyID: tt.key}, tt.action, tt.resource); got != tt.want {
			t.Errorf("%s %s on %s: %v, want %v", tt.key, tt.action, tt.resource, got, tt.want)
		}
	}
}

func TestNewKeysRefuses(t *testing.T) {
	tests := []struct {
		name string
		keys []Key
	}{
		{"no secret", []Key{{Name: "a", AccessKeyID: "AKIA1"}}},
		{"a bad pattern", []Key{{Name: "a", AccessKeyID: "AKIA1", SecretAccessKey: "s", Pipelines: []string{"[x"}}}},
		{"an id twice", []Key{{Name: "a", AccessKeyID: "AKIA1", SecretAccessKey: "s"}, {Name: "b", AccessKeyID: "AKIA1", SecretAccessKey: "t"}}},
	}
	for _, tt := range tests {
		if _, err := NewKeys("123456789012", tt.keys, sigv4.Config{}); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}
