package api

import (
	"context"

	"github.com/sluice-ci/sluice/internal/awsjson"
)

// RollbackStage and OverrideStageCondition act on a stage of the
// pipeline's latest version; the runtime decides them (execution.CheckRollback
// and the gate's Override) and names its refusals with the API model's
// exceptions.

type rollbackInput struct {
	PipelineName              string `json:"pipelineName"`
	StageName                 string `json:"stageName"`
	TargetPipelineExecutionID string `json:"targetPipelineExecutionId"`
}

func (h *Handler) rollbackStage(ctx context.Context, caller Caller, in *rollbackInput) (any, error) {
	c := name(&awsjson.Check{}, "pipelineName", in.PipelineName)
	name(c, "stageName", in.StageName)
	if executionID(c, "targetPipelineExecutionId", in.TargetPipelineExecutionID); c.Err != nil {
		return nil, c.Err
	}
	if err := h.authorize(ctx, caller, "RollbackStage", h.stageARN(in.PipelineName, in.StageName)); err != nil {
		return nil, err
	}
	if _, err := h.entry(ctx, in.PipelineName); err != nil {
		return nil, err
	}
	id, err := h.cfg.Runtime.RollbackStage(ctx, in.PipelineName, in.StageName, in.TargetPipelineExecutionID, caller.ARN)
	if err != nil {
		return nil, err
	}
	return executionIDOutput{PipelineExecutionID: id}, nil
}

type overrideInput struct {
	PipelineName        string `json:"pipelineName"`
	StageName           string `json:"stageName"`
	PipelineExecutionID string `json:"pipelineExecutionId"`
	ConditionType       string `json:"conditionType"`
}

func (h *Handler) overrideStageCondition(ctx context.Context, caller Caller, in *overrideInput) (any, error) {
	c := name(&awsjson.Check{}, "pipelineName", in.PipelineName)
	name(c, "stageName", in.StageName)
	executionID(c, "pipelineExecutionId", in.PipelineExecutionID).
		Required("conditionType", in.ConditionType).Enum("conditionType", in.ConditionType, "BEFORE_ENTRY", "ON_SUCCESS")
	if c.Err != nil {
		return nil, c.Err
	}
	if err := h.authorize(ctx, caller, "OverrideStageCondition", h.stageARN(in.PipelineName, in.StageName)); err != nil {
		return nil, err
	}
	if _, err := h.entry(ctx, in.PipelineName); err != nil {
		return nil, err
	}
	err := h.cfg.Runtime.OverrideStageCondition(ctx, in.PipelineName, in.StageName, in.PipelineExecutionID, in.ConditionType, caller.ARN)
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
