package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

// debianAWS is where Debian's awscli package installs the AWS CLI
// version 2.
const debianAWS = "/usr/bin/aws"

// awsCLIVersion runs `path --version` and returns what it says.
func awsCLIVersion(path string) string {
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// findAWSCLIv1 returns the first AWS CLI version 1 on PATH, other than
// Debian's version 2.
func findAWSCLIv1() string {
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		path := filepath.Join(dir, "aws")
		if path == debianAWS {
			continue
		}
		if st, err := os.Stat(path); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			continue
		}
		if strings.HasPrefix(awsCLIVersion(path), "aws-cli/1.") {
			return path
		}
	}
	return ""
}

// TestAWSCLI drives `sluice serve` with the AWS CLI, both the version 1
// on PATH (with a current botocore) and Debian's version 2, each called by
// its full path: create, get and list pipelines, the first execution
// failing at its source, retry-stage-execution, get-pipeline-state showing
// the approval in progress, put-approval-result letting the execution go
// on, disable- and enable-stage-transition with an execution waiting at
// the transition, put-webhook, stop-pipeline-execution,
// list-pipeline-executions telling the story, and the abandoned stage
// retried. A CLI that is missing is
// skipped, unless CI is set: `make test` installs Debian's.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs sluice serve and the AWS CLIs as processes")
	}
	clis := []struct {
		name, path, version, missing string
	}{
		{"version 1", findAWSCLIv1(), "aws-cli/1.", "no AWS CLI version 1 on PATH (pip install awscli)"},
		{"Debian's version 2", debianAWS, "aws-cli/2.", "no AWS CLI version 2 at " + debianAWS + " (scripts/install-test-deps.sh installs Debian's awscli)"},
	}
	for _, cli := range clis {
		t.Run(cli.name, func(t *testing.T) {
			if cli.path == "" || !strings.HasPrefix(awsCLIVersion(cli.path), cli.version) {
				if os.Getenv("CI") != "" {
					t.Fatal(cli.missing)
				}
				t.Skip(cli.missing)
			}
			exerciseAWSCLI(t, cli.path)
		})
	}
}

// awsRunner runs one AWS CLI against one server.
type awsRunner struct {
	t         *testing.T
	path, url string
	env       []string
	dir       string
}

// run runs `aws codepipeline ARGS` and returns its JSON answer (nil for
// none); the call must succeed.
func (a *awsRunner) run(args ...string) map[string]any {
	a.t.Helper()
	out, errOut, err := a.exec(args...)
	if err != nil {
		a.t.Fatalf("aws codepipeline %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return nil
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		a.t.Fatalf("aws codepipeline %s printed no JSON object: %v\n%s", strings.Join(args, " "), err, out)
	}
	return v
}

// fails runs a call that must fail, and returns what it said.
func (a *awsRunner) fails(args ...string) string {
	a.t.Helper()
	_, errOut, err := a.exec(args...)
	if err == nil {
		a.t.Fatalf("aws codepipeline %s succeeded", strings.Join(args, " "))
	}
	return string(errOut)
}

func (a *awsRunner) exec(args ...string) ([]byte, []byte, error) {
	cmd := exec.Command(a.path, append([]string{"--endpoint-url", a.url, "--profile", "sluice", "--region", "us-east-1",
		"--output", "json", "codepipeline"}, args...)...)
	cmd.Env, cmd.Dir = a.env, a.dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.Bytes(), errOut.Bytes(), err
}

// file writes an input file for file:// and returns its URL.
func (a *awsRunner) file(name string, v any) string {
	a.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		a.t.Fatal(err)
	}
	path := filepath.Join(a.dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		a.t.Fatal(err)
	}
	return "file://" + path
}

// at reads a member of a JSON answer by its path of keys and indexes.
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: %v is not an object", path, v)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at %v: %v has no element %d", path, v, k)
			}
			v = l[k]
		}
	}
	return v
}

// want checks a member of a JSON answer.
func want(t *testing.T, what string, v any, path []any, expected any) {
	t.Helper()
	if got := at(t, v, path...); fmt.Sprint(got) != fmt.Sprint(expected) {
		t.Errorf("%s: %v is %v, want %v", what, path, got, expected)
	}
}

// wantTime checks that a timestamp is one the CLI parsed: version 1 prints
// the epoch seconds it read, version 2 an ISO 8601 time.
func wantTime(t *testing.T, what string, v any) {
	t.Helper()
	var ts time.Time
	switch x := v.(type) {
	case float64:
		ts = time.UnixMilli(int64(x * 1000))
	case string:
		var err error
		if ts, err = time.Parse(time.RFC3339Nano, x); err != nil {
			t.Errorf("%s: %q is not an ISO 8601 time: %v", what, x, err)
			return
		}
	default:
		t.Errorf("%s: %v is not a time", what, v)
		return
	}
	if d := time.Since(ts); d < -time.Minute || d > time.Hour {
		t.Errorf("%s: %v is not a time of this test", what, ts)
	}
}

func exerciseAWSCLI(t *testing.T, path string) {
	dataDir := t.TempDir()
	srv := serve(t, dataDir)
	api := &testAPI{t: t, endpoint: srv.url, dataDir: dataDir, sdk: srv.client(t, dataDir)}
	a := &awsRunner{t: t, path: path, url: srv.url, dir: t.TempDir()}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			a.env = append(a.env, kv)
		}
	}
	a.env = append(a.env, "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dataDir, "credentials"),
		"AWS_CONFIG_FILE="+filepath.Join(a.dir, "no-config"), "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true")
	raw, err := os.ReadFile(filepath.Join("testdata", "awscli", "release.json"))
	if err != nil {
		t.Fatal(err)
	}
	var decl any
	if err := json.Unmarshal(raw, &decl); err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:codepipeline:us-east-1:123456789012:release"

	out := a.run("create-pipeline", "--pipeline", a.file("release.json", decl))
	want(t, "create-pipeline", out, []any{"pipeline", "name"}, "release")
	want(t, "create-pipeline", out, []any{"pipeline", "version"}, 1)
	out = a.run("get-pipeline", "--name", "release")
	want(t, "get-pipeline", out, []any{"metadata", "pipelineArn"}, arn)
	want(t, "get-pipeline", out, []any{"pipeline", "stages", 2, "actions", 0, "configuration", "BucketName"}, "site")
	wantTime(t, "get-pipeline created", at(t, out, "metadata", "created"))
	out = a.run("list-pipelines")
	want(t, "list-pipelines", out, []any{"pipelines", 0, "name"}, "release")
	if msg := a.fails("get-pipeline", "--name", "nope"); !strings.Contains(msg, "PipelineNotFoundException") {
		t.Errorf("get-pipeline of no pipeline said %q", msg)
	}

	// The first execution, started by CreatePipeline, fails at its source:
	// the object is not there yet. Retry it once it is.
	out = a.run("list-pipeline-executions", "--pipeline-name", "release")
	want(t, "list-pipeline-executions", out, []any{"pipelineExecutionSummaries", 0, "trigger", "triggerType"}, "CreatePipeline")
	first := at(t, out, "pipelineExecutionSummaries", 0, "pipelineExecutionId").(string)
	api.waitStatus("release", first, types.PipelineExecutionStatusFailed)
	writeSource(t, dataDir)
	out = a.run("retry-stage-execution", "--pipeline-name", "release", "--stage-name", "Source",
		"--pipeline-execution-id", first, "--retry-mode", "FAILED_ACTIONS")
	want(t, "retry-stage-execution", out, []any{"pipelineExecutionId"}, first)

	// The approval waits; get-pipeline-state shows it with its token, and
	// put-approval-result (from --cli-input-json) lets the execution go on.
	api.waitState("the approval", "release", approvalWaits(first))
	out = a.run("get-pipeline-state", "--name", "release")
	want(t, "get-pipeline-state", out, []any{"stageStates", 1, "latestExecution", "pipelineExecutionId"}, first)
	want(t, "get-pipeline-state", out, []any{"stageStates", 1, "latestExecution", "status"}, "InProgress")
	want(t, "get-pipeline-state", out, []any{"stageStates", 1, "actionStates", 0, "latestExecution", "status"}, "InProgress")
	want(t, "get-pipeline-state", out, []any{"stageStates", 0, "actionStates", 0, "latestExecution", "status"}, "Succeeded")
	token, _ := at(t, out, "stageStates", 1, "actionStates", 0, "latestExecution", "token").(string)
	if token == "" {
		t.Fatal("get-pipeline-state shows no approval token")
	}
	out = a.run("put-approval-result", "--cli-input-json", a.file("approval.json", map[string]any{
		"pipelineName": "release", "stageName": "Approve", "actionName": "Release", "token": token,
		"result": map[string]string{"summary": "Checked staging", "status": "Approved"},
	}))
	wantTime(t, "put-approval-result approvedAt", at(t, out, "approvedAt"))
	api.waitStatus("release", first, types.PipelineExecutionStatusSucceeded)
	if msg := a.fails("put-approval-result", "--pipeline-name", "release", "--stage-name", "Approve", "--action-name", "Release",
		"--token", token, "--result", "summary=again,status=Approved"); !strings.Contains(msg, "ApprovalAlreadyCompletedException") &&
		!strings.Contains(msg, "InvalidApprovalTokenException") {
		t.Errorf("a second decision said %q", msg)
	}

	// With the transition into Deploy disabled, the next execution waits
	// in front of it until it is enabled again.
	if out := a.run("disable-stage-transition", "--pipeline-name", "release", "--stage-name", "Deploy",
		"--transition-type", "Inbound", "--reason", "Release freeze"); len(out) != 0 {
		t.Errorf("disable-stage-transition printed %v", out)
	}
	out = a.run("start-pipeline-execution", "--name", "release", "--client-request-token", "release-2")
	second := at(t, out, "pipelineExecutionId").(string)
	out = a.run("start-pipeline-execution", "--name", "release", "--client-request-token", "release-2")
	want(t, "start-pipeline-execution with the same token", out, []any{"pipelineExecutionId"}, second)
	api.waitState("the second approval", "release", approvalWaits(second))
	token = approvalToken(t, api)
	out = a.run("put-approval-result", "--pipeline-name", "release", "--stage-name", "Approve", "--action-name", "Release",
		"--token", token, "--result", "summary=Ship it,status=Approved")
	wantTime(t, "put-approval-result approvedAt", at(t, out, "approvedAt"))
	api.waitState("the second execution at Deploy", "release", func(st *codepipeline.GetPipelineStateOutput) bool {
		in := inbound(st.StageStates[2])
		return len(in) == 1 && str(in[0].PipelineExecutionId) == second
	})
	out = a.run("get-pipeline-state", "--name", "release")
	want(t, "get-pipeline-state", out, []any{"stageStates", 2, "inboundTransitionState", "enabled"}, false)
	want(t, "get-pipeline-state", out, []any{"stageStates", 2, "inboundTransitionState", "disabledReason"}, "Release freeze")
	want(t, "get-pipeline-state", out, []any{"stageStates", 2, "inboundExecution", "pipelineExecutionId"}, second)
	if out := a.run("enable-stage-transition", "--pipeline-name", "release", "--stage-name", "Deploy", "--transition-type", "Inbound"); len(out) != 0 {
		t.Errorf("enable-stage-transition printed %v", out)
	}
	api.waitStatus("release", second, types.PipelineExecutionStatusSucceeded)

	// A webhook, from --cli-input-json.
	out = a.run("put-webhook", "--cli-input-json", a.file("webhook.json", map[string]any{"webhook": map[string]any{
		"name": "release-push", "targetPipeline": "release", "targetAction": "Fetch",
		"filters":                     []map[string]string{{"jsonPath": "$.ref", "matchEquals": "refs/heads/main"}},
		"authentication":              "GITHUB_HMAC",
		"authenticationConfiguration": map[string]string{"SecretToken": "webhook-secret"},
	}}))
	want(t, "put-webhook", out, []any{"webhook", "arn"}, "arn:aws:codepipeline:us-east-1:123456789012:webhook:release-push")
	if url, _ := at(t, out, "webhook", "url").(string); !strings.HasPrefix(url, srv.url+"/webhooks/") {
		t.Errorf("put-webhook: url %q is not the server's", url)
	}

	// An execution stopped while its approval waits.
	third := at(t, a.run("start-pipeline-execution", "--name", "release"), "pipelineExecutionId").(string)
	api.waitState("the third approval", "release", approvalWaits(third))
	out = a.run("stop-pipeline-execution", "--pipeline-name", "release", "--pipeline-execution-id", third,
		"--abandon", "--reason", "No longer needed")
	want(t, "stop-pipeline-execution", out, []any{"pipelineExecutionId"}, third)
	api.waitStatus("release", third, types.PipelineExecutionStatusStopped)

	out = a.run("list-pipeline-executions", "--pipeline-name", "release")
	for i, w := range []struct{ id, status string }{{third, "Stopped"}, {second, "Succeeded"}, {first, "Succeeded"}} {
		want(t, "list-pipeline-executions", out, []any{"pipelineExecutionSummaries", i, "pipelineExecutionId"}, w.id)
		want(t, "list-pipeline-executions", out, []any{"pipelineExecutionSummaries", i, "status"}, w.status)
		wantTime(t, "list-pipeline-executions startTime", at(t, out, "pipelineExecutionSummaries", i, "startTime"))
	}
	want(t, "list-pipeline-executions", out, []any{"pipelineExecutionSummaries", 0, "stopTrigger", "reason"}, "No longer needed")
	if n := len(at(t, out, "pipelineExecutionSummaries").([]any)); n != 3 {
		t.Errorf("list-pipeline-executions lists %d executions, want 3", n)
	}
	// The CLI's own paging, over the API's page tokens.
	out = a.run("list-pipeline-executions", "--pipeline-name", "release", "--max-items", "2", "--page-size", "1")
	want(t, "list-pipeline-executions, a page", out, []any{"pipelineExecutionSummaries", 1, "pipelineExecutionId"}, second)
	next, _ := at(t, out, "NextToken").(string)
	out = a.run("list-pipeline-executions", "--pipeline-name", "release", "--starting-token", next, "--page-size", "1")
	want(t, "list-pipeline-executions, the next page", out, []any{"pipelineExecutionSummaries", 0, "pipelineExecutionId"}, first)
	if n := len(at(t, out, "pipelineExecutionSummaries").([]any)); n != 1 {
		t.Errorf("list-pipeline-executions, the next page, lists %d executions, want 1", n)
	}

	// The stage where the execution was abandoned can be retried: the
	// approval waits again, within the same execution.
	out = a.run("retry-stage-execution", "--pipeline-name", "release", "--stage-name", "Approve",
		"--pipeline-execution-id", third, "--retry-mode", "FAILED_ACTIONS")
	want(t, "retry-stage-execution of the abandoned stage", out, []any{"pipelineExecutionId"}, third)
	api.waitState("the third approval, retried", "release", approvalWaits(third))
	token = approvalToken(t, api)
	a.run("put-approval-result", "--pipeline-name", "release", "--stage-name", "Approve", "--action-name", "Release",
		"--token", token, "--result", "summary=Needed after all,status=Approved")
	api.waitStatus("release", third, types.PipelineExecutionStatusSucceeded)
}

// approvalToken reads the waiting approval's token with the SDK.
func approvalToken(t *testing.T, api *testAPI) string {
	t.Helper()
	st, err := api.sdk.GetPipelineState(t.Context(), &codepipeline.GetPipelineStateInput{Name: aws.String("release")})
	if err != nil {
		t.Fatal(err)
	}
	return str(st.StageStates[1].ActionStates[0].LatestExecution.Token)
}
