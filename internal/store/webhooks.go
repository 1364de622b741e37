package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Webhooks, deliveries and the starts they decide live in three
// partitions of their own:
//
//	webhooks   webhook#<name>                        Webhook
//	deliveries delivery#<delivery id>                Delivery
//	deliveries key#<key>                             a key the delivery claimed (its id in its scope, its signature)
//	starts     start#<received, unix ns>#<execution> PendingStart
//
// A delivery is claimed in one transaction with the starts it decides, so
// that a delivery is either refused as a duplicate or recorded with every
// execution it starts; the starts are removed once their executions exist,
// and whatever is left after a crash is started again (starting an
// execution id twice starts it once).
const (
	webhookPartition  = "webhooks"
	deliveryPartition = "deliveries"
	startPartition    = "starts"
)

// Webhook authentication types, as CodePipeline names them.
const (
	WebhookGitHubHMAC      = "GITHUB_HMAC"
	WebhookIP              = "IP"
	WebhookUnauthenticated = "UNAUTHENTICATED"
)

// WebhookFilter is CodePipeline's WebhookFilterRule.
type WebhookFilter struct {
	JSONPath    string `json:"jsonPath"`
	MatchEquals string `json:"matchEquals,omitempty"`
}

// Webhook is CodePipeline's ListWebhookItem: the definition PutWebhook
// stored, the secret part of its URL, and what happened at its last
// delivery.
type Webhook struct {
	Name           string          `json:"name"`
	TargetPipeline string          `json:"targetPipeline"`
	TargetAction   string          `json:"targetAction"`
	Filters        []WebhookFilter `json:"filters"`
	Authentication string          `json:"authentication"`
	// AllowedIPRange and SecretToken are the authentication configuration
	// (IP and GITHUB_HMAC). The secret is never returned by the API.
	AllowedIPRange string `json:"allowedIPRange,omitempty"`
	SecretToken    string `json:"secretToken,omitempty"`
	// URLToken is the random part of the webhook's URL; it stays the same
	// when the webhook is defined again.
	URLToken      string    `json:"urlToken"`
	Created       time.Time `json:"created"`
	LastTriggered time.Time `json:"lastTriggered,omitzero"`
	ErrorCode     string    `json:"errorCode,omitempty"`
	ErrorMessage  string    `json:"errorMessage,omitempty"`
	Tags          []Tag     `json:"tags,omitempty"`
}

func webhookKey(name string) string { return "webhook#" + name }

// GetWebhook returns a webhook by name, or ErrNotFound.
func (s *Store) GetWebhook(ctx context.Context, name string) (Versioned[Webhook], error) {
	return get[Webhook](ctx, s.b, webhookPartition, webhookKey(name))
}

// PutWebhook writes a webhook read at w.Version (0: a new one). A
// conflict is ErrConditionFailed.
func (s *Store) PutWebhook(ctx context.Context, w Versioned[Webhook]) error {
	if w.Value.Name == "" || w.Value.URLToken == "" {
		return fmt.Errorf("put webhook: name and URL token are required")
	}
	ww, err := WebhookWrite(w)
	if err != nil {
		return err
	}
	return s.b.Transact(ctx, ww)
}

// WebhookWrite is the conditional write of a webhook.
func WebhookWrite(w Versioned[Webhook]) (Write, error) {
	return PutWrite(webhookPartition, webhookKey(w.Value.Name), w.Value, w.Version)
}

// DeleteWebhook removes a webhook read at w.Version.
func (s *Store) DeleteWebhook(ctx context.Context, w Versioned[Webhook]) error {
	return s.b.Transact(ctx, Write{Op: Delete, PK: webhookPartition, SK: webhookKey(w.Value.Name), Expect: w.Version})
}

// ListWebhooks returns up to limit webhooks in name order, after the one
// named by nextToken, and the token of the next page, empty at the end.
func (s *Store) ListWebhooks(ctx context.Context, limit int, nextToken string) ([]Webhook, string, error) {
	out, next, err := page(ctx, s.b, webhookPartition, "webhook#", limit, nextToken, func(w Webhook) string { return w.Name })
	if err != nil {
		return nil, "", fmt.Errorf("list webhooks: %w", err)
	}
	return out, next, nil
}

// Delivery is an event that may start executions: a GitHub delivery, a
// webhook call, an EventBridge event. Its ID is the sender's (the
// X-GitHub-Delivery header, the event's id) or, when the sender gives
// none, one of ours.
type Delivery struct {
	ID     string `json:"id"`
	Source string `json:"source"` // github, webhook/<name>, codecommit, s3
	// Keys identify the delivery for de-duplication: each may be claimed
	// once (the delivery id in its scope; for a signed delivery, its
	// signature too, so that the same body sent again under another id is
	// refused).
	Keys     []string  `json:"keys,omitempty"`
	Received time.Time `json:"received"`
	// Executions are the executions the delivery started.
	Executions []string `json:"executions,omitempty"`
}

// PendingStart is an execution a delivery decided to start, kept until
// the execution exists.
type PendingStart struct {
	DeliveryID      string                   `json:"deliveryId"`
	PipelineName    string                   `json:"pipelineName"`
	ExecutionID     string                   `json:"executionId"`
	Trigger         ExecutionTrigger         `json:"trigger"`
	SourceRevisions []SourceRevisionOverride `json:"sourceRevisions,omitempty"`
	Received        time.Time                `json:"received"`
}

func pendingKey(p PendingStart) string {
	return fmt.Sprintf("start#%020d#%s", p.Received.UnixNano(), p.ExecutionID)
}

func deliveryKey(id string) string   { return "delivery#" + id }
func deliveryKeyKey(k string) string { return "key#" + k }

// MaxStartsPerDelivery is how many executions one delivery with n keys may
// start: the starts share a transaction with the delivery's records.
func MaxStartsPerDelivery(keys int) int { return MaxTransactItems - 1 - keys }

// GetDelivery returns a delivery by id, or ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, id string) (Delivery, error) {
	v, err := get[Delivery](ctx, s.b, deliveryPartition, deliveryKey(id))
	return v.Value, err
}

// DeliveryKeyClaimed reports whether a delivery claimed key.
func (s *Store) DeliveryKeyClaimed(ctx context.Context, key string) (bool, error) {
	_, err := s.b.Get(ctx, deliveryPartition, deliveryKeyKey(key))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ForgetDeliveryKey releases a claimed key, so that a delivery that could
// not be handled is accepted when it comes again.
func (s *Store) ForgetDeliveryKey(ctx context.Context, key string) error {
	return s.b.Transact(ctx, Write{Op: Delete, PK: deliveryPartition, SK: deliveryKeyKey(key), Expect: AnyVersion})
}

// ClaimDelivery records a delivery with its keys and the starts it
// decides, all or nothing. A delivery whose id or one of whose keys was
// claimed before fails with ErrConditionFailed and records nothing.
func (s *Store) ClaimDelivery(ctx context.Context, d Delivery, starts []PendingStart) error {
	if d.ID == "" {
		return fmt.Errorf("claim delivery: no delivery id")
	}
	if max := MaxStartsPerDelivery(len(d.Keys)); len(starts) > max {
		return fmt.Errorf("claim delivery %s: it starts %d executions, at most %d", d.ID, len(starts), max)
	}
	d.Executions = nil
	for _, p := range starts {
		d.Executions = append(d.Executions, p.ExecutionID)
	}
	dw, err := PutWrite(deliveryPartition, deliveryKey(d.ID), d, Absent)
	if err != nil {
		return err
	}
	writes := []Write{dw}
	for _, k := range d.Keys {
		kw, err := PutWrite(deliveryPartition, deliveryKeyKey(k), struct {
			ID string `json:"deliveryId"`
		}{d.ID}, Absent)
		if err != nil {
			return err
		}
		writes = append(writes, kw)
	}
	for _, p := range starts {
		p.DeliveryID = d.ID
		if p.Received.IsZero() {
			p.Received = d.Received
		}
		pw, err := PutWrite(startPartition, pendingKey(p), p, Absent)
		if err != nil {
			return err
		}
		writes = append(writes, pw)
	}
	return s.b.Transact(ctx, writes...)
}

// ListPendingStarts returns up to limit starts not yet done, oldest first.
func (s *Store) ListPendingStarts(ctx context.Context, limit int) ([]PendingStart, error) {
	out, err := query[PendingStart](ctx, s.b, startPartition, "start#", QueryOptions{Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("list pending starts: %w", err)
	}
	return out, nil
}

// DonePendingStart removes a start whose execution exists.
func (s *Store) DonePendingStart(ctx context.Context, p PendingStart) error {
	return s.b.Transact(ctx, Write{Op: Delete, PK: startPartition, SK: pendingKey(p), Expect: AnyVersion})
}
