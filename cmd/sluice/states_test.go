package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// sluiceBinary builds the command once for the tests that run it as a
// process, as outside tools do.
func sluiceBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sluice")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build sluice: %v", buildErr)
	}
	return binPath
}

func TestStatesRun(t *testing.T) {
	td := filepath.Join("testdata", "states")
	tests := []struct {
		name     string
		args     []string
		code     int
		want     map[string]any // fields of the printed object
		stderr   string
		events   []string // expected event types with --history
		noFields []string
	}{
		{
			name:     "pass with exact numbers",
			args:     []string{"--definition", filepath.Join(td, "pass.asl.json"), "--input", `{"name":"Ada","n":1.50}`},
			want:     map[string]any{"status": "SUCCEEDED", "output": map[string]any{"greeting": "hello Ada", "n": json.Number("1.50")}},
			noFields: []string{"error", "cause", "events"},
		},
		{
			name:     "fail state",
			args:     []string{"--definition", filepath.Join(td, "fail.asl.json")},
			want:     map[string]any{"status": "FAILED", "error": "Custom.Error", "cause": "it broke"},
			noFields: []string{"output"},
		},
		{
			name:   "execution timeout on the virtual clock",
			args:   []string{"--definition", filepath.Join(td, "wait.asl.json"), "--virtual-clock", "--history"},
			want:   map[string]any{"status": "TIMED_OUT", "error": "States.Timeout"},
			events: []string{"ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"},
		},
		{
			name: "mocked task retried",
			args: []string{"--definition", filepath.Join(td, "task.asl.json"), "--input-file", filepath.Join(td, "task.mocks.json"),
				"--mock-config", filepath.Join(td, "task.mocks.json"), "--test-case", "Flaky", "--virtual-clock", "--history"},
			want: map[string]any{"status": "SUCCEEDED", "output": map[string]any{"body": map[string]any{"hello": "world", "big": json.Number("12345678901234567890")}}},
			events: []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed",
				"TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"},
		},
		{
			name: "task without a mocked response fails",
			args: []string{"--definition", filepath.Join(td, "task.asl.json"),
				"--mock-config", filepath.Join(td, "task.mocks.json"), "--test-case", "Missing", "--state-machine", "Greeter"},
			want: map[string]any{"status": "FAILED", "error": "States.TaskFailed"},
		},
		{
			name: "task without a handler fails",
			args: []string{"--definition", filepath.Join(td, "task.asl.json")},
			want: map[string]any{"status": "FAILED", "error": "States.TaskFailed",
				"cause": "no handler is registered for the Lambda function 'greeter' of state 'Call'"},
		},
		{
			name:   "invalid definition",
			args:   []string{"--definition", filepath.Join(td, "invalid.asl.json")},
			code:   2,
			stderr: "MISSING_TRANSITION_TARGET",
		},
		{
			name:   "both inputs",
			args:   []string{"--definition", filepath.Join(td, "pass.asl.json"), "--input", "{}", "--input-file", "x.json"},
			code:   2,
			stderr: "--input and --input-file",
		},
		{
			name:   "bad input",
			args:   []string{"--definition", filepath.Join(td, "pass.asl.json"), "--input", "{"},
			code:   2,
			stderr: "InvalidExecutionInput",
		},
		{
			name:   "unknown flag",
			args:   []string{"--definition", filepath.Join(td, "pass.asl.json"), "--bogus"},
			code:   2,
			stderr: "unknown flag",
		},
		{
			name:   "missing definition",
			args:   nil,
			code:   2,
			stderr: "--definition is required",
		},
		{
			name:   "test case without mock config",
			args:   []string{"--definition", filepath.Join(td, "pass.asl.json"), "--test-case", "X"},
			code:   2,
			stderr: "--mock-config and --test-case",
		},
	}
	bin := sluiceBinary(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"states", "run"}, tc.args...)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, stderr.String())
			}
			if tc.stderr != "" && !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q does not mention %q", stderr.String(), tc.stderr)
			}
			if tc.code != 0 {
				if stdout.Len() != 0 {
					t.Errorf("stdout %q, want nothing", stdout.String())
				}
				return
			}
			if bytes.Count(stdout.Bytes(), []byte("\n")) != 1 {
				t.Errorf("stdout is not one line: %q", stdout.String())
			}
			dec := json.NewDecoder(&stdout)
			dec.UseNumber()
			var got map[string]any
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("stdout is not one JSON object: %v", err)
			}
			for k, want := range tc.want {
				g, _ := json.Marshal(got[k])
				w, _ := json.Marshal(want)
				if !bytes.Equal(g, w) {
					t.Errorf("%s = %s, want %s", k, g, w)
				}
			}
			for _, k := range tc.noFields {
				if _, ok := got[k]; ok {
					t.Errorf("field %s present, want absent", k)
				}
			}
			if tc.events != nil {
				list, _ := got["events"].([]any)
				var types []string
				for _, e := range list {
					types = append(types, e.(map[string]any)["type"].(string))
				}
				if strings.Join(types, " ") != strings.Join(tc.events, " ") {
					t.Errorf("events %v, want %v", types, tc.events)
				}
			}
		})
	}
}

// TestStatesRunDistributedMap runs a Distributed Map state whose
// ItemReader reads a CSV object and whose ResultWriter exports to a bucket,
// both in the local buckets folder given by --s3-dir, and checks the
// manifest and result files written there.
func TestStatesRunDistributedMap(t *testing.T) {
	td := filepath.Join("testdata", "states")
	csv, err := os.ReadFile(filepath.Join(td, "ratings.csv"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, input   string
		status, error string
		cause         string
		succeeded     string // the SUCCEEDED result file
		failed        int    // how many results the FAILED file holds
	}{
		{name: "exported", input: `{"bucket":"ratings","key":"in/ratings.csv","results":"results"}`, status: "SUCCEEDED",
			succeeded: `[{"rating":3.5,"user":"1"},{"rating":4,"user":"2"},{"rating":2.25,"user":"4"}]`, failed: 1},
		{name: "missing object", input: `{"bucket":"ratings","key":"in/none.csv","results":"results"}`, status: "FAILED",
			error: "States.ItemReaderFailed", cause: "NoSuchKey: The specified key does not exist"},
		{name: "missing bucket", input: `{"bucket":"nowhere","key":"in/ratings.csv","results":"results"}`, status: "FAILED",
			error: "States.ItemReaderFailed", cause: "NoSuchBucket: The specified bucket does not exist"},
		{name: "missing results bucket", input: `{"bucket":"ratings","key":"in/ratings.csv","results":"exports"}`, status: "FAILED",
			error: "States.ResultWriterFailed", cause: "NoSuchBucket"},
	}
	bin := sluiceBinary(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s3Dir := filepath.Join(t.TempDir(), "s3")
			for _, dir := range []string{"ratings/in", "results"} {
				if err := os.MkdirAll(filepath.Join(s3Dir, dir), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(s3Dir, "ratings", "in", "ratings.csv"), csv, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "states", "run", "--definition", filepath.Join(td, "distributed-map.asl.json"),
				"--input", tc.input, "--s3-dir", s3Dir)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %s", err, stderr.String())
			}
			var res struct {
				Status, Error, Cause string
				Output               struct {
					MapRunArn           string
					ResultWriterDetails struct{ Bucket, Key string }
				}
			}
			if err := json.Unmarshal(stdout, &res); err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
			if res.Status != tc.status || res.Error != tc.error || !strings.Contains(res.Cause, tc.cause) {
				t.Fatalf("status %s %s %q, want %s %s %q", res.Status, res.Error, res.Cause, tc.status, tc.error, tc.cause)
			}
			if tc.status != "SUCCEEDED" {
				return
			}
			details := res.Output.ResultWriterDetails
			runID := res.Output.MapRunArn[strings.LastIndex(res.Output.MapRunArn, ":")+1:]
			if details.Bucket != "results" || details.Key != "scores/"+runID+"/manifest.json" {
				t.Fatalf("output %s", stdout)
			}
			var manifest struct {
				DestinationBucket string
				MapRunArn         string
				ResultFiles       map[string][]struct {
					Key  string
					Size int
				}
			}
			readJSON(t, filepath.Join(s3Dir, "results", filepath.FromSlash(details.Key)), &manifest)
			if manifest.DestinationBucket != "results" || manifest.MapRunArn != res.Output.MapRunArn ||
				len(manifest.ResultFiles["SUCCEEDED"]) != 1 || len(manifest.ResultFiles["FAILED"]) != 1 || len(manifest.ResultFiles["PENDING"]) != 0 {
				t.Fatalf("manifest %+v", manifest)
			}
			succeeded := manifest.ResultFiles["SUCCEEDED"][0]
			body, err := os.ReadFile(filepath.Join(s3Dir, "results", filepath.FromSlash(succeeded.Key)))
			if err != nil || string(body) != tc.succeeded || succeeded.Size != len(body) {
				t.Fatalf("%s holds %s (%v), want %s of %d bytes", succeeded.Key, body, err, tc.succeeded, succeeded.Size)
			}
			var failed []struct{ Error, Cause, Status string }
			readJSON(t, filepath.Join(s3Dir, "results", filepath.FromSlash(manifest.ResultFiles["FAILED"][0].Key)), &failed)
			if len(failed) != tc.failed || failed[0].Error != "TooLow" || failed[0].Status != "FAILED" {
				t.Fatalf("failed results %+v", failed)
			}
		})
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
