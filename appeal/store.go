package appeal

import (
	"context"
	"time"
)

// Store keeps appeals durable and effectively-once. Implementations must be
// safe for concurrent use; every method honours ctx.
//
// The in-memory MemoryStore is in this package; SQL stores live in
// sub-packages. All of them pass the exported suite in appeal/storetest.
type Store interface {
	// Put stores a new appeal (after Normalize) with Version 1. Put is
	// idempotent by ID: a second Put of an appeal already stored changes
	// nothing and returns created == false with a nil error, so that
	// redelivered messages are harmless. Put normalizes a copy (a is a
	// value), so an appeal whose ID was empty is stored under
	// NewID(Network, ExternalID) while the caller's a.ID stays empty: call
	// a.Normalize() before Put to have the ID for Get and Transition.
	Put(ctx context.Context, a Appeal) (created bool, err error)

	// Get returns the stored appeal or an error matching ErrNotFound.
	Get(ctx context.Context, id ID) (Appeal, error)

	// Transition applies one lifecycle step (see Appeal.Apply) if the stored
	// version equals c.ExpectedVersion, and returns the appeal as stored
	// after it. A stale version gives an error matching ErrConflict, a step
	// the lifecycle forbids one matching ErrIllegalTransition.
	Transition(ctx context.Context, id ID, c Change) (Appeal, error)

	// Update changes fields outside the lifecycle (an edited text, new
	// topics, the incident) under the same optimistic concurrency: mutate
	// gets a copy of the stored appeal; if it returns nil and the version
	// still equals expectedVersion, the copy is stored with Version+1.
	// mutate must not change ID, Status, Version or existing History; doing
	// so gives an error matching ErrInvalid. It may append to History.
	Update(ctx context.Context, id ID, expectedVersion int64, mutate func(*Appeal) error) (Appeal, error)

	// List returns the appeals that match f, ordered by CreatedAt then ID.
	List(ctx context.Context, f Filter) ([]Appeal, error)
}

// Filter selects appeals for Store.List. Zero fields do not filter. A
// Store must honour every field (storetest checks them all); one written
// before a field existed (Involves, Incident and ThreadRoot are the
// newest) ignores it, so a caller that cannot trust its store re-checks
// what it gets with Match.
type Filter struct {
	Statuses     []Status
	Municipality string
	Topic        string // any of the appeal's topics or their subtopics (see Appeal.MatchesTopic)
	Executor     string // the executor in the assignment in force
	// Involves keeps the appeals whose assignment in force names this
	// executor, as the executor or as a co-executor: what an executor's
	// staff may see.
	Involves string
	Network  Network
	// Incident keeps the appeals linked to this incident (IncidentID).
	Incident string
	// ThreadRoot keeps one thread: the post with this external id and
	// the messages whose Thread.RootID it is (see Appeal.ThreadRoot).
	// External ids are per network: give Network too (the SQL stores
	// then read that network's rows, not every appeal).
	ThreadRoot string
	// CreatedFrom (inclusive) and CreatedTo (exclusive) bound CreatedAt.
	CreatedFrom, CreatedTo time.Time
	// OverdueAt, when set, keeps only appeals still awaiting an answer whose
	// deadline is before it (see Appeal.Overdue).
	OverdueAt time.Time
	// After continues a listing: only appeals ordered after the one with
	// this CreatedAt and ID are returned. Use the last appeal of a page.
	AfterCreated time.Time
	AfterID      ID
	// Limit caps the result; 0 means no limit.
	Limit int
}

// Match reports whether a passes the filter, paging cursor included (Limit
// is not a per-appeal condition). SQL stores translate the same conditions to
// WHERE clauses; this is the reference.
func (f *Filter) Match(a *Appeal) bool {
	if !f.after(a) {
		return false
	}
	if len(f.Statuses) > 0 {
		ok := false
		for _, s := range f.Statuses {
			if a.Status == s {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if f.Municipality != "" && a.Municipality != f.Municipality {
		return false
	}
	if f.Topic != "" && !a.MatchesTopic(f.Topic) {
		return false
	}
	if f.Executor != "" && a.Executor() != f.Executor {
		return false
	}
	if f.Involves != "" && !a.Involves(f.Involves) {
		return false
	}
	if f.Incident != "" && a.IncidentID != f.Incident {
		return false
	}
	if f.ThreadRoot != "" && a.ThreadRoot() != f.ThreadRoot {
		return false
	}
	if f.Network != "" && a.Network != f.Network {
		return false
	}
	if !f.CreatedFrom.IsZero() && a.CreatedAt.Before(f.CreatedFrom) {
		return false
	}
	if !f.CreatedTo.IsZero() && !a.CreatedAt.Before(f.CreatedTo) {
		return false
	}
	if !f.OverdueAt.IsZero() && !a.Overdue(f.OverdueAt) {
		return false
	}
	return true
}

// Less orders appeals as List does: by CreatedAt, then ID.
func Less(a, b *Appeal) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

// after reports whether a comes after the paging cursor (AfterCreated,
// AfterID); with no cursor every appeal does.
func (f *Filter) after(a *Appeal) bool {
	if f.AfterCreated.IsZero() && f.AfterID == "" {
		return true
	}
	cursor := Appeal{CreatedAt: f.AfterCreated, ID: f.AfterID}
	return Less(&cursor, a)
}

// DeadLetter is an appeal that was refused for good (it fails validation or
// the store rejects its content), kept so that an operator can read it and
// the source can move past it instead of stopping on it.
type DeadLetter struct {
	// ID is the appeal's ID when it had one.
	ID ID
	// Input names the pipeline input (or other entry point) that delivered it.
	Input string
	// Appeal is the appeal as delivered.
	Appeal Appeal
	// Reason is the refusal's error text.
	Reason string
	// At is when it was refused.
	At time.Time
}

// DeadLetterStore is an optional capability of a Store (find it by type
// assertion): a durable place for refused appeals. Implementations must be
// safe for concurrent use.
type DeadLetterStore interface {
	// PutDeadLetter keeps d. Keeping the same appeal twice is harmless.
	PutDeadLetter(ctx context.Context, d DeadLetter) error
	// DeadLetters returns the kept dead letters, oldest first, at most
	// limit of them (0: all).
	DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error)
}
