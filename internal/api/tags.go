package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-ci/sluice/internal/awsjson"
	"github.com/sluice-ci/sluice/internal/store"
)

// Taggable resources are pipelines and webhooks; their tags live in their
// own records (the catalog entry, the webhook).

var arnPattern = awsjson.Model(`arn:aws(-[\w]+)*:codepipeline:.+:[0-9]{12}:.+`)

// resource is a taggable resource named by an ARN.
type resource struct {
	webhook bool
	name    string
}

// parseResource reads a resource ARN of this region and account.
func (h *Handler) parseResource(arn string) (resource, error) {
	if !arnPattern.MatchString(arn) {
		return resource{}, awsjson.Exception("InvalidArnException", "%q is not a CodePipeline ARN", arn)
	}
	parts := strings.SplitN(arn, ":", 6)
	if parts[3] != h.cfg.Region || parts[4] != h.cfg.Account {
		return resource{}, awsjson.Exception("ResourceNotFoundException", "%s is in region %s of account %s; this service is %s of %s", arn, parts[3], parts[4], h.cfg.Region, h.cfg.Account)
	}
	rest := parts[5]
	if name, ok := strings.CutPrefix(rest, "webhook:"); ok {
		return resource{webhook: true, name: name}, nil
	}
	if strings.Contains(rest, "/") {
		return resource{}, awsjson.Exception("InvalidArnException", "%s names a stage or an action; only pipelines and webhooks have tags", arn)
	}
	return resource{name: rest}, nil
}

// changeTags applies change to a resource's tags with a conditional write,
// again on conflict. A nil change only reads them.
func (h *Handler) changeTags(ctx context.Context, r resource, arn string, change func([]store.Tag) ([]store.Tag, error)) ([]store.Tag, error) {
	notFound := awsjson.Exception("ResourceNotFoundException", "no resource %s", arn)
	for range maxConflicts {
		var (
			tags  []store.Tag
			write func([]store.Tag) (store.Write, error)
		)
		if r.webhook {
			w, err := h.store.GetWebhook(ctx, r.name)
			if errors.Is(err, store.ErrNotFound) {
				return nil, notFound
			} else if err != nil {
				return nil, fmt.Errorf("read webhook %s: %w", r.name, err)
			}
			tags = w.Value.Tags
			write = func(t []store.Tag) (store.Write, error) {
				w.Value.Tags = t
				return store.WebhookWrite(w)
			}
		} else {
			e, err := h.store.GetPipelineEntry(ctx, r.name)
			if errors.Is(err, store.ErrNotFound) {
				return nil, notFound
			} else if err != nil {
				return nil, fmt.Errorf("read pipeline %s: %w", r.name, err)
			}
			tags = e.Value.Tags
			write = func(t []store.Tag) (store.Write, error) {
				e.Value.Tags = t
				return store.PipelineEntryWrite(e)
			}
		}
		if change == nil {
			return tags, nil
		}
		next, err := change(slices.Clone(tags))
		if err != nil {
			return nil, err
		}
		w, err := write(next)
		if err != nil {
			return nil, err
		}
		err = h.store.Transact(ctx, w)
		if errors.Is(err, store.ErrConditionFailed) {
			continue
		}
		return next, err
	}
	return nil, awsjson.Exception("ConcurrentModificationException", "%s is being changed by another request; try again", arn)
}

type tagResourceInput struct {
	ResourceArn string      `json:"resourceArn"`
	Tags        []store.Tag `json:"tags"`
	TagKeys     []string    `json:"tagKeys"`
	NextToken   string      `json:"nextToken"`
	MaxResults  int         `json:"maxResults"`
}

// tagged checks a tagging request and authorizes op on its resource.
func (h *Handler) tagged(ctx context.Context, caller Caller, op string, in *tagResourceInput) (resource, error) {
	if c := (&awsjson.Check{}).Required("resourceArn", in.ResourceArn); c.Err != nil {
		return resource{}, c.Err
	}
	r, err := h.parseResource(in.ResourceArn)
	if err != nil {
		return r, err
	}
	return r, h.authorize(ctx, caller, op, in.ResourceArn)
}

func (h *Handler) tagResource(ctx context.Context, caller Caller, in *tagResourceInput) (any, error) {
	if in.Tags == nil {
		return nil, awsjson.Constraint("null", "tags", "Member must not be null")
	}
	r, err := h.tagged(ctx, caller, "TagResource", in)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	_, err = h.changeTags(ctx, r, in.ResourceArn, func(tags []store.Tag) ([]store.Tag, error) {
		for _, t := range in.Tags {
			i := slices.IndexFunc(tags, func(have store.Tag) bool { return have.Key == t.Key })
			if i >= 0 {
				tags[i] = t
			} else {
				tags = append(tags, t)
			}
		}
		if len(tags) > 50 {
			return nil, awsjson.Exception("TooManyTagsException", "%s would have %d tags; a resource has at most 50", in.ResourceArn, len(tags))
		}
		return tags, nil
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (h *Handler) untagResource(ctx context.Context, caller Caller, in *tagResourceInput) (any, error) {
	if in.TagKeys == nil {
		return nil, awsjson.Constraint("null", "tagKeys", "Member must not be null")
	}
	r, err := h.tagged(ctx, caller, "UntagResource", in)
	if err != nil {
		return nil, err
	}
	_, err = h.changeTags(ctx, r, in.ResourceArn, func(tags []store.Tag) ([]store.Tag, error) {
		return slices.DeleteFunc(tags, func(t store.Tag) bool { return slices.Contains(in.TagKeys, t.Key) }), nil
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type listTagsOutput struct {
	Tags      []store.Tag `json:"tags"`
	NextToken string      `json:"nextToken,omitempty"`
}

func (h *Handler) listTagsForResource(ctx context.Context, caller Caller, in *tagResourceInput) (any, error) {
	if c := (&awsjson.Check{}).Range("maxResults", in.MaxResults, 1, 100); c.Err != nil {
		return nil, c.Err
	}
	r, err := h.tagged(ctx, caller, "ListTagsForResource", in)
	if err != nil {
		return nil, err
	}
	tags, err := h.changeTags(ctx, r, in.ResourceArn, nil)
	if err != nil {
		return nil, err
	}
	limit := in.MaxResults
	if limit == 0 {
		limit = 100
	}
	listing := awsjson.Listing{Op: "ListTagsForResource", Scope: map[string]string{"resourceArn": in.ResourceArn}}
	page, next, err := listPage(listing, tags, limit, in.NextToken, func(t store.Tag) string { return t.Key })
	if err != nil {
		return nil, err
	}
	return listTagsOutput{Tags: append([]store.Tag{}, page...), NextToken: next}, nil
}
