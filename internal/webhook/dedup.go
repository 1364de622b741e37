package webhook

import (
	"context"
	"sync"
	"time"
)

// Deliveries remembers the deliveries already accepted, so that a delivery
// sent twice (GitHub's redelivery, a retry, a replay) starts nothing the
// second time. The state store implements it durably; a key is recorded in
// the same write that checks it, so that two concurrent copies of a
// delivery cannot both be first.
//
// A store that would rather claim Delivery.Keys in one write together with
// the executions the delivery starts (so that a crash loses neither) may
// answer Seen by looking only, make Forget do nothing, and have Accept
// return ErrDuplicate when the claim finds a key taken.
type Deliveries interface {
	// Seen records key and reports whether this is its first sighting.
	Seen(ctx context.Context, key string) (first bool, err error)
	// Forget removes key, after the delivery it stands for could not be
	// handed on, so that a redelivery is accepted.
	Forget(ctx context.Context, key string) error
}

// Memory is an in-memory Deliveries that keeps each key for a while (a day
// by default: GitHub lets a delivery be redelivered for three days, so a
// durable store keeps them longer). It is for tests and for servers that
// keep no state.
type Memory struct {
	// TTL is how long a key is remembered; zero means 24 hours.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	seen  map[string]time.Time
	swept time.Time
}

// Seen implements Deliveries.
func (m *Memory) Seen(_ context.Context, key string) (bool, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]time.Time{}
	}
	ttl := m.ttl()
	if now.Sub(m.swept) > ttl/4 {
		for k, at := range m.seen {
			if now.Sub(at) > ttl {
				delete(m.seen, k)
			}
		}
		m.swept = now
	}
	if at, ok := m.seen[key]; ok && now.Sub(at) <= ttl {
		return false, nil
	}
	m.seen[key] = now
	return true, nil
}

// Forget implements Deliveries.
func (m *Memory) Forget(_ context.Context, key string) error {
	m.mu.Lock()
	delete(m.seen, key)
	m.mu.Unlock()
	return nil
}

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Memory) ttl() time.Duration {
	if m.TTL > 0 {
		return m.TTL
	}
	return 24 * time.Hour
}
