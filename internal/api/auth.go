package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/sluice-ci/sluice/internal/awsjson"
	"github.com/sluice-ci/sluice/internal/sigv4"
	"github.com/sluice-ci/sluice/internal/webhook"
)

// ARNs of the resources the API acts on.

// PipelineARN is a pipeline's ARN.
func PipelineARN(region, account, name string) string {
	return fmt.Sprintf("arn:aws:codepipeline:%s:%s:%s", region, account, name)
}

func (h *Handler) pipelineARN(name string) string {
	return PipelineARN(h.cfg.Region, h.cfg.Account, name)
}

func (h *Handler) stageARN(pipeline, stage string) string {
	return h.pipelineARN(pipeline) + "/" + stage
}

func (h *Handler) actionARN(pipeline, stage, action string) string {
	return h.stageARN(pipeline, stage) + "/" + action
}

func (h *Handler) webhookARN(name string) string {
	return webhook.ARN(h.cfg.Region, h.cfg.Account, name)
}

// authorize refuses an operation the caller may not perform on resource,
// in IAM's words.
func (h *Handler) authorize(ctx context.Context, caller Caller, op, resource string) error {
	if h.cfg.Authz.Authorize(ctx, caller, "codepipeline:"+op, resource) {
		return nil
	}
	return awsjson.Exception("AccessDeniedException", "User: %s is not authorized to perform: codepipeline:%s on resource: %s", caller.ARN, op, resource)
}

// Key is an access key the local server accepts, and what it may do.
type Key struct {
	// Name is the key's user name, in the caller's ARN.
	Name            string `json:"name"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	// Pipelines are the pipelines the key may act on, as path.Match
	// patterns ("*": every pipeline). A webhook is matched as
	// "webhook:<name>".
	Pipelines []string `json:"pipelines"`
	// Actions are the operations the key may perform, as path.Match
	// patterns over "codepipeline:<Operation>"; none given: every one.
	Actions []string `json:"actions,omitempty"`
}

// Keys is the local Authenticator and Authorizer: SigV4 signatures checked
// against a fixed set of keys, each with its allow-lists. It stands in for
// IAM; behind API Gateway, IAM authenticates and authorizes instead.
type Keys struct {
	account  string
	keys     map[string]Key
	verifier *sigv4.Verifier
}

// NewKeys returns the local authenticator of keys, for the account that
// appears in callers' ARNs. cfg sets the verifier's clock and skew; its
// Credentials and Service are filled in.
func NewKeys(account string, keys []Key, cfg sigv4.Config) (*Keys, error) {
	k := &Keys{account: account, keys: map[string]Key{}}
	var creds []sigv4.Credentials
	for _, key := range keys {
		if key.AccessKeyID == "" || key.SecretAccessKey == "" {
			return nil, fmt.Errorf("key %q: an access key id and a secret are required", key.Name)
		}
		for _, p := range append(key.Pipelines, key.Actions...) {
			if _, err := path.Match(p, ""); err != nil {
				return nil, fmt.Errorf("key %q: pattern %q: %w", key.Name, p, err)
			}
		}
		if _, dup := k.keys[key.AccessKeyID]; dup {
			return nil, fmt.Errorf("key %q: access key id %s is given twice", key.Name, key.AccessKeyID)
		}
		k.keys[key.AccessKeyID] = key
		creds = append(creds, sigv4.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey})
	}
	cfg.Credentials = sigv4.NewKeys(creds...)
	cfg.Service = SigningName
	v, err := sigv4.NewVerifier(cfg)
	if err != nil {
		return nil, err
	}
	k.verifier = v
	return k, nil
}

// Authenticate implements Authenticator.
func (k *Keys) Authenticate(r *http.Request, body []byte) (Caller, error) {
	id, err := k.verifier.Verify(r, body)
	if err != nil {
		return Caller{}, err
	}
	key, ok := k.keys[id.AccessKeyID]
	if !ok {
		return Caller{}, errors.New("a verified key is not among the keys")
	}
	return Caller{AccessKeyID: key.AccessKeyID, ARN: fmt.Sprintf("arn:aws:iam::%s:user/%s", k.account, key.Name)}, nil
}

// Authorize implements Authorizer: the key's Actions must match action,
// and its Pipelines the pipeline (or webhook) the resource belongs to. A
// request on no particular resource ("*", ListPipelines) needs the action
// only.
func (k *Keys) Authorize(_ context.Context, caller Caller, action, resource string) bool {
	key, ok := k.keys[caller.AccessKeyID]
	if !ok || !matchAny(key.Actions, action, true) {
		return false
	}
	if resource == "*" {
		return true
	}
	subject, ok := k.subject(resource)
	return ok && matchAny(key.Pipelines, subject, false)
}

// subject is what a resource ARN is matched as: its pipeline's name, or
// "webhook:<name>".
func (k *Keys) subject(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "codepipeline" || parts[4] != k.account {
		return "", false
	}
	rest := parts[5]
	if name, ok := strings.CutPrefix(rest, "webhook:"); ok {
		return "webhook:" + name, true
	}
	pipeline, _, _ := strings.Cut(rest, "/")
	return pipeline, pipeline != ""
}

func matchAny(patterns []string, s string, emptyMatches bool) bool {
	if len(patterns) == 0 {
		return emptyMatches
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}
