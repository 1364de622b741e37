package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/sluice-ci/sluice/internal/events"
	"github.com/sluice-ci/sluice/internal/server"
	"github.com/sluice-ci/sluice/internal/sigv4"
)

// The crash tests run a server in another process (this test binary
// again, as a worker) and kill it with SIGKILL: no shutdown of any kind.

const workerEnv = "SLUICE_SERVER_WORKER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(workerEnv); dir != "" {
		if err := runWorker(dir); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runWorker serves the data folder dir until it is killed, and writes its
// endpoint to the file "endpoint" there once it serves.
func runWorker(dir string) error {
	ctx := context.Background()
	srv, err := server.Open(ctx, server.Options{Addr: "127.0.0.1:0", DataDir: dir, Sweep: 50 * time.Millisecond})
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "endpoint.tmp")
	if err := os.WriteFile(tmp, []byte(srv.Endpoint()), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "endpoint")); err != nil {
		return err
	}
	select {}
}

// worker is a server process.
type worker struct {
	cmd    *exec.Cmd
	client *codepipeline.Client
	done   chan struct{}
}

// startWorker starts a server process on dataDir and waits until it
// serves.
func startWorker(t *testing.T, dataDir string) *worker {
	t.Helper()
	os.Remove(filepath.Join(dataDir, "endpoint"))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnv+"="+dataDir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &worker{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(w.done) }()
	t.Cleanup(w.kill)
	var endpoint []byte
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var err error
		endpoint, err = os.ReadFile(filepath.Join(dataDir, "endpoint"))
		if err == nil {
			break
		}
		select {
		case <-w.done:
			t.Fatalf("the server process ended: %s", stderr.String())
		default:
		}
		if !errors.Is(err, fs.ErrNotExist) || time.Now().After(deadline) {
			t.Fatalf("the server process serves nothing: %v", err)
		}
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithSharedCredentialsFiles([]string{filepath.Join(dataDir, sigv4.CredentialsFile)}),
		config.WithSharedConfigFiles([]string{}), config.WithSharedConfigProfile(sigv4.Profile), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	w.client = codepipeline.NewFromConfig(cfg, func(o *codepipeline.Options) { o.BaseEndpoint = aws.String(string(endpoint)) })
	return w
}

// kill ends the server process with SIGKILL.
func (w *worker) kill() {
	select {
	case <-w.done:
	default:
		w.cmd.Process.Signal(syscall.SIGKILL)
		<-w.done
	}
}

// TestEventsSurviveSIGKILL runs executions on a server process that is
// killed twice while they run, and started again each time. In the end the
// events file has, for every execution, each of its state changes in the
// order they happened: none lost, and none twice but under the same id (a
// sent event whose outbox entry was not yet removed when the process died
// is sent again, as at-least-once delivery allows).
func TestEventsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs servers as processes")
	}
	dataDir := t.TempDir()
	src := filepath.Join(dataDir, "s3", "sources")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "app.zip"), []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w := startWorker(t, dataDir)
	if _, err := w.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(t, "bench.json", "crash")}); err != nil {
		t.Fatal(err)
	}
	// Executions start while the process is killed: a start cut off by a
	// kill is asked again, as a client retries it.
	const starts = 40
	for i := range starts {
		for {
			_, err := w.client.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{
				Name: aws.String("crash"), ClientRequestToken: aws.String(fmt.Sprintf("start-%d", i)),
			})
			if err == nil {
				break
			}
			w.kill()
			w = startWorker(t, dataDir)
		}
		if i == starts/4 || i == starts/2 || i == 3*starts/4 {
			kill := w
			time.AfterFunc(time.Duration(i%7)*time.Millisecond, kill.kill)
		}
	}
	w.kill()
	w = startWorker(t, dataDir)

	// Every execution succeeds, and its last event is published.
	var ids []string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err := w.client.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("crash")})
		if err != nil {
			t.Fatal(err)
		}
		ids = ids[:0]
		for _, e := range out.PipelineExecutionSummaries {
			if e.Status == types.PipelineExecutionStatusSucceeded {
				ids = append(ids, aws.ToString(e.PipelineExecutionId))
			}
		}
		if len(ids) == starts+1 && allEnded(t, dataDir, ids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d executions succeeded and had their last event", len(ids), starts+1)
		}
	}
	w.kill()

	byID := map[string]string{}
	sent, again := 0, 0
	perExecution := map[string][]string{}
	_, err := events.Tail(ctx, filepath.Join(dataDir, server.EventsFile), events.TailOptions{
		OnBadLine: func(err *events.LineError) { t.Logf("torn line: %v", err) },
	}, func(e events.Event) error {
		sent++
		raw, _ := json.Marshal(e)
		if prev, ok := byID[e.ID]; ok {
			again++
			if prev != string(raw) {
				t.Errorf("event %s sent twice with different content:\n%s\n%s", e.ID, prev, raw)
			}
			return nil
		}
		byID[e.ID] = string(raw)
		perExecution[e.Detail.ExecutionID] = append(perExecution[e.Detail.ExecutionID], short(e))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"pipeline STARTED", "stage Source STARTED", "action Fetch STARTED", "action Fetch SUCCEEDED", "stage Source SUCCEEDED",
		"stage Deploy STARTED", "action Publish STARTED", "action Publish SUCCEEDED", "stage Deploy SUCCEEDED", "pipeline SUCCEEDED",
	}, ", ")
	for _, id := range ids {
		if got := strings.Join(perExecution[id], ", "); got != want {
			t.Errorf("execution %s's events:\n%s\nwant:\n%s", id, got, want)
		}
	}
	if len(perExecution) != len(ids) {
		t.Errorf("events of %d executions, want %d", len(perExecution), len(ids))
	}
	t.Logf("%d events written, %d of them sent again after a kill", sent, again)
}

// short describes an event as "kind name STATE".
func short(e events.Event) string {
	switch e.DetailType {
	case events.DetailTypeStage:
		return fmt.Sprintf("stage %s %s", e.Detail.Stage, e.Detail.State)
	case events.DetailTypeAction:
		return fmt.Sprintf("action %s %s", e.Detail.Action, e.Detail.State)
	}
	return fmt.Sprintf("pipeline %s", e.Detail.State)
}

// allEnded reports whether the events file has a final pipeline event of
// every execution.
func allEnded(t *testing.T, dataDir string, ids []string) bool {
	t.Helper()
	ended := map[string]bool{}
	_, err := events.Tail(context.Background(), filepath.Join(dataDir, server.EventsFile), events.TailOptions{
		OnBadLine: func(*events.LineError) {},
	}, func(e events.Event) error {
		if e.DetailType == events.DetailTypePipeline && e.Detail.State == events.StateSucceeded {
			ended[e.Detail.ExecutionID] = true
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, id := range ids {
		if !ended[id] {
			return false
		}
	}
	return true
}
