package apishape

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/golden"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/store/sqlite"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

// at is t0 plus minutes.
func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

// seed writes the records of four executions of the release pipeline (a
// QUEUED pipeline): e1 failed in Build; e2 holds Approve, its approval
// waiting, entered once its entry condition was overridden; e3 passed
// Build on a retry of all actions, its success condition held, and waits
// to enter Approve; e4, a rollback of Build to e2, failed before it ran
// anything. Build's inbound transition is disabled since.
func seed(t *testing.T) *View {
	t.Helper()
	ctx := context.Background()
	st := releaseStore(t)
	var writes []store.Write
	write := func(w store.Write, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		writes = append(writes, w)
	}
	newExecution := func(id string, start int, status, summary, rev string) {
		t.Helper()
		e := store.PipelineExecution{
			PipelineName: "release", PipelineVersion: 1, PipelineExecutionID: id, Status: status, StatusSummary: summary,
			ArtifactRevisions: []store.ArtifactRevision{{Name: "SourceOutput", RevisionID: rev, RevisionSummary: "Commit " + rev, Created: at(start - 5)}},
			Variables:         []store.ResolvedPipelineVariable{{Name: "Environment", ResolvedValue: "staging"}},
			Trigger:           store.ExecutionTrigger{TriggerType: "StartPipelineExecution", TriggerDetail: "alice"},
			ExecutionMode:     "QUEUED", ExecutionType: "STANDARD", StartTime: at(start), LastUpdateTime: at(start + 20),
		}
		if err := st.CreatePipelineExecution(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	stage := func(id, name, status string, attempt, start int, runs ...store.ConditionRun) {
		write(store.StageExecutionWrite(store.Versioned[store.StageExecution]{Value: store.StageExecution{
			PipelineName: "release", PipelineExecutionID: id, StageName: name, Status: status, Type: "STANDARD",
			Attempt: attempt, RetryMode: map[bool]string{true: execution.RetryAllActions}[attempt > 1],
			StartTime: at(start), LastUpdateTime: at(start + 2), Conditions: runs,
		}}))
	}
	rule := func(name, provider, status, summary string, start int, config map[string]string) store.RuleRun {
		return store.RuleRun{RuleName: name, RuleExecutionID: "rule-" + strings.ToLower(name),
			RuleTypeID:    store.ActionTypeID{Category: "Rule", Owner: "AWS", Provider: provider, Version: "1"},
			Configuration: config, ResolvedConfiguration: config, Status: status, Summary: summary,
			StartTime: at(start), LastUpdateTime: at(start)}
	}
	n := 0
	act := func(id, stg, name, category, provider, status string, attempt, start int, change func(*store.ActionExecution)) {
		n++
		a := store.ActionExecution{
			PipelineName: "release", PipelineExecutionID: id, ActionExecutionID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
			PipelineVersion: 1, StageName: stg, ActionName: name, Attempt: attempt,
			StartTime: at(start), LastUpdateTime: at(start + 1), Status: status,
			Input: store.ActionExecutionInput{
				ActionTypeID:  store.ActionTypeID{Category: category, Owner: "AWS", Provider: provider, Version: "1"},
				Configuration: map[string]string{"ProjectName": strings.ToLower(name)}, ResolvedConfiguration: map[string]string{"ProjectName": strings.ToLower(name)},
				Region: "us-east-1",
			},
		}
		if change != nil {
			change(&a)
		}
		write(store.ActionExecutionWrite(store.Versioned[store.ActionExecution]{Value: a}))
	}
	source := func(id string, start int, rev string) {
		act(id, "Source", "Checkout", "Source", "CodeCommit", store.ActionSucceeded, 1, start, func(a *store.ActionExecution) {
			a.Input.Configuration = map[string]string{"RepositoryName": "app", "BranchName": "main"}
			a.Input.ResolvedConfiguration = a.Input.Configuration
			a.Input.Namespace = "SourceVariables"
			a.Input.Region = "" // the pipeline's: View.Region
			a.Output.OutputArtifacts = []store.ArtifactDetail{{Name: "SourceOutput", S3Location: store.S3Location{Key: "release/" + id + "/SourceOutput"}}}
			a.Output.OutputVariables = map[string]string{"CommitId": rev, "BranchName": "main"}
			a.Output.ExecutionResult.ExternalExecutionID = rev
			a.Output.ExecutionResult.ExternalExecutionSummary = "Commit " + rev
			a.Revision = &store.ActionRevision{RevisionID: rev, RevisionChangeID: rev[:2], RevisionSummary: "Commit " + rev, RevisionURL: "https://example.com/app/" + rev, Created: at(start - 5)}
		})
	}
	failed := func(a *store.ActionExecution) {
		a.Output.ExecutionResult = store.ActionExecutionResult{ExternalExecutionID: "lint:1",
			ErrorDetails: &store.ErrorDetails{Code: "JobFailed", Message: "lint: 2 problems\nmain.go:3: unused"}}
	}
	compiled := func(id string) func(*store.ActionExecution) {
		return func(a *store.ActionExecution) {
			a.Input.InputArtifacts = []store.ArtifactDetail{{Name: "SourceOutput", S3Location: store.S3Location{Key: "release/" + id + "/SourceOutput"}}}
			a.Output.OutputArtifacts = []store.ArtifactDetail{{Name: "BuildOutput", S3Location: store.S3Location{Key: "release/" + id + "/BuildOutput"}}}
		}
	}

	newExecution("e1", 0, store.ExecutionFailed, "Stage Build failed", "c1")
	source("e1", 1, "c1")
	stage("e1", "Source", store.StageSucceeded, 1, 1)
	stage("e1", "Build", store.StageFailed, 1, 3)
	act("e1", "Build", "Compile", "Build", "CodeBuild", store.ActionSucceeded, 1, 3, compiled("e1"))
	act("e1", "Build", "Lint", "Test", "CodeBuild", store.ActionFailed, 1, 3, failed)

	newExecution("e2", 60, store.ExecutionInProgress, "", "c2")
	source("e2", 61, "c2")
	stage("e2", "Source", store.StageSucceeded, 1, 61)
	stage("e2", "Build", store.StageSucceeded, 1, 63)
	act("e2", "Build", "Compile", "Build", "CodeBuild", store.ActionSucceeded, 1, 63, compiled("e2"))
	act("e2", "Build", "Lint", "Test", "CodeBuild", store.ActionSucceeded, 1, 63, nil)
	// e2 waited for a deployment window before Approve, until bob
	// overrode it.
	window := rule("Weekdays", "DeploymentWindow", "Abandoned", "The deployment window is closed.", 64, map[string]string{"Cron": "* * 9-17 ? * MON-FRI"})
	window.UpdatedBy, window.LastUpdateTime = "bob", at(66)
	stage("e2", "Approve", store.StageInProgress, 1, 66, store.ConditionRun{Kind: "BEFORE_ENTRY", Status: "Overridden",
		Summary: "Overridden by bob.", LastStatusChange: at(66), Rules: []store.RuleRun{window}})
	act("e2", "Approve", "Release", "Approval", "Manual", store.ActionInProgress, 1, 66, func(a *store.ActionExecution) {
		a.Input.Configuration = map[string]string{"CustomData": "Ship to #{variables.Environment}?"}
		a.Input.ResolvedConfiguration = map[string]string{"CustomData": "Ship to staging?"}
		a.Token = "approval-token-e2"
	})

	newExecution("e3", 120, store.ExecutionInProgress, "", "c3")
	source("e3", 121, "c3")
	stage("e3", "Source", store.StageSucceeded, 1, 121)
	stage("e3", "Build", store.StageSucceeded, 2, 130, store.ConditionRun{Kind: "ON_SUCCESS", Status: "Succeeded",
		Summary: "Every rule succeeded.", LastStatusChange: at(132), Rules: []store.RuleRun{
			rule("Staging", "VariableCheck", "Succeeded", `"staging" EQ "staging" holds`, 132,
				map[string]string{"Variable": "#{variables.Environment}", "Operator": "EQ", "Value": "staging"})}})
	act("e3", "Build", "Compile", "Build", "CodeBuild", store.ActionSucceeded, 1, 123, compiled("e3"))
	act("e3", "Build", "Lint", "Test", "CodeBuild", store.ActionFailed, 1, 123, failed)
	act("e3", "Build", "Compile", "Build", "CodeBuild", store.ActionSucceeded, 2, 130, compiled("e3"))
	act("e3", "Build", "Lint", "Test", "CodeBuild", store.ActionSucceeded, 2, 130, func(a *store.ActionExecution) { a.UpdatedBy = "bob" })

	// e4 rolled Build back to e2, and failed there.
	if err := st.CreatePipelineExecution(ctx, store.PipelineExecution{
		PipelineName: "release", PipelineVersion: 1, PipelineExecutionID: "e4", Status: store.ExecutionFailed,
		Trigger:       store.ExecutionTrigger{TriggerType: store.TriggerManualRollback, TriggerDetail: "ops"},
		ExecutionMode: "QUEUED", ExecutionType: store.TypeRollback, StartTime: at(150), LastUpdateTime: at(160),
		Rollback: &store.RollbackMetadata{RollbackTargetPipelineExecutionID: "e2", StageName: "Build"},
	}); err != nil {
		t.Fatal(err)
	}

	control := func(c store.StageControl) {
		c.PipelineName = "release"
		write(store.StageControlWrite(store.Versioned[store.StageControl]{Value: c}))
	}
	control(store.StageControl{StageName: "Source", LatestExecutionID: "e3"})
	control(store.StageControl{StageName: "Build", LatestExecutionID: "e3",
		Inbound: store.Transition{Disabled: true, DisabledReason: "release freeze", LastChangedBy: "ops", LastChangedAt: at(140)}})
	control(store.StageControl{StageName: "Approve", LatestExecutionID: "e2", Holder: "e2", HolderSince: at(66),
		Waiters: []store.Waiter{{PipelineExecutionID: "e3", TaskToken: "secret-task-token", ExecutionStart: at(120), Since: at(132)}}})
	if err := st.Transact(ctx, writes...); err != nil {
		t.Fatal(err)
	}
	return &View{Store: st, Region: "eu-west-1", EntityURL: func(a *pipeline.Action) string {
		if p := a.Configuration["ProjectName"]; p != "" {
			return "https://example.com/projects/" + p
		}
		return ""
	}}
}

// releaseStore returns a store that holds the release pipeline
// (testdata/release.json).
func releaseStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	b, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sluice.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	st := store.New(b)
	raw, err := os.ReadFile("testdata/release.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutPipeline(ctx, store.Pipeline{Name: "release", Version: 1, Declaration: raw, Created: at(-60)}); err != nil {
		t.Fatal(err)
	}
	return st
}

func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden.Check(t, filepath.Join("testdata/golden", name+".json"), got)
}

// TestReads answers the four reads from the seeded store and compares the
// answers with golden files.
func TestReads(t *testing.T) {
	v := seed(t)
	ctx := context.Background()
	tests := []struct {
		golden string
		read   func() (any, error)
	}{
		{"get-pipeline-execution", func() (any, error) { return v.GetPipelineExecution(ctx, "release", "e1") }},
		{"get-pipeline-state", func() (any, error) { return v.GetPipelineState(ctx, "release") }},
		{"list-pipeline-executions", func() (any, error) {
			return v.ListPipelineExecutions(ctx, ListPipelineExecutionsInput{PipelineName: "release"})
		}},
		{"list-pipeline-executions-succeeded-in-build", func() (any, error) {
			return v.ListPipelineExecutions(ctx, ListPipelineExecutionsInput{PipelineName: "release",
				Filter: &PipelineExecutionFilter{SucceededInStage: &SucceededInStageFilter{StageName: "Build"}}})
		}},
		{"list-action-executions-e3", func() (any, error) {
			return v.ListActionExecutions(ctx, ListActionExecutionsInput{PipelineName: "release", Filter: &ActionExecutionFilter{PipelineExecutionID: "e3"}})
		}},
		{"get-pipeline-execution-rollback", func() (any, error) { return v.GetPipelineExecution(ctx, "release", "e4") }},
		{"list-rule-executions", func() (any, error) {
			return v.ListRuleExecutions(ctx, ListRuleExecutionsInput{PipelineName: "release"})
		}},
		{"list-rule-executions-e3", func() (any, error) {
			return v.ListRuleExecutions(ctx, ListRuleExecutionsInput{PipelineName: "release", Filter: &ActionExecutionFilter{PipelineExecutionID: "e3"}})
		}},
		{"list-action-executions-e3-latest", func() (any, error) {
			return v.ListActionExecutions(ctx, ListActionExecutionsInput{PipelineName: "release",
				Filter: &ActionExecutionFilter{LatestInPipelineExecution: &LatestInPipelineExecution{PipelineExecutionID: "e3"}}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			out, err := tt.read()
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, out)
		})
	}
}

func TestReadErrors(t *testing.T) {
	v := seed(t)
	ctx := context.Background()
	tests := []struct {
		name string
		read func() error
		want string
	}{
		{"unknown pipeline", func() error { _, err := v.GetPipelineState(ctx, "nope"); return err }, "PipelineNotFoundException"},
		{"unknown execution", func() error { _, err := v.GetPipelineExecution(ctx, "release", "e9"); return err }, "PipelineExecutionNotFoundException"},
		{"actions of an unknown execution", func() error {
			_, err := v.ListActionExecutions(ctx, ListActionExecutionsInput{PipelineName: "release", Filter: &ActionExecutionFilter{PipelineExecutionID: "e9"}})
			return err
		}, "PipelineExecutionNotFoundException"},
		{"rules of an unknown execution", func() error {
			_, err := v.ListRuleExecutions(ctx, ListRuleExecutionsInput{PipelineName: "release", Filter: &ActionExecutionFilter{PipelineExecutionID: "e9"}})
			return err
		}, "PipelineExecutionNotFoundException"},
		{"rules of an unknown pipeline", func() error {
			_, err := v.ListRuleExecutions(ctx, ListRuleExecutionsInput{PipelineName: "nope"})
			return err
		}, "PipelineNotFoundException"},
		{"two executions in one filter", func() error {
			_, err := v.ListActionExecutions(ctx, ListActionExecutionsInput{PipelineName: "release", Filter: &ActionExecutionFilter{
				PipelineExecutionID: "e1", LatestInPipelineExecution: &LatestInPipelineExecution{PipelineExecutionID: "e2"}}})
			return err
		}, "ValidationException"},
		{"page too large", func() error {
			_, err := v.ListPipelineExecutions(ctx, ListPipelineExecutionsInput{PipelineName: "release", MaxResults: 101})
			return err
		}, "ValidationException"},
		{"next token not base64", func() error {
			_, err := v.ListPipelineExecutions(ctx, ListPipelineExecutionsInput{PipelineName: "release", NextToken: "%%%"})
			return err
		}, "InvalidNextTokenException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rej *execution.Rejection
			if err := tt.read(); !errors.As(err, &rej) || rej.Code != tt.want {
				t.Errorf("error %v, want %s", err, tt.want)
			}
		})
	}
}

// TestPaging lists each listing page by page, following the next tokens.
func TestPaging(t *testing.T) {
	v := seed(t)
	ctx := context.Background()
	tests := []struct {
		name string
		// page reads one page: its keys and the next token.
		page func(token string) ([]string, string, error)
		want []string // nil: only count
		n    int
	}{
		{"executions", func(token string) ([]string, string, error) {
			out, err := v.ListPipelineExecutions(ctx, ListPipelineExecutionsInput{PipelineName: "release", MaxResults: 2, NextToken: token})
			if err != nil {
				return nil, "", err
			}
			var ids []string
			for _, s := range out.PipelineExecutionSummaries {
				ids = append(ids, s.PipelineExecutionID)
			}
			return ids, out.NextToken, nil
		}, []string{"e4", "e3", "e2", "e1"}, 4},
		{"actions", func(token string) ([]string, string, error) {
			out, err := v.ListActionExecutions(ctx, ListActionExecutionsInput{PipelineName: "release", MaxResults: 3, NextToken: token})
			if err != nil {
				return nil, "", err
			}
			var ids []string
			for _, a := range out.ActionExecutionDetails {
				ids = append(ids, a.ActionExecutionID)
			}
			return ids, out.NextToken, nil
		}, nil, 12},
		{"rules", func(token string) ([]string, string, error) {
			out, err := v.ListRuleExecutions(ctx, ListRuleExecutionsInput{PipelineName: "release", MaxResults: 1, NextToken: token})
			if err != nil {
				return nil, "", err
			}
			var ids []string
			for _, r := range out.RuleExecutionDetails {
				ids = append(ids, r.RuleExecutionID)
			}
			return ids, out.NextToken, nil
		}, []string{"rule-staging", "rule-weekdays"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var all []string
			token := ""
			for pages := 0; pages <= tt.n; pages++ {
				ids, next, err := tt.page(token)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, ids...)
				if next == "" {
					break
				}
				token = next
			}
			if len(all) != tt.n || tt.want != nil && strings.Join(all, " ") != strings.Join(tt.want, " ") {
				t.Errorf("paged as %v, want %d: %v", all, tt.n, tt.want)
			}
		})
	}
}

func TestTime(t *testing.T) {
	tests := []struct {
		t    time.Time
		json string
	}{
		{time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC), "1772600767.89"},
		{time.Unix(1700000000, 0), "1700000000"},
		{time.Unix(1700000000, 1_000_000), "1700000000.001"},
		{time.Unix(1700000000, 999_999_999), "1700000000.999"},
	}
	for _, tt := range tests {
		raw, err := json.Marshal(Time{tt.t})
		if err != nil || string(raw) != tt.json {
			t.Errorf("%v encodes as %s (%v), want %s", tt.t, raw, err, tt.json)
		}
		var back Time
		if err := json.Unmarshal(raw, &back); err != nil || !back.Equal(tt.t.Truncate(time.Millisecond)) {
			t.Errorf("%s decodes as %v (%v)", raw, back.Time, err)
		}
	}
	var bad Time
	if err := json.Unmarshal([]byte(`"2026-01-01T00:00:00Z"`), &bad); err == nil {
		t.Error("an RFC 3339 string decoded as epoch seconds")
	}
	if At(time.Time{}) != nil {
		t.Error("the zero time is not left out")
	}
}

// codePipeline serves the reads as CodePipeline's JSON 1.1 API does,
// so that the SDK's client decodes the shapes.
func codePipeline(v *View) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var (
			out any
			err error
		)
		dec := json.NewDecoder(r.Body)
		switch op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "CodePipeline_20150709."); op {
		case "GetPipelineExecution":
			var in struct{ PipelineName, PipelineExecutionID string }
			if err = dec.Decode(&in); err == nil {
				out, err = v.GetPipelineExecution(ctx, in.PipelineName, in.PipelineExecutionID)
			}
		case "GetPipelineState":
			var in struct{ Name string }
			if err = dec.Decode(&in); err == nil {
				out, err = v.GetPipelineState(ctx, in.Name)
			}
		case "ListPipelineExecutions":
			var in ListPipelineExecutionsInput
			if err = dec.Decode(&in); err == nil {
				out, err = v.ListPipelineExecutions(ctx, in)
			}
		case "ListActionExecutions":
			var in ListActionExecutionsInput
			if err = dec.Decode(&in); err == nil {
				out, err = v.ListActionExecutions(ctx, in)
			}
		case "ListRuleExecutions":
			var in ListRuleExecutionsInput
			if err = dec.Decode(&in); err == nil {
				out, err = v.ListRuleExecutions(ctx, in)
			}
		default:
			err = &execution.Rejection{Code: "UnknownOperationException", Message: op}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		var rej *execution.Rejection
		if errors.As(err, &rej) {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"__type": rej.Code, "message": rej.Message})
			return
		}
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(out)
	})
}

// TestSDKDecodesTheShapes reads through the SDK's CodePipeline client from
// a fake endpoint answering with View: every field the SDK knows decodes.
func TestSDKDecodesTheShapes(t *testing.T) {
	srv := httptest.NewServer(codePipeline(seed(t)))
	defer srv.Close()
	c := codepipeline.New(codepipeline.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{},
	})
	ctx := context.Background()

	ge, err := c.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("release"), PipelineExecutionId: aws.String("e1")})
	if err != nil {
		t.Fatal(err)
	}
	pe := ge.PipelineExecution
	if pe.Status != types.PipelineExecutionStatusFailed || aws.ToInt32(pe.PipelineVersion) != 1 || pe.ExecutionMode != types.ExecutionModeQueued ||
		len(pe.ArtifactRevisions) != 1 || !aws.ToTime(pe.ArtifactRevisions[0].Created).Equal(at(-5)) || pe.Trigger.TriggerType != types.TriggerTypeStartPipelineExecution ||
		len(pe.Variables) != 1 || aws.ToString(pe.Variables[0].ResolvedValue) != "staging" {
		t.Errorf("GetPipelineExecution: %+v", pe)
	}

	gs, err := c.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String("release")})
	if err != nil {
		t.Fatal(err)
	}
	if len(gs.StageStates) != 3 {
		t.Fatalf("%d stage states", len(gs.StageStates))
	}
	build, approve := gs.StageStates[1], gs.StageStates[2]
	if build.InboundTransitionState.Enabled || aws.ToString(build.InboundTransitionState.DisabledReason) != "release freeze" ||
		aws.ToInt32(build.RetryStageMetadata.ManualStageRetryAttempt) != 1 || build.LatestExecution.Status != types.StageExecutionStatusSucceeded {
		t.Errorf("Build state: %+v", build)
	}
	if c := build.OnSuccessConditionState; c == nil || c.LatestExecution.Status != types.ConditionExecutionStatusSucceeded ||
		len(c.ConditionStates) != 1 || c.ConditionStates[0].RuleStates[0].LatestExecution.Status != types.RuleExecutionStatusSucceeded {
		t.Errorf("Build's success conditions: %+v", c)
	}
	if c := approve.BeforeEntryConditionState; c == nil || c.LatestExecution.Status != types.ConditionExecutionStatusOverridden ||
		aws.ToString(c.ConditionStates[0].RuleStates[0].LatestExecution.LastUpdatedBy) != "bob" ||
		!aws.ToTime(c.ConditionStates[0].LatestExecution.LastStatusChange).Equal(at(66)) {
		t.Errorf("Approve's entry conditions: %+v", c)
	}
	rel := approve.ActionStates[0].LatestExecution
	if aws.ToString(approve.InboundExecution.PipelineExecutionId) != "e3" || len(approve.InboundExecutions) != 1 ||
		rel.Status != types.ActionExecutionStatusInProgress || aws.ToString(rel.Token) != "approval-token-e2" ||
		!aws.ToTime(rel.LastStatusChange).Equal(at(67)) {
		t.Errorf("Approve state: %+v, latest %+v", approve, rel)
	}
	src := gs.StageStates[0].ActionStates[0]
	if aws.ToString(src.CurrentRevision.RevisionId) != "c3" || aws.ToString(src.RevisionUrl) != "https://example.com/app/c3" {
		t.Errorf("Checkout state: %+v", src)
	}
	if strings.Contains(fmt.Sprintf("%+v", gs), "secret-task-token") {
		t.Error("GetPipelineState shows a task token")
	}

	lp, err := c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("release")})
	if err != nil {
		t.Fatal(err)
	}
	if len(lp.PipelineExecutionSummaries) != 4 || aws.ToString(lp.PipelineExecutionSummaries[1].SourceRevisions[0].RevisionId) != "c3" ||
		!aws.ToTime(lp.PipelineExecutionSummaries[3].StartTime).Equal(t0) ||
		lp.PipelineExecutionSummaries[0].ExecutionType != types.ExecutionTypeRollback ||
		aws.ToString(lp.PipelineExecutionSummaries[0].RollbackMetadata.RollbackTargetPipelineExecutionId) != "e2" {
		t.Errorf("ListPipelineExecutions: %+v", lp.PipelineExecutionSummaries)
	}

	la, err := c.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String("release"),
		Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String("e1")}})
	if err != nil {
		t.Fatal(err)
	}
	var lint *types.ActionExecutionDetail
	for i, d := range la.ActionExecutionDetails {
		if aws.ToString(d.ActionName) == "Lint" {
			lint = &la.ActionExecutionDetails[i]
		}
	}
	if len(la.ActionExecutionDetails) != 3 || lint == nil || lint.Status != types.ActionExecutionStatusFailed ||
		aws.ToString(lint.Output.ExecutionResult.ErrorDetails.Code) != "JobFailed" || lint.Input.ActionTypeId.Category != types.ActionCategoryTest {
		t.Errorf("ListActionExecutions: %+v", la.ActionExecutionDetails)
	}

	lr, err := c.ListRuleExecutions(ctx, &codepipeline.ListRuleExecutionsInput{PipelineName: aws.String("release"),
		Filter: &types.RuleExecutionFilter{PipelineExecutionId: aws.String("e2")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(lr.RuleExecutionDetails) != 1 || lr.RuleExecutionDetails[0].Status != types.RuleExecutionStatusAbandoned ||
		aws.ToString(lr.RuleExecutionDetails[0].Input.RuleTypeId.Provider) != "DeploymentWindow" || aws.ToString(lr.RuleExecutionDetails[0].StageName) != "Approve" {
		t.Errorf("ListRuleExecutions: %+v", lr.RuleExecutionDetails)
	}

	_, err = c.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("release"), PipelineExecutionId: aws.String("e9")})
	var nf *types.PipelineExecutionNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("an unknown execution: %v", err)
	}
}
