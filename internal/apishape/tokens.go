package apishape

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/sluice-ci/sluice/internal/execution"
)

// pageToken is the decoded form of a nextToken: the listing it continues
// (the operation, and its scope: the pipeline and the filter) and the
// position after which the next page starts. A token is accepted only by
// the listing that gave it, and only when its position is one of that
// listing's (the store's ErrCursor, an action execution of the list): a
// token from another listing, another pipeline or filter, or made up, is
// InvalidNextTokenException, never a page of something else or an empty
// page.
type pageToken struct {
	Op    string `json:"o"`
	Scope string `json:"s"`
	After string `json:"a"`
}

// scope joins the parts of a listing's scope.
func scope(parts ...string) string { return strings.Join(parts, "\x00") }

// encodeToken returns the nextToken that continues listing op over scope
// after a position.
func encodeToken(op, scope, after string) string {
	raw, _ := json.Marshal(pageToken{Op: op, Scope: scope, After: after})
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeToken returns the position a nextToken of listing op over scope
// continues after, "" for no token.
func decodeToken(op, scope, tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	var t pageToken
	if err != nil || json.Unmarshal(raw, &t) != nil || t.Op != op || t.Scope != scope || t.After == "" {
		return "", invalidToken(op)
	}
	return t.After, nil
}

func invalidToken(op string) error {
	return &execution.Rejection{Code: "InvalidNextTokenException", Message: "the next token was not given by a previous " + op + " call with the same pipeline and filter"}
}
