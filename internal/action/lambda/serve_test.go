package lambda_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/sluice-ci/sluice/internal/runtime"
	"github.com/sluice-ci/sluice/internal/server"
)

// TestServe runs the test function's pipelines on the local server, which
// the function reports to, created and watched through the SDK's client.
func TestServe(t *testing.T) {
	dir := workerFolder(t)
	ctx := context.Background()
	srv, c := startServer(t, dir)
	defer srv.Shutdown(ctx)
	tests := []struct {
		name    string
		params  string
		status  types.ActionExecutionStatus
		vars    map[string]string
		message string
	}{
		{"continuation", `{"mode": "continue", "rounds": 3}`, types.ActionExecutionStatusSucceeded, map[string]string{"Rounds": "3"}, ""},
		{"failure", `{"mode": "fail", "message": "no"}`, types.ActionExecutionStatusFailed, nil, "no"},
		{"output variables with a continuation token", `{"mode": "misuse"}`, types.ActionExecutionStatusFailed, nil,
			"ValidationException: outputVariables can be included only when there is no continuation token on the request"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("served-%d", i)
			create(t, c, name, invoke("Call", "worker", tt.params, ""))
			a := waitAction(t, c, name, "Call")
			if a.Status != tt.status {
				t.Errorf("action %s, want %s", a.Status, tt.status)
			}
			for k, v := range tt.vars {
				if got := a.Output.OutputVariables[k]; got != v {
					t.Errorf("variable %s = %q, want %q", k, got, v)
				}
			}
			if tt.message != "" {
				if r := a.Output.ExecutionResult; r == nil || r.ErrorDetails == nil || !strings.Contains(aws.ToString(r.ErrorDetails.Message), tt.message) {
					t.Errorf("execution result %+v, want an error saying %q", r, tt.message)
				}
			}
		})
	}
}

// startServer starts the local server of a data folder, and its client.
func startServer(t *testing.T, dir string) (*server.Server, *codepipeline.Client) {
	t.Helper()
	ctx := context.Background()
	srv, err := server.Open(ctx, server.Options{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return srv, codepipeline.New(codepipeline.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint()),
		Credentials: credentials.NewStaticCredentialsProvider(srv.Admin.AccessKeyID, srv.Admin.SecretAccessKey, ""),
	})
}

// create creates the pipeline of the actions through the API, which
// starts an execution of it.
func create(t *testing.T, c *codepipeline.Client, name, actions string) {
	t.Helper()
	raw, err := json.Marshal(declaration(t, name, actions))
	if err != nil {
		t.Fatal(err)
	}
	var d types.PipelineDeclaration
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreatePipeline(context.Background(), &codepipeline.CreatePipelineInput{Pipeline: &d}); err != nil {
		t.Fatal(err)
	}
}

// waitAction waits for an action of a pipeline's only execution to end.
func waitAction(t *testing.T, c *codepipeline.Client, pipelineName, actionName string) types.ActionExecutionDetail {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		out, err := c.ListActionExecutions(context.Background(), &codepipeline.ListActionExecutionsInput{PipelineName: aws.String(pipelineName)})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.ActionExecutionDetails {
			if aws.ToString(a.ActionName) == actionName && a.Status != types.ActionExecutionStatusInProgress {
				return a
			}
		}
	}
	t.Fatalf("action %s of %s did not end", actionName, pipelineName)
	return types.ActionExecutionDetail{}
}

// TestServeRestart stops the server while a function runs: the next server
// of the data folder invokes the function again, and the execution ends as
// if nothing had happened.
func TestServeRestart(t *testing.T) {
	dir := workerFolder(t)
	ctx := context.Background()
	srv, c := startServer(t, dir)
	create(t, c, "restarted", invoke("Call", "worker", `{"mode": "sleep", "seconds": 1}`, ""))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err := c.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String("restarted")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ActionExecutionDetails) > 0 && aws.ToString(out.ActionExecutionDetails[0].ActionName) == "Call" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the Lambda invoke action did not start")
		}
	}
	time.Sleep(200 * time.Millisecond) // the function sleeps
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	srv, c = startServer(t, dir)
	defer srv.Shutdown(ctx)
	a := waitAction(t, c, "restarted", "Call")
	if a.Status != types.ActionExecutionStatusSucceeded {
		t.Errorf("action %s %+v, want Succeeded", a.Status, a.Output.ExecutionResult)
	}
	log, err := os.ReadFile(runtime.LogPath(filepath.Join(dir, "logs"), "restarted", aws.ToString(a.PipelineExecutionId), "Invoke", "Call"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "START RequestId: "); n != 2 {
		t.Errorf("the function was invoked %d times, want 2:\n%s", n, log)
	}
}
