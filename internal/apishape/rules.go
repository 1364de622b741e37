package apishape

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/sluice-ci/sluice/internal/store"
)

// ListRuleExecutions answers ListRuleExecutions, newest first: the runs of
// the rules of the stage conditions of one execution
// (filter.pipelineExecutionId or filter.latestInPipelineExecution), or of
// every execution. The store keeps the latest run of each kind of
// condition in each execution's stage (a stage retried evaluates its
// conditions again, and the new run replaces the old), so both filters
// give the same runs: the latest ones.
func (v *View) ListRuleExecutions(ctx context.Context, in ListRuleExecutionsInput) (*ListRuleExecutionsOutput, error) {
	limit, id, latestOnly, err := v.listing(ctx, in.PipelineName, in.MaxResults, in.Filter)
	if err != nil {
		return nil, err
	}
	all, err := v.ruleRuns(ctx, in.PipelineName, id)
	if err != nil {
		return nil, err
	}
	const op = "ListRuleExecutions"
	items, next, err := page(all, func(d RuleExecutionDetail) string { return d.RuleExecutionID },
		op, scope(in.PipelineName, id, strconv.FormatBool(latestOnly)), in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	return &ListRuleExecutionsOutput{RuleExecutionDetails: items, NextToken: next}, nil
}

// ruleRuns shapes the rule runs of one execution (every execution when id
// is empty), newest first.
func (v *View) ruleRuns(ctx context.Context, pipelineName, id string) ([]RuleExecutionDetail, error) {
	var execs []store.PipelineExecution
	if id != "" {
		e, err := v.Store.GetPipelineExecution(ctx, pipelineName, id)
		if err != nil {
			return nil, fmt.Errorf("read pipeline execution %s: %w", id, err)
		}
		execs = append(execs, e.Value)
	} else {
		all, _, err := v.Store.ListPipelineExecutions(ctx, pipelineName, 0, "")
		if err != nil {
			return nil, err
		}
		execs = all
	}
	out := []RuleExecutionDetail{}
	for _, e := range execs {
		stages, err := v.Store.ListStageExecutions(ctx, pipelineName, e.PipelineExecutionID)
		if err != nil {
			return nil, fmt.Errorf("list stage executions of %s: %w", e.PipelineExecutionID, err)
		}
		for _, se := range stages {
			for _, run := range se.Conditions {
				for _, r := range run.Rules {
					out = append(out, v.ruleDetail(e, se.StageName, r))
				}
			}
		}
	}
	started := func(d RuleExecutionDetail) time.Time {
		if d.StartTime == nil {
			return time.Time{}
		}
		return d.StartTime.Time
	}
	sort.SliceStable(out, func(i, j int) bool { return started(out[i]).After(started(out[j])) })
	return out, nil
}

// ruleDetail shapes one rule run of an execution's stage. A rule that names
// no region runs in the view's.
func (v *View) ruleDetail(e store.PipelineExecution, stage string, r store.RuleRun) RuleExecutionDetail {
	d := RuleExecutionDetail{
		PipelineExecutionID: e.PipelineExecutionID, RuleExecutionID: r.RuleExecutionID, PipelineVersion: int32(e.PipelineVersion),
		StageName: stage, RuleName: r.RuleName, StartTime: At(r.StartTime), LastUpdateTime: At(r.LastUpdateTime),
		UpdatedBy: r.UpdatedBy, Status: r.Status,
		Input: &RuleExecutionInput{
			RuleTypeID:    (*ActionTypeID)(&r.RuleTypeID),
			Configuration: orEmpty(r.Configuration), ResolvedConfiguration: orEmpty(r.ResolvedConfiguration),
			RoleArn: r.RoleArn, Region: r.Region, InputArtifacts: []ArtifactDetail{},
		},
		Output: &RuleExecutionOutput{},
	}
	if d.Input.Region == "" {
		d.Input.Region = v.Region
	}
	if r.Summary != "" || r.ErrorDetails != nil {
		d.Output.ExecutionResult = &ActionExecutionResult{ExternalExecutionSummary: r.Summary, ErrorDetails: errorDetails(r.ErrorDetails)}
	}
	return d
}
