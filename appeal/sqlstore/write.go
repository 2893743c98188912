package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

const appealCols = `id, network, status, municipality, executor, co_executors, incident_id, thread_root, deadline, created_at, version, history_len, doc`

// appealWidth is how many columns appealCols names.
var appealWidth = strings.Count(appealCols, ",") + 1

var _ appeal.BatchStore = (*Store)(nil)

// Put implements appeal.Store: it stores a new appeal with Version 1, or
// reports created == false and changes nothing when the ID is already stored.
// An appeal already routed, with its history, is stored in one write.
//
// Concurrent Put calls are coalesced (group commit): the calls that arrive
// while a transaction is being written queue up and the next transaction
// writes all of them, up to the WithMaxBatch size; a lone Put is written at
// once. Put returns when ctx ends even if the database does not answer (the
// transaction itself is cancelled once every caller it writes for has gone),
// with ctx's error; the appeal may then have been stored or not, and putting
// it again is harmless.
func (s *Store) Put(ctx context.Context, a appeal.Appeal) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("sqlstore: put: %w", err)
	}
	a = a.Clone()
	if err := a.Normalize(); err != nil {
		return false, fmt.Errorf("sqlstore: put: %w", err)
	}
	if s.readOnly {
		return false, fmt.Errorf("sqlstore: put %s: %w", a.RedactedID(), ErrReadOnly)
	}
	if s.maxBatch == 1 {
		created, err := s.putOne(ctx, &a)
		if err != nil {
			return false, fmt.Errorf("sqlstore: put %s: %w", a.RedactedID(), err)
		}
		return created, nil
	}
	return s.group.put(ctx, s, a)
}

// putOne writes one normalized appeal in its own transaction.
func (s *Store) putOne(ctx context.Context, a *appeal.Appeal) (bool, error) {
	ps, err := prepareRows([]appeal.Appeal{*a}, nil)
	if err != nil {
		return false, err
	}
	created, err := s.writeBatch(ctx, nil, ps, nil)
	if err != nil {
		return false, err
	}
	return created[0], nil
}

// PutBatch implements appeal.BatchStore: it writes appeals in transactions
// of up to WithMaxBatch appeals, each transaction holding the appeals, their
// topics and history and (in the last one) the checkpoint. Invalid appeals
// and appeals the database refuses are left out and reported in a
// *appeal.BatchError; the others are stored. Errors matching
// appeal.ErrUnavailable or ctx's mean that the transaction in flight was not
// committed (earlier ones were); retrying the whole batch is harmless.
func (s *Store) PutBatch(ctx context.Context, appeals []appeal.Appeal, save ...appeal.Checkpoint) ([]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: put batch: %w", err)
	}
	if s.readOnly {
		return nil, fmt.Errorf("sqlstore: put batch: %w", ErrReadOnly)
	}
	var bad appeal.BatchError
	norm := make([]appeal.Appeal, len(appeals))
	for i := range appeals {
		norm[i] = appeals[i].Clone()
		if err := norm[i].Normalize(); err != nil {
			bad.Items = append(bad.Items, appeal.ItemError{Index: i, ID: norm[i].ID, Err: err})
		}
	}
	ps, err := prepareRows(norm, bad.Items)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: put batch: %w", err)
	}
	created := make([]bool, len(appeals))
	for start := 0; start < len(ps); start += s.maxBatch {
		part := ps[start:min(start+s.maxBatch, len(ps))]
		var cp []appeal.Checkpoint
		if start+len(part) == len(ps) && len(bad.Items) == 0 {
			cp = save
		}
		res, refused, err := s.writeOrSplit(ctx, nil, part, cp)
		if err != nil {
			return created, fmt.Errorf("sqlstore: put batch: appeals from #%d: %w", part[0].idx, err)
		}
		for i, p := range part {
			created[p.idx] = res[i]
		}
		bad.Items = append(bad.Items, refused...)
	}
	if len(ps) == 0 && len(bad.Items) == 0 && len(save) > 0 {
		for _, c := range save {
			if err := s.Save(ctx, c.Key, c.Cursor); err != nil {
				return created, err
			}
		}
	}
	if len(bad.Items) > 0 {
		slices.SortFunc(bad.Items, func(a, b appeal.ItemError) int { return a.Index - b.Index })
		return created, &bad
	}
	return created, nil
}

// pending is one appeal on its way into the database.
type pending struct {
	idx int            // position in the caller's batch
	a   *appeal.Appeal // normalized
	r   row
}

// prepareRows encodes the appeals that are not refused (skip, in index
// order) and appear for the first time in the batch, sorted by ID:
// concurrent batches on PostgreSQL then take row locks in the same order and
// wait for each other instead of deadlocking.
func prepareRows(as []appeal.Appeal, skip []appeal.ItemError) ([]pending, error) {
	ps := make([]pending, 0, len(as))
	var seen map[appeal.ID]struct{}
	if len(as) > 1 {
		seen = make(map[appeal.ID]struct{}, len(as))
	}
	k := 0
	for i := range as {
		if k < len(skip) && skip[k].Index == i {
			k++
			continue
		}
		a := &as[i]
		if seen != nil {
			if _, dup := seen[a.ID]; dup {
				continue
			}
			seen[a.ID] = struct{}{}
		}
		a.Version = 1
		r, err := encode(a)
		if err != nil {
			return nil, err
		}
		ps = append(ps, pending{idx: i, a: a, r: r})
	}
	slices.SortFunc(ps, func(a, b pending) int { return strings.Compare(a.r.id, b.r.id) })
	return ps, nil
}

// writeOrSplit writes ps in one transaction; when the database refuses it
// for a reason other than an outage or ctx, it writes each appeal alone, so
// that one refused appeal does not fail the others, and reports the refused
// ones. The checkpoints are saved only if nothing was refused.
func (s *Store) writeOrSplit(ctx context.Context, gate *commitGate, ps []pending, save []appeal.Checkpoint) (created []bool, refused []appeal.ItemError, err error) {
	created, err = s.writeBatch(ctx, gate, ps, save)
	// Not a refusal: an outage, ctx, or a group commit caller leaving.
	retryable := func(err error) bool {
		return errors.Is(err, appeal.ErrUnavailable) || errors.Is(err, errCallerLeft) || ctx.Err() != nil
	}
	if err == nil || retryable(err) {
		return created, nil, err
	}
	if len(ps) == 1 && len(save) == 0 {
		return make([]bool, 1), []appeal.ItemError{{Index: ps[0].idx, ID: ps[0].a.ID, Err: err}}, nil
	}
	created = make([]bool, len(ps))
	for i := range ps {
		one, err := s.writeBatch(ctx, gate, ps[i:i+1], nil)
		switch {
		case err == nil:
			created[i] = one[0]
		case retryable(err):
			return created, refused, err
		default:
			refused = append(refused, appeal.ItemError{Index: ps[i].idx, ID: ps[i].a.ID, Err: err})
		}
	}
	if len(refused) == 0 {
		for _, c := range save {
			if err := s.Save(ctx, c.Key, c.Cursor); err != nil {
				return created, nil, err
			}
		}
	}
	return created, refused, nil
}

// writeBatch writes ps (distinct IDs) and the checkpoints in one
// transaction and reports which appeals were new.
func (s *Store) writeBatch(ctx context.Context, gate *commitGate, ps []pending, save []appeal.Checkpoint) (created []bool, err error) {
	err = s.inTxGated(ctx, gate, func(w *writer) error {
		var err error
		created, err = w.insertAppeals(ctx, ps)
		if err != nil {
			return err
		}
		if err := w.insertChildren(ctx, ps, created); err != nil {
			return err
		}
		for _, c := range save {
			if _, err := w.exec(ctx, s.q.saveCheckpoint, c.Key, c.Cursor, time.Now().UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
	return created, err
}

// insertAppeals inserts the appeal rows, skipping IDs already stored, and
// reports which were inserted.
func (w *writer) insertAppeals(ctx context.Context, ps []pending) ([]bool, error) {
	created := make([]bool, len(ps))
	pos := make(map[string]int, len(ps))
	for i := range ps {
		pos[ps[i].r.id] = i
	}
	mark := func(q string, args []any) error {
		rs, err := w.query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var id string
			if err := rs.Scan(&id); err != nil {
				return err
			}
			created[pos[id]] = true
		}
		return rs.Err()
	}
	if w.s.arrays {
		n := len(ps)
		text := func() []string { return make([]string, n) }
		ids, networks, statuses, munis, execs, cos, incidents, roots, docs := text(), text(), text(), text(), text(), text(), text(), text(), text()
		deadlines, createdAt, hlens := make([]int64, n), make([]int64, n), make([]int64, n)
		for i := range ps {
			r := &ps[i].r
			ids[i], networks[i], statuses[i], munis[i], execs[i], docs[i] = r.id, r.network, r.status, r.municipality, r.executor, r.doc
			cos[i], incidents[i], roots[i] = r.coExecutors, r.incidentID, r.threadRoot
			deadlines[i], createdAt[i], hlens[i] = r.deadline, r.createdAt, r.historyLen
		}
		return created, mark(pgInsertAppeals, []any{ids, networks, statuses, munis, execs, cos, incidents, roots, deadlines, createdAt, hlens, docs})
	}
	err := w.chunked("appeals", len(ps), appealWidth, func(n int) string {
		if w.s.dialect == SQLite {
			return sqliteInsert + `appeals (` + appealCols + `) VALUES ` + tuples(n, appealWidth) + ` RETURNING id`
		}
		return `INSERT INTO appeals (` + appealCols + `) VALUES ` + tuples(n, appealWidth) + ` ON CONFLICT (id) DO NOTHING RETURNING id`
	}, func(i int, args []any) []any {
		r := &ps[i].r
		return append(args, r.id, r.network, r.status, r.municipality, r.executor, r.coExecutors, r.incidentID, r.threadRoot,
			r.deadlineArg(), r.createdAt, int64(1), r.historyLen, r.doc)
	}, mark)
	return created, err
}

// pgInsertAppeals inserts a whole batch in one statement whose text never
// changes (so it is prepared once per connection): one array per column.
const pgInsertAppeals = `INSERT INTO appeals (` + appealCols + `)
	SELECT id, network, status, municipality, executor, co_executors, incident_id, thread_root,
		NULLIF(deadline, -9223372036854775808), created_at, 1, history_len, doc::jsonb
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
		$9::bigint[], $10::bigint[], $11::bigint[], $12::text[])
		AS t(id, network, status, municipality, executor, co_executors, incident_id, thread_root, deadline, created_at, history_len, doc)
	ON CONFLICT (id) DO NOTHING RETURNING id`

const (
	pgInsertTopics  = `INSERT INTO appeal_topics (appeal_id, code) SELECT * FROM unnest($1::text[], $2::text[])`
	pgInsertHistory = `INSERT INTO appeal_history (appeal_id, seq, at, actor, from_status, to_status, note)
	SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`
)

// insertChildren writes the topic and history rows of the appeals that
// were created.
func (w *writer) insertChildren(ctx context.Context, ps []pending, created []bool) error {
	var topics []topicRow
	var events []eventRow
	for i := range ps {
		if !created[i] {
			continue
		}
		a := ps[i].a
		topics = appendTopics(topics, a)
		for j := range a.History {
			ev, err := newEventRow(a.ID, j, &a.History[j])
			if err != nil {
				return err
			}
			events = append(events, ev)
		}
	}
	return w.insertTopicsEvents(ctx, topics, events)
}

type topicRow struct{ id, code string }

// appendTopics adds a's topic rows, one per distinct code.
func appendTopics(rows []topicRow, a *appeal.Appeal) []topicRow {
	start := len(rows)
next:
	for _, t := range a.Topics {
		if t.Code == "" {
			continue
		}
		for _, r := range rows[start:] {
			if r.code == t.Code {
				continue next
			}
		}
		rows = append(rows, topicRow{string(a.ID), t.Code})
	}
	return rows
}

func (w *writer) insertTopicsEvents(ctx context.Context, topics []topicRow, events []eventRow) error {
	if w.s.arrays {
		if len(topics) > 0 {
			ids, codes := make([]string, len(topics)), make([]string, len(topics))
			for i, t := range topics {
				ids[i], codes[i] = t.id, t.code
			}
			if _, err := w.exec(ctx, pgInsertTopics, ids, codes); err != nil {
				return err
			}
		}
		if len(events) > 0 {
			n := len(events)
			ids, ats, actors, froms, tos, notes := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			seqs := make([]int64, n)
			for i, e := range events {
				ids[i], seqs[i], ats[i], actors[i], froms[i], tos[i], notes[i] = e.id, e.seq, e.at, e.actor, e.from, e.to, e.note
			}
			if _, err := w.exec(ctx, pgInsertHistory, ids, seqs, ats, actors, froms, tos, notes); err != nil {
				return err
			}
		}
		return nil
	}
	execAll := func(q string, args []any) error {
		_, err := w.exec(ctx, q, args...)
		return err
	}
	err := w.chunked("topics", len(topics), 2, func(n int) string {
		return w.s.insertInto() + `appeal_topics (appeal_id, code) VALUES ` + tuples(n, 2)
	}, func(i int, args []any) []any { return append(args, topics[i].id, topics[i].code) }, execAll)
	if err != nil {
		return err
	}
	return w.chunked("history", len(events), 7, func(n int) string {
		return w.s.insertInto() + `appeal_history (appeal_id, seq, at, actor, from_status, to_status, note) VALUES ` + tuples(n, 7)
	}, func(i int, args []any) []any {
		e := &events[i]
		return append(args, e.id, e.seq, e.at, e.actor, e.from, e.to, e.note)
	}, execAll)
}

// sqliteInsert begins the SQLite writer's INSERTs. OR IGNORE is ON
// CONFLICT DO NOTHING for every constraint; the rows written never violate
// one but the primary key (their values are never NULL, the tables have no
// CHECK), and a statement that cannot abort half-way needs no statement
// journal: SQLite then skips copying every page it touches (about 6% of a
// batch's time).
const sqliteInsert = `INSERT OR IGNORE INTO `

// insertInto begins a multi-row INSERT of child rows.
func (s *Store) insertInto() string {
	if s.dialect == SQLite {
		return sqliteInsert
	}
	return `INSERT INTO `
}

// chunkSizes are the row counts of the multi-row statements the writer
// prepares: a batch of n rows runs as n/64 statements of 64 rows, then 8s,
// then single rows, so at most 3 statement texts per table exist, each
// prepared once per connection, and a batch of 500 needs 18 statements
// instead of 500.
var chunkSizes = [...]int{64, 8, 1}

// chunked runs rows 0..n-1 through statements of chunkSizes rows: sql(k)
// builds the statement (named name) for k rows, add appends row i's width
// values, and run executes a statement with its arguments.
func (w *writer) chunked(name string, n, width int, sql func(k int) string, add func(i int, args []any) []any, run func(q string, args []any) error) error {
	args := make([]any, 0, min(n, chunkSizes[0])*width)
	i := 0
	for _, k := range chunkSizes {
		for ; n-i >= k; i += k {
			args = args[:0]
			for j := i; j < i+k; j++ {
				args = add(j, args)
			}
			if err := run(w.s.stmtText(name, sql, k), args); err != nil {
				return err
			}
		}
	}
	return nil
}

// stmtText returns the statement name for k rows, sql(k) in the dialect's
// placeholders, built once and kept: the texts double as the keys of the
// prepared statement cache.
func (s *Store) stmtText(name string, sql func(k int) string, k int) string {
	key := textKey{name, k}
	if q, ok := s.texts.Load(key); ok {
		return q.(string)
	}
	q := rebind(s.dialect, sql(k))
	s.texts.Store(key, q)
	return q
}

type textKey struct {
	name string
	rows int
}

// tuples returns n "(?, ?, ...)" groups of width marks each.
func tuples(n, width int) string {
	one := "(" + placeholders(width) + ")"
	return strings.Repeat(one+", ", n-1) + one
}

// groupCommit coalesces concurrent Put calls. A caller queues its request
// and, if fewer than Store.leaders writers run, starts one; a writer takes
// up to WithMaxBatch requests off the queue, writes them in one
// transaction, answers them, and goes on until the queue is empty.
//
// A caller whose ctx ends returns ctx's error at once, unless its
// transaction is already committing (then it waits for the outcome, and
// on PostgreSQL that COMMIT is cancelled only when every caller in it has
// left; SQLite's COMMIT runs to its end). The writer then rolls the
// transaction back and writes it again without the caller that left. A
// COMMIT interrupted because all its callers left may have committed all
// the same, so the writer reads the rows back before answering (see
// allStored). So a Put that returned nil stored its appeal, one that
// returned an error did not, and with a frozen database every caller still
// returns when its ctx ends.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*putReq
	writers int
}

// errCallerLeft rolls back a group commit transaction one of whose callers
// left before COMMIT.
var errCallerLeft = errors.New("sqlstore: a caller left the group commit")

type putReq struct {
	ctx  context.Context
	a    appeal.Appeal
	done chan putRes // the outcome, sent once (buffered)

	mu         sync.Mutex
	committing bool // its transaction is past the last check
	left       bool // the caller returned ctx's error
}

type putRes struct {
	created bool
	err     error
}

func (g *groupCommit) put(ctx context.Context, s *Store, a appeal.Appeal) (bool, error) {
	req := &putReq{ctx: ctx, a: a, done: make(chan putRes, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, req)
	if g.writers < s.leaders {
		g.writers++
		go g.write(s)
	}
	g.mu.Unlock()
	select {
	case r := <-req.done:
		return r.created, r.err
	case <-ctx.Done():
	}
	req.mu.Lock()
	if !req.committing {
		req.left = true
		req.mu.Unlock()
		return false, fmt.Errorf("sqlstore: put %s: %w", a.RedactedID(), ctx.Err())
	}
	req.mu.Unlock()
	r := <-req.done
	return r.created, r.err
}

// write drains the queue batch by batch, then ends.
func (g *groupCommit) write(s *Store) {
	for {
		g.mu.Lock()
		n := min(len(g.queue), s.maxBatch)
		if n == 0 {
			g.writers--
			g.mu.Unlock()
			return
		}
		batch := slices.Clone(g.queue[:n])
		rest := copy(g.queue, g.queue[n:])
		clear(g.queue[rest:])
		g.queue = g.queue[:rest]
		g.mu.Unlock()
		g.flush(s, batch)
	}
}

// flush writes one batch and answers every request in it, writing again
// without the callers that left (see groupCommit).
func (g *groupCommit) flush(s *Store, batch []*putReq) {
	for {
		live := batch[:0]
		for _, r := range batch {
			r.mu.Lock()
			gone := r.left || r.ctx.Err() != nil
			r.left = r.left || gone
			r.mu.Unlock()
			if gone {
				r.done <- putRes{err: fmt.Errorf("sqlstore: put %s: %w", r.a.RedactedID(), context.Cause(r.ctx))}
				continue
			}
			live = append(live, r)
		}
		batch = live
		if len(live) == 0 {
			return
		}
		created, refused, err := g.writeLive(s, live)
		if errors.Is(err, errCallerLeft) {
			continue
		}
		for i, r := range live {
			res := putRes{}
			switch {
			case err != nil:
				res.err = err
			case refused[i] != nil:
				res.err = refused[i]
			default:
				res.created = created[i]
			}
			if res.err != nil {
				res.err = fmt.Errorf("sqlstore: put %s: %w", r.a.RedactedID(), res.err)
			}
			r.done <- res
		}
		return
	}
}

// writeLive writes the requests' appeals in one transaction whose
// statements are cancelled as soon as one caller leaves and whose COMMIT
// only when all have; refused[i] is why the database refused request i.
// errCallerLeft means: write again without the callers that left.
func (g *groupCommit) writeLive(s *Store, reqs []*putReq) (created []bool, refused []error, err error) {
	anyLeft, cancelAny := context.WithCancel(context.Background())
	defer cancelAny()
	allLeft, cancelAll := context.WithCancel(context.Background())
	defer cancelAll()
	remaining := int64(len(reqs))
	var mu sync.Mutex
	for _, r := range reqs {
		stop := context.AfterFunc(r.ctx, func() {
			cancelAny()
			mu.Lock()
			remaining--
			if remaining == 0 {
				cancelAll()
			}
			mu.Unlock()
		})
		defer stop()
	}
	gate := &commitGate{ctx: allLeft, check: func() error {
		for _, r := range reqs {
			r.mu.Lock()
		}
		defer func() {
			for _, r := range reqs {
				r.mu.Unlock()
			}
		}()
		for _, r := range reqs {
			if r.left || r.ctx.Err() != nil {
				for _, r := range reqs {
					r.committing = false
				}
				return errCallerLeft
			}
			r.committing = true
		}
		return nil
	}}
	uncommit := func() {
		for _, r := range reqs {
			r.mu.Lock()
			r.committing = false
			r.mu.Unlock()
		}
	}

	as := make([]appeal.Appeal, len(reqs))
	for i, r := range reqs {
		as[i] = r.a
	}
	ps, err := prepareRows(as, nil)
	if err != nil {
		return nil, nil, err
	}
	res, items, err := s.writeOrSplit(anyLeft, gate, ps, nil)
	if errors.Is(err, errCommitUnknown) {
		// Every caller is waiting for this answer (they were
		// committing), so it must be the truth: an error would tell
		// them their appeals were not stored.
		if stored, cerr := s.allStored(ps); cerr == nil && stored {
			return make([]bool, len(reqs)), make([]error, len(reqs)), nil
		}
		uncommit()
		return nil, nil, errCallerLeft
	}
	if err != nil {
		if anyLeft.Err() != nil && allLeft.Err() == nil || errors.Is(err, errCallerLeft) {
			uncommit()
			return nil, nil, errCallerLeft
		}
		if allLeft.Err() != nil {
			uncommit()
			return nil, nil, errCallerLeft // everyone left: the next round answers them
		}
		return nil, nil, err
	}
	created = make([]bool, len(reqs))
	for i, p := range ps {
		created[p.idx] = res[i]
	}
	refused = make([]error, len(reqs))
	for _, it := range items {
		refused[it.Index] = it.Err
	}
	return created, refused, nil
}

// outcomeCheckTimeout bounds reading back an interrupted COMMIT's rows.
const outcomeCheckTimeout = 5 * time.Second

// allStored reports whether every appeal of ps is in the table: after a
// COMMIT whose outcome is unknown, all are if it committed (it was one
// transaction) and, being Puts of new rows, none need be otherwise. The
// callers have left, so it runs on its own short context; an error leaves
// the outcome unknown, which the caller reports as not stored (the residue
// of an outage at the very moment of COMMIT).
func (s *Store) allStored(ps []pending) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), outcomeCheckTimeout)
	defer cancel()
	ids := make([]any, len(ps))
	for i := range ps {
		ids[i] = string(ps[i].a.ID)
	}
	var n int64
	q := rebind(s.dialect, `SELECT COUNT(*) FROM appeals WHERE id IN (`+placeholders(len(ids))+`)`)
	if err := s.db.QueryRowContext(ctx, q, ids...).Scan(&n); err != nil {
		return false, err
	}
	return n == int64(len(ps)), nil
}

// Transition implements appeal.Store.
func (s *Store) Transition(ctx context.Context, id appeal.ID, c appeal.Change) (appeal.Appeal, error) {
	a, err := s.change(ctx, id, c.ExpectedVersion, false, func(a *appeal.Appeal) error { return a.Apply(c) })
	if err != nil {
		return appeal.Appeal{}, fmt.Errorf("sqlstore: transition %s to %s: %w", id.Redacted(), c.To, ctxErr(ctx, err))
	}
	return a, nil
}

// Update implements appeal.Store.
func (s *Store) Update(ctx context.Context, id appeal.ID, expectedVersion int64, mutate func(*appeal.Appeal) error) (appeal.Appeal, error) {
	a, err := s.change(ctx, id, expectedVersion, true, appeal.CheckedUpdate(mutate))
	if err != nil {
		return appeal.Appeal{}, fmt.Errorf("sqlstore: update %s: %w", id.Redacted(), ctxErr(ctx, err))
	}
	return a, nil
}

// change reads the appeal, lets fn change a copy, and writes the copy back
// only if the version is still the expected one.
func (s *Store) change(ctx context.Context, id appeal.ID, expected int64, topics bool, fn func(*appeal.Appeal) error) (appeal.Appeal, error) {
	cur, next, err := s.prepareChange(ctx, id, expected, fn)
	if err != nil {
		return appeal.Appeal{}, err
	}
	if err := s.write(ctx, &cur, &next, topics && !sameTopics(&cur, &next)); err != nil {
		return appeal.Appeal{}, err
	}
	return next, nil
}

// prepareChange reads the appeal at the expected version and returns it
// with the copy fn changed, normalised and one version on.
func (s *Store) prepareChange(ctx context.Context, id appeal.ID, expected int64, fn func(*appeal.Appeal) error) (cur, next appeal.Appeal, err error) {
	if err := ctx.Err(); err != nil {
		return cur, next, err
	}
	if s.readOnly {
		return cur, next, ErrReadOnly
	}
	if err := appeal.CheckID(id); err != nil {
		return cur, next, err
	}
	if cur, err = s.get(ctx, id); err != nil {
		return cur, next, err
	}
	if cur.Version != expected {
		return cur, next, &appeal.ConflictError{ID: id, Expected: expected, Actual: cur.Version}
	}
	next = cur.Clone()
	if err := fn(&next); err != nil {
		return cur, next, err
	}
	if err := next.Normalize(); err != nil {
		return cur, next, err
	}
	next.Version = cur.Version + 1
	return cur, next, nil
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
func (s *Store) write(ctx context.Context, cur, next *appeal.Appeal, topics bool) error {
	r, err := encode(next)
	if err != nil {
		return err
	}
	var conflict bool
	err = s.inTx(ctx, func(w *writer) error {
		var err error
		conflict, err = s.writeChange(ctx, w, &r, cur, next, topics)
		return err
	})
	if !conflict {
		return err
	}
	return s.conflictError(ctx, next.ID, cur.Version)
}

// conflictError reports a write that lost to another writer (the version
// was no longer expected), with the version stored now.
func (s *Store) conflictError(ctx context.Context, id appeal.ID, expected int64) error {
	var actual int64
	switch err := s.queryRow(ctx, s.q.version, string(id)).Scan(&actual); {
	case isNoRows(err):
		return appeal.ErrNotFound
	case err != nil:
		return fmt.Errorf("%w (and reading the stored version failed: %v)", &appeal.ConflictError{ID: id, Expected: expected}, classify(err))
	}
	return &appeal.ConflictError{ID: id, Expected: expected, Actual: actual}
}

// writeChange runs, in w's transaction, the statements that store next
// (encoded as r) over cur: the row, UPDATE ... WHERE version = cur.Version,
// notes retention masked, the topics when topics is set, and the new
// events. conflict is true, with errRollback, when someone else wrote
// first.
func (s *Store) writeChange(ctx context.Context, w *writer, r *row, cur, next *appeal.Appeal, topics bool) (conflict bool, err error) {
	res, err := w.exec(ctx, s.q.update, r.network, r.status, r.municipality, r.executor, r.coExecutors, r.incidentID, r.threadRoot,
		r.deadlineArg(), r.createdAt,
		next.Version, int64(len(next.History)), r.doc, r.id, cur.Version)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if n == 0 {
		return true, errRollback
	}
	// Retention may mask personal data in the notes of existing events
	// (appeal.CheckUpdate allows nothing else).
	for i := range cur.History {
		if next.History[i].Note != cur.History[i].Note {
			if _, err := w.exec(ctx, s.q.updateNote, next.History[i].Note, r.id, int64(i)); err != nil {
				return false, err
			}
		}
	}
	var tr []topicRow
	if topics {
		if _, err := w.exec(ctx, s.q.deleteTopics, r.id); err != nil {
			return false, err
		}
		tr = appendTopics(nil, next)
	}
	var events []eventRow
	for i := len(cur.History); i < len(next.History); i++ {
		ev, err := newEventRow(next.ID, i, &next.History[i])
		if err != nil {
			return false, err
		}
		events = append(events, ev)
	}
	return false, w.insertTopicsEvents(ctx, tr, events)
}

// Save implements source.Checkpoints: it replaces the cursor under key in
// one statement, so a crash leaves the old or the new cursor. To save a
// checkpoint together with the appeals it covers, pass it to PutBatch.
func (s *Store) Save(ctx context.Context, key, cursor string) error {
	if s.readOnly {
		return fmt.Errorf("sqlstore: save checkpoint %q: %w", key, ErrReadOnly)
	}
	err := s.inTx(ctx, func(w *writer) error {
		_, err := w.exec(ctx, s.q.saveCheckpoint, key, cursor, time.Now().UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: save checkpoint %q: %w", key, err)
	}
	return nil
}
