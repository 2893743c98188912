// Package sqlstore keeps appeals and source checkpoints in a SQL database
// through database/sql. One implementation serves SQLite and PostgreSQL; the
// caller opens the *sql.DB with the driver of their choice and hands it to
// Open, which applies the versioned schema migrations and returns a Store
// that implements appeal.Store and source.Checkpoints.
//
// Layout: one row per appeal in "appeals" with indexed columns for every
// List filter (status, municipality, executor, deadline, created_at,
// network) and the whole appeal as JSON; topics in "appeal_topics" (for the
// topic filter); the lifecycle history in "appeal_history"; cursors in
// "checkpoints"; applied migrations in "schema_migrations". Every change
// bumps the "version" column and is written with
// UPDATE ... WHERE id = ? AND version = ?, which is what makes Transition
// and Update optimistic: a stale writer gets appeal.ErrConflict.
//
// The package imports no driver, as database/sql asks: the program does,
// once, for its side effect — import _ "modernc.org/sqlite" (driver name
// "sqlite") or _ "github.com/jackc/pgx/v5/stdlib" ("pgx"); importing
// source/builtin registers both. Without it sql.Open fails with
// `unknown driver "sqlite" (forgotten import?)`.
//
// SQLite should be opened in WAL mode with a busy timeout, so that readers
// never block the writer and other processes wait instead of failing:
//
//	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN("appeals.db"))
//	// = "file:appeals.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
//
// The Store writes to a SQLite database through one connection of its own
// (BEGIN IMMEDIATE transactions, statements prepared once on it, a larger
// page cache), so one process never sees "database is locked" from itself;
// reads use the pool's other connections and, in WAL mode, never wait for
// the writer. Keep db.SetMaxOpenConns at 0 (no limit) or at least 2. Call
// Close to give the writer connection back before closing db.
//
// For reports and exports, open a SQLite file with SQLiteReadOnlyDSN and
// WithReadOnly: nothing is created or migrated. Open checks a SQLite file
// with PRAGMA quick_check and refuses a damaged one with ErrCorrupt
// (WithoutQuickCheck skips that for very large files).
//
// PostgreSQL works with any database/sql driver (github.com/jackc/pgx/v5/stdlib
// is the tested one). Put a store in its own schema with the search_path
// connection parameter:
//
//	db, err := sql.Open("pgx", "postgres://app@db:5432/appeals?search_path=kursk")
//
// With either database, raise db.SetMaxIdleConns to about the number of
// goroutines that use the store at once: database/sql keeps 2 idle
// connections by default and reconnects for every call beyond them.
//
// For throughput, concurrent Put calls share transactions (group commit),
// and PutBatch (appeal.BatchStore) writes hundreds of appeals per
// transaction: appeal rows, topics, history and, optionally, the source's
// checkpoint together. On SQLite a batch runs through multi-row statements
// of fixed sizes (prepared once); on PostgreSQL through pgx it is one INSERT
// ... SELECT FROM unnest($1, ...) per table (prepared once per connection,
// about five round trips per batch whatever its size).
//
// Errors: an outage (connection refused or reset, server shutting down,
// SQLite busy past busy_timeout) matches appeal.ErrUnavailable; an appeal
// the database refuses fails alone (appeal.BatchError) while the rest of its
// batch is stored; a call whose ctx ends returns ctx's error even if the
// database is frozen. Refused appeals can be kept in the dead_letters table
// (appeal.DeadLetterStore).
//
// SQLite must be 3.35 or newer (RETURNING) with its JSON functions (built
// in from 3.38; Filter.Involves and schema migration 4 use them);
// PostgreSQL 9.5 or newer (ON CONFLICT, jsonb_build_array).
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// Dialect names the SQL flavour of the database behind a Store.
type Dialect string

// Supported dialects.
const (
	// SQLite: "?" placeholders, INTEGER/TEXT types, single writer.
	SQLite Dialect = "sqlite"
	// Postgres: "$n" placeholders, BIGINT/JSONB, C-collated text keys.
	Postgres Dialect = "postgres"
)

// ErrUnknownDialect is returned by Open when the dialect was neither given
// nor recognisable from the driver.
var ErrUnknownDialect = errors.New("sqlstore: unknown SQL dialect")

// ErrSchemaTooNew is returned by Open when the database was migrated by a
// newer version of this package than the running one.
var ErrSchemaTooNew = errors.New("sqlstore: database schema is newer than this program")

// Option configures Open.
type Option func(*options)

type options struct {
	dialect       Dialect
	maxBatch      int
	readOnly      bool
	skipQuickTest bool
}

// WithDialect sets the dialect instead of detecting it from the driver. Use
// it with drivers Open does not recognise (detection knows modernc.org/sqlite,
// mattn/go-sqlite3, pgx/stdlib and lib/pq).
func WithDialect(d Dialect) Option { return func(o *options) { o.dialect = d } }

// WithMaxBatch caps how many appeals one transaction writes, both for
// PutBatch chunks and for concurrent Put calls coalesced by group commit.
// The default is 500; 1 turns group commit off.
func WithMaxBatch(n int) Option { return func(o *options) { o.maxBatch = n } }

// WithReadOnly opens the database for reading only: Open never creates or
// migrates anything, refuses a database that has no appealkit schema (an
// empty or missing SQLite file, a wrong schema) or a newer one, and every
// write returns ErrReadOnly. Reports and exports use it, with SQLite opened
// by SQLiteReadOnlyDSN.
func WithReadOnly() Option { return func(o *options) { o.readOnly = true } }

// WithoutQuickCheck skips the integrity check Open runs on SQLite
// (PRAGMA quick_check), which reads the whole file: about a second per GB.
// Use it for very large databases whose storage you trust.
func WithoutQuickCheck() Option { return func(o *options) { o.skipQuickTest = true } }

// Store is an appeal.Store and source.Checkpoints over a SQL database. It is
// safe for concurrent use by many goroutines and by several processes
// sharing the database. It does not own the *sql.DB: close that yourself.
type Store struct {
	db       *sql.DB
	dialect  Dialect
	maxBatch int
	// leaders is how many group-commit transactions may run at once: 1
	// on SQLite (one writer anyway), a few on PostgreSQL, which writes
	// transactions in parallel.
	leaders int
	q       queries

	// writer serialises writes on SQLite, which allows one writer at a
	// time: waiting here is cheaper and fairer than SQLITE_BUSY retries,
	// and unlike a mutex the wait honours ctx. It is nil on PostgreSQL.
	writer chan struct{}

	group groupCommit

	// arrays: the driver is pgx, which takes Go slices as PostgreSQL
	// arrays, so a batch is one INSERT ... SELECT FROM unnest(...) per
	// table whose text does not depend on the batch size.
	arrays     bool
	readOnly   bool
	holdWriter bool // keep the SQLite writer connection between transactions
	// beginResult, set by tests only, replaces the result of the SQLite
	// writer's BEGIN IMMEDIATE (to report ctx's error for a BEGIN that ran).
	beginResult func(context.Context, error) error
	// commitResult, set by tests only, replaces the result of a gated
	// PostgreSQL COMMIT; it gets the gate's context.
	commitResult func(context.Context, error) error

	// wconn is the one SQLite connection that writes, stmts its prepared
	// statements by text; both are guarded by the writer slot.
	wconn *sql.Conn
	stmts map[string]*sql.Stmt
	texts sync.Map // textKey → statement text
	reads sync.Map // SQLite: fixed read statement text → *sql.Stmt on db
}

var (
	_ appeal.Store       = (*Store)(nil)
	_ appeal.Scanner     = (*Store)(nil)
	_ appeal.Counter     = (*Store)(nil)
	_ source.Checkpoints = (*Store)(nil)
)

// Open prepares db for appeals: it detects (or takes) the dialect, applies
// any pending schema migrations in order, each in its own transaction, and
// returns the Store. Several processes may Open the same database at once;
// each migration is applied exactly once.
func Open(ctx context.Context, db *sql.DB, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: Open: db is nil")
	}
	o := options{maxBatch: 500}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxBatch < 1 {
		return nil, fmt.Errorf("sqlstore: Open: max batch %d must be at least 1", o.maxBatch)
	}
	if o.dialect == "" {
		o.dialect = DetectDialect(db)
	}
	switch o.dialect {
	case SQLite, Postgres:
	case "":
		return nil, fmt.Errorf("%w: driver %T; pass WithDialect", ErrUnknownDialect, db.Driver())
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownDialect, o.dialect)
	}
	s := &Store{db: db, dialect: o.dialect, maxBatch: o.maxBatch, leaders: 4, readOnly: o.readOnly}
	if s.dialect == SQLite {
		s.writer = make(chan struct{}, 1)
		s.leaders = 1
		// Holding a connection for writes needs a second one for reads.
		max := db.Stats().MaxOpenConnections
		s.holdWriter = max == 0 || max >= 2
	} else {
		s.arrays = strings.Contains(fmt.Sprintf("%T", db.Driver()), "stdlib")
	}
	s.q = buildQueries(s.dialect)
	if s.dialect == SQLite && !o.skipQuickTest {
		if err := s.quickCheck(ctx); err != nil {
			return nil, err
		}
	}
	if o.readOnly {
		if err := s.checkSchema(ctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// ErrNotAppealDB is returned by Open WithReadOnly when the database holds
// no appealkit schema (an empty or missing SQLite file, another program's
// database).
var ErrNotAppealDB = errors.New("sqlstore: not an appeals database")

// ErrCorrupt is returned by Open when SQLite's integrity check fails.
var ErrCorrupt = errors.New("sqlstore: database file is corrupt")

// quickCheck runs PRAGMA quick_check, which reads every page: a file that
// is not a database, is truncated or has broken pages is refused at Open,
// with SQLite's own words, instead of failing later on one query.
func (s *Store) quickCheck(ctx context.Context) error {
	// The connection is taken as for a migration: opening one on a new
	// file while other processes open it too may meet a passing lock.
	conn, err := s.migrationConn(ctx)
	if err != nil {
		if isCorrupt(err) {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return fmt.Errorf("sqlstore: open: %w", classify(err))
	}
	defer conn.Close()
	rs, err := conn.QueryContext(ctx, `PRAGMA quick_check`)
	if err != nil {
		if isCorrupt(err) {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return fmt.Errorf("sqlstore: open: integrity check: %w", classify(err))
	}
	defer rs.Close()
	var (
		problems []string
		bad      bool
	)
	for rs.Next() {
		var line string
		if err := rs.Scan(&line); err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		bad = bad || line != "ok"
		if line != "ok" && !strings.HasPrefix(line, "***") && len(problems) < 5 {
			problems = append(problems, line)
		}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if len(problems) > 0 || bad {
		return fmt.Errorf("%w: quick_check: %s", ErrCorrupt, strings.Join(problems, "; "))
	}
	return nil
}

// isCorrupt reports whether err is SQLite's SQLITE_CORRUPT or
// SQLITE_NOTADB.
func isCorrupt(err error) bool {
	var lite interface{ Code() int }
	return errors.As(err, &lite) && (lite.Code()&0xff == 11 || lite.Code()&0xff == 26)
}

// checkSchema verifies, without writing, that the database was migrated by
// this package to a version it knows.
func (s *Store) checkSchema(ctx context.Context) error {
	var current sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&current)
	if err != nil {
		if transient(err) || ctx.Err() != nil {
			return fmt.Errorf("sqlstore: open: read schema version: %w", classify(err))
		}
		return fmt.Errorf("%w: no schema_migrations table (an empty, new or foreign database): %w", ErrNotAppealDB, err)
	}
	if !current.Valid {
		return fmt.Errorf("%w: schema_migrations is empty", ErrNotAppealDB)
	}
	if int(current.Int64) > SchemaVersion() {
		return fmt.Errorf("%w: database has version %d, this program knows up to %d", ErrSchemaTooNew, current.Int64, SchemaVersion())
	}
	if int(current.Int64) < SchemaVersion() {
		return fmt.Errorf("%w: database has schema version %d, this program needs %d: open it once for writing to migrate it",
			ErrNotAppealDB, current.Int64, SchemaVersion())
	}
	return nil
}

// DetectDialect guesses the dialect from the type of db's driver and
// returns "" when it cannot tell.
func DetectDialect(db *sql.DB) Dialect {
	name := strings.ToLower(fmt.Sprintf("%T", db.Driver()))
	switch {
	case strings.Contains(name, "sqlite"):
		return SQLite
	case strings.Contains(name, "stdlib"), strings.Contains(name, "pgx"),
		strings.Contains(name, "pq."), strings.Contains(name, "postgres"):
		return Postgres
	}
	return ""
}

// Dialect reports the dialect the Store speaks.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB returns the database the Store works on.
func (s *Store) DB() *sql.DB { return s.db }

// rebind turns "?" placeholders into "$1, $2, ..." for PostgreSQL. The
// package's own queries never hold a literal "?".
func rebind(d Dialect, q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// lockWrites takes the in-process writer slot on SQLite and returns the
// function that releases it; on PostgreSQL it takes nothing.
func (s *Store) lockWrites(ctx context.Context) (unlock func(), err error) {
	if s.writer == nil {
		return func() {}, nil
	}
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// SQLiteDSN returns the data source name this package recommends for a
// SQLite file opened with modernc.org/sqlite (driver name "sqlite"): WAL
// journal, a 5 s busy timeout and synchronous=NORMAL (durable against
// process crashes; a power cut may lose the last transactions, never
// corrupt the file). Other drivers spell these options differently.
//
// busy_timeout comes first: the driver applies the pragmas in order, and
// switching to WAL while another connection holds the file fails at once
// with SQLITE_BUSY unless the timeout is already in force.
//
// Why synchronous=NORMAL is enough: in WAL mode a commit appends to the
// write-ahead log, and the log is synced to disk at checkpoints, not at
// every commit. A committed transaction is in the operating system's page
// cache when Commit returns, so killing the process (SIGKILL, a panic, an
// OOM kill) loses nothing; only losing the machine itself (power, kernel
// panic) may lose the last transactions, and never corrupts the file.
// synchronous=FULL would fsync every commit, several times slower for
// small transactions.
//
// temp_store(MEMORY) keeps the sorter's temporary data off the disk.
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)"
}

// SQLiteReadOnlyDSN returns the data source name for reading a SQLite file
// that must already exist (reports, exports): mode=ro, so a missing file is
// an error instead of a new empty database, with the same busy timeout. Open
// the store WithReadOnly: a 0-byte file then fails with ErrNotAppealDB.
func SQLiteReadOnlyDSN(path string) string {
	return "file:" + path + "?mode=ro&_pragma=busy_timeout(5000)"
}
