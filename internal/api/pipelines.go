package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sluice-ci/sluice/internal/awsjson"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/runtime"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/trigger"
)

// Patterns and limits of the API model.
var (
	namePattern    = awsjson.Model(`[A-Za-z0-9.@\-_]+`)
	idPattern      = awsjson.Model(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	requestPattern = awsjson.Model(`^[a-zA-Z0-9-]+$`)
	reasonPattern  = awsjson.Model(`[a-zA-Z0-9!@ \(\)\.\*\?\-]+`)
)

// name checks a pipeline, stage, action or webhook name member.
func name(c *awsjson.Check, member, v string) *awsjson.Check {
	return c.Required(member, v).Length(member, v, 1, 100).Pattern(member, v, namePattern)
}

type createPipelineInput struct {
	Pipeline json.RawMessage `json:"pipeline"`
	Tags     []store.Tag     `json:"tags"`
}

type pipelineOutput struct {
	Pipeline *pipeline.Declaration `json:"pipeline"`
	Tags     []store.Tag           `json:"tags,omitempty"`
	Metadata *pipelineMetadata     `json:"metadata,omitempty"`
}

type pipelineMetadata struct {
	PipelineArn string             `json:"pipelineArn"`
	Created     pipeline.Timestamp `json:"created"`
	Updated     pipeline.Timestamp `json:"updated"`
}

// readDeclaration reads and validates the pipeline member of CreatePipeline
// and UpdatePipeline. Problems with an action's type or configuration are
// InvalidActionDeclarationException, every other one
// InvalidStructureException, all problems in one message.
func readDeclaration(raw json.RawMessage) (*pipeline.Declaration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, awsjson.Constraint("null", "pipeline", "Member must not be null")
	}
	f, err := pipeline.Parse(raw, pipeline.Options{})
	if err != nil {
		return nil, awsjson.Exception("InvalidStructureException", "pipeline: %v", err)
	}
	if f.Form != pipeline.FormDeclaration || len(f.Pipelines) != 1 {
		return nil, awsjson.Exception("InvalidStructureException", "pipeline: want a pipeline declaration, got a %s", f.Form)
	}
	p := f.Pipelines[0]
	code := "InvalidStructureException"
	var msgs []string
	for _, pr := range p.Problems() {
		if pr.Severity != pipeline.SeverityError {
			continue
		}
		if actionProblem(pr.Code) && code == "InvalidStructureException" && len(msgs) == 0 {
			code = "InvalidActionDeclarationException"
		}
		msgs = append(msgs, pr.String())
	}
	if len(msgs) > 0 {
		return nil, awsjson.Exception(code, "%s", strings.Join(msgs, "; "))
	}
	return p.Declaration, nil
}

func actionProblem(c pipeline.Code) bool {
	switch c {
	case pipeline.CodeUnknownActionType, pipeline.CodeActionTypeMismatch, pipeline.CodeUnsupportedActionVersion,
		pipeline.CodeInputArtifactCount, pipeline.CodeOutputArtifactCount, pipeline.CodeMissingConfiguration,
		pipeline.CodeUnknownConfiguration, pipeline.CodeInvalidConfiguration:
		return true
	}
	return false
}

// checkTags applies the model's and CodePipeline's rules on tags.
func checkTags(tags []store.Tag) error {
	if len(tags) > 50 {
		return awsjson.Exception("TooManyTagsException", "%d tags given; a resource has at most 50", len(tags))
	}
	seen := map[string]bool{}
	for _, t := range tags {
		switch {
		case t.Key == "" || len(t.Key) > 128:
			return awsjson.Exception("InvalidTagsException", "tag key %q must be 1 to 128 characters", t.Key)
		case len(t.Value) > 256:
			return awsjson.Exception("InvalidTagsException", "the value of tag %s is longer than 256 characters", t.Key)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return awsjson.Exception("InvalidTagsException", "tag key %s: the aws: prefix is reserved", t.Key)
		case seen[t.Key]:
			return awsjson.Exception("InvalidTagsException", "tag key %s is given twice", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

func (h *Handler) createPipeline(ctx context.Context, caller Caller, in *createPipelineInput) (any, error) {
	d, err := readDeclaration(in.Pipeline)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(ctx, caller, "CreatePipeline", h.pipelineARN(d.Name)); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if err := h.create(ctx, caller, d, in.Tags); err != nil {
		return nil, err
	}
	return pipelineOutput{Pipeline: maskDeclaration(d, 1), Tags: in.Tags}, nil
}

// create stores version 1 of a new pipeline, with its tags, and starts its
// first execution, triggered by CreatePipeline.
func (h *Handler) create(ctx context.Context, caller Caller, d *pipeline.Declaration, tags []store.Tag) error {
	inUse := awsjson.Exception("PipelineNameInUseException", "a pipeline named %s exists already", d.Name)
	switch _, err := h.store.GetPipelineEntry(ctx, d.Name); {
	case err == nil:
		return inUse
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("read pipeline %s: %w", d.Name, err)
	}
	version, err := h.cfg.Runtime.PutPipeline(ctx, d)
	if errors.Is(err, store.ErrConditionFailed) || (err == nil && version != 1) {
		return inUse
	}
	if err != nil {
		return fmt.Errorf("create pipeline %s: %w", d.Name, err)
	}
	if len(tags) > 0 {
		if err := h.updateEntry(ctx, d.Name, func(e *store.PipelineEntry) { e.Tags = tags }); err != nil {
			return err
		}
	}
	_, err = h.cfg.Runtime.StartPipelineExecution(ctx, runtime.StartInput{
		Pipeline: d.Name,
		Trigger:  trigger.Manual(trigger.TypeCreatePipeline, caller.ARN),
	})
	if err != nil {
		return fmt.Errorf("start the first execution of %s: %w", d.Name, err)
	}
	return nil
}

// Apply creates the pipeline of a valid declaration (starting its first
// execution), or stores the declaration as its next version unless the
// latest version is the same. It returns the latest version and whether
// the pipeline was created. The server deploys its pipeline files with it.
func (h *Handler) Apply(ctx context.Context, caller Caller, d *pipeline.Declaration, tags []store.Tag) (int, bool, error) {
	if err := checkTags(tags); err != nil {
		return 0, false, err
	}
	_, err := h.store.GetPipelineEntry(ctx, d.Name)
	if errors.Is(err, store.ErrNotFound) {
		return 1, true, h.create(ctx, caller, d, tags)
	}
	if err != nil {
		return 0, false, fmt.Errorf("read pipeline %s: %w", d.Name, err)
	}
	version, prev, err := h.declaration(ctx, d.Name, 0)
	if err != nil {
		return 0, false, err
	}
	a, _ := json.Marshal(prev)
	b, _ := json.Marshal(d)
	if string(a) == string(b) {
		return version, false, nil
	}
	version, err = h.update(ctx, d, prev)
	return version, false, err
}

// updateEntry changes a catalog entry with a conditional write, again on
// conflict.
func (h *Handler) updateEntry(ctx context.Context, name string, change func(*store.PipelineEntry)) error {
	for range maxConflicts {
		e, err := h.store.GetPipelineEntry(ctx, name)
		if err != nil {
			return fmt.Errorf("read catalog entry of %s: %w", name, err)
		}
		change(&e.Value)
		w, err := store.PipelineEntryWrite(e)
		if err != nil {
			return err
		}
		err = h.store.Transact(ctx, w)
		if !errors.Is(err, store.ErrConditionFailed) {
			return err
		}
	}
	return fmt.Errorf("update catalog entry of %s: still conflicting after %d attempts", name, maxConflicts)
}

const maxConflicts = 50

// entry returns a pipeline's catalog entry, or PipelineNotFoundException.
func (h *Handler) entry(ctx context.Context, name string) (store.Versioned[store.PipelineEntry], error) {
	e, err := h.store.GetPipelineEntry(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return e, pipelineNotFound(name)
	}
	if err != nil {
		return e, fmt.Errorf("read pipeline %s: %w", name, err)
	}
	return e, nil
}

func pipelineNotFound(name string) error {
	return awsjson.Exception("PipelineNotFoundException", "The account has no pipeline named %s.", name)
}

// maskDeclaration returns a copy of d at version with the values of secret
// configuration properties masked.
func maskDeclaration(d *pipeline.Declaration, version int) *pipeline.Declaration {
	out := *d
	v := int32(version)
	out.Version = &v
	out.Stages = make([]pipeline.Stage, len(d.Stages))
	for i, st := range d.Stages {
		out.Stages[i] = st
		out.Stages[i].Actions = make([]pipeline.Action, len(st.Actions))
		for j, a := range st.Actions {
			out.Stages[i].Actions[j] = a
			out.Stages[i].Actions[j].Configuration = pipeline.MaskSecrets(a.ActionTypeID, a.Configuration)
		}
	}
	return &out
}

// keepSecrets gives a secret property that an update leaves masked the
// value the same action had in the previous version, as a GetPipeline
// output edited and sent back expects.
func keepSecrets(d, prev *pipeline.Declaration) {
	old := map[[3]string]string{}
	for _, st := range prev.Stages {
		for _, a := range st.Actions {
			for k, v := range a.Configuration {
				old[[3]string{st.Name, a.Name, k}] = v
			}
		}
	}
	for _, st := range d.Stages {
		for _, a := range st.Actions {
			for k, v := range a.Configuration {
				if v == pipeline.Masked && pipeline.IsSecret(a.ActionTypeID, k) {
					if was, ok := old[[3]string{st.Name, a.Name, k}]; ok {
						a.Configuration[k] = was
					}
				}
			}
		}
	}
}

type getPipelineInput struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
}

func (h *Handler) getPipeline(ctx context.Context, caller Caller, in *getPipelineInput) (any, error) {
	c := name(&awsjson.Check{}, "name", in.Name)
	if in.Version < 0 {
		c.Range("version", in.Version, 1, 1<<31-1)
	}
	if c.Err != nil {
		return nil, c.Err
	}
	if err := h.authorize(ctx, caller, "GetPipeline", h.pipelineARN(in.Name)); err != nil {
		return nil, err
	}
	e, err := h.entry(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	version, d, err := h.declaration(ctx, in.Name, in.Version)
	if err != nil {
		return nil, err
	}
	return pipelineOutput{
		Pipeline: maskDeclaration(d, version),
		Metadata: &pipelineMetadata{
			PipelineArn: h.pipelineARN(in.Name),
			Created:     pipeline.Timestamp{Time: e.Value.Created},
			Updated:     pipeline.Timestamp{Time: e.Value.Updated},
		},
	}, nil
}

// declaration reads a version of a pipeline (0: the latest) and its
// version.
func (h *Handler) declaration(ctx context.Context, name string, version int) (int, *pipeline.Declaration, error) {
	d, v, err := h.cfg.Runtime.Declaration(ctx, name, version)
	if errors.Is(err, store.ErrNotFound) {
		if version > 0 {
			return 0, nil, awsjson.Exception("PipelineVersionNotFoundException", "pipeline %s has no version %d", name, version)
		}
		return 0, nil, pipelineNotFound(name)
	}
	return v, d, err
}

type updatePipelineInput struct {
	Pipeline json.RawMessage `json:"pipeline"`
}

// updatePipeline stores the next version. Executions in flight go on with
// the version they started with, as in CodePipeline; a failed stage of one
// of them can no longer be retried (StageNotRetryableException).
func (h *Handler) updatePipeline(ctx context.Context, caller Caller, in *updatePipelineInput) (any, error) {
	d, err := readDeclaration(in.Pipeline)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(ctx, caller, "UpdatePipeline", h.pipelineARN(d.Name)); err != nil {
		return nil, err
	}
	if _, err := h.entry(ctx, d.Name); err != nil {
		return nil, err
	}
	_, prev, err := h.declaration(ctx, d.Name, 0)
	if err != nil {
		return nil, err
	}
	version, err := h.update(ctx, d, prev)
	if err != nil {
		return nil, err
	}
	return pipelineOutput{Pipeline: maskDeclaration(d, version)}, nil
}

// update stores d as the next version of a pipeline whose latest version
// is prev; secrets d leaves masked keep prev's values.
func (h *Handler) update(ctx context.Context, d, prev *pipeline.Declaration) (int, error) {
	keepSecrets(d, prev)
	version, err := h.cfg.Runtime.PutPipeline(ctx, d)
	if errors.Is(err, store.ErrConditionFailed) {
		return 0, awsjson.Exception("ConcurrentModificationException", "pipeline %s was updated meanwhile; read it again and retry", d.Name)
	}
	if err != nil {
		return 0, fmt.Errorf("update pipeline %s: %w", d.Name, err)
	}
	return version, nil
}

type deletePipelineInput struct {
	Name string `json:"name"`
}

// deletePipeline stops the executions in flight (abandoning them), then
// removes the pipeline's records and its catalog entry. Deleting a pipeline
// that does not exist succeeds, as in CodePipeline.
func (h *Handler) deletePipeline(ctx context.Context, caller Caller, in *deletePipelineInput) (any, error) {
	if c := name(&awsjson.Check{}, "name", in.Name); c.Err != nil {
		return nil, c.Err
	}
	if err := h.authorize(ctx, caller, "DeletePipeline", h.pipelineARN(in.Name)); err != nil {
		return nil, err
	}
	e, err := h.store.GetPipelineEntry(ctx, in.Name)
	if errors.Is(err, store.ErrNotFound) {
		return struct{}{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pipeline %s: %w", in.Name, err)
	}
	if err := h.stopAll(ctx, in.Name); err != nil {
		return nil, err
	}
	if err := h.store.DeletePipelineRecords(ctx, in.Name); err != nil {
		return nil, err
	}
	h.cfg.Runtime.Forget(in.Name)
	h.resetView()
	if err := h.store.Transact(ctx, store.DeletePipelineEntryWrite(e)); err != nil && !errors.Is(err, store.ErrConditionFailed) {
		return nil, fmt.Errorf("delete pipeline %s: %w", in.Name, err)
	}
	return struct{}{}, nil
}

// stopAll abandons every execution of a pipeline still in flight.
func (h *Handler) stopAll(ctx context.Context, name string) error {
	token := ""
	for {
		execs, next, err := h.store.ListPipelineExecutions(ctx, name, 100, token)
		if err != nil {
			return err
		}
		for _, e := range execs {
			if e.Status != store.ExecutionInProgress && e.Status != store.ExecutionStopping {
				continue
			}
			err := h.cfg.Runtime.StopPipelineExecution(ctx, name, e.PipelineExecutionID, true, "The pipeline was deleted.")
			var rej *execution.Rejection
			if err != nil && !errors.As(err, &rej) {
				return fmt.Errorf("stop execution %s of %s: %w", e.PipelineExecutionID, name, err)
			}
		}
		if next == "" {
			return nil
		}
		token = next
	}
}

type listPipelinesInput struct {
	NextToken  string `json:"nextToken"`
	MaxResults int    `json:"maxResults"`
}

type pipelineSummary struct {
	Name          string             `json:"name"`
	Version       int                `json:"version"`
	PipelineType  string             `json:"pipelineType,omitempty"`
	ExecutionMode string             `json:"executionMode,omitempty"`
	Created       pipeline.Timestamp `json:"created"`
	Updated       pipeline.Timestamp `json:"updated"`
}

type listPipelinesOutput struct {
	Pipelines []pipelineSummary `json:"pipelines"`
	NextToken string            `json:"nextToken,omitempty"`
}

// listPipelines lists the pipelines the caller may read (GetPipeline).
func (h *Handler) listPipelines(ctx context.Context, caller Caller, in *listPipelinesInput) (any, error) {
	c := (&awsjson.Check{}).Range("maxResults", in.MaxResults, 1, 1000).Length("nextToken", in.NextToken, 1, 2048)
	if c.Err != nil {
		return nil, c.Err
	}
	if err := h.authorize(ctx, caller, "ListPipelines", "*"); err != nil {
		return nil, err
	}
	limit := in.MaxResults
	if limit == 0 {
		limit = 100
	}
	entries, next, err := storeListing[store.PipelineEntry]{
		Listing: awsjson.Listing{Op: "ListPipelines"}, ctx: ctx,
		fetch: h.store.ListPipelineEntries, get: h.store.GetPipelineEntry,
		keep: func(e store.PipelineEntry) (string, bool) {
			return e.Name, h.cfg.Authz.Authorize(ctx, caller, "codepipeline:GetPipeline", h.pipelineARN(e.Name))
		},
	}.page(limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := listPipelinesOutput{Pipelines: []pipelineSummary{}, NextToken: next}
	for _, e := range entries {
		out.Pipelines = append(out.Pipelines, pipelineSummary{
			Name: e.Name, Version: e.Version, PipelineType: e.PipelineType, ExecutionMode: e.ExecutionMode,
			Created: pipeline.Timestamp{Time: e.Created}, Updated: pipeline.Timestamp{Time: e.Updated},
		})
	}
	return out, nil
}
