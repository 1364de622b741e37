package lambda

import (
	"time"

	"github.com/sluice-ci/sluice/internal/action"
)

// Event is what CodePipeline invokes a Lambda invoke action's function
// with: the job, under the key "CodePipeline.job".
type Event struct {
	Job Job `json:"CodePipeline.job"`
}

// Job is the job of an event. Its ID is the one the function reports on
// with PutJobSuccessResult or PutJobFailureResult.
type Job struct {
	ID        string  `json:"id"`
	AccountID string  `json:"accountId"`
	Data      JobData `json:"data"`
}

// JobData is what the function is to work on. ContinuationToken is set when
// the function asked to be invoked again (PutJobSuccessResult with a
// continuationToken); encryptionKey, which CodePipeline adds for an
// artifact store encrypted with a KMS key, is never present locally.
type JobData struct {
	ActionConfiguration ActionConfiguration `json:"actionConfiguration"`
	InputArtifacts      []Artifact          `json:"inputArtifacts"`
	OutputArtifacts     []Artifact          `json:"outputArtifacts"`
	ArtifactCredentials Credentials         `json:"artifactCredentials"`
	ContinuationToken   string              `json:"continuationToken,omitempty"`
}

// ActionConfiguration holds the action's configuration: FunctionName and
// UserParameters, with variables resolved.
type ActionConfiguration struct {
	Configuration map[string]string `json:"configuration"`
}

// Artifact is an input or output artifact. Revision is the source revision
// of an input, null for outputs.
type Artifact struct {
	Name     string   `json:"name"`
	Revision *string  `json:"revision"`
	Location Location `json:"location"`
}

// Location is where an artifact is. Locally the bucket is empty and the
// object key is the artifact store's key: the zip file
// $SLUICE_ARTIFACTS_DIR/<objectKey>.
type Location struct {
	Type       string     `json:"type"`
	S3Location S3Location `json:"s3Location"`
}

// S3Location is an artifact's bucket and key.
type S3Location struct {
	BucketName string `json:"bucketName"`
	ObjectKey  string `json:"objectKey"`
}

// Credentials are the temporary credentials CodePipeline hands the
// function for its artifacts; ExpirationTime is in milliseconds since the
// epoch. Locally they are empty: there is no S3 API to use them with, and
// an event that a function logs must not leak the keys it calls Sluice
// with (those are in its environment, as a Lambda role's are).
type Credentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
	ExpirationTime  int64  `json:"expirationTime"`
}

// credentialsLifetime is how long an event's artifact credentials are said
// to last.
const credentialsLifetime = time.Hour

// NewEvent builds the event of a job, as CodePipeline sends it, for the
// account; continuation is the token of a continued job, or empty.
func NewEvent(job *action.Job, account string, now time.Time, continuation string) Event {
	d := JobData{
		ActionConfiguration: ActionConfiguration{Configuration: job.Configuration},
		InputArtifacts:      make([]Artifact, 0, len(job.InputArtifacts)),
		OutputArtifacts:     make([]Artifact, 0, len(job.OutputArtifacts)),
		ArtifactCredentials: Credentials{ExpirationTime: now.Add(credentialsLifetime).UnixMilli()},
		ContinuationToken:   continuation,
	}
	if d.ActionConfiguration.Configuration == nil {
		d.ActionConfiguration.Configuration = map[string]string{}
	}
	for _, a := range job.InputArtifacts {
		var rev *string
		if a.Revision != "" {
			rev = &a.Revision
		}
		d.InputArtifacts = append(d.InputArtifacts, artifactAt(a.Name, a.Key, rev))
	}
	for _, a := range job.OutputArtifacts {
		d.OutputArtifacts = append(d.OutputArtifacts, artifactAt(a.Name, a.Key, nil))
	}
	return Event{Job: Job{ID: job.ID, AccountID: account, Data: d}}
}

func artifactAt(name, key string, revision *string) Artifact {
	return Artifact{Name: name, Revision: revision, Location: Location{Type: "S3", S3Location: S3Location{ObjectKey: key}}}
}
