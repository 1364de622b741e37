package webhook

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func payload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "payloads", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignature(t *testing.T) {
	secret, body := []byte("s3cr3t"), []byte(`{"zen":"Keep it logically awesome."}`)
	good := Sign(secret, body)
	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		ok     bool
	}{
		{name: "valid", secret: secret, body: body, header: good, ok: true},
		{name: "upper-case hex", secret: secret, body: body, header: "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), ok: true},
		{name: "wrong secret", secret: []byte("other"), body: body, header: good},
		{name: "body altered", secret: secret, body: append(slices.Clone(body), ' '), header: good},
		{name: "missing", secret: secret, body: body, header: ""},
		{name: "sha1 header form", secret: secret, body: body, header: "sha1=" + strings.TrimPrefix(good, "sha256=")[:40]},
		{name: "no prefix", secret: secret, body: body, header: strings.TrimPrefix(good, "sha256=")},
		{name: "truncated", secret: secret, body: body, header: good[:len(good)-2]},
		{name: "not hex", secret: secret, body: body, header: "sha256=" + strings.Repeat("zz", 32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(tt.secret, tt.body, tt.header)
			if (err == nil) != tt.ok {
				t.Fatalf("VerifySignature: %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrSignature) {
				t.Fatalf("error %v is not ErrSignature", err)
			}
		})
	}
}

// unreadable fails the test if anything reads it.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("the body was read")
	return 0, io.EOF
}

func TestReadBody(t *testing.T) {
	tests := []struct {
		name    string
		body    io.Reader
		length  int64
		limit   int64
		want    string
		tooBig  bool
		readErr bool
	}{
		{name: "small", body: strings.NewReader("hello"), length: 5, limit: 10, want: "hello"},
		{name: "exactly the limit", body: strings.NewReader("0123456789"), length: 10, limit: 10, want: "0123456789"},
		{name: "announced too large", body: unreadable{t}, length: 11, limit: 10, tooBig: true},
		{name: "streamed too large", body: strings.NewReader(strings.Repeat("x", 100)), length: -1, limit: 10, tooBig: true},
		{name: "length understated", body: strings.NewReader(strings.Repeat("x", 100)), length: 3, limit: 10, tooBig: true},
		{name: "streamed", body: strings.NewReader("chunked"), length: -1, limit: 10, want: "chunked"},
		{name: "broken connection", body: io.MultiReader(strings.NewReader("ab"), errReader{}), length: -1, limit: 10, readErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{Body: io.NopCloser(tt.body), ContentLength: tt.length}
			got, err := ReadBody(r, tt.limit)
			var tl *TooLargeError
			switch {
			case tt.tooBig:
				if !errors.As(err, &tl) || tl.Limit != tt.limit {
					t.Fatalf("got %q %v, want a TooLargeError", got, err)
				}
			case tt.readErr:
				if err == nil || !strings.Contains(err.Error(), "read payload") {
					t.Fatalf("got %v, want a read error", err)
				}
			case err != nil || string(got) != tt.want:
				t.Fatalf("got %q %v, want %q", got, err, tt.want)
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestDecodePush(t *testing.T) {
	tests := []struct {
		file       string
		branch     string
		tag        string
		commit     string
		files      []string
		deleted    bool
		repository string
	}{
		{
			file: "push.json", branch: "main", commit: "9fceb02d0ae598e95dc970b74767f19372d61af8",
			files:      []string{"src/orders/validate.go", "src/orders/handler.go", "README.md", "docs/old-rules.md", "docs/rules.md"},
			repository: "example-org/orders-service",
		},
		{file: "push-tag.json", tag: "v1.4.0", commit: "9fceb02d0ae598e95dc970b74767f19372d61af8", repository: "example-org/orders-service"},
		{file: "push-delete.json", branch: "feature/old-ui", commit: "0000000000000000000000000000000000000000", deleted: true, repository: "example-org/orders-service"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := DecodePush(payload(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			branch, _ := p.Branch()
			tag, _ := p.Tag()
			if branch != tt.branch || tag != tt.tag || p.Commit() != tt.commit || p.Deleted != tt.deleted || p.Repository.FullName != tt.repository {
				t.Fatalf("branch %q tag %q commit %q deleted %v repository %q", branch, tag, p.Commit(), p.Deleted, p.Repository.FullName)
			}
			if !slices.Equal(p.Files(), tt.files) {
				t.Fatalf("files %q, want %q", p.Files(), tt.files)
			}
		})
	}
}

func TestDecodePullRequest(t *testing.T) {
	tests := []struct {
		file, action, head, source, dest string
		merged                           bool
	}{
		{file: "pull-request-opened.json", action: "opened", head: "c3d0be41ecbe669545ee3e94d31ed9a4bc91ee3c", source: "feature/empty-orders", dest: "main"},
		{file: "pull-request-synchronize.json", action: "synchronize", head: "e7a1f3b9c2d84f6a0b5e1c7d9f3a2b4c6d8e0f1a", source: "feature/empty-orders", dest: "main"},
		{file: "pull-request-closed.json", action: "closed", head: "c3d0be41ecbe669545ee3e94d31ed9a4bc91ee3c", source: "feature/empty-orders", dest: "main", merged: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := DecodePullRequest(payload(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			pr := p.PullRequest
			if p.Action != tt.action || pr.Head.SHA != tt.head || pr.Head.Ref != tt.source || pr.Base.Ref != tt.dest || pr.Merged != tt.merged || p.Number != 42 {
				t.Fatalf("decoded %+v", p)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		decode  func([]byte) error
		payload string
		want    string
	}{
		{name: "empty", decode: decodePush, payload: "  ", want: "push payload: empty"},
		{name: "not JSON", decode: decodePush, payload: `{"ref": }`, want: "push payload: invalid JSON at byte 9"},
		{name: "wrong type", decode: decodePush, payload: `{"ref": 7}`, want: "push payload: ref is a JSON number, want string"},
		{name: "fields missing", decode: decodePush, payload: `{"ref":"refs/heads/main"}`, want: "push payload: missing after, repository.full_name"},
		{name: "short ref", decode: decodePush, payload: `{"ref":"main","after":"a","repository":{"full_name":"o/r"}}`, want: `push payload: ref "main" is not a full ref`},
		{name: "pr fields missing", decode: decodePR, payload: `{"action":"opened","pull_request":{"head":{"ref":"f"}}}`,
			want: "pull_request payload: missing pull_request.head.sha, pull_request.base.ref, repository.full_name"},
		{name: "pr not an object", decode: decodePR, payload: `[]`, want: "pull_request payload: the payload is a JSON array, want an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode([]byte(tt.payload))
			var pe *PayloadError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want a PayloadError saying %q", err, tt.want)
			}
		})
	}
}

func decodePush(b []byte) error { _, err := DecodePush(b); return err }
func decodePR(b []byte) error   { _, err := DecodePullRequest(b); return err }

func TestPayloadForm(t *testing.T) {
	json := payload(t, "push.json")
	form := "payload=" + url.QueryEscape(string(json))
	tests := []struct {
		name, contentType, body string
		want                    []byte
		wantErr                 string
	}{
		{name: "json", contentType: "application/json", body: string(json), want: json},
		{name: "no content type", body: string(json), want: json},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: form, want: json},
		{name: "form with charset", contentType: "application/x-www-form-urlencoded; charset=utf-8", body: form, want: json},
		{name: "form without payload", contentType: "application/x-www-form-urlencoded", body: "a=1", wantErr: "form payload: no payload field"},
		{name: "broken form", contentType: "application/x-www-form-urlencoded", body: "payload=%zz", wantErr: "form payload: not form-encoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Payload(tt.contentType, []byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("got %d bytes %v", len(got), err)
			}
		})
	}
}

// FuzzDecode feeds arbitrary payloads to the decoders and to a webhook's
// filters: none may panic.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"push.json", "push-tag.json", "push-delete.json", "pull-request-opened.json"} {
		f.Add(payload(f, name), "$.ref")
	}
	f.Add([]byte(`{"ref":"refs/heads/x","after":"a","repository":{"full_name":"o/r"},"commits":[{"added":null}]}`), "$..id")
	f.Add([]byte(`payload=%7B%7D`), "$.commits[*].author")
	f.Add([]byte(`{"a":[1,{"b":null}]}`), "$.a[?(@.b == null)]")
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		if p, err := DecodePush(body); err == nil {
			p.Branch()
			p.Tag()
			p.Commit()
			p.Files()
		}
		DecodePullRequest(body)
		Payload("application/x-www-form-urlencoded", body)
		hook, err := Compile(Definition{
			Name: "fuzz", TargetPipeline: "p", TargetAction: "a", Authentication: AuthUnauthenticated,
			Filters: []FilterRule{{JSONPath: path, MatchEquals: "refs/heads/{Branch}"}, {JSONPath: path}},
		}, map[string]string{"Branch": "main"})
		if err == nil {
			hook.Match(body)
		}
	})
}
