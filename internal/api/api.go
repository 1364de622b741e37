// Package api owns Sluice's CodePipeline API: one http.Handler that speaks
// CodePipeline's JSON 1.1 protocol (POST /, X-Amz-Target:
// CodePipeline_20150709.<Operation>, application/x-amz-json-1.1), with the
// API model's members, enums, pagination (maxResults, nextToken) and
// exception names, over the runtime's control operations and the store's
// records. The local server mounts it, and the API Lambda serves it behind
// API Gateway: nothing in it assumes one or the other.
//
// Who calls, and what they may do, are two small ports. An Authenticator
// says who sent a request (locally: a SigV4 signature checked against the
// data folder's keys; behind API Gateway: the identity IAM already
// checked). An Authorizer says whether that caller may perform an action
// (codepipeline:<Operation>) on a resource (the pipeline's ARN, a stage's
// or an action's ARN under it, a webhook's ARN), as IAM decides in the
// cloud; Keys is the local one, with a per-pipeline allow-list per key.
//
// Secrets stay in: a webhook's SecretToken and the secret configuration
// properties of actions (OAuthToken, ...) are answered as "****", and an
// approval's token is shown only to a caller allowed to approve it.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/sluice-ci/sluice/internal/apishape"
	"github.com/sluice-ci/sluice/internal/awsjson"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/runtime"
	"github.com/sluice-ci/sluice/internal/sigv4"
	"github.com/sluice-ci/sluice/internal/store"
)

// Protocol is CodePipeline's JSON 1.1 protocol.
var Protocol = awsjson.Protocol{
	TargetPrefix: "CodePipeline_20150709.",
	ContentType:  "application/x-amz-json-1.1",
	MaxBody:      8 << 20,
	Service:      "CodePipeline",
}

// SigningName is the service name in SigV4 credential scopes.
const SigningName = "codepipeline"

// Caller is who sent a request.
type Caller struct {
	AccessKeyID string
	// ARN names the caller; it is recorded as who changed a transition or
	// decided an approval.
	ARN string
}

// Authenticator says who sent a request. A refusal is an *awsjson.Error or
// a *sigv4.Error.
type Authenticator interface {
	Authenticate(r *http.Request, body []byte) (Caller, error)
}

// Authorizer says whether caller may perform action (codepipeline:<Op>) on
// resource (an ARN, or "*" for operations on no particular resource).
type Authorizer interface {
	Authorize(ctx context.Context, caller Caller, action, resource string) bool
}

// Config holds the handler's ports.
type Config struct {
	// Runtime runs the control operations; its Store holds the records.
	Runtime *runtime.Runtime
	Auth    Authenticator
	Authz   Authorizer
	// Region and Account appear in ARNs.
	Region, Account string
	// WebhookURL makes the URL of a webhook from its name and URL token
	// (locally webhook.URL on the server's address; in the cloud, on the
	// webhook endpoint of API Gateway).
	WebhookURL func(name, token string) string
	// EntityURL, when set, gives an action's entityUrl in
	// GetPipelineState (the repository, project or bucket it works on).
	EntityURL func(*pipeline.Action) string
	// Log receives internal failures; nil discards them.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler serves the API.
type Handler struct {
	cfg   Config
	store *store.Store
	// view answers the reads of executions; it caches declarations by
	// version, so a deleted pipeline's view is dropped with it.
	view atomic.Pointer[apishape.View]
	ops  map[string]operation
}

// resetView starts a view of the store with empty caches.
func (h *Handler) resetView() {
	h.view.Store(&apishape.View{Store: h.store, Region: h.cfg.Region, EntityURL: h.cfg.EntityURL})
}

// operation runs one API operation for caller on a request body.
type operation func(ctx context.Context, caller Caller, body []byte) (any, error)

// op adapts a typed operation: it decodes the JSON body into In.
func op[In any](f func(context.Context, Caller, *In) (any, error)) operation {
	return func(ctx context.Context, caller Caller, body []byte) (any, error) {
		in := new(In)
		if err := awsjson.Decode(body, in); err != nil {
			return nil, err
		}
		return f(ctx, caller, in)
	}
}

// New returns the API handler over cfg.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Runtime == nil || cfg.Runtime.Store == nil:
		return nil, errors.New("api: no runtime and store")
	case cfg.Auth == nil || cfg.Authz == nil:
		return nil, errors.New("api: no authenticator and authorizer")
	case cfg.WebhookURL == nil:
		return nil, errors.New("api: no webhook URL scheme")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Account == "" {
		cfg.Account = "123456789012"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, store: cfg.Runtime.Store}
	h.resetView()
	h.ops = map[string]operation{
		"CreatePipeline":         op(h.createPipeline),
		"GetPipeline":            op(h.getPipeline),
		"UpdatePipeline":         op(h.updatePipeline),
		"DeletePipeline":         op(h.deletePipeline),
		"ListPipelines":          op(h.listPipelines),
		"StartPipelineExecution": op(h.startPipelineExecution),
		"StopPipelineExecution":  op(h.stopPipelineExecution),
		"GetPipelineExecution":   op(h.getPipelineExecution),
		"ListPipelineExecutions": op(h.listPipelineExecutions),
		"GetPipelineState":       op(h.getPipelineState),
		"ListActionExecutions":   op(h.listActionExecutions),
		"RetryStageExecution":    op(h.retryStageExecution),
		"RollbackStage":          op(h.rollbackStage),
		"OverrideStageCondition": op(h.overrideStageCondition),
		"ListRuleExecutions":     op(h.listRuleExecutions),
		"PutApprovalResult":      op(h.putApprovalResult),
		"EnableStageTransition":  op(h.enableStageTransition),
		"DisableStageTransition": op(h.disableStageTransition),
		"PutJobSuccessResult":    op(h.putJobSuccessResult),
		"PutJobFailureResult":    op(h.putJobFailureResult),
		"GetJobDetails":          op(h.getJobDetails),
		"ListActionTypes":        op(h.listActionTypes),
		"PutWebhook":             op(h.putWebhook),
		"ListWebhooks":           op(h.listWebhooks),
		"DeleteWebhook":          op(h.deleteWebhook),
		"TagResource":            op(h.tagResource),
		"UntagResource":          op(h.untagResource),
		"ListTagsForResource":    op(h.listTagsForResource),
	}
	return h, nil
}

// ServeHTTP answers one API request: authenticate, run, answer.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", uuid.NewString())
	name, body, perr := Protocol.ReadRequest(w, r)
	if perr != nil {
		Protocol.WriteError(w, perr)
		return
	}
	caller, err := h.cfg.Auth.Authenticate(r, body)
	if err != nil {
		Protocol.WriteError(w, h.toError(name, err))
		return
	}
	run := h.ops[name]
	if run == nil {
		Protocol.WriteError(w, awsjson.Exception("UnknownOperationException", "Sluice's CodePipeline API does not offer the operation %s", name))
		return
	}
	out, err := run(r.Context(), caller, body)
	if err != nil {
		Protocol.WriteError(w, h.toError(name, err))
		return
	}
	if err := Protocol.Write(w, out); err != nil {
		h.cfg.Log.Error("write response", "operation", name, "error", err)
	}
}

// toError maps an operation's error to the exception the API returns.
func (h *Handler) toError(op string, err error) *awsjson.Error {
	var e *awsjson.Error
	if errors.As(err, &e) {
		return e
	}
	var rej *execution.Rejection
	if errors.As(err, &rej) {
		return awsjson.Exception(rej.Code, "%s", rej.Message)
	}
	var sig *sigv4.Error
	if errors.As(err, &sig) {
		if sig.CanonicalRequest != "" {
			h.cfg.Log.Info("signature mismatch", "operation", op, "canonicalRequest", sig.CanonicalRequest, "stringToSign", sig.StringToSign)
		}
		return &awsjson.Error{Status: sig.StatusCode, Code: sig.Code, Message: sig.Message}
	}
	h.cfg.Log.Error("operation failed", "operation", op, "error", err)
	return awsjson.Internal(errors.New("the operation failed inside the service; its log has the details"))
}

func (h *Handler) now() time.Time {
	if h.cfg.Now != nil {
		return h.cfg.Now().UTC()
	}
	return time.Now().UTC()
}
