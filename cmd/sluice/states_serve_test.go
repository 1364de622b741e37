package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// serveProcess is a running `sluice states serve`.
type serveProcess struct {
	cmd    *exec.Cmd
	url    string
	stdout bytes.Buffer
	done   chan struct{}
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startServe runs `sluice states serve` on a free port of the loopback
// interface and returns once it prints its address.
func startServe(t *testing.T, dataDir string) *serveProcess {
	t.Helper()
	p := &serveProcess{done: make(chan struct{})}
	p.cmd = exec.Command(sluiceBinary(t), "states", "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir)
	p.cmd.Stderr = os.Stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	first := make(chan string, 1)
	go func() {
		defer close(p.done)
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		p.stdout.WriteString(line)
		first <- line
		io.Copy(&p.stdout, r)
		p.cmd.Wait()
	}()
	select {
	case line := <-first:
		m := listening.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("serve printed %q, not its address", line)
		}
		p.url = m[1]
	case <-time.After(30 * time.Second):
		t.Fatal("serve printed nothing")
	}
	return p
}

// stop sends SIGTERM and checks that the server exits cleanly.
func (p *serveProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("serve exited with %d; printed:\n%s", code, p.stdout.String())
	}
	for _, want := range []string{"aws stepfunctions --endpoint-url " + p.url, "Stopped"} {
		if !strings.Contains(p.stdout.String(), want) {
			t.Fatalf("serve did not print %q; printed:\n%s", want, p.stdout.String())
		}
	}
}

func (p *serveProcess) client() *sfn.Client {
	return sfn.New(sfn.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(p.url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDSLUICELOCAL", "not-a-secret", ""),
	})
}

// TestStatesServe runs the server as a process: the AWS CLI drives it, and
// executions left waiting when it stops (on a Wait state, on a task token
// that nothing answers) finish after a restart on the same data folder.
func TestStatesServe(t *testing.T) {
	dataDir := t.TempDir()
	ctx := context.Background()
	srv := startServe(t, dataDir)
	c := srv.client()
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String("Waits"),
		Definition: aws.String(`{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "P"}, "P": {"Type": "Pass", "End": true}}}`),
		RoleArn:    aws.String("arn:aws:iam::123456789012:role/states"),
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("aws cli", func(t *testing.T) { awsCLI(t, srv.url, *sm.StateMachineArn) })

	start, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("across-restart"), Input: aws.String(`{"n":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	parked := startParked(t, c)
	srv.stop(t)
	if !strings.Contains(srv.stdout.String(), "send-task-success --task-token "+parked.token) {
		t.Fatalf("serve did not print the parked token %s; printed:\n%s", parked.token, srv.stdout.String())
	}

	srv = startServe(t, dataDir)
	c = srv.client()
	d := waitDone(t, c, aws.ToString(start.ExecutionArn))
	if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"n":1}` {
		t.Fatalf("after the restart the execution is %s with output %q", d.Status, aws.ToString(d.Output))
	}
	if _, ok := awsCLIPath(t); ok {
		runAWS(t, srv.url, "send-task-success", "--task-token", parked.token, "--task-output", `{"approved":true}`)
	} else if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(parked.token), Output: aws.String(`{"approved":true}`)}); err != nil {
		t.Fatalf("complete the parked task after the restart: %v", err)
	}
	d = waitDone(t, c, parked.execution)
	if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"approval":{"approved":true},"order":7}` {
		t.Fatalf("the parked execution is %s with output %q", d.Status, aws.ToString(d.Output))
	}
	srv.stop(t)
}

// waitDone describes an execution once it is no longer running, or after
// 30 seconds.
func waitDone(t *testing.T, c *sfn.Client, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		d, err := c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != types.ExecutionStatusRunning || time.Now().After(deadline) {
			return d
		}
	}
}

// parkedTask is an execution whose callback task nothing answers.
type parkedTask struct {
	execution, token string
}

// startParked starts an execution whose .waitForTaskToken task has no
// handler, and reads its task token where a user would: in the
// TaskScheduled event's parameters.
func startParked(t *testing.T, c *sfn.Client) parkedTask {
	t.Helper()
	ctx := context.Background()
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("Approval"),
		Definition: aws.String(`{"StartAt": "Approve", "States": {"Approve": {"Type": "Task",
		  "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
		  "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
		  "ResultPath": "$.approval", "End": true}}}`),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/states"),
	})
	if err != nil {
		t.Fatal(err)
	}
	start, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("parked"), Input: aws.String(`{"order":7}`)})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		var token string
		submitted := false
		for _, e := range h.Events {
			if d := e.TaskScheduledEventDetails; d != nil {
				var params struct{ MessageBody struct{ Token string } }
				if err := json.Unmarshal([]byte(aws.ToString(d.Parameters)), &params); err != nil {
					t.Fatal(err)
				}
				token = params.MessageBody.Token
			}
			submitted = submitted || e.Type == types.HistoryEventTypeTaskSubmitted
		}
		if submitted && token != "" {
			return parkedTask{execution: *start.ExecutionArn, token: token}
		}
	}
	t.Fatal("the task was not parked")
	return parkedTask{}
}

// awsCLIPath returns the AWS CLI; it must be installed under CI.
func awsCLIPath(t *testing.T) (string, bool) {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil && os.Getenv("CI") != "" {
		t.Fatal("the aws CLI is not on PATH")
	}
	return bin, err == nil
}

// runAWS runs an AWS CLI stepfunctions command against the server, with
// made-up credentials and no configuration of the user's, and returns
// what it printed.
func runAWS(t *testing.T, url string, args ...string) []byte {
	t.Helper()
	bin, ok := awsCLIPath(t)
	if !ok {
		t.Skip("the aws CLI is not on PATH")
	}
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_ACCESS_KEY_ID=AKIDSLUICELOCAL", "AWS_SECRET_ACCESS_KEY=not-a-secret",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1", "AWS_PAGER=",
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true")
	cmd := exec.Command(bin, append([]string{"stepfunctions", "--endpoint-url", url, "--output", "json"}, args...)...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", args[0], err, stderr.String())
	}
	return out
}

// awsCLI runs AWS CLI commands against the server, when the CLI is
// installed (it must be under CI).
func awsCLI(t *testing.T, url, machine string) {
	tests := []struct {
		name  string
		args  []string
		field string // a top-level field of the JSON printed
		want  *regexp.Regexp
	}{
		{"list-state-machines", []string{"list-state-machines"}, "stateMachines", regexp.MustCompile(regexp.QuoteMeta(machine))},
		{"start-execution", []string{"start-execution", "--state-machine-arn", machine, "--name", "from-cli", "--input", `{"via":"cli"}`},
			"executionArn", regexp.MustCompile(`:execution:Waits:from-cli$`)},
		{"describe-execution", []string{"describe-execution", "--execution-arn", strings.Replace(machine, ":stateMachine:", ":execution:", 1) + ":from-cli"},
			"input", regexp.MustCompile(`^\{"via":"cli"\}$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := runAWS(t, url, tt.args...)
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(out, &obj); err != nil {
				t.Fatalf("aws printed %s: %v", out, err)
			}
			got := string(obj[tt.field])
			var s string
			if json.Unmarshal(obj[tt.field], &s) == nil {
				got = s
			}
			if !tt.want.MatchString(got) {
				t.Fatalf("%s is %s, want a match of %s", tt.field, got, tt.want)
			}
		})
	}
}

func TestStatesServeUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"address in use or invalid", []string{"--addr", "256.0.0.1:1"}, "listen on 256.0.0.1:1"},
		{"missing mock config", []string{"--mock-config", filepath.Join(t.TempDir(), "none.json")}, "read mock config"},
		{"extra argument", []string{"now"}, "unexpected arguments"},
		{"unknown flag", []string{"--port", "1"}, "unknown flag"},
		{"not a boolean", []string{"--park-unhandled=maybe"}, `invalid argument "maybe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(sluiceBinary(t), append([]string{"states", "serve", "--data-dir", t.TempDir()}, tt.args...)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(stderr.String(), tt.stderr) {
				t.Fatalf("exit %v, stderr %q; want status 2 and %q", err, stderr.String(), tt.stderr)
			}
		})
	}
}

// TestStatesServeBuckets runs a Distributed Map state on the server: its
// ItemReader and ResultWriter use the buckets of the data folder's s3.
func TestStatesServeBuckets(t *testing.T) {
	dataDir := t.TempDir()
	td := filepath.Join("testdata", "states")
	csv, err := os.ReadFile(filepath.Join(td, "ratings.csv"))
	if err != nil {
		t.Fatal(err)
	}
	def, err := os.ReadFile(filepath.Join(td, "distributed-map.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"s3/ratings/in", "s3/results"} {
		if err := os.MkdirAll(filepath.Join(dataDir, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dataDir, "s3", "ratings", "in", "ratings.csv"), csv, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv := startServe(t, dataDir)
	defer srv.stop(t)
	c := srv.client()
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("Ratings"), Definition: aws.String(string(def)), RoleArn: aws.String("arn:aws:iam::123456789012:role/states"),
	})
	if err != nil {
		t.Fatal(err)
	}
	start, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn,
		Input: aws.String(`{"bucket":"ratings","key":"in/ratings.csv","results":"results"}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := waitDone(t, c, aws.ToString(start.ExecutionArn))
	var out struct{ ResultWriterDetails struct{ Bucket, Key string } }
	if d.Status != types.ExecutionStatusSucceeded || json.Unmarshal([]byte(aws.ToString(d.Output)), &out) != nil {
		t.Fatalf("execution %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	if _, err := os.Stat(filepath.Join(dataDir, "s3", "results", filepath.FromSlash(out.ResultWriterDetails.Key))); err != nil {
		t.Fatalf("the manifest is not in the data folder's bucket: %v", err)
	}
}
