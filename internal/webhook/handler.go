package webhook

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Registry finds the webhooks PutWebhook defined; the state store
// implements it.
type Registry interface {
	// Webhook returns the webhook called name, or an error wrapping
	// ErrUnknownWebhook.
	Webhook(ctx context.Context, name string) (*Registered, error)
}

// ErrUnknownWebhook is what Registry returns for a name it does not know.
var ErrUnknownWebhook = errors.New("no such webhook")

// ErrDuplicate is what Accept returns, wrapped, when it finds the delivery
// was handled before (a store that claims Delivery.Keys in the same write
// as the starts finds it there); the sender is told so and nothing is
// forgotten.
var ErrDuplicate = errors.New("duplicate delivery")

// Registered is a webhook as PutWebhook stored it.
type Registered struct {
	Definition Definition
	// Token is the random part of its URL.
	Token string
	ARN   string
	// ActionConfiguration is the configuration of the target action in the
	// pipeline's current version, for the filters' {ConfigKey} placeholders.
	ActionConfiguration map[string]string
}

// Delivery is an accepted delivery.
type Delivery struct {
	// ID is X-GitHub-Delivery; empty when a sender of an IP or
	// UNAUTHENTICATED webhook gave none.
	ID string
	// Event is X-GitHub-Event.
	Event string
	// Source is where the delivery came in: "github" for the
	// repository-level endpoint, "webhook/<name>" for a webhook.
	Source string
	// Keys identify the delivery for de-duplication, each claimed once:
	// "<source>#delivery#<id>", and for a signed delivery
	// "<source>#payload#<signature>" (the signature does not cover the
	// headers, so the same signed body under another id is a replay).
	Keys []string
	// Webhook is the PutWebhook webhook the delivery came through; nil for
	// the repository-level endpoint.
	Webhook *Registered
	// Payload is the JSON payload.
	Payload []byte
	// Push and PullRequest are the decoded payload of a push or
	// pull_request event.
	Push        *Push
	PullRequest *PullRequestEvent
	// Sender is the address the delivery came from.
	Sender   netip.Addr
	Received time.Time
}

// Handler receives deliveries; mount it under PathPrefix. It answers once
// the delivery is checked and handed to Accept, well within GitHub's ten
// seconds.
//
//	POST /webhooks/github                   repository-level endpoint
//	POST /webhooks/<webhook-name>/<token>   a webhook PutWebhook defined
type Handler struct {
	// Registry finds PutWebhook's webhooks; nil serves none.
	Registry Registry
	// RepositorySecret is the secret that deliveries to the
	// repository-level endpoint are signed with; empty serves no such
	// endpoint.
	RepositorySecret []byte
	// Deliveries de-duplicates deliveries; nil keeps them in memory.
	Deliveries Deliveries
	// Accept hands an accepted delivery on. It must return quickly: record
	// it durably, or start the executions (idempotently, keyed on the
	// delivery), and leave the rest to run asynchronously. An error
	// answers 500 and forgets the delivery, so that GitHub can redeliver it.
	Accept func(ctx context.Context, d *Delivery) error
	// MaxBody caps a payload; zero or more than MaxBody means MaxBody,
	// GitHub's 25 MB.
	MaxBody int64
	// AcceptTimeout bounds Accept; zero means 5 seconds.
	AcceptTimeout time.Duration
	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	once   sync.Once
	memory *Memory
}

// reply is the answer's body: a message a person reads in GitHub's
// delivery log.
type reply struct {
	Message  string `json:"message"`
	Delivery string `json:"delivery,omitempty"`
}

func answer(w http.ResponseWriter, status int, delivery, format string, a ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(reply{Message: fmt.Sprintf(format, a...), Delivery: delivery})
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(w, http.StatusMethodNotAllowed, "", "webhooks take POST, not %s", r.Method)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok {
		answer(w, http.StatusNotFound, "", "no webhook at %s", r.URL.Path)
		return
	}
	name, token, isHook := strings.Cut(rest, "/")
	switch {
	case !isHook && name == "github" && len(h.RepositorySecret) > 0:
		h.receive(w, r, nil)
	case isHook && h.Registry != nil && name != "" && !strings.Contains(token, "/"):
		reg, err := h.Registry.Webhook(r.Context(), name)
		switch {
		case errors.Is(err, ErrUnknownWebhook):
			answer(w, http.StatusNotFound, "", "no webhook at %s", r.URL.Path)
			return
		case err != nil:
			answer(w, http.StatusInternalServerError, "", "look up webhook %s: %v", name, err)
			return
		}
		if subtle.ConstantTimeCompare([]byte(token), []byte(reg.Token)) != 1 {
			answer(w, http.StatusNotFound, "", "no webhook at %s", r.URL.Path)
			return
		}
		h.receive(w, r, reg)
	default:
		answer(w, http.StatusNotFound, "", "no webhook at %s", r.URL.Path)
	}
}

// receive checks one delivery, to the repository endpoint when reg is nil.
func (h *Handler) receive(w http.ResponseWriter, r *http.Request, reg *Registered) {
	d := &Delivery{
		ID:       r.Header.Get(HeaderDelivery),
		Event:    r.Header.Get(HeaderEvent),
		Webhook:  reg,
		Sender:   ClientAddr(r, h.TrustedProxies),
		Received: h.now(),
	}
	var hook *Webhook
	secret := h.RepositorySecret
	d.Source = "github"
	if reg != nil {
		var err error
		if hook, err = Compile(reg.Definition, reg.ActionConfiguration); err != nil {
			answer(w, http.StatusInternalServerError, d.ID, "webhook %s no longer fits its pipeline: %v", reg.Definition.Name, err)
			return
		}
		d.Source = "webhook/" + reg.Definition.Name
		secret = nil
		switch reg.Definition.Authentication {
		case AuthGitHubHMAC:
			secret = []byte(reg.Definition.AuthenticationConfiguration.SecretToken)
		case AuthIP:
			if !d.Sender.IsValid() || !hook.ipRange.Contains(d.Sender.Unmap()) {
				answer(w, http.StatusForbidden, d.ID, "sender %s is outside the webhook's allowed range %s", d.Sender, hook.ipRange)
				return
			}
		}
	}

	body, err := ReadBody(r, h.maxBody())
	if err != nil {
		var tl *TooLargeError
		if errors.As(err, &tl) {
			answer(w, http.StatusRequestEntityTooLarge, d.ID, "%v", err)
		} else {
			answer(w, http.StatusBadRequest, d.ID, "%v", err)
		}
		return
	}
	signature := r.Header.Get(HeaderSignature)
	if secret != nil {
		if err := VerifySignature(secret, body, signature); err != nil {
			answer(w, http.StatusUnauthorized, d.ID, "%v", err)
			return
		}
		if d.ID == "" {
			answer(w, http.StatusBadRequest, "", "%s is missing", HeaderDelivery)
			return
		}
	}
	if d.Event == EventPing {
		answer(w, http.StatusOK, d.ID, "pong: nothing started")
		return
	}
	if d.Payload, err = Payload(r.Header.Get("Content-Type"), body); err != nil {
		answer(w, http.StatusBadRequest, d.ID, "%v", err)
		return
	}
	if ignored, status, msg := h.inspect(d, hook); ignored {
		answer(w, status, d.ID, "%s", msg)
		return
	}

	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.acceptTimeout())
	defer cancel()
	if d.ID != "" {
		d.Keys = append(d.Keys, d.Source+"#delivery#"+d.ID)
	}
	if secret != nil {
		// The verified signature in one spelling: hex is read in either
		// case, and the same body signed in capitals is the same replay.
		d.Keys = append(d.Keys, d.Source+"#payload#"+strings.ToLower(signature))
	}
	deliveries, keys := h.deliveries(), d.Keys
	for i, key := range keys {
		first, err := deliveries.Seen(ctx, key)
		if err != nil {
			forget(ctx, deliveries, keys[:i])
			answer(w, http.StatusInternalServerError, d.ID, "record delivery: %v", err)
			return
		}
		if !first {
			answer(w, http.StatusOK, d.ID, "duplicate delivery: already accepted, nothing started")
			return
		}
	}
	if h.Accept != nil {
		err := h.Accept(ctx, d)
		if errors.Is(err, ErrDuplicate) {
			answer(w, http.StatusOK, d.ID, "duplicate delivery: already accepted, nothing started")
			return
		}
		if err != nil {
			forget(ctx, deliveries, keys)
			answer(w, http.StatusInternalServerError, d.ID, "start executions: %v", err)
			return
		}
	}
	answer(w, http.StatusAccepted, d.ID, "accepted")
}

// inspect decodes the payload and applies the webhook's filters. It
// reports a delivery that starts nothing, with the answer to give.
func (h *Handler) inspect(d *Delivery, hook *Webhook) (ignored bool, status int, msg string) {
	if hook != nil {
		ok, reason, err := hook.Match(d.Payload)
		switch {
		case err != nil:
			return true, http.StatusBadRequest, err.Error()
		case !ok:
			return true, http.StatusOK, "filters do not match, nothing started: " + reason
		}
		// A webhook takes any payload its filters pass; push and
		// pull_request payloads are decoded for the source revision.
		switch d.Event {
		case EventPush:
			d.Push, _ = DecodePush(d.Payload)
		case EventPullRequest:
			d.PullRequest, _ = DecodePullRequest(d.Payload)
		}
		return false, 0, ""
	}
	var err error
	switch d.Event {
	case EventPush:
		d.Push, err = DecodePush(d.Payload)
	case EventPullRequest:
		d.PullRequest, err = DecodePullRequest(d.Payload)
	default:
		return true, http.StatusOK, fmt.Sprintf("event %q starts nothing", d.Event)
	}
	if err != nil {
		return true, http.StatusBadRequest, err.Error()
	}
	return false, 0, ""
}

func forget(ctx context.Context, deliveries Deliveries, keys []string) {
	for _, k := range keys {
		deliveries.Forget(ctx, k)
	}
}

func (h *Handler) deliveries() Deliveries {
	if h.Deliveries != nil {
		return h.Deliveries
	}
	h.once.Do(func() { h.memory = &Memory{Now: h.Now} })
	return h.memory
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) maxBody() int64 {
	if h.MaxBody <= 0 || h.MaxBody > MaxBody {
		return MaxBody
	}
	return h.MaxBody
}

func (h *Handler) acceptTimeout() time.Duration {
	if h.AcceptTimeout > 0 {
		return h.AcceptTimeout
	}
	return 5 * time.Second
}

// ClientAddr returns the address a request came from: the connection's
// peer, or, when the peer is one of the trusted proxies, the right-most
// address of X-Forwarded-For that is not a trusted proxy. An address the
// header gives badly ends the walk at the last good one.
func ClientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if !isTrusted(peer, trusted) {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	addr := peer
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return addr
			}
			addr = a.Unmap()
			if !isTrusted(addr, trusted) {
				return addr
			}
		}
	}
	return addr
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
