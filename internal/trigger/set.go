package trigger

import (
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/sluice-ci/sluice/internal/events"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/webhook"
)

// The trigger types of the API model's ExecutionTrigger.
const (
	TypeCreatePipeline         = "CreatePipeline"
	TypeStartPipelineExecution = "StartPipelineExecution"
	TypePollForSourceChanges   = "PollForSourceChanges"
	TypeWebhook                = "Webhook"
	TypeCloudWatchEvent        = "CloudWatchEvent"
	TypePutActionRevision      = "PutActionRevision"
	TypeWebhookV2              = "WebhookV2"
	TypeManualRollback         = "ManualRollback"
	TypeAutomatedRollback      = "AutomatedRollback"
)

// Match is a pipeline an event starts: the trigger its execution records,
// the revisions its source actions fetch, and the execution-trigger its
// events show.
type Match struct {
	Pipeline        string
	Trigger         store.ExecutionTrigger
	SourceRevisions []store.SourceRevisionOverride
	EventTrigger    events.ExecutionTrigger
}

// Manual returns the trigger of an execution a user started: CreatePipeline,
// StartPipelineExecution, PutActionRevision, ManualRollback, whose detail
// is the caller's ARN.
func Manual(triggerType, callerARN string) store.ExecutionTrigger {
	return store.ExecutionTrigger{TriggerType: triggerType, TriggerDetail: callerARN}
}

// EventTriggerOf returns the execution-trigger of events for a trigger
// without a git event behind it.
func EventTriggerOf(t store.ExecutionTrigger) events.ExecutionTrigger {
	return events.ExecutionTrigger{TriggerType: t.TriggerType, TriggerDetail: t.TriggerDetail}
}

// ExecutionID returns the execution id that the delivery or event
// identified by key gives to the pipeline's execution: the same key always
// gives the same id, so that starting it again (after a crash, a retried
// event) starts it once.
func ExecutionID(key, pipeline string) string {
	return uuid.NewSHA1(executionNamespace, []byte(pipeline+"\x00"+key)).String()
}

var executionNamespace = uuid.MustParse("6e1c4a0e-3f1d-5b8a-9c2e-7d4b1a0f5e93")

// Set is the pipelines that changes may start, indexed by what their
// sources watch. A Set does not change; build a new one when a pipeline is
// created, updated or deleted.
type Set struct {
	pipelines []*Pipeline
	// byRepo indexes CodeStarSourceConnection sources by lower-case
	// FullRepositoryId, CodeCommit sources by repository name and S3
	// sources by bucket.
	byRepo, byCodeCommit, byBucket map[string][]sourceRef
}

type sourceRef struct {
	p *Pipeline
	s *source
}

// NewSet returns the set of the given pipelines.
func NewSet(pipelines ...*Pipeline) *Set {
	set := &Set{
		pipelines:    pipelines,
		byRepo:       map[string][]sourceRef{},
		byCodeCommit: map[string][]sourceRef{},
		byBucket:     map[string][]sourceRef{},
	}
	for _, p := range pipelines {
		for _, s := range p.sources {
			ref := sourceRef{p, s}
			switch s.provider {
			case ProviderConnection:
				k := strings.ToLower(s.config["FullRepositoryId"])
				set.byRepo[k] = append(set.byRepo[k], ref)
			case ProviderCodeCommit:
				set.byCodeCommit[s.config["RepositoryName"]] = append(set.byCodeCommit[s.config["RepositoryName"]], ref)
			case ProviderS3:
				set.byBucket[s.config["S3Bucket"]] = append(set.byBucket[s.config["S3Bucket"]], ref)
			}
		}
	}
	return set
}

// Pipelines returns the pipelines of the set.
func (s *Set) Pipelines() []*Pipeline { return s.pipelines }

// Git returns the pipelines a push or pull request event starts, by
// pipeline name. Each pipeline whose CodeStarSourceConnection source names
// the repository is started once, with the event's commit for every source
// action the event matched. The only error is that of ev.Files.
func (s *Set) Git(ev *GitEvent) ([]Match, error) {
	files := &lazyFiles{get: ev.Files}
	var out []Match
	for _, ref := range s.byRepo[strings.ToLower(ev.Repository)] {
		ok, err := ref.p.matchGit(ref.s, ev, files)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		connection := ref.s.config["ConnectionArn"]
		t := store.ExecutionTrigger{TriggerType: TypeWebhook, TriggerDetail: connection}
		et := EventTriggerOf(t)
		if ref.p.V2 {
			t.TriggerType, et = TypeWebhookV2, gitEventTrigger(ev, connection)
		}
		out = add(out, ref, t, et, store.SourceRevisionOverride{ActionName: ref.s.action, RevisionType: "COMMIT_ID", RevisionValue: ev.Commit})
	}
	sortMatches(out)
	return out, nil
}

// gitEventTrigger is the execution-trigger CodePipeline's events show for
// an execution a git trigger started: the git event, without the trigger
// type.
func gitEventTrigger(ev *GitEvent, connectionArn string) events.ExecutionTrigger {
	return events.ExecutionTrigger{
		AuthorDisplayName:  ev.AuthorName,
		FullRepositoryName: ev.Repository,
		ProviderType:       ev.ProviderType,
		AuthorEmail:        ev.AuthorEmail,
		CommitMessage:      ev.CommitMessage,
		AuthorDate:         ev.AuthorDate,
		TagName:            ev.Tag,
		BranchName:         gitBranch(ev),
		CommitID:           ev.Commit,
		ConnectionArn:      connectionArn,
		AuthorID:           ev.AuthorID,
	}
}

// gitBranch is the branch-name of the execution-trigger: the branch pushed
// to, or the pull request's source branch, whose commit is built.
func gitBranch(ev *GitEvent) string {
	if ev.Kind == GitPullRequest {
		return ev.SourceBranch
	}
	return ev.Branch
}

// add records that ref matched: a new Match for its pipeline, or one more
// source revision for a pipeline matched already.
func add(out []Match, ref sourceRef, t store.ExecutionTrigger, et events.ExecutionTrigger, rev store.SourceRevisionOverride) []Match {
	for i := range out {
		if out[i].Pipeline == ref.p.Name {
			if rev.RevisionValue != "" {
				out[i].SourceRevisions = append(out[i].SourceRevisions, rev)
			}
			return out
		}
	}
	m := Match{Pipeline: ref.p.Name, Trigger: t, EventTrigger: et}
	if rev.RevisionValue != "" {
		m.SourceRevisions = []store.SourceRevisionOverride{rev}
	}
	return append(out, m)
}

func sortMatches(out []Match) {
	slices.SortStableFunc(out, func(a, b Match) int { return strings.Compare(a.Pipeline, b.Pipeline) })
}

// ForWebhook returns the pipeline a delivery to a PutWebhook webhook starts:
// its target pipeline, with the trigger Webhook and the webhook's ARN. As
// in CodePipeline, the target action then fetches its configured branch.
func ForWebhook(d *webhook.Delivery) Match {
	t := store.ExecutionTrigger{TriggerType: TypeWebhook, TriggerDetail: d.Webhook.ARN}
	return Match{Pipeline: d.Webhook.Definition.TargetPipeline, Trigger: t, EventTrigger: EventTriggerOf(t)}
}
