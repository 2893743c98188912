package adaptertest

import (
	"context"
	"errors"
	"sync"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// ErrDown is what Sink returns on its FailAt-th call: a store that is down.
var ErrDown = errors.New("store down")

// Sink records what a source delivers; Sink.Sink is a source.Sink and
// Sink.Edit a source.EditSink. The zero value is ready and safe for
// concurrent use.
type Sink struct {
	// FailAt makes the FailAt-th call of Sink (1-based) return ErrDown
	// and record nothing; 0 never fails.
	FailAt int

	mu      sync.Mutex
	calls   int
	appeals []appeal.Appeal
	edits   []source.Edit
}

// Sink records a.
func (s *Sink) Sink(_ context.Context, a appeal.Appeal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls == s.FailAt {
		return ErrDown
	}
	s.appeals = append(s.appeals, a)
	return nil
}

// Edit records e.
func (s *Sink) Edit(_ context.Context, e source.Edit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.edits = append(s.edits, e)
	return nil
}

// Appeals returns a copy of the appeals recorded so far.
func (s *Sink) Appeals() []appeal.Appeal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]appeal.Appeal(nil), s.appeals...)
}

// Edits returns a copy of the edits recorded so far.
func (s *Sink) Edits() []source.Edit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]source.Edit(nil), s.edits...)
}

// Snapshot returns copies of the appeals and edits recorded so far.
func (s *Sink) Snapshot() ([]appeal.Appeal, []source.Edit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]appeal.Appeal(nil), s.appeals...), append([]source.Edit(nil), s.edits...)
}

// Counts returns how many appeals and edits were recorded.
func (s *Sink) Counts() (appeals, edits int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.appeals), len(s.edits)
}
