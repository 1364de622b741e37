package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/golden"
	"github.com/sluice-ci/sluice/internal/server"
	"github.com/sluice-ci/sluice/internal/store"
)

// testAPI is a Sluice server started in the test, on a free port, over a
// data folder of its own.
type testAPI struct {
	t        *testing.T
	endpoint string
	dataDir  string
	// sdk is signed with the data folder's credentials.
	sdk *codepipeline.Client
}

func startAPI(t *testing.T) *testAPI {
	t.Helper()
	dataDir := t.TempDir()
	ctx := context.Background()
	srv, err := server.Open(ctx, server.Options{Addr: "127.0.0.1:0", DataDir: dataDir, Sweep: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		srv.Shutdown(ctx)
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return &testAPI{t: t, endpoint: srv.Endpoint(), dataDir: dataDir, sdk: codepipeline.New(codepipeline.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint()),
		Credentials: credentials.NewStaticCredentialsProvider(srv.Admin.AccessKeyID, srv.Admin.SecretAccessKey, ""),
	})}
}

// putSource writes the object the release pipeline's source fetches.
func (a *testAPI) putSource(content string) {
	a.t.Helper()
	dir := filepath.Join(a.dataDir, "s3", "sources")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		a.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.zip"), []byte(content), 0o644); err != nil {
		a.t.Fatal(err)
	}
}

// waitFor polls until cond holds.
func (a *testAPI) waitFor(what string, cond func() (bool, error)) {
	a.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ok, err := cond()
		if err != nil {
			a.t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.t.Fatalf("timed out waiting for %s", what)
}

// waitStatus waits until an execution's status is want.
func (a *testAPI) waitStatus(pipelineName, id string, want types.PipelineExecutionStatus) {
	a.t.Helper()
	a.waitFor(fmt.Sprintf("execution %s %s", id, want), func() (bool, error) {
		out, err := a.sdk.GetPipelineExecution(context.Background(), &codepipeline.GetPipelineExecutionInput{
			PipelineName: aws.String(pipelineName), PipelineExecutionId: aws.String(id),
		})
		if err != nil {
			return false, err
		}
		return out.PipelineExecution.Status == want, nil
	})
}

// waitState waits until GetPipelineState satisfies cond.
func (a *testAPI) waitState(what, pipelineName string, cond func(*codepipeline.GetPipelineStateOutput) bool) {
	a.t.Helper()
	a.waitFor(what, func() (bool, error) {
		st, err := a.sdk.GetPipelineState(context.Background(), &codepipeline.GetPipelineStateInput{Name: aws.String(pipelineName)})
		if err != nil {
			return false, err
		}
		return cond(st), nil
	})
}

// approvalWaits says whether the approval of an execution waits.
func approvalWaits(id string) func(*codepipeline.GetPipelineStateOutput) bool {
	return func(st *codepipeline.GetPipelineStateOutput) bool {
		s := st.StageStates[1]
		e := s.ActionStates[0].LatestExecution
		return s.LatestExecution != nil && str(s.LatestExecution.PipelineExecutionId) == id &&
			e != nil && e.Status == types.ActionExecutionStatusInProgress && str(e.Token) != ""
	}
}

// latest is the id of the pipeline's newest execution.
func (a *testAPI) latest(pipelineName string) string {
	a.t.Helper()
	out, err := a.sdk.ListPipelineExecutions(context.Background(), &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(pipelineName), MaxResults: aws.Int32(1)})
	if err != nil || len(out.PipelineExecutionSummaries) == 0 {
		a.t.Fatalf("latest execution of %s: %v", pipelineName, err)
	}
	return str(out.PipelineExecutionSummaries[0].PipelineExecutionId)
}

// remoteCLI is a root command with the commands that call a server, fresh
// for each run.
func remoteCLI() *cobra.Command {
	root := &cobra.Command{Use: "sluice", SilenceErrors: true, SilenceUsage: true}
	root.AddCommand(newPipelinesCmd(), newStartCmd(), newStateCmd(), newDecisionCmd("approve", store.ApprovalApproved),
		newDecisionCmd("reject", store.ApprovalRejected), newTransitionsCmd(), newRetryCmd(), newStopCmd(), newExecutionsCmd(), newWatchCmd(),
		newRollbackCmd(), newOverrideCmd())
	return root
}

// runCLI runs a command line and returns what it printed on standard
// output and standard error (with the error main would print), and its
// exit status. When on is not empty, then runs once the output says it.
func runCLI(t *testing.T, on string, then func(), args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var mu sync.Mutex
	var once sync.Once
	out := &watchedBuffer{mu: &mu, on: on, then: func() { once.Do(func() { go then() }) }}
	errOut := &watchedBuffer{mu: &mu, on: on, then: out.then}
	root := remoteCLI()
	root.SetOut(out)
	root.SetErr(errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		code = 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if ee == nil || ee.err != nil {
			fmt.Fprintf(errOut, "sluice: %v\n", err)
		}
	}
	return out.String(), errOut.String(), code
}

// watchedBuffer is an output that runs then when what was written says
// on.
type watchedBuffer struct {
	mu   *sync.Mutex
	buf  bytes.Buffer
	on   string
	then func()
}

func (b *watchedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.on != "" && strings.Contains(b.buf.String(), b.on) {
		b.then()
	}
	return n, err
}

func (b *watchedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// normaliser makes outputs comparable across runs: ids, revisions, times
// and the server's address and folder are replaced by placeholders, ids and
// revisions numbered in order of appearance. In tables (pad), a placeholder
// in a column keeps the width of what it replaces, so that the columns stay
// aligned.
type normaliser struct {
	endpoint, dataDir string
	pad               bool
}

var (
	uuidRe     = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	revisionRe = regexp.MustCompile(`\b[0-9a-f]{32}\b`)
	dateRe     = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)
	clockRe    = regexp.MustCompile(`\b\d\d:\d\d:\d\d\b`)
	epochRe    = regexp.MustCompile(`\b1\d{9}(\.\d{1,3})?\b`)
)

func (n normaliser) apply(s string) string {
	s = strings.ReplaceAll(s, n.endpoint, "<endpoint>")
	s = strings.ReplaceAll(s, n.dataDir, "<data>")
	for _, r := range []struct {
		re   *regexp.Regexp
		name string
	}{{uuidRe, "id"}, {revisionRe, "rev"}} {
		seen := map[string]string{}
		s = n.replace(s, r.re, func(m string) string {
			if _, ok := seen[m]; !ok {
				seen[m] = fmt.Sprintf("<%s-%d>", r.name, len(seen)+1)
			}
			return seen[m]
		})
	}
	s = n.replace(s, dateRe, func(string) string { return "<time>" })
	s = n.replace(s, clockRe, func(string) string { return "<clock>" })
	return n.replace(s, epochRe, func(string) string { return "<epoch>" })
}

// replace replaces each match of re by its placeholder; a match followed by
// a column's gap is padded to its width.
func (n normaliser) replace(s string, re *regexp.Regexp, placeholder func(string) string) string {
	var b strings.Builder
	last := 0
	for _, loc := range re.FindAllStringIndex(s, -1) {
		m, p := s[loc[0]:loc[1]], placeholder(s[loc[0]:loc[1]])
		if n.pad && len(p) < len(m) && strings.HasPrefix(s[loc[1]:], "  ") {
			p += strings.Repeat(" ", len(m)-len(p))
		}
		b.WriteString(s[last:loc[0]])
		b.WriteString(p)
		last = loc[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// checkGolden compares got with testdata/remote/golden/name, or rewrites
// it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "remote", "golden", name), []byte(got))
}

// TestRemoteCommands drives a pipeline through every command that calls a
// server, in the order a user would, against a server started in the
// test: tables and JSON against golden files (ids and times normalised),
// exit statuses, and what the errors say.
func TestRemoteCommands(t *testing.T) {
	api := startAPI(t)
	norm := normaliser{endpoint: api.endpoint, dataDir: api.dataDir}
	ids := map[string]string{}
	td := filepath.Join("testdata", "remote")
	steps := []remoteStep{
		{name: "no pipelines yet", args: []string{"pipelines", "list"}, golden: "pipelines-list-empty.txt"},
		{name: "no pipelines yet, json", args: []string{"pipelines", "list", "-o", "json"}, golden: "pipelines-list-empty.json"},
		{name: "create", args: []string{"pipelines", "create", filepath.Join(td, "release.json")}, golden: "pipelines-create.txt"},
		{name: "create again", args: []string{"pipelines", "create", filepath.Join(td, "release.json")}, code: 1,
			stderr: "PipelineNameInUseException: a pipeline named release exists already"},
		{name: "create an invalid declaration", args: []string{"pipelines", "create", filepath.Join("testdata", "declarations", "invalid.json")}, code: 2,
			stderr: "testdata/declarations/invalid.json: invalid (5 errors): not created"},
		{name: "list", args: []string{"pipelines", "list"}, golden: "pipelines-list.txt"},
		{name: "list, json", args: []string{"pipelines", "list", "--output", "json"}, golden: "pipelines-list.json"},
		{name: "get", args: []string{"pipelines", "get", "release"}, golden: "pipelines-get.txt"},
		{name: "get, json", args: []string{"pipelines", "get", "release", "-o", "json"}, golden: "pipelines-get.json"},
		{name: "state of the first execution, failed at its source", before: func() {
			ids["first"] = api.latest("release")
			api.waitStatus("release", ids["first"], types.PipelineExecutionStatusFailed)
		}, args: []string{"state", "release"}, golden: "state-failed.txt"},
		{name: "executions", args: []string{"executions", "list", "release"}, golden: "executions-list-failed.txt"},
		{name: "retry a stage that never ran", args: []string{"retry", "release", "Deploy", "--execution-id", "{first}"}, code: 1,
			stderr: "StageNotRetryableException"},
		{name: "retry a stage that never ran, by default", args: []string{"retry", "release", "Deploy"}, code: 1,
			stderr: "nothing to retry: stage 'Deploy' of pipeline 'release' has not run"},
		{name: "retry the source, by default the latest execution to run it", before: func() { api.putSource("v1") },
			args: []string{"retry", "release", "Source"}, golden: "retry.txt"},
		{name: "state with an approval waiting", before: func() {
			api.waitState("the approval", "release", approvalWaits(ids["first"]))
		}, args: []string{"state", "release"}, golden: "state-approval.txt"},
		{name: "state with an approval waiting, json", args: []string{"state", "release", "-o", "json"}, golden: "state-approval.json"},
		{name: "approve", args: []string{"approve", "release", "--summary", "Checked staging", "--endpoint", "{endpoint}"}, golden: "approve.txt"},
		{name: "approve again", args: []string{"approve", "release", "--endpoint", "{endpoint}"}, code: 1,
			stderr: "no approval of pipeline release waits for a decision at " + api.endpoint},
		{name: "watch the first execution, ended", before: func() {
			api.waitStatus("release", ids["first"], types.PipelineExecutionStatusSucceeded)
		}, args: []string{"watch", "release", "--execution-id", "{first}", "--interval", "20ms"},
			golden: "watch-first.txt"},
		{name: "retry a stage that succeeded, by default", args: []string{"retry", "release", "Source"}, code: 1,
			want: []string{"nothing to retry: the latest execution of stage 'Source' of pipeline 'release', {first}, is Succeeded"}},
		{name: "retry a stage the pipeline does not have, by default", args: []string{"retry", "release", "Nope"}, code: 1,
			stderr: "pipeline 'release' has no stage 'Nope'"},
		{name: "executions after the retry", args: []string{"executions", "list", "release", "-o", "json"}, golden: "executions-list.json"},
		{name: "get an execution", args: []string{"executions", "get", "release", "{first}"}, golden: "executions-get.txt"},
		{name: "get an execution, json", args: []string{"executions", "get", "release", "{first}", "-o", "json"}, golden: "executions-get.json"},
		{name: "disable the transition into Deploy", args: []string{"transitions", "disable", "release", "Deploy", "--reason", "Release freeze"},
			golden: "transitions-disable.txt"},
		{name: "start with a variable and a token", args: []string{"start", "release", "--var", "Environment=prod", "--client-request-token", "deploy-1"},
			golden: "start.txt"},
		{name: "the same token starts nothing more", before: func() { ids["second"] = api.latest("release") },
			args: []string{"start", "release", "--client-request-token", "deploy-1", "-o", "json"}, want: []string{`"pipelineExecutionId": "{second}"`}},
		{name: "approve the second execution with json", before: func() {
			api.waitState("the second approval", "release", approvalWaits(ids["second"]))
		}, args: []string{"approve", "release", "--execution-id", "{second}", "--endpoint", "{endpoint}", "-o", "json"}, want: []string{`"approvedAt": 1`}},
		{name: "state with a disabled transition and an execution waiting at it", before: func() {
			api.waitState("the second execution at Deploy", "release", func(st *codepipeline.GetPipelineStateOutput) bool {
				in := inbound(st.StageStates[2])
				return len(in) == 1 && str(in[0].PipelineExecutionId) == ids["second"]
			})
		}, args: []string{"state", "release"}, golden: "state-transition.txt"},
		{name: "enable it", args: []string{"transitions", "enable", "release", "Deploy", "-o", "json"}, golden: "transitions-enable.json"},
		{name: "watch the second execution", args: []string{"watch", "release", "--interval", "20ms"}, want: []string{
			"Deploy/Publish", "execution Succeeded",
		}},
		{name: "start and reject", args: []string{"start", "release", "-o", "json"}, want: []string{`"pipelineExecutionId"`}},
		{name: "reject", before: func() {
			ids["third"] = api.latest("release")
			api.waitState("the third approval", "release", approvalWaits(ids["third"]))
		}, args: []string{"reject", "release", "--summary", "Not today"}, local: true,
			want: []string{"Rejected Approve/Release of release execution {third}; the running execution took it."}},
		{name: "watch a rejected execution", args: []string{"watch", "release", "--execution-id", "{third}", "--interval", "20ms"}, code: 1,
			want: []string{"Approve/Release                  Failed      Not today", "execution Failed"}},
		{name: "start and watch, json", args: []string{"start", "release", "--watch", "--interval", "20ms", "-o", "json"}, code: 1,
			want: []string{"waiting for approval: sluice approve release --stage Approve --action Release --execution-id", `"status": "Stopped"`},
			on:   "waiting for approval", then: func() {
				api.sdk.StopPipelineExecution(context.Background(), &codepipeline.StopPipelineExecutionInput{
					PipelineName: aws.String("release"), PipelineExecutionId: aws.String(api.latest("release")), Abandon: true, Reason: aws.String("Wrong build"),
				})
			}},
		{name: "stop an execution that is over", args: []string{"stop", "release", "--execution-id", "{third}", "--abandon"}, code: 1,
			stderr: "PipelineExecutionNotStoppableException"},
		{name: "stop, by default the newest in progress, when none is", args: []string{"stop", "release"}, code: 1,
			stderr: "nothing to stop: pipeline 'release' has no execution in progress"},
		{name: "start one to stop", args: []string{"start", "release"}, want: []string{"Started execution"}},
		{name: "stop", before: func() {
			ids["fifth"] = api.latest("release")
			api.waitState("the fifth approval", "release", approvalWaits(ids["fifth"]))
		}, args: []string{"stop", "release", "--abandon", "--reason", "No longer needed"}, golden: "stop.txt"},
		{name: "executions at the end", before: func() {
			api.waitStatus("release", ids["fifth"], types.PipelineExecutionStatusStopped)
		}, args: []string{"executions", "list", "release", "--max", "3"}, golden: "executions-list.txt"},
		{name: "start with a revision of an action that is no source", args: []string{"start", "release", "--source-revision", "Publish=abc"}, code: 2,
			stderr: "--source-revision Publish: pipeline release has no source action Publish"},
		{name: "the endpoint from the environment", args: []string{"executions", "list", "release", "--max", "1"}, local: true, env: "{endpoint}",
			want: []string{"Stopped"}},
		{name: "update", args: []string{"pipelines", "update", filepath.Join(td, "release-v2.yaml")}, golden: "pipelines-update.txt"},
		{name: "get the first version", args: []string{"pipelines", "get", "release", "--version", "1", "-o", "json"},
			want: []string{`"version": 1`, `"ObjectKey": "app.zip"`}},
		{name: "update again, json", args: []string{"pipelines", "update", filepath.Join(td, "release-v2.yaml"), "-o", "json"}, golden: "pipelines-update.json"},
		{name: "delete", args: []string{"pipelines", "delete", "release"}, golden: "pipelines-delete.txt"},
		{name: "create from YAML, json", args: []string{"pipelines", "create", filepath.Join(td, "release-v2.yaml"), "--output", "json"}, golden: "pipelines-create.json"},
		{name: "delete, json", args: []string{"pipelines", "delete", "release", "-o", "json"}, want: []string{"{}\n"}},
		{name: "delete a pipeline that does not exist", args: []string{"pipelines", "delete", "release", "-o", "json"}, want: []string{"{}\n"}},
		{name: "list after delete", args: []string{"pipelines", "list", "-o", "json"}, golden: "pipelines-list-empty.json"},
		{name: "create from a template that disables a transition", args: []string{"pipelines", "create", filepath.Join(td, "gated.yaml")},
			golden: "pipelines-create-template.txt"},
		{name: "the template's transition is disabled", args: []string{"state", "gated"},
			want: []string{"✕ transition disabled by arn:aws:iam::123456789012:user/sluice at", ": Release freeze\nDeploy"}},
		{name: "update from the template, json", args: []string{"pipelines", "update", filepath.Join(td, "gated.yaml"), "-o", "json"},
			golden: "pipelines-update-template.json"},
		{name: "update from the template", before: func() {
			api.sdk.EnableStageTransition(context.Background(), &codepipeline.EnableStageTransitionInput{
				PipelineName: aws.String("gated"), StageName: aws.String("Deploy"), TransitionType: types.StageTransitionTypeInbound,
			})
		}, args: []string{"pipelines", "update", filepath.Join(td, "gated.yaml")}, golden: "pipelines-update-template.txt"},
		{name: "the template's transition is disabled again", args: []string{"state", "gated"}, want: []string{": Release freeze\nDeploy"}},
		{name: "delete the template's pipeline", args: []string{"pipelines", "delete", "gated", "-o", "json"}, want: []string{"{}\n"}},
		{name: "a transition that cannot be disabled", args: []string{"pipelines", "create", filepath.Join(td, "gated-unresolved.yaml")}, code: 1,
			want: []string{"Created pipeline gated-later", "pipeline gated-later was created, but the transition into stage !GetAtt Stages.Deploy was not disabled: " +
				"ValidationException"}},
		{name: "delete that pipeline", args: []string{"pipelines", "delete", "gated-later"}, want: []string{"Deleted pipeline gated-later."}},

		// Errors.
		{name: "state of no pipeline", args: []string{"state", "nope"}, code: 1, stderr: "sluice: pipeline 'nope' not found\n"},
		{name: "watch no pipeline", args: []string{"watch", "nope"}, code: 1, stderr: "sluice: pipeline 'nope' not found\n"},
		{name: "start no pipeline", args: []string{"start", "nope"}, code: 1, stderr: "sluice: pipeline 'nope' not found\n"},
		{name: "get no pipeline", args: []string{"pipelines", "get", "nope", "-o", "json"}, code: 1, stderr: "sluice: pipeline 'nope' not found\n"},
		{name: "approve in no pipeline", args: []string{"approve", "nope", "--endpoint", "{endpoint}"}, code: 1, stderr: "sluice: pipeline 'nope' not found\n"},
		{name: "retry in no pipeline", args: []string{"retry", "nope", "Deploy"}, code: 1, stderr: "sluice: pipeline 'nope' not found\n"},
		{name: "retry with a bad mode", args: []string{"retry", "release", "Deploy", "--execution-id", "x", "--mode", "SOME"}, code: 2,
			stderr: `--mode is FAILED_ACTIONS or ALL_ACTIONS, not "SOME"`},
		{name: "stop in no pipeline", args: []string{"stop", "nope"}, code: 1, stderr: "sluice: pipeline 'nope' not found\n"},
		{name: "disable without a reason", args: []string{"transitions", "disable", "release", "Deploy"}, code: 2, stderr: "--reason is required"},
		{name: "a bad transition type", args: []string{"transitions", "enable", "release", "Deploy", "--type", "Sideways"}, code: 2,
			stderr: `--type is Inbound or Outbound, not "Sideways"`},
		{name: "a bad output format", args: []string{"pipelines", "list", "-o", "xml"}, code: 2, stderr: `--output is table or json, not "xml"`},
		{name: "a bad endpoint", args: []string{"state", "release", "--endpoint", "127.0.0.1:8080"}, code: 2, stderr: `endpoint "127.0.0.1:8080": want a URL`},
		{name: "an unknown flag", args: []string{"state", "release", "--color"}, code: 2, stderr: "unknown flag: --color"},
		{name: "missing arguments", args: []string{"transitions", "enable", "release"}, code: 2, stderr: "want 2 argument(s), PIPELINE STAGE; got 1"},
		{name: "a group without its subcommand", args: []string{"pipelines"}, bare: true, code: 2, stderr: "sluice pipelines needs a subcommand"},
		{name: "a start with a revision, of no pipeline", args: []string{"start", "nope", "--source-revision", "Build=abc"}, code: 1,
			stderr: "pipeline 'nope' not found"},
		{name: "a data folder with no credentials", args: []string{"state", "release", "--data-dir", "{empty}"}, code: 1,
			stderr: "the file 'sluice serve --data-dir"},
		{name: "no server", args: []string{"pipelines", "list", "--endpoint", "http://127.0.0.1:1"}, code: 1,
			stderr: "no Sluice server answers at http://127.0.0.1:1: start one with 'sluice serve'"},
	}
	runSteps(t, api, norm, ids, steps)
}

// remoteStep is one command line of a remote test and what it must do.
// The steps run in order, each on what the ones before left. before runs
// first (it waits for the server or records ids); {name} in args is
// replaced by ids[name].
type remoteStep struct {
	name   string
	before func()
	args   []string
	// local leaves --endpoint out: the approval commands then decide
	// through the data folder, the others ask SLUICE_ENDPOINT or the
	// default endpoint.
	local bool
	env   string // SLUICE_ENDPOINT
	bare  bool   // no flags added
	// then runs once, while the command runs, when its output says on.
	on     string
	then   func()
	code   int
	golden string   // file of the normalised standard output
	want   []string // in standard output or error
	stderr string   // in standard error
}

// runSteps runs the steps of a remote test against api: tables and JSON
// against golden files (normalised by norm), exit statuses, and what the
// errors say. ids["endpoint"] is the server's endpoint, ids["empty"] an
// empty folder.
func runSteps(t *testing.T, api *testAPI, norm normaliser, ids map[string]string, steps []remoteStep) {
	t.Helper()
	ids["endpoint"] = api.endpoint
	ids["empty"] = t.TempDir()
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before()
			}
			args := slices.Clone(st.args)
			for i, a := range args {
				args[i] = expand(a, ids)
			}
			t.Setenv(endpointEnv, expand(st.env, ids))
			if !slices.Contains(args, "--endpoint") && !st.local && !st.bare {
				args = append(args, "--endpoint", api.endpoint)
			}
			if !slices.Contains(args, "--data-dir") && !st.bare {
				args = append(args, "--data-dir", api.dataDir)
			}
			stdout, stderr, code := runCLI(t, st.on, st.then, args...)
			if code != st.code {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, st.code, stdout, stderr)
			}
			if st.golden != "" {
				n := norm
				n.pad = strings.HasSuffix(st.golden, ".txt")
				checkGolden(t, st.golden, n.apply(stdout))
			}
			for _, w := range st.want {
				if w = expand(w, ids); !strings.Contains(stdout+stderr, w) {
					t.Errorf("the output does not say %q\nstdout:\n%s\nstderr:\n%s", w, stdout, stderr)
				}
			}
			if st.stderr != "" && !strings.Contains(stderr, st.stderr) {
				t.Errorf("standard error does not say %q:\n%s", st.stderr, stderr)
			}
		})
		if !ok && st.code == 0 {
			t.FailNow() // the next steps build on this one
		}
	}
}

func expand(s string, ids map[string]string) string {
	for k, v := range ids {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}
