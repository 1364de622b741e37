package api

import (
	"context"

	"github.com/sluice-ci/sluice/internal/apishape"
	"github.com/sluice-ci/sluice/internal/awsjson"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
)

// The reads of executions are answered by apishape, which `sluice
// run` shares; this file checks the requests, authorizes them and keeps
// secrets out of the answers.

type executionInput struct {
	PipelineName        string `json:"pipelineName"`
	PipelineExecutionID string `json:"pipelineExecutionId"`
}

func (h *Handler) getPipelineExecution(ctx context.Context, caller Caller, in *executionInput) (any, error) {
	c := name(&awsjson.Check{}, "pipelineName", in.PipelineName)
	if executionID(c, "pipelineExecutionId", in.PipelineExecutionID); c.Err != nil {
		return nil, c.Err
	}
	if err := h.authorize(ctx, caller, "GetPipelineExecution", h.pipelineARN(in.PipelineName)); err != nil {
		return nil, err
	}
	if _, err := h.entry(ctx, in.PipelineName); err != nil {
		return nil, err
	}
	return h.view.Load().GetPipelineExecution(ctx, in.PipelineName, in.PipelineExecutionID)
}

func (h *Handler) listPipelineExecutions(ctx context.Context, caller Caller, in *apishape.ListPipelineExecutionsInput) (any, error) {
	c := name(&awsjson.Check{}, "pipelineName", in.PipelineName).Range("maxResults", int(in.MaxResults), 1, 100).
		Length("nextToken", in.NextToken, 1, 2048)
	if in.Filter != nil && in.Filter.SucceededInStage != nil {
		name(c, "filter.succeededInStage.stageName", in.Filter.SucceededInStage.StageName)
	}
	if c.Err != nil {
		return nil, c.Err
	}
	if err := h.authorize(ctx, caller, "ListPipelineExecutions", h.pipelineARN(in.PipelineName)); err != nil {
		return nil, err
	}
	if _, err := h.entry(ctx, in.PipelineName); err != nil {
		return nil, err
	}
	return h.view.Load().ListPipelineExecutions(ctx, *in)
}

type stateInput struct {
	Name string `json:"name"`
}

// getPipelineState answers the pipeline's state; an approval's token is
// shown only to a caller who may approve it.
func (h *Handler) getPipelineState(ctx context.Context, caller Caller, in *stateInput) (any, error) {
	if c := name(&awsjson.Check{}, "name", in.Name); c.Err != nil {
		return nil, c.Err
	}
	if err := h.authorize(ctx, caller, "GetPipelineState", h.pipelineARN(in.Name)); err != nil {
		return nil, err
	}
	if _, err := h.entry(ctx, in.Name); err != nil {
		return nil, err
	}
	out, err := h.view.Load().GetPipelineState(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	for i := range out.StageStates {
		st := &out.StageStates[i]
		for j := range st.ActionStates {
			a := &st.ActionStates[j]
			if a.LatestExecution == nil || a.LatestExecution.Token == "" {
				continue
			}
			if !h.cfg.Authz.Authorize(ctx, caller, "codepipeline:PutApprovalResult", h.actionARN(in.Name, st.StageName, a.ActionName)) {
				a.LatestExecution.Token = ""
			}
		}
	}
	return out, nil
}

// checkListing checks and authorizes a request of ListActionExecutions or
// ListRuleExecutions (op), whose pipeline must exist.
func (h *Handler) checkListing(ctx context.Context, caller Caller, op, pipelineName string, maxResults int32, nextToken string, f *apishape.ActionExecutionFilter) error {
	c := name(&awsjson.Check{}, "pipelineName", pipelineName).Range("maxResults", int(maxResults), 1, 100).
		Length("nextToken", nextToken, 1, 2048)
	if f != nil {
		if f.PipelineExecutionID != "" {
			executionID(c, "filter.pipelineExecutionId", f.PipelineExecutionID)
		}
		if l := f.LatestInPipelineExecution; l != nil {
			executionID(c, "filter.latestInPipelineExecution.pipelineExecutionId", l.PipelineExecutionID).
				Enum("filter.latestInPipelineExecution.startTimeFilter", l.StartTimeFilter, "Latest", "All")
		}
	}
	if c.Err != nil {
		return c.Err
	}
	if err := h.authorize(ctx, caller, op, h.pipelineARN(pipelineName)); err != nil {
		return err
	}
	_, err := h.entry(ctx, pipelineName)
	return err
}

// listRuleExecutions answers the runs of the rules of stage conditions.
func (h *Handler) listRuleExecutions(ctx context.Context, caller Caller, in *apishape.ListRuleExecutionsInput) (any, error) {
	if err := h.checkListing(ctx, caller, "ListRuleExecutions", in.PipelineName, in.MaxResults, in.NextToken, in.Filter); err != nil {
		return nil, err
	}
	return h.view.Load().ListRuleExecutions(ctx, *in)
}

// listActionExecutions answers the action attempts with the values of
// secret configuration properties masked, and a waiting approval's token
// (its externalExecutionId) shown only to a caller who may approve it.
func (h *Handler) listActionExecutions(ctx context.Context, caller Caller, in *apishape.ListActionExecutionsInput) (any, error) {
	if err := h.checkListing(ctx, caller, "ListActionExecutions", in.PipelineName, in.MaxResults, in.NextToken, in.Filter); err != nil {
		return nil, err
	}
	out, err := h.view.Load().ListActionExecutions(ctx, *in)
	if err != nil {
		return nil, err
	}
	for i := range out.ActionExecutionDetails {
		d := &out.ActionExecutionDetails[i]
		input := d.Input
		if input == nil || input.ActionTypeID == nil {
			continue
		}
		if r := d.Output.ExecutionResult; r != nil && input.ActionTypeID.Category == string(pipeline.CategoryApproval) && d.Status == store.ActionInProgress &&
			!h.cfg.Authz.Authorize(ctx, caller, "codepipeline:PutApprovalResult", h.actionARN(in.PipelineName, d.StageName, d.ActionName)) {
			// A waiting approval's token, for those who may approve it.
			r.ExternalExecutionID = ""
			if *r == (apishape.ActionExecutionResult{}) {
				d.Output.ExecutionResult = nil
			}
		}
		id := pipeline.ActionTypeID{
			Category: pipeline.ActionCategory(input.ActionTypeID.Category), Owner: pipeline.ActionOwner(input.ActionTypeID.Owner),
			Provider: input.ActionTypeID.Provider, Version: input.ActionTypeID.Version,
		}
		input.Configuration = pipeline.MaskSecrets(id, input.Configuration)
		input.ResolvedConfiguration = pipeline.MaskSecrets(id, input.ResolvedConfiguration)
	}
	return out, nil
}
