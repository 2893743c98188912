package appeal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// OutboxMessage is one approved answer waiting to be published. It is
// written in the same transaction as the appeal change that approved it
// (Outbox.UpdateAndEnqueue), so an approved answer is never lost, and
// removed only after the publication is recorded in the appeal.
type OutboxMessage struct {
	// Key is the idempotency key: unique in the outbox, derived from the
	// appeal and the draft, and handed to the network where it has one
	// (VK guid and random_id), so a repeated post is dropped by the network.
	Key      string `json:"key"`
	AppealID ID     `json:"appeal_id"`
	DraftID  string `json:"draft_id"`
	// Channel names where the answer goes: a network ("vk", "telegram"),
	// "email" or "portal".
	Channel string `json:"channel"`
	Text    string `json:"text"`
	// Attempts counts claims so far, the current one included.
	Attempts int `json:"attempts"`
	// InFlight is true while a publisher holds a claim. A message claimed
	// again with InFlight still true was being posted when its publisher
	// died: the post may or may not have gone out.
	InFlight bool `json:"in_flight,omitempty"`
	// NotBefore is the earliest time of the next attempt (backoff), and
	// while InFlight the end of the current claim's lease.
	NotBefore time.Time `json:"not_before,omitzero"`
	// LastError is why the last attempt failed.
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// ErrOutboxKey is returned when a message has no key or its key is already
// in the outbox.
var ErrOutboxKey = errors.New("outbox: message key is empty or already queued")

// Outbox is a transactional outbox kept next to the appeals: an optional
// capability of a Store (find it by type assertion, as DeadLetterStore).
// Implementations must be safe for concurrent use by several publishers,
// also in several processes when the store is shared.
type Outbox interface {
	// UpdateAndEnqueue applies mutate as Store.Update does (same rules,
	// same ErrConflict on a stale expectedVersion) and queues m, both in
	// one transaction: either both happen or neither does.
	UpdateAndEnqueue(ctx context.Context, id ID, expectedVersion int64, mutate func(*Appeal) error, m OutboxMessage) (Appeal, error)
	// Claim returns up to limit messages due at now (NotBefore <= now),
	// oldest first, each marked InFlight with Attempts+1 and leased until
	// now+lease, so that other publishers skip them meanwhile. The returned
	// messages show InFlight as it was before this claim.
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxMessage, error)
	// Retry releases a claimed message for another attempt at next,
	// recording reason. A missing key is not an error.
	Retry(ctx context.Context, key string, next time.Time, reason string) error
	// Remove deletes a message that was published or given up. A missing
	// key is not an error, so removal is idempotent.
	Remove(ctx context.Context, key string) error
	// Pending returns every queued message, oldest first (for operators and
	// tests).
	Pending(ctx context.Context) ([]OutboxMessage, error)
}

// CheckOutboxMessage validates m before it is queued.
func CheckOutboxMessage(m *OutboxMessage) error {
	switch {
	case strings.TrimSpace(m.Key) == "":
		return fmt.Errorf("%w: key is empty", ErrOutboxKey)
	case m.AppealID == "":
		return &FieldError{Field: "appeal_id", Msg: "is empty"}
	case m.Channel == "":
		return &FieldError{Field: "channel", Msg: "is empty"}
	case strings.TrimSpace(m.Text) == "":
		return &FieldError{Field: "text", Msg: "is empty"}
	}
	return nil
}

var _ Outbox = (*MemoryStore)(nil)

// UpdateAndEnqueue implements Outbox.
func (s *MemoryStore) UpdateAndEnqueue(ctx context.Context, id ID, expectedVersion int64, mutate func(*Appeal) error, m OutboxMessage) (Appeal, error) {
	if err := CheckOutboxMessage(&m); err != nil {
		return Appeal{}, err
	}
	if m.AppealID != id {
		return Appeal{}, &FieldError{Field: "appeal_id", Msg: fmt.Sprintf("%q is not the appeal updated (%q)", m.AppealID.Redacted(), id.Redacted())}
	}
	return s.update(ctx, id, expectedVersion, func(a *Appeal) error {
		if _, dup := s.outbox[m.Key]; dup {
			return fmt.Errorf("%w: %q", ErrOutboxKey, m.Key)
		}
		if err := CheckedUpdate(mutate)(a); err != nil {
			return err
		}
		// update holds the lock and stores the appeal only after this
		// returns nil, so the message and the change land together.
		m.Attempts, m.InFlight = 0, false
		s.outboxSeq++
		s.outboxOrder[m.Key] = s.outboxSeq
		s.outbox[m.Key] = &m
		return nil
	})
}

// Claim implements Outbox.
func (s *MemoryStore) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []*OutboxMessage
	for _, m := range s.outbox {
		if !m.NotBefore.After(now) {
			due = append(due, m)
		}
	}
	s.sortOutbox(due)
	if limit > 0 && len(due) > limit {
		due = due[:limit]
	}
	out := make([]OutboxMessage, len(due))
	for i, m := range due {
		out[i] = *m
		out[i].Attempts++
		m.Attempts++
		m.InFlight = true
		m.NotBefore = now.Add(lease)
	}
	return out, nil
}

// Retry implements Outbox.
func (s *MemoryStore) Retry(ctx context.Context, key string, next time.Time, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.outbox[key]; ok {
		m.InFlight = false
		m.NotBefore = next
		m.LastError = reason
	}
	return nil
}

// Remove implements Outbox.
func (s *MemoryStore) Remove(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.outbox, key)
	delete(s.outboxOrder, key)
	return nil
}

// Pending implements Outbox.
func (s *MemoryStore) Pending(ctx context.Context) ([]OutboxMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	all := make([]*OutboxMessage, 0, len(s.outbox))
	for _, m := range s.outbox {
		all = append(all, m)
	}
	s.sortOutbox(all)
	out := make([]OutboxMessage, len(all))
	for i, m := range all {
		out[i] = *m
	}
	return out, nil
}

// sortOutbox orders messages as they were queued.
func (s *MemoryStore) sortOutbox(ms []*OutboxMessage) {
	slices.SortFunc(ms, func(a, b *OutboxMessage) int { return s.outboxOrder[a.Key] - s.outboxOrder[b.Key] })
}
