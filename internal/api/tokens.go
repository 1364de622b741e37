package api

import (
	"encoding/base64"
	"strings"

	"github.com/sluice-ci/sluice/internal/awsjson"
)

// Page tokens are opaque to callers: the name or index to continue after,
// encoded, so that a token cannot be mistaken for a name.
const tokenPrefix = "v1:"

func encodeToken(after string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + after))
}

func decodeToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	after, ok := strings.CutPrefix(string(raw), tokenPrefix)
	if err != nil || !ok || after == "" {
		return "", awsjson.Exception("InvalidNextTokenException", "the next token %q was not given by a previous call", tok)
	}
	return after, nil
}

// collect gathers up to limit records, page after page of fetch (which
// lists up to n records after a name), keeping those that keep accepts;
// keep also returns the record's name. It continues the listing that the
// page token tok names, and returns the token of the next page, empty at
// the end.
func collect[T any](limit int, tok string, fetch func(n int, after string) ([]T, string, error), keep func(T) (string, bool)) ([]T, string, error) {
	after, err := decodeToken(tok)
	if err != nil {
		return nil, "", err
	}
	var out []T
	for len(out) < limit {
		page, next, err := fetch(limit-len(out), after)
		if err != nil {
			return nil, "", err
		}
		for _, v := range page {
			name, ok := keep(v)
			after = name
			if ok {
				out = append(out, v)
			}
		}
		if next == "" {
			return out, "", nil
		}
	}
	return out, encodeToken(after), nil
}
