package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

// TestApproveParallelExecutions decides, through a server, the approvals
// of PARALLEL executions that GetPipelineState does not show: it shows
// each stage's latest execution only.
func TestApproveParallelExecutions(t *testing.T) {
	api := startAPI(t)
	api.putSource("app v1")
	ctx := context.Background()
	if _, _, code := runCLI(t, "", nil, "pipelines", "create", "testdata/remote/parallel.yaml", "--endpoint", api.endpoint, "--data-dir", api.dataDir); code != 0 {
		t.Fatalf("create: exit %d", code)
	}
	first := api.latest("parallel")
	out, err := api.sdk.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("parallel")})
	if err != nil {
		t.Fatal(err)
	}
	second := str(out.PipelineExecutionId)
	waiting := func(id string) func() (bool, error) {
		return func() (bool, error) {
			acts, err := api.sdk.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{
				PipelineName: aws.String("parallel"),
				Filter:       &types.ActionExecutionFilter{PipelineExecutionId: aws.String(id)},
			})
			if err != nil {
				return false, err
			}
			for _, d := range acts.ActionExecutionDetails {
				if str(d.ActionName) == "Release" && d.Status == types.ActionExecutionStatusInProgress {
					return true, nil
				}
			}
			return false, nil
		}
	}
	api.waitFor("the first approval", waiting(first))
	api.waitFor("the second approval", waiting(second))

	tests := []struct {
		name      string
		decision  string
		execution string
		want      types.PipelineExecutionStatus
	}{
		{"the older execution, which GetPipelineState does not show", "approve", first, types.PipelineExecutionStatusSucceeded},
		{"the newer execution", "reject", second, types.PipelineExecutionStatusFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, "", nil, tc.decision, "parallel", "--endpoint", api.endpoint,
				"--data-dir", api.dataDir, "--execution-id", tc.execution, "--summary", "checked")
			if code != 0 {
				t.Fatalf("%s: exit %d\n%s%s", tc.decision, code, stdout, stderr)
			}
			if !strings.Contains(stdout+stderr, "Release") {
				t.Errorf("%s does not name the action it decided:\n%s%s", tc.decision, stdout, stderr)
			}
			api.waitStatus("parallel", tc.execution, tc.want)
		})
	}
}
