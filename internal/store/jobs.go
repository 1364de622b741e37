package store

import (
	"context"
	"time"
)

// Job statuses, as CodePipeline's JobStatus names them.
const (
	JobCreated    = "Created"
	JobInProgress = "InProgress"
	JobSucceeded  = "Succeeded"
	JobFailed     = "Failed"
)

// Job is an action attempt handed to a worker outside the engine (a
// Lambda function invoked by the Lambda action, a job worker of a custom
// action), which reports its outcome with PutJobSuccessResult or
// PutJobFailureResult. Its ID is the attempt's action execution id. Each
// job is its own partition:
//
//	job#<id>  job                                     Job
type Job struct {
	ID                  string    `json:"id"`
	PipelineName        string    `json:"pipelineName"`
	PipelineExecutionID string    `json:"pipelineExecutionId"`
	StageName           string    `json:"stageName"`
	ActionName          string    `json:"actionName"`
	Attempt             int       `json:"attempt"`
	Nonce               string    `json:"nonce,omitempty"`
	Status              string    `json:"status"`
	ContinuationToken   string    `json:"continuationToken,omitempty"`
	Created             time.Time `json:"created"`
	LastUpdateTime      time.Time `json:"lastUpdateTime"`
}

func jobPartition(id string) string { return "job#" + id }

// GetJob returns a job, or ErrNotFound.
func (s *Store) GetJob(ctx context.Context, id string) (Versioned[Job], error) {
	return get[Job](ctx, s.b, jobPartition(id), "job")
}

// JobWrite is the conditional write of a job.
func JobWrite(j Versioned[Job]) (Write, error) {
	return PutWrite(jobPartition(j.Value.ID), "job", j.Value, j.Version)
}
