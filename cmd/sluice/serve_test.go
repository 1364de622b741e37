package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/sluice-ci/sluice/internal/webhook"
)

// sluiceServe is a running `sluice serve`.
type sluiceServe struct {
	cmd  *exec.Cmd
	url  string
	out  *bytes.Buffer
	done chan struct{}
}

// serve runs `sluice serve` over dataDir on a free port and returns once
// it prints its address.
func serve(t *testing.T, dataDir string, args ...string) *sluiceServe {
	t.Helper()
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--quiet"}, args...)
	s := &sluiceServe{cmd: exec.Command(sluiceBinary(t), args...), out: &bytes.Buffer{}, done: make(chan struct{})}
	var stderr bytes.Buffer
	s.cmd.Stderr = &stderr
	pipe, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		s.cmd.Wait()
	}()
	t.Cleanup(func() { s.kill() })
	deadline := time.After(60 * time.Second)
	for s.url == "" {
		select {
		case line := <-lines:
			s.out.WriteString(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				s.url = m[1]
			}
		case <-s.done:
			t.Fatalf("sluice serve ended: %s", stderr.String())
		case <-deadline:
			t.Fatal("sluice serve printed no address")
		}
	}
	for len(lines) > 0 || !strings.Contains(s.out.String(), "AWS CLI:") {
		select {
		case line := <-lines:
			s.out.WriteString(line + "\n")
		case <-time.After(5 * time.Second):
			t.Fatalf("sluice serve printed no AWS CLI line: %s", s.out.String())
		}
	}
	return s
}

// kill ends the server with SIGKILL: no shutdown of any kind.
func (s *sluiceServe) kill() {
	select {
	case <-s.done:
	default:
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.done
	}
}

func (s *sluiceServe) client(t *testing.T, dataDir string) *codepipeline.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithSharedCredentialsFiles([]string{filepath.Join(dataDir, "credentials")}),
		config.WithSharedConfigFiles([]string{}), config.WithSharedConfigProfile("sluice"), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	return codepipeline.NewFromConfig(cfg, func(o *codepipeline.Options) { o.BaseEndpoint = aws.String(s.url) })
}

// writeSource puts the zip that the crash pipeline's source fetches.
func writeSource(t *testing.T, dataDir string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("README")
	w.Write([]byte("the application\n"))
	zw.Close()
	dir := filepath.Join(dataDir, "s3", "sources")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.zip"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestServeSurvivesSIGKILL kills `sluice serve` while builds run,
// approvals wait (one of them decided a moment before), and deliveries are
// being accepted; then starts it again on the same data folder. Every
// delivery is sent until it is answered, as GitHub redelivers one that
// failed, and every approval is decided once. In the end every execution
// succeeds, each delivery started exactly one (a delivery claimed just
// before the kill is answered as a duplicate when sent again), and each
// approval was decided once.
func TestServeSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs sluice serve as a process")
	}
	ctx := context.Background()
	dataDir, pipelines := t.TempDir(), t.TempDir()
	raw, err := os.ReadFile("testdata/serve/crash.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(pipelines, "crash.json"), raw, 0o644)
	writeSource(t, dataDir)

	srv := serve(t, dataDir, "--pipelines", pipelines)
	if !strings.Contains(srv.out.String(), "AWS_SHARED_CREDENTIALS_FILE=") || !strings.Contains(srv.out.String(), "--endpoint-url "+srv.url+" codepipeline list-pipelines") {
		t.Errorf("sluice serve printed:\n%s", srv.out.String())
	}
	c := srv.client(t, dataDir)
	hook, err := c.PutWebhook(ctx, &codepipeline.PutWebhookInput{Webhook: &types.WebhookDefinition{
		Name: aws.String("crash-hook"), TargetPipeline: aws.String("crash"), TargetAction: aws.String("Fetch"),
		Filters:                     []types.WebhookFilterRule{{JsonPath: aws.String("$.ref"), MatchEquals: aws.String("refs/heads/main")}},
		Authentication:              types.WebhookAuthenticationTypeGithubHmac,
		AuthenticationConfiguration: &types.WebhookAuthConfiguration{SecretToken: aws.String("crash-secret")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	hookPath := strings.TrimPrefix(aws.ToString(hook.Webhook.Url), srv.url)

	// Deliveries go on while the server is killed; each is sent until it
	// is answered, to whichever server is up.
	const deliveries = 16
	var (
		mu       sync.Mutex
		url      = srv.url
		accepted = map[string]int{}
		answered = map[string]string{}
	)
	send := func(id string) {
		body := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","after":"%s"}`, id))
		failed := false
		for {
			mu.Lock()
			u := url
			mu.Unlock()
			req, _ := http.NewRequest(http.MethodPost, u+hookPath, bytes.NewReader(body))
			req.Header.Set(webhook.HeaderEvent, "push")
			req.Header.Set(webhook.HeaderDelivery, id)
			req.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte("crash-secret"), body))
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
					mu.Lock()
					if resp.StatusCode == http.StatusAccepted {
						accepted[id]++
					}
					// A duplicate answer is right only for a delivery whose
					// earlier attempt was cut off by the kill after the
					// server had claimed it.
					answered[id] = fmt.Sprintf("%d after a cut-off attempt: %v", resp.StatusCode, failed)
					mu.Unlock()
					return
				}
			}
			failed = true
			time.Sleep(20 * time.Millisecond)
		}
	}
	var wg sync.WaitGroup
	for i := range deliveries / 2 {
		send(fmt.Sprintf("early-%02d", i))
	}
	// An execution reaches its approval; decide it.
	waitApprovals(t, c, 1)
	pending := approvalsOf(t, c)
	decided := pending[0]
	if _, err := c.PutApprovalResult(ctx, approvalInput(decided, "approved before the crash")); err != nil {
		t.Fatal(err)
	}
	for i := range deliveries / 2 {
		wg.Add(1)
		go func() { defer wg.Done(); send(fmt.Sprintf("late-%02d", i)) }()
	}
	time.Sleep(150 * time.Millisecond)
	srv.kill()

	srv = serve(t, dataDir)
	mu.Lock()
	url = srv.url
	mu.Unlock()
	wg.Wait()
	c = srv.client(t, dataDir)

	// Decide every approval that waits, once, until every execution ends.
	approvedBy := map[string]int{decided.execution: 1}
	deadline := time.Now().Add(90 * time.Second)
	var execs []types.PipelineExecutionSummary
	for time.Now().Before(deadline) {
		for _, a := range approvalsOf(t, c) {
			if approvedBy[a.execution] > 0 {
				t.Fatalf("execution %s asks for its approval again", a.execution)
			}
			if _, err := c.PutApprovalResult(ctx, approvalInput(a, "approved after the crash")); err != nil {
				t.Fatal(err)
			}
			approvedBy[a.execution]++
		}
		execs = executionsOf(t, c, "crash")
		finished := 0
		for _, e := range execs {
			if e.Status != types.PipelineExecutionStatusInProgress {
				finished++
			}
		}
		if finished == len(execs) && len(execs) == deliveries+1 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	for id, answer := range answered {
		if accepted[id] > 1 || (accepted[id] == 0 && answer != "200 after a cut-off attempt: true") {
			t.Errorf("delivery %s: accepted %d times, last answered %s", id, accepted[id], answer)
		}
	}
	if len(answered) != deliveries {
		t.Errorf("%d deliveries answered, want %d", len(answered), deliveries)
	}
	mu.Unlock()
	byTrigger := map[types.TriggerType]int{}
	for _, e := range execs {
		byTrigger[e.Trigger.TriggerType]++
		if e.Status != types.PipelineExecutionStatusSucceeded {
			t.Errorf("execution %s ended %s", aws.ToString(e.PipelineExecutionId), e.Status)
		}
	}
	if byTrigger[types.TriggerTypeWebhook] != deliveries || byTrigger[types.TriggerTypeCreatePipeline] != 1 {
		t.Errorf("executions by trigger: %v", byTrigger)
	}
	// Each approval ran once and was decided once, with its summary.
	acts := actionExecutionsOf(t, c, "crash")
	approvals := map[string]int{}
	for _, a := range acts {
		if aws.ToString(a.ActionName) != "Release" {
			continue
		}
		approvals[aws.ToString(a.PipelineExecutionId)]++
		summary := aws.ToString(a.Output.ExecutionResult.ExternalExecutionSummary)
		if a.PipelineExecutionId != nil && aws.ToString(a.PipelineExecutionId) == decided.execution && summary != "approved before the crash" {
			t.Errorf("the approval decided before the crash says %q", summary)
		}
	}
	for id, n := range approvals {
		if n != 1 || approvedBy[id] != 1 {
			t.Errorf("execution %s: %d approval attempts, decided %d times", id, n, approvedBy[id])
		}
	}
	if len(approvals) != deliveries+1 {
		t.Errorf("%d executions had their approval, want %d", len(approvals), deliveries+1)
	}
	srv.kill()
}

type approval struct {
	execution, token string
}

func approvalInput(a approval, summary string) *codepipeline.PutApprovalResultInput {
	return &codepipeline.PutApprovalResultInput{
		PipelineName: aws.String("crash"), StageName: aws.String("Approve"), ActionName: aws.String("Release"),
		Token: aws.String(a.token), Result: &types.ApprovalResult{Status: types.ApprovalStatusApproved, Summary: aws.String(summary)},
	}
}

// approvalsOf returns the approval that waits, if any: the crash
// pipeline runs in QUEUED mode, one execution at a time in each stage.
func approvalsOf(t *testing.T, c *codepipeline.Client) []approval {
	t.Helper()
	s, err := c.GetPipelineState(context.Background(), &codepipeline.GetPipelineStateInput{Name: aws.String("crash")})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range s.StageStates {
		if aws.ToString(st.StageName) != "Approve" || st.LatestExecution == nil || len(st.ActionStates) == 0 {
			continue
		}
		le := st.ActionStates[0].LatestExecution
		if le != nil && le.Status == types.ActionExecutionStatusInProgress && aws.ToString(le.Token) != "" {
			return []approval{{execution: aws.ToString(st.LatestExecution.PipelineExecutionId), token: aws.ToString(le.Token)}}
		}
	}
	return nil
}

func waitApprovals(t *testing.T, c *codepipeline.Client, n int) {
	t.Helper()
	for range 3000 {
		if len(approvalsOf(t, c)) >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d approvals wait", n)
}

func executionsOf(t *testing.T, c *codepipeline.Client, name string) []types.PipelineExecutionSummary {
	t.Helper()
	var out []types.PipelineExecutionSummary
	p := codepipeline.NewListPipelineExecutionsPaginator(c, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.PipelineExecutionSummaries...)
	}
	return out
}

func actionExecutionsOf(t *testing.T, c *codepipeline.Client, name string) []types.ActionExecutionDetail {
	t.Helper()
	var out []types.ActionExecutionDetail
	p := codepipeline.NewListActionExecutionsPaginator(c, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.ActionExecutionDetails...)
	}
	return out
}

// TestServeStopsOnSIGTERM stops the server gracefully: it says so, exits
// 0 and releases the data folder, which a new server opens with the
// execution it left waiting.
func TestServeStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("runs sluice serve as a process")
	}
	dataDir, pipelines := t.TempDir(), t.TempDir()
	raw, err := os.ReadFile("testdata/serve/crash.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(pipelines, "crash.json"), raw, 0o644)
	writeSource(t, dataDir)
	srv := serve(t, dataDir, "--pipelines", pipelines)
	c := srv.client(t, dataDir)
	waitApprovals(t, c, 1)
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.done:
	case <-time.After(30 * time.Second):
		t.Fatal("sluice serve did not stop on SIGTERM")
	}
	if code := srv.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("sluice serve exited with %d", code)
	}
	srv = serve(t, dataDir, "--pipelines", pipelines)
	c = srv.client(t, dataDir)
	pending := approvalsOf(t, c)
	if len(pending) != 1 {
		t.Fatalf("after the restart %d approvals wait", len(pending))
	}
	if _, err := c.PutApprovalResult(context.Background(), approvalInput(pending[0], "after a restart")); err != nil {
		t.Fatal(err)
	}
	for range 3000 {
		if execs := executionsOf(t, c, "crash"); len(execs) == 1 && execs[0].Status == types.PipelineExecutionStatusSucceeded {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the execution never succeeded after the restart")
}
