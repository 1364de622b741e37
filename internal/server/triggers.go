package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/sluice-ci/sluice/internal/api"
	"github.com/sluice-ci/sluice/internal/events"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/trigger"
	"github.com/sluice-ci/sluice/internal/webhook"
)

// triggers keeps the trigger.Set of the catalog's pipelines, built again
// when a pipeline is created, updated or deleted. Pipelines are compiled
// once per version.
type triggers struct {
	mu       sync.Mutex
	key      string
	set      *trigger.Set
	compiled map[string]*trigger.Pipeline // by entryKey
}

func entryKey(e store.PipelineEntry) string {
	return fmt.Sprintf("%s@%d@%d", e.Name, e.Version, e.Created.UnixNano())
}

// triggerSet returns the set of the catalog's pipelines.
func (s *Server) triggerSet(ctx context.Context) (*trigger.Set, error) {
	var entries []store.PipelineEntry
	err := s.forEachPipeline(ctx, func(e store.PipelineEntry) error {
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = entryKey(e)
	}
	key := strings.Join(keys, "\x00")
	t := &s.triggers
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.set != nil && t.key == key {
		return t.set, nil
	}
	compiled := map[string]*trigger.Pipeline{}
	var ps []*trigger.Pipeline
	for i, e := range entries {
		p := t.compiled[keys[i]]
		if p == nil {
			d, _, err := s.Local.Runtime.Declaration(ctx, e.Name, e.Version)
			if errors.Is(err, store.ErrNotFound) {
				continue // deleted meanwhile
			}
			if err != nil {
				return nil, err
			}
			if p, err = trigger.Compile(d); err != nil {
				s.log.Warn("pipeline starts on no event", "pipeline", e.Name, "error", err)
				continue
			}
		}
		compiled[keys[i]] = p
		ps = append(ps, p)
	}
	t.key, t.set, t.compiled = key, trigger.NewSet(ps...), compiled
	return t.set, nil
}

// matchRepository returns the executions a delivery to the
// repository-level endpoint starts: the pipelines whose source names the
// repository and whose triggers the push or pull request matches.
func (s *Server) matchRepository(ctx context.Context, d *webhook.Delivery, id string) ([]store.PendingStart, error) {
	var (
		ev          *trigger.GitEvent
		pullRequest string
	)
	switch {
	case d.Push != nil:
		ev = trigger.FromPush(d.Push)
	case d.PullRequest != nil:
		ev = trigger.FromPullRequest(d.PullRequest, s.pullRequestFiles(d.PullRequest))
		pullRequest = strconv.Itoa(d.PullRequest.Number)
	default:
		return nil, nil
	}
	set, err := s.triggerSet(ctx)
	if err != nil {
		return nil, err
	}
	matches, err := set.Git(ev)
	if err != nil {
		return nil, err
	}
	for i := range matches {
		if m := &matches[i]; m.Trigger.TriggerType == trigger.TypeWebhookV2 {
			m.Trigger.Git = gitTrigger(m.EventTrigger, pullRequest)
		}
	}
	return pendingStarts(matches, id, d.Received), nil
}

// gitTrigger is the git event behind a WebhookV2 execution, kept on its
// record: what its events' execution-trigger shows, and the pull request.
func gitTrigger(et events.ExecutionTrigger, pullRequest string) *store.GitTrigger {
	return &store.GitTrigger{
		ProviderType: et.ProviderType, ConnectionArn: et.ConnectionArn, FullRepositoryName: et.FullRepositoryName,
		CommitID: et.CommitID, CommitMessage: et.CommitMessage, AuthorDisplayName: et.AuthorDisplayName,
		AuthorEmail: et.AuthorEmail, AuthorID: et.AuthorID, AuthorDate: et.AuthorDate,
		BranchName: et.BranchName, TagName: et.TagName, PullRequestID: pullRequest,
	}
}

func pendingStarts(matches []trigger.Match, id string, received time.Time) []store.PendingStart {
	out := make([]store.PendingStart, len(matches))
	for i, m := range matches {
		out[i] = store.PendingStart{
			PipelineName: m.Pipeline, ExecutionID: trigger.ExecutionID("delivery:"+id, m.Pipeline),
			Trigger: m.Trigger, SourceRevisions: m.SourceRevisions, Received: received,
		}
	}
	return out
}

// EventsPath is where EventBridge events are posted: a CodeCommit
// "Repository State Change" or an S3 "Object Created" event, as EventBridge
// delivers it to a target, signed with SigV4 like an API call. It starts
// the pipelines whose sources the event matches and that the caller may
// start.
const EventsPath = "/eventbridge"

// maxEventBytes caps an EventBridge event (EventBridge's own limit).
const maxEventBytes = 256 << 10

type eventReply struct {
	Message    string   `json:"message"`
	Executions []string `json:"executions,omitempty"`
}

func (s *Server) serveEvent(w http.ResponseWriter, r *http.Request) {
	reply := func(status int, msg string, ids []string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(eventReply{Message: msg, Executions: ids})
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(http.StatusMethodNotAllowed, "events are POSTed", nil)
		return
	}
	body, err := webhook.ReadBody(r, maxEventBytes)
	var tooLarge *webhook.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		reply(http.StatusRequestEntityTooLarge, "event: "+err.Error(), nil)
		return
	case err != nil:
		reply(http.StatusBadRequest, "event: "+err.Error(), nil)
		return
	}
	caller, err := s.auth.Authenticate(r, body)
	if err != nil {
		reply(http.StatusForbidden, err.Error(), nil)
		return
	}
	var ev lambdaevents.CloudWatchEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		reply(http.StatusBadRequest, fmt.Sprintf("event: not an EventBridge event: %v", err), nil)
		return
	}
	if ev.ID == "" {
		reply(http.StatusBadRequest, "event: the id is missing; EventBridge gives every event one, and a repeated id starts nothing", nil)
		return
	}
	ctx := r.Context()
	set, err := s.triggerSet(ctx)
	if err != nil {
		reply(http.StatusInternalServerError, err.Error(), nil)
		return
	}
	matches, err := set.EventBridge(&ev)
	var unsupported *trigger.UnsupportedEventError
	switch {
	case errors.As(err, &unsupported):
		reply(http.StatusOK, err.Error(), nil)
		return
	case err != nil:
		reply(http.StatusBadRequest, err.Error(), nil)
		return
	}
	allowed := matches[:0]
	for _, m := range matches {
		if s.auth.Authorize(ctx, caller, "codepipeline:StartPipelineExecution", api.PipelineARN(s.opts.Region, s.opts.Account, m.Pipeline)) {
			allowed = append(allowed, m)
		}
	}
	id := "eventbridge#" + ev.ID
	starts := pendingStarts(allowed, id, s.now())
	err = s.Local.Runtime.Store.ClaimDelivery(ctx, store.Delivery{ID: id, Source: "eventbridge", Keys: []string{id}, Received: s.now()}, starts)
	if errors.Is(err, store.ErrConditionFailed) {
		reply(http.StatusOK, "duplicate event: already accepted, nothing started", nil)
		return
	}
	if err != nil {
		reply(http.StatusInternalServerError, err.Error(), nil)
		return
	}
	s.kick()
	ids := make([]string, len(starts))
	for i, p := range starts {
		ids[i] = p.ExecutionID
	}
	reply(http.StatusAccepted, fmt.Sprintf("accepted: %d executions start", len(starts)), ids)
}

// repoName is a GitHub owner/repository name that is safe as a path.
var repoName = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

// pullRequestFiles returns the function that lists the files a pull
// request changes, which GitHub's delivery does not carry: they are read
// from the local git repository that stands in for the GitHub repository
// (git/<owner>/<repository> in the data folder), as the difference between
// the head commit and its merge base with the base commit. Without that
// repository or those commits, the files are not known and a file path
// filter does not match.
func (s *Server) pullRequestFiles(pr *webhook.PullRequestEvent) func() ([]string, error) {
	full := pr.Repository.FullName
	if !repoName.MatchString(full) || strings.Contains(full, "..") {
		return nil
	}
	dir := filepath.Join(s.opts.DataDir, "git", filepath.FromSlash(full))
	return func() ([]string, error) {
		files, err := changedFiles(dir, pr.PullRequest.Base.SHA, pr.PullRequest.Head.SHA)
		if err != nil {
			s.log.Info("the files of a pull request are not known", "repository", full, "pull request", pr.Number, "error", err)
			return nil, nil
		}
		return files, nil
	}
}

// changedFiles lists the files that differ between head and its merge
// base with base, in the repository at dir.
func changedFiles(dir, baseSHA, headSHA string) ([]string, error) {
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	head, err := repo.CommitObject(plumbing.NewHash(headSHA))
	if err != nil {
		return nil, fmt.Errorf("pull request head %s: %w", headSHA, err)
	}
	base, err := repo.CommitObject(plumbing.NewHash(baseSHA))
	if err != nil {
		return nil, fmt.Errorf("pull request base %s: %w", baseSHA, err)
	}
	if bases, err := base.MergeBase(head); err == nil && len(bases) > 0 {
		base = bases[0]
	}
	from, err := base.Tree()
	if err != nil {
		return nil, err
	}
	to, err := head.Tree()
	if err != nil {
		return nil, err
	}
	changes, err := from.Diff(to)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, ch := range changes {
		for _, name := range []string{ch.From.Name, ch.To.Name} {
			if name != "" && !slices.Contains(files, name) {
				files = append(files, name)
			}
		}
	}
	return files, nil
}
