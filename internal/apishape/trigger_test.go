package apishape

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sluice-ci/sluice/internal/store"
)

// TestTriggerOf shapes the triggers executions keep: a user's start with
// its ARN, a webhook's, and a git trigger's git event as a JSON detail
// that stays within the API's 1,024 characters however long its commit
// message.
func TestTriggerOf(t *testing.T) {
	git := store.GitTrigger{
		ProviderType: "GitHub", ConnectionArn: "arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
		FullRepositoryName: "acme/app", CommitID: "1111111111111111111111111111111111111111", CommitMessage: "Fix <b> & \"quotes\"",
		AuthorDisplayName: "Mary Major", BranchName: "main", PullRequestID: "7",
	}
	long := git
	long.CommitMessage = strings.Repeat("é", 2000)
	tests := []struct {
		name    string
		in      store.ExecutionTrigger
		want    *ExecutionTrigger
		wantGit *store.GitTrigger // the detail decoded, for git triggers
		shorter bool              // the commit message was shortened
	}{
		{"none", store.ExecutionTrigger{}, nil, nil, false},
		{"a user's start", store.ExecutionTrigger{TriggerType: "StartPipelineExecution", TriggerDetail: "arn:aws:iam::123456789012:user/sluice"},
			&ExecutionTrigger{TriggerType: "StartPipelineExecution", TriggerDetail: "arn:aws:iam::123456789012:user/sluice"}, nil, false},
		{"a webhook", store.ExecutionTrigger{TriggerType: "Webhook", TriggerDetail: "arn:aws:codepipeline:us-east-1:123456789012:webhook:hook"},
			&ExecutionTrigger{TriggerType: "Webhook", TriggerDetail: "arn:aws:codepipeline:us-east-1:123456789012:webhook:hook"}, nil, false},
		{"a git trigger", store.ExecutionTrigger{TriggerType: "WebhookV2", TriggerDetail: git.ConnectionArn, Git: &git}, nil, &git, false},
		{"a git trigger with a long commit message", store.ExecutionTrigger{TriggerType: "WebhookV2", Git: &long}, nil, &long, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := triggerOf(tc.in)
			if tc.wantGit == nil {
				if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
					t.Errorf("trigger %+v, want %+v", got, tc.want)
				}
				return
			}
			if got == nil || got.TriggerType != "WebhookV2" {
				t.Fatalf("trigger %+v", got)
			}
			if n := utf8.RuneCountInString(got.TriggerDetail); n > MaxTriggerDetail || len(got.TriggerDetail) > MaxTriggerDetail {
				t.Errorf("detail of %d characters, %d bytes", n, len(got.TriggerDetail))
			}
			var detail store.GitTrigger
			if err := json.Unmarshal([]byte(got.TriggerDetail), &detail); err != nil {
				t.Fatalf("detail %q: %v", got.TriggerDetail, err)
			}
			want := *tc.wantGit
			if tc.shorter {
				if !strings.HasSuffix(detail.CommitMessage, "…") || !strings.HasPrefix(want.CommitMessage, strings.TrimSuffix(detail.CommitMessage, "…")) {
					t.Errorf("shortened commit message %q", detail.CommitMessage)
				}
				want.CommitMessage = detail.CommitMessage
			}
			if detail != want {
				t.Errorf("detail %+v\nwant %+v", detail, want)
			}
		})
	}
}
