package main

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/sluice-ci/sluice/internal/client"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/local"
	"github.com/sluice-ci/sluice/internal/runtime"
)

// serverApprovals decides approvals through a Sluice server's API: the
// tokens come from GetPipelineState (and, for executions it does not show,
// from ListActionExecutions), the decisions go by PutApprovalResult.
type serverApprovals struct {
	conn *client.Conn
}

// Pending lists the approval actions of the pipeline's latest version
// whose latest execution waits with a token.
func (s *serverApprovals) Pending(ctx context.Context, pipelineName string) ([]local.PendingApproval, error) {
	target := client.Target{Pipeline: pipelineName}
	st, err := s.conn.API.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(pipelineName)})
	if err != nil {
		return nil, s.conn.Explain(err, target)
	}
	p, err := s.conn.API.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String(pipelineName), Version: st.PipelineVersion})
	if err != nil {
		return nil, s.conn.Explain(err, target)
	}
	approvals := map[[2]string]types.ActionDeclaration{}
	for _, stage := range p.Pipeline.Stages {
		for _, a := range stage.Actions {
			if actionCategory(a) == string(types.ActionCategoryApproval) {
				approvals[[2]string{str(stage.Name), str(a.Name)}] = a
			}
		}
	}
	var out []local.PendingApproval
	for _, stage := range st.StageStates {
		for _, as := range stage.ActionStates {
			a, ok := approvals[[2]string{str(stage.StageName), str(as.ActionName)}]
			e := as.LatestExecution
			if !ok || e == nil || e.Status != types.ActionExecutionStatusInProgress || str(e.Token) == "" || stage.LatestExecution == nil {
				continue
			}
			out = append(out, local.PendingApproval{
				Pipeline: pipelineName, ExecutionID: str(stage.LatestExecution.PipelineExecutionId),
				Stage: str(stage.StageName), Action: str(as.ActionName), Token: str(e.Token),
				CustomData: a.Configuration["CustomData"], ExternalEntityLink: a.Configuration["ExternalEntityLink"],
			})
		}
	}
	more, err := s.otherExecutions(ctx, pipelineName, out, approvals)
	if err != nil {
		return nil, err
	}
	return append(out, more...), nil
}

// otherExecutions finds the approvals that wait in executions
// GetPipelineState does not show: in PARALLEL mode a stage shows only its
// latest execution. ListActionExecutions, filtered by execution, gives a
// waiting approval's token as its external execution id to a caller allowed
// to approve it.
func (s *serverApprovals) otherExecutions(ctx context.Context, pipelineName string, shown []local.PendingApproval, approvals map[[2]string]types.ActionDeclaration) ([]local.PendingApproval, error) {
	target := client.Target{Pipeline: pipelineName}
	seen := map[string]bool{}
	for _, p := range shown {
		seen[p.ExecutionID] = true
	}
	var out []local.PendingApproval
	execs := codepipeline.NewListPipelineExecutionsPaginator(s.conn.API, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(pipelineName)})
	for execs.HasMorePages() {
		page, err := execs.NextPage(ctx)
		if err != nil {
			return nil, s.conn.Explain(err, target)
		}
		for _, ex := range page.PipelineExecutionSummaries {
			id := str(ex.PipelineExecutionId)
			if ex.Status != types.PipelineExecutionStatusInProgress || seen[id] {
				continue
			}
			seen[id] = true
			actions := codepipeline.NewListActionExecutionsPaginator(s.conn.API, &codepipeline.ListActionExecutionsInput{
				PipelineName: aws.String(pipelineName),
				Filter:       &types.ActionExecutionFilter{PipelineExecutionId: aws.String(id)},
			})
			for actions.HasMorePages() {
				ap, err := actions.NextPage(ctx)
				if err != nil {
					return nil, s.conn.Explain(err, target)
				}
				for _, d := range ap.ActionExecutionDetails {
					a, ok := approvals[[2]string{str(d.StageName), str(d.ActionName)}]
					if !ok || d.Status != types.ActionExecutionStatusInProgress || d.Output == nil || d.Output.ExecutionResult == nil {
						continue
					}
					token := str(d.Output.ExecutionResult.ExternalExecutionId)
					if token == "" {
						continue
					}
					out = append(out, local.PendingApproval{
						Pipeline: pipelineName, ExecutionID: id,
						Stage: str(d.StageName), Action: str(d.ActionName), Token: token,
						CustomData: a.Configuration["CustomData"], ExternalEntityLink: a.Configuration["ExternalEntityLink"],
					})
				}
			}
		}
	}
	return out, nil
}

// Decide sends the decision; the server applies it at once. The API's
// refusals are returned as rejections.
func (s *serverApprovals) Decide(ctx context.Context, in runtime.ApprovalInput) (decision, error) {
	out, err := s.conn.API.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{
		PipelineName: aws.String(in.Pipeline), StageName: aws.String(in.Stage), ActionName: aws.String(in.Action),
		Token:  aws.String(in.Token),
		Result: &types.ApprovalResult{Status: types.ApprovalStatus(in.Status), Summary: aws.String(in.Summary)},
	})
	if err != nil {
		err = s.conn.Explain(err, client.Target{Pipeline: in.Pipeline, Stage: in.Stage, Action: in.Action})
		var e *client.Error
		if errors.As(err, &e) && e.Code != "" {
			return decision{}, &execution.Rejection{Code: e.Code, Message: e.Message}
		}
		return decision{}, err
	}
	return decision{applied: true, at: aws.ToTime(out.ApprovedAt)}, nil
}

func (s *serverApprovals) Close() error { return nil }
