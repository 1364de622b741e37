package api

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sluice-ci/sluice/internal/awsjson"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/webhook"
)

// WebhookDefinition is a stored webhook's definition, secret included.
func WebhookDefinition(w store.Webhook) webhook.Definition {
	d := webhook.Definition{
		Name: w.Name, TargetPipeline: w.TargetPipeline, TargetAction: w.TargetAction,
		Filters:        make([]webhook.FilterRule, len(w.Filters)),
		Authentication: webhook.AuthenticationType(w.Authentication),
		AuthenticationConfiguration: webhook.AuthConfiguration{
			AllowedIPRange: w.AllowedIPRange, SecretToken: w.SecretToken,
		},
	}
	for i, f := range w.Filters {
		d.Filters[i] = webhook.FilterRule{JSONPath: f.JSONPath, MatchEquals: f.MatchEquals}
	}
	return d
}

type putWebhookInput struct {
	Webhook *webhook.Definition `json:"webhook"`
	Tags    []store.Tag         `json:"tags"`
}

type webhookItem struct {
	Definition    webhook.Definition  `json:"definition"`
	URL           string              `json:"url"`
	ErrorMessage  string              `json:"errorMessage,omitempty"`
	ErrorCode     string              `json:"errorCode,omitempty"`
	LastTriggered *pipeline.Timestamp `json:"lastTriggered,omitempty"`
	Arn           string              `json:"arn"`
	Tags          []store.Tag         `json:"tags,omitempty"`
}

// webhookItem is ListWebhookItem, the secret token masked.
func (h *Handler) webhookItem(w store.Webhook) webhookItem {
	d := WebhookDefinition(w)
	if d.AuthenticationConfiguration.SecretToken != "" {
		d.AuthenticationConfiguration.SecretToken = pipeline.Masked
	}
	item := webhookItem{
		Definition: d, URL: h.cfg.WebhookURL(w.Name, w.URLToken), Arn: h.webhookARN(w.Name),
		ErrorMessage: w.ErrorMessage, ErrorCode: w.ErrorCode, Tags: w.Tags,
	}
	if !w.LastTriggered.IsZero() {
		item.LastTriggered = &pipeline.Timestamp{Time: w.LastTriggered}
	}
	return item
}

// putWebhook defines or redefines a webhook. It needs PutWebhook on the
// webhook and on its target pipeline; a redefined webhook keeps its URL.
func (h *Handler) putWebhook(ctx context.Context, caller Caller, in *putWebhookInput) (any, error) {
	if in.Webhook == nil {
		return nil, awsjson.Constraint("null", "webhook", "Member must not be null")
	}
	def := *in.Webhook
	c := name(&awsjson.Check{}, "webhook.name", def.Name)
	name(c, "webhook.targetPipeline", def.TargetPipeline)
	name(c, "webhook.targetAction", def.TargetAction)
	if c.Err != nil {
		return nil, c.Err
	}
	for _, arn := range []string{h.webhookARN(def.Name), h.pipelineARN(def.TargetPipeline)} {
		if err := h.authorize(ctx, caller, "PutWebhook", arn); err != nil {
			return nil, err
		}
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if _, err := h.entry(ctx, def.TargetPipeline); err != nil {
		return nil, err
	}
	_, d, err := h.declaration(ctx, def.TargetPipeline, 0)
	if err != nil {
		return nil, err
	}
	target := targetAction(d, def.TargetAction)
	if target == nil {
		return nil, awsjson.Exception("ValidationException", "pipeline %s has no action named %s", def.TargetPipeline, def.TargetAction)
	}
	if _, err := webhook.Compile(def, target.Configuration); err != nil {
		return nil, webhookProblem(err)
	}
	for range maxConflicts {
		cur, err := h.store.GetWebhook(ctx, def.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			cur = store.Versioned[store.Webhook]{Value: store.Webhook{URLToken: webhook.NewToken(), Created: h.now()}}
		case err != nil:
			return nil, fmt.Errorf("read webhook %s: %w", def.Name, err)
		}
		w := cur.Value
		w.Name, w.TargetPipeline, w.TargetAction = def.Name, def.TargetPipeline, def.TargetAction
		w.Authentication = string(def.Authentication)
		w.AllowedIPRange = def.AuthenticationConfiguration.AllowedIPRange
		secret, err := keptSecret(def, cur.Value.SecretToken)
		if err != nil {
			return nil, err
		}
		w.SecretToken = secret
		w.Filters = make([]store.WebhookFilter, len(def.Filters))
		for i, f := range def.Filters {
			w.Filters[i] = store.WebhookFilter{JSONPath: f.JSONPath, MatchEquals: f.MatchEquals}
		}
		if in.Tags != nil {
			w.Tags = in.Tags
		}
		err = h.store.PutWebhook(ctx, store.Versioned[store.Webhook]{Value: w, Version: cur.Version})
		if errors.Is(err, store.ErrConditionFailed) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store webhook %s: %w", def.Name, err)
		}
		return struct {
			Webhook webhookItem `json:"webhook"`
		}{h.webhookItem(w)}, nil
	}
	return nil, awsjson.Exception("ConcurrentModificationException", "webhook %s is being changed by another request; try again", def.Name)
}

// targetAction finds a webhook's target action, in whichever stage (action
// names are unique in a pipeline); nil when there is none.
func targetAction(d *pipeline.Declaration, name string) *pipeline.Action {
	for i := range d.Stages {
		if a := d.Stages[i].Action(name); a != nil {
			return a
		}
	}
	return nil
}

// keptSecret is the secret a webhook is defined with: the one given, or,
// when the definition gives it masked as ListWebhooks shows it (a listed
// definition sent back), the secret the webhook has. A masked secret of a
// webhook that has none is refused, so that "****" never becomes a secret.
func keptSecret(def webhook.Definition, current string) (string, error) {
	secret := def.AuthenticationConfiguration.SecretToken
	if secret != pipeline.Masked || def.Authentication != webhook.AuthGitHubHMAC {
		return secret, nil
	}
	if current == "" {
		return "", awsjson.Exception("InvalidWebhookAuthenticationParametersException",
			"webhook %s: authenticationConfiguration.SecretToken is %s, as ListWebhooks shows a secret; give the secret itself", def.Name, pipeline.Masked)
	}
	return current, nil
}

// webhookProblem names a definition's problems with the most specific
// exception of the model.
func webhookProblem(err error) error {
	var v *webhook.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	code := "ValidationException"
	for _, p := range v.Problems {
		switch {
		case strings.HasPrefix(p, "filters"):
			code = "InvalidWebhookFilterPatternException"
		case strings.HasPrefix(p, "authentication") && code == "ValidationException":
			code = "InvalidWebhookAuthenticationParametersException"
		}
	}
	return awsjson.Exception(code, "%s", v.Error())
}

type listWebhooksInput struct {
	NextToken  string `json:"NextToken"`
	MaxResults int    `json:"MaxResults"`
}

type listWebhooksOutput struct {
	Webhooks  []webhookItem `json:"webhooks"`
	NextToken string        `json:"NextToken,omitempty"`
}

// listWebhooks lists the webhooks the caller may list by their ARN.
func (h *Handler) listWebhooks(ctx context.Context, caller Caller, in *listWebhooksInput) (any, error) {
	if c := (&awsjson.Check{}).Range("MaxResults", in.MaxResults, 1, 100).Length("NextToken", in.NextToken, 1, 2048); c.Err != nil {
		return nil, c.Err
	}
	if err := h.authorize(ctx, caller, "ListWebhooks", "*"); err != nil {
		return nil, err
	}
	limit := in.MaxResults
	if limit == 0 {
		limit = 100
	}
	hooks, next, err := storeListing[store.Webhook]{
		Listing: awsjson.Listing{Op: "ListWebhooks"}, ctx: ctx,
		fetch: h.store.ListWebhooks, get: h.store.GetWebhook,
		keep: func(w store.Webhook) (string, bool) {
			return w.Name, h.cfg.Authz.Authorize(ctx, caller, "codepipeline:ListWebhooks", h.webhookARN(w.Name))
		},
	}.page(limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := listWebhooksOutput{Webhooks: []webhookItem{}, NextToken: next}
	for _, w := range hooks {
		out.Webhooks = append(out.Webhooks, h.webhookItem(w))
	}
	return out, nil
}

type deleteWebhookInput struct {
	Name string `json:"name"`
}

// deleteWebhook removes a webhook; deleting one that does not exist
// succeeds, as in CodePipeline.
func (h *Handler) deleteWebhook(ctx context.Context, caller Caller, in *deleteWebhookInput) (any, error) {
	if c := name(&awsjson.Check{}, "name", in.Name); c.Err != nil {
		return nil, c.Err
	}
	if err := h.authorize(ctx, caller, "DeleteWebhook", h.webhookARN(in.Name)); err != nil {
		return nil, err
	}
	w, err := h.store.GetWebhook(ctx, in.Name)
	if errors.Is(err, store.ErrNotFound) {
		return struct{}{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read webhook %s: %w", in.Name, err)
	}
	if err := h.store.DeleteWebhook(ctx, w); errors.Is(err, store.ErrConditionFailed) {
		return nil, awsjson.Exception("ConcurrentModificationException", "webhook %s changed meanwhile; try again", in.Name)
	} else if err != nil {
		return nil, fmt.Errorf("delete webhook %s: %w", in.Name, err)
	}
	return struct{}{}, nil
}
