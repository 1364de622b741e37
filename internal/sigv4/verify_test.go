package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var (
	testNow   = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	testCreds = Credentials{AccessKeyID: "AKIAIOSFODNN7SLUICE1", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSLUICEKEY1"}
	tempCreds = Credentials{AccessKeyID: "ASIAIOSFODNN7SLUICE2", SecretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbSLUICEKEY2", SessionToken: "IQoJb3JpZ2luX2VjEXAMPLEtoken"}
)

func testVerifier(t testing.TB, mut func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{
		Credentials: NewKeys(testCreds, tempCreds),
		Service:     "codepipeline",
		Region:      "us-east-1",
		Now:         func() time.Time { return testNow },
	}
	if mut != nil {
		mut(&cfg)
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sdkRequest is a request signed by aws-sdk-go-v2's own signer.
type sdkRequest struct {
	method, url string
	headers     map[string]string
	body        string
	creds       Credentials
	region      string
	service     string
	at          time.Time
	payloadHash string // empty: the body's hash
	presign     bool
}

func (s sdkRequest) build(t testing.TB) *http.Request {
	t.Helper()
	if s.method == "" {
		s.method = http.MethodPost
	}
	c := s.creds
	if c.AccessKeyID == "" {
		c = testCreds
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.service == "" {
		s.service = "codepipeline"
	}
	if s.at.IsZero() {
		s.at = testNow
	}
	r, err := http.NewRequest(s.method, s.url, strings.NewReader(s.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range s.headers {
		r.Header.Set(k, v)
	}
	hash := s.payloadHash
	if hash == "" {
		sum := sha256.Sum256([]byte(s.body))
		hash = hex.EncodeToString(sum[:])
	}
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	signer := v4.NewSigner()
	if s.presign {
		u, hdr, err := signer.PresignHTTP(context.Background(), creds, r, hash, s.service, s.region, s.at)
		if err != nil {
			t.Fatal(err)
		}
		r, _ = http.NewRequest(s.method, u, strings.NewReader(s.body))
		for k, v := range hdr {
			r.Header[k] = v
		}
		return r
	}
	if err := signer.SignHTTP(context.Background(), creds, r, hash, s.service, s.region, s.at); err != nil {
		t.Fatal(err)
	}
	return r
}

// serve sends r through a real HTTP server that verifies it, so that the
// request is checked as it arrives on the wire.
func serve(t *testing.T, v *Verifier, r *http.Request) (*Identity, error) {
	t.Helper()
	var id *Identity
	var verr error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		id, verr = v.Verify(req, body)
	}))
	defer srv.Close()
	target := strings.Replace(r.URL.String(), "http://sluice.test", srv.URL, 1)
	var body []byte
	if r.GetBody != nil {
		rc, _ := r.GetBody()
		body, _ = io.ReadAll(rc)
	}
	req, err := http.NewRequest(r.Method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = r.Header.Clone()
	req.Host = r.Host
	if r.Host == "" {
		req.Host = "sluice.test"
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return id, verr
}

var apiHeaders = map[string]string{
	"Content-Type": "application/x-amz-json-1.1",
	"X-Amz-Target": "CodePipeline_20150709.ListPipelines",
}

// TestSDKSigner accepts what aws-sdk-go-v2 signs, sent over HTTP.
func TestSDKSigner(t *testing.T) {
	tests := []struct {
		name string
		req  sdkRequest
		want Identity
	}{
		{
			name: "api call",
			req:  sdkRequest{url: "http://sluice.test/", headers: apiHeaders, body: `{"maxResults":10}`},
			want: Identity{AccessKeyID: testCreds.AccessKeyID, Region: "us-east-1", Service: "codepipeline"},
		},
		{
			name: "empty body",
			req:  sdkRequest{url: "http://sluice.test/", headers: apiHeaders},
			want: Identity{AccessKeyID: testCreds.AccessKeyID, Region: "us-east-1", Service: "codepipeline"},
		},
		{
			name: "session token",
			req:  sdkRequest{url: "http://sluice.test/", headers: apiHeaders, body: `{}`, creds: tempCreds},
			want: Identity{AccessKeyID: tempCreds.AccessKeyID, Region: "us-east-1", Service: "codepipeline"},
		},
		{
			name: "query and path encoding",
			req: sdkRequest{
				method: http.MethodGet,
				url:    "http://sluice.test/a%20b/%C3%A9/x~y?z=last&a=2&a=1&sp=a%20b&plus=1%2B1&uni=%C3%A9&empty=&reserved=%21%2A%27%28%29",
			},
			want: Identity{AccessKeyID: testCreds.AccessKeyID, Region: "us-east-1", Service: "codepipeline"},
		},
		{
			name: "multi-value and spaced header",
			req: sdkRequest{
				url:     "http://sluice.test/",
				headers: map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "CodePipeline_20150709.GetPipeline", "X-Meta": "  a   b  "},
				body:    `{"name":"demo"}`,
			},
			want: Identity{AccessKeyID: testCreds.AccessKeyID, Region: "us-east-1", Service: "codepipeline"},
		},
		{
			name: "declared content hash",
			req: sdkRequest{
				url:     "http://sluice.test/",
				headers: map[string]string{"X-Amz-Content-Sha256": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
				body:    `{}`,
			},
			want: Identity{AccessKeyID: testCreds.AccessKeyID, Region: "us-east-1", Service: "codepipeline"},
		},
		{
			name: "unsigned payload",
			req: sdkRequest{
				url:         "http://sluice.test/",
				headers:     map[string]string{"X-Amz-Content-Sha256": UnsignedPayload},
				body:        `{"anything":true}`,
				payloadHash: UnsignedPayload,
			},
			want: Identity{AccessKeyID: testCreds.AccessKeyID, Region: "us-east-1", Service: "codepipeline", UnsignedPayload: true},
		},
		{
			name: "presigned",
			req:  sdkRequest{method: http.MethodGet, url: "http://sluice.test/status?X-Amz-Expires=300&v=1", presign: true},
			want: Identity{AccessKeyID: testCreds.AccessKeyID, Region: "us-east-1", Service: "codepipeline", Presigned: true},
		},
		{
			name: "presigned unsigned payload",
			req:  sdkRequest{method: http.MethodGet, url: "http://sluice.test/status?X-Amz-Expires=60", presign: true, payloadHash: UnsignedPayload},
			want: Identity{AccessKeyID: testCreds.AccessKeyID, Region: "us-east-1", Service: "codepipeline", Presigned: true, UnsignedPayload: true},
		},
		{
			name: "signed ten minutes ago",
			req:  sdkRequest{url: "http://sluice.test/", headers: apiHeaders, at: testNow.Add(-10 * time.Minute)},
			want: Identity{AccessKeyID: testCreds.AccessKeyID, Region: "us-east-1", Service: "codepipeline"},
		},
	}
	v := testVerifier(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := serve(t, v, tt.req.build(t))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			tt.want.SignedAt = id.SignedAt
			if *id != tt.want {
				t.Fatalf("identity %+v, want %+v", *id, tt.want)
			}
		})
	}
}

// TestRefusals checks each refusal: the exception name and AWS's message.
func TestRefusals(t *testing.T) {
	valid := sdkRequest{url: "http://sluice.test/", headers: apiHeaders, body: `{}`}
	signedBy := func(s sdkRequest) func(*testing.T) *http.Request {
		return func(t *testing.T) *http.Request { return s.build(t) }
	}
	withHeader := func(s sdkRequest, k, v string) func(*testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			r := s.build(t)
			r.Header.Set(k, v)
			return r
		}
	}
	authz := func(value string) func(*testing.T) *http.Request {
		return withHeader(sdkRequest{url: "http://sluice.test/", headers: apiHeaders}, "Authorization", value)
	}
	tests := []struct {
		name     string
		req      func(*testing.T) *http.Request
		body     string // the body the server reads; default the signed one
		config   func(*Config)
		wantCode string
		wantMsg  string
	}{
		{
			name: "no authentication",
			req: func(t *testing.T) *http.Request {
				r, _ := http.NewRequest("POST", "http://sluice.test/", nil)
				return r
			},
			wantCode: CodeMissingAuthenticationToken,
			wantMsg:  "Missing Authentication Token",
		},
		{
			name:     "unknown access key",
			req:      signedBy(sdkRequest{url: "http://sluice.test/", headers: apiHeaders, creds: Credentials{AccessKeyID: "AKIAUNKNOWN000000000", SecretAccessKey: "x"}}),
			wantCode: CodeUnrecognizedClient,
			wantMsg:  "The security token included in the request is invalid.",
		},
		{
			name:     "wrong secret",
			req:      signedBy(sdkRequest{url: "http://sluice.test/", headers: apiHeaders, creds: Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: "not-the-secret"}}),
			wantCode: CodeInvalidSignature,
			wantMsg:  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
		},
		{
			name:     "body altered",
			req:      signedBy(valid),
			body:     `{"maxResults":1}`,
			wantCode: CodeInvalidSignature,
			wantMsg:  "The request signature we calculated does not match",
		},
		{
			name:     "signed header altered",
			req:      withHeader(valid, "X-Amz-Target", "CodePipeline_20150709.DeletePipeline"),
			wantCode: CodeInvalidSignature,
			wantMsg:  "The request signature we calculated does not match",
		},
		{
			name:     "stale date",
			req:      signedBy(sdkRequest{url: "http://sluice.test/", headers: apiHeaders, at: testNow.Add(-16 * time.Minute)}),
			wantCode: CodeInvalidSignature,
			wantMsg:  "Signature expired: 20250601T114400Z is now earlier than 20250601T114500Z (20250601T120000Z - 15 min.)",
		},
		{
			name:     "future date",
			req:      signedBy(sdkRequest{url: "http://sluice.test/", headers: apiHeaders, at: testNow.Add(20 * time.Minute)}),
			wantCode: CodeInvalidSignature,
			wantMsg:  "Signature not yet current: 20250601T122000Z is still later than 20250601T121500Z (20250601T120000Z + 15 min.)",
		},
		{
			name:     "other region",
			req:      signedBy(sdkRequest{url: "http://sluice.test/", headers: apiHeaders, region: "eu-west-1"}),
			wantCode: CodeInvalidSignature,
			wantMsg:  "Credential should be scoped to a valid region, not 'eu-west-1'. ",
		},
		{
			name:     "other service",
			req:      signedBy(sdkRequest{url: "http://sluice.test/", headers: apiHeaders, service: "states"}),
			wantCode: CodeInvalidSignature,
			wantMsg:  "Credential should be scoped to correct service: 'codepipeline'. ",
		},
		{
			name:     "session token missing",
			req:      withHeader(sdkRequest{url: "http://sluice.test/", headers: apiHeaders, creds: tempCreds}, "X-Amz-Security-Token", ""),
			wantCode: CodeUnrecognizedClient,
			wantMsg:  "The security token included in the request is invalid.",
		},
		{
			name:     "session token wrong",
			req:      withHeader(sdkRequest{url: "http://sluice.test/", headers: apiHeaders, creds: tempCreds}, "X-Amz-Security-Token", "forged"),
			wantCode: CodeUnrecognizedClient,
			wantMsg:  "The security token included in the request is invalid.",
		},
		{
			name:     "session token on long-term key",
			req:      withHeader(valid, "X-Amz-Security-Token", "forged"),
			wantCode: CodeUnrecognizedClient,
			wantMsg:  "The security token included in the request is invalid.",
		},
		{
			name:     "parameters missing",
			req:      authz("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7SLUICE1/20250601/us-east-1/codepipeline/aws4_request"),
			wantCode: CodeIncompleteSignature,
			wantMsg: "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. " +
				"Authorization=AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7SLUICE1/20250601/us-east-1/codepipeline/aws4_request",
		},
		{
			name:     "not a signature",
			req:      authz("Bearer abc.def"),
			wantCode: CodeIncompleteSignature,
			wantMsg:  "'abc.def' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer abc.def'.",
		},
		{
			name: "no date",
			req: func(t *testing.T) *http.Request {
				r := valid.build(t)
				r.Header.Del("X-Amz-Date")
				return r
			},
			wantCode: CodeIncompleteSignature,
			wantMsg:  "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256",
		},
		{
			name:     "malformed date",
			req:      withHeader(valid, "X-Amz-Date", "2025-06-01T12:00:00Z"),
			wantCode: CodeIncompleteSignature,
			wantMsg:  "Date must be in ISO-8601 'basic format'. Got '2025-06-01T12:00:00Z'.",
		},
		{
			name:     "scope date differs",
			req:      withHeader(valid, "X-Amz-Date", "20250602T000500Z"),
			config:   func(c *Config) { c.Now = func() time.Time { return time.Date(2025, 6, 2, 0, 5, 0, 0, time.UTC) } },
			wantCode: CodeInvalidSignature,
			wantMsg:  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20250601' != '20250602', from '20250602T000500Z'.",
		},
		{
			name:     "other algorithm",
			req:      authz("AWS4-HMAC-SHA512 Credential=AKIAIOSFODNN7SLUICE1/20250601/us-east-1/codepipeline/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"),
			wantCode: CodeIncompleteSignature,
			wantMsg:  "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'",
		},
		{
			name:     "short credential",
			req:      authz("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7SLUICE1/20250601/us-east-1, SignedHeaders=host;x-amz-date, Signature=00"),
			wantCode: CodeIncompleteSignature,
			wantMsg:  "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIAIOSFODNN7SLUICE1/20250601/us-east-1'",
		},
		{
			name:     "bad terminator",
			req:      authz("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7SLUICE1/20250601/us-east-1/codepipeline/aws5_request, SignedHeaders=host;x-amz-date, Signature=00"),
			wantCode: CodeInvalidSignature,
			wantMsg:  "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. ",
		},
		{
			name:     "host not signed",
			req:      authz("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7SLUICE1/20250601/us-east-1/codepipeline/aws4_request, SignedHeaders=x-amz-date, Signature=00"),
			wantCode: CodeIncompleteSignature,
			wantMsg:  "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
		},
		{
			name:     "declared hash differs from body",
			req:      signedBy(sdkRequest{url: "http://sluice.test/", headers: map[string]string{"X-Amz-Content-Sha256": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}, body: `{}`}),
			body:     `{"x":1}`,
			wantCode: CodeContentSHA256Mismatch,
			wantMsg:  "The provided 'x-amz-content-sha256' header does not match what was computed.",
		},
		{
			name:     "unsigned payload refused",
			req:      signedBy(sdkRequest{url: "http://sluice.test/", headers: map[string]string{"X-Amz-Content-Sha256": UnsignedPayload}, payloadHash: UnsignedPayload}),
			config:   func(c *Config) { c.RejectUnsignedPayload = true },
			wantCode: CodeInvalidSignature,
			wantMsg:  "This service requires a signed payload: UNSIGNED-PAYLOAD is not accepted.",
		},
		{
			name:     "presigned expired",
			req:      signedBy(sdkRequest{method: http.MethodGet, url: "http://sluice.test/?X-Amz-Expires=60", presign: true, at: testNow.Add(-2 * time.Minute)}),
			wantCode: CodeInvalidSignature,
			wantMsg:  "Signature expired: 20250601T115800Z is now earlier than 20250601T115900Z (20250601T120000Z - 60 sec.)",
		},
		{
			name: "presigned incomplete",
			req: func(t *testing.T) *http.Request {
				r, _ := http.NewRequest(http.MethodGet, "http://sluice.test/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00", nil)
				return r
			},
			wantCode: CodeIncompleteSignature,
			wantMsg:  "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
		},
		{
			name: "presigned altered query",
			req: func(t *testing.T) *http.Request {
				r := sdkRequest{method: http.MethodGet, url: "http://sluice.test/?X-Amz-Expires=60&v=1", presign: true}.build(t)
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "v=1", "v=2", 1)
				return r
			},
			wantCode: CodeInvalidSignature,
			wantMsg:  "The request signature we calculated does not match",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := testVerifier(t, tt.config)
			r := tt.req(t)
			if tt.body != "" {
				r.Body = io.NopCloser(strings.NewReader(tt.body))
				r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(tt.body)), nil }
				r.ContentLength = int64(len(tt.body))
			}
			_, err := serve(t, v, r)
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("got %v, want a %s refusal", err, tt.wantCode)
			}
			if e.Code != tt.wantCode || !strings.HasPrefix(e.Message, tt.wantMsg) {
				t.Fatalf("got %s %q\nwant %s %q", e.Code, e.Message, tt.wantCode, tt.wantMsg)
			}
			if e.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d", e.StatusCode)
			}
			if tt.wantCode == CodeInvalidSignature && strings.HasPrefix(tt.wantMsg, "The request signature") && e.CanonicalRequest == "" {
				t.Fatal("a mismatch carries no canonical request for the log")
			}
			out, _ := json.Marshal(e)
			if bytes.Contains(out, []byte(testCreds.SecretAccessKey)) || bytes.Contains(out, []byte(tempCreds.SecretAccessKey)) {
				t.Fatal("the refusal shows a secret")
			}
		})
	}
}

func TestAnyRegion(t *testing.T) {
	v := testVerifier(t, func(c *Config) { c.Region = "" })
	for _, region := range []string{"us-east-1", "eu-central-1", "local"} {
		id, err := serve(t, v, sdkRequest{url: "http://sluice.test/", headers: apiHeaders, region: region}.build(t))
		if err != nil || id.Region != region {
			t.Fatalf("region %s: %v %+v", region, err, id)
		}
	}
}

func TestNewVerifier(t *testing.T) {
	if _, err := NewVerifier(Config{Service: "codepipeline"}); err == nil || !strings.Contains(err.Error(), "credential source") {
		t.Fatalf("no credentials: %v", err)
	}
	if _, err := NewVerifier(Config{Credentials: Keys{}}); err == nil || !strings.Contains(err.Error(), "service") {
		t.Fatalf("no service: %v", err)
	}
}

func TestCanonicalURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/a/b", "/a/b"},
		{"/a//b/", "/a/b/"},
		{"/a/./b/../c", "/a/c"},
		{"/../a", "/a"},
		{"/a/..", "/"},
		{"/a%20b", "/a%2520b"},
		{"/~user/x-y_z.w", "/~user/x-y_z.w"},
		{"/a+b=c", "/a%2Bb%3Dc"},
		{"/.well-known/x", "/.well-known/x"},
	}
	for _, tt := range tests {
		if got := canonicalURI(tt.in); got != tt.want {
			t.Errorf("canonicalURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct{ in, skip, want string }{
		{"", "", ""},
		{"b=2&a=1", "", "a=1&b=2"},
		{"a=2&a=1&a=10", "", "a=1&a=10&a=2"},
		{"k=a+b&j=a%20b", "", "j=a%20b&k=a%20b"},
		{"flag", "", "flag="},
		{"x=%2f&y=~", "", "x=%2F&y=~"},
		{"s=a-b&s=a/b", "", "s=a%2Fb&s=a-b"},
		{"bad=%zz", "", "bad=%25zz"},
		{"X-Amz-Signature=abc&a=1", "X-Amz-Signature", "a=1"},
		{"&&a=1&", "", "a=1"},
	}
	for _, tt := range tests {
		if got := canonicalQuery(tt.in, tt.skip); got != tt.want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	v := testVerifier(b, nil)
	body := []byte(`{"name":"demo","variables":[{"name":"env","value":"prod"}],"clientRequestToken":"5b8a7e1c"}`)
	r := sdkRequest{url: "http://127.0.0.1:8080/", headers: apiHeaders, body: string(body)}.build(b)
	r.Host = "127.0.0.1:8080"
	r.RequestURI = "/"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}
