package awsjson

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Listing is one listing of an API, for its page tokens (nextToken): the
// operation and its scope, the request members that choose what is listed
// (a resource, a filter) with their values. A token carries the listing
// and the position its page starts after, and only the listing that gave
// it accepts it: a token of another operation or scope, or one made up,
// is InvalidNextTokenException, never a page of something else. A token is
// readable, not signed: the caller also checks that the position is one
// its listing gives (a record that exists, an element of the list).
type Listing struct {
	Op    string
	Scope map[string]string
}

// pageToken is a token's content.
type pageToken struct {
	Op    string            `json:"o"`
	Scope map[string]string `json:"s,omitempty"`
	After string            `json:"a"`
}

// Token returns the token of the page that starts after position after.
func (l Listing) Token(after string) string {
	raw, _ := json.Marshal(pageToken{Op: l.Op, Scope: l.Scope, After: after})
	return base64.RawURLEncoding.EncodeToString(raw)
}

// After returns the position a token of this listing continues after, ""
// for no token (the first page).
func (l Listing) After(tok string) (string, *Error) {
	if tok == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	var t pageToken
	if err != nil || json.Unmarshal(raw, &t) != nil || t.Op != l.Op || !maps.Equal(t.Scope, l.Scope) || t.After == "" {
		return "", l.Invalid()
	}
	return t.After, nil
}

// Invalid is the refusal of a token this listing did not give.
func (l Listing) Invalid() *Error {
	same := ""
	if len(l.Scope) > 0 {
		same = " with the same " + strings.Join(slices.Sorted(maps.Keys(l.Scope)), " and ")
	}
	return Exception("InvalidNextTokenException", "the next token was not given by a previous %s call%s", l.Op, same)
}
