package server_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/sluice-ci/sluice/internal/api"
	"github.com/sluice-ci/sluice/internal/runtime"
)

// TestParallelApprovals runs executions of a PARALLEL pipeline that each
// wait for their approval. GetPipelineState shows one of them; each
// execution's approval token is in ListActionExecutions filtered by that
// execution, for a caller who may approve it and for no other, and each
// approval is decided with it.
func TestParallelApprovals(t *testing.T) {
	dir := t.TempDir()
	writeKeys(t, dir, api.Key{Name: "viewer", AccessKeyID: "AKIAVIEWER0000000000", SecretAccessKey: "viewer-secret",
		Pipelines: []string{"parallel"}, Actions: []string{"codepipeline:Get*", "codepipeline:List*"}})
	ts := startServer(t, dir)
	ts.putSource("v1")
	ctx := context.Background()
	d := declaration(t, "release.json", "parallel")
	d.ExecutionMode = types.ExecutionModeParallel
	if _, err := ts.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: d}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := ts.client.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("parallel")}); err != nil {
			t.Fatal(err)
		}
	}
	execs := ts.waitExecutions("parallel", 3)
	viewer := ts.clientFor("AKIAVIEWER0000000000", "viewer-secret")
	tokenOf := func(c *codepipeline.Client, id string) string {
		out, err := c.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String("parallel"),
			Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String(id)}})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.ActionExecutionDetails {
			if aws.ToString(a.ActionName) == "Release" && a.Status == types.ActionExecutionStatusInProgress && a.Output.ExecutionResult != nil {
				return aws.ToString(a.Output.ExecutionResult.ExternalExecutionId)
			}
		}
		return ""
	}
	tokens := map[string]string{}
	for _, e := range execs {
		id := aws.ToString(e.PipelineExecutionId)
		for range 3000 {
			if tokens[id] = tokenOf(ts.client, id); tokens[id] != "" {
				break
			}
			sleep()
		}
		if tokens[id] == "" {
			t.Fatalf("execution %s shows no approval token", id)
		}
		if got := tokenOf(viewer, id); got != "" {
			t.Errorf("a caller who may not approve sees the token of %s", id)
		}
	}
	state, err := ts.client.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String("parallel")})
	if err != nil {
		t.Fatal(err)
	}
	shown := 0
	for _, tok := range tokens {
		if le := state.StageStates[1].ActionStates[0].LatestExecution; le != nil && aws.ToString(le.Token) == tok {
			shown++
		}
	}
	if shown != 1 {
		t.Errorf("GetPipelineState shows %d of the %d waiting approvals, want 1", shown, len(tokens))
	}
	for id, tok := range tokens {
		if _, err := ts.client.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{PipelineName: aws.String("parallel"),
			StageName: aws.String("Approve"), ActionName: aws.String("Release"), Token: aws.String(tok),
			Result: &types.ApprovalResult{Status: types.ApprovalStatusApproved, Summary: aws.String("ok")}}); err != nil {
			t.Fatalf("approve %s: %v", id, err)
		}
	}
	for id := range tokens {
		ts.waitExecution("parallel", id, types.PipelineExecutionStatusSucceeded)
	}
}

// TestEngineEndsAnExecution stops, in the engine itself, a QUEUED
// execution that holds the approval stage, as the engine's history limit
// would end it: the server settles it (Stopped, the stage released) and
// the execution queued behind it goes on to its own approval.
func TestEngineEndsAnExecution(t *testing.T) {
	ts := startServer(t, "")
	ts.putSource("v1")
	ctx := context.Background()
	if _, err := ts.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(t, "release.json", "release")}); err != nil {
		t.Fatal(err)
	}
	first := aws.ToString(ts.waitExecutions("release", 1)[0].PipelineExecutionId)
	ts.waitApproval("release", "Approve", "Release")
	out, err := ts.client.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("release")})
	if err != nil {
		t.Fatal(err)
	}
	second := aws.ToString(out.PipelineExecutionId)
	ts.waitState("release", func(s *codepipeline.GetPipelineStateOutput) bool {
		in := s.StageStates[1].InboundExecution
		return in != nil && aws.ToString(in.PipelineExecutionId) == second
	})
	eng := ts.srv.Local.Engine
	name, cause := "States.Runtime", "The execution reached the maximum number of history events (25000)."
	if _, err := eng.StopExecution(ctx, runtime.Embedded{Engine: eng}.ExecutionArn("release", first), &name, &cause); err != nil {
		t.Fatal(err)
	}
	ts.waitExecution("release", first, types.PipelineExecutionStatusStopped)
	ts.waitState("release", func(s *codepipeline.GetPipelineStateOutput) bool {
		st := s.StageStates[1]
		le := st.ActionStates[0].LatestExecution
		return le != nil && le.Status == types.ActionExecutionStatusInProgress && aws.ToString(le.Token) != "" &&
			st.LatestExecution != nil && aws.ToString(st.LatestExecution.PipelineExecutionId) == second
	})
}
