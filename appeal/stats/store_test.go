package stats_test

import (
	"context"
	"errors"

	"github.com/appealkit/appealkit/appeal"
)

var errorsIs = errors.Is

// sliceStore is a read-only appeal.Store over a sorted slice, enough to
// exercise paging in FromStore.
type sliceStore struct {
	data  []appeal.Appeal
	calls int
	err   error
}

func (s *sliceStore) Put(context.Context, appeal.Appeal) (bool, error) {
	return false, errors.ErrUnsupported
}
func (s *sliceStore) Get(context.Context, appeal.ID) (appeal.Appeal, error) {
	return appeal.Appeal{}, appeal.ErrNotFound
}
func (s *sliceStore) Transition(context.Context, appeal.ID, appeal.Change) (appeal.Appeal, error) {
	return appeal.Appeal{}, errors.ErrUnsupported
}
func (s *sliceStore) Update(context.Context, appeal.ID, int64, func(*appeal.Appeal) error) (appeal.Appeal, error) {
	return appeal.Appeal{}, errors.ErrUnsupported
}
func (s *sliceStore) List(ctx context.Context, f appeal.Filter) ([]appeal.Appeal, error) {
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	var out []appeal.Appeal
	for i := range s.data {
		a := &s.data[i]
		if f.AfterID != "" {
			after := appeal.Appeal{CreatedAt: f.AfterCreated, ID: f.AfterID}
			if !appeal.Less(&after, a) {
				continue
			}
		}
		if !f.Match(a) {
			continue
		}
		out = append(out, a.Clone())
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}
