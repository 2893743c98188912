package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// migration is one step of the schema. Steps are append-only: once
// released, a step's statements never change; a new need gets a new step.
type migration struct {
	version int
	name    string
	stmts   func(d Dialect) []string
}

// types spells the column types of a dialect. Keys are C-collated on
// PostgreSQL so that ORDER BY id agrees with Go's byte-wise string order
// (appeal.Less), whatever the database's locale.
type types struct {
	key, text, bigint, json string
}

func typesOf(d Dialect) types {
	if d == Postgres {
		return types{key: `TEXT COLLATE "C"`, text: "TEXT", bigint: "BIGINT", json: "JSONB"}
	}
	return types{key: "TEXT", text: "TEXT", bigint: "INTEGER", json: "TEXT"}
}

// awaitingSQL is the SQL list of statuses whose deadline still runs
// (appeal.Status.AwaitsAnswer). The overdue index is partial on exactly this
// list, and List repeats it verbatim so that planners can use the index.
var awaitingSQL = func() string {
	var q []string
	for _, s := range appeal.AllStatuses() {
		if s.AwaitsAnswer() {
			q = append(q, "'"+string(s)+"'")
		}
	}
	return "(" + strings.Join(q, ", ") + ")"
}()

var migrations = []migration{
	{1, "appeals, topics, history, checkpoints", func(d Dialect) []string {
		t := typesOf(d)
		return []string{
			`CREATE TABLE appeals (
				id ` + t.key + ` PRIMARY KEY,
				network ` + t.text + ` NOT NULL,
				status ` + t.text + ` NOT NULL,
				municipality ` + t.text + ` NOT NULL DEFAULT '',
				executor ` + t.text + ` NOT NULL DEFAULT '',
				deadline ` + t.bigint + `,
				created_at ` + t.bigint + ` NOT NULL,
				version ` + t.bigint + ` NOT NULL,
				history_len ` + t.bigint + ` NOT NULL,
				doc ` + t.json + ` NOT NULL
			)`,
			`CREATE INDEX appeals_created ON appeals (created_at, id)`,
			`CREATE INDEX appeals_status ON appeals (status, created_at, id)`,
			`CREATE INDEX appeals_municipality ON appeals (municipality, created_at, id)`,
			`CREATE INDEX appeals_executor ON appeals (executor, created_at, id)`,
			`CREATE INDEX appeals_network ON appeals (network, created_at, id)`,
			// "Everything overdue for executor X" reads only appeals still
			// awaiting an answer, a small share of a big table.
			`CREATE INDEX appeals_overdue ON appeals (executor, deadline) WHERE deadline IS NOT NULL AND status IN ` + awaitingSQL,
			`CREATE TABLE appeal_topics (
				appeal_id ` + t.key + ` NOT NULL,
				code ` + t.key + ` NOT NULL,
				PRIMARY KEY (appeal_id, code)
			)`,
			`CREATE INDEX appeal_topics_code ON appeal_topics (code, appeal_id)`,
			`CREATE TABLE appeal_history (
				appeal_id ` + t.key + ` NOT NULL,
				seq ` + t.bigint + ` NOT NULL,
				at ` + t.text + ` NOT NULL,
				actor ` + t.text + ` NOT NULL,
				from_status ` + t.text + ` NOT NULL,
				to_status ` + t.text + ` NOT NULL,
				note ` + t.text + ` NOT NULL,
				PRIMARY KEY (appeal_id, seq)
			)`,
			`CREATE TABLE checkpoints (
				name ` + t.key + ` PRIMARY KEY,
				cursor ` + t.text + ` NOT NULL,
				updated_at ` + t.bigint + ` NOT NULL
			)`,
		}
	}},
	{2, "answer outbox", func(d Dialect) []string {
		t := typesOf(d)
		return []string{
			// The transactional outbox of approved answers (appeal.Outbox):
			// written in the transaction that approves the draft, deleted
			// after the publication is recorded.
			`CREATE TABLE answer_outbox (
				msg_key ` + t.key + ` PRIMARY KEY,
				appeal_id ` + t.key + ` NOT NULL,
				created_at ` + t.bigint + ` NOT NULL,
				not_before ` + t.bigint + ` NOT NULL,
				doc ` + t.json + ` NOT NULL
			)`,
			`CREATE INDEX answer_outbox_due ON answer_outbox (not_before, created_at, msg_key)`,
		}
	}},
	{3, "dead letters", func(d Dialect) []string {
		t := typesOf(d)
		// doc is JSON kept as text, not JSONB: a refused appeal may hold
		// what JSONB refuses (\u0000).
		return []string{
			`CREATE TABLE dead_letters (
				key ` + t.key + ` PRIMARY KEY,
				appeal_id ` + t.text + ` NOT NULL,
				input ` + t.text + ` NOT NULL,
				reason ` + t.text + ` NOT NULL,
				at ` + t.bigint + ` NOT NULL,
				doc ` + t.text + ` NOT NULL
			)`,
			`CREATE INDEX dead_letters_at ON dead_letters (at, key)`,
		}
	}},
	{4, "co-executors column", func(d Dialect) []string {
		// Filter.Involves (an executor's staff see the appeals they
		// co-execute too) scans this instead of every document.
		return []string{
			`ALTER TABLE appeals ADD COLUMN co_executors ` + typesOf(d).text + ` NOT NULL DEFAULT ''`,
			backfillCoExecutors(d),
		}
	}},
	{5, "incident and thread columns", func(d Dialect) []string {
		// An incident's members and a thread's messages (Filter.Incident,
		// Filter.ThreadRoot) without reading every document. A thread is
		// found within its network (appeals_network) by the column alone:
		// an index of its own would cost every write about a tenth of
		// PutBatch's rate, for a lookup a card makes.
		t := typesOf(d)
		return []string{
			`ALTER TABLE appeals ADD COLUMN incident_id ` + t.text + ` NOT NULL DEFAULT ''`,
			`ALTER TABLE appeals ADD COLUMN thread_root ` + t.text + ` NOT NULL DEFAULT ''`,
			backfillIncidentThread(d),
			`CREATE INDEX appeals_incident ON appeals (incident_id) WHERE incident_id <> ''`,
		}
	}},
}

// backfillIncidentThread fills incident_id and thread_root (Appeal.IncidentID
// and Appeal.ThreadRoot) from the documents of appeals written before the
// columns existed.
func backfillIncidentThread(d Dialect) string {
	if d == Postgres {
		return `UPDATE appeals SET incident_id = COALESCE(doc->>'incident_id', ''),
			thread_root = COALESCE(NULLIF(doc->'thread'->>'root_id', ''), doc->>'external_id', '')`
	}
	return `UPDATE appeals SET incident_id = COALESCE(json_extract(doc, '$.incident_id'), ''),
		thread_root = COALESCE(NULLIF(json_extract(doc, '$.thread.root_id'), ''), json_extract(doc, '$.external_id'), '')`
}

// backfillCoExecutors fills co_executors (coExecutorsKey) from the
// documents of appeals written before the column existed.
func backfillCoExecutors(d Dialect) string {
	if d == Postgres {
		return `UPDATE appeals SET co_executors = (
				SELECT chr(31) || string_agg(v, chr(31)) || chr(31) FROM jsonb_array_elements_text(appeals.doc->'assignment'->'co_executors') AS v)
			WHERE jsonb_typeof(appeals.doc->'assignment'->'co_executors') = 'array'
				AND jsonb_array_length(appeals.doc->'assignment'->'co_executors') > 0`
	}
	return `UPDATE appeals SET co_executors = (
			SELECT char(31) || group_concat(c.value, char(31)) || char(31) FROM json_each(appeals.doc, '$.assignment.co_executors') AS c)
		WHERE json_type(appeals.doc, '$.assignment.co_executors') = 'array'
			AND json_array_length(appeals.doc, '$.assignment.co_executors') > 0`
}

// migrationLock is the PostgreSQL advisory lock key migrations hold.
const migrationLock int64 = 0x61707065616c6b // "appealk"

// SchemaVersion is the schema version this package migrates databases to.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// migrate applies the pending migrations. Each runs in a transaction whose
// first statement claims the version row in schema_migrations: a second
// process migrating at the same moment blocks on that row (PostgreSQL) or on
// the write lock (SQLite), then finds the version claimed and skips it.
func (s *Store) migrate(ctx context.Context) error {
	t := typesOf(s.dialect)
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (
		version ` + t.bigint + ` PRIMARY KEY,
		name ` + t.text + ` NOT NULL,
		applied_at ` + t.bigint + ` NOT NULL
	)`
	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer unlock()
	// One connection for the whole migration: on PostgreSQL it holds a
	// session advisory lock, so that processes opening the same database
	// at once migrate one after the other (CREATE TABLE IF NOT EXISTS
	// alone races in PostgreSQL's catalog).
	conn, err := s.migrationConn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer conn.Close()
	if s.dialect == Postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("sqlstore: migrate: take advisory lock: %w", err)
		}
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
		}()
	}
	if _, err := conn.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("sqlstore: create schema_migrations: %w", err)
	}
	var current sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("sqlstore: read schema version: %w", err)
	}
	if int(current.Int64) > SchemaVersion() {
		return fmt.Errorf("%w: database has version %d, this program knows up to %d", ErrSchemaTooNew, current.Int64, SchemaVersion())
	}
	for _, m := range migrations {
		if m.version <= int(current.Int64) {
			continue
		}
		if err := s.apply(ctx, conn, m); err != nil {
			return err
		}
	}
	return nil
}

// migrationConn takes a connection for the migration. On SQLite, opening a
// connection runs the DSN's pragmas, and switching a file to WAL while
// another process is opening it too can fail at once with "database is
// locked" without waiting for busy_timeout; several replicas starting
// together on a new file do exactly that, so such an open is retried for a
// few seconds.
func (s *Store) migrationConn(ctx context.Context) (*sql.Conn, error) {
	delay := 10 * time.Millisecond
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := s.db.Conn(ctx)
		if err == nil || s.dialect != SQLite || !strings.Contains(err.Error(), "database is locked") || time.Now().After(deadline) {
			return conn, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

func (s *Store) apply(ctx context.Context, conn *sql.Conn, m migration) (err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: migration %d (%s): begin: %w", m.version, m.name, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	res, err := tx.ExecContext(ctx, rebind(s.dialect,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?) ON CONFLICT (version) DO NOTHING`),
		m.version, m.name, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("sqlstore: migration %d (%s): claim: %w", m.version, m.name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: migration %d (%s): claim: %w", m.version, m.name, err)
	} else if n == 0 {
		// Another process applied it meanwhile.
		_ = tx.Rollback()
		return nil
	}
	for i, stmt := range m.stmts(s.dialect) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlstore: migration %d (%s): statement %d: %w", m.version, m.name, i+1, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: migration %d (%s): commit: %w", m.version, m.name, err)
	}
	return nil
}
