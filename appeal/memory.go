package appeal

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"
)

// MemoryStore is a Store that keeps appeals in memory. It is safe for
// concurrent use and loses everything when the process ends: use it in tests,
// demos and as a reference; use a SQL store (appeal/sqlstore) in production.
//
// Besides Store it is a BatchStore, a Scanner, a Counter and a DeadLetterStore, and
// keeps source checkpoints (Load and Save, the shape of source.Checkpoints),
// so that PutBatch can save one with its appeals as the SQL stores do.
type MemoryStore struct {
	mu      sync.RWMutex
	appeals map[ID]*Appeal // stored values are never changed, only replaced
	cursors map[string]string
	dead    []DeadLetter
	deadKey map[string]bool

	// The outbox (see Outbox) lives under the same lock as the appeals,
	// which is what makes UpdateAndEnqueue atomic.
	outbox      map[string]*OutboxMessage
	outboxOrder map[string]int
	outboxSeq   int
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{appeals: make(map[ID]*Appeal), cursors: make(map[string]string), deadKey: make(map[string]bool),
		outbox: make(map[string]*OutboxMessage), outboxOrder: make(map[string]int)}
}

var (
	_ BatchStore      = (*MemoryStore)(nil)
	_ Scanner         = (*MemoryStore)(nil)
	_ Counter         = (*MemoryStore)(nil)
	_ DeadLetterStore = (*MemoryStore)(nil)
)

// Put implements Store.
func (s *MemoryStore) Put(ctx context.Context, a Appeal) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	a = a.Clone()
	a.Analysis = nil // a cache, not data: no store keeps it
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

// PutBatch implements BatchStore: the good appeals are stored, the invalid
// ones reported in a *BatchError, all under one lock.
func (s *MemoryStore) PutBatch(ctx context.Context, appeals []Appeal, save ...Checkpoint) ([]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	norm := make([]Appeal, len(appeals))
	var bad BatchError
	for i := range appeals {
		norm[i] = appeals[i].Clone()
		norm[i].Analysis = nil
		if err := norm[i].Normalize(); err != nil {
			bad.Items = append(bad.Items, ItemError{Index: i, ID: norm[i].ID, Err: err})
		}
	}
	created := make([]bool, len(appeals))
	s.mu.Lock()
	defer s.mu.Unlock()
	next := 0
	for i := range norm {
		if next < len(bad.Items) && bad.Items[next].Index == i {
			next++
			continue
		}
		if _, ok := s.appeals[norm[i].ID]; ok {
			continue
		}
		norm[i].Version = 1
		s.appeals[norm[i].ID] = &norm[i]
		created[i] = true
	}
	if len(bad.Items) > 0 {
		return created, &bad
	}
	for _, c := range save {
		s.cursors[c.Key] = c.Cursor
	}
	return created, nil
}

// Load returns the checkpoint saved under key, or "".
func (s *MemoryStore) Load(ctx context.Context, key string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cursors[key], nil
}

// Save keeps cursor as the checkpoint under key.
func (s *MemoryStore) Save(ctx context.Context, key, cursor string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursors[key] = cursor
	return nil
}

// PutDeadLetter implements DeadLetterStore. The same appeal (by ID, or by
// its text when it has none) from the same input is kept once.
func (s *MemoryStore) PutDeadLetter(ctx context.Context, d DeadLetter) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.Appeal = d.Appeal.Clone()
	d.Appeal.Analysis = nil
	key := DeadLetterKey(&d)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deadKey[key] {
		return nil
	}
	s.deadKey[key] = true
	s.dead = append(s.dead, d)
	return nil
}

// DeadLetters implements DeadLetterStore.
func (s *MemoryStore) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := len(s.dead)
	if limit > 0 {
		n = min(n, limit)
	}
	out := make([]DeadLetter, n)
	for i := range out {
		out[i] = s.dead[i]
		out[i].Appeal = s.dead[i].Appeal.Clone()
	}
	return out, nil
}

// Get implements Store.
func (s *MemoryStore) Get(ctx context.Context, id ID) (Appeal, error) {
	if err := ctx.Err(); err != nil {
		return Appeal{}, err
	}
	if err := CheckID(id); err != nil {
		return Appeal{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.appeals[id]
	if !ok {
		return Appeal{}, fmt.Errorf("get %s: %w", id.Redacted(), ErrNotFound)
	}
	return a.Clone(), nil
}

// Transition implements Store.
func (s *MemoryStore) Transition(ctx context.Context, id ID, c Change) (Appeal, error) {
	return s.update(ctx, id, c.ExpectedVersion, func(a *Appeal) error { return a.Apply(c) })
}

// Update implements Store.
func (s *MemoryStore) Update(ctx context.Context, id ID, expectedVersion int64, mutate func(*Appeal) error) (Appeal, error) {
	return s.update(ctx, id, expectedVersion, CheckedUpdate(mutate))
}

func (s *MemoryStore) update(ctx context.Context, id ID, expected int64, change func(*Appeal) error) (Appeal, error) {
	if err := ctx.Err(); err != nil {
		return Appeal{}, err
	}
	if err := CheckID(id); err != nil {
		return Appeal{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.appeals[id]
	if !ok {
		return Appeal{}, fmt.Errorf("update %s: %w", id.Redacted(), ErrNotFound)
	}
	if cur.Version != expected {
		return Appeal{}, &ConflictError{ID: id, Expected: expected, Actual: cur.Version}
	}
	next := cur.Clone()
	if err := change(&next); err != nil {
		return Appeal{}, err
	}
	if err := next.Normalize(); err != nil {
		return Appeal{}, err
	}
	next.Analysis = nil
	next.Version = cur.Version + 1
	s.appeals[id] = &next
	return next.Clone(), nil
}

// List implements Store.
func (s *MemoryStore) List(ctx context.Context, f Filter) ([]Appeal, error) {
	matched, err := s.match(ctx, &f)
	if err != nil {
		return nil, err
	}
	out := make([]Appeal, len(matched))
	for i, a := range matched {
		out[i] = a.Clone()
	}
	return out, nil
}

// Count implements Counter.
func (s *MemoryStore) Count(ctx context.Context, f Filter) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, a := range s.appeals {
		if f.Match(a) {
			n++
		}
	}
	if f.Limit > 0 {
		n = min(n, f.Limit)
	}
	return n, nil
}

// Scan implements Scanner: it holds pointers to the matching appeals, not
// copies, and copies each as it is yielded.
func (s *MemoryStore) Scan(ctx context.Context, f Filter) iter.Seq2[Appeal, error] {
	return func(yield func(Appeal, error) bool) {
		matched, err := s.match(ctx, &f)
		if err != nil {
			yield(Appeal{}, err)
			return
		}
		for _, a := range matched {
			if err := ctx.Err(); err != nil {
				yield(Appeal{}, err)
				return
			}
			if !yield(a.Clone(), nil) {
				return
			}
		}
	}
}

// match returns the stored appeals f selects, in order, up to f.Limit.
func (s *MemoryStore) match(ctx context.Context, f *Filter) ([]*Appeal, error) {
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
	return matched, nil
}

// CheckedUpdate returns mutate followed by CheckUpdate against the appeal
// as it was before: what a Store's Update applies to its copy of the
// stored appeal.
func CheckedUpdate(mutate func(*Appeal) error) func(*Appeal) error {
	return func(a *Appeal) error {
		before := a.Clone()
		if err := mutate(a); err != nil {
			return err
		}
		return CheckUpdate(&before, a)
	}
}

// CheckUpdate verifies that an Update's mutate function left alone what only
// the lifecycle may change: ID, network identity, Status, Version and the
// existing History. The one change allowed to existing events is removing
// personal data from a note (masking it with RedactText, or emptying it), as
// retention does. Stores call it; it returns a *FieldError.
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
	case len(after.History) < len(before.History):
		return &FieldError{Field: "history", Msg: "existing events must not change; append only"}
	}
	for i := range before.History {
		b, a := before.History[i], after.History[i]
		if a.Note != b.Note && (a.Note == "" || a.Note == RedactText(b.Note)) {
			b.Note = a.Note // personal data removed: allowed
		}
		if a != b {
			return &FieldError{Field: fmt.Sprintf("history[%d]", i), Msg: "existing events must not change; append only (a note may only lose personal data)"}
		}
	}
	return nil
}
