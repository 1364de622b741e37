package api

import (
	"context"
	"fmt"
	"slices"

	"github.com/sluice-ci/sluice/internal/awsjson"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/runtime"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/trigger"
)

type pipelineVariable struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type startInput struct {
	Name               string                         `json:"name"`
	Variables          []pipelineVariable             `json:"variables"`
	ClientRequestToken string                         `json:"clientRequestToken"`
	SourceRevisions    []store.SourceRevisionOverride `json:"sourceRevisions"`
}

type executionIDOutput struct {
	PipelineExecutionID string `json:"pipelineExecutionId"`
}

func (h *Handler) startPipelineExecution(ctx context.Context, caller Caller, in *startInput) (any, error) {
	c := name(&awsjson.Check{}, "name", in.Name).
		Length("clientRequestToken", in.ClientRequestToken, 1, 128).
		Pattern("clientRequestToken", in.ClientRequestToken, requestPattern)
	if len(in.Variables) > 50 {
		c.Err = awsjson.Constraint(fmt.Sprintf("%d variables", len(in.Variables)), "variables", "Member must have length less than or equal to 50")
	}
	if len(in.SourceRevisions) > 50 {
		c.Err = awsjson.Constraint(fmt.Sprintf("%d source revisions", len(in.SourceRevisions)), "sourceRevisions", "Member must have length less than or equal to 50")
	}
	vars := map[string]string{}
	for i, v := range in.Variables {
		member := fmt.Sprintf("variables.%d.member", i+1)
		c.Required(member+".name", v.Name).Length(member+".name", v.Name, 1, 128).
			Required(member+".value", v.Value).Length(member+".value", v.Value, 1, 1000)
		if _, dup := vars[v.Name]; dup && c.Err == nil {
			c.Err = awsjson.Exception("ValidationException", "variable %s is given twice", v.Name)
		}
		vars[v.Name] = v.Value
	}
	for i, r := range in.SourceRevisions {
		member := fmt.Sprintf("sourceRevisions.%d.member", i+1)
		name(c, member+".actionName", r.ActionName).
			Required(member+".revisionType", r.RevisionType).
			Enum(member+".revisionType", r.RevisionType, "COMMIT_ID", "IMAGE_DIGEST", "S3_OBJECT_VERSION_ID", "S3_OBJECT_KEY").
			Required(member+".revisionValue", r.RevisionValue).Length(member+".revisionValue", r.RevisionValue, 1, 1500)
	}
	if c.Err != nil {
		return nil, c.Err
	}
	if err := h.authorize(ctx, caller, "StartPipelineExecution", h.pipelineARN(in.Name)); err != nil {
		return nil, err
	}
	if _, err := h.entry(ctx, in.Name); err != nil {
		return nil, err
	}
	if len(in.SourceRevisions) > 0 {
		_, d, err := h.declaration(ctx, in.Name, 0)
		if err != nil {
			return nil, err
		}
		if err := checkSourceRevisions(d, in.SourceRevisions); err != nil {
			return nil, err
		}
	}
	id := ""
	if in.ClientRequestToken != "" {
		id = trigger.ExecutionID("request:"+in.ClientRequestToken, in.Name)
	}
	id, err := h.cfg.Runtime.StartPipelineExecution(ctx, runtime.StartInput{
		Pipeline: in.Name, ExecutionID: id, Variables: vars, SourceRevisions: in.SourceRevisions,
		Trigger: trigger.Manual(trigger.TypeStartPipelineExecution, caller.ARN),
	})
	if err != nil {
		return nil, err
	}
	return executionIDOutput{PipelineExecutionID: id}, nil
}

// checkSourceRevisions refuses an override of an action that is not one
// of the pipeline's source actions, or given twice.
func checkSourceRevisions(d *pipeline.Declaration, revs []store.SourceRevisionOverride) error {
	sources := map[string]bool{}
	for _, st := range d.Stages {
		for _, a := range st.Actions {
			if a.ActionTypeID.Category == pipeline.CategorySource {
				sources[a.Name] = true
			}
		}
	}
	seen := map[string]bool{}
	for _, r := range revs {
		if !sources[r.ActionName] {
			return awsjson.Exception("ValidationException", "sourceRevisions: pipeline %s has no source action named %s", d.Name, r.ActionName)
		}
		if seen[r.ActionName] {
			return awsjson.Exception("ValidationException", "sourceRevisions: action %s is given twice", r.ActionName)
		}
		seen[r.ActionName] = true
	}
	return nil
}

type stopInput struct {
	PipelineName        string `json:"pipelineName"`
	PipelineExecutionID string `json:"pipelineExecutionId"`
	Abandon             bool   `json:"abandon"`
	Reason              string `json:"reason"`
}

func (h *Handler) stopPipelineExecution(ctx context.Context, caller Caller, in *stopInput) (any, error) {
	c := name(&awsjson.Check{}, "pipelineName", in.PipelineName)
	executionID(c, "pipelineExecutionId", in.PipelineExecutionID).Length("reason", in.Reason, 0, 200)
	if c.Err != nil {
		return nil, c.Err
	}
	if err := h.authorize(ctx, caller, "StopPipelineExecution", h.pipelineARN(in.PipelineName)); err != nil {
		return nil, err
	}
	if _, err := h.entry(ctx, in.PipelineName); err != nil {
		return nil, err
	}
	if err := h.cfg.Runtime.StopPipelineExecution(ctx, in.PipelineName, in.PipelineExecutionID, in.Abandon, in.Reason); err != nil {
		return nil, err
	}
	return executionIDOutput{PipelineExecutionID: in.PipelineExecutionID}, nil
}

func executionID(c *awsjson.Check, member, v string) *awsjson.Check {
	return c.Required(member, v).Pattern(member, v, idPattern)
}

type retryInput struct {
	PipelineName        string `json:"pipelineName"`
	StageName           string `json:"stageName"`
	PipelineExecutionID string `json:"pipelineExecutionId"`
	RetryMode           string `json:"retryMode"`
}

func (h *Handler) retryStageExecution(ctx context.Context, caller Caller, in *retryInput) (any, error) {
	c := name(&awsjson.Check{}, "pipelineName", in.PipelineName)
	name(c, "stageName", in.StageName)
	executionID(c, "pipelineExecutionId", in.PipelineExecutionID).
		Required("retryMode", in.RetryMode).Enum("retryMode", in.RetryMode, "FAILED_ACTIONS", "ALL_ACTIONS")
	if c.Err != nil {
		return nil, c.Err
	}
	if err := h.authorize(ctx, caller, "RetryStageExecution", h.stageARN(in.PipelineName, in.StageName)); err != nil {
		return nil, err
	}
	if _, err := h.entry(ctx, in.PipelineName); err != nil {
		return nil, err
	}
	err := h.cfg.Runtime.RetryStageExecution(ctx, in.PipelineName, in.StageName, in.PipelineExecutionID, in.RetryMode)
	if err != nil {
		return nil, err
	}
	return executionIDOutput{PipelineExecutionID: in.PipelineExecutionID}, nil
}

type transitionInput struct {
	PipelineName   string `json:"pipelineName"`
	StageName      string `json:"stageName"`
	TransitionType string `json:"transitionType"`
	Reason         string `json:"reason"`
}

// checkTransition checks Enable- and DisableStageTransition's request.
// Sluice keeps inbound transitions only: an outbound transition of a stage
// is the inbound transition of the next one, and CodePipeline's console
// offers no other.
func (h *Handler) checkTransition(ctx context.Context, caller Caller, op string, in *transitionInput) (string, error) {
	c := name(&awsjson.Check{}, "pipelineName", in.PipelineName)
	name(c, "stageName", in.StageName).
		Required("transitionType", in.TransitionType).Enum("transitionType", in.TransitionType, "Inbound", "Outbound")
	if op == "DisableStageTransition" {
		c.Required("reason", in.Reason).Length("reason", in.Reason, 1, 300).Pattern("reason", in.Reason, reasonPattern)
	}
	if c.Err != nil {
		return "", c.Err
	}
	if err := h.authorize(ctx, caller, op, h.stageARN(in.PipelineName, in.StageName)); err != nil {
		return "", err
	}
	if _, err := h.entry(ctx, in.PipelineName); err != nil {
		return "", err
	}
	stage := in.StageName
	if in.TransitionType == "Outbound" {
		_, d, err := h.declaration(ctx, in.PipelineName, 0)
		if err != nil {
			return "", err
		}
		i := slices.IndexFunc(d.Stages, func(st pipeline.Stage) bool { return st.Name == in.StageName })
		switch {
		case i < 0:
			return "", awsjson.Exception("StageNotFoundException", "pipeline %s has no stage %s", in.PipelineName, in.StageName)
		case i+1 == len(d.Stages):
			return "", awsjson.Exception("ValidationException", "stage %s is the last of pipeline %s: it has no outbound transition", in.StageName, in.PipelineName)
		}
		stage = d.Stages[i+1].Name
	}
	return stage, nil
}

func (h *Handler) disableStageTransition(ctx context.Context, caller Caller, in *transitionInput) (any, error) {
	stage, err := h.checkTransition(ctx, caller, "DisableStageTransition", in)
	if err != nil {
		return nil, err
	}
	if err := h.cfg.Runtime.DisableStageTransition(ctx, in.PipelineName, stage, in.Reason, caller.ARN); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (h *Handler) enableStageTransition(ctx context.Context, caller Caller, in *transitionInput) (any, error) {
	stage, err := h.checkTransition(ctx, caller, "EnableStageTransition", in)
	if err != nil {
		return nil, err
	}
	if err := h.cfg.Runtime.EnableStageTransition(ctx, in.PipelineName, stage, caller.ARN); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type approvalResult struct {
	Summary string `json:"summary"`
	Status  string `json:"status"`
}

type approvalInput struct {
	PipelineName string          `json:"pipelineName"`
	StageName    string          `json:"stageName"`
	ActionName   string          `json:"actionName"`
	Result       *approvalResult `json:"result"`
	Token        string          `json:"token"`
}

type approvalOutput struct {
	ApprovedAt pipeline.Timestamp `json:"approvedAt"`
}

func (h *Handler) putApprovalResult(ctx context.Context, caller Caller, in *approvalInput) (any, error) {
	c := name(&awsjson.Check{}, "pipelineName", in.PipelineName)
	name(c, "stageName", in.StageName)
	name(c, "actionName", in.ActionName)
	if in.Result == nil {
		c.Required("result", "")
	} else {
		c.Required("result.status", in.Result.Status).Enum("result.status", in.Result.Status, store.ApprovalApproved, store.ApprovalRejected).
			Length("result.summary", in.Result.Summary, 0, 512)
	}
	c.Required("token", in.Token).Pattern("token", in.Token, idPattern)
	if c.Err != nil {
		return nil, c.Err
	}
	if err := h.authorize(ctx, caller, "PutApprovalResult", h.actionARN(in.PipelineName, in.StageName, in.ActionName)); err != nil {
		return nil, err
	}
	if _, err := h.entry(ctx, in.PipelineName); err != nil {
		return nil, err
	}
	if err := h.checkAction(ctx, in.PipelineName, in.StageName, in.ActionName); err != nil {
		return nil, err
	}
	err := h.cfg.Runtime.PutApprovalResult(ctx, runtime.ApprovalInput{
		Pipeline: in.PipelineName, Stage: in.StageName, Action: in.ActionName,
		Token: in.Token, Status: in.Result.Status, Summary: in.Result.Summary, User: caller.ARN,
	})
	if err != nil {
		return nil, err
	}
	at := h.now()
	if ap, err := h.store.GetApproval(ctx, in.PipelineName, in.Token); err == nil && !ap.Value.DecidedAt.IsZero() {
		at = ap.Value.DecidedAt
	}
	return approvalOutput{ApprovedAt: pipeline.Timestamp{Time: at}}, nil
}

// checkAction refuses a stage or action the pipeline's latest version does
// not have.
func (h *Handler) checkAction(ctx context.Context, pipelineName, stage, action string) error {
	_, d, err := h.declaration(ctx, pipelineName, 0)
	if err != nil {
		return err
	}
	switch st := d.Stage(stage); {
	case st == nil:
		return awsjson.Exception("StageNotFoundException", "pipeline %s has no stage %s", pipelineName, stage)
	case st.Action(action) == nil:
		return awsjson.Exception("ActionNotFoundException", "stage %s of pipeline %s has no action %s", stage, pipelineName, action)
	}
	return nil
}
