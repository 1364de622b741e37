package trigger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/sluice-ci/sluice/internal/store"
)

// The EventBridge events that start pipelines.
const (
	SourceCodeCommit           = "aws.codecommit"
	DetailTypeCodeCommitChange = "CodeCommit Repository State Change"
	SourceS3                   = "aws.s3"
	DetailTypeObjectCreated    = "Object Created"
)

// CodeCommitChange is the detail of a "CodeCommit Repository State Change"
// event.
type CodeCommitChange struct {
	// Event is referenceCreated, referenceUpdated or referenceDeleted.
	Event          string `json:"event"`
	RepositoryName string `json:"repositoryName"`
	RepositoryID   string `json:"repositoryId"`
	// ReferenceType is branch or tag.
	ReferenceType     string `json:"referenceType"`
	ReferenceName     string `json:"referenceName"`
	ReferenceFullName string `json:"referenceFullName"`
	CommitID          string `json:"commitId"`
	OldCommitID       string `json:"oldCommitId,omitempty"`
	CallerUserArn     string `json:"callerUserArn,omitempty"`
}

// ObjectCreated is the detail of an S3 "Object Created" event.
type ObjectCreated struct {
	Version         string   `json:"version"`
	Bucket          S3Bucket `json:"bucket"`
	Object          S3Object `json:"object"`
	RequestID       string   `json:"request-id"`
	Requester       string   `json:"requester"`
	SourceIPAddress string   `json:"source-ip-address,omitempty"`
	Reason          string   `json:"reason,omitempty"`
}

// S3Bucket is the bucket of an S3 event.
type S3Bucket struct {
	Name string `json:"name"`
}

// S3Object is the object of an S3 event; its key comes as it is, not
// URL-encoded.
type S3Object struct {
	Key       string `json:"key"`
	Size      int64  `json:"size"`
	ETag      string `json:"etag"`
	VersionID string `json:"version-id,omitempty"`
	Sequencer string `json:"sequencer,omitempty"`
}

// UnsupportedEventError is an EventBridge event that starts no pipeline by
// its nature.
type UnsupportedEventError struct {
	Source, DetailType string
}

func (e *UnsupportedEventError) Error() string {
	return fmt.Sprintf("EventBridge event %q from %s starts no pipeline", e.DetailType, e.Source)
}

// EventBridge returns the pipelines an EventBridge event starts: a
// CodeCommit branch created or updated starts the pipelines whose CodeCommit
// source watches that repository and branch, an S3 object created those
// whose S3 source watches that bucket and key. Any other event is an
// *UnsupportedEventError; a detail that does not decode is an error naming
// the field.
//
// The trigger is CloudWatchEvent, with the ARN of the rule that would
// carry the event in AWS (codepipeline-<pipeline>-<action> in the event's
// account and region), when the source sets PollForSourceChanges to false.
// Otherwise AWS would have found the change by polling, and the trigger is
// PollForSourceChanges; Sluice never polls, it takes the event either way.
func (s *Set) EventBridge(ev *lambdaevents.CloudWatchEvent) ([]Match, error) {
	switch {
	case ev.Source == SourceCodeCommit && ev.DetailType == DetailTypeCodeCommitChange:
		var d CodeCommitChange
		if err := decodeDetail(ev, &d); err != nil {
			return nil, err
		}
		return s.CodeCommit(ev, &d), nil
	case ev.Source == SourceS3 && ev.DetailType == DetailTypeObjectCreated:
		var d ObjectCreated
		if err := decodeDetail(ev, &d); err != nil {
			return nil, err
		}
		return s.S3(ev, &d), nil
	}
	return nil, &UnsupportedEventError{Source: ev.Source, DetailType: ev.DetailType}
}

func decodeDetail(ev *lambdaevents.CloudWatchEvent, v any) error {
	dec := json.NewDecoder(bytes.NewReader(ev.Detail))
	if err := dec.Decode(v); err != nil {
		if te, ok := err.(*json.UnmarshalTypeError); ok {
			return fmt.Errorf("%s event %s: detail.%s is a JSON %s, want %s", ev.DetailType, ev.ID, te.Field, te.Value, te.Type)
		}
		return fmt.Errorf("%s event %s: detail: %w", ev.DetailType, ev.ID, err)
	}
	return nil
}

// CodeCommit returns the pipelines a CodeCommit state change starts.
func (s *Set) CodeCommit(ev *lambdaevents.CloudWatchEvent, d *CodeCommitChange) []Match {
	if d.ReferenceType != "branch" || (d.Event != "referenceCreated" && d.Event != "referenceUpdated") {
		return nil
	}
	var out []Match
	for _, ref := range s.byCodeCommit[d.RepositoryName] {
		if ref.s.config["BranchName"] != d.ReferenceName {
			continue
		}
		t := eventTrigger(ev, ref)
		out = add(out, ref, t, EventTriggerOf(t), store.SourceRevisionOverride{ActionName: ref.s.action, RevisionType: "COMMIT_ID", RevisionValue: d.CommitID})
	}
	sortMatches(out)
	return out
}

// S3 returns the pipelines an S3 object created starts.
func (s *Set) S3(ev *lambdaevents.CloudWatchEvent, d *ObjectCreated) []Match {
	var out []Match
	for _, ref := range s.byBucket[d.Bucket.Name] {
		if ref.s.config["S3ObjectKey"] != d.Object.Key {
			continue
		}
		t := eventTrigger(ev, ref)
		out = add(out, ref, t, EventTriggerOf(t), store.SourceRevisionOverride{ActionName: ref.s.action, RevisionType: "S3_OBJECT_VERSION_ID", RevisionValue: d.Object.VersionID})
	}
	sortMatches(out)
	return out
}

func eventTrigger(ev *lambdaevents.CloudWatchEvent, ref sourceRef) store.ExecutionTrigger {
	if !strings.EqualFold(ref.s.config["PollForSourceChanges"], "false") {
		return store.ExecutionTrigger{TriggerType: TypePollForSourceChanges}
	}
	return store.ExecutionTrigger{TriggerType: TypeCloudWatchEvent, TriggerDetail: RuleARN(ev.Region, ev.AccountID, ref.p.Name, ref.s.action)}
}

// RuleARN returns the ARN of the EventBridge rule that carries a source
// action's changes: codepipeline-<pipeline>-<action>, cut to EventBridge's
// 64 characters.
func RuleARN(region, account, pipelineName, action string) string {
	name := "codepipeline-" + pipelineName + "-" + action
	if len(name) > 64 {
		name = name[:64]
	}
	return "arn:aws:events:" + region + ":" + account + ":rule/" + name
}
