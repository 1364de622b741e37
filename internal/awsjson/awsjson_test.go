package awsjson

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var protocol = Protocol{TargetPrefix: "Svc_1.", ContentType: "application/x-amz-json-1.1", MaxBody: 16, Service: "Svc"}

func TestReadRequest(t *testing.T) {
	tests := []struct {
		name, method, target, body string
		op, code                   string
		status                     int
	}{
		{"an operation", "POST", "Svc_1.Get", `{}`, "Get", "", 0},
		{"GET", "GET", "Svc_1.Get", ``, "", "UnknownOperationException", 405},
		{"no target", "POST", "", `{}`, "", "UnknownOperationException", 400},
		{"another service", "POST", "Other_1.Get", `{}`, "", "UnknownOperationException", 400},
		{"too large", "POST", "Svc_1.Put", strings.Repeat("x", 17), "Put", "ValidationException", 413},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "/", strings.NewReader(tt.body))
		if tt.target != "" {
			r.Header.Set("X-Amz-Target", tt.target)
		}
		op, _, err := protocol.ReadRequest(httptest.NewRecorder(), r)
		switch {
		case tt.code == "" && (err != nil || op != tt.op):
			t.Errorf("%s: %q, %v", tt.name, op, err)
		case tt.code != "" && (err == nil || err.Code != tt.code || err.Status != tt.status):
			t.Errorf("%s: got %v, want %s %d", tt.name, err, tt.code, tt.status)
		}
	}
}

func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	protocol.WriteError(w, Exception("PipelineNotFoundException", "no pipeline %s", "p"))
	if w.Code != http.StatusBadRequest || w.Header().Get("X-Amzn-ErrorType") != "PipelineNotFoundException" ||
		strings.TrimSpace(w.Body.String()) != `{"__type":"PipelineNotFoundException","message":"no pipeline p"}` {
		t.Errorf("%d %v %s", w.Code, w.Header(), w.Body)
	}
}

func TestCheck(t *testing.T) {
	name := Model(`[A-Za-z0-9.@\-_]+`)
	tests := []struct {
		name string
		run  func(c *Check)
		want string
	}{
		{"fine", func(c *Check) { c.Required("name", "p").Length("name", "p", 1, 100).Pattern("name", "p", name) }, ""},
		{"missing", func(c *Check) { c.Required("name", "") },
			"ValidationException: 1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"},
		{"too long", func(c *Check) { c.Length("reason", "abc", 1, 2) },
			"ValidationException: 1 validation error detected: Value 'abc' at 'reason' failed to satisfy constraint: Member must have length less than or equal to 2"},
		{"pattern", func(c *Check) { c.Pattern("name", "a b", name) },
			`ValidationException: 1 validation error detected: Value 'a b' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9.@\-_]+`},
		{"enum", func(c *Check) { c.Enum("mode", "X", "A", "B") },
			"ValidationException: 1 validation error detected: Value 'X' at 'mode' failed to satisfy constraint: Member must satisfy enum value set: [A, B]"},
		{"range", func(c *Check) { c.Range("maxResults", 101, 1, 100) },
			"ValidationException: 1 validation error detected: Value 101 at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"},
		{"the first failure wins", func(c *Check) { c.Required("a", "").Required("b", "") },
			"ValidationException: 1 validation error detected: Value null at 'a' failed to satisfy constraint: Member must not be null"},
	}
	for _, tt := range tests {
		c := &Check{}
		tt.run(c)
		got := ""
		if c.Err != nil {
			got = c.Err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestListing(t *testing.T) {
	types := Listing{Op: "ListActionTypes", Scope: map[string]string{"regionFilter": "", "actionOwnerFilter": "AWS"}}
	pipelines := Listing{Op: "ListPipelines"}
	tests := []struct {
		name      string
		l         Listing
		tok, want string
	}{
		{"no token", types, "", ""},
		{"its own token", types, types.Token("Source/AWS/S3/1"), "Source/AWS/S3/1"},
		{"the same scope, written in another order", Listing{Op: types.Op, Scope: map[string]string{"actionOwnerFilter": "AWS", "regionFilter": ""}}, types.Token("x"), "x"},
		{"a token of another scope", Listing{Op: types.Op, Scope: map[string]string{"actionOwnerFilter": "Custom", "regionFilter": ""}}, types.Token("x"), "invalid"},
		{"a token of another operation", pipelines, types.Token("x"), "invalid"},
		{"a token with a scope, to a listing without", pipelines, Listing{Op: "ListPipelines", Scope: map[string]string{"x": ""}}.Token("p"), "invalid"},
		{"not base64", pipelines, "not a token!", "invalid"},
		{"base64, not JSON", pipelines, "bm90IGpzb24", "invalid"},
	}
	for _, tt := range tests {
		got, err := tt.l.After(tt.tok)
		if err != nil {
			if err.Code != "InvalidNextTokenException" {
				t.Errorf("%s: %v", tt.name, err)
			}
			got = "invalid"
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	want := "InvalidNextTokenException: the next token was not given by a previous ListActionTypes call with the same actionOwnerFilter and regionFilter"
	if got := types.Invalid().Error(); got != want {
		t.Errorf("%s\nwant %s", got, want)
	}
	if got := pipelines.Invalid().Error(); got != "InvalidNextTokenException: the next token was not given by a previous ListPipelines call" {
		t.Errorf("%s", got)
	}
}
