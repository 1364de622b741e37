package api

import (
	"context"
	"errors"
	"fmt"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/awsjson"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/runtime"
	"github.com/sluice-ci/sluice/internal/store"
)

// The job operations serve workers outside the engine (the function a
// Lambda invoke action calls, a custom action's job worker): they read
// what their job is and report how it ended.

type jobInput struct {
	JobID string `json:"jobId"`
}

// job reads a job and authorizes op on its pipeline.
func (h *Handler) job(ctx context.Context, caller Caller, op, id string) (store.Versioned[store.Job], error) {
	if c := (&awsjson.Check{}).Required("jobId", id).Pattern("jobId", id, idPattern); c.Err != nil {
		return store.Versioned[store.Job]{}, c.Err
	}
	j, err := h.store.GetJob(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return j, awsjson.Exception("JobNotFoundException", "no job %s", id)
	}
	if err != nil {
		return j, fmt.Errorf("read job %s: %w", id, err)
	}
	return j, h.authorize(ctx, caller, op, h.actionARN(j.Value.PipelineName, j.Value.StageName, j.Value.ActionName))
}

type s3Location struct {
	BucketName string `json:"bucketName"`
	ObjectKey  string `json:"objectKey"`
}

type artifactShape struct {
	Name     string `json:"name"`
	Revision string `json:"revision,omitempty"`
	Location struct {
		Type       string     `json:"type"`
		S3Location s3Location `json:"s3Location"`
	} `json:"location"`
}

type jobDetails struct {
	ID        string `json:"id"`
	AccountID string `json:"accountId"`
	Data      struct {
		ActionTypeID        store.ActionTypeID `json:"actionTypeId"`
		ActionConfiguration struct {
			Configuration map[string]string `json:"configuration"`
		} `json:"actionConfiguration"`
		PipelineContext struct {
			PipelineName string `json:"pipelineName"`
			Stage        struct {
				Name string `json:"name"`
			} `json:"stage"`
			Action struct {
				Name              string `json:"name"`
				ActionExecutionID string `json:"actionExecutionId"`
			} `json:"action"`
			PipelineArn         string `json:"pipelineArn"`
			PipelineExecutionID string `json:"pipelineExecutionId"`
		} `json:"pipelineContext"`
		InputArtifacts    []artifactShape `json:"inputArtifacts"`
		OutputArtifacts   []artifactShape `json:"outputArtifacts"`
		ContinuationToken string          `json:"continuationToken,omitempty"`
	} `json:"data"`
}

func artifact(name, bucket, key, revision string) artifactShape {
	a := artifactShape{Name: name, Revision: revision}
	a.Location.Type = "S3"
	a.Location.S3Location = s3Location{BucketName: bucket, ObjectKey: key}
	return a
}

// getJobDetails answers a job's details from its action attempt's record.
// Secret configuration properties are masked.
func (h *Handler) getJobDetails(ctx context.Context, caller Caller, in *jobInput) (any, error) {
	j, err := h.job(ctx, caller, "GetJobDetails", in.JobID)
	if err != nil {
		return nil, err
	}
	v := j.Value
	rec, err := h.store.GetActionExecution(ctx, v.PipelineName, v.PipelineExecutionID, v.StageName, v.ActionName, v.Attempt)
	if err != nil {
		return nil, fmt.Errorf("read the action execution of job %s: %w", v.ID, err)
	}
	var out jobDetails
	out.ID, out.AccountID = v.ID, h.cfg.Account
	d := &out.Data
	d.ActionTypeID = rec.Value.Input.ActionTypeID
	id := pipeline.ActionTypeID{
		Category: pipeline.ActionCategory(d.ActionTypeID.Category), Owner: pipeline.ActionOwner(d.ActionTypeID.Owner),
		Provider: d.ActionTypeID.Provider, Version: d.ActionTypeID.Version,
	}
	cfg := rec.Value.Input.ResolvedConfiguration
	if cfg == nil {
		cfg = rec.Value.Input.Configuration
	}
	d.ActionConfiguration.Configuration = pipeline.MaskSecrets(id, cfg)
	if d.ActionConfiguration.Configuration == nil {
		d.ActionConfiguration.Configuration = map[string]string{}
	}
	pc := &d.PipelineContext
	pc.PipelineName, pc.PipelineArn, pc.PipelineExecutionID = v.PipelineName, h.pipelineARN(v.PipelineName), v.PipelineExecutionID
	pc.Stage.Name, pc.Action.Name, pc.Action.ActionExecutionID = v.StageName, v.ActionName, rec.Value.ActionExecutionID
	d.InputArtifacts, d.OutputArtifacts = []artifactShape{}, []artifactShape{}
	for _, a := range rec.Value.Input.InputArtifacts {
		d.InputArtifacts = append(d.InputArtifacts, artifact(a.Name, a.S3Location.Bucket, a.S3Location.Key, ""))
	}
	_, decl, err := h.declaration(ctx, v.PipelineName, rec.Value.PipelineVersion)
	if err != nil {
		return nil, err
	}
	if st := decl.Stage(v.StageName); st != nil {
		if a := st.Action(v.ActionName); a != nil {
			for _, o := range a.OutputArtifacts {
				d.OutputArtifacts = append(d.OutputArtifacts, artifact(o.Name, "", v.PipelineName+"/"+v.PipelineExecutionID+"/"+o.Name, ""))
			}
		}
	}
	d.ContinuationToken = v.ContinuationToken
	return struct {
		JobDetails jobDetails `json:"jobDetails"`
	}{out}, nil
}

type currentRevision struct {
	Revision         string              `json:"revision"`
	ChangeIdentifier string              `json:"changeIdentifier"`
	Created          *pipeline.Timestamp `json:"created"`
	RevisionSummary  string              `json:"revisionSummary"`
}

type executionDetails struct {
	Summary             string `json:"summary"`
	ExternalExecutionID string `json:"externalExecutionId"`
	PercentComplete     *int   `json:"percentComplete"`
}

type jobSuccessInput struct {
	JobID             string            `json:"jobId"`
	CurrentRevision   *currentRevision  `json:"currentRevision"`
	ContinuationToken string            `json:"continuationToken"`
	ExecutionDetails  *executionDetails `json:"executionDetails"`
	OutputVariables   map[string]string `json:"outputVariables"`
}

// maxOutputVariables is CodePipeline's limit on a job's output variables,
// names and values together.
const maxOutputVariables = 122880

// putJobSuccessResult ends a job in success, or, with a continuation
// token, ends the job and leaves the action in progress with a new job
// that carries the token (the Lambda function is invoked again with it).
func (h *Handler) putJobSuccessResult(ctx context.Context, caller Caller, in *jobSuccessInput) (any, error) {
	j, err := h.job(ctx, caller, "PutJobSuccessResult", in.JobID)
	if err != nil {
		return nil, err
	}
	size := 0
	for k, v := range in.OutputVariables {
		size += len(k) + len(v)
	}
	if size > maxOutputVariables {
		return nil, awsjson.Exception("OutputVariablesSizeExceededException", "the output variables take %d characters; at most %d are allowed", size, maxOutputVariables)
	}
	if in.CurrentRevision != nil {
		c := (&awsjson.Check{}).Required("currentRevision.revision", in.CurrentRevision.Revision).
			Required("currentRevision.changeIdentifier", in.CurrentRevision.ChangeIdentifier)
		if c.Err != nil {
			return nil, c.Err
		}
	}
	c := (&awsjson.Check{}).Length("continuationToken", in.ContinuationToken, 1, 2048)
	rep := runtime.JobReport{Continuation: in.ContinuationToken}
	if d := in.ExecutionDetails; d != nil {
		c.Length("executionDetails.summary", d.Summary, 0, 2048).Length("executionDetails.externalExecutionId", d.ExternalExecutionID, 0, 1500)
		if p := d.PercentComplete; p != nil {
			c.Range("executionDetails.percentComplete", *p, 0, 100)
			rep.PercentComplete = p
		}
	}
	if c.Err != nil {
		return nil, c.Err
	}
	if in.ContinuationToken != "" && len(in.OutputVariables) > 0 {
		return nil, awsjson.Exception("ValidationException", "outputVariables can be included only when there is no continuation token on the request")
	}
	res := &action.Result{Status: action.StatusSucceeded, OutputVariables: in.OutputVariables}
	if d := in.ExecutionDetails; d != nil {
		res.Summary, res.ExternalExecutionID = d.Summary, d.ExternalExecutionID
	}
	if r := in.CurrentRevision; r != nil {
		res.Revision = &action.Revision{RevisionID: r.Revision, ChangeIdentifier: r.ChangeIdentifier, RevisionSummary: r.RevisionSummary}
		if r.Created != nil {
			res.Revision.Created = r.Created.Time
		}
	}
	rep.Result = res
	return struct{}{}, h.cfg.Runtime.SettleJob(ctx, j, rep)
}

type failureDetails struct {
	Type                string `json:"type"`
	Message             string `json:"message"`
	ExternalExecutionID string `json:"externalExecutionId"`
}

type jobFailureInput struct {
	JobID          string          `json:"jobId"`
	FailureDetails *failureDetails `json:"failureDetails"`
}

func (h *Handler) putJobFailureResult(ctx context.Context, caller Caller, in *jobFailureInput) (any, error) {
	c := &awsjson.Check{}
	if in.FailureDetails == nil {
		c.Required("failureDetails", "")
	} else {
		c.Required("failureDetails.type", in.FailureDetails.Type).
			Enum("failureDetails.type", in.FailureDetails.Type, "JobFailed", "ConfigurationError", "PermissionError", "RevisionOutOfSync", "RevisionUnavailable", "SystemUnavailable").
			Required("failureDetails.message", in.FailureDetails.Message).Length("failureDetails.message", in.FailureDetails.Message, 1, 5000)
	}
	if c.Err != nil {
		return nil, c.Err
	}
	j, err := h.job(ctx, caller, "PutJobFailureResult", in.JobID)
	if err != nil {
		return nil, err
	}
	f := in.FailureDetails
	res := action.Failed(f.Type, "%s", f.Message)
	res.ExternalExecutionID = f.ExternalExecutionID
	return struct{}{}, h.cfg.Runtime.SettleJob(ctx, j, runtime.JobReport{Result: res})
}
