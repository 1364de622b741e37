package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/sluice-ci/sluice/internal/events"
	"github.com/sluice-ci/sluice/internal/server"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/webhook"
)

// TestGitTriggerDetails sends a push, a tag push and a pull request to the
// repository-level endpoint and reads what started each execution: its
// trigger in GetPipelineExecution and ListPipelineExecutions (WebhookV2,
// the git event as the detail), and its events' execution-trigger.
func TestGitTriggerDetails(t *testing.T) {
	const conn = "arn:aws:codeconnections:us-east-1:123456789012:connection/abc"
	tests := []struct {
		name  string
		event string
		body  map[string]any
		want  store.GitTrigger
	}{
		{"push to a branch", "push", map[string]any{
			"ref": "refs/heads/main", "after": "1111111111111111111111111111111111111111",
			"repository": map[string]any{"full_name": "acme/app"},
			"head_commit": map[string]any{"id": "1111111111111111111111111111111111111111", "message": "Fix the <title> & footer",
				"timestamp": "2026-01-02T03:04:05Z", "author": map[string]any{"name": "Mary Major", "email": "mary@example.com", "username": "mmajor"},
				"modified": []string{"src/page.go"}},
			"commits": []any{map[string]any{"id": "1111111111111111111111111111111111111111", "modified": []string{"src/page.go"}}},
		}, store.GitTrigger{
			ProviderType: "GitHub", ConnectionArn: conn, FullRepositoryName: "acme/app", CommitID: "1111111111111111111111111111111111111111",
			CommitMessage: "Fix the <title> & footer", AuthorDisplayName: "Mary Major", AuthorEmail: "mary@example.com", AuthorID: "mmajor",
			AuthorDate: "2026-01-02T03:04:05Z", BranchName: "main",
		}},
		{"push of a tag", "push", map[string]any{
			"ref": "refs/tags/v1.2.0", "after": "2222222222222222222222222222222222222222",
			"repository":  map[string]any{"full_name": "acme/app"},
			"head_commit": map[string]any{"id": "2222222222222222222222222222222222222222", "message": "Release 1.2.0", "author": map[string]any{"name": "Ann"}},
		}, store.GitTrigger{
			ProviderType: "GitHub", ConnectionArn: conn, FullRepositoryName: "acme/app", CommitID: "2222222222222222222222222222222222222222",
			CommitMessage: "Release 1.2.0", AuthorDisplayName: "Ann", TagName: "v1.2.0",
		}},
		{"pull request opened", "pull_request", map[string]any{
			"action": "opened", "number": 42, "repository": map[string]any{"full_name": "acme/app"},
			"pull_request": map[string]any{"number": 42, "title": "Empty orders", "user": map[string]any{"login": "octocat"},
				"head": map[string]any{"ref": "feature/empty-orders", "sha": "3333333333333333333333333333333333333333"},
				"base": map[string]any{"ref": "main", "sha": "4444444444444444444444444444444444444444"}},
		}, store.GitTrigger{
			ProviderType: "GitHub", ConnectionArn: conn, FullRepositoryName: "acme/app", CommitID: "3333333333333333333333333333333333333333",
			CommitMessage: "Empty orders", AuthorDisplayName: "octocat", AuthorID: "octocat", BranchName: "feature/empty-orders", PullRequestID: "42",
		}},
	}
	ts := startServer(t, "")
	ctx := context.Background()
	d := declaration(t, "app.json", "app")
	// The pull request's files are not known without its repository: its
	// filter takes any file.
	d.Triggers[0].GitConfiguration.PullRequest[0].FilePaths = nil
	if _, err := ts.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: d}); err != nil {
		t.Fatal(err)
	}
	ts.waitExecutions("app", 1)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(tc.body)
			if status, msg := ts.deliver(delivery{path: webhook.RepositoryPath, event: tc.event, id: tc.name, body: body, secret: ts.srv.GitHubSecret}); status != http.StatusAccepted {
				t.Fatalf("delivery: %d %s", status, msg)
			}
			summary := ts.waitExecutions("app", i+2)[0]
			id := aws.ToString(summary.PipelineExecutionId)
			out, err := ts.client.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("app"), PipelineExecutionId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			for where, tr := range map[string]*types.ExecutionTrigger{"GetPipelineExecution": out.PipelineExecution.Trigger, "ListPipelineExecutions": summary.Trigger} {
				var got store.GitTrigger
				if tr == nil || tr.TriggerType != types.TriggerTypeWebhookV2 || json.Unmarshal([]byte(aws.ToString(tr.TriggerDetail)), &got) != nil {
					t.Fatalf("%s: trigger %+v", where, tr)
				}
				if got != tc.want {
					t.Errorf("%s: trigger detail %s\nwant %+v", where, aws.ToString(tr.TriggerDetail), tc.want)
				}
			}
			var started *events.ExecutionTrigger
			for range 3000 {
				events.Tail(ctx, filepath.Join(ts.dataDir, server.EventsFile), events.TailOptions{}, func(e events.Event) error {
					if e.Detail.ExecutionID == id && e.DetailType == events.DetailTypePipeline && e.Detail.State == events.StateStarted {
						started = e.Detail.ExecutionTrigger
					}
					return nil
				})
				if started != nil {
					break
				}
				sleep()
			}
			w := tc.want
			want := events.ExecutionTrigger{
				AuthorDisplayName: w.AuthorDisplayName, FullRepositoryName: w.FullRepositoryName, ProviderType: w.ProviderType,
				AuthorEmail: w.AuthorEmail, CommitMessage: w.CommitMessage, AuthorDate: w.AuthorDate, TagName: w.TagName,
				BranchName: w.BranchName, CommitID: w.CommitID, ConnectionArn: w.ConnectionArn, AuthorID: w.AuthorID, PullRequestID: w.PullRequestID,
			}
			if started == nil || *started != want {
				t.Errorf("STARTED event's execution-trigger %+v\nwant %+v", started, want)
			}
		})
	}
}
