package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

// sluice is the binary under test, built once by TestMain.
var sluice string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sluice = filepath.Join(dir, "sluice")
	build := exec.Command("go", "build", "-o", sluice, "./cmd/sluice")
	build.Dir = ".."
	build.Stderr = os.Stderr
	code := 1
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build sluice:", err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is how a sluice process ended.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// proc is a sluice process.
type proc struct {
	cmd         *exec.Cmd
	out, errOut *output
	done        chan struct{} // closed when it has ended
	err         error
}

// start starts sluice with args.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(sluice, args...), out: &output{}, errOut: &output{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.errOut
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *proc) ended() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to end and returns how it ended.
func (p *proc) wait(t *testing.T, limit time.Duration) result {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("sluice %v did not end within %s:\n%s\n%s", p.cmd.Args[1:], limit, p.out, p.errOut)
	}
	r := result{stdout: p.out.String(), stderr: p.errOut.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(p.err, &exit):
		r.code = exit.ExitCode()
	case p.err != nil:
		t.Fatal(p.err)
	}
	return r
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	return start(t, args...).wait(t, 2*time.Minute)
}

// copyDir copies the CodeBuild projects' buildspecs into the data folder,
// as `make run` does.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// keys fails the test when the object at path in doc lacks a field.
func keys(t *testing.T, doc any, path string, want ...string) {
	t.Helper()
	obj, ok := doc.(map[string]any)
	if !ok {
		t.Errorf("%s is %T, not an object", path, doc)
		return
	}
	for _, k := range want {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s has no field %s (it has %v)", path, k, slices.Sorted(maps.Keys(obj)))
		}
	}
}

// output collects what a process prints, safe to read while it runs.
type output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// TestDemo runs the demo pipeline as `make run` does without a terminal,
// with --output json: the sample application goes from its folder to the
// local bucket, and the JSON has CodePipeline's shapes.
func TestDemo(t *testing.T) {
	data := t.TempDir()
	copyDir(t, "../pipelines/demo/codebuild", filepath.Join(data, "codebuild"))
	r := run(t, "run", "../pipelines/demo.yaml", "--data-dir", data, "--source-dir", "Source=../pipelines/demo/app",
		"--auto-approve", "--output", "json")
	if r.code != 0 {
		t.Fatalf("sluice run: %s", r)
	}
	if !strings.Contains(r.stderr, "Deploy/Deploy deployed to bucket sluice-demo-site: "+filepath.Join(data, "s3", "sluice-demo-site")) {
		t.Errorf("the run does not say where the site went:\n%s", r.stderr)
	}

	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	keys(t, doc, "$", "pipelineExecution", "stageStates", "actionExecutions")
	pe := doc["pipelineExecution"]
	keys(t, pe, "pipelineExecution", "pipelineName", "pipelineVersion", "pipelineExecutionId", "status", "artifactRevisions",
		"variables", "trigger", "executionMode", "executionType")
	states, _ := doc["stageStates"].([]any)
	if len(states) != 4 {
		t.Fatalf("%d stage states, want 4", len(states))
	}
	for i, s := range states {
		keys(t, s, fmt.Sprintf("stageStates[%d]", i), "stageName", "inboundTransitionState", "actionStates", "latestExecution")
		for j, a := range s.(map[string]any)["actionStates"].([]any) {
			at := fmt.Sprintf("stageStates[%d].actionStates[%d]", i, j)
			keys(t, a, at, "actionName", "latestExecution")
			keys(t, a.(map[string]any)["latestExecution"], at+".latestExecution", "actionExecutionId", "status", "lastStatusChange")
		}
	}
	actions, _ := doc["actionExecutions"].([]any)
	if len(actions) != 5 {
		t.Fatalf("%d action executions, want 5", len(actions))
	}
	for i, a := range actions {
		at := fmt.Sprintf("actionExecutions[%d]", i)
		keys(t, a, at, "pipelineExecutionId", "actionExecutionId", "pipelineVersion", "stageName", "actionName",
			"startTime", "lastUpdateTime", "status", "input", "output")
		keys(t, a.(map[string]any)["input"], at+".input", "actionTypeId", "configuration", "resolvedConfiguration", "inputArtifacts")
		keys(t, a.(map[string]any)["output"], at+".output", "outputArtifacts", "outputVariables")
	}

	// The SDK reads the same JSON as the answers of the API's operations.
	exec, state, list := sdkRead(t, r.stdout)
	if exec.Status != types.PipelineExecutionStatusSucceeded || aws.ToString(exec.PipelineName) != "demo" ||
		len(exec.ArtifactRevisions) != 1 || aws.ToString(exec.ArtifactRevisions[0].Name) != "SourceOutput" {
		t.Errorf("pipelineExecution %+v", exec)
	}
	commit := aws.ToString(exec.ArtifactRevisions[0].RevisionId)
	var stageNames []string
	for _, s := range state {
		stageNames = append(stageNames, aws.ToString(s.StageName))
		if s.LatestExecution.Status != types.StageExecutionStatusSucceeded || aws.ToString(s.LatestExecution.PipelineExecutionId) != aws.ToString(exec.PipelineExecutionId) {
			t.Errorf("stage %s: latest execution %+v", aws.ToString(s.StageName), s.LatestExecution)
		}
	}
	if got := strings.Join(stageNames, " "); got != "Source Build Approval Deploy" {
		t.Errorf("stages %s", got)
	}
	for _, a := range list {
		if a.Status != types.ActionExecutionStatusSucceeded || a.StartTime == nil || a.Input.ActionTypeId == nil {
			t.Errorf("action %s/%s: %+v", aws.ToString(a.StageName), aws.ToString(a.ActionName), a)
		}
		if aws.ToString(a.ActionName) == "Approve" && a.Input.ResolvedConfiguration["CustomData"] != "Release commit "+commit+" to staging?" {
			t.Errorf("approval custom data %q", a.Input.ResolvedConfiguration["CustomData"])
		}
	}

	page, err := os.ReadFile(filepath.Join(data, "s3", "sluice-demo-site", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "Built from "+commit+".") {
		t.Errorf("the deployed index.html is not built from %s:\n%s", commit, page)
	}
	for _, name := range []string{"welcome.html", "how.html"} {
		if _, err := os.Stat(filepath.Join(data, "s3", "sluice-demo-site", name)); err != nil {
			t.Error(err)
		}
	}
}

// sdkRead serves the parts of a run's JSON as the answers of
// GetPipelineExecution, GetPipelineState and ListActionExecutions, and reads
// them with the SDK's client.
func sdkRead(t *testing.T, doc string) (*types.PipelineExecution, []types.StageState, []types.ActionExecutionDetail) {
	t.Helper()
	var parts map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &parts); err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{
		"GetPipelineExecution": `{"pipelineExecution":` + string(parts["pipelineExecution"]) + `}`,
		"GetPipelineState":     `{"pipelineName":"demo","stageStates":` + string(parts["stageStates"]) + `}`,
		"ListActionExecutions": `{"actionExecutionDetails":` + string(parts["actionExecutions"]) + `}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, answers[strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "CodePipeline_20150709.")])
	}))
	defer srv.Close()
	c := codepipeline.New(codepipeline.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})
	ctx := context.Background()
	ge, err := c.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("demo"), PipelineExecutionId: aws.String("x")})
	if err != nil {
		t.Fatal(err)
	}
	gs, err := c.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String("demo")})
	if err != nil {
		t.Fatal(err)
	}
	la, err := c.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String("demo")})
	if err != nil {
		t.Fatal(err)
	}
	return ge.PipelineExecution, gs.StageStates, la.ActionExecutionDetails
}

// TestApproveFromAnotherProcess runs a pipeline without a terminal and
// without --auto-approve: it waits until a second process approves or
// rejects, and ends accordingly.
func TestApproveFromAnotherProcess(t *testing.T) {
	tests := []struct {
		verb     string
		wantExit int
		want     string
	}{
		{"approve", 0, "deployed to bucket gated-site"},
		{"reject", 1, "JobFailed: Rejected by"},
	}
	for _, tt := range tests {
		t.Run(tt.verb, func(t *testing.T) {
			data := t.TempDir()
			p := start(t, "run", "testdata/approve.yaml", "--data-dir", data, "--source-dir", "Source=testdata/app")
			var decided result
			deadline := time.Now().Add(time.Minute)
			for {
				decided = run(t, tt.verb, "gated", "--data-dir", data, "--summary", "from the other shell")
				if decided.code == 0 || p.ended() || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if decided.code != 0 || !strings.Contains(decided.stdout, "the running execution took it") {
				t.Errorf("sluice %s: %s", tt.verb, decided)
			}
			r := p.wait(t, time.Minute)
			if r.code != tt.wantExit || !strings.Contains(r.stdout, tt.want) || !strings.Contains(r.stdout, "from the other shell") {
				t.Errorf("sluice run: want exit %d and %q: %s", tt.wantExit, tt.want, r)
			}
			again := run(t, tt.verb, "gated", "--data-dir", data)
			if again.code != 1 || !strings.Contains(again.stderr, "no approval of pipeline gated waits") {
				t.Errorf("deciding again: %s", again)
			}
		})
	}
}

// TestOneRunPerDataFolder: a run waiting for an approval says how to give
// it from another shell, and a second run on its data folder is refused.
func TestOneRunPerDataFolder(t *testing.T) {
	data := t.TempDir()
	p := start(t, "run", "testdata/approve.yaml", "--data-dir", data, "--source-dir", "Source=testdata/app")
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(p.out.String(), "Waiting for another shell") {
		if p.ended() || time.Now().After(deadline) {
			t.Fatalf("the first run never waited for its approval:\n%s\n%s", p.out, p.errOut)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(p.out.String(), "sluice approve gated --data-dir "+data+" --execution-id ") {
		t.Errorf("the run does not say how to approve from another shell:\n%s", p.out)
	}
	second := run(t, "run", "testdata/approve.yaml", "--data-dir", data)
	if second.code != 1 || !strings.Contains(second.stderr, "another sluice process is running pipelines in "+data) {
		t.Errorf("second run: %s", second)
	}
}
