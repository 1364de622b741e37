package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/sluice-ci/sluice/internal/events"
	"github.com/sluice-ci/sluice/internal/server"
)

// eventsOf reads the events of one execution from the data folder's
// events file, as "detail-type-kind name STATE" lines.
func (ts *testServer) eventsOf(id string) []string {
	ts.t.Helper()
	var out []string
	_, err := events.Tail(context.Background(), filepath.Join(ts.dataDir, server.EventsFile), events.TailOptions{}, func(e events.Event) error {
		if e.Detail.ExecutionID != id {
			return nil
		}
		switch e.DetailType {
		case events.DetailTypePipeline:
			out = append(out, fmt.Sprintf("pipeline %s", e.Detail.State))
		case events.DetailTypeStage:
			out = append(out, fmt.Sprintf("stage %s %s", e.Detail.Stage, e.Detail.State))
		case events.DetailTypeAction:
			out = append(out, fmt.Sprintf("action %s %s", e.Detail.Action, e.Detail.State))
		}
		return nil
	})
	if err != nil {
		ts.t.Fatal(err)
	}
	return out
}

// waitEvent waits until the execution's events include want.
func (ts *testServer) waitEvent(id, want string) []string {
	ts.t.Helper()
	var got []string
	for range 3000 {
		got = ts.eventsOf(id)
		for _, e := range got {
			if e == want {
				return got
			}
		}
		sleep()
	}
	ts.t.Fatalf("no event %q among %q", want, got)
	return nil
}

// TestEvents runs an execution that fails at its source, is retried,
// approved and succeeds, and reads its events: CodePipeline's states, in
// the order things happened.
func TestEvents(t *testing.T) {
	ts := startServer(t, "")
	ctx := context.Background()
	if _, err := ts.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(t, "release.json", "release")}); err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(ts.waitExecutions("release", 1)[0].PipelineExecutionId)
	ts.waitEvent(id, "pipeline FAILED")
	ts.putSource("v1")
	if _, err := ts.client.RetryStageExecution(ctx, &codepipeline.RetryStageExecutionInput{PipelineName: aws.String("release"),
		PipelineExecutionId: aws.String(id), StageName: aws.String("Source"), RetryMode: types.StageRetryModeFailedActions}); err != nil {
		t.Fatal(err)
	}
	token := ts.waitApproval("release", "Approve", "Release")
	if _, err := ts.client.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{PipelineName: aws.String("release"),
		StageName: aws.String("Approve"), ActionName: aws.String("Release"), Token: aws.String(token),
		Result: &types.ApprovalResult{Status: types.ApprovalStatusApproved, Summary: aws.String("ok")}}); err != nil {
		t.Fatal(err)
	}
	got := ts.waitEvent(id, "pipeline SUCCEEDED")
	want := []string{
		"pipeline STARTED", "stage Source STARTED", "action Fetch STARTED", "action Fetch FAILED", "stage Source FAILED", "pipeline FAILED",
		"pipeline RESUMED", "stage Source RESUMED", "action Fetch STARTED", "action Fetch SUCCEEDED", "stage Source SUCCEEDED",
		"stage Approve STARTED", "action Release STARTED", "action Release SUCCEEDED", "stage Approve SUCCEEDED",
		"stage Deploy STARTED", "action Publish STARTED", "action Publish SUCCEEDED", "stage Deploy SUCCEEDED", "pipeline SUCCEEDED",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The approval's token goes to the approver only.
	if all, err := os.ReadFile(filepath.Join(ts.dataDir, server.EventsFile)); err != nil || bytes.Contains(all, []byte(token)) {
		t.Errorf("the events hold the approval token %s (%v)", token, err)
	}
}

// TestSecretsStayIn creates a pipeline whose source has an OAuthToken and
// a webhook with a secret, and looks for them in every API answer, the
// events and the server's log.
func TestSecretsStayIn(t *testing.T) {
	var log bytes.Buffer
	ts := startServer(t, "", withLog(&log))
	ctx := context.Background()
	const token, hookSecret = "ghp_topsecrettoken0123456789", "hook-secret-value"
	d := declaration(t, "github.json", "legacy")
	var answers []any
	add := func(v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		answers = append(answers, v)
	}
	add(ts.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: d}))
	id := aws.ToString(ts.waitExecutions("legacy", 1)[0].PipelineExecutionId)
	ts.waitExecution("legacy", id, types.PipelineExecutionStatusFailed)
	add(ts.client.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("legacy")}))
	add(ts.client.UpdatePipeline(ctx, &codepipeline.UpdatePipelineInput{Pipeline: d}))
	add(ts.client.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String("legacy")}))
	add(ts.client.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String("legacy")}))
	add(ts.client.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("legacy"), PipelineExecutionId: aws.String(id)}))
	add(ts.client.PutWebhook(ctx, &codepipeline.PutWebhookInput{Webhook: &types.WebhookDefinition{
		Name: aws.String("legacy-hook"), TargetPipeline: aws.String("legacy"), TargetAction: aws.String("GitHub"),
		Filters:        []types.WebhookFilterRule{{JsonPath: aws.String("$.ref"), MatchEquals: aws.String("refs/heads/{Branch}")}},
		Authentication: types.WebhookAuthenticationTypeGithubHmac, AuthenticationConfiguration: &types.WebhookAuthConfiguration{SecretToken: aws.String(hookSecret)},
	}}))
	add(ts.client.ListWebhooks(ctx, &codepipeline.ListWebhooksInput{}))

	// The update sent the masked token back: the stored one is kept.
	got, err := ts.client.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("legacy")})
	if err != nil || got.Pipeline.Stages[0].Actions[0].Configuration["OAuthToken"] != "****" {
		t.Fatalf("GetPipeline: %v", err)
	}
	add(got, nil)
	stored, _, err := ts.srv.Local.Runtime.Declaration(ctx, "legacy", 2)
	if err != nil || stored.Stages[0].Actions[0].Configuration["OAuthToken"] != token {
		t.Errorf("the stored token after updates sent it masked: %v", err)
	}
	ts.waitEvent(id, "pipeline FAILED")
	ts.stop()

	text, _ := json.Marshal(answers)
	evs, _ := os.ReadFile(filepath.Join(ts.dataDir, server.EventsFile))
	for _, where := range []struct {
		name string
		text []byte
	}{{"API answers", text}, {"events", evs}, {"log", log.Bytes()}} {
		for _, secret := range []string{token, hookSecret} {
			if bytes.Contains(where.text, []byte(secret)) {
				t.Errorf("the %s hold the secret %q", where.name, secret)
			}
		}
	}
	if !bytes.Contains(text, []byte(`****`)) {
		t.Error("no masked value in the answers")
	}
}
