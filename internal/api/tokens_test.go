package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/awsjson"
	"github.com/sluice-ci/sluice/internal/store"
)

// names is a store listing of names in order, of which the caller is shown
// those hidden does not hold.
func names(all []string, hidden ...string) storeListing[string] {
	return storeListing[string]{
		Listing: awsjson.Listing{Op: "ListThings"}, ctx: context.Background(),
		fetch: func(_ context.Context, n int, after string) ([]string, string, error) {
			i, _ := slices.BinarySearch(all, after)
			if i < len(all) && all[i] == after {
				i++
			}
			end := min(i+n, len(all))
			next := ""
			if end-i == n { // as the store does: a full page says more may follow
				next = all[end-1]
			}
			return all[i:end], next, nil
		},
		get: func(_ context.Context, name string) (store.Versioned[string], error) {
			if !slices.Contains(all, name) {
				return store.Versioned[string]{}, store.ErrNotFound
			}
			return store.Versioned[string]{Value: name}, nil
		},
		keep: func(s string) (string, bool) { return s, !slices.Contains(hidden, s) },
	}
}

// pages reads a listing page by page from tok; it returns the pages and
// the error that ended them.
func pages(limit int, tok string, page func(limit int, tok string) ([]string, string, error)) (string, error) {
	var got []string
	for range 10 {
		p, next, err := page(limit, tok)
		if err != nil {
			return strings.Join(got, " "), err
		}
		got = append(got, fmt.Sprint(p))
		if next == "" {
			break
		}
		tok = next
	}
	return strings.Join(got, " "), nil
}

func TestPageTokens(t *testing.T) {
	abcde := []string{"a", "b", "c", "d", "e"}
	things := awsjson.Listing{Op: "ListThings"}
	tagsOfX := awsjson.Listing{Op: "ListTags", Scope: map[string]string{"resourceArn": "x"}}
	tagsOfY := awsjson.Listing{Op: "ListTags", Scope: map[string]string{"resourceArn": "y"}}
	key := func(s string) string { return s }
	inList := func(l awsjson.Listing, all []string) func(int, string) ([]string, string, error) {
		return func(limit int, tok string) ([]string, string, error) { return listPage(l, all, limit, tok, key) }
	}
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name  string
		page  func(int, string) ([]string, string, error)
		limit int
		tok   string
		want  string
		bad   bool // InvalidNextTokenException
	}{
		{"store: hidden records skipped", names(abcde, "b").page, 2, "", "[a c] [d e]", false},
		{"store: the last page is full: no token for an empty page", names(abcde).page, 5, "", "[a b c d e]", false},
		{"store: hidden records at the end", names(abcde, "d", "e").page, 3, "", "[a b c]", false},
		{"store: nothing shown", names(abcde, abcde...).page, 2, "", "[]", false},
		{"store: a token of the listing", names(abcde).page, 2, things.Token("b"), "[c d] [e]", false},
		{"store: a name that does not exist", names(abcde).page, 2, things.Token("bb"), "", true},
		{"store: a name the caller is not shown", names(abcde, "c").page, 2, things.Token("c"), "", true},
		{"store: a token of another operation", names(abcde).page, 2, tagsOfX.Token("b"), "", true},
		{"store: a name as a token", names(abcde).page, 2, "b", "", true},
		{"store: base64 of a name", names(abcde).page, 2, raw("v1:b"), "", true},
		{"store: an empty position", names(abcde).page, 2, things.Token(""), "", true},
		{"list: pages", inList(tagsOfX, abcde), 2, "", "[a b] [c d] [e]", false},
		{"list: the last page is full", inList(tagsOfX, abcde), 5, "", "[a b c d e]", false},
		{"list: empty", inList(tagsOfX, nil), 5, "", "[]", false},
		{"list: a token of the listing", inList(tagsOfX, abcde), 3, tagsOfX.Token("a"), "[b c d] [e]", false},
		{"list: a token of another resource", inList(tagsOfX, abcde), 2, tagsOfY.Token("a"), "", true},
		{"list: a position not in the list", inList(tagsOfX, abcde), 2, tagsOfX.Token("z"), "", true},
		{"list: the last element", inList(tagsOfX, abcde), 2, tagsOfX.Token("e"), "", true},
		{"list: an index, as tokens once were", inList(tagsOfX, abcde), 2, raw("v1:2"), "", true},
	}
	for _, tt := range tests {
		got, err := pages(tt.limit, tt.tok, tt.page)
		e, _ := err.(*awsjson.Error)
		switch {
		case tt.bad && (e == nil || e.Code != "InvalidNextTokenException"):
			t.Errorf("%s: %q, %v; want InvalidNextTokenException", tt.name, got, err)
		case !tt.bad && (err != nil || got != tt.want):
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}
