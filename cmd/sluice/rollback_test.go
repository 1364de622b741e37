package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

// parkedAt says whether an execution waits for the entry conditions of the
// guarded pipeline's Verify stage.
func parkedAt(id string) func(*codepipeline.GetPipelineStateOutput) bool {
	return func(st *codepipeline.GetPipelineStateOutput) bool {
		s := st.StageStates[2]
		c := s.BeforeEntryConditionState
		return s.LatestExecution != nil && str(s.LatestExecution.PipelineExecutionId) == id &&
			c != nil && c.LatestExecution != nil && c.LatestExecution.Status == types.ConditionExecutionStatusInProgress
	}
}

// TestRollbackAndOverrideCommands drives the guarded pipeline (Source →
// Deploy, with a success condition → Verify, an approval behind a
// deployment window that opens in 2199) through sluice override and sluice
// rollback: each execution waits at Verify until it is overridden; the
// first is approved, the second rejected, and Deploy is rolled back to the
// first, by default and with --target, then to the second, and by default
// to the first again.
func TestRollbackAndOverrideCommands(t *testing.T) {
	api := startAPI(t)
	norm := normaliser{endpoint: api.endpoint, dataDir: api.dataDir}
	ids := map[string]string{}
	ctx := context.Background()
	decide := func(id string, status types.ApprovalStatus) func() {
		return func() {
			api.waitState("the approval of "+id, "guarded", func(st *codepipeline.GetPipelineStateOutput) bool {
				e := st.StageStates[2].ActionStates[0].LatestExecution
				return e != nil && e.Status == types.ActionExecutionStatusInProgress && str(e.Token) != "" &&
					str(st.StageStates[2].LatestExecution.PipelineExecutionId) == id
			})
			st, err := api.sdk.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String("guarded")})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := api.sdk.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{
				PipelineName: aws.String("guarded"), StageName: aws.String("Verify"), ActionName: aws.String("Check"),
				Token:  st.StageStates[2].ActionStates[0].LatestExecution.Token,
				Result: &types.ApprovalResult{Status: status, Summary: aws.String(string(status))},
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps := []remoteStep{
		{name: "create", before: func() { api.putSource("v1") },
			args: []string{"pipelines", "create", filepath.Join("testdata", "remote", "guarded.json"), "-o", "json"}, want: []string{`"name": "guarded"`}},
		{name: "state while the first execution waits for the window", before: func() {
			ids["first"] = api.latest("guarded")
			api.waitState("the first execution at Verify", "guarded", parkedAt(ids["first"]))
		}, args: []string{"state", "guarded"}, golden: "state-parked.txt"},
		{name: "state while it waits, json", args: []string{"state", "guarded", "-o", "json"}, golden: "state-parked.json"},
		{name: "override a success condition", args: []string{"override", "guarded", "Verify", "{first}", "--condition", "ON_SUCCESS"}, code: 1,
			stderr: "ConditionNotOverridableException"},
		{name: "override a stage the pipeline does not have", args: []string{"override", "guarded", "Nope", "{first}"}, code: 1,
			stderr: "pipeline 'guarded' has no stage 'Nope'"},
		{name: "override an unknown condition type", args: []string{"override", "guarded", "Verify", "{first}", "--condition", "ON_FAILURE"}, code: 2,
			stderr: `--condition is BEFORE_ENTRY or ON_SUCCESS, not "ON_FAILURE"`},
		{name: "override", args: []string{"override", "guarded", "Verify", "{first}"}, golden: "override.txt"},
		{name: "override again", args: []string{"override", "guarded", "Verify", "{first}", "-o", "json"}, code: 1,
			stderr: "ConditionNotOverridableException"},
		{name: "state once overridden and approved", before: func() {
			decide(ids["first"], types.ApprovalStatusApproved)()
			api.waitStatus("guarded", ids["first"], types.PipelineExecutionStatusSucceeded)
		}, args: []string{"state", "guarded"}, golden: "state-overridden.txt"},
		{name: "roll back with nothing to roll back to", args: []string{"rollback", "guarded", "Deploy"}, code: 1,
			stderr: "nothing to roll back to: no execution of the current version of pipeline 'guarded' succeeded in stage 'Deploy' before its latest run"},
		{name: "start a second execution", before: func() { api.putSource("v2") }, args: []string{"start", "guarded"}, want: []string{"Started execution"}},
		{name: "override it, json", before: func() {
			ids["second"] = api.latest("guarded")
			api.waitState("the second execution at Verify", "guarded", parkedAt(ids["second"]))
		}, args: []string{"override", "guarded", "Verify", "{second}", "--condition", "before_entry", "-o", "json"}, want: []string{"{}\n"}},
		{name: "roll back the source stage", before: func() {
			decide(ids["second"], types.ApprovalStatusRejected)()
			api.waitStatus("guarded", ids["second"], types.PipelineExecutionStatusFailed)
		}, args: []string{"rollback", "guarded", "Source", "--target", "{first}"}, code: 1, stderr: "UnableToRollbackStageException"},
		{name: "roll back to an execution that does not exist", args: []string{"rollback", "guarded", "Deploy", "--target", "00000000-0000-4000-8000-000000000000"},
			code: 1, stderr: "execution '00000000-0000-4000-8000-000000000000' of pipeline 'guarded' not found"},
		{name: "roll back, by default to the first", args: []string{"rollback", "guarded", "Deploy"}, golden: "rollback.txt"},
		{name: "the rollback execution", before: func() {
			ids["rollback"] = api.latest("guarded")
			api.waitStatus("guarded", ids["rollback"], types.PipelineExecutionStatusSucceeded)
		}, args: []string{"executions", "get", "guarded", "{rollback}"}, golden: "executions-get-rollback.txt"},
		{name: "the rollback execution, json", args: []string{"executions", "get", "guarded", "{rollback}", "-o", "json"},
			want: []string{`"executionType": "ROLLBACK"`, `"rollbackTargetPipelineExecutionId": "{first}"`, `"triggerType": "ManualRollback"`}},
		{name: "state after the rollback", args: []string{"state", "guarded"}, want: []string{"Deploy  Succeeded · execution {rollback} (rollback)"}},
		{name: "roll back to a rollback", args: []string{"rollback", "guarded", "Deploy", "--target", "{rollback}"}, code: 1,
			stderr: "UnableToRollbackStageException"},
		{name: "roll back to the second, json", args: []string{"rollback", "guarded", "Deploy", "--target", "{second}", "-o", "json"},
			want: []string{`"pipelineExecutionId": "`}},
		{name: "executions", before: func() {
			api.waitFor("the second rollback", func() (bool, error) {
				out, err := api.sdk.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("guarded"), MaxResults: aws.Int32(1)})
				return err == nil && out.PipelineExecutionSummaries[0].Status == types.PipelineExecutionStatusSucceeded &&
					str(out.PipelineExecutionSummaries[0].PipelineExecutionId) != ids["rollback"], err
			})
		}, args: []string{"executions", "list", "guarded"}, golden: "executions-list-rollback.txt"},
		// Deploy holds the second's run now, through a rollback: by default
		// it rolls back to the run before, the first's.
		{name: "roll back by default after a rollback", args: []string{"rollback", "guarded", "Deploy"},
			want: []string{"Rolling back stage Deploy of guarded to execution {first}: rollback execution "}},

		// Errors.
		{name: "roll back in no pipeline", args: []string{"rollback", "nope", "Deploy"}, code: 1, stderr: "sluice: pipeline 'nope' not found\n"},
		{name: "roll back a stage the pipeline does not have", args: []string{"rollback", "guarded", "Nope"}, code: 1,
			stderr: "pipeline 'guarded' has no stage 'Nope'"},
		{name: "override in no pipeline", args: []string{"override", "nope", "Verify", "{first}"}, code: 1, stderr: "sluice: pipeline 'nope' not found\n"},
		{name: "override without an execution", args: []string{"override", "guarded", "Verify"}, code: 2,
			stderr: "want 3 argument(s), PIPELINE STAGE EXECUTION_ID; got 2"},
	}
	runSteps(t, api, norm, ids, steps)
}
