package appeal

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// MemoryStore is a Store that keeps appeals in memory. It is safe for
// concurrent use and loses everything when the process ends: use it in tests,
// demos and as a reference; use a SQL store (appeal/sqlstore) in production.
type MemoryStore struct {
	mu      sync.RWMutex
	appeals map[ID]*Appeal

	// The outbox (see Outbox) lives under the same lock as the appeals,
	// which is what makes UpdateAndEnqueue atomic.
	outbox      map[string]*OutboxMessage
	outboxOrder map[string]int
	outboxSeq   int
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{appeals: make(map[ID]*Appeal), outbox: make(map[string]*OutboxMessage), outboxOrder: make(map[string]int)}
}

var _ Store = (*MemoryStore)(nil)

// Put implements Store.
func (s *MemoryStore) Put(ctx context.Context, a Appeal) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	a = a.Clone()
	if err := a.Normalize(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.appeals[a.ID]; ok {
		return false, nil
	}
	a.Version = 1
	s.appeals[a.ID] = &a
	return true, nil
}

// Get implements Store.
func (s *MemoryStore) Get(ctx context.Context, id ID) (Appeal, error) {
	if err := ctx.Err(); err != nil {
		return Appeal{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.appeals[id]
	if !ok {
		return Appeal{}, fmt.Errorf("get %s: %w", id, ErrNotFound)
	}
	return a.Clone(), nil
}

// Transition implements Store.
func (s *MemoryStore) Transition(ctx context.Context, id ID, c Change) (Appeal, error) {
	return s.update(ctx, id, c.ExpectedVersion, func(a *Appeal) error { return a.Apply(c) })
}

// Update implements Store.
func (s *MemoryStore) Update(ctx context.Context, id ID, expectedVersion int64, mutate func(*Appeal) error) (Appeal, error) {
	return s.update(ctx, id, expectedVersion, func(a *Appeal) error {
		before := a.Clone()
		if err := mutate(a); err != nil {
			return err
		}
		return CheckUpdate(&before, a)
	})
}

func (s *MemoryStore) update(ctx context.Context, id ID, expected int64, change func(*Appeal) error) (Appeal, error) {
	if err := ctx.Err(); err != nil {
		return Appeal{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.appeals[id]
	if !ok {
		return Appeal{}, fmt.Errorf("update %s: %w", id, ErrNotFound)
	}
	if cur.Version != expected {
		return Appeal{}, &ConflictError{ID: id, Expected: expected, Actual: cur.Version}
	}
	next := cur.Clone()
	if err := change(&next); err != nil {
		return Appeal{}, err
	}
	next.Version = cur.Version + 1
	s.appeals[id] = &next
	return next.Clone(), nil
}

// List implements Store.
func (s *MemoryStore) List(ctx context.Context, f Filter) ([]Appeal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	matched := make([]*Appeal, 0)
	for _, a := range s.appeals {
		if f.Match(a) {
			matched = append(matched, a)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(matched, func(a, b *Appeal) int {
		switch {
		case Less(a, b):
			return -1
		case Less(b, a):
			return 1
		}
		return 0
	})
	if f.Limit > 0 && len(matched) > f.Limit {
		matched = matched[:f.Limit]
	}
	out := make([]Appeal, len(matched))
	for i, a := range matched {
		out[i] = a.Clone()
	}
	return out, nil
}

// CheckUpdate verifies that an Update's mutate function left alone what only
// the lifecycle may change: ID, network identity, Status, Version and the
// existing History. Stores call it; it returns a *FieldError.
func CheckUpdate(before, after *Appeal) error {
	switch {
	case after.ID != before.ID:
		return &FieldError{Field: "id", Msg: "must not change in Update"}
	case after.Network != before.Network || after.ExternalID != before.ExternalID:
		return &FieldError{Field: "external_id", Msg: "network and external_id must not change in Update"}
	case after.Status != before.Status:
		return &FieldError{Field: "status", Msg: "must change through Transition, not Update"}
	case after.Version != before.Version:
		return &FieldError{Field: "version", Msg: "is managed by the store"}
	case len(after.History) < len(before.History) || !slices.Equal(after.History[:len(before.History)], before.History):
		return &FieldError{Field: "history", Msg: "existing events must not change; append only"}
	}
	return nil
}
