// Package runtime wires Sluice's handlers to its ports for one deployment: the
// gate, the action handler that runs each action attempt through its
// provider, and the control operations behind CodePipeline's API (start,
// stop, retry, transitions, approvals). The same Runtime serves the embedded
// engine in process and, wrapped in Lambda mains, AWS Step Functions; only
// the ports differ: the state store, the artifact store, the providers, the
// engine's task-token callbacks (gate.TaskTokens) and its execution control
// (Engine).
package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/artifact"
	"github.com/sluice-ci/sluice/internal/compile"
	"github.com/sluice-ci/sluice/internal/gate"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
)

// Engine is the workflow engine's execution control, keyed by the names the
// runtime uses: a state machine per pipeline, an execution per pipeline
// execution. Step Functions and the embedded engine each satisfy it through
// a small adapter.
type Engine interface {
	// PutStateMachine creates the pipeline's state machine or updates its
	// definition.
	PutStateMachine(ctx context.Context, pipeline string, definition []byte) error
	// StartExecution starts the pipeline's state machine with the execution
	// named id; starting an id that exists already is not an error.
	StartExecution(ctx context.Context, pipeline, id string, input json.RawMessage) error
	// StopExecution aborts a running execution.
	StopExecution(ctx context.Context, pipeline, id, errName, cause string) error
	// RedriveExecution restarts a failed or stopped execution from the state
	// that ended it.
	RedriveExecution(ctx context.Context, pipeline, id string) error
}

// Logs opens the log of one action attempt.
type Logs func(pipeline, execution, stage, action string) (io.WriteCloser, error)

// Runtime holds the ports. Build it once and share it: it is safe for
// concurrent use.
type Runtime struct {
	Store     *store.Store
	Artifacts artifact.Store
	Providers *action.Registry
	Tokens    gate.TaskTokens
	Engine    Engine
	// Compile places the compiled machines (account, region, stack).
	Compile compile.Options
	// Logs opens action logs; nil discards them.
	Logs Logs
	// Now and NewID default to the clock and random UUIDs.
	Now   func() time.Time
	NewID func() string
	// Log receives what fails in the background (settling an ended
	// execution); nil discards it.
	Log *slog.Logger
	// Alarms wakes the gate for entry conditions that wait; OpenEngine
	// sets timers on the engine's clock when it is nil.
	Alarms gate.Alarms

	declMu sync.Mutex
	decls  map[declKey]*pipeline.Declaration
}

type declKey struct {
	name    string
	version int
}

func (r *Runtime) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

func (r *Runtime) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

func (r *Runtime) newID() string {
	if r.NewID != nil {
		return r.NewID()
	}
	return uuid.NewString()
}

// Gate returns the gate handler over the runtime's store and tokens.
func (r *Runtime) Gate() *gate.Handler {
	return &gate.Handler{Store: r.Store, Tokens: r.Tokens, Now: r.Now, Conditions: gateConditions{r}, Alarms: r.Alarms}
}

// HandleGate is the gate's Lambda handler.
func (r *Runtime) HandleGate(ctx context.Context, ev gate.Event) (gate.Result, error) {
	return r.Gate().Handle(ctx, ev)
}

// Declaration returns a version of a pipeline's declaration (0: the
// latest) and the version, decoded once per version. A pipeline or version
// that does not exist is an error wrapping store.ErrNotFound.
func (r *Runtime) Declaration(ctx context.Context, name string, version int) (*pipeline.Declaration, int, error) {
	if version == 0 {
		p, err := r.Store.GetPipeline(ctx, name, 0)
		if err != nil {
			return nil, 0, fmt.Errorf("read pipeline %s: %w", name, err)
		}
		version = p.Version
	}
	d, err := r.declaration(ctx, name, version)
	return d, version, err
}

// Forget drops the decoded declarations of a deleted pipeline, whose
// version numbers start again at 1 if it is created again.
func (r *Runtime) Forget(name string) {
	r.declMu.Lock()
	defer r.declMu.Unlock()
	for k := range r.decls {
		if k.name == name {
			delete(r.decls, k)
		}
	}
}

// declaration returns a pipeline version's declaration, decoded once.
func (r *Runtime) declaration(ctx context.Context, name string, version int) (*pipeline.Declaration, error) {
	k := declKey{name, version}
	r.declMu.Lock()
	d, ok := r.decls[k]
	r.declMu.Unlock()
	if ok {
		return d, nil
	}
	p, err := r.Store.GetPipeline(ctx, name, version)
	if err != nil {
		return nil, fmt.Errorf("read pipeline %s version %d: %w", name, version, err)
	}
	d = new(pipeline.Declaration)
	if err := json.Unmarshal(p.Declaration, d); err != nil {
		return nil, fmt.Errorf("decode pipeline %s version %d: %w", name, version, err)
	}
	r.declMu.Lock()
	if r.decls == nil {
		r.decls = map[declKey]*pipeline.Declaration{}
	}
	r.decls[k] = d
	r.declMu.Unlock()
	return d, nil
}

// FolderLogs keeps action logs as files under dir:
// <pipeline>/<execution>/<stage>/<action>.log.
func FolderLogs(dir string) Logs {
	return func(p, e, s, a string) (io.WriteCloser, error) {
		path := LogPath(dir, p, e, s, a)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("create log folder: %w", err)
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open action log: %w", err)
		}
		return f, nil
	}
}

// LogPath is where FolderLogs keeps an action's log.
func LogPath(dir, p, e, s, a string) string {
	return filepath.Join(dir, p, e, s, a+".log")
}

// ArtifactKey is where an execution's artifact is kept in the artifact
// store.
func ArtifactKey(pipeline, execution, artifactName string) string {
	return pipeline + "/" + execution + "/" + artifactName
}
