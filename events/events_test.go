package events

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/trigger"
	"github.com/sluice-ci/sluice/internal/webhook"
)

// sampleSecret signs the GitHub samples.
const sampleSecret = "sluice-sample-secret"

// samples lists every sample with the type Lambda decodes it into; a new
// file in this folder must be added here.
var samples = map[string]func() any{
	"github-push.json":                        func() any { return new(lambdaevents.APIGatewayV2HTTPRequest) },
	"github-pull-request.json":                func() any { return new(lambdaevents.APIGatewayV2HTTPRequest) },
	"codecommit-repository-state-change.json": func() any { return new(lambdaevents.CloudWatchEvent) },
	"s3-object-created.json":                  func() any { return new(lambdaevents.CloudWatchEvent) },
	"codebuild-build-state-change.json":       func() any { return new(lambdaevents.CodeBuildEvent) },
	"apigateway-approval-request.json":        func() any { return new(lambdaevents.APIGatewayProxyRequest) },
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func decode[T any](t *testing.T, name string) *T {
	t.Helper()
	v := new(T)
	if err := json.Unmarshal(read(t, name), v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// TestRoundTrip decodes every sample into its Lambda type and encodes it
// again: nothing in the sample is lost or changed, and a second round
// trip gives the same JSON.
func TestRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("*.json")
	for _, f := range files {
		if _, ok := samples[f]; !ok {
			t.Errorf("%s is not in the samples table", f)
		}
	}
	for name, newValue := range samples {
		t.Run(name, func(t *testing.T) {
			data := read(t, name)
			first := newValue()
			if err := json.Unmarshal(data, first); err != nil {
				t.Fatal(err)
			}
			encoded, err := json.Marshal(first)
			if err != nil {
				t.Fatal(err)
			}
			var orig, again any
			json.Unmarshal(data, &orig)
			json.Unmarshal(encoded, &again)
			if err := contains(again, orig, "$"); err != nil {
				t.Fatalf("decoding loses part of the sample: %v", err)
			}
			second := newValue()
			if err := json.Unmarshal(encoded, second); err != nil {
				t.Fatal(err)
			}
			if reencoded, _ := json.Marshal(second); string(reencoded) != string(encoded) {
				t.Fatalf("a second round trip changes the event:\n%s\n%s", encoded, reencoded)
			}
		})
	}
}

// contains reports where got lacks or changes something of want. A field
// left out because it holds its zero value (false, "", 0, null) is no loss.
func contains(got, want any, at string) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %v, want an object", at, got)
		}
		for k, v := range w {
			gv, ok := g[k]
			if !ok {
				if v == nil || v == false || v == "" || v == float64(0) {
					continue
				}
				return fmt.Errorf("%s.%s is dropped", at, k)
			}
			if err := contains(gv, v, at+"."+k); err != nil {
				return err
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: %v, want %d elements", at, got, len(w))
		}
		for i := range w {
			if err := contains(g[i], w[i], fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	default:
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("%s: %v, want %v", at, got, want)
		}
	}
	return nil
}

// examplePipelines are the example pipelines the samples name.
func examplePipelines(t *testing.T) *trigger.Set {
	t.Helper()
	var ps []*trigger.Pipeline
	for _, f := range []string{"../pipelines/every-action.yaml", "../pipelines/demo.yaml"} {
		file, err := pipeline.Load(f, pipeline.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := trigger.Compile(file.Pipelines[0].Declaration)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return trigger.NewSet(ps...)
}

// request turns an API Gateway HTTP API event back into the request the
// server would receive.
func request(t *testing.T, ev *lambdaevents.APIGatewayV2HTTPRequest) *http.Request {
	t.Helper()
	r := httptest.NewRequest(ev.RequestContext.HTTP.Method, ev.RawPath, strings.NewReader(ev.Body))
	for k, v := range ev.Headers {
		r.Header.Set(k, v)
	}
	r.RemoteAddr = ev.RequestContext.HTTP.SourceIP + ":443"
	return r
}

// TestGitHubDeliveries takes each delivery through the webhook handler and
// the trigger matching: the signature holds, and the example pipeline with
// the connection source starts.
func TestGitHubDeliveries(t *testing.T) {
	set := examplePipelines(t)
	tests := []struct {
		file   string
		branch string
		commit string
	}{
		{file: "github-push.json", branch: "main", commit: "5e0c7a2f9b1d4c3e8a6f0b2d4c6e8a0b2d4f6a8c"},
		{file: "github-pull-request.json", branch: "feature/refunds", commit: "c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev := decode[lambdaevents.APIGatewayV2HTTPRequest](t, tt.file)
			if err := webhook.VerifySignature([]byte(sampleSecret), []byte(ev.Body), ev.Headers["x-hub-signature-256"]); err != nil {
				t.Fatal(err)
			}
			var got []trigger.Match
			h := &webhook.Handler{
				RepositorySecret: []byte(sampleSecret),
				Accept: func(_ context.Context, d *webhook.Delivery) error {
					var gev *trigger.GitEvent
					if d.Push != nil {
						gev = trigger.FromPush(d.Push)
					} else {
						gev = trigger.FromPullRequest(d.PullRequest, func() ([]string, error) { return []string{"src/payments/refund.go"}, nil })
					}
					var err error
					got, err = set.Git(gev)
					return err
				},
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, request(t, ev))
			if w.Code != http.StatusAccepted {
				t.Fatalf("answer %d %s", w.Code, w.Body)
			}
			if len(got) != 1 || got[0].Pipeline != "every-action" || got[0].Trigger.TriggerType != trigger.TypeWebhookV2 ||
				got[0].SourceRevisions[0].RevisionValue != tt.commit || got[0].EventTrigger.BranchName != tt.branch {
				t.Fatalf("matches %+v", got)
			}
		})
	}
}

func TestEventBridgeEvents(t *testing.T) {
	set := examplePipelines(t)
	tests := []struct {
		file     string
		pipeline string
		trigger  string
		revision string
	}{
		{file: "codecommit-repository-state-change.json", pipeline: "demo", trigger: trigger.TypePollForSourceChanges,
			revision: "COMMIT_ID=0b2d4f6a8c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d"},
		{file: "s3-object-created.json", pipeline: "every-action", trigger: trigger.TypeCloudWatchEvent,
			revision: "S3_OBJECT_VERSION_ID=Yq3uN0kW8xG2pV5rT7sZ1cB4dF6hJ9lM"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev := decode[lambdaevents.CloudWatchEvent](t, tt.file)
			got, err := set.EventBridge(ev)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Pipeline != tt.pipeline || got[0].Trigger.TriggerType != tt.trigger {
				t.Fatalf("matches %+v", got)
			}
			r := got[0].SourceRevisions[0]
			if r.RevisionType+"="+r.RevisionValue != tt.revision {
				t.Fatalf("revision %+v", r)
			}
		})
	}
	var cc trigger.CodeCommitChange
	if err := json.Unmarshal(decode[lambdaevents.CloudWatchEvent](t, "codecommit-repository-state-change.json").Detail, &cc); err != nil ||
		cc.ReferenceFullName != "refs/heads/main" || cc.CallerUserArn == "" {
		t.Fatalf("CodeCommit detail %+v %v", cc, err)
	}
}

func TestCodeBuildEvent(t *testing.T) {
	ev := decode[lambdaevents.CodeBuildEvent](t, "codebuild-build-state-change.json")
	d := ev.Detail
	if ev.DetailType != lambdaevents.CodeBuildStateChangeDetailType || d.BuildStatus != lambdaevents.CodeBuildPhaseStatusSucceeded ||
		d.ProjectName != "every-action-build" || !d.AdditionalInformation.BuildComplete || d.AdditionalInformation.BuildNumber != 42 ||
		len(d.AdditionalInformation.Phases) != 3 {
		t.Fatalf("event %+v", ev)
	}
}

func TestApprovalRequest(t *testing.T) {
	ev := decode[lambdaevents.APIGatewayProxyRequest](t, "apigateway-approval-request.json")
	if ev.Headers["X-Amz-Target"] != "CodePipeline_20150709.PutApprovalResult" || ev.RequestContext.Identity.UserArn != "arn:aws:iam::123456789012:user/release-manager" {
		t.Fatalf("request %+v", ev)
	}
	var in struct {
		PipelineName string `json:"pipelineName"`
		StageName    string `json:"stageName"`
		ActionName   string `json:"actionName"`
		Result       struct {
			Summary string `json:"summary"`
			Status  string `json:"status"`
		} `json:"result"`
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(ev.Body), &in); err != nil {
		t.Fatal(err)
	}
	file, err := pipeline.Load("../pipelines/every-action.yaml", pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, s := range file.Pipelines[0].Declaration.Stages {
		found = found || s.Name == in.StageName && slices.ContainsFunc(s.Actions, func(a pipeline.Action) bool {
			return a.Name == in.ActionName && a.ActionTypeID.Provider == "Manual"
		})
	}
	if in.PipelineName != "every-action" || !found || in.Result.Status != "Approved" || in.Token == "" {
		t.Fatalf("the approval names no manual approval of the example pipeline: %+v", in)
	}
}
