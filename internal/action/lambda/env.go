package lambda

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Runtime API, version 2018-06-01, as Lambda serves it inside an
// execution environment.
const (
	apiPrefix = "/2018-06-01/runtime"

	headerRequestID   = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline    = "Lambda-Runtime-Deadline-Ms"
	headerFunctionArn = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID     = "Lambda-Runtime-Trace-Id"
	headerErrorType   = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody  = "Lambda-Runtime-Function-Error-Body"

	// maxResponse is Lambda's cap on a response payload.
	maxResponse = 6 << 20
	// maxErrorBody caps an error document read from the runtime.
	maxErrorBody = 1 << 20
	// maxInitOutput caps what a starting environment prints before it
	// takes its first invocation, kept for that invocation's log.
	maxInitOutput = 64 << 10
	// waitDelay bounds how long the end of an environment waits for the
	// children of its process to let go of its output.
	waitDelay = 2 * time.Second
	// logTime is the time format of Lambda's own log lines.
	logTime = "2006-01-02T15:04:05.000Z"
)

// env is an execution environment: one process of a function's executable
// and the Runtime API it polls. Its mutable fields are guarded by the
// host's mutex.
type env struct {
	host *Host
	pool *pool
	fn   *Function
	cmd  *exec.Cmd
	srv  *http.Server
	out  *router
	give chan *invocation // an invocation for the env waiting in /next
	done chan struct{}    // closed when the process has exited

	started time.Time
	ready   bool // has asked for an invocation
	initDur time.Duration
	served  int
	current *invocation
	timer   *time.Timer
	initErr *FunctionError
	// initTimer stops an environment that does not ask for an invocation
	// within its function's timeout.
	initTimer *time.Timer
	retired   bool // stopped by the host: nothing it had is failed
	exited    bool
}

// startLocked starts an environment of the pool's function.
func (p *pool) startLocked() error {
	h := p.host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the Runtime API: %w", err)
	}
	e := &env{
		host: h, pool: p, fn: p.fn, out: &router{},
		give: make(chan *invocation, 1), done: make(chan struct{}), started: h.now(),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"/invocation/next", e.next)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/response", e.response)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/error", e.invocationError)
	mux.HandleFunc("POST "+apiPrefix+"/init/error", e.initError)
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	cmd := exec.Command(e.fn.Path)
	cmd.Dir = e.fn.Root
	cmd.Env = e.environ(ln.Addr().String(), h.wiring, h.artifacts)
	cmd.Stdout, cmd.Stderr = e.out, e.out
	cmd.WaitDelay = waitDelay
	processGroup(cmd)
	if err := cmd.Start(); err != nil {
		ln.Close()
		return fmt.Errorf("start %s: %w", e.fn.Path, err)
	}
	e.cmd = cmd
	p.envs[e] = true
	p.starting++
	timeout := e.fn.Config.timeout()
	e.initTimer = time.AfterFunc(timeout, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if e.ready || e.exited {
			return
		}
		e.initErr = &FunctionError{Type: "Sandbox.Timedout",
			Message: fmt.Sprintf("the runtime did not ask for an invocation within the function's timeout of %.2f seconds", timeout.Seconds())}
		e.out.line("INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: timeout", float64(timeout)/float64(time.Millisecond))
		kill(e.cmd)
	})
	h.wg.Add(2)
	go func() {
		defer h.wg.Done()
		if err := e.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			h.wiring.Log.Error("serve the Runtime API", "function", e.fn.Name, "error", err)
		}
	}()
	go func() {
		defer h.wg.Done()
		e.wait()
	}()
	return nil
}

// environ is the environment of a provided.al2023 function: Lambda's
// variables, the Sluice API as the CodePipeline endpoint with the keys to
// call it, the artifact folder, and the function's own variables.
func (e *env) environ(api string, w *Wiring, artifacts string) []string {
	c := e.fn.Config
	now := e.host.now().UTC()
	vars := []string{
		"AWS_LAMBDA_RUNTIME_API=" + api,
		"_HANDLER=" + c.handler(),
		"AWS_REGION=" + w.Region,
		"AWS_DEFAULT_REGION=" + w.Region,
		"AWS_LAMBDA_FUNCTION_NAME=" + e.fn.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(c.memorySize()),
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + e.fn.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + now.Format("2006/01/02") + "/[$LATEST]" + randomHex(16),
		"AWS_ACCESS_KEY_ID=" + w.Credentials.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + w.Credentials.SecretAccessKey,
		"LAMBDA_TASK_ROOT=" + e.fn.Root,
		"LAMBDA_RUNTIME_DIR=" + e.fn.Root,
		"AWS_ENDPOINT_URL_CODEPIPELINE=" + w.Endpoint,
		ArtifactsEnv + "=" + artifacts,
		"PATH=" + os.Getenv("PATH"),
		"LANG=en_US.UTF-8",
		"TZ=:UTC",
	}
	if t := w.Credentials.SessionToken; t != "" {
		vars = append(vars, "AWS_SESSION_TOKEN="+t)
	}
	if c.Environment != nil {
		for k, v := range c.Environment.Variables {
			vars = append(vars, k+"="+v)
		}
	}
	return vars
}

// arn is the function's ARN.
func (e *env) arn() string {
	w := e.host.wiring
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", w.Region, w.Account, e.fn.Name)
}

// next is GET /runtime/invocation/next: the runtime is ready for an
// invocation and waits for one.
func (e *env) next(w http.ResponseWriter, r *http.Request) {
	h := e.host
	h.mu.Lock()
	if e.current != nil {
		e.endLocked(&FunctionError{Type: "Runtime.NoResponse",
			Message: fmt.Sprintf("RequestId: %s Error: the runtime asked for the next invocation without answering this one", e.current.requestID)})
	}
	if !e.ready {
		e.ready = true
		e.initTimer.Stop()
		e.initDur = h.now().Sub(e.started)
		e.pool.starting--
	}
	if e.retired || e.fn.stamp != e.pool.fn.stamp {
		e.retireLocked()
		e.pool.dispatchLocked()
		h.mu.Unlock()
		apiError(w, http.StatusInternalServerError, "Runtime.Retired", "the environment is stopping")
		return
	}
	inv := e.pool.takeLocked()
	if inv == nil {
		e.pool.idle = append(e.pool.idle, e)
	}
	h.mu.Unlock()
	if inv == nil {
		if inv = e.await(r.Context()); inv == nil {
			apiError(w, http.StatusInternalServerError, "Runtime.Retired", "the environment is stopping")
			return
		}
	}
	e.serve(w, inv)
}

// await waits, idle, for an invocation; nil means that the environment is
// stopping.
func (e *env) await(ctx context.Context) *invocation {
	h := e.host
	idle := time.NewTimer(h.idleTimeout())
	defer idle.Stop()
	expired := false
	select {
	case inv := <-e.give:
		return inv
	case <-e.done:
		return nil
	case <-ctx.Done():
	case <-idle.C:
		expired = true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	e.pool.removeIdleLocked(e)
	var inv *invocation
	select {
	case inv = <-e.give:
	default:
	}
	if inv != nil && ctx.Err() == nil {
		return inv // given as the wait ended
	}
	if inv != nil {
		e.pool.pending = append([]*invocation{inv}, e.pool.pending...)
	}
	if expired {
		e.retireLocked()
	}
	e.pool.dispatchLocked()
	return nil
}

// serve hands an invocation to the runtime.
func (e *env) serve(w http.ResponseWriter, inv *invocation) {
	h := e.host
	h.mu.Lock()
	if e.exited || e.retired {
		e.pool.pending = append([]*invocation{inv}, e.pool.pending...)
		e.pool.dispatchLocked()
		h.mu.Unlock()
		apiError(w, http.StatusInternalServerError, "Runtime.Retired", "the environment is stopping")
		return
	}
	e.beginLocked(inv)
	arn := e.arn()
	h.mu.Unlock()
	hd := w.Header()
	hd.Set(headerRequestID, inv.requestID)
	hd.Set(headerDeadline, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	hd.Set(headerFunctionArn, arn)
	hd.Set(headerTraceID, fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", inv.started.Unix(), randomHex(12), randomHex(8)))
	hd.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(inv.payload)
}

// beginLocked makes inv the environment's invocation: its log receives
// the output from now on, and its timeout starts.
func (e *env) beginLocked(inv *invocation) {
	h := e.host
	timeout := e.fn.Config.timeout()
	inv.started = h.now()
	inv.deadline = inv.started.Add(timeout)
	inv.log = h.openLog(inv)
	e.current = inv
	e.served++
	e.out.attach(inv.log)
	e.out.line("START RequestId: %s Version: $LATEST", inv.requestID)
	e.timer = time.AfterFunc(timeout, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if e.current != inv {
			return
		}
		e.out.line("%s %s Task timed out after %.2f seconds", h.now().UTC().Format(logTime), inv.requestID, timeout.Seconds())
		e.endLocked(&FunctionError{Type: "Sandbox.Timedout",
			Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.requestID, timeout.Seconds())})
		e.retireLocked()
	})
}

// endLocked ends the environment's invocation: nil fe means that the
// function answered. The job fails unless the function reported it.
func (e *env) endLocked(fe *FunctionError) {
	inv := e.current
	e.current = nil
	e.timer.Stop()
	h := e.host
	if fe != nil && fe.Type != "Sandbox.Timedout" {
		e.out.line("%s", fe)
	}
	d := h.now().Sub(inv.started)
	e.out.line("END RequestId: %s", inv.requestID)
	report := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB",
		inv.requestID, float64(d)/float64(time.Millisecond), (d+time.Millisecond-1)/time.Millisecond, e.fn.Config.memorySize())
	if e.served == 1 {
		report += fmt.Sprintf("\tInit Duration: %.2f ms", float64(e.initDur)/float64(time.Millisecond))
	}
	e.out.line("%s", report)
	h.reportLocked(inv, fe)
}

// lookup returns the invocation the runtime answers for, if the id is
// its.
func (e *env) lookup(id string) *invocation {
	e.host.mu.Lock()
	defer e.host.mu.Unlock()
	if e.current != nil && e.current.requestID == id {
		return e.current
	}
	return nil
}

// response is POST /runtime/invocation/{id}/response: the function
// returned. An Event invocation's response goes nowhere; one that ends in
// an error trailer (a response streamed until it failed) is an error.
func (e *env) response(w http.ResponseWriter, r *http.Request) {
	inv := e.lookup(r.PathValue("id"))
	if inv == nil {
		apiError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	n, err := io.Copy(io.Discard, io.LimitReader(r.Body, maxResponse+1))
	var fe *FunctionError
	switch {
	case err != nil:
		fe = &FunctionError{Type: "Runtime.TruncatedResponse", Message: err.Error()}
	case n > maxResponse:
		fe = &FunctionError{Type: "Function.ResponseSizeTooLarge",
			Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxResponse)}
	case r.Trailer.Get(headerErrorType) != "":
		fe = &FunctionError{Type: r.Trailer.Get(headerErrorType)}
		if body, err := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody)); err == nil {
			fe = decodeError(body, fe.Type)
		}
	}
	e.finish(inv, fe)
	if fe != nil && fe.Type == "Function.ResponseSizeTooLarge" {
		apiError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fe.Message)
		return
	}
	accepted(w)
}

// invocationError is POST /runtime/invocation/{id}/error: the function
// failed.
func (e *env) invocationError(w http.ResponseWriter, r *http.Request) {
	inv := e.lookup(r.PathValue("id"))
	if inv == nil {
		apiError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	e.finish(inv, decodeError(body, r.Header.Get(headerErrorType)))
	accepted(w)
}

// initError is POST /runtime/init/error: the runtime could not start. The
// environment stops, and the invocation it was started for fails with
// the error.
func (e *env) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	fe := decodeError(body, r.Header.Get(headerErrorType))
	h := e.host
	h.mu.Lock()
	e.initErr = fe
	e.out.line("INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: %s",
		float64(h.now().Sub(e.started))/float64(time.Millisecond), fe.Type)
	kill(e.cmd)
	h.mu.Unlock()
	accepted(w)
}

// finish ends inv if it is still the environment's invocation.
func (e *env) finish(inv *invocation, fe *FunctionError) {
	e.host.mu.Lock()
	defer e.host.mu.Unlock()
	if e.current == inv {
		e.endLocked(fe)
	}
}

// retireLocked stops the environment.
func (e *env) retireLocked() {
	e.retired = true
	kill(e.cmd)
}

// wait waits for the process to end and settles what it leaves: an
// invocation it was running fails with Runtime.ExitError, and when it
// ended before taking any, the invocation it was started for fails.
func (e *env) wait() {
	err := e.cmd.Wait()
	kill(e.cmd) // whatever it started
	h := e.host
	h.mu.Lock()
	e.exited = true
	e.initTimer.Stop()
	close(e.done)
	p := e.pool
	delete(p.envs, e)
	p.removeIdleLocked(e)
	select {
	case inv := <-e.give: // given as it exited, idle
		p.pending = append([]*invocation{inv}, p.pending...)
	default:
	}
	exitErr := func(id string) *FunctionError {
		reason := "Runtime exited without providing a reason"
		if err != nil {
			reason = "Runtime exited with error: " + err.Error()
		}
		return &FunctionError{Type: "Runtime.ExitError", Message: fmt.Sprintf("RequestId: %s Error: %s", id, reason)}
	}
	switch {
	case e.retired || h.closed:
		if e.current != nil {
			e.current = nil
			e.timer.Stop()
		}
		if !e.ready {
			p.starting--
		}
	case e.current != nil:
		e.endLocked(exitErr(e.current.requestID))
	case !e.ready:
		p.starting--
		if inv := p.takeLocked(); inv != nil {
			e.initDur = h.now().Sub(e.started)
			e.beginLocked(inv)
			fe := e.initErr
			if fe == nil {
				fe = exitErr(inv.requestID)
			}
			e.endLocked(fe)
		}
	}
	if !h.closed {
		p.dispatchLocked()
	}
	h.mu.Unlock()
	e.srv.Close()
	e.out.attach(nil)
}

// decodeError reads an error document ({"errorType", "errorMessage"}); a
// body that is not one is the message, and typ the type when the document
// has none.
func decodeError(body []byte, typ string) *FunctionError {
	fe := &FunctionError{}
	if err := json.Unmarshal(body, fe); err != nil || (fe.Type == "" && fe.Message == "") {
		fe = &FunctionError{Message: strings.TrimSpace(string(body))}
	}
	if fe.Type == "" {
		fe.Type = typ
	}
	if fe.Type == "" {
		fe.Type = "Unhandled"
	}
	return fe
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}

// apiError answers with the Runtime API's error document.
func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(FunctionError{Type: typ, Message: msg})
}

// router sends an environment's output to the log of its invocation: the
// current one, or the last one until the next begins. What a starting
// environment prints before its first invocation is kept for it.
type router struct {
	mu      sync.Mutex
	w       io.WriteCloser
	pending bytes.Buffer
}

func (r *router) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w != nil {
		r.w.Write(p)
	} else if room := maxInitOutput - r.pending.Len(); room > 0 {
		r.pending.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// attach makes w the log from now on (nil: none), closing the previous
// one.
func (r *router) attach(w io.WriteCloser) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w != nil {
		r.w.Close()
	}
	r.w = w
	if w != nil && r.pending.Len() > 0 {
		w.Write(r.pending.Bytes())
		r.pending.Reset()
	}
}

// line writes one of Lambda's own lines.
func (r *router) line(format string, args ...any) {
	fmt.Fprintf(r, format+"\n", args...)
}
