package sfnapi

import "testing"

func TestPageTokens(t *testing.T) {
	p := pager{op: "ListExecutions", scope: "arn:m||"}
	next := p.next("cursor-1")
	tests := []struct {
		name  string
		pager pager
		token *string
		after string
		ok    bool
	}{
		{"no token", p, nil, "", true},
		{"empty token", p, new(string), "", true},
		{"its own token", p, next, "cursor-1", true},
		{"a token of another scope", pager{op: "ListExecutions", scope: "arn:m|RUNNING|"}, next, "", false},
		{"a token of another operation", pager{op: "ListStateMachines"}, next, "", false},
		{"not base64", p, ptr("%%%"), "", false},
		{"not JSON", p, ptr("bm90IGpzb24"), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after, size, err := tt.pager.start(tt.token, 0)
			switch {
			case tt.ok && (err != nil || after != tt.after || size != defaultPageSize):
				t.Fatalf("start: %q, %d, %v; want %q", after, size, err, tt.after)
			case !tt.ok && (err == nil || err.(*Error).Code != "InvalidToken"):
				t.Fatalf("start accepted the token: %q, %v", after, err)
			}
		})
	}
	if p.next("") != nil {
		t.Error("the last page has a nextToken")
	}
}

func ptr(s string) *string { return &s }
