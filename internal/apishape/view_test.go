package apishape

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
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
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

// at is t0 plus minutes.
func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

// seed writes the records of three executions of the release pipeline (a
// QUEUED pipeline): e1 failed in Build; e2 holds Approve, its approval
// waiting; e3 passed Build on a retry of all actions and waits to enter
// Approve. Build's inbound transition is disabled since.
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
	stage := func(id, name, status string, attempt, start int) {
		write(store.StageExecutionWrite(store.Versioned[store.StageExecution]{Value: store.StageExecution{
			PipelineName: "release", PipelineExecutionID: id, StageName: name, Status: status, Type: "STANDARD",
			Attempt: attempt, RetryMode: map[bool]string{true: execution.RetryAllActions}[attempt > 1],
			StartTime: at(start), LastUpdateTime: at(start + 2),
		}}))
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
	stage("e2", "Approve", store.StageInProgress, 1, 66)
	act("e2", "Approve", "Release", "Approval", "Manual", store.ActionInProgress, 1, 66, func(a *store.ActionExecution) {
		a.Input.Configuration = map[string]string{"CustomData": "Ship to #{variables.Environment}?"}
		a.Input.ResolvedConfiguration = map[string]string{"CustomData": "Ship to staging?"}
		a.Token = "approval-token-e2"
	})

	newExecution("e3", 120, store.ExecutionInProgress, "", "c3")
	source("e3", 121, "c3")
	stage("e3", "Source", store.StageSucceeded, 1, 121)
	stage("e3", "Build", store.StageSucceeded, 2, 130)
	act("e3", "Build", "Compile", "Build", "CodeBuild", store.ActionSucceeded, 1, 123, compiled("e3"))
	act("e3", "Build", "Lint", "Test", "CodeBuild", store.ActionFailed, 1, 123, failed)
	act("e3", "Build", "Compile", "Build", "CodeBuild", store.ActionSucceeded, 2, 130, compiled("e3"))
	act("e3", "Build", "Lint", "Test", "CodeBuild", store.ActionSucceeded, 2, 130, func(a *store.ActionExecution) { a.UpdatedBy = "bob" })

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
	path := filepath.Join("testdata/golden", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", name, path, got)
	}
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

func TestPaging(t *testing.T) {
	v := seed(t)
	ctx := context.Background()
	var ids []string
	in := ListPipelineExecutionsInput{PipelineName: "release", MaxResults: 2}
	for pages := 0; ; pages++ {
		out, err := v.ListPipelineExecutions(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.PipelineExecutionSummaries {
			ids = append(ids, s.PipelineExecutionID)
		}
		if out.NextToken == "" || pages > 3 {
			break
		}
		in.NextToken = out.NextToken
	}
	if got := strings.Join(ids, " "); got != "e3 e2 e1" {
		t.Errorf("executions paged as %s, want e3 e2 e1", got)
	}
	var actions []string
	ain := ListActionExecutionsInput{PipelineName: "release", MaxResults: 3}
	for pages := 0; ; pages++ {
		out, err := v.ListActionExecutions(ctx, ain)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.ActionExecutionDetails {
			actions = append(actions, a.ActionExecutionID)
		}
		if out.NextToken == "" || pages > 10 {
			break
		}
		ain.NextToken = out.NextToken
	}
	if len(actions) != 12 {
		t.Errorf("%d action executions paged, want 12", len(actions))
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

// codePipeline serves the four reads as CodePipeline's JSON 1.1 API does,
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
	if len(lp.PipelineExecutionSummaries) != 3 || aws.ToString(lp.PipelineExecutionSummaries[0].SourceRevisions[0].RevisionId) != "c3" ||
		!aws.ToTime(lp.PipelineExecutionSummaries[2].StartTime).Equal(t0) {
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

	_, err = c.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("release"), PipelineExecutionId: aws.String("e9")})
	var nf *types.PipelineExecutionNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("an unknown execution: %v", err)
	}
}
