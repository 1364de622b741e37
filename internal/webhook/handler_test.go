package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

const repoSecret = "repository-secret"

// fakeRegistry serves fixed webhooks.
type fakeRegistry map[string]*Registered

func (f fakeRegistry) Webhook(_ context.Context, name string) (*Registered, error) {
	if r, ok := f[name]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("webhook %s: %w", name, ErrUnknownWebhook)
}

// recorder collects what Accept receives; fail makes the next call fail.
type recorder struct {
	mu   sync.Mutex
	got  []*Delivery
	fail error
}

func (r *recorder) accept(_ context.Context, d *Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		err := r.fail
		r.fail = nil
		return err
	}
	r.got = append(r.got, d)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

const (
	hmacToken  = "0123456789abcdef0123456789abcdef"
	ipToken    = "fedcba9876543210fedcba9876543210"
	openToken  = "00112233445566778899aabbccddeeff"
	proxyRange = "10.9.0.0/16"
)

func testHandler(rec *recorder) *Handler {
	ipHook := hmacHook()
	ipHook.Name = "orders-ip"
	ipHook.Authentication = AuthIP
	ipHook.AuthenticationConfiguration = AuthConfiguration{AllowedIPRange: "192.0.2.0/24"}
	openHook := hmacHook()
	openHook.Name = "orders-open"
	openHook.Authentication = AuthUnauthenticated
	openHook.AuthenticationConfiguration = AuthConfiguration{}
	return &Handler{
		Registry: fakeRegistry{
			"orders-main": {Definition: hmacHook(), Token: hmacToken, ARN: "arn:aws:codepipeline:us-east-1:123456789012:webhook:orders-main", ActionConfiguration: sourceConfig},
			"orders-ip":   {Definition: ipHook, Token: ipToken, ActionConfiguration: sourceConfig},
			"orders-open": {Definition: openHook, Token: openToken, ActionConfiguration: sourceConfig},
		},
		RepositorySecret: []byte(repoSecret),
		Deliveries:       &Memory{},
		Accept:           rec.accept,
		MaxBody:          64 << 10,
		TrustedProxies:   []netip.Prefix{netip.MustParsePrefix(proxyRange)},
	}
}

// delivery is one request to the handler.
type delivery struct {
	method, path string
	event, id    string
	body         []byte
	secret       string // signs the body when set
	signature    string // overrides the signature
	remote       string
	forwarded    string
	contentType  string
}

func (d delivery) send(h http.Handler) (int, reply) {
	if d.method == "" {
		d.method = http.MethodPost
	}
	r := httptest.NewRequest(d.method, d.path, bytes.NewReader(d.body))
	if d.event != "" {
		r.Header.Set(HeaderEvent, d.event)
	}
	if d.id != "" {
		r.Header.Set(HeaderDelivery, d.id)
	}
	if d.secret != "" {
		r.Header.Set(HeaderSignature, Sign([]byte(d.secret), d.body))
	}
	if d.signature != "" {
		r.Header.Set(HeaderSignature, d.signature)
	}
	if d.contentType != "" {
		r.Header.Set("Content-Type", d.contentType)
	}
	if d.remote != "" {
		r.RemoteAddr = d.remote
	}
	if d.forwarded != "" {
		r.Header.Set("X-Forwarded-For", d.forwarded)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var rep reply
	json.Unmarshal(w.Body.Bytes(), &rep)
	return w.Code, rep
}

func TestHandler(t *testing.T) {
	push := payload(t, "push.json")
	pr := payload(t, "pull-request-opened.json")
	otherBranch := bytes.Replace(push, []byte(`"refs/heads/main"`), []byte(`"refs/heads/dev"`), 1)
	hookPath := "/webhooks/orders-main/" + hmacToken
	tests := []struct {
		name       string
		d          delivery
		wantStatus int
		wantMsg    string
		starts     bool
	}{
		{name: "repository push", d: delivery{path: RepositoryPath, event: "push", id: "d-1", body: push, secret: repoSecret},
			wantStatus: 202, wantMsg: "accepted", starts: true},
		{name: "repository pull request", d: delivery{path: RepositoryPath, event: "pull_request", id: "d-2", body: pr, secret: repoSecret},
			wantStatus: 202, wantMsg: "accepted", starts: true},
		{name: "unsigned", d: delivery{path: RepositoryPath, event: "push", id: "d-3", body: push},
			wantStatus: 401, wantMsg: "X-Hub-Signature-256 is missing or does not match the body"},
		{name: "mis-signed", d: delivery{path: RepositoryPath, event: "push", id: "d-4", body: push, secret: "guess"},
			wantStatus: 401, wantMsg: "X-Hub-Signature-256 is missing or does not match the body"},
		{name: "signature of another body", d: delivery{path: RepositoryPath, event: "push", id: "d-5", body: otherBranch, signature: Sign([]byte(repoSecret), push)},
			wantStatus: 401, wantMsg: "X-Hub-Signature-256 is missing"},
		{name: "oversized", d: delivery{path: RepositoryPath, event: "push", id: "d-6", body: bytes.Repeat([]byte(" "), 65<<10), secret: repoSecret},
			wantStatus: 413, wantMsg: "payload larger than 65536 bytes"},
		{name: "no delivery id", d: delivery{path: RepositoryPath, event: "push", body: push, secret: repoSecret},
			wantStatus: 400, wantMsg: "X-GitHub-Delivery is missing"},
		{name: "ping", d: delivery{path: RepositoryPath, event: "ping", id: "d-7", body: []byte(`{"zen":"Design for failure."}`), secret: repoSecret},
			wantStatus: 200, wantMsg: "pong: nothing started"},
		{name: "other event", d: delivery{path: RepositoryPath, event: "issues", id: "d-8", body: []byte(`{}`), secret: repoSecret},
			wantStatus: 200, wantMsg: `event "issues" starts nothing`},
		{name: "bad payload", d: delivery{path: RepositoryPath, event: "push", id: "d-9", body: []byte(`{"ref":"refs/heads/main"}`), secret: repoSecret},
			wantStatus: 400, wantMsg: "push payload: missing after, repository.full_name"},
		{name: "form-encoded", d: delivery{path: RepositoryPath, event: "push", id: "d-10", body: []byte("payload=" + urlEscape(push)), secret: repoSecret,
			contentType: "application/x-www-form-urlencoded"}, wantStatus: 202, wantMsg: "accepted", starts: true},
		{name: "get", d: delivery{method: http.MethodGet, path: RepositoryPath}, wantStatus: 405, wantMsg: "webhooks take POST, not GET"},
		{name: "unknown path", d: delivery{path: "/webhooks/a/b/c", body: push}, wantStatus: 404, wantMsg: "no webhook at /webhooks/a/b/c"},

		{name: "webhook push", d: delivery{path: hookPath, event: "push", id: "w-1", body: push, secret: "s3cr3t"},
			wantStatus: 202, wantMsg: "accepted", starts: true},
		{name: "webhook filters", d: delivery{path: hookPath, event: "push", id: "w-2", body: otherBranch, secret: "s3cr3t"},
			wantStatus: 200, wantMsg: `filters do not match, nothing started: filter 0: $.ref is "refs/heads/dev", not "refs/heads/main"`},
		{name: "webhook mis-signed", d: delivery{path: hookPath, event: "push", id: "w-3", body: push, secret: repoSecret},
			wantStatus: 401, wantMsg: "X-Hub-Signature-256 is missing"},
		{name: "webhook unsigned", d: delivery{path: hookPath, event: "push", id: "w-3b", body: push},
			wantStatus: 401, wantMsg: "X-Hub-Signature-256 is missing"},
		{name: "webhook wrong token", d: delivery{path: "/webhooks/orders-main/" + ipToken, event: "push", id: "w-4", body: push, secret: "s3cr3t"},
			wantStatus: 404, wantMsg: "no webhook at"},
		{name: "webhook unknown", d: delivery{path: "/webhooks/nope/" + hmacToken, event: "push", id: "w-5", body: push, secret: "s3cr3t"},
			wantStatus: 404, wantMsg: "no webhook at"},
		{name: "webhook ping", d: delivery{path: hookPath, event: "ping", id: "w-6", body: []byte(`{}`), secret: "s3cr3t"},
			wantStatus: 200, wantMsg: "pong"},
		{name: "webhook not JSON", d: delivery{path: hookPath, event: "push", id: "w-7", body: []byte(`not json`), secret: "s3cr3t"},
			wantStatus: 400, wantMsg: "webhook payload: invalid JSON"},

		{name: "ip allowed", d: delivery{path: "/webhooks/orders-ip/" + ipToken, event: "push", id: "i-1", body: push, remote: "192.0.2.10:4242"},
			wantStatus: 202, wantMsg: "accepted", starts: true},
		{name: "ip refused", d: delivery{path: "/webhooks/orders-ip/" + ipToken, event: "push", id: "i-2", body: push, remote: "198.51.100.3:4242"},
			wantStatus: 403, wantMsg: "sender 198.51.100.3 is outside the webhook's allowed range 192.0.2.0/24"},
		{name: "ip forged header", d: delivery{path: "/webhooks/orders-ip/" + ipToken, event: "push", id: "i-3", body: push,
			remote: "198.51.100.3:4242", forwarded: "192.0.2.10"}, wantStatus: 403, wantMsg: "sender 198.51.100.3"},
		{name: "ip through trusted proxy", d: delivery{path: "/webhooks/orders-ip/" + ipToken, event: "push", id: "i-4", body: push,
			remote: "10.9.0.5:4242", forwarded: "198.51.100.3, 192.0.2.10"}, wantStatus: 202, wantMsg: "accepted", starts: true},
		{name: "ip forged through trusted proxy", d: delivery{path: "/webhooks/orders-ip/" + ipToken, event: "push", id: "i-5", body: push,
			remote: "10.9.0.5:4242", forwarded: "192.0.2.10, 198.51.100.3"}, wantStatus: 403, wantMsg: "sender 198.51.100.3"},
		{name: "ipv6 sender", d: delivery{path: "/webhooks/orders-ip/" + ipToken, event: "push", id: "i-6", body: push, remote: "[2001:db8::1]:4242"},
			wantStatus: 403, wantMsg: "sender 2001:db8::1"},

		{name: "unauthenticated", d: delivery{path: "/webhooks/orders-open/" + openToken, event: "push", body: push},
			wantStatus: 202, wantMsg: "accepted", starts: true},
	}
	rec := &recorder{}
	h := testHandler(rec)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := rec.count()
			status, rep := tt.d.send(h)
			if status != tt.wantStatus || !strings.HasPrefix(rep.Message, tt.wantMsg) {
				t.Fatalf("answer %d %q, want %d %q", status, rep.Message, tt.wantStatus, tt.wantMsg)
			}
			if started := rec.count() > before; started != tt.starts {
				t.Fatalf("started %v, want %v", started, tt.starts)
			}
		})
	}

	byEvent := map[string]*Delivery{}
	for _, d := range rec.got {
		byEvent[d.ID] = d
	}
	if d := byEvent["d-1"]; d.Push == nil || d.Push.Repository.FullName != "example-org/orders-service" || d.Webhook != nil ||
		d.Source != "github" || len(d.Keys) != 2 || d.Keys[0] != "github#delivery#d-1" || d.Keys[1] != "github#payload#"+Sign([]byte(repoSecret), push) {
		t.Fatalf("repository push delivery %+v", d)
	}
	if d := byEvent["d-2"]; d.PullRequest == nil || d.PullRequest.Action != "opened" {
		t.Fatalf("pull request delivery %+v", d)
	}
	if d := byEvent["w-1"]; d.Webhook == nil || d.Webhook.Definition.Name != "orders-main" || d.Push == nil || d.Push.Commit() != "9fceb02d0ae598e95dc970b74767f19372d61af8" {
		t.Fatalf("webhook delivery %+v", d)
	}
	if d := byEvent["i-4"]; d.Sender != netip.MustParseAddr("192.0.2.10") || d.Source != "webhook/orders-ip" || len(d.Keys) != 1 {
		t.Fatalf("sender %v", d.Sender)
	}
}

func urlEscape(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			s.WriteByte(c)
		} else {
			fmt.Fprintf(&s, "%%%02X", c)
		}
	}
	return s.String()
}

// TestReplays sends one signed delivery many ways: exactly one starts.
func TestReplays(t *testing.T) {
	push := payload(t, "push.json")
	rec := &recorder{}
	h := testHandler(rec)
	first := delivery{path: RepositoryPath, event: "push", id: "72d3162e-cc78-11e3-81ab-4c9367dc0958", body: push, secret: repoSecret}
	steps := []struct {
		name       string
		d          delivery
		wantStatus int
		wantMsg    string
	}{
		{name: "first", d: first, wantStatus: 202, wantMsg: "accepted"},
		{name: "redelivered", d: first, wantStatus: 200, wantMsg: "duplicate delivery: already accepted, nothing started"},
		{name: "replayed under a new id", d: func() delivery { d := first; d.id = "forged-id"; return d }(),
			wantStatus: 200, wantMsg: "duplicate delivery: already accepted, nothing started"},
		{name: "replayed under a new id, the signature's hex in capitals", d: func() delivery {
			d := first
			d.id, d.signature = "forged-id-2", "sha256="+strings.ToUpper(strings.TrimPrefix(Sign([]byte(repoSecret), push), "sha256="))
			return d
		}(), wantStatus: 200, wantMsg: "duplicate delivery: already accepted, nothing started"},
	}
	for _, s := range steps {
		status, rep := s.d.send(h)
		if status != s.wantStatus || rep.Message != s.wantMsg {
			t.Fatalf("%s: %d %q, want %d %q", s.name, status, rep.Message, s.wantStatus, s.wantMsg)
		}
	}
	if rec.count() != 1 {
		t.Fatalf("%d starts, want 1", rec.count())
	}

	// Concurrent copies of a new delivery: one wins.
	next := first
	next.id = "c0ffee00-0000-0000-0000-000000000001"
	next.body = bytes.Replace(push, []byte("Validate order totals"), []byte("Validate order totals again"), 1)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() { next.send(h) })
	}
	wg.Wait()
	if rec.count() != 2 {
		t.Fatalf("%d starts after 16 concurrent copies, want 2", rec.count())
	}
}

// TestAcceptFailure forgets a delivery that could not be handed on, so
// that GitHub's redelivery starts it.
func TestAcceptFailure(t *testing.T) {
	rec := &recorder{fail: errors.New("store unavailable")}
	h := testHandler(rec)
	d := delivery{path: RepositoryPath, event: "push", id: "d-retry", body: payload(t, "push.json"), secret: repoSecret}
	if status, rep := d.send(h); status != 500 || rep.Message != "start executions: store unavailable" {
		t.Fatalf("first attempt: %d %q", status, rep.Message)
	}
	if status, rep := d.send(h); status != 202 || rec.count() != 1 {
		t.Fatalf("redelivery: %d %q, %d starts", status, rep.Message, rec.count())
	}
}

// TestAcceptDuplicate lets Accept find the duplicate, as a store that
// claims the keys with the starts does.
func TestAcceptDuplicate(t *testing.T) {
	rec := &recorder{fail: fmt.Errorf("claim delivery: %w", ErrDuplicate)}
	h := testHandler(rec)
	d := delivery{path: RepositoryPath, event: "push", id: "d-dup", body: payload(t, "push.json"), secret: repoSecret}
	if status, rep := d.send(h); status != 200 || rep.Message != "duplicate delivery: already accepted, nothing started" {
		t.Fatalf("%d %q", status, rep.Message)
	}
	if status, _ := d.send(h); status != 200 || rec.count() != 0 {
		t.Fatalf("the keys were forgotten: %d, %d starts", status, rec.count())
	}
}

// failingDeliveries cannot record anything.
type failingDeliveries struct{}

func (failingDeliveries) Seen(context.Context, string) (bool, error) {
	return false, errors.New("disk full")
}
func (failingDeliveries) Forget(context.Context, string) error { return nil }

func TestDeliveriesFailure(t *testing.T) {
	rec := &recorder{}
	h := testHandler(rec)
	h.Deliveries = failingDeliveries{}
	d := delivery{path: RepositoryPath, event: "push", id: "d-x", body: payload(t, "push.json"), secret: repoSecret}
	if status, rep := d.send(h); status != 500 || rep.Message != "record delivery: disk full" || rec.count() != 0 {
		t.Fatalf("%d %q, %d starts", status, rep.Message, rec.count())
	}
}

// TestDisabledEndpoints serves nothing that is not configured.
func TestDisabledEndpoints(t *testing.T) {
	h := &Handler{}
	push := payload(t, "push.json")
	for _, path := range []string{RepositoryPath, "/webhooks/orders-main/" + hmacToken, "/elsewhere"} {
		if status, _ := (delivery{path: path, event: "push", id: "x", body: push, secret: repoSecret}).send(h); status != 404 {
			t.Errorf("%s: %d, want 404", path, status)
		}
	}
}

// TestStaleWebhook answers 500 when the pipeline no longer has the
// configuration key a filter names.
func TestStaleWebhook(t *testing.T) {
	rec := &recorder{}
	h := testHandler(rec)
	h.Registry.(fakeRegistry)["orders-main"].ActionConfiguration = map[string]string{"BranchName": "main"}
	d := delivery{path: "/webhooks/orders-main/" + hmacToken, event: "push", id: "s-1", body: payload(t, "push.json"), secret: "s3cr3t"}
	status, rep := d.send(h)
	if status != 500 || !strings.Contains(rep.Message, "{Branch} names no configuration property of action Source") {
		t.Fatalf("%d %q", status, rep.Message)
	}
}

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name, remote string
		forwarded    []string
		want         string
	}{
		{name: "direct", remote: "203.0.113.9:5000", want: "203.0.113.9"},
		{name: "header ignored from untrusted peer", remote: "203.0.113.9:5000", forwarded: []string{"192.0.2.1"}, want: "203.0.113.9"},
		{name: "one proxy", remote: "10.1.2.3:5000", forwarded: []string{"192.0.2.1"}, want: "192.0.2.1"},
		{name: "chain of proxies", remote: "10.1.2.3:5000", forwarded: []string{"198.51.100.7, 192.0.2.1, 10.4.4.4"}, want: "192.0.2.1"},
		{name: "several header lines", remote: "10.1.2.3:5000", forwarded: []string{"198.51.100.7", "192.0.2.1"}, want: "192.0.2.1"},
		{name: "all trusted", remote: "10.1.2.3:5000", forwarded: []string{"10.7.7.7"}, want: "10.7.7.7"},
		{name: "garbage stops the walk", remote: "10.1.2.3:5000", forwarded: []string{"192.0.2.1, bogus"}, want: "10.1.2.3"},
		{name: "no header behind proxy", remote: "10.1.2.3:5000", want: "10.1.2.3"},
		{name: "ipv4-mapped", remote: "[::ffff:192.0.2.5]:5000", want: "192.0.2.5"},
		{name: "ipv6 proxy", remote: "[fd00::1]:5000", forwarded: []string{"2001:db8::7"}, want: "2001:db8::7"},
		{name: "no port", remote: "192.0.2.8", want: "192.0.2.8"},
		{name: "unparsable", remote: "pipe", want: "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.RemoteAddr = tt.remote
			for _, f := range tt.forwarded {
				r.Header.Add("X-Forwarded-For", f)
			}
			if got := ClientAddr(r, trusted).String(); got != tt.want {
				t.Fatalf("ClientAddr = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMemory(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	m := &Memory{TTL: time.Hour, Now: func() time.Time { return now }}
	ctx := context.Background()
	steps := []struct {
		advance time.Duration
		key     string
		forget  bool
		first   bool
	}{
		{key: "a", first: true},
		{key: "a", first: false},
		{key: "b", first: true},
		{advance: 59 * time.Minute, key: "a", first: false},
		{advance: 2 * time.Minute, key: "a", first: true},
		{key: "b", forget: true},
		{key: "b", first: true},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if s.forget {
			m.Forget(ctx, s.key)
			continue
		}
		if first, _ := m.Seen(ctx, s.key); first != s.first {
			t.Fatalf("step %d: Seen(%s) = %v, want %v", i, s.key, first, s.first)
		}
	}
}

// BenchmarkVerifySignature checks a push payload's HMAC.
func BenchmarkVerifySignature(b *testing.B) {
	body := payload(b, "push.json")
	sig := Sign([]byte(repoSecret), body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifySignature([]byte(repoSecret), body, sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandler takes a signed push delivery through the handler, from
// request to answer: read, verify, decode, de-duplicate, hand on.
func BenchmarkHandler(b *testing.B) {
	body := payload(b, "push.json")
	sig := Sign([]byte(repoSecret), body)
	h := testHandler(&recorder{})
	h.Accept = func(context.Context, *Delivery) error { return nil }
	h.Deliveries = alwaysFirst{} // the same signed body again would be a replay
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		r := httptest.NewRequest(http.MethodPost, RepositoryPath, bytes.NewReader(body))
		r.Header.Set(HeaderEvent, EventPush)
		r.Header.Set(HeaderDelivery, fmt.Sprint(i))
		r.Header.Set(HeaderSignature, sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusAccepted {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

type alwaysFirst struct{}

func (alwaysFirst) Seen(context.Context, string) (bool, error) { return true, nil }
func (alwaysFirst) Forget(context.Context, string) error       { return nil }
