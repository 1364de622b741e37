package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/smithy-go"

	"github.com/sluice-ci/sluice/internal/api"
	"github.com/sluice-ci/sluice/internal/server"
	"github.com/sluice-ci/sluice/internal/sigv4"
)

// testServer is a server started on a free port of the loopback interface,
// over a data folder of its own.
type testServer struct {
	t       testing.TB
	srv     *server.Server
	dataDir string
	// client is signed with the data folder's credentials file, as the
	// AWS CLI would be.
	client *codepipeline.Client
}

type serverOption func(*server.Options)

func startServer(t testing.TB, dataDir string, opts ...serverOption) *testServer {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	o := server.Options{Addr: "127.0.0.1:0", DataDir: dataDir, Sweep: 50 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	srv, err := server.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		srv.Shutdown(ctx)
		t.Fatal(err)
	}
	ts := &testServer{t: t, srv: srv, dataDir: dataDir}
	t.Cleanup(func() { ts.stop() })
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithSharedCredentialsFiles([]string{filepath.Join(dataDir, sigv4.CredentialsFile)}),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedConfigProfile(sigv4.Profile),
		config.WithRegion("us-east-1"),
	)
	if err != nil {
		t.Fatal(err)
	}
	ts.client = codepipeline.NewFromConfig(cfg, func(o *codepipeline.Options) {
		o.BaseEndpoint = aws.String(srv.Endpoint())
	})
	return ts
}

func (ts *testServer) stop() {
	ts.srv.Shutdown(context.Background())
}

// clientFor returns a client signed with the given key.
func (ts *testServer) clientFor(id, secret string) *codepipeline.Client {
	return codepipeline.New(codepipeline.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ts.srv.Endpoint()),
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, ""),
	})
}

// writeKeys writes the data folder's keys file.
func writeKeys(t testing.TB, dataDir string, keys ...api.Key) {
	t.Helper()
	data, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, server.KeysFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// declaration reads a testdata pipeline as the SDK's type, renamed.
func declaration(t testing.TB, file, name string) *types.PipelineDeclaration {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc["name"] = name
	raw, _ = json.Marshal(doc)
	var d types.PipelineDeclaration
	if err := json.Unmarshal(raw, &d); err != nil { // the SDK's fields match the API's names but for case
		t.Fatal(err)
	}
	return &d
}

// putSource writes the S3 source object of the release pipeline.
func (ts *testServer) putSource(content string) {
	ts.t.Helper()
	dir := filepath.Join(ts.dataDir, "s3", "sources")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		ts.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.zip"), []byte(content), 0o644); err != nil {
		ts.t.Fatal(err)
	}
}

// waitExecution waits until the execution's status is one of want.
func (ts *testServer) waitExecution(pipelineName, id string, want ...types.PipelineExecutionStatus) *types.PipelineExecution {
	ts.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last types.PipelineExecutionStatus
	for time.Now().Before(deadline) {
		out, err := ts.client.GetPipelineExecution(context.Background(), &codepipeline.GetPipelineExecutionInput{
			PipelineName: aws.String(pipelineName), PipelineExecutionId: aws.String(id),
		})
		if err != nil {
			ts.t.Fatalf("GetPipelineExecution %s: %v", id, err)
		}
		last = out.PipelineExecution.Status
		if slices.Contains(want, last) {
			return out.PipelineExecution
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.t.Fatalf("execution %s of %s is %s, want one of %v", id, pipelineName, last, want)
	return nil
}

// waitApproval waits until the pipeline's approval action waits with a
// token, and returns the token.
func (ts *testServer) waitApproval(pipelineName, stage, action string) string {
	ts.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, err := ts.client.GetPipelineState(context.Background(), &codepipeline.GetPipelineStateInput{Name: aws.String(pipelineName)})
		if err != nil {
			ts.t.Fatal(err)
		}
		for _, st := range out.StageStates {
			for _, a := range st.ActionStates {
				if aws.ToString(st.StageName) == stage && aws.ToString(a.ActionName) == action && a.LatestExecution != nil &&
					a.LatestExecution.Status == types.ActionExecutionStatusInProgress && aws.ToString(a.LatestExecution.Token) != "" {
					return aws.ToString(a.LatestExecution.Token)
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.t.Fatalf("no approval waits at %s/%s of %s", stage, action, pipelineName)
	return ""
}

// wantCode checks that err is the API exception code.
func wantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("%s: got %v, want %s", what, err, code)
		return
	}
	if ae.ErrorCode() != code {
		t.Errorf("%s: got %s (%s), want %s", what, ae.ErrorCode(), ae.ErrorMessage(), code)
	}
}

func sleep() { time.Sleep(10 * time.Millisecond) }

// startsDone waits until every execution that accepted deliveries decided
// to start has started: none is left among the store's pending starts.
// Counting executions after it counts every start, late ones included.
func (ts *testServer) startsDone() {
	ts.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); sleep() {
		pending, err := ts.srv.Local.Runtime.Store.ListPendingStarts(context.Background(), 1)
		if err != nil {
			ts.t.Fatal(err)
		}
		if len(pending) == 0 {
			return
		}
	}
	ts.t.Fatal("deliveries' starts still pending")
}

// accessKey is an access key id and its secret.
type accessKey struct{ id, secret string }

// signWith signs a request with a key, as the SDK would.
func (ts *testServer) signWith(r *http.Request, body []byte, key accessKey) {
	ts.t.Helper()
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: key.id, SecretAccessKey: key.secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "codepipeline", "us-east-1", time.Now()); err != nil {
		ts.t.Fatal(err)
	}
}

// withLog sends the server's log to w.
func withLog(w io.Writer) serverOption {
	return func(o *server.Options) {
		o.Log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}
