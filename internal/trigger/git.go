package trigger

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/webhook"
)

// GitKind says what a git event is.
type GitKind int

// The git events triggers react to.
const (
	GitPush GitKind = iota + 1
	GitPullRequest
)

// GitEvent is a push or a pull request event, as the repository-level
// endpoint receives it.
type GitEvent struct {
	Kind GitKind
	// Repository is the repository's full name, owner/name, compared with
	// FullRepositoryId.
	Repository   string
	ProviderType string // GitHub
	// Branch is the branch pushed to, or the pull request's destination
	// branch; Tag the tag pushed. One of them is set.
	Branch string
	Tag    string
	// Deleted is set for a push that deletes the branch or tag: it starts
	// nothing.
	Deleted bool
	// Commit is the commit to build: the pushed head, or the head of the
	// pull request's source branch.
	Commit       string
	SourceBranch string
	// PullRequestEvent is the pull request event; empty for a pull request
	// action that CodePipeline ignores (edited, labeled, ...).
	PullRequestEvent pipeline.GitPullRequestEventType
	// Files returns the changed files; it is asked only when a file path
	// filter needs them, at most once. Nil means they are not known, and
	// a file path filter does not match.
	Files func() ([]string, error)
	// For the execution-trigger of the execution's events.
	CommitMessage, AuthorName, AuthorEmail, AuthorID, AuthorDate string
}

// FromPush returns the event of a push delivery.
func FromPush(p *webhook.Push) *GitEvent {
	ev := &GitEvent{
		Kind:         GitPush,
		Repository:   p.Repository.FullName,
		ProviderType: "GitHub",
		Deleted:      p.Deleted,
		Commit:       p.Commit(),
	}
	ev.Branch, _ = p.Branch()
	ev.Tag, _ = p.Tag()
	files := p.Files()
	ev.Files = func() ([]string, error) { return files, nil }
	if c := p.HeadCommit; c != nil {
		ev.CommitMessage, ev.AuthorName, ev.AuthorEmail, ev.AuthorDate = c.Message, c.Author.Name, c.Author.Email, c.Timestamp
		ev.AuthorID = c.Author.Username
	}
	return ev
}

// pullRequestEvents maps GitHub's pull request actions to CodePipeline's
// events: a pull request opened or reopened, updated with new commits, or
// closed (merged or not).
var pullRequestEvents = map[string]pipeline.GitPullRequestEventType{
	"opened":      pipeline.PullRequestOpen,
	"reopened":    pipeline.PullRequestOpen,
	"synchronize": pipeline.PullRequestUpdated,
	"closed":      pipeline.PullRequestClosed,
}

// FromPullRequest returns the event of a pull_request delivery. GitHub does
// not list a pull request's files in the delivery: files, when not nil,
// finds them (locally, from the repository in the data folder).
func FromPullRequest(p *webhook.PullRequestEvent, files func() ([]string, error)) *GitEvent {
	pr := p.PullRequest
	return &GitEvent{
		Kind:             GitPullRequest,
		Repository:       p.Repository.FullName,
		ProviderType:     "GitHub",
		Branch:           pr.Base.Ref,
		SourceBranch:     pr.Head.Ref,
		Commit:           pr.Head.SHA,
		PullRequestEvent: pullRequestEvents[p.Action],
		Files:            files,
		CommitMessage:    pr.Title,
		AuthorName:       pr.User.Login,
		AuthorID:         pr.User.Login,
	}
}

// lazyFiles asks for the changed files once.
type lazyFiles struct {
	once  sync.Once
	get   func() ([]string, error)
	files []string
	err   error
}

func (l *lazyFiles) list() ([]string, error) {
	l.once.Do(func() {
		if l.get != nil {
			l.files, l.err = l.get()
		}
	})
	return l.files, l.err
}

// filesMatch applies a file path filter; no filter matches anything.
func filesMatch(c *criteria, files *lazyFiles) (bool, error) {
	if c == nil {
		return true, nil
	}
	list, err := files.list()
	if err != nil {
		return false, fmt.Errorf("list changed files: %w", err)
	}
	return c.matchAny(list), nil
}

// matchGit decides whether ev starts the pipeline through source s, and
// with which trigger type.
func (p *Pipeline) matchGit(s *source, ev *GitEvent, files *lazyFiles) (bool, error) {
	if s.provider != ProviderConnection || !strings.EqualFold(s.config["FullRepositoryId"], ev.Repository) || ev.Deleted {
		return false, nil
	}
	t := s.trigger
	if !p.V2 || t == nil || len(t.push)+len(t.pullRequest) == 0 {
		// CodePipeline's default: a push to the configured branch, unless
		// the action turns change detection off.
		return ev.Kind == GitPush && ev.Tag == "" && ev.Branch == s.config["BranchName"] &&
			!strings.EqualFold(s.config["DetectChanges"], "false"), nil
	}
	switch ev.Kind {
	case GitPush:
		for _, f := range t.push { // filters are OR'ed, their parts AND'ed
			if ok, err := f.match(ev, files); ok || err != nil {
				return ok, err
			}
		}
	case GitPullRequest:
		for _, f := range t.pullRequest {
			if ok, err := f.match(ev, files); ok || err != nil {
				return ok, err
			}
		}
	}
	return false, nil
}

func (f *pushFilter) match(ev *GitEvent, files *lazyFiles) (bool, error) {
	if ev.Tag != "" {
		// Tags go alone: a tag push is matched by a filter's tags only.
		return f.tags != nil && f.tags.match(ev.Tag), nil
	}
	if f.tags != nil && f.branches == nil {
		return false, nil // a tags filter ignores branch pushes
	}
	if !f.branches.match(ev.Branch) {
		return false, nil
	}
	return filesMatch(f.files, files)
}

func (f *pullRequestFilter) match(ev *GitEvent, files *lazyFiles) (bool, error) {
	if ev.PullRequestEvent == "" {
		return false, nil
	}
	if len(f.events) > 0 && !slices.Contains(f.events, ev.PullRequestEvent) {
		return false, nil
	}
	if !f.branches.match(ev.Branch) {
		return false, nil
	}
	return filesMatch(f.files, files)
}
