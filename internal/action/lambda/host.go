package lambda

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/uuid"

	"github.com/sluice-ci/sluice/internal/action"
)

// Jobs is what a host asks of the pipelines' side.
type Jobs interface {
	// FailJob fails a job with res unless its worker reported it already
	// (PutJobSuccessResult or PutJobFailureResult).
	FailJob(ctx context.Context, id string, res *action.Result) error
	// JobWaiting reports whether a job still waits for its worker's
	// report.
	JobWaiting(ctx context.Context, id string) (bool, error)
}

// Logs opens the log of an action attempt.
type Logs func(pipeline, execution, stage, action string) (io.WriteCloser, error)

// Wiring connects a host to the CodePipeline API its functions report to.
type Wiring struct {
	// Endpoint is the API's URL, the functions' AWS_ENDPOINT_URL_CODEPIPELINE.
	Endpoint string
	// Credentials are the keys the functions sign their calls with.
	Credentials aws.Credentials
	// Region is the functions' AWS_REGION (us-east-1 when empty); Account
	// is the events' accountId and is in the functions' ARNs (123456789012
	// when empty).
	Region, Account string
	// Jobs fails the jobs whose invocation ended without a report.
	Jobs Jobs
	// Logs opens the action logs that receive the functions' output; nil
	// discards it.
	Logs Logs
	// Log receives what goes wrong outside an invocation; nil discards it.
	Log *slog.Logger
}

// DefaultIdleTimeout is how long an environment waits for its next
// invocation before it is stopped.
const DefaultIdleTimeout = 5 * time.Minute

// ErrClosed is returned by Invoke once the host is closed.
var ErrClosed = errors.New("the Lambda host is closed")

// Host runs the local functions of a data folder: it invokes them
// asynchronously, as CodePipeline does, each invocation in an execution
// environment (one process of the function's executable, with its own
// Runtime API on a loopback port) that is reused for later invocations of
// the same function while it waits, and stopped after IdleTimeout or when
// the function's executable or configuration changes. Invocations made
// before Connect wait for it. It is safe for concurrent use.
type Host struct {
	dir, artifacts string
	// IdleTimeout is how long an idle environment is kept;
	// DefaultIdleTimeout when zero.
	IdleTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	wiring  *Wiring
	queued  []*invocation // invoked before Connect
	pools   map[string]*pool
	invoked map[string]bool // job ids
	closed  bool
	wg      sync.WaitGroup
}

// NewHost returns the host of the functions kept in dir, whose artifacts
// are the files of the artifact store folder artifacts.
func NewHost(dir, artifacts string) *Host {
	return &Host{dir: dir, artifacts: artifacts, pools: map[string]*pool{}, invoked: map[string]bool{}}
}

// Dir is the folder of the functions.
func (h *Host) Dir() string { return h.dir }

// Locate finds the function a FunctionName property names.
func (h *Host) Locate(functionName string) (*Function, error) {
	return Locate(h.dir, functionName)
}

func (h *Host) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Host) idleTimeout() time.Duration {
	if h.IdleTimeout > 0 {
		return h.IdleTimeout
	}
	return DefaultIdleTimeout
}

// Connect gives the host the API its functions report to, and sends the
// invocations that waited for it: those made since the host was created,
// then those that an earlier host of the folder left unfinished, if their
// jobs still wait.
func (h *Host) Connect(w Wiring) {
	if w.Region == "" {
		w.Region = "us-east-1"
	}
	if w.Account == "" {
		w.Account = "123456789012"
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
	h.mu.Lock()
	h.wiring = &w
	for _, inv := range h.queued {
		h.submitLocked(inv)
	}
	h.queued = nil
	h.mu.Unlock()
	h.resume(&w)
}

// Connected reports whether Connect was called.
func (h *Host) Connected() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.wiring != nil
}

// invocation is one asynchronous invocation of a function for a job.
type invocation struct {
	fn           *Function
	job          action.Job
	continuation string
	requestID    string
	payload      []byte

	started  time.Time
	deadline time.Time
	log      io.WriteCloser
}

// Invoke invokes the function that the job's FunctionName names with the
// job's event, asynchronously (Lambda's Event invocation); continuation is
// the token of a continued job. A job is invoked once however often it is
// given. The error says that the function cannot be found or the host is
// closed; how the invocation ends reaches the job through Jobs.
func (h *Host) Invoke(job *action.Job, continuation string) error {
	fn, err := h.Locate(job.Configuration["FunctionName"])
	if err != nil {
		return err
	}
	inv := &invocation{fn: fn, job: *job, continuation: continuation, requestID: uuid.NewString()}
	inv.job.Log = nil
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return ErrClosed
	case h.invoked[job.ID]:
		return nil
	}
	h.invoked[job.ID] = true
	if err := h.spool(inv); err != nil {
		return err
	}
	if h.wiring == nil {
		h.queued = append(h.queued, inv)
		return nil
	}
	h.submitLocked(inv)
	return nil
}

// submitLocked builds the invocation's event and hands it to its
// function's pool.
func (h *Host) submitLocked(inv *invocation) {
	w := h.wiring
	ev := NewEvent(&inv.job, w.Account, h.now(), inv.continuation)
	payload, err := json.Marshal(ev)
	if err != nil {
		h.failLocked(inv, &FunctionError{Type: "Runtime.InvalidPayload", Message: err.Error()})
		return
	}
	inv.payload = payload
	p := h.pools[inv.fn.Name]
	if p == nil {
		p = &pool{host: h, envs: map[*env]bool{}}
		h.pools[inv.fn.Name] = p
	}
	p.fn = inv.fn // the latest build and configuration
	p.pending = append(p.pending, inv)
	p.dispatchLocked()
}

// Close stops every environment and drops the invocations that wait. The
// jobs of the invocations it ends are left as they are, for a later host
// of the folder to invoke again.
func (h *Host) Close() error {
	h.mu.Lock()
	h.closed = true
	for _, p := range h.pools {
		p.pending = nil
		for e := range p.envs {
			e.retireLocked()
		}
	}
	h.queued = nil
	h.mu.Unlock()
	h.wg.Wait()
	return nil
}

// pool is the environments of one function and its invocations waiting
// for one. Its fields are guarded by the host's mutex.
type pool struct {
	host     *Host
	fn       *Function
	pending  []*invocation
	idle     []*env // waiting in /next, the most recent last
	starting int    // started, not yet in /next
	envs     map[*env]bool
}

// dispatchLocked gives waiting invocations to idle environments, and
// starts an environment for each invocation that no starting one will
// take.
func (p *pool) dispatchLocked() {
	h := p.host
	for len(p.pending) > 0 && len(p.idle) > 0 {
		e := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if e.fn.stamp != p.fn.stamp {
			e.retireLocked()
			continue
		}
		inv := p.pending[0]
		p.pending = p.pending[1:]
		e.give <- inv
	}
	for len(p.pending) > p.starting && !h.closed {
		if err := p.startLocked(); err != nil {
			inv := p.pending[p.starting]
			p.pending = slices.Delete(p.pending, p.starting, p.starting+1)
			h.failLocked(inv, &FunctionError{Type: "Runtime.InvalidEntrypoint", Message: err.Error()})
		}
	}
}

// takeLocked removes the next waiting invocation, if any.
func (p *pool) takeLocked() *invocation {
	if len(p.pending) == 0 {
		return nil
	}
	inv := p.pending[0]
	p.pending = p.pending[1:]
	return inv
}

func (p *pool) removeIdleLocked(e *env) {
	if i := slices.Index(p.idle, e); i >= 0 {
		p.idle = slices.Delete(p.idle, i, i+1)
	}
}

// FunctionError is how an invocation failed, in the Runtime API's error
// shape: what the function posted to /error, or what Lambda reports for a
// runtime that exited, timed out or failed to start.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) String() string { return e.Type + ": " + e.Message }

// maxErrorInMessage caps the function's error quoted in a job's failure.
const maxErrorInMessage = 2000

// failure is the result of a job whose invocation ended without a report:
// CodePipeline's message, and the function's error when it had one.
func failure(name string, fe *FunctionError) *action.Result {
	msg := fmt.Sprintf("The AWS Lambda function %s failed to return a result. Check the function to verify that it has "+
		"permission to call the PutJobSuccessResult action and that it made a call to PutJobSuccessResult.", name)
	if fe != nil {
		s := fe.String()
		if len(s) > maxErrorInMessage {
			s = s[:maxErrorInMessage] + "..."
		}
		msg += " The invocation ended with " + s
	}
	return action.Failed(action.CodeJobFailed, "%s", msg)
}

// openLog opens the action log of an invocation's job; it discards the
// output when there is none.
func (h *Host) openLog(inv *invocation) io.WriteCloser {
	w := h.wiring
	if w.Logs != nil {
		j := inv.job
		out, err := w.Logs(j.PipelineName, j.PipelineExecutionID, j.StageName, j.ActionName)
		if err == nil {
			return out
		}
		w.Log.Error("open the log of a Lambda invocation", "function", inv.fn.Name, "job", j.ID, "error", err)
	}
	return nopCloser{io.Discard}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// failLocked ends an invocation that no environment took.
func (h *Host) failLocked(inv *invocation, fe *FunctionError) {
	log := h.openLog(inv)
	fmt.Fprintf(log, "%s %s %s\n", h.now().UTC().Format(logTime), inv.requestID, fe)
	log.Close()
	h.reportLocked(inv, fe)
}

// reportLocked fails the invocation's job unless its function reported
// it.
func (h *Host) reportLocked(inv *invocation, fe *FunctionError) {
	if h.closed || h.wiring == nil {
		return
	}
	w := h.wiring
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if w.Jobs == nil {
			w.Log.Error("a Lambda invocation ended, and no one settles its job", "function", inv.fn.Name, "job", inv.job.ID)
			return
		}
		if err := w.Jobs.FailJob(ctx, inv.job.ID, failure(inv.fn.Name, fe)); err != nil {
			w.Log.Error("settle the job of a Lambda invocation", "function", inv.fn.Name, "job", inv.job.ID, "error", err)
			return
		}
		h.unspool(inv.job.ID, w.Log)
	}()
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
