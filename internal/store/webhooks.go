package store

import (
	"context"
	"fmt"
	"time"
)

// Webhooks, deliveries and the starts they decide live in three
// partitions of their own:
//
//	webhooks   webhook#<name>                        Webhook
//	webhooks   url#<token>                           the name of the webhook the URL token belongs to
//	deliveries delivery#<delivery id>                Delivery
//	deliveries body#<sha-256 of the body>            the same Delivery, so that a replayed body is refused
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

func webhookKey(name string) string     { return "webhook#" + name }
func webhookURLKey(token string) string { return "url#" + token }

type webhookRef struct {
	Name string `json:"name"`
}

// GetWebhook returns a webhook by name, or ErrNotFound.
func (s *Store) GetWebhook(ctx context.Context, name string) (Versioned[Webhook], error) {
	return get[Webhook](ctx, s.b, webhookPartition, webhookKey(name))
}

// GetWebhookByURLToken returns the webhook whose URL carries token, or
// ErrNotFound.
func (s *Store) GetWebhookByURLToken(ctx context.Context, token string) (Versioned[Webhook], error) {
	ref, err := get[webhookRef](ctx, s.b, webhookPartition, webhookURLKey(token))
	if err != nil {
		return Versioned[Webhook]{}, err
	}
	w, err := s.GetWebhook(ctx, ref.Value.Name)
	if err == nil && w.Value.URLToken != token {
		return Versioned[Webhook]{}, ErrNotFound
	}
	return w, err
}

// PutWebhook writes a webhook read at w.Version (0: a new one, whose URL
// token must be new too). A conflict is ErrConditionFailed.
func (s *Store) PutWebhook(ctx context.Context, w Versioned[Webhook]) error {
	if w.Value.Name == "" || w.Value.URLToken == "" {
		return fmt.Errorf("put webhook: name and URL token are required")
	}
	ww, err := PutWrite(webhookPartition, webhookKey(w.Value.Name), w.Value, w.Version)
	if err != nil {
		return err
	}
	writes := []Write{ww}
	if w.Version == Absent {
		rw, err := PutWrite(webhookPartition, webhookURLKey(w.Value.URLToken), webhookRef{w.Value.Name}, Absent)
		if err != nil {
			return err
		}
		writes = append(writes, rw)
	}
	return s.b.Transact(ctx, writes...)
}

// DeleteWebhook removes a webhook read at w.Version, and its URL.
func (s *Store) DeleteWebhook(ctx context.Context, w Versioned[Webhook]) error {
	return s.b.Transact(ctx,
		Write{Op: Delete, PK: webhookPartition, SK: webhookKey(w.Value.Name), Expect: w.Version},
		Write{Op: Delete, PK: webhookPartition, SK: webhookURLKey(w.Value.URLToken), Expect: AnyVersion},
	)
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
// X-GitHub-Delivery header, the event's id).
type Delivery struct {
	ID     string `json:"id"`
	Source string `json:"source"` // github, webhook/<name>, codecommit, s3
	// BodySHA256 is the hex SHA-256 of the body, when the body alone
	// identifies the delivery (a signed GitHub delivery): a replay of the
	// same body under another delivery id is refused too.
	BodySHA256 string    `json:"bodySha256,omitempty"`
	Received   time.Time `json:"received"`
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

// MaxStartsPerDelivery is how many executions one delivery may start: the
// starts share a transaction with the delivery's two records.
const MaxStartsPerDelivery = MaxTransactItems - 2

// GetDelivery returns a delivery by id, or ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, id string) (Delivery, error) {
	v, err := get[Delivery](ctx, s.b, deliveryPartition, "delivery#"+id)
	return v.Value, err
}

// ClaimDelivery records a delivery with the starts it decides, all or
// nothing. A delivery whose id, or whose body, was claimed before fails
// with ErrConditionFailed and records nothing.
func (s *Store) ClaimDelivery(ctx context.Context, d Delivery, starts []PendingStart) error {
	if d.ID == "" {
		return fmt.Errorf("claim delivery: no delivery id")
	}
	if len(starts) > MaxStartsPerDelivery {
		return fmt.Errorf("claim delivery %s: it starts %d executions, at most %d", d.ID, len(starts), MaxStartsPerDelivery)
	}
	d.Executions = d.Executions[:0]
	for _, p := range starts {
		d.Executions = append(d.Executions, p.ExecutionID)
	}
	dw, err := PutWrite(deliveryPartition, "delivery#"+d.ID, d, Absent)
	if err != nil {
		return err
	}
	writes := []Write{dw}
	if d.BodySHA256 != "" {
		bw, err := PutWrite(deliveryPartition, "body#"+d.BodySHA256, d, Absent)
		if err != nil {
			return err
		}
		writes = append(writes, bw)
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
