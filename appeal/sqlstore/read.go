package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/appealkit/appealkit/appeal"
)

// queries holds the fixed statements, already in the dialect's placeholder
// syntax.
type queries struct {
	get, history, version, update, deleteTopics, updateNote string
	loadCheckpoint, saveCheckpoint                          string
}

func buildQueries(d Dialect) queries {
	r := func(q string) string { return rebind(d, q) }
	return queries{
		get:     r(`SELECT version, history_len, doc FROM appeals WHERE id = ?`),
		history: r(`SELECT appeal_id, seq, at, actor, from_status, to_status, note FROM appeal_history WHERE appeal_id = ? AND seq < ? ORDER BY seq`),
		version: r(`SELECT version FROM appeals WHERE id = ?`),
		update: r(`UPDATE appeals SET network = ?, status = ?, municipality = ?, executor = ?, co_executors = ?, incident_id = ?,
			thread_root = ?, deadline = ?, created_at = ?,
			version = ?, history_len = ?, doc = ? WHERE id = ? AND version = ?`),
		deleteTopics:   r(`DELETE FROM appeal_topics WHERE appeal_id = ?`),
		updateNote:     r(`UPDATE appeal_history SET note = ? WHERE appeal_id = ? AND seq = ?`),
		loadCheckpoint: r(`SELECT cursor FROM checkpoints WHERE name = ?`),
		saveCheckpoint: r(`INSERT INTO checkpoints (name, cursor, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`),
	}
}

// Get implements appeal.Store.
//
// It reads the appeal row, then the first history_len events of its
// history. History is append-only and its events commit together with the
// row that counts them, so the two reads are consistent without a
// transaction.
func (s *Store) Get(ctx context.Context, id appeal.ID) (appeal.Appeal, error) {
	if err := appeal.CheckID(id); err != nil {
		return appeal.Appeal{}, fmt.Errorf("sqlstore: get: %w", err)
	}
	a, err := s.get(ctx, id)
	if err != nil {
		return appeal.Appeal{}, fmt.Errorf("sqlstore: get %s: %w", id.Redacted(), ctxErr(ctx, err))
	}
	return a, nil
}

func (s *Store) get(ctx context.Context, id appeal.ID) (appeal.Appeal, error) {
	var (
		version, hlen int64
		doc           []byte
	)
	err := s.queryRow(ctx, s.q.get, string(id)).Scan(&version, &hlen, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return appeal.Appeal{}, appeal.ErrNotFound
	}
	if err != nil {
		return appeal.Appeal{}, classify(err)
	}
	a, err := decode(string(id), version, doc)
	if err != nil {
		return appeal.Appeal{}, err
	}
	if hlen == 0 {
		return a, nil
	}
	rs, err := s.query(ctx, s.q.history, string(id), hlen)
	if err != nil {
		return appeal.Appeal{}, fmt.Errorf("history: %w", classify(err))
	}
	defer rs.Close()
	a.History = make([]appeal.Event, 0, hlen)
	for rs.Next() {
		_, e, err := scanEvent(rs)
		if err != nil {
			return appeal.Appeal{}, fmt.Errorf("history: %w", err)
		}
		a.History = append(a.History, e)
	}
	if err := rs.Err(); err != nil {
		return appeal.Appeal{}, fmt.Errorf("history: %w", err)
	}
	if int64(len(a.History)) != hlen {
		return appeal.Appeal{}, fmt.Errorf("history: %d events stored, row counts %d", len(a.History), hlen)
	}
	return a, nil
}

// query runs one of the Store's fixed read statements. On SQLite the
// statement is prepared once per connection (database/sql keeps a
// prepared copy on each connection that ran it) instead of parsed on every
// call; pgx caches prepared statements by itself.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s.dialect != SQLite {
		return s.db.QueryContext(ctx, q, args...)
	}
	st, err := s.readStmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is query for one row.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if s.dialect != SQLite {
		return s.db.QueryRowContext(ctx, q, args...)
	}
	st, err := s.readStmt(ctx, q)
	if err != nil {
		// QueryRowContext on the pool reports the same error through Scan.
		return s.db.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func (s *Store) readStmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.reads.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.reads.LoadOrStore(q, st); loaded {
		_ = st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// listSQL translates f into a query; it mirrors appeal.Filter.Match, plus
// paging and Limit.
func (s *Store) listSQL(f *appeal.Filter) (string, []any) {
	var b strings.Builder
	b.WriteString(`SELECT id, version, history_len, doc FROM appeals WHERE 1 = 1`)
	args := s.where(&b, f)
	b.WriteString(` ORDER BY created_at, id`)
	if f.Limit > 0 {
		b.WriteString(` LIMIT ?`)
		args = append(args, int64(f.Limit))
	}
	return rebind(s.dialect, b.String()), args
}

// countSQL is listSQL's count: the same conditions, Limit included.
func (s *Store) countSQL(f *appeal.Filter) (string, []any) {
	var b strings.Builder
	if f.Limit > 0 {
		b.WriteString(`SELECT COUNT(*) FROM (SELECT 1 FROM appeals WHERE 1 = 1`)
	} else {
		b.WriteString(`SELECT COUNT(*) FROM appeals WHERE 1 = 1`)
	}
	args := s.where(&b, f)
	if f.Limit > 0 {
		b.WriteString(` LIMIT ?) AS page`)
		args = append(args, int64(f.Limit))
	}
	return rebind(s.dialect, b.String()), args
}

// where appends f's conditions (appeal.Filter.Match in SQL, each after
// " AND ") to b and returns their arguments.
func (s *Store) where(b *strings.Builder, f *appeal.Filter) []any {
	var args []any
	if len(f.Statuses) > 0 {
		b.WriteString(` AND status IN (`)
		for i, st := range f.Statuses {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("?")
			args = append(args, string(st))
		}
		b.WriteString(")")
	}
	if f.Municipality != "" {
		b.WriteString(` AND municipality = ?`)
		args = append(args, f.Municipality)
	}
	if f.Topic != "" {
		// A parent code matches its subtopics ("housing" → "housing.heating"),
		// as appeal.Filter.Match does: codes from "housing." up to, not
		// including, "housing/" ('/' follows '.'). A range, not LIKE:
		// SQLite's LIKE ignores ASCII case, PostgreSQL's does not, and the
		// range compares bytes on both (code is C-collated on PostgreSQL)
		// and uses the index.
		b.WriteString(` AND EXISTS (SELECT 1 FROM appeal_topics t WHERE t.appeal_id = appeals.id AND (t.code = ? OR (t.code >= ? AND t.code < ?)))`)
		args = append(args, f.Topic, f.Topic+".", f.Topic+"/")
	}
	if f.Executor != "" {
		b.WriteString(` AND executor = ?`)
		args = append(args, f.Executor)
	}
	if f.Involves != "" {
		// The executor is a column. Co-executors are searched in the
		// co_executors column (a short string, cheap to scan), and only
		// the rows found there have their document read for the exact
		// test.
		co := `(instr(co_executors, ?) > 0 AND EXISTS (SELECT 1 FROM json_each(appeals.doc, '$.assignment.co_executors') c WHERE c.value = ?))`
		if s.dialect == Postgres {
			co = `(strpos(co_executors, ?) > 0 AND appeals.doc->'assignment'->'co_executors' @> jsonb_build_array(?::text))`
		}
		b.WriteString(` AND (executor = ? OR ` + co + `)`)
		args = append(args, f.Involves, coSep+f.Involves+coSep, f.Involves)
	}
	if f.Incident != "" {
		// Spelled like the partial index appeals_incident.
		b.WriteString(` AND incident_id <> '' AND incident_id = ?`)
		args = append(args, f.Incident)
	}
	if f.ThreadRoot != "" {
		b.WriteString(` AND thread_root = ?`)
		args = append(args, f.ThreadRoot)
	}
	if f.Network != "" {
		b.WriteString(` AND network = ?`)
		args = append(args, string(f.Network))
	}
	if !f.CreatedFrom.IsZero() {
		b.WriteString(` AND created_at >= ?`)
		args = append(args, nanos(f.CreatedFrom))
	}
	if !f.CreatedTo.IsZero() {
		b.WriteString(` AND created_at < ?`)
		args = append(args, nanos(f.CreatedTo))
	}
	if !f.OverdueAt.IsZero() {
		// Spelled exactly like the partial index appeals_overdue.
		b.WriteString(` AND deadline IS NOT NULL AND status IN ` + awaitingSQL + ` AND deadline < ?`)
		args = append(args, nanos(f.OverdueAt))
	}
	if !f.AfterCreated.IsZero() || f.AfterID != "" {
		after := nanos(f.AfterCreated)
		b.WriteString(` AND (created_at > ? OR (created_at = ? AND id > ?))`)
		args = append(args, after, after, string(f.AfterID))
	}
	return args
}

// scanPage is how many appeals Scan (and List without a small Limit) reads
// per query.
const scanPage = 1000

// List implements appeal.Store. It reads page by page (scanPage appeals, one
// query for them and one for their histories), so that memory holds the
// result and one page, not the driver's copy of every row besides; to read
// many appeals without holding them all, use Scan.
func (s *Store) List(ctx context.Context, f appeal.Filter) ([]appeal.Appeal, error) {
	if f.Limit > 0 && f.Limit <= scanPage {
		out, err := s.list(ctx, &f)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list: %w", ctxErr(ctx, err))
		}
		return out, nil
	}
	return appeal.Collect(s.Scan(ctx, f))
}

// Count implements appeal.Counter with one COUNT query, reading no
// documents unless f.Involves asks for co-executors.
func (s *Store) Count(ctx context.Context, f appeal.Filter) (int, error) {
	q, args := s.countSQL(&f)
	var n int64
	if err := s.db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count: %w", ctxErr(ctx, classify(err)))
	}
	return int(n), nil
}

// Scan implements appeal.Scanner: it pages through the matching appeals by
// their (created_at, id) order, scanPage at a time, each page a short read
// (no transaction is held open between pages, so SQLite's WAL can be
// checkpointed meanwhile).
func (s *Store) Scan(ctx context.Context, f appeal.Filter) iter.Seq2[appeal.Appeal, error] {
	return appeal.ScanByPages(ctx, f, scanPage, func(ctx context.Context, f appeal.Filter) ([]appeal.Appeal, error) {
		out, err := s.list(ctx, &f)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: scan: %w", ctxErr(ctx, classify(err)))
		}
		return out, nil
	})
}

func (s *Store) list(ctx context.Context, f *appeal.Filter) ([]appeal.Appeal, error) {
	q, args := s.listSQL(f)
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, classify(err)
	}
	defer rs.Close()
	out := make([]appeal.Appeal, 0)
	var withHistory map[string]int // appeal id → index in out
	lens := make(map[string]int64)
	for rs.Next() {
		var (
			id            string
			version, hlen int64
			doc           []byte
		)
		if err := rs.Scan(&id, &version, &hlen, &doc); err != nil {
			return nil, err
		}
		a, err := decode(id, version, doc)
		if err != nil {
			return nil, err
		}
		if hlen > 0 {
			if withHistory == nil {
				withHistory = make(map[string]int)
			}
			withHistory[id] = len(out)
			lens[id] = hlen
		}
		out = append(out, a)
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	rs.Close()
	if len(withHistory) == 0 {
		return out, nil
	}
	ids := make([]any, 0, len(withHistory))
	for id := range withHistory {
		ids = append(ids, id)
	}
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		q := `SELECT appeal_id, seq, at, actor, from_status, to_status, note FROM appeal_history WHERE appeal_id IN (` +
			placeholders(len(part)) + `) ORDER BY appeal_id, seq`
		hrs, err := s.db.QueryContext(ctx, rebind(s.dialect, q), part...)
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		for hrs.Next() {
			id, e, err := scanEvent(hrs)
			if err != nil {
				hrs.Close()
				return nil, fmt.Errorf("history: %w", err)
			}
			a := &out[withHistory[id]]
			// Events beyond the counted ones were appended after the
			// row was read; they belong to a later version.
			if int64(len(a.History)) < lens[id] {
				a.History = append(a.History, e)
			}
		}
		err = hrs.Err()
		hrs.Close()
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
	}
	for id, i := range withHistory {
		if int64(len(out[i].History)) != lens[id] {
			return nil, fmt.Errorf("history of %s: %d events stored, row counts %d", appeal.ID(id).Redacted(), len(out[i].History), lens[id])
		}
	}
	return out, nil
}

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// Load implements source.Checkpoints: the cursor saved under key, or "".
func (s *Store) Load(ctx context.Context, key string) (string, error) {
	var cursor string
	err := s.queryRow(ctx, s.q.loadCheckpoint, key).Scan(&cursor)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlstore: load checkpoint %q: %w", key, classify(err))
	}
	return cursor, nil
}
