package sfnapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
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

// ARN resource types.
const (
	stateMachineResource = "stateMachine"
	executionResource    = "execution"
)

// checkArn checks that a required member holds a Step Functions ARN of the
// resource type: arn:<partition>:states:<region>:<account>:<type>:<name>,
// with the state machine name before the execution name of an execution.
// The messages are those of the service's InvalidArn.
func checkArn(member string, v *string, resource string) error {
	if err := required(member, v); err != nil {
		return err
	}
	a, err := arn.Parse(*v)
	if err != nil {
		return exception("InvalidArn", "Invalid Arn: 'Invalid ARN prefix: %s'", *v)
	}
	if a.Service != "states" {
		return exception("InvalidArn", "Invalid Arn: 'Service not valid in this context: %s'", a.Service)
	}
	typ, name, _ := strings.Cut(a.Resource, ":")
	if typ != resource {
		return exception("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", typ)
	}
	parts := 1
	if resource == executionResource {
		parts = 2
	}
	if segs := strings.Split(name, ":"); len(segs) < parts || slices.Contains(segs[:parts], "") {
		return exception("InvalidArn", "Invalid Arn: 'Resource name not valid in this context: %s'", *v)
	}
	return nil
}

// Page sizes of the list operations.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// pageToken is the decoded form of a nextToken: the operation and the
// scope (state machine, execution and order) it pages through, and the
// key of the last item returned. Paging by key rather than by offset
// keeps pages stable while executions start and events are appended.
type pageToken struct {
	Op    string `json:"o"`
	Scope string `json:"s"`
	After string `json:"a"`
}

func (p pageToken) encode() string {
	data, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(data)
}

// decodePageToken returns the key a nextToken resumes after ("" without a
// token); a token of another listing is InvalidToken.
func decodePageToken(op, scope string, token *string) (string, error) {
	if token == nil || *token == "" {
		return "", nil
	}
	invalid := exception("InvalidToken", "Invalid Token: '%s' is not a nextToken of this %s request", *token, op)
	data, err := base64.RawURLEncoding.DecodeString(*token)
	if err != nil {
		return "", invalid
	}
	var p pageToken
	if err := json.Unmarshal(data, &p); err != nil || p.Op != op || p.Scope != scope || p.After == "" {
		return "", invalid
	}
	return p.After, nil
}

// pageSize checks maxResults: 0 means the default page size.
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

// listing pages through items in the order of their keys.
type listing[T any] struct {
	op, scope string
	key       func(T) string
}

// page returns the items after the position of token, at most maxResults
// of them, and the nextToken of the rest (nil on the last page).
func (l listing[T]) page(items []T, token *string, maxResults int32) ([]T, *string, error) {
	size, err := pageSize("maxResults", maxResults, maxPageSize)
	if err != nil {
		return nil, nil, err
	}
	after, err := decodePageToken(l.op, l.scope, token)
	if err != nil {
		return nil, nil, err
	}
	type keyed struct {
		key  string
		item T
	}
	all := make([]keyed, len(items))
	for i, it := range items {
		all[i] = keyed{l.key(it), it}
	}
	slices.SortStableFunc(all, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	start := 0
	if after != "" {
		start, _ = slices.BinarySearchFunc(all, after, func(k keyed, t string) int {
			if k.key <= t {
				return -1
			}
			return 1
		})
	}
	end := min(start+size, len(all))
	out := make([]T, 0, end-start)
	for _, k := range all[start:end] {
		out = append(out, k.item)
	}
	if end == len(all) {
		return out, nil, nil
	}
	next := pageToken{Op: l.op, Scope: l.scope, After: all[end-1].key}.encode()
	return out, &next, nil
}

// ascending and descending build sort keys that order by a number (a time
// or an event id), then by a name.
func ascending(n int64, name string) string {
	return fmt.Sprintf("%020d/%s", uint64(n)+1<<63, name)
}

func descending(n int64, name string) string { return ascending(^n, name) }
