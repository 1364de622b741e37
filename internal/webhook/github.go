package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"reflect"
	"strings"
)

// The GitHub events a trigger can start from.
const (
	EventPush        = "push"
	EventPullRequest = "pull_request"
	EventPing        = "ping"
)

// Push is the part of a GitHub push delivery that triggers use.
type Push struct {
	// Ref is the full ref pushed: refs/heads/<branch> or refs/tags/<tag>.
	Ref string `json:"ref"`
	// Before and After are the ref's commits before and after the push; a
	// deleted ref has After all zeros.
	Before  string `json:"before"`
	After   string `json:"after"`
	Created bool   `json:"created"`
	Deleted bool   `json:"deleted"`
	Forced  bool   `json:"forced"`
	// Commits are the pushed commits, oldest first, each with the files it
	// added, removed and modified.
	Commits    []Commit   `json:"commits"`
	HeadCommit *Commit    `json:"head_commit"`
	Repository Repository `json:"repository"`
	Pusher     Person     `json:"pusher"`
	Sender     User       `json:"sender"`
}

// Commit is a commit of a push delivery.
type Commit struct {
	ID        string   `json:"id"`
	Message   string   `json:"message"`
	Timestamp string   `json:"timestamp"`
	URL       string   `json:"url"`
	Author    Person   `json:"author"`
	Committer Person   `json:"committer"`
	Added     []string `json:"added"`
	Removed   []string `json:"removed"`
	Modified  []string `json:"modified"`
}

// Person is a commit's author or committer, or a pusher.
type Person struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Username string `json:"username,omitempty"`
}

// User is a GitHub account.
type User struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
}

// Repository is the repository a delivery concerns.
type Repository struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	FullName      string `json:"full_name"`
	Private       bool   `json:"private"`
	HTMLURL       string `json:"html_url"`
	CloneURL      string `json:"clone_url"`
	DefaultBranch string `json:"default_branch"`
	Owner         User   `json:"owner"`
}

// PullRequestEvent is the part of a GitHub pull_request delivery that
// triggers use.
type PullRequestEvent struct {
	// Action is what happened: opened, reopened, synchronize, closed,
	// edited, labeled, ...
	Action      string      `json:"action"`
	Number      int         `json:"number"`
	PullRequest PullRequest `json:"pull_request"`
	Repository  Repository  `json:"repository"`
	Sender      User        `json:"sender"`
}

// PullRequest is the pull request of a pull_request delivery.
type PullRequest struct {
	Number  int    `json:"number"`
	State   string `json:"state"`
	Title   string `json:"title"`
	HTMLURL string `json:"html_url"`
	Merged  bool   `json:"merged"`
	User    User   `json:"user"`
	// Head is the source branch, Base the destination branch.
	Head Branch `json:"head"`
	Base Branch `json:"base"`
}

// Branch is one side of a pull request.
type Branch struct {
	Ref  string      `json:"ref"`
	SHA  string      `json:"sha"`
	Repo *Repository `json:"repo"`
}

// PayloadError says what is wrong with a payload.
type PayloadError struct {
	Event string
	Msg   string
}

func (e *PayloadError) Error() string { return e.Event + " payload: " + e.Msg }

// Payload returns the JSON payload of a delivery's body: the body itself,
// or for a webhook set to application/x-www-form-urlencoded, its payload
// field. The signature covers the body as sent, not this.
func Payload(contentType string, body []byte) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "application/x-www-form-urlencoded" {
		return body, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &PayloadError{Event: "form", Msg: fmt.Sprintf("not form-encoded: %v", err)}
	}
	p := form.Get("payload")
	if p == "" {
		return nil, &PayloadError{Event: "form", Msg: "no payload field"}
	}
	return []byte(p), nil
}

// DecodePush decodes a push payload, checking the fields triggers need.
func DecodePush(payload []byte) (*Push, error) {
	var p Push
	if err := decode(EventPush, payload, &p); err != nil {
		return nil, err
	}
	var missing []string
	if p.Ref == "" {
		missing = append(missing, "ref")
	}
	if p.After == "" {
		missing = append(missing, "after")
	}
	if p.Repository.FullName == "" {
		missing = append(missing, "repository.full_name")
	}
	if len(missing) > 0 {
		return nil, &PayloadError{Event: EventPush, Msg: "missing " + strings.Join(missing, ", ")}
	}
	if !strings.HasPrefix(p.Ref, "refs/") {
		return nil, &PayloadError{Event: EventPush, Msg: fmt.Sprintf("ref %q is not a full ref (refs/heads/... or refs/tags/...)", p.Ref)}
	}
	return &p, nil
}

// DecodePullRequest decodes a pull_request payload, checking the fields
// triggers need.
func DecodePullRequest(payload []byte) (*PullRequestEvent, error) {
	var p PullRequestEvent
	if err := decode(EventPullRequest, payload, &p); err != nil {
		return nil, err
	}
	var missing []string
	if p.Action == "" {
		missing = append(missing, "action")
	}
	if p.PullRequest.Head.SHA == "" {
		missing = append(missing, "pull_request.head.sha")
	}
	if p.PullRequest.Head.Ref == "" {
		missing = append(missing, "pull_request.head.ref")
	}
	if p.PullRequest.Base.Ref == "" {
		missing = append(missing, "pull_request.base.ref")
	}
	if p.Repository.FullName == "" {
		missing = append(missing, "repository.full_name")
	}
	if len(missing) > 0 {
		return nil, &PayloadError{Event: EventPullRequest, Msg: "missing " + strings.Join(missing, ", ")}
	}
	if p.Number == 0 {
		p.Number = p.PullRequest.Number
	}
	return &p, nil
}

func decode(event string, payload []byte, v any) error {
	if len(bytes.TrimSpace(payload)) == 0 {
		return &PayloadError{Event: event, Msg: "empty"}
	}
	if err := json.Unmarshal(payload, v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return &PayloadError{Event: event, Msg: fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)}
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "the payload"
			}
			want := te.Type.String()
			switch te.Type.Kind() {
			case reflect.Struct, reflect.Map:
				want = "an object"
			case reflect.Slice:
				want = "an array"
			}
			return &PayloadError{Event: event, Msg: fmt.Sprintf("%s is a JSON %s, want %s", field, te.Value, want)}
		}
		return &PayloadError{Event: event, Msg: err.Error()}
	}
	return nil
}

// Branch returns the branch a push updated, if it pushed a branch.
func (p *Push) Branch() (string, bool) { return refName(p.Ref, "refs/heads/") }

// Tag returns the tag a push created, moved or deleted, if it pushed a tag.
func (p *Push) Tag() (string, bool) { return refName(p.Ref, "refs/tags/") }

func refName(ref, prefix string) (string, bool) {
	name, ok := strings.CutPrefix(ref, prefix)
	if !ok {
		return "", false
	}
	return name, true
}

// Commit returns the commit a push leaves the ref at: the head commit (for
// an annotated tag, After is the tag object and the head commit the commit
// it tags).
func (p *Push) Commit() string {
	if p.HeadCommit != nil && p.HeadCommit.ID != "" {
		return p.HeadCommit.ID
	}
	return p.After
}

// Files returns the paths the pushed commits added, removed or modified,
// each once, in the order they first appear.
func (p *Push) Files() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range p.Commits {
		for _, list := range [][]string{c.Added, c.Removed, c.Modified} {
			for _, f := range list {
				if !seen[f] {
					seen[f] = true
					out = append(out, f)
				}
			}
		}
	}
	return out
}
