package server_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/awsjson"
)

// TestPipelineLifecycle drives a pipeline through the API as a user of the
// AWS CLI would: create (which starts a first execution), a failing
// source, a retry, an approval, a successful run, transitions, stop,
// update, delete, with the exceptions of each operation's error paths.
func TestPipelineLifecycle(t *testing.T) {
	ts := startServer(t, "")
	c := ts.client
	ctx := context.Background()
	release := declaration(t, "release.json", "release")

	out, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{
		Pipeline: release, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := aws.ToInt32(out.Pipeline.Version); v != 1 || len(out.Tags) != 1 {
		t.Errorf("created version %d, tags %v", v, out.Tags)
	}
	_, err = c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: release})
	var inUse *types.PipelineNameInUseException
	if !errors.As(err, &inUse) {
		t.Errorf("creating release again: %v", err)
	}
	oneStage := declaration(t, "release.json", "broken")
	oneStage.Stages = oneStage.Stages[:1]
	_, err = c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: oneStage})
	var invalid *types.InvalidStructureException
	if !errors.As(err, &invalid) {
		t.Errorf("a one-stage pipeline: %v", err)
	}

	// The first execution, triggered by CreatePipeline, fails at its
	// source: the object is not there yet.
	list, err := c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("release")})
	if err != nil || len(list.PipelineExecutionSummaries) != 1 {
		t.Fatalf("executions after create: %+v, %v", list, err)
	}
	first := list.PipelineExecutionSummaries[0]
	if first.Trigger == nil || first.Trigger.TriggerType != types.TriggerTypeCreatePipeline {
		t.Errorf("first execution's trigger %+v", first.Trigger)
	}
	firstID := aws.ToString(first.PipelineExecutionId)
	ts.waitExecution("release", firstID, types.PipelineExecutionStatusFailed)

	_, err = c.RetryStageExecution(ctx, &codepipeline.RetryStageExecutionInput{
		PipelineName: aws.String("release"), PipelineExecutionId: aws.String(firstID),
		StageName: aws.String("Approve"), RetryMode: types.StageRetryModeFailedActions,
	})
	var notRetryable *types.StageNotRetryableException
	if !errors.As(err, &notRetryable) {
		t.Errorf("retrying a stage that never ran: %v", err)
	}
	ts.putSource("v1")
	_, err = c.RetryStageExecution(ctx, &codepipeline.RetryStageExecutionInput{
		PipelineName: aws.String("release"), PipelineExecutionId: aws.String(firstID),
		StageName: aws.String("Source"), RetryMode: types.StageRetryModeFailedActions,
	})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	token := ts.waitApproval("release", "Approve", "Release")

	_, err = c.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{
		PipelineName: aws.String("release"), StageName: aws.String("Approve"), ActionName: aws.String("Release"),
		Token:  aws.String("00000000-0000-4000-8000-000000000000"),
		Result: &types.ApprovalResult{Status: types.ApprovalStatusApproved, Summary: aws.String("ok")},
	})
	var badToken *types.InvalidApprovalTokenException
	if !errors.As(err, &badToken) {
		t.Errorf("approving with a wrong token: %v", err)
	}
	approve := &codepipeline.PutApprovalResultInput{
		PipelineName: aws.String("release"), StageName: aws.String("Approve"), ActionName: aws.String("Release"),
		Token: aws.String(token), Result: &types.ApprovalResult{Status: types.ApprovalStatusApproved, Summary: aws.String("ship it")},
	}
	ap, err := c.PutApprovalResult(ctx, approve)
	if err != nil || ap.ApprovedAt == nil {
		t.Fatalf("approve: %+v, %v", ap, err)
	}
	_, err = c.PutApprovalResult(ctx, approve)
	var done *types.ApprovalAlreadyCompletedException
	if !errors.As(err, &done) {
		t.Errorf("approving twice: %v", err)
	}
	e := ts.waitExecution("release", firstID, types.PipelineExecutionStatusSucceeded)
	if len(e.ArtifactRevisions) != 1 || aws.ToString(e.ArtifactRevisions[0].RevisionId) == "" {
		t.Errorf("artifact revisions %+v", e.ArtifactRevisions)
	}
	acts, err := c.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{
		PipelineName: aws.String("release"), Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String(firstID)},
	})
	if err != nil {
		t.Fatal(err)
	}
	var approvedBy string
	for _, a := range acts.ActionExecutionDetails {
		if aws.ToString(a.ActionName) == "Release" {
			approvedBy = aws.ToString(a.UpdatedBy)
		}
		// The actions name no region: they run in the server's.
		if a.Input == nil || aws.ToString(a.Input.Region) != "us-east-1" {
			t.Errorf("action %s: input %+v, want the region us-east-1", aws.ToString(a.ActionName), a.Input)
		}
	}
	state, err := c.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String("release")})
	if err != nil {
		t.Fatal(err)
	}
	if url := aws.ToString(state.StageStates[2].ActionStates[0].EntityUrl); !strings.HasPrefix(url, "file://") || !strings.HasSuffix(url, "/s3/site") {
		t.Errorf("the deploy action's entity URL is %q, want the data folder's bucket site", url)
	}
	if approvedBy != "arn:aws:iam::123456789012:user/sluice" || len(acts.ActionExecutionDetails) != 4 {
		t.Errorf("%d action executions, approval updated by %q", len(acts.ActionExecutionDetails), approvedBy)
	}

	// Start with variables, idempotently by client request token.
	start := &codepipeline.StartPipelineExecutionInput{
		Name: aws.String("release"), ClientRequestToken: aws.String("deploy-42"),
		Variables: []types.PipelineVariable{{Name: aws.String("Environment"), Value: aws.String("production")}},
	}
	s1, err := c.StartPipelineExecution(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := c.StartPipelineExecution(ctx, start)
	if err != nil || aws.ToString(s2.PipelineExecutionId) != aws.ToString(s1.PipelineExecutionId) {
		t.Errorf("the same client request token started %v and %v (%v)", s1.PipelineExecutionId, s2.PipelineExecutionId, err)
	}
	second := aws.ToString(s1.PipelineExecutionId)
	got, err := c.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("release"), PipelineExecutionId: aws.String(second)})
	if err != nil || len(got.PipelineExecution.Variables) != 1 || aws.ToString(got.PipelineExecution.Variables[0].ResolvedValue) != "production" ||
		got.PipelineExecution.Trigger.TriggerType != types.TriggerTypeStartPipelineExecution {
		t.Errorf("started execution: %+v, %v", got, err)
	}
	token = ts.waitApproval("release", "Approve", "Release")
	approve.Token = aws.String(token)
	approve.Result.Status = types.ApprovalStatusRejected
	if _, err := c.PutApprovalResult(ctx, approve); err != nil {
		t.Fatal(err)
	}
	ts.waitExecution("release", second, types.PipelineExecutionStatusFailed)

	errorCases := []struct {
		name string
		call func() error
		code string
	}{
		{"start an unknown pipeline", func() error {
			_, err := c.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("nope")})
			return err
		}, "PipelineNotFoundException"},
		{"start with an undeclared variable", func() error {
			_, err := c.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("release"),
				Variables: []types.PipelineVariable{{Name: aws.String("Nope"), Value: aws.String("x")}}})
			return err
		}, "ValidationException"},
		{"start with a revision of no source action", func() error {
			_, err := c.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("release"),
				SourceRevisions: []types.SourceRevisionOverride{{ActionName: aws.String("Publish"), RevisionType: types.SourceRevisionTypeS3ObjectVersionId, RevisionValue: aws.String("v")}}})
			return err
		}, "ValidationException"},
		{"get an unknown execution", func() error {
			_, err := c.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("release"), PipelineExecutionId: aws.String("00000000-0000-4000-8000-000000000000")})
			return err
		}, "PipelineExecutionNotFoundException"},
		{"get a version that does not exist", func() error {
			_, err := c.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("release"), Version: aws.Int32(9)})
			return err
		}, "PipelineVersionNotFoundException"},
		{"get an unknown pipeline", func() error {
			_, err := c.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("nope")})
			return err
		}, "PipelineNotFoundException"},
		{"a name outside the model's pattern", func() error {
			_, err := c.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String("no spaces")})
			return err
		}, "ValidationException"},
		{"stop a finished execution", func() error {
			_, err := c.StopPipelineExecution(ctx, &codepipeline.StopPipelineExecutionInput{PipelineName: aws.String("release"), PipelineExecutionId: aws.String(firstID)})
			return err
		}, "PipelineExecutionNotStoppableException"},
		{"retry a succeeded stage", func() error {
			_, err := c.RetryStageExecution(ctx, &codepipeline.RetryStageExecutionInput{PipelineName: aws.String("release"), PipelineExecutionId: aws.String(second),
				StageName: aws.String("Source"), RetryMode: types.StageRetryModeAllActions})
			return err
		}, "StageNotRetryableException"},
		{"retry an older execution", func() error {
			_, err := c.RetryStageExecution(ctx, &codepipeline.RetryStageExecutionInput{PipelineName: aws.String("release"), PipelineExecutionId: aws.String(firstID),
				StageName: aws.String("Approve"), RetryMode: types.StageRetryModeAllActions})
			return err
		}, "NotLatestPipelineExecutionException"},
		{"retry an unknown stage", func() error {
			_, err := c.RetryStageExecution(ctx, &codepipeline.RetryStageExecutionInput{PipelineName: aws.String("release"), PipelineExecutionId: aws.String(second),
				StageName: aws.String("Nope"), RetryMode: types.StageRetryModeAllActions})
			return err
		}, "StageNotFoundException"},
		{"approve an unknown action", func() error {
			_, err := c.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{PipelineName: aws.String("release"), StageName: aws.String("Approve"),
				ActionName: aws.String("Nope"), Token: aws.String(token), Result: &types.ApprovalResult{Status: types.ApprovalStatusApproved, Summary: aws.String("")}})
			return err
		}, "ActionNotFoundException"},
		{"approve in an unknown stage", func() error {
			_, err := c.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{PipelineName: aws.String("release"), StageName: aws.String("Nope"),
				ActionName: aws.String("Release"), Token: aws.String(token), Result: &types.ApprovalResult{Status: types.ApprovalStatusApproved, Summary: aws.String("")}})
			return err
		}, "StageNotFoundException"},
		{"disable the transition of an unknown stage", func() error {
			_, err := c.DisableStageTransition(ctx, &codepipeline.DisableStageTransitionInput{PipelineName: aws.String("release"), StageName: aws.String("Nope"),
				TransitionType: types.StageTransitionTypeInbound, Reason: aws.String("freeze")})
			return err
		}, "StageNotFoundException"},
		{"disable the outbound transition of an unknown stage", func() error {
			_, err := c.DisableStageTransition(ctx, &codepipeline.DisableStageTransitionInput{PipelineName: aws.String("release"), StageName: aws.String("Nope"),
				TransitionType: types.StageTransitionTypeOutbound, Reason: aws.String("freeze")})
			return err
		}, "StageNotFoundException"},
		{"disable the outbound transition of the last stage", func() error {
			_, err := c.DisableStageTransition(ctx, &codepipeline.DisableStageTransitionInput{PipelineName: aws.String("release"), StageName: aws.String("Deploy"),
				TransitionType: types.StageTransitionTypeOutbound, Reason: aws.String("freeze")})
			return err
		}, "ValidationException"},
		{"disable a transition with a reason outside the pattern", func() error {
			_, err := c.DisableStageTransition(ctx, &codepipeline.DisableStageTransitionInput{PipelineName: aws.String("release"), StageName: aws.String("Deploy"),
				TransitionType: types.StageTransitionTypeInbound, Reason: aws.String("freeze #1")})
			return err
		}, "ValidationException"},
		{"list executions with a forged token", func() error {
			_, err := c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("release"), NextToken: aws.String("not a token!")})
			return err
		}, "InvalidNextTokenException"},
	}
	for _, tc := range errorCases {
		wantCode(t, tc.name, tc.call(), tc.code)
	}

	// A transition disabled holds the next execution before its stage.
	_, err = c.DisableStageTransition(ctx, &codepipeline.DisableStageTransitionInput{PipelineName: aws.String("release"), StageName: aws.String("Deploy"),
		TransitionType: types.StageTransitionTypeInbound, Reason: aws.String("Release freeze")})
	if err != nil {
		t.Fatal(err)
	}
	third := ts.startAndDecide("release", types.ApprovalStatusApproved)
	state = ts.waitState("release", func(s *codepipeline.GetPipelineStateOutput) bool {
		deploy := s.StageStates[2]
		return deploy.InboundExecution != nil && aws.ToString(deploy.InboundExecution.PipelineExecutionId) == third
	})
	deploy := state.StageStates[2]
	if deploy.InboundTransitionState == nil || deploy.InboundTransitionState.Enabled || aws.ToString(deploy.InboundTransitionState.DisabledReason) != "Release freeze" {
		t.Errorf("transition state %+v", deploy.InboundTransitionState)
	}
	// Approve's outbound transition is Deploy's inbound one.
	if _, err := c.EnableStageTransition(ctx, &codepipeline.EnableStageTransitionInput{PipelineName: aws.String("release"), StageName: aws.String("Approve"),
		TransitionType: types.StageTransitionTypeOutbound}); err != nil {
		t.Fatal(err)
	}
	ts.waitExecution("release", third, types.PipelineExecutionStatusSucceeded)

	// Stop and abandon an execution waiting for its approval.
	s4, err := c.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("release")})
	if err != nil {
		t.Fatal(err)
	}
	fourth := aws.ToString(s4.PipelineExecutionId)
	ts.waitApproval("release", "Approve", "Release")
	if _, err := c.StopPipelineExecution(ctx, &codepipeline.StopPipelineExecutionInput{PipelineName: aws.String("release"),
		PipelineExecutionId: aws.String(fourth), Abandon: true, Reason: aws.String("wrong build")}); err != nil {
		t.Fatal(err)
	}
	ts.waitExecution("release", fourth, types.PipelineExecutionStatusStopped)
	latest, err := c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("release"), MaxResults: aws.Int32(1)})
	if err != nil || aws.ToString(latest.PipelineExecutionSummaries[0].PipelineExecutionId) != fourth {
		t.Fatalf("latest execution: %+v, %v", latest, err)
	}
	if st := latest.PipelineExecutionSummaries[0].StopTrigger; st == nil || aws.ToString(st.Reason) != "wrong build" {
		t.Errorf("stop trigger %+v", st)
	}

	// One more, rejected: its Approve stage fails.
	fifth := ts.startAndDecide("release", types.ApprovalStatusRejected)
	ts.waitExecution("release", fifth, types.PipelineExecutionStatusFailed)

	// Update: version 2, the executions keep theirs.
	release.Stages[1].Actions[0].Configuration["CustomData"] = "Ship it?"
	up, err := c.UpdatePipeline(ctx, &codepipeline.UpdatePipelineInput{Pipeline: release})
	if err != nil || aws.ToInt32(up.Pipeline.Version) != 2 {
		t.Fatalf("update: %+v, %v", up, err)
	}
	// An execution of version 1 that failed: after the update, its stage
	// cannot be retried, as in CodePipeline.
	_, err = c.RetryStageExecution(ctx, &codepipeline.RetryStageExecutionInput{PipelineName: aws.String("release"), PipelineExecutionId: aws.String(fifth),
		StageName: aws.String("Approve"), RetryMode: types.StageRetryModeAllActions})
	wantCode(t, "retry an execution of the version before the update", err, "StageNotRetryableException")
	gp, err := c.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("release")})
	if err != nil || aws.ToInt32(gp.Pipeline.Version) != 2 || gp.Metadata == nil || aws.ToString(gp.Metadata.PipelineArn) != "arn:aws:codepipeline:us-east-1:123456789012:release" {
		t.Errorf("get after update: %+v, %v", gp, err)
	}
	old, err := c.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("release"), Version: aws.Int32(1)})
	if err != nil || old.Pipeline.Stages[1].Actions[0].Configuration["CustomData"] == "Ship it?" {
		t.Errorf("version 1 after update: %v", err)
	}
	summaries, err := c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("release"), MaxResults: aws.Int32(2)})
	if err != nil || len(summaries.PipelineExecutionSummaries) != 2 || summaries.NextToken == nil {
		t.Fatalf("first page: %+v, %v", summaries, err)
	}
	rest, err := c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("release"), NextToken: summaries.NextToken})
	if err != nil || len(rest.PipelineExecutionSummaries) != 3 || rest.NextToken != nil {
		t.Errorf("second page: %d executions, next token %v, %v", len(rest.PipelineExecutionSummaries), rest.NextToken, err)
	}

	if _, err := c.DeletePipeline(ctx, &codepipeline.DeletePipelineInput{Name: aws.String("release")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeletePipeline(ctx, &codepipeline.DeletePipelineInput{Name: aws.String("release")}); err != nil {
		t.Errorf("deleting again: %v", err)
	}
	_, err = c.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String("release")})
	var gone *types.PipelineNotFoundException
	if !errors.As(err, &gone) {
		t.Errorf("state after deletion: %v", err)
	}
	// Created again, it starts over at version 1.
	if out, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(t, "release.json", "release")}); err != nil || aws.ToInt32(out.Pipeline.Version) != 1 {
		t.Errorf("creating again: %+v, %v", out, err)
	}
}

// startAndDecide starts an execution of a pipeline made of release.json,
// waits for its approval and decides it; it returns the execution's id.
func (ts *testServer) startAndDecide(name string, status types.ApprovalStatus) string {
	ts.t.Helper()
	ctx := context.Background()
	out, err := ts.client.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String(name)})
	if err != nil {
		ts.t.Fatal(err)
	}
	_, err = ts.client.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{
		PipelineName: aws.String(name), StageName: aws.String("Approve"), ActionName: aws.String("Release"),
		Token: aws.String(ts.waitApproval(name, "Approve", "Release")), Result: &types.ApprovalResult{Status: status, Summary: aws.String("decided")},
	})
	if err != nil {
		ts.t.Fatal(err)
	}
	return aws.ToString(out.PipelineExecutionId)
}

// waitState waits until the pipeline's state satisfies ok.
func (ts *testServer) waitState(name string, ok func(*codepipeline.GetPipelineStateOutput) bool) *codepipeline.GetPipelineStateOutput {
	ts.t.Helper()
	for range 3000 {
		s, err := ts.client.GetPipelineState(context.Background(), &codepipeline.GetPipelineStateInput{Name: aws.String(name)})
		if err != nil {
			ts.t.Fatal(err)
		}
		if ok(s) {
			return s
		}
		sleep()
	}
	ts.t.Fatalf("the state of %s never came", name)
	return nil
}

// TestListsTagsWebhooksAndActionTypes covers the catalog operations: list
// pipelines page by page, tags on pipelines and webhooks, webhooks
// defined, listed and deleted with their secret masked, action types.
func TestListsTagsWebhooksAndActionTypes(t *testing.T) {
	ts := startServer(t, "")
	c := ts.client
	ctx := context.Background()
	ts.putSource("v1")
	for _, name := range []string{"alpha", "bravo", "charlie"} {
		if _, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(t, "release.json", name)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	var next, firstToken *string
	for page := 0; page < 5; page++ {
		out, err := c.ListPipelines(ctx, &codepipeline.ListPipelinesInput{MaxResults: aws.Int32(2), NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range out.Pipelines {
			names = append(names, aws.ToString(p.Name))
			if p.PipelineType != types.PipelineTypeV2 || p.ExecutionMode != types.ExecutionModeQueued || aws.ToInt32(p.Version) != 1 {
				t.Errorf("summary %+v", p)
			}
		}
		if next = out.NextToken; next == nil {
			break
		}
		if firstToken == nil {
			firstToken = next
		}
	}
	if fmt.Sprint(names) != "[alpha bravo charlie]" {
		t.Errorf("listed %v", names)
	}

	arn := "arn:aws:codepipeline:us-east-1:123456789012:alpha"
	if _, err := c.TagResource(ctx, &codepipeline.TagResourceInput{ResourceArn: aws.String(arn),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("team"), Value: aws.String("web")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &codepipeline.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &codepipeline.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Errorf("tags: %+v, %v", tags, err)
	}

	hook := &types.WebhookDefinition{
		Name: aws.String("alpha-push"), TargetPipeline: aws.String("alpha"), TargetAction: aws.String("Fetch"),
		Filters:                     []types.WebhookFilterRule{{JsonPath: aws.String("$.ref"), MatchEquals: aws.String("refs/heads/{S3ObjectKey}")}},
		Authentication:              types.WebhookAuthenticationTypeGithubHmac,
		AuthenticationConfiguration: &types.WebhookAuthConfiguration{SecretToken: aws.String("s3cret")},
	}
	pw, err := c.PutWebhook(ctx, &codepipeline.PutWebhookInput{Webhook: hook, Tags: []types.Tag{{Key: aws.String("kind"), Value: aws.String("push")}}})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(pw.Webhook.Url)
	if secret := aws.ToString(pw.Webhook.Definition.AuthenticationConfiguration.SecretToken); secret != "****" {
		t.Errorf("PutWebhook answered the secret %q", secret)
	}
	pw2, err := c.PutWebhook(ctx, &codepipeline.PutWebhookInput{Webhook: hook})
	if err != nil || aws.ToString(pw2.Webhook.Url) != url {
		t.Errorf("redefining changed the URL: %v, %v", pw2, err)
	}
	hooks, err := c.ListWebhooks(ctx, &codepipeline.ListWebhooksInput{})
	if err != nil || len(hooks.Webhooks) != 1 || aws.ToString(hooks.Webhooks[0].Definition.AuthenticationConfiguration.SecretToken) != "****" ||
		len(hooks.Webhooks[0].Tags) != 1 {
		t.Errorf("webhooks: %+v, %v", hooks, err)
	}
	hookARN := aws.ToString(hooks.Webhooks[0].Arn)
	if tags, err := c.ListTagsForResource(ctx, &codepipeline.ListTagsForResourceInput{ResourceArn: aws.String(hookARN)}); err != nil || len(tags.Tags) != 1 {
		t.Errorf("webhook tags: %+v, %v", tags, err)
	}

	types_, err := c.ListActionTypes(ctx, &codepipeline.ListActionTypesInput{ActionOwnerFilter: types.ActionOwnerAws})
	if err != nil || len(types_.ActionTypes) == 0 {
		t.Fatalf("action types: %v", err)
	}
	for _, at := range types_.ActionTypes {
		if at.Id.Owner != types.ActionOwnerAws || at.InputArtifactDetails == nil {
			t.Errorf("action type %+v", at.Id)
		}
	}
	// Every action type, page after page, once each.
	seenTypes := map[types.ActionTypeId]bool{}
	for p := codepipeline.NewListActionTypesPaginator(c, &codepipeline.ListActionTypesInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range page.ActionTypes {
			if seenTypes[*at.Id] {
				t.Errorf("action type %+v listed twice", *at.Id)
			}
			seenTypes[*at.Id] = true
		}
	}
	if len(seenTypes) <= len(types_.ActionTypes) {
		t.Errorf("%d action types, of which %d of AWS", len(seenTypes), len(types_.ActionTypes))
	}

	errorCases := []struct {
		name string
		call func() error
		code string
	}{
		{"tag a malformed ARN", func() error {
			_, err := c.TagResource(ctx, &codepipeline.TagResourceInput{ResourceArn: aws.String("alpha"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, "InvalidArnException"},
		{"tag an unknown pipeline", func() error {
			_, err := c.TagResource(ctx, &codepipeline.TagResourceInput{ResourceArn: aws.String(arn + "x"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, "ResourceNotFoundException"},
		{"a reserved tag key", func() error {
			_, err := c.TagResource(ctx, &codepipeline.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}})
			return err
		}, "InvalidTagsException"},
		{"a webhook on an unknown pipeline", func() error {
			h := *hook
			h.TargetPipeline = aws.String("nope")
			_, err := c.PutWebhook(ctx, &codepipeline.PutWebhookInput{Webhook: &h})
			return err
		}, "PipelineNotFoundException"},
		{"a filter with a bad JsonPath", func() error {
			h := *hook
			h.Filters = []types.WebhookFilterRule{{JsonPath: aws.String("$.[")}}
			_, err := c.PutWebhook(ctx, &codepipeline.PutWebhookInput{Webhook: &h})
			return err
		}, "InvalidWebhookFilterPatternException"},
		{"GITHUB_HMAC without a secret", func() error {
			h := *hook
			h.AuthenticationConfiguration = &types.WebhookAuthConfiguration{}
			_, err := c.PutWebhook(ctx, &codepipeline.PutWebhookInput{Webhook: &h})
			return err
		}, "InvalidWebhookAuthenticationParametersException"},
		{"details of an unknown job", func() error {
			_, err := c.GetJobDetails(ctx, &codepipeline.GetJobDetailsInput{JobId: aws.String("00000000-0000-4000-8000-000000000000")})
			return err
		}, "JobNotFoundException"},
		{"list pipelines after a name made up", func() error {
			_, err := c.ListPipelines(ctx, &codepipeline.ListPipelinesInput{NextToken: aws.String(madeUpToken("ListPipelines", nil, "alpha0"))})
			return err
		}, "InvalidNextTokenException"},
		{"list webhooks with a token of ListPipelines", func() error {
			_, err := c.ListWebhooks(ctx, &codepipeline.ListWebhooksInput{NextToken: firstToken})
			return err
		}, "InvalidNextTokenException"},
		{"list webhooks after a webhook made up", func() error {
			_, err := c.ListWebhooks(ctx, &codepipeline.ListWebhooksInput{NextToken: aws.String(madeUpToken("ListWebhooks", nil, "alpha-push0"))})
			return err
		}, "InvalidNextTokenException"},
		{"list action types with a token of another owner filter", func() error {
			_, err := c.ListActionTypes(ctx, &codepipeline.ListActionTypesInput{ActionOwnerFilter: types.ActionOwnerCustom,
				NextToken: aws.String(madeUpToken("ListActionTypes", map[string]string{"actionOwnerFilter": "AWS", "regionFilter": ""}, "Source/AWS/S3/1"))})
			return err
		}, "InvalidNextTokenException"},
		{"list action types after a type made up", func() error {
			_, err := c.ListActionTypes(ctx, &codepipeline.ListActionTypesInput{
				NextToken: aws.String(madeUpToken("ListActionTypes", map[string]string{"actionOwnerFilter": "", "regionFilter": ""}, "Source/AWS/Nope/1"))})
			return err
		}, "InvalidNextTokenException"},
		{"list tags with a token of another resource", func() error {
			_, err := c.ListTagsForResource(ctx, &codepipeline.ListTagsForResourceInput{ResourceArn: aws.String(arn),
				NextToken: aws.String(madeUpToken("ListTagsForResource", map[string]string{"resourceArn": hookARN}, "env"))})
			return err
		}, "InvalidNextTokenException"},
		{"success of an unknown job", func() error {
			_, err := c.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: aws.String("00000000-0000-4000-8000-000000000000")})
			return err
		}, "JobNotFoundException"},
	}
	for _, tc := range errorCases {
		wantCode(t, tc.name, tc.call(), tc.code)
	}

	if _, err := c.DeleteWebhook(ctx, &codepipeline.DeleteWebhookInput{Name: aws.String("alpha-push")}); err != nil {
		t.Fatal(err)
	}
	if hooks, err := c.ListWebhooks(ctx, &codepipeline.ListWebhooksInput{}); err != nil || len(hooks.Webhooks) != 0 {
		t.Errorf("webhooks after deletion: %+v, %v", hooks, err)
	}
}

// TestJobs runs a Lambda invoke action whose outcome a worker reports
// through the job operations.
func TestJobs(t *testing.T) {
	ts := startServer(t, "")
	c := ts.client
	ctx := context.Background()
	ts.srv.Local.Runtime.Providers.Register(action.Type{Category: "Invoke", Owner: "AWS", Provider: "Lambda"}, handedOff{})
	ts.putSource("v1")
	d := declaration(t, "invoke.json", "invoke")
	if _, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: d}); err != nil {
		t.Fatal(err)
	}
	jobs := make(map[string]string)
	for _, want := range []string{"Succeed", "Fail"} {
		var id string
		for range 3000 {
			acts, err := c.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String("invoke")})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range acts.ActionExecutionDetails {
				if aws.ToString(a.ActionName) == want && a.Status == types.ActionExecutionStatusInProgress {
					id = aws.ToString(a.ActionExecutionId)
				}
			}
			if id != "" {
				break
			}
			sleep()
		}
		if id == "" {
			t.Fatalf("action %s never started", want)
		}
		jobs[want] = id
		details := ts.jobDetails(id)
		data := details.JobDetails.Data
		if aws.ToString(data.PipelineContext.Action.Name) != want || data.ActionConfiguration.Configuration["FunctionName"] != "worker" ||
			aws.ToString(details.JobDetails.AccountId) != "123456789012" {
			t.Errorf("job details %+v", data)
		}
		var err error
		if want == "Succeed" {
			_, err = c.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: aws.String(id),
				ExecutionDetails: &types.ExecutionDetails{Summary: aws.String("done")}, OutputVariables: map[string]string{"Answer": "42"}})
		} else {
			_, err = c.PutJobFailureResult(ctx, &codepipeline.PutJobFailureResultInput{JobId: aws.String(id),
				FailureDetails: &types.FailureDetails{Type: types.FailureTypeJobFailed, Message: aws.String("it broke")}})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: aws.String(jobs["Succeed"])})
	wantCode(t, "a job reported twice", err, "InvalidJobStateException")
	list, err := c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("invoke")})
	if err != nil {
		t.Fatal(err)
	}
	ts.waitExecution("invoke", aws.ToString(list.PipelineExecutionSummaries[0].PipelineExecutionId), types.PipelineExecutionStatusFailed)
	acts, _ := c.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String("invoke")})
	for _, a := range acts.ActionExecutionDetails {
		switch aws.ToString(a.ActionName) {
		case "Succeed":
			if a.Status != types.ActionExecutionStatusSucceeded || a.Output.OutputVariables["Answer"] != "42" {
				t.Errorf("Succeed: %s %v", a.Status, a.Output.OutputVariables)
			}
		case "Fail":
			if a.Status != types.ActionExecutionStatusFailed || aws.ToString(a.Output.ExecutionResult.ErrorDetails.Message) != "it broke" {
				t.Errorf("Fail: %s", a.Status)
			}
		}
	}
}

// jobDetails answers GetJobDetails for a job. The action's record shows it
// in progress a moment before its job is recorded: a job not found yet is
// asked for again, until a deadline.
func (ts *testServer) jobDetails(id string) *codepipeline.GetJobDetailsOutput {
	ts.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := ts.client.GetJobDetails(context.Background(), &codepipeline.GetJobDetailsInput{JobId: aws.String(id)})
		var notFound *types.JobNotFoundException
		switch {
		case err == nil:
			return out
		case !errors.As(err, &notFound) || time.Now().After(deadline):
			ts.t.Fatalf("GetJobDetails %s: %v", id, err)
		}
		sleep()
	}
}

// handedOff leaves every action in progress: a worker outside reports it.
type handedOff struct{}

func (handedOff) Run(context.Context, *action.Job) (*action.Result, error) {
	return &action.Result{Status: action.StatusInProgress}, nil
}

// madeUpToken is a page token of the form the API gives, for a position
// the listing never gave.
func madeUpToken(op string, scope map[string]string, after string) string {
	return awsjson.Listing{Op: op, Scope: scope}.Token(after)
}

// TestStartWithSourceRevision starts an execution on an earlier version
// of the source object (sourceRevisions): its source fetches that version,
// not the latest.
func TestStartWithSourceRevision(t *testing.T) {
	ts := startServer(t, "")
	c := ts.client
	ctx := context.Background()
	ts.putSource("v1")
	if _, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(t, "release.json", "release")}); err != nil {
		t.Fatal(err)
	}
	first := aws.ToString(ts.waitExecutions("release", 1)[0].PipelineExecutionId)
	ts.waitApproval("release", "Approve", "Release")
	e, err := c.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("release"), PipelineExecutionId: aws.String(first)})
	if err != nil || len(e.PipelineExecution.ArtifactRevisions) != 1 {
		t.Fatalf("first execution %+v, %v", e, err)
	}
	v1 := aws.ToString(e.PipelineExecution.ArtifactRevisions[0].RevisionId)
	ts.putSource("v2")
	out, err := c.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("release"),
		SourceRevisions: []types.SourceRevisionOverride{{ActionName: aws.String("Fetch"), RevisionType: types.SourceRevisionTypeS3ObjectVersionId, RevisionValue: aws.String(v1)}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.PipelineExecutionId)
	for range 3000 {
		e, err = c.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("release"), PipelineExecutionId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if len(e.PipelineExecution.ArtifactRevisions) > 0 {
			break
		}
		sleep()
	}
	if revs := e.PipelineExecution.ArtifactRevisions; len(revs) != 1 || aws.ToString(revs[0].RevisionId) != v1 {
		t.Errorf("the execution started on version %s fetched %+v", v1, revs)
	}
}
