package server_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/sluice-ci/sluice/internal/api"
)

// refusal is an API call and the exception it must be refused with: as is
// a pointer to a pointer of the SDK's exception type, for errors.As.
type refusal struct {
	name string
	call func() error
	as   any
}

func checkRefusals(t *testing.T, refusals []refusal) {
	t.Helper()
	for _, rf := range refusals {
		if err := rf.call(); !errors.As(err, rf.as) {
			t.Errorf("%s: got %v, want %T", rf.name, err, rf.as)
		}
	}
}

// waitParked waits until an execution waits for the entry conditions of a
// stage, and returns the stage's state.
func (ts *testServer) waitParked(pipelineName, stage, id string) types.StageState {
	ts.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); sleep() {
		st := ts.stageState(pipelineName, stage)
		c := st.BeforeEntryConditionState
		if st.LatestExecution != nil && aws.ToString(st.LatestExecution.PipelineExecutionId) == id &&
			c != nil && c.LatestExecution != nil && c.LatestExecution.Status == types.ConditionExecutionStatusInProgress {
			return st
		}
	}
	ts.t.Fatalf("execution %s does not wait to enter %s of %s", id, stage, pipelineName)
	return types.StageState{}
}

// stageState returns one stage's state.
func (ts *testServer) stageState(pipelineName, stage string) types.StageState {
	ts.t.Helper()
	out, err := ts.client.GetPipelineState(context.Background(), &codepipeline.GetPipelineStateInput{Name: aws.String(pipelineName)})
	if err != nil {
		ts.t.Fatal(err)
	}
	for _, st := range out.StageStates {
		if aws.ToString(st.StageName) == stage {
			return st
		}
	}
	ts.t.Fatalf("pipeline %s has no stage %s", pipelineName, stage)
	return types.StageState{}
}

// TestOverrideAndRollback drives the guarded pipeline (Source → Deploy,
// whose success condition checks a variable → Verify, an approval behind
// a deployment window that opens in 2199) through the API: each execution
// waits at Verify until its entry condition is overridden; the first is
// approved, the second rejected; Deploy is then rolled back to the first,
// and the rollback execution publishes the first's artifact again. The
// refusals of both operations are checked on the way, with their typed
// exceptions.
func TestOverrideAndRollback(t *testing.T) {
	dir := t.TempDir()
	writeKeys(t, dir, api.Key{Name: "deployer", AccessKeyID: "AKIADEPLOYER00000000", SecretAccessKey: "deployer-secret", Pipelines: []string{"other"}})
	ts := startServer(t, dir)
	c := ts.client
	ctx := context.Background()
	const name = "guarded"
	ts.putSource("v1")
	if _, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(t, "guarded.json", name)}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(name)})
	if err != nil || len(list.PipelineExecutionSummaries) != 1 {
		t.Fatalf("executions after create: %+v, %v", list, err)
	}
	first := aws.ToString(list.PipelineExecutionSummaries[0].PipelineExecutionId)

	verify := ts.waitParked(name, "Verify", first)
	rule := verify.BeforeEntryConditionState.ConditionStates[0].RuleStates[0]
	if aws.ToString(rule.RuleName) != "Someday" || rule.LatestExecution.Status != types.RuleExecutionStatusInProgress {
		t.Errorf("Verify's entry rule while parked: %+v", rule.LatestExecution)
	}
	if st := verify.LatestExecution.Status; st != types.StageExecutionStatusInProgress {
		t.Errorf("Verify while parked: %s", st)
	}
	deploy := ts.stageState(name, "Deploy").OnSuccessConditionState
	if deploy == nil || deploy.LatestExecution.Status != types.ConditionExecutionStatusSucceeded {
		t.Errorf("Deploy's success conditions: %+v", deploy)
	}

	override := func(c *codepipeline.Client, stage, id string, kind types.ConditionType) func() error {
		return func() error {
			_, err := c.OverrideStageCondition(ctx, &codepipeline.OverrideStageConditionInput{
				PipelineName: aws.String(name), StageName: aws.String(stage), PipelineExecutionId: aws.String(id), ConditionType: kind,
			})
			return err
		}
	}
	overrideIn := func(pipelineName string) func() error {
		return func() error {
			_, err := c.OverrideStageCondition(ctx, &codepipeline.OverrideStageConditionInput{PipelineName: aws.String(pipelineName),
				StageName: aws.String("Verify"), PipelineExecutionId: aws.String(first), ConditionType: types.ConditionTypeBeforeEntry})
			return err
		}
	}
	deployer := ts.clientFor("AKIADEPLOYER00000000", "deployer-secret")
	const unknown = "00000000-0000-4000-8000-000000000000"
	checkRefusals(t, []refusal{
		{"a success condition, decided as the stage ended", override(c, "Verify", first, types.ConditionTypeOnSuccess), new(*types.ConditionNotOverridableException)},
		{"the entry conditions of a stage the execution is in", override(c, "Deploy", first, types.ConditionTypeBeforeEntry), new(*types.ConditionNotOverridableException)},
		{"an execution that is not the stage's latest", override(c, "Verify", unknown, types.ConditionTypeBeforeEntry), new(*types.NotLatestPipelineExecutionException)},
		{"a stage the pipeline does not have", override(c, "Nowhere", first, types.ConditionTypeBeforeEntry), new(*types.StageNotFoundException)},
		{"a condition type outside the model's enum", override(c, "Verify", first, "ON_FAILURE"), new(*types.ValidationException)},
		{"an execution id outside the model's pattern", override(c, "Verify", "first", types.ConditionTypeBeforeEntry), new(*types.ValidationException)},
		{"a pipeline that does not exist", overrideIn("nope"), new(*types.PipelineNotFoundException)},
	})
	wantCode(t, "a key for another pipeline overrides", override(deployer, "Verify", first, types.ConditionTypeBeforeEntry)(), "AccessDeniedException")

	if err := override(c, "Verify", first, types.ConditionTypeBeforeEntry)(); err != nil {
		t.Fatalf("override: %v", err)
	}
	decide := func(status types.ApprovalStatus) {
		t.Helper()
		token := ts.waitApproval(name, "Verify", "Check")
		if _, err := c.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{
			PipelineName: aws.String(name), StageName: aws.String("Verify"), ActionName: aws.String("Check"),
			Token: aws.String(token), Result: &types.ApprovalResult{Status: status, Summary: aws.String(string(status))},
		}); err != nil {
			t.Fatal(err)
		}
	}
	decide(types.ApprovalStatusApproved)
	ts.waitExecution(name, first, types.PipelineExecutionStatusSucceeded)
	verify = ts.stageState(name, "Verify")
	if c := verify.BeforeEntryConditionState; c == nil || c.LatestExecution.Status != types.ConditionExecutionStatusOverridden ||
		c.ConditionStates[0].RuleStates[0].LatestExecution.Status != types.RuleExecutionStatusAbandoned {
		t.Errorf("Verify's entry conditions after the override: %+v", c)
	}
	wantCode(t, "overriding again", override(c, "Verify", first, types.ConditionTypeBeforeEntry)(), "ConditionNotOverridableException")

	rules, err := c.ListRuleExecutions(ctx, &codepipeline.ListRuleExecutionsInput{PipelineName: aws.String(name),
		Filter: &types.RuleExecutionFilter{PipelineExecutionId: aws.String(first)}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]types.RuleExecutionDetail{}
	for _, r := range rules.RuleExecutionDetails {
		got[aws.ToString(r.StageName)+"/"+aws.ToString(r.RuleName)] = r
	}
	if r := got["Deploy/NotProduction"]; r.Status != types.RuleExecutionStatusSucceeded || r.Input.ResolvedConfiguration["Variable"] != "staging" {
		t.Errorf("Deploy's rule run: %s, input %+v", r.Status, r.Input)
	}
	if r := got["Verify/Someday"]; r.Status != types.RuleExecutionStatusAbandoned || aws.ToString(r.UpdatedBy) != "arn:aws:iam::123456789012:user/sluice" {
		t.Errorf("Verify's rule run: %s, updated by %s", r.Status, aws.ToString(r.UpdatedBy))
	}
	wantCode(t, "the rule runs of an unknown execution", func() error {
		_, err := c.ListRuleExecutions(ctx, &codepipeline.ListRuleExecutionsInput{PipelineName: aws.String(name),
			Filter: &types.RuleExecutionFilter{PipelineExecutionId: aws.String(unknown)}})
		return err
	}(), "PipelineExecutionNotFoundException")

	// The second execution passes Deploy with v2 and is rejected at Verify.
	ts.putSource("v2")
	started, err := c.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	second := aws.ToString(started.PipelineExecutionId)
	ts.waitParked(name, "Verify", second)
	if err := override(c, "Verify", second, types.ConditionTypeBeforeEntry)(); err != nil {
		t.Fatalf("override: %v", err)
	}
	decide(types.ApprovalStatusRejected)
	ts.waitExecution(name, second, types.PipelineExecutionStatusFailed)
	if got := ts.siteObject(); got != "v2" {
		t.Fatalf("the second execution published %q", got)
	}

	rollback := func(c *codepipeline.Client, pipelineName, stage, target string) func() error {
		return func() error {
			_, err := c.RollbackStage(ctx, &codepipeline.RollbackStageInput{
				PipelineName: aws.String(pipelineName), StageName: aws.String(stage), TargetPipelineExecutionId: aws.String(target),
			})
			return err
		}
	}
	checkRefusals(t, []refusal{
		{"the source stage", rollback(c, name, "Source", first), new(*types.UnableToRollbackStageException)},
		{"to the run the stage holds", rollback(c, name, "Deploy", second), new(*types.UnableToRollbackStageException)},
		{"to an execution that failed in the stage", rollback(c, name, "Verify", second), new(*types.UnableToRollbackStageException)},
		{"to an execution that does not exist", rollback(c, name, "Deploy", unknown), new(*types.PipelineExecutionNotFoundException)},
		{"a stage the pipeline does not have", rollback(c, name, "Nowhere", first), new(*types.StageNotFoundException)},
		{"a pipeline that does not exist", rollback(c, "nope", "Deploy", first), new(*types.PipelineNotFoundException)},
		{"a target outside the model's pattern", rollback(c, name, "Deploy", "first"), new(*types.ValidationException)},
	})
	wantCode(t, "a key for another pipeline rolls back", rollback(deployer, name, "Deploy", first)(), "AccessDeniedException")

	out, err := c.RollbackStage(ctx, &codepipeline.RollbackStageInput{
		PipelineName: aws.String(name), StageName: aws.String("Deploy"), TargetPipelineExecutionId: aws.String(first),
	})
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	third := aws.ToString(out.PipelineExecutionId)
	e := ts.waitExecution(name, third, types.PipelineExecutionStatusSucceeded)
	if e.ExecutionType != types.ExecutionTypeRollback || e.RollbackMetadata == nil || aws.ToString(e.RollbackMetadata.RollbackTargetPipelineExecutionId) != first ||
		e.Trigger == nil || e.Trigger.TriggerType != types.TriggerTypeManualRollback {
		t.Errorf("the rollback execution: type %s, metadata %+v, trigger %+v", e.ExecutionType, e.RollbackMetadata, e.Trigger)
	}
	if got := ts.siteObject(); got != "v1" {
		t.Errorf("after the rollback the site holds %q, want the first execution's v1", got)
	}
	if le := ts.stageState(name, "Deploy").LatestExecution; le == nil || aws.ToString(le.PipelineExecutionId) != third || le.Type != types.ExecutionTypeRollback {
		t.Errorf("Deploy's latest execution: %+v", le)
	}
	list, err = c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(name), MaxResults: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if s := list.PipelineExecutionSummaries[0]; s.ExecutionType != types.ExecutionTypeRollback || aws.ToString(s.RollbackMetadata.RollbackTargetPipelineExecutionId) != first {
		t.Errorf("the rollback in the list: %+v", s)
	}

	checkRefusals(t, []refusal{
		{"to a rollback execution", rollback(c, name, "Deploy", third), new(*types.UnableToRollbackStageException)},
	})
	// An update makes the earlier executions outdated targets.
	if _, err := c.UpdatePipeline(ctx, &codepipeline.UpdatePipelineInput{Pipeline: declaration(t, "guarded.json", name)}); err != nil {
		t.Fatal(err)
	}
	checkRefusals(t, []refusal{
		{"to an execution of an earlier version", rollback(c, name, "Deploy", first), new(*types.PipelineExecutionOutdatedException)},
	})
}

// siteObject reads what the pipelines' S3 deploy action published.
func (ts *testServer) siteObject() string {
	ts.t.Helper()
	raw, err := os.ReadFile(filepath.Join(ts.dataDir, "s3", "site", "app.zip"))
	if err != nil {
		ts.t.Fatal(err)
	}
	return string(raw)
}
