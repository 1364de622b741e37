package lambda_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-ci/sluice/internal/action/s3"
	"github.com/sluice-ci/sluice/internal/local"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/runtime"
	"github.com/sluice-ci/sluice/internal/store"
)

var (
	buildOnce sync.Once
	fnBinary  string
	buildErr  error
)

// function builds testdata/fn, a provided.al2023 function on aws-lambda-go
// and the SDK's CodePipeline client, once per test binary.
func function(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the test function with")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-lambda-fn")
		if err != nil {
			buildErr = err
			return
		}
		fnBinary = filepath.Join(dir, "bootstrap")
		cmd := exec.Command(goTool, "build", "-tags", "lambda.norpc", "-o", fnBinary, "./testdata/fn")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./testdata/fn: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return fnBinary
}

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		runtimeHelper(mode)
		return
	}
	code := m.Run()
	if fnBinary != "" {
		os.RemoveAll(filepath.Dir(fnBinary))
	}
	os.Exit(code)
}

// install puts the test function in a data folder as lambda/<name> (or
// lambda/<name>/bootstrap when folder is set), with its configuration.
func install(t *testing.T, dataDir, name string, folder bool, config string) {
	t.Helper()
	dir := filepath.Join(dataDir, "lambda")
	path := filepath.Join(dir, name)
	if folder {
		path = filepath.Join(path, "bootstrap")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(function(t), path); err != nil {
		t.Fatal(err)
	}
	if config != "" {
		if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// workerFolder returns a new data folder with the source object and the
// test function installed as "worker".
func workerFolder(t *testing.T) string {
	function(t)
	dir := t.TempDir()
	putSource(t, dir)
	install(t, dir, "worker", false, "")
	return dir
}

// putSource puts the source object the pipelines start from: a zip
// holding greeting.txt.
func putSource(t *testing.T, dataDir string) {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, _ := z.Create("greeting.txt")
	w.Write([]byte("hello\n"))
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s3.NewStore(filepath.Join(dataDir, "s3")).Put(context.Background(), "src", "app.zip", &buf, nil, ""); err != nil {
		t.Fatal(err)
	}
}

// declaration is a pipeline of an S3 source and a stage of the given
// actions (YAML, indented for the stage's actions list).
func declaration(t *testing.T, name, actions string) *pipeline.Declaration {
	t.Helper()
	src := fmt.Sprintf(`name: %s
roleArn: arn:aws:iam::123456789012:role/p
artifactStore: {type: S3, location: artifacts}
pipelineType: V2
stages:
  - name: Source
    actions:
      - name: Fetch
        actionTypeId: {category: Source, owner: AWS, provider: S3, version: "1"}
        configuration: {S3Bucket: src, S3ObjectKey: app.zip, PollForSourceChanges: "false"}
        outputArtifacts: [{name: SourceOutput}]
  - name: Invoke
    actions:
%s`, name, actions)
	f, err := pipeline.Parse([]byte(src), pipeline.Options{})
	if err != nil {
		t.Fatalf("pipeline %s: %v", name, err)
	}
	p := f.Pipelines[0]
	if problems := p.Problems(); pipeline.HasErrors(problems) {
		t.Fatalf("pipeline %s is invalid: %v", name, problems)
	}
	return p.Declaration
}

// invoke is the YAML of a Lambda invoke action.
func invoke(name, function, params string, extra string) string {
	return fmt.Sprintf(`      - name: %s
        actionTypeId: {category: Invoke, owner: AWS, provider: Lambda, version: "1"}
        configuration: {FunctionName: %s, UserParameters: '%s'}
%s`, name, function, params, extra)
}

// want is what an action execution is expected to be.
type want struct {
	status string
	vars   map[string]string // a subset of its output variables
	code   string            // its error code
	errs   []string          // what its error message says
	logs   []string          // what its log says
}

// TestRun runs pipelines whose Lambda invoke actions run the test function
// through the local runner: its reports, continuations, failures, crashes
// and timeouts, and what it sees.
func TestRun(t *testing.T) {
	dir := workerFolder(t)
	install(t, dir, "slow", false, `{"Timeout": 1}`)
	install(t, dir, "packaged", true, `{"MemorySize": 256, "Handler": "main", "Environment": {"Variables": {"STAGE": "local"}}}`)
	l, err := local.Open(context.Background(), dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const failed = "The AWS Lambda function %s failed to return a result. Check the function to verify that it has permission to call the PutJobSuccessResult action and that it made a call to PutJobSuccessResult."
	tests := []struct {
		name    string
		actions string
		status  string
		want    map[string]want
	}{
		{
			name: "success with output variables a later action uses",
			actions: invoke("Answer", "worker", `{"mode": "succeed", "vars": {"Answer": "42"}}`, `        namespace: fn
        inputArtifacts: [{name: SourceOutput}]
        outputArtifacts: [{name: Answered}]
        runOrder: 1
`) + invoke("Echo", "worker", `{"mode": "succeed", "vars": {"Echo": "#{fn.Answer} #{fn.File-greeting}"}}`, `        inputArtifacts: [{name: Answered}]
        runOrder: 2
`),
			status: store.ExecutionSucceeded,
			want: map[string]want{
				"Answer": {status: store.ActionSucceeded, vars: map[string]string{"Answer": "42", "File-greeting": "hello"},
					logs: []string{"initialised worker", "START RequestId: ", "END RequestId: ", "REPORT RequestId: ", "Init Duration: "}},
				"Echo": {status: store.ActionSucceeded, vars: map[string]string{"Echo": "42 hello", "File-answer": "42"}},
			},
		},
		{
			name:    "failure reported with PutJobFailureResult",
			actions: invoke("Check", "worker", `{"mode": "fail", "message": "the check failed"}`, ""),
			status:  store.ExecutionFailed,
			want:    map[string]want{"Check": {status: store.ActionFailed, code: "JobFailed", errs: []string{"the check failed"}}},
		},
		{
			name:    "continuation: two rounds, then success",
			actions: invoke("Poll", "worker", `{"mode": "continue", "rounds": 3}`, ""),
			status:  store.ExecutionSucceeded,
			want:    map[string]want{"Poll": {status: store.ActionSucceeded, vars: map[string]string{"Rounds": "3"}}},
		},
		{
			name:    "a function that panics",
			actions: invoke("Crash", "worker", `{"mode": "panic"}`, ""),
			status:  store.ExecutionFailed,
			want: map[string]want{"Crash": {status: store.ActionFailed, code: "JobFailed",
				errs: []string{fmt.Sprintf(failed, "worker"), "The invocation ended with string: the function panicked"}}},
		},
		{
			name:    "a function that exits",
			actions: invoke("Exit", "worker", `{"mode": "exit"}`, ""),
			status:  store.ExecutionFailed,
			want: map[string]want{"Exit": {status: store.ActionFailed, code: "JobFailed",
				errs: []string{fmt.Sprintf(failed, "worker"), "Runtime.ExitError: RequestId: ", "Error: Runtime exited with error: exit status 3"}}},
		},
		{
			name:    "a function that returns an error",
			actions: invoke("Error", "worker", `{"mode": "error"}`, ""),
			status:  store.ExecutionFailed,
			want: map[string]want{"Error": {status: store.ActionFailed, code: "JobFailed",
				errs: []string{fmt.Sprintf(failed, "worker"), "errorString: the function failed"}}},
		},
		{
			name:    "a function that returns without reporting",
			actions: invoke("Silent", "worker", `{"mode": "silent"}`, ""),
			status:  store.ExecutionFailed,
			want:    map[string]want{"Silent": {status: store.ActionFailed, code: "JobFailed", errs: []string{fmt.Sprintf(failed, "worker")}}},
		},
		{
			name:    "a function that runs out of time",
			actions: invoke("Slow", "slow", `{"mode": "sleep", "seconds": 60}`, ""),
			status:  store.ExecutionFailed,
			want: map[string]want{"Slow": {status: store.ActionFailed, code: "JobFailed",
				errs: []string{fmt.Sprintf(failed, "slow"), "Sandbox.Timedout: RequestId: ", "Error: Task timed out after 1.00 seconds"},
				logs: []string{"Task timed out after 1.00 seconds"}}},
		},
		{
			name:    "a function that is not in the data folder",
			actions: invoke("Missing", "nowhere", `{}`, ""),
			status:  store.ExecutionFailed,
			want: map[string]want{"Missing": {status: store.ActionFailed, code: "ConfigurationError",
				errs: []string{"no local function nowhere: put its executable at " + filepath.Join(dir, "lambda", "nowhere")}}},
		},
		{
			name:    "what a packaged function sees",
			actions: invoke("Env", "arn:aws:lambda:us-east-1:123456789012:function:packaged:live", `{"mode": "env"}`, ""),
			status:  store.ExecutionSucceeded,
			want: map[string]want{"Env": {status: store.ActionSucceeded, vars: map[string]string{
				"AccountId":                       "123456789012",
				"FunctionArn":                     "arn:aws:lambda:us-east-1:123456789012:function:packaged",
				"Deadline":                        "true",
				"SignsWith":                       "true",
				"AWS-LAMBDA-FUNCTION-NAME":        "packaged",
				"AWS-LAMBDA-FUNCTION-VERSION":     "$LATEST",
				"AWS-LAMBDA-FUNCTION-MEMORY-SIZE": "256",
				"AWS-LAMBDA-LOG-GROUP-NAME":       "/aws/lambda/packaged",
				"AWS-REGION":                      "us-east-1",
				"-HANDLER":                        "main",
				"STAGE":                           "local",
				"LAMBDA-TASK-ROOT":                filepath.Join(dir, "lambda", "packaged"),
				"Cwd":                             filepath.Join(dir, "lambda", "packaged"),
				"SLUICE-ARTIFACTS-DIR":            filepath.Join(dir, "artifacts"),
			}}},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			d := declaration(t, fmt.Sprintf("invoke-%d", i), tt.actions)
			out, err := l.Run(ctx, local.RunInput{Pipeline: d})
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != tt.status {
				t.Errorf("execution %s, want %s", out.Status, tt.status)
			}
			acts, err := l.Runtime.Store.ListActionExecutions(ctx, d.Name, out.PipelineExecutionID)
			if err != nil {
				t.Fatal(err)
			}
			for name, w := range tt.want {
				a := find(acts, name)
				if a == nil {
					t.Errorf("action %s did not run", name)
					continue
				}
				checkAction(t, a, w, runtime.LogPath(filepath.Join(dir, "logs"), d.Name, out.PipelineExecutionID, "Invoke", name))
			}
			if tt.name == "continuation: two rounds, then success" {
				checkRounds(t, find(acts, "Poll"))
			}
		})
	}
}

func find(acts []store.ActionExecution, name string) *store.ActionExecution {
	for i := range acts {
		if acts[i].ActionName == name {
			return &acts[i]
		}
	}
	return nil
}

func checkAction(t *testing.T, a *store.ActionExecution, w want, logPath string) {
	t.Helper()
	if a.Status != w.status {
		t.Errorf("action %s %s, want %s (%+v)", a.ActionName, a.Status, w.status, a.Output.ExecutionResult.ErrorDetails)
	}
	for k, v := range w.vars {
		if got := a.Output.OutputVariables[k]; got != v {
			t.Errorf("action %s: variable %s = %q, want %q", a.ActionName, k, got, v)
		}
	}
	ed := a.Output.ExecutionResult.ErrorDetails
	if w.code != "" && (ed == nil || ed.Code != w.code) {
		t.Errorf("action %s: error details %+v, want code %s", a.ActionName, ed, w.code)
	}
	for _, s := range w.errs {
		if ed == nil || !strings.Contains(ed.Message, s) {
			t.Errorf("action %s: error details %+v, want a message with %q", a.ActionName, ed, s)
		}
	}
	if len(w.logs) == 0 {
		return
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range w.logs {
		if !strings.Contains(string(log), s) {
			t.Errorf("action %s: the log has no %q:\n%s", a.ActionName, s, log)
		}
	}
}

// checkRounds checks that each round of a continued action had a job of
// its own, the first being the attempt's.
func checkRounds(t *testing.T, a *store.ActionExecution) {
	t.Helper()
	jobs := strings.Split(a.Output.OutputVariables["Jobs"], ",")
	seen := map[string]bool{}
	for _, j := range jobs {
		seen[j] = true
	}
	if len(jobs) != 3 || len(seen) != 3 || jobs[0] != a.ActionExecutionID {
		t.Errorf("jobs of the rounds %v, want 3 different ones starting with the attempt's %s", jobs, a.ActionExecutionID)
	}
}
