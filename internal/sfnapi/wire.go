package sfnapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// timestamp is a time as the JSON 1.0 protocol writes it: epoch seconds,
// with milliseconds as the fraction.
type timestamp time.Time

func (t timestamp) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(t).UnixMilli())/1000, 'f', -1, 64), nil
}

// stamp returns the wire form of a time, nil for the zero time.
func stamp(t time.Time) *timestamp {
	if t.IsZero() {
		return nil
	}
	v := timestamp(t)
	return &v
}

// Page sizes of the list operations.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// pageToken is the decoded form of a nextToken: the operation and the
// scope (state machine, execution and order, filters) it pages through,
// and the engine's cursor of the page that follows. The engine's cursors
// name the last item returned rather than an offset, which keeps pages
// stable while executions start and events are appended.
type pageToken struct {
	Op    string `json:"o"`
	Scope string `json:"s"`
	After string `json:"a"`
}

// pager reads and writes the nextToken values of one listing.
type pager struct {
	op, scope string
}

// start checks maxResults (0 means the default page size) and returns the
// page size and the engine cursor a nextToken resumes after ("" without a
// token); a token of another listing is InvalidToken.
func (p pager) start(token *string, maxResults int32) (after string, size int, err error) {
	if size, err = pageSize("maxResults", maxResults, maxPageSize); err != nil {
		return "", 0, err
	}
	if token == nil || *token == "" {
		return "", size, nil
	}
	invalid := exception("InvalidToken", "Invalid Token: '%s' is not a nextToken of this %s request", *token, p.op)
	data, err := base64.RawURLEncoding.DecodeString(*token)
	if err != nil {
		return "", 0, invalid
	}
	var t pageToken
	if err := json.Unmarshal(data, &t); err != nil || t.Op != p.op || t.Scope != p.scope || t.After == "" {
		return "", 0, invalid
	}
	return t.After, size, nil
}

// next returns the nextToken of an engine cursor, nil when there is none.
func (p pager) next(cursor string) *string {
	if cursor == "" {
		return nil
	}
	data, _ := json.Marshal(pageToken{Op: p.op, Scope: p.scope, After: cursor})
	token := base64.RawURLEncoding.EncodeToString(data)
	return &token
}

// pageSize checks a page size member: 0 means the default page size.
func pageSize(member string, n int32, limit int) (int, error) {
	switch {
	case n < 0:
		return 0, constraint(strconv.Itoa(int(n)), member, "Member must have value greater than or equal to 0")
	case int(n) > limit:
		return 0, constraint(strconv.Itoa(int(n)), member, fmt.Sprintf("Member must have value less than or equal to %d", limit))
	case n == 0:
		return min(defaultPageSize, limit), nil
	}
	return int(n), nil
}
