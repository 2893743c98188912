package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

const appealCols = `id, network, status, municipality, executor, deadline, created_at, version, history_len, doc`

// Put implements appeal.Store: it stores a new appeal with Version 1, or
// reports created == false and changes nothing when the ID is already stored.
//
// Concurrent Put calls are coalesced (group commit): while one transaction
// is being written, the calls that arrive queue up and the next transaction
// writes all of them, up to the WithMaxBatch size. A lone Put is written at
// once; under load this turns many small commits into a few big ones.
func (s *Store) Put(ctx context.Context, a appeal.Appeal) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("sqlstore: put: %w", err)
	}
	a = a.Clone()
	if err := a.Normalize(); err != nil {
		return false, fmt.Errorf("sqlstore: put: %w", err)
	}
	if s.maxBatch == 1 {
		created, err := s.putNormalized(ctx, []appeal.Appeal{a})
		if err != nil {
			return false, fmt.Errorf("sqlstore: put %s: %w", a.ID, err)
		}
		return created[0], nil
	}
	return s.group.put(ctx, s, a)
}

// PutBatch stores many appeals at once, like Put each, in transactions of
// up to WithMaxBatch appeals: created[i] reports whether appeals[i] was new.
// An appeal that appears twice counts as created only the first time. An
// invalid appeal fails the whole call before anything is written; the error
// names its index.
func (s *Store) PutBatch(ctx context.Context, appeals []appeal.Appeal) ([]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: put batch: %w", err)
	}
	norm := make([]appeal.Appeal, len(appeals))
	for i := range appeals {
		norm[i] = appeals[i].Clone()
		if err := norm[i].Normalize(); err != nil {
			return nil, fmt.Errorf("sqlstore: put batch: appeal %d: %w", i, err)
		}
	}
	created := make([]bool, 0, len(norm))
	for start := 0; start < len(norm); start += s.maxBatch {
		part, err := s.putNormalized(ctx, norm[start:min(start+s.maxBatch, len(norm))])
		if err != nil {
			return created, fmt.Errorf("sqlstore: put batch: appeals %d..: %w", start, err)
		}
		created = append(created, part...)
	}
	return created, nil
}

// putNormalized writes normalized appeals in one transaction.
func (s *Store) putNormalized(ctx context.Context, as []appeal.Appeal) (created []bool, err error) {
	created = make([]bool, len(as))
	rows := make([]row, 0, len(as))
	first := make(map[string]int, len(as)) // id → index of first occurrence
	for i := range as {
		a := &as[i]
		if _, dup := first[string(a.ID)]; dup {
			continue
		}
		first[string(a.ID)] = i
		a.Version = 1
		r, err := encode(a)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	// Concurrent batches on PostgreSQL take row locks in ID order, so two
	// batches that share appeals wait for each other instead of
	// deadlocking.
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.id, b.id) })

	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	args := make([]any, 0, len(rows)*10)
	for _, r := range rows {
		args = append(args, r.id, r.network, r.status, r.municipality, r.executor, r.deadline, r.createdAt, int64(1), r.historyLen, r.doc)
	}
	q := `INSERT INTO appeals (` + appealCols + `) VALUES ` + tuples(len(rows), 10) + ` ON CONFLICT (id) DO NOTHING RETURNING id`
	rs, err := tx.QueryContext(ctx, rebind(s.dialect, q), args...)
	if err != nil {
		return nil, err
	}
	var fresh []*appeal.Appeal
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			rs.Close()
			return nil, err
		}
		i := first[id]
		created[i] = true
		fresh = append(fresh, &as[i])
	}
	err = rs.Err()
	rs.Close()
	if err != nil {
		return nil, err
	}
	if len(fresh) == 0 {
		_ = tx.Rollback()
		return created, nil
	}
	if err := insertTopics(ctx, tx, s.dialect, fresh); err != nil {
		return nil, err
	}
	var events []any
	for _, a := range fresh {
		for i := range a.History {
			ev, err := eventArgs(a.ID, i, &a.History[i])
			if err != nil {
				return nil, err
			}
			events = append(events, ev...)
		}
	}
	if err := insertEvents(ctx, tx, s.dialect, events); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return created, nil
}

// tuples returns n "(?, ?, ...)" groups of width marks each.
func tuples(n, width int) string {
	one := "(" + placeholders(width) + ")"
	return strings.Repeat(one+", ", n-1) + one
}

// insertTopics writes the topic rows of appeals, one row per distinct code.
func insertTopics(ctx context.Context, tx *sql.Tx, d Dialect, as []*appeal.Appeal) error {
	var args []any
	for _, a := range as {
		seen := make(map[string]bool, len(a.Topics))
		for _, t := range a.Topics {
			if t.Code == "" || seen[t.Code] {
				continue
			}
			seen[t.Code] = true
			args = append(args, string(a.ID), t.Code)
		}
	}
	return insertRows(ctx, tx, d, `INSERT INTO appeal_topics (appeal_id, code) VALUES `, 2, args)
}

// insertEvents writes prepared appeal_history rows (7 values each).
func insertEvents(ctx context.Context, tx *sql.Tx, d Dialect, args []any) error {
	return insertRows(ctx, tx, d, `INSERT INTO appeal_history (appeal_id, seq, at, actor, from_status, to_status, note) VALUES `, 7, args)
}

// insertRows runs multi-row INSERTs of width-wide rows, keeping every
// statement well under the bind-parameter limits (SQLite 32766, PostgreSQL
// 65535).
func insertRows(ctx context.Context, tx *sql.Tx, d Dialect, prefix string, width int, args []any) error {
	const maxParams = 8000
	per := maxParams / width
	for start := 0; start < len(args); start += per * width {
		part := args[start:min(start+per*width, len(args))]
		if _, err := tx.ExecContext(ctx, rebind(d, prefix+tuples(len(part)/width, width)), part...); err != nil {
			return err
		}
	}
	return nil
}

// groupCommit coalesces concurrent Put calls. Up to Store.leaders callers
// at a time are leaders: a leader writes its own appeal and whatever was
// queued (up to the batch size) in one transaction, hands the results out,
// and passes leadership, with the next batch already taken from the queue,
// to the first caller still waiting. Callers queue only while every leader
// slot is taken, so a lone Put is written at once.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*putReq
	leaders int
}

type putReq struct {
	ctx  context.Context
	a    appeal.Appeal
	done chan putRes    // the outcome, sent once
	lead chan []*putReq // the batch this caller must write as leader
}

type putRes struct {
	created bool
	err     error
}

// take removes up to max-1 queued requests and returns them after first.
// Call it with g.mu held.
func (g *groupCommit) take(first *putReq, max int) []*putReq {
	n := min(len(g.queue), max-1)
	batch := make([]*putReq, 0, n+1)
	batch = append(batch, first)
	batch = append(batch, g.queue[:n]...)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	return batch
}

func (g *groupCommit) put(ctx context.Context, s *Store, a appeal.Appeal) (bool, error) {
	req := &putReq{ctx: ctx, a: a, done: make(chan putRes, 1), lead: make(chan []*putReq, 1)}
	var batch []*putReq
	g.mu.Lock()
	if g.leaders < s.leaders {
		g.leaders++
		batch = g.take(req, s.maxBatch) // the queue is empty here
		g.mu.Unlock()
	} else {
		g.queue = append(g.queue, req)
		g.mu.Unlock()
		// Waiting is not cut short by ctx: the wait lasts a transaction
		// or two, and a request whose ctx ends is dropped by its leader
		// before it is written.
		select {
		case r := <-req.done:
			return r.created, r.err
		case batch = <-req.lead:
		}
	}

	g.flush(ctx, s, batch)

	g.mu.Lock()
	if len(g.queue) > 0 {
		next := g.queue[0]
		g.queue = g.queue[1:]
		nb := g.take(next, s.maxBatch)
		g.mu.Unlock()
		next.lead <- nb
	} else {
		g.leaders--
		g.mu.Unlock()
	}
	r := <-req.done // our own request was in our batch
	return r.created, r.err
}

// flush writes one batch and answers every request in it.
func (g *groupCommit) flush(ctx context.Context, s *Store, batch []*putReq) {
	live := batch[:0:0]
	as := make([]appeal.Appeal, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- putRes{err: fmt.Errorf("sqlstore: put %s: %w", r.a.ID, err)}
			continue
		}
		live = append(live, r)
		as = append(as, r.a)
	}
	if len(live) == 0 {
		return
	}
	// The transaction outlives the leader's own cancellation: it writes
	// for every caller in the batch, and it is short.
	created, err := s.putNormalized(context.WithoutCancel(ctx), as)
	for i, r := range live {
		if err != nil {
			r.done <- putRes{err: fmt.Errorf("sqlstore: put %s: %w", r.a.ID, err)}
			continue
		}
		r.done <- putRes{created: created[i]}
	}
}

// Transition implements appeal.Store.
func (s *Store) Transition(ctx context.Context, id appeal.ID, c appeal.Change) (appeal.Appeal, error) {
	a, err := s.change(ctx, id, c.ExpectedVersion, false, func(a *appeal.Appeal) error { return a.Apply(c) })
	if err != nil {
		return appeal.Appeal{}, fmt.Errorf("sqlstore: transition %s to %s: %w", id, c.To, err)
	}
	return a, nil
}

// Update implements appeal.Store.
func (s *Store) Update(ctx context.Context, id appeal.ID, expectedVersion int64, mutate func(*appeal.Appeal) error) (appeal.Appeal, error) {
	a, err := s.change(ctx, id, expectedVersion, true, func(a *appeal.Appeal) error {
		before := a.Clone()
		if err := mutate(a); err != nil {
			return err
		}
		return appeal.CheckUpdate(&before, a)
	})
	if err != nil {
		return appeal.Appeal{}, fmt.Errorf("sqlstore: update %s: %w", id, err)
	}
	return a, nil
}

// change reads the appeal, lets fn change a copy, and writes the copy back
// only if the version is still the expected one.
func (s *Store) change(ctx context.Context, id appeal.ID, expected int64, topics bool, fn func(*appeal.Appeal) error) (appeal.Appeal, error) {
	if err := ctx.Err(); err != nil {
		return appeal.Appeal{}, err
	}
	cur, err := s.get(ctx, id)
	if err != nil {
		return appeal.Appeal{}, err
	}
	if cur.Version != expected {
		return appeal.Appeal{}, &appeal.ConflictError{ID: id, Expected: expected, Actual: cur.Version}
	}
	next := cur.Clone()
	if err := fn(&next); err != nil {
		return appeal.Appeal{}, err
	}
	if err := next.Normalize(); err != nil {
		return appeal.Appeal{}, err
	}
	next.Version = cur.Version + 1
	if err := s.write(ctx, &cur, &next, topics && !sameTopics(&cur, &next)); err != nil {
		return appeal.Appeal{}, err
	}
	return next, nil
}

func sameTopics(a, b *appeal.Appeal) bool {
	if len(a.Topics) != len(b.Topics) {
		return false
	}
	for i := range a.Topics {
		if a.Topics[i].Code != b.Topics[i].Code {
			return false
		}
	}
	return true
}

// write stores next over cur with UPDATE ... WHERE version = cur.Version.
func (s *Store) write(ctx context.Context, cur, next *appeal.Appeal, topics bool) (err error) {
	r, err := encode(next)
	if err != nil {
		return err
	}
	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	res, err := tx.ExecContext(ctx, s.q.update, r.network, r.status, r.municipality, r.executor, r.deadline, r.createdAt,
		next.Version, int64(len(next.History)), r.doc, r.id, cur.Version)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		// Someone else wrote first; report what is stored now.
		_ = tx.Rollback()
		var actual int64
		switch err := s.db.QueryRowContext(ctx, s.q.version, r.id).Scan(&actual); {
		case errors.Is(err, sql.ErrNoRows):
			return appeal.ErrNotFound
		case err != nil:
			return fmt.Errorf("%w (and reading the stored version failed: %v)", &appeal.ConflictError{ID: next.ID, Expected: cur.Version}, err)
		}
		return &appeal.ConflictError{ID: next.ID, Expected: cur.Version, Actual: actual}
	}
	if topics {
		if _, err := tx.ExecContext(ctx, s.q.deleteTopics, r.id); err != nil {
			return err
		}
		if err := insertTopics(ctx, tx, s.dialect, []*appeal.Appeal{next}); err != nil {
			return err
		}
	}
	var events []any
	for i := len(cur.History); i < len(next.History); i++ {
		ev, err := eventArgs(next.ID, i, &next.History[i])
		if err != nil {
			return err
		}
		events = append(events, ev...)
	}
	if err := insertEvents(ctx, tx, s.dialect, events); err != nil {
		return err
	}
	return tx.Commit()
}

// Save implements source.Checkpoints: it replaces the cursor under key in
// one statement, so a crash leaves the old or the new cursor.
func (s *Store) Save(ctx context.Context, key, cursor string) error {
	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: save checkpoint %q: %w", key, err)
	}
	defer unlock()
	if _, err := s.db.ExecContext(ctx, s.q.saveCheckpoint, key, cursor, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("sqlstore: save checkpoint %q: %w", key, err)
	}
	return nil
}
