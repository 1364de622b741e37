// Package local runs pipelines on one machine over a data folder: it
// assembles the state store (sluice.db), the artifact store (artifacts/),
// the local stand-ins of the action back ends, the action logs (logs/) and
// the embedded Step Functions engine (states.db) into a runtime, runs
// executions on it while showing their progress, and handles their manual
// approvals, asked on a terminal, given automatically, or decided by another
// process through the same data folder. The process that opens the folder
// publishes CodePipeline's state-change events from the store's event
// outbox to events.jsonl there, as `sluice serve` does, so that `sluice
// events --follow` shows a local run as it goes. The Lambda functions of lambda/
// report their jobs to a CodePipeline API that a run serves them on a
// loopback port (or to the server's own).
//
// One process owns a data folder's engine at a time: Open takes an exclusive
// lock (the file "lock" in the folder), since a second engine on the same
// history would resume the first one's executions. Other processes open only
// the state store (OpenApprovals) to record approval decisions; the owner
// notices them with a short poll of the store and delivers them to the
// engine. Nothing here polls inside a state machine: the poll is the local
// stand-in for the approval API call that AWS would receive.
package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/action/lambda"
	standins "github.com/sluice-ci/sluice/internal/action/local"
	"github.com/sluice-ci/sluice/internal/apishape"
	"github.com/sluice-ci/sluice/internal/artifact"
	"github.com/sluice-ci/sluice/internal/compile"
	"github.com/sluice-ci/sluice/internal/events"
	"github.com/sluice-ci/sluice/internal/history"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/runtime"
	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/store/sqlite"
)

// File names in the data folder.
const (
	StoreFile = "sluice.db"
	LockFile  = "lock"
	// EventsFile holds CodePipeline's state-change events, one JSON event a
	// line, as `sluice events` reads them.
	EventsFile = "events.jsonl"
)

// ErrBusy reports that another process owns the data folder's engine.
var ErrBusy = errors.New("data folder in use")

// Local is a data folder opened for running pipelines.
type Local struct {
	DataDir string
	Runtime *runtime.Runtime
	Engine  *states.Engine
	// View answers CodePipeline's read operations from the store.
	View *apishape.View

	backend *sqlite.Backend
	lock    *flock.Flock
	// outbox publishes the events of the store's state changes; to
	// eventsFile unless Options.Events says otherwise.
	outbox     *events.Outbox
	eventsFile *events.File
	// functions runs the Lambda invoke actions' functions; jobs is the
	// API that Run serves them when nobody else connected them.
	functions *lambda.Host
	jobs      *http.Server

	mu      sync.Mutex
	mirrors map[string]io.Writer // by pipeline execution id: where its logs are copied too
}

// Options tune Open.
type Options struct {
	// Clock is the engine's and the runtime's clock (the wall clock when
	// nil); tests run approval timeouts on a virtual one.
	Clock *states.VirtualClock
	// Events receives CodePipeline's state-change events, published from
	// the store's event outbox from before the engine resumes anything
	// until Close; nil appends them to the data folder's EventsFile.
	Events events.Publisher
	// Region and Account are those of the events; compile's defaults when
	// empty.
	Region, Account string
	// Log receives failures to publish events; nil discards them.
	Log *slog.Logger
}

// Open opens the data folder (creating it when needed), takes its lock and
// starts the engine, which resumes the executions an earlier process left
// open.
func Open(ctx context.Context, dataDir string, opts Options) (*Local, error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	lock := flock.New(filepath.Join(dataDir, LockFile))
	ok, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock data folder %s: %w", dataDir, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: another sluice process is running pipelines in %s", ErrBusy, dataDir)
	}
	l := &Local{DataDir: dataDir, lock: lock, mirrors: map[string]io.Writer{}}
	if err := l.open(ctx, opts); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func (l *Local) open(ctx context.Context, opts Options) error {
	b, err := sqlite.Open(ctx, filepath.Join(l.DataDir, StoreFile))
	if err != nil {
		return err
	}
	l.backend = b
	arts, err := artifact.NewFolder(filepath.Join(l.DataDir, "artifacts"))
	if err != nil {
		return fmt.Errorf("open artifact store: %w", err)
	}
	logs := runtime.FolderLogs(filepath.Join(l.DataDir, "logs"))
	st := store.New(b)
	providers := action.NewRegistry()
	l.functions = standins.Register(providers, l.DataDir)
	l.Runtime = &runtime.Runtime{
		Store: st, Artifacts: arts, Providers: providers, Log: opts.Log,
		Logs: func(p, e, s, a string) (io.WriteCloser, error) {
			w, err := logs(p, e, s, a)
			if err != nil {
				return nil, err
			}
			return l.mirror(w, e, s+"/"+a), nil
		},
	}
	l.View = &apishape.View{Store: st, EntityURL: l.entityURL, Region: compile.DefaultRegion}
	pub := opts.Events
	if pub == nil {
		if l.eventsFile, err = events.OpenFile(filepath.Join(l.DataDir, EventsFile)); err != nil {
			return err
		}
		pub = l.eventsFile
	}
	region, account := opts.Region, opts.Account
	if region == "" {
		region = compile.DefaultRegion
	}
	if account == "" {
		account = compile.DefaultAccount
	}
	l.outbox = &events.Outbox{Store: st, Publisher: pub, Region: region, Account: account, Log: opts.Log}
	l.outbox.Start(0)
	hist, err := history.Open(l.DataDir, history.Options{})
	if err != nil {
		return fmt.Errorf("open engine history: %w", err)
	}
	eopts := states.Options{Log: hist}
	if opts.Clock != nil {
		eopts.Clock = opts.Clock
		l.Runtime.Now = opts.Clock.Now
	}
	eng, err := l.Runtime.OpenEngine(eopts)
	if err != nil {
		hist.Close()
		return err
	}
	l.Engine = eng
	return nil
}

// Close stops the Lambda functions' processes and the engine where it is
// (a later Open resumes it), closes the stores and releases the lock.
func (l *Local) Close() error {
	var errs []error
	errs = append(errs, l.closeFunctions())
	if l.Engine != nil {
		errs = append(errs, l.Engine.Close())
	}
	if l.outbox != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		errs = append(errs, l.outbox.Stop(ctx))
		cancel()
	}
	if l.eventsFile != nil {
		errs = append(errs, l.eventsFile.Close())
	}
	if l.backend != nil {
		errs = append(errs, l.backend.Close())
	}
	if l.lock != nil {
		errs = append(errs, l.lock.Unlock())
	}
	return errors.Join(errs...)
}

// Deploy stores the declaration as the pipeline's new version and deploys
// its state machine, unless the latest version is the same declaration and
// its state machine is deployed. It returns the version the next execution
// runs.
func (l *Local) Deploy(ctx context.Context, d *pipeline.Declaration) (int, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return 0, fmt.Errorf("encode pipeline %s: %w", d.Name, err)
	}
	latest, err := l.Runtime.Store.GetPipeline(ctx, d.Name, 0)
	switch {
	case err == nil:
		_, derr := l.Engine.DescribeStateMachine(ctx, l.Engine.StateMachineArn(d.Name))
		if derr == nil && jsonEqual(latest.Declaration, raw) {
			return latest.Version, nil
		}
	case !errors.Is(err, store.ErrNotFound):
		return 0, fmt.Errorf("read pipeline %s: %w", d.Name, err)
	}
	return l.Runtime.PutPipeline(ctx, d)
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ra, _ := json.Marshal(x)
	rb, _ := json.Marshal(y)
	return string(ra) == string(rb)
}

// mirror copies an action's log to the writer registered for its execution,
// if any, a line at a time, each line prefixed with the action's name.
func (l *Local) mirror(w io.WriteCloser, execution, label string) io.WriteCloser {
	l.mu.Lock()
	out := l.mirrors[execution]
	l.mu.Unlock()
	if out == nil {
		return w
	}
	p := &prefixWriter{out: out, prefix: "  | " + label + ": "}
	return &teeCloser{Writer: io.MultiWriter(w, p), close: func() error {
		p.flush()
		return w.Close()
	}}
}

func (l *Local) setMirror(execution string, w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w == nil {
		delete(l.mirrors, execution)
		return
	}
	l.mirrors[execution] = w
}

type teeCloser struct {
	io.Writer
	close func() error
}

func (t *teeCloser) Close() error { return t.close() }
