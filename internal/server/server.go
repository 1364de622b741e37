// Package server owns `sluice serve`: the durable local server of one data
// folder. It puts together the runtime and the embedded engine of the data
// folder (package local), the CodePipeline API (package api) with SigV4
// checked against the folder's keys, the webhook endpoints (package
// webhook) and the starts they decide, and the pipeline files it is told
// to keep deployed.
//
// Durability. Everything the server decides is in the data folder before it
// is acted on: a delivery is claimed together with the executions it
// starts, and those starts are carried out from the store, again after a
// crash (an execution id is started once however often it is started); the
// engine resumes its executions from its history; stage callbacks decided
// but not delivered are flushed on start; approvals decided but not
// delivered (by a crash, or by `sluice approve` in another process) are
// delivered by a sweep of the store. Each state change of an execution
// writes its entry in the store's event outbox in the same transaction, and
// the data folder publishes the outbox to the events file from before the
// engine resumes anything: no event is lost to a crash, and one sent again
// after a crash has the id it had.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sluice-ci/sluice/internal/api"
	"github.com/sluice-ci/sluice/internal/local"
	"github.com/sluice-ci/sluice/internal/sigv4"
	"github.com/sluice-ci/sluice/internal/webhook"
)

// Options configure a server.
type Options struct {
	// Addr is the address to listen on; port 0 picks a free one.
	Addr    string
	DataDir string
	// Pipelines is a folder of pipeline files (any form pipeline.Load
	// reads) created or updated on start; empty: none.
	Pipelines string
	// Region and Account appear in ARNs; us-east-1 and 123456789012 by
	// default.
	Region, Account string
	// MaxWebhookBody caps a delivery's body; zero means GitHub's 25 MB.
	MaxWebhookBody int64
	// StartWorkers is how many executions are started at once; 4 by
	// default.
	StartWorkers int
	// Sweep is how often approvals decided elsewhere are looked for; one
	// second by default.
	Sweep time.Duration
	// Log receives what the server does; nil discards it.
	Log *slog.Logger
	// Local tunes the data folder's runtime (tests run it on a virtual
	// clock).
	Local local.Options
}

// EventsFile is the data folder's file of CodePipeline events, one JSON
// event a line (`sluice events` reads it).
const EventsFile = local.EventsFile

// GitHubSecretFile holds the secret that deliveries to the
// repository-level webhook endpoint are signed with.
const GitHubSecretFile = "github-secret"

// Server is a running local server.
type Server struct {
	opts  Options
	log   *slog.Logger
	Local *local.Local
	API   *api.Handler
	// Admin is the credentials file's key.
	Admin sigv4.Credentials
	// GitHubSecret signs deliveries to the repository-level endpoint.
	GitHubSecret []byte
	// Caller is who the server acts as for its pipeline files.
	Caller api.Caller

	auth     *api.Keys
	webhooks *webhook.Handler
	triggers triggers
	http     *http.Server
	ln       net.Listener
	endpoint string

	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed sync.Once
}

// Open opens the data folder (taking its lock; the engine resumes the
// executions left open) and builds the handlers. Start serves them.
func Open(ctx context.Context, opts Options) (*Server, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Account == "" {
		opts.Account = "123456789012"
	}
	if opts.StartWorkers <= 0 {
		opts.StartWorkers = 4
	}
	if opts.Sweep <= 0 {
		opts.Sweep = time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: opts.Log, wake: make(chan struct{}, 1)}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	admin, keys, err := loadKeys(opts.DataDir)
	if err != nil {
		return nil, err
	}
	s.Admin = admin
	s.Caller = api.Caller{AccessKeyID: admin.AccessKeyID, ARN: fmt.Sprintf("arn:aws:iam::%s:user/%s", opts.Account, AdminName)}
	auth, err := api.NewKeys(opts.Account, keys, sigv4.Config{Region: opts.Region})
	if err != nil {
		return nil, err
	}
	s.auth = auth
	if s.GitHubSecret, err = loadOrCreateSecret(filepath.Join(opts.DataDir, GitHubSecretFile)); err != nil {
		return nil, err
	}
	lopts := opts.Local
	lopts.Region, lopts.Account, lopts.Log = opts.Region, opts.Account, s.log
	l, err := local.Open(ctx, opts.DataDir, lopts)
	if err != nil {
		return nil, err
	}
	s.Local = l
	s.API, err = api.New(api.Config{
		Runtime: l.Runtime, Auth: auth, Authz: auth, Region: opts.Region, Account: opts.Account,
		WebhookURL: func(name, token string) string { return webhook.URL(s.endpoint, name, token) },
		EntityURL:  l.View.EntityURL, Log: s.log, Now: l.Runtime.Now,
	})
	if err != nil {
		s.closeData()
		return nil, err
	}
	s.webhooks = &webhook.Handler{
		Registry:         registry{s},
		RepositorySecret: s.GitHubSecret,
		Deliveries:       deliveries{s.Local.Runtime.Store},
		Accept:           s.accept,
		MaxBody:          opts.MaxWebhookBody,
		Now:              l.Runtime.Now,
	}
	return s, nil
}

// Handler is the server's HTTP handler: the API at /, webhooks under
// /webhooks/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", s.API)
	mux.Handle(webhook.PathPrefix, s.webhooks)
	mux.HandleFunc(EventsPath, s.serveEvent)
	return mux
}

// Start listens, catches up with what a previous process left undone,
// deploys the pipeline files and serves until Shutdown.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.Addr, err)
	}
	s.ln = ln
	s.endpoint = "http://" + ln.Addr().String()
	s.Local.ConnectFunctions(s.endpoint, s.Admin, s.opts.Region, s.opts.Account, s.log)
	if err := s.recover(ctx); err != nil {
		ln.Close()
		return err
	}
	if s.opts.Pipelines != "" {
		if err := s.deployFolder(ctx, s.opts.Pipelines); err != nil {
			ln.Close()
			return err
		}
	}
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(3)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "error", err)
		}
	}()
	go func() { defer s.wg.Done(); s.runStarts() }()
	go func() { defer s.wg.Done(); s.runSweeps() }()
	s.kick()
	return nil
}

// Endpoint is the server's URL, once started.
func (s *Server) Endpoint() string { return s.endpoint }

// Shutdown stops taking requests, lets those in flight finish (until ctx
// ends), stops the workers and closes the data folder; executions in
// flight go on when the server starts again.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	s.closed.Do(func() {
		if s.http != nil {
			errs = append(errs, s.http.Shutdown(ctx))
		}
		s.cancel()
		s.wg.Wait()
		errs = append(errs, s.closeData())
	})
	return errors.Join(errs...)
}

// closeData closes the data folder, which publishes the events still in
// its outbox.
func (s *Server) closeData() error {
	return s.Local.Close()
}

func (s *Server) now() time.Time {
	if s.Local.Runtime.Now != nil {
		return s.Local.Runtime.Now().UTC()
	}
	return time.Now().UTC()
}

// kick wakes the start worker.
func (s *Server) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// loadOrCreateSecret reads a secret file, creating it (mode 0600, 32
// random hex bytes) when it does not exist.
func loadOrCreateSecret(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		b := make([]byte, 32)
		rand.Read(b)
		secret := hex.EncodeToString(b)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return loadOrCreateSecret(path)
		}
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		_, werr := f.WriteString(secret + "\n")
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		return []byte(secret), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	secret := strings.TrimSpace(string(data))
	if secret == "" {
		return nil, fmt.Errorf("%s is empty", path)
	}
	return []byte(secret), nil
}
