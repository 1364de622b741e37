package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/sluice-ci/sluice/internal/api"
	"github.com/sluice-ci/sluice/internal/server"
	"github.com/sluice-ci/sluice/internal/webhook"
)

// delivery is a GitHub delivery to send.
type delivery struct {
	path, event, id string
	body            []byte
	secret          []byte // nil: not signed
}

func (ts *testServer) deliver(d delivery) (int, string) {
	ts.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.srv.Endpoint()+d.path, bytes.NewReader(d.body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.HeaderEvent, d.event)
	if d.id != "" {
		req.Header.Set(webhook.HeaderDelivery, d.id)
	}
	if d.secret != nil {
		req.Header.Set(webhook.HeaderSignature, webhook.Sign(d.secret, d.body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct{ Message string }
	json.NewDecoder(resp.Body).Decode(&r)
	return resp.StatusCode, r.Message
}

// push returns a push payload of acme/app.
func push(ref, commit string, files ...string) []byte {
	body, _ := json.Marshal(map[string]any{
		"ref": ref, "after": commit, "before": strings.Repeat("0", 40),
		"repository":  map[string]any{"full_name": "acme/app", "name": "app"},
		"head_commit": map[string]any{"id": commit, "message": "change", "modified": files},
		"commits":     []any{map[string]any{"id": commit, "message": "change", "modified": files}},
	})
	return body
}

// executions lists a pipeline's executions, newest first.
func (ts *testServer) executions(name string) []types.PipelineExecutionSummary {
	ts.t.Helper()
	var out []types.PipelineExecutionSummary
	p := codepipeline.NewListPipelineExecutionsPaginator(ts.client, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			ts.t.Fatal(err)
		}
		out = append(out, page.PipelineExecutionSummaries...)
	}
	return out
}

// waitExecutions waits until a pipeline has n executions.
func (ts *testServer) waitExecutions(name string, n int) []types.PipelineExecutionSummary {
	ts.t.Helper()
	var got []types.PipelineExecutionSummary
	for range 3000 {
		if got = ts.executions(name); len(got) >= n {
			return got
		}
		sleep()
	}
	ts.t.Fatalf("%s has %d executions, want %d", name, len(got), n)
	return nil
}

// TestRepositoryDeliveries sends deliveries to the repository-level
// endpoint: signed ones start exactly one execution each, whatever else
// arrives with them; unsigned, mis-signed, oversized and replayed ones
// start none; each execution records its trigger and builds the pushed
// commit.
func TestRepositoryDeliveries(t *testing.T) {
	ts := startServer(t, "", func(o *server.Options) { o.MaxWebhookBody = 4096 })
	ctx := context.Background()
	if _, err := ts.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(t, "app.json", "app")}); err != nil {
		t.Fatal(err)
	}
	ts.waitExecutions("app", 1) // CreatePipeline's
	secret := ts.srv.GitHubSecret
	const n = 12
	var wg sync.WaitGroup
	statuses := make(chan string, 5*n)
	for i := range n {
		commit := fmt.Sprintf("%040x", i+1)
		body := push("refs/heads/main", commit, "src/main.go")
		good := delivery{path: webhook.RepositoryPath, event: "push", id: fmt.Sprintf("good-%d", i), body: body, secret: secret}
		others := []delivery{
			good, // the same delivery again: GitHub's redelivery, or a replay
			{path: webhook.RepositoryPath, event: "push", id: fmt.Sprintf("replay-%d", i), body: body, secret: secret}, // the same signed body under another id
			{path: webhook.RepositoryPath, event: "push", id: fmt.Sprintf("unsigned-%d", i), body: push("refs/heads/main", commit+"u", "src/x.go")},
			{path: webhook.RepositoryPath, event: "push", id: fmt.Sprintf("forged-%d", i), body: push("refs/heads/main", commit+"f", "src/x.go"), secret: []byte("not the secret")},
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, msg := ts.deliver(good)
			statuses <- fmt.Sprintf("%d %s", status, msg)
			for _, d := range others {
				status, msg := ts.deliver(d)
				statuses <- fmt.Sprintf("%d %s", status, msg)
			}
		}()
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		var code int
		fmt.Sscanf(s, "%d", &code)
		counts[code]++
	}
	if counts[http.StatusAccepted] != n || counts[http.StatusUnauthorized] != 2*n || counts[http.StatusOK] != 2*n {
		t.Errorf("answers by status: %v", counts)
	}
	oversized := push("refs/heads/main", strings.Repeat("f", 40), strings.Repeat("src/big.go ", 500))
	if status, _ := ts.deliver(delivery{path: webhook.RepositoryPath, event: "push", id: "big", body: oversized, secret: secret}); status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized delivery: %d", status)
	}

	execs := ts.waitExecutions("app", n+1)
	seen := map[string]bool{}
	for _, e := range execs {
		if e.Trigger.TriggerType == types.TriggerTypeCreatePipeline {
			continue
		}
		if e.Trigger.TriggerType != types.TriggerTypeWebhookV2 || aws.ToString(e.Trigger.TriggerDetail) == "" {
			t.Errorf("trigger %+v", e.Trigger)
		}
		seen[aws.ToString(e.PipelineExecutionId)] = true
	}
	ts.startsDone()
	if got := ts.executions("app"); len(got) != n+1 || len(seen) != n {
		t.Errorf("%d executions (%d from deliveries), want %d", len(got), len(seen), n+1)
	}
}

// TestTriggerFilters sends one delivery per case and checks which start
// the pipeline, through its V2 trigger.
func TestTriggerFilters(t *testing.T) {
	ts := startServer(t, "")
	ctx := context.Background()
	if _, err := ts.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(t, "app.json", "app")}); err != nil {
		t.Fatal(err)
	}
	ts.waitExecutions("app", 1)
	// The local repository standing in for acme/app: a base commit, a
	// head that changes a source file, and one that changes docs only.
	base, srcHead, docsHead := localRepository(t, filepath.Join(ts.dataDir, "git", "acme", "app"))
	pr := func(action, baseRef, head string) []byte {
		body, _ := json.Marshal(map[string]any{
			"action": action, "number": 7,
			"repository": map[string]any{"full_name": "acme/app"},
			"pull_request": map[string]any{"title": "t", "user": map[string]any{"login": "dev"},
				"base": map[string]any{"ref": baseRef, "sha": base},
				"head": map[string]any{"ref": "feature", "sha": head}},
		})
		return body
	}
	tests := []struct {
		name   string
		event  string
		body   []byte
		starts bool
	}{
		{"push to main changing src", "push", push("refs/heads/main", strings.Repeat("1", 40), "src/a.go"), true},
		{"push to main changing docs only", "push", push("refs/heads/main", strings.Repeat("2", 40), "docs/a.md"), false},
		{"push to a release branch", "push", push("refs/heads/release/2.0", strings.Repeat("3", 40), "src/deep/b.go"), true},
		{"push to an excluded release branch", "push", push("refs/heads/release/old-1", strings.Repeat("4", 40), "src/b.go"), false},
		{"push to a feature branch", "push", push("refs/heads/feature", strings.Repeat("5", 40), "src/b.go"), false},
		{"a version tag", "push", push("refs/tags/v1.2", strings.Repeat("6", 40)), true},
		{"another tag", "push", push("refs/tags/nightly", strings.Repeat("7", 40)), false},
		{"another repository", "push", bytes.Replace(push("refs/heads/main", strings.Repeat("8", 40), "src/a.go"), []byte("acme/app"), []byte("acme/web"), 1), false},
		{"a pull request opened on main changing src", "pull_request", pr("opened", "main", srcHead), true},
		{"a pull request opened on main changing docs only", "pull_request", pr("opened", "main", docsHead), false},
		{"a pull request closed", "pull_request", pr("closed", "main", srcHead), false},
		{"a pull request on another base", "pull_request", pr("opened", "develop", srcHead), false},
		{"a pull request whose commits are not here", "pull_request", pr("opened", "main", strings.Repeat("c", 40)), false},
		{"a ping", "ping", []byte(`{"zen":"hi"}`), false},
	}
	want := 1
	for i, tt := range tests {
		status, msg := ts.deliver(delivery{path: webhook.RepositoryPath, event: tt.event, id: fmt.Sprintf("case-%d", i), body: tt.body, secret: ts.srv.GitHubSecret})
		if status >= 300 {
			t.Errorf("%s: %d %s", tt.name, status, msg)
		}
		if tt.starts {
			want++
			ts.waitExecutions("app", want)
		}
		ts.startsDone()
		if got := len(ts.executions("app")); got != want {
			t.Errorf("%s: %d executions, want %d", tt.name, got, want)
			want = got
		}
	}
}

// TestWebhookDeliveries sends deliveries to a webhook defined by
// PutWebhook: its filters, with a {ConfigKey} placeholder, decide.
func TestWebhookDeliveries(t *testing.T) {
	ts := startServer(t, "")
	ctx := context.Background()
	ts.putSource("v1")
	if _, err := ts.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(t, "release.json", "release")}); err != nil {
		t.Fatal(err)
	}
	ts.waitExecutions("release", 1)
	secret := []byte("hook-secret")
	out, err := ts.client.PutWebhook(ctx, &codepipeline.PutWebhookInput{Webhook: &types.WebhookDefinition{
		Name: aws.String("release-hook"), TargetPipeline: aws.String("release"), TargetAction: aws.String("Fetch"),
		Filters:                     []types.WebhookFilterRule{{JsonPath: aws.String("$.ref"), MatchEquals: aws.String("refs/heads/{S3ObjectKey}")}},
		Authentication:              types.WebhookAuthenticationTypeGithubHmac,
		AuthenticationConfiguration: &types.WebhookAuthConfiguration{SecretToken: aws.String(string(secret))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(out.Webhook.Url)
	path := strings.TrimPrefix(url, ts.srv.Endpoint())
	tests := []struct {
		name   string
		d      delivery
		status int
	}{
		{"matching, signed", delivery{path: path, event: "push", id: "w1", body: []byte(`{"ref":"refs/heads/app.zip"}`), secret: secret}, http.StatusAccepted},
		{"not matching the filter", delivery{path: path, event: "push", id: "w2", body: []byte(`{"ref":"refs/heads/other"}`), secret: secret}, http.StatusOK},
		{"signed with the server's secret", delivery{path: path, event: "push", id: "w3", body: []byte(`{"ref":"refs/heads/app.zip"}`), secret: ts.srv.GitHubSecret}, http.StatusUnauthorized},
		{"a wrong URL token", delivery{path: path + "x", event: "push", id: "w4", body: []byte(`{"ref":"refs/heads/app.zip"}`), secret: secret}, http.StatusNotFound},
		{"replayed", delivery{path: path, event: "push", id: "w1", body: []byte(`{"ref":"refs/heads/app.zip"}`), secret: secret}, http.StatusOK},
	}
	for _, tt := range tests {
		if status, msg := ts.deliver(tt.d); status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, status, msg, tt.status)
		}
	}
	ts.waitExecutions("release", 2)
	ts.startsDone()
	if execs := ts.executions("release"); len(execs) != 2 || execs[0].Trigger.TriggerType != types.TriggerTypeWebhook ||
		aws.ToString(execs[0].Trigger.TriggerDetail) != "arn:aws:codepipeline:us-east-1:123456789012:webhook:release-hook" {
		t.Errorf("executions %+v", execs)
	}
	hooks, err := ts.client.ListWebhooks(ctx, &codepipeline.ListWebhooksInput{})
	if err != nil || len(hooks.Webhooks) != 1 || hooks.Webhooks[0].LastTriggered == nil {
		t.Fatalf("webhook after a delivery: %+v, %v", hooks, err)
	}

	// The listed definition, its secret masked, sent back: the webhook
	// keeps its secret, and "****" signs nothing.
	if _, err := ts.client.PutWebhook(ctx, &codepipeline.PutWebhookInput{Webhook: hooks.Webhooks[0].Definition}); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"ref":"refs/heads/app.zip","after":"2"}`)
	if status, msg := ts.deliver(delivery{path: path, event: "push", id: "w5", body: body, secret: []byte("****")}); status != http.StatusUnauthorized {
		t.Errorf("signed with ****: %d %s", status, msg)
	}
	if status, msg := ts.deliver(delivery{path: path, event: "push", id: "w6", body: body, secret: secret}); status != http.StatusAccepted {
		t.Errorf("signed with the secret, after the masked definition was put: %d %s", status, msg)
	}
	other := *hooks.Webhooks[0].Definition
	other.Name = aws.String("release-hook-2")
	_, err = ts.client.PutWebhook(ctx, &codepipeline.PutWebhookInput{Webhook: &other})
	wantCode(t, "a new webhook whose secret is ****", err, "InvalidWebhookAuthenticationParametersException")
}

// TestEventBridgeEvents posts S3 Object Created events: one starts the
// pipeline whose source watches the object, once however often it is
// posted, and only for a caller allowed to start it; one unsigned, without
// an id, not JSON or too large starts nothing.
func TestEventBridgeEvents(t *testing.T) {
	dir := t.TempDir()
	writeKeys(t, dir, api.Key{Name: "viewer", AccessKeyID: "AKIAVIEWER0000000000", SecretAccessKey: "viewer-secret", Pipelines: []string{"release"},
		Actions: []string{"codepipeline:Get*", "codepipeline:List*"}})
	ts := startServer(t, dir)
	ctx := context.Background()
	ts.putSource("v1")
	if _, err := ts.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(t, "release.json", "release")}); err != nil {
		t.Fatal(err)
	}
	ts.waitExecutions("release", 1)
	event := func(id string) []byte {
		return []byte(`{"version":"0","id":"` + id + `","detail-type":"Object Created","source":"aws.s3",
		"account":"123456789012","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":["arn:aws:s3:::sources"],
		"detail":{"version":"0","bucket":{"name":"sources"},"object":{"key":"app.zip","version-id":"","size":2}}}`)
	}
	admin := accessKey{ts.srv.Admin.AccessKeyID, ts.srv.Admin.SecretAccessKey}
	viewer := accessKey{"AKIAVIEWER0000000000", "viewer-secret"}
	tests := []struct {
		name    string
		body    []byte
		signer  *accessKey
		status  int
		message string
	}{
		{"unsigned", event("11111111-2222-3333-4444-555555555555"), nil, http.StatusForbidden, "MissingAuthenticationTokenException"},
		{"signed by a caller who may not start the pipeline", event("21111111-2222-3333-4444-555555555555"), &viewer, http.StatusAccepted, "accepted: 0 executions start"},
		{"signed", event("11111111-2222-3333-4444-555555555555"), &admin, http.StatusAccepted, "accepted: 1 executions start"},
		{"the same event again", event("11111111-2222-3333-4444-555555555555"), &admin, http.StatusOK, "duplicate event"},
		{"no id", event(""), &admin, http.StatusBadRequest, "event: the id is missing"},
		{"not JSON", []byte(`{"id":`), &admin, http.StatusBadRequest, "event: not an EventBridge event"},
		{"too large", bytes.Repeat([]byte(" "), 256<<10+1), &admin, http.StatusRequestEntityTooLarge, "event: payload larger than 262144 bytes"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodPost, ts.srv.Endpoint()+server.EventsPath, bytes.NewReader(tt.body))
		if tt.signer != nil {
			ts.signWith(req, tt.body, *tt.signer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var r struct{ Message string }
		json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(r.Message, tt.message) {
			t.Errorf("%s: %d %q, want %d %q", tt.name, resp.StatusCode, r.Message, tt.status, tt.message)
		}
	}
	ts.waitExecutions("release", 2)
	ts.startsDone()
	if execs := ts.executions("release"); len(execs) != 2 || execs[0].Trigger.TriggerType != types.TriggerTypeCloudWatchEvent {
		t.Errorf("executions %+v", execs)
	}
}

// localRepository makes a git repository at dir with a base commit and two
// commits on it, one changing src/main.go, the other docs/guide.md, and
// returns their hashes.
func localRepository(t *testing.T, dir string) (base, src, docs string) {
	t.Helper()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	commit := func(file string) plumbing.Hash {
		path := filepath.Join(dir, filepath.FromSlash(file))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(file+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(file); err != nil {
			t.Fatal(err)
		}
		h, err := wt.Commit("change "+file, &git.CommitOptions{Author: &object.Signature{Name: "dev", Email: "dev@example.com", When: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	b := commit("README")
	s := commit("src/main.go")
	if err := wt.Checkout(&git.CheckoutOptions{Hash: b}); err != nil {
		t.Fatal(err)
	}
	d := commit("docs/guide.md")
	return b.String(), s.String(), d.String()
}
