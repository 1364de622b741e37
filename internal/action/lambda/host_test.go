package lambda_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/action/lambda"
)

// helperEnv makes the test binary a function runtime that speaks the
// Runtime API by hand, doing what the mode it names says.
const helperEnv = "SLUICE_LAMBDA_TEST_RUNTIME"

// runtimeHelper is the test binary run as a function: it answers each
// invocation as its mode says and prints its pid, so that the tests see
// which environment ran what.
func runtimeHelper(mode string) {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime"
	post := func(path, errType string, body []byte) int {
		req, _ := http.NewRequest(http.MethodPost, api+path, bytes.NewReader(body))
		if errType != "" {
			req.Header.Set("Lambda-Runtime-Function-Error-Type", errType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			os.Exit(10)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	switch mode {
	case "init-error":
		post("/init/error", "", []byte(`{"errorType":"Runtime.InitError","errorMessage":"no configuration"}`))
		time.Sleep(time.Minute)
	case "exit-at-init":
		os.Exit(4)
	case "hang-at-init":
		time.Sleep(time.Minute)
	}
	for {
		resp, err := http.Get(api + "/invocation/next")
		if err != nil {
			os.Exit(11)
		}
		payload, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			os.Exit(12)
		}
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		fmt.Printf("pid %d request %s\n", os.Getpid(), id)
		var ev lambda.Event
		json.Unmarshal(payload, &ev)
		switch mode {
		case "respond":
			post("/invocation/"+id+"/response", "", []byte(`{}`))
		case "respond-exit":
			post("/invocation/"+id+"/response", "", []byte(`{}`))
			os.Exit(0)
		case "error":
			post("/invocation/"+id+"/error", "", []byte(`{"errorType":"MyError","errorMessage":"broken"}`))
		case "plain-error":
			post("/invocation/"+id+"/error", "Custom.Type", []byte("plain words"))
		case "headers":
			deadline, _ := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
			msg := fmt.Sprintf("job=%s arn=%s trace=%t deadline=%t",
				ev.Job.ID, resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn"),
				strings.HasPrefix(resp.Header.Get("Lambda-Runtime-Trace-Id"), "Root=1-"),
				time.UnixMilli(deadline).After(time.Now().Add(50*time.Second)))
			post("/invocation/"+id+"/error", "Report", []byte(msg))
		case "wrong-id":
			code := post("/invocation/not-"+id+"/response", "", []byte(`{}`))
			post("/invocation/"+id+"/error", "Report", []byte(fmt.Sprintf("status %d", code)))
		case "too-large":
			code := post("/invocation/"+id+"/response", "", bytes.Repeat([]byte("x"), 6<<20+1))
			fmt.Printf("status %d\n", code)
		case "twice":
			post("/invocation/"+id+"/response", "", []byte(`{}`))
			code := post("/invocation/"+id+"/response", "", []byte(`{}`))
			fmt.Printf("second response %d\n", code)
		case "no-answer":
			// asks for the next invocation without answering this one
		}
	}
}

// jobs records the jobs a host fails; the jobs in waiting wait.
type jobs struct {
	mu      sync.Mutex
	failed  map[string]*action.Result
	seen    chan string
	waiting map[string]bool
}

func (j *jobs) JobWaiting(_ context.Context, id string) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.waiting[id], nil
}

func newJobs() *jobs { return &jobs{failed: map[string]*action.Result{}, seen: make(chan string, 16)} }

func (j *jobs) FailJob(_ context.Context, id string, res *action.Result) error {
	j.mu.Lock()
	j.failed[id] = res
	j.mu.Unlock()
	j.seen <- id
	return nil
}

// wait returns the message of the next job failed.
func (j *jobs) wait(t testing.TB) (string, string) {
	t.Helper()
	select {
	case id := <-j.seen:
		j.mu.Lock()
		defer j.mu.Unlock()
		return id, j.failed[id].ErrorDetails.Message
	case <-time.After(20 * time.Second):
		t.Fatal("no invocation ended")
		return "", ""
	}
}

// only checks that the next job to end is id, and that none follows.
func (j *jobs) only(t *testing.T, id string) {
	t.Helper()
	if got, _ := j.wait(t); got != id {
		t.Errorf("job %s ended, want %s", got, id)
	}
	j.none(t)
}

// none checks that no job ends for a while.
func (j *jobs) none(t *testing.T) {
	t.Helper()
	select {
	case id := <-j.seen:
		t.Errorf("job %s ended", id)
	case <-time.After(200 * time.Millisecond):
	}
}

// logs keeps the action logs in memory.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) open(_, _, _, _ string) (io.WriteCloser, error) { return l, nil }
func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}
func (l *logs) Close() error { return nil }
func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// helperHost is a host of one function, fn, run by the test binary in the
// given mode, with the given timeout in seconds.
func helperHost(t testing.TB, mode string, timeout int) (*lambda.Host, string) {
	t.Helper()
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(dir, "fn")); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`{"Timeout": %d, "Environment": {"Variables": {"%s": "%s"}}}`, timeout, helperEnv, mode)
	if err := os.WriteFile(filepath.Join(dir, "fn.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	h := lambda.NewHost(dir, t.TempDir())
	t.Cleanup(func() { h.Close() })
	return h, dir
}

func job(id string) *action.Job {
	return &action.Job{ID: id, ActionName: "Invoke", Configuration: map[string]string{"FunctionName": "fn"}}
}

const noResult = "The AWS Lambda function fn failed to return a result."

// TestRuntimeAPI drives the Runtime API with hand-written runtimes and
// checks how each invocation ends.
func TestRuntimeAPI(t *testing.T) {
	tests := []struct {
		mode    string
		want    []string // in the job's failure
		log     []string // in the log
		timeout int
	}{
		{"respond", []string{noResult}, []string{"START RequestId: ", "END RequestId: ", "REPORT RequestId: "}, 0},
		{"error", []string{noResult + " Check the function", "The invocation ended with MyError: broken"}, nil, 0},
		{"plain-error", []string{"The invocation ended with Custom.Type: plain words"}, nil, 0},
		{"headers", []string{"Report: job=job-1 arn=arn:aws:lambda:eu-west-1:111122223333:function:fn trace=true deadline=true"}, nil, 0},
		{"wrong-id", []string{"Report: status 400"}, nil, 0},
		{"too-large", []string{"Function.ResponseSizeTooLarge"}, []string{"status 413"}, 0},
		{"twice", []string{noResult}, []string{"second response 400"}, 0},
		{"no-answer", []string{"Runtime.NoResponse: RequestId: "}, nil, 0},
		{"init-error", []string{"The invocation ended with Runtime.InitError: no configuration"}, []string{"INIT_REPORT Init Duration: "}, 0},
		{"exit-at-init", []string{"Runtime.ExitError: RequestId: ", "Error: Runtime exited with error: exit status 4"}, nil, 0},
		{"hang-at-init", []string{"Sandbox.Timedout: the runtime did not ask for an invocation within the function's timeout of 1.00 seconds"},
			[]string{"INIT_REPORT Init Duration: 1000.00 ms\tPhase: init\tStatus: timeout"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			h, _ := helperHost(t, tt.mode, cmp.Or(tt.timeout, 60))
			js, lg := newJobs(), &logs{}
			h.Connect(lambda.Wiring{Endpoint: "http://127.0.0.1:1", Region: "eu-west-1", Account: "111122223333", Jobs: js, Logs: lg.open})
			if err := h.Invoke(job("job-1"), ""); err != nil {
				t.Fatal(err)
			}
			id, msg := js.wait(t)
			if id != "job-1" {
				t.Errorf("failed job %s, want job-1", id)
			}
			for _, s := range tt.want {
				if !strings.Contains(msg, s) {
					t.Errorf("failure %q, want it to say %q", msg, s)
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for _, s := range tt.log {
				for !strings.Contains(lg.String(), s) && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if !strings.Contains(lg.String(), s) {
					t.Errorf("the log has no %q:\n%s", s, lg)
				}
			}
		})
	}
}

// pids returns the pids that ran the invocations, in the order of the log.
func pids(log string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if rest, ok := strings.CutPrefix(line, "pid "); ok {
			pid, _, _ := strings.Cut(rest, " ")
			out = append(out, pid)
		}
	}
	return out
}

// TestEnvironments checks which invocations share an environment: those
// one after another do, until the environment has idled too long or the
// function has changed.
func TestEnvironments(t *testing.T) {
	tests := []struct {
		name    string
		between func(t *testing.T, dir string)
		idle    time.Duration
		same    bool
	}{
		{"reused", nil, 0, true},
		{"stopped after its idle timeout", func(t *testing.T, _ string) { time.Sleep(300 * time.Millisecond) }, 100 * time.Millisecond, false},
		{"not reused once the configuration changes", func(t *testing.T, dir string) {
			cfg := fmt.Sprintf(`{"Timeout": 30, "Environment": {"Variables": {"%s": "respond"}}}`, helperEnv)
			if err := os.WriteFile(filepath.Join(dir, "fn.json"), []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
		}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, dir := helperHost(t, "respond", 60)
			h.IdleTimeout = tt.idle
			js, lg := newJobs(), &logs{}
			h.Connect(lambda.Wiring{Endpoint: "http://127.0.0.1:1", Jobs: js, Logs: lg.open})
			for i := range 2 {
				if i == 1 && tt.between != nil {
					tt.between(t, dir)
				}
				if err := h.Invoke(job(fmt.Sprint("job-", i)), ""); err != nil {
					t.Fatal(err)
				}
				js.wait(t)
			}
			p := pids(lg.String())
			for deadline := time.Now().Add(10 * time.Second); len(p) < 2 && time.Now().Before(deadline); p = pids(lg.String()) {
				time.Sleep(10 * time.Millisecond) // the output comes after the answer
			}
			if len(p) != 2 || (p[0] == p[1]) != tt.same {
				t.Errorf("pids %v, want the same one: %t\n%s", p, tt.same, lg)
			}
		})
	}
}

// TestInvoke checks what Invoke does before Connect, twice, and after
// Close.
func TestInvoke(t *testing.T) {
	h, _ := helperHost(t, "respond", 60)
	js := newJobs()
	if err := h.Invoke(job("early"), ""); err != nil {
		t.Fatal(err)
	}
	if err := h.Invoke(job("early"), ""); err != nil {
		t.Fatal(err)
	}
	js.none(t) // before the host is connected
	h.Connect(lambda.Wiring{Endpoint: "http://127.0.0.1:1", Credentials: aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, Jobs: js})
	js.only(t, "early")
	if err := h.Invoke(&action.Job{ID: "x", Configuration: map[string]string{"FunctionName": "missing"}}, ""); err == nil || !strings.Contains(err.Error(), "no local function missing") {
		t.Errorf("invoking a missing function: %v", err)
	}
	h.Close()
	if err := h.Invoke(job("late"), ""); err != lambda.ErrClosed {
		t.Errorf("invoke after close: %v", err)
	}
}

// TestResume invokes again, on a new host of the folder, the invocations
// an earlier host left, when their jobs still wait.
func TestResume(t *testing.T) {
	first, dir := helperHost(t, "respond", 60)
	for _, id := range []string{"waits", "settled"} {
		if err := first.Invoke(job(id), ""); err != nil {
			t.Fatal(err)
		}
	}
	first.Close()
	kept, _ := filepath.Glob(filepath.Join(dir, lambda.SpoolFolder, "*.json"))
	if len(kept) != 2 {
		t.Fatalf("kept %v, want two invocations", kept)
	}
	second := lambda.NewHost(dir, t.TempDir())
	defer second.Close()
	js := newJobs()
	js.waiting = map[string]bool{"waits": true}
	second.Connect(lambda.Wiring{Endpoint: "http://127.0.0.1:1", Jobs: js})
	js.only(t, "waits")
	for deadline := time.Now().Add(10 * time.Second); len(kept) > 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		kept, _ = filepath.Glob(filepath.Join(dir, lambda.SpoolFolder, "*.json"))
	}
	if len(kept) != 0 {
		t.Errorf("still kept: %v", kept)
	}
}

// BenchmarkInvocation measures an invocation through the host, from
// Invoke to the end that settles its job: in a warm environment, and in a
// new one each time (the runtime exits after answering).
func BenchmarkInvocation(b *testing.B) {
	for _, mode := range []string{"respond", "respond-exit"} {
		b.Run(mode, func(b *testing.B) {
			h, _ := helperHost(b, mode, 60)
			js := newJobs()
			h.Connect(lambda.Wiring{Endpoint: "http://127.0.0.1:1", Jobs: js})
			b.ResetTimer()
			for i := range b.N {
				if err := h.Invoke(job(fmt.Sprint("job-", i)), ""); err != nil {
					b.Fatal(err)
				}
				js.wait(b)
			}
		})
	}
}
