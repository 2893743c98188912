package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/appealkit/appealkit/appeal"
)

// ErrReadOnly is returned by every write to a Store opened WithReadOnly.
var ErrReadOnly = errors.New("sqlstore: store is opened read-only")

// errRollback ends a transaction without error from inside inTx's fn.
var errRollback = errors.New("sqlstore: rollback")

// writer runs the statements of one write transaction: on SQLite on the
// Store's one writer connection, with statements prepared once on it; on
// PostgreSQL in a *sql.Tx, where pgx prepares and caches every statement
// text per connection by itself (so the statements' texts never vary with
// the batch size).
type writer struct {
	s    *Store
	tx   *sql.Tx   // PostgreSQL
	conn *sql.Conn // SQLite
}

func (w *writer) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if w.conn == nil {
		return w.tx.ExecContext(ctx, q, args...)
	}
	st, err := w.s.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (w *writer) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if w.conn == nil {
		return w.tx.QueryContext(ctx, q, args...)
	}
	st, err := w.s.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// commitGate lets group commit decide at the last moment whether a
// transaction commits: on PostgreSQL ctx governs COMMIT and the
// transaction's life (SQLite's COMMIT is not cancelled, see inSQLiteTx)
// while the statements before it run under the caller's own ctx, and check
// runs just before COMMIT; its error rolls the transaction back.
type commitGate struct {
	ctx   context.Context
	check func() error
}

// inTx runs fn in one write transaction and commits it; an error from fn
// (errRollback included) rolls it back. Errors that mean the database was
// unreachable or busy match appeal.ErrUnavailable.
func (s *Store) inTx(ctx context.Context, fn func(*writer) error) error {
	return s.inTxGated(ctx, nil, fn)
}

// inTxGated is inTx with a commit gate (nil: none).
func (s *Store) inTxGated(ctx context.Context, gate *commitGate, fn func(*writer) error) error {
	return ctxErr(ctx, s.inTxGated1(ctx, gate, fn))
}

// ctxErr prefers ctx's error to err once ctx has ended: a driver
// interrupted by ctx reports it in its own words (an i/o timeout, a closed
// connection), and callers check for ctx's error.
func ctxErr(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || errors.Is(err, ctx.Err()) || errors.Is(err, errCallerLeft) || errors.Is(err, errCommitUnknown) {
		return err
	}
	return fmt.Errorf("%w (%v)", context.Cause(ctx), err)
}

func (s *Store) inTxGated1(ctx context.Context, gate *commitGate, fn func(*writer) error) error {
	commitCtx := ctx
	if gate != nil {
		commitCtx = gate.ctx
	}
	if s.dialect == SQLite {
		return s.inSQLiteTx(ctx, commitCtx, gate, fn)
	}
	tx, err := s.db.BeginTx(commitCtx, nil)
	if err != nil {
		return classify(err)
	}
	if err := fn(&writer{s: s, tx: tx}); err != nil {
		_ = tx.Rollback()
		return classify(err)
	}
	if err := ctx.Err(); err != nil {
		_ = tx.Rollback()
		return err
	}
	if gate != nil {
		if err := gate.check(); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	err = tx.Commit()
	if gate != nil && s.commitResult != nil {
		err = s.commitResult(gate.ctx, err)
	}
	if err != nil {
		if gate != nil && gate.ctx.Err() != nil {
			// Interrupted by every caller leaving: the server may have
			// committed before the cancel reached it.
			return fmt.Errorf("%w: %w", errCommitUnknown, err)
		}
		return classify(err)
	}
	return nil
}

// errCommitUnknown: a group commit's COMMIT was interrupted because every
// caller in it left, and the server may or may not have committed;
// groupCommit.writeLive reads the rows back to know.
var errCommitUnknown = errors.New("sqlstore: commit interrupted, outcome unknown")

// inSQLiteTx runs fn between BEGIN IMMEDIATE and COMMIT on the writer
// connection. IMMEDIATE takes SQLite's write lock at the start (waiting up to
// busy_timeout for other processes), so a transaction never fails half-way
// for want of it.
func (s *Store) inSQLiteTx(ctx, commitCtx context.Context, gate *commitGate, fn func(*writer) error) (err error) {
	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	conn, err := s.writerConn(ctx)
	if err != nil {
		return classify(err)
	}
	defer func() {
		if err != nil && isBroken(err) {
			s.dropWriter()
		} else if !s.holdWriter {
			s.releaseWriter()
		}
	}()
	w := &writer{s: s, conn: conn}
	rollback := func() {
		if _, rerr := w.exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			s.dropWriter() // state unknown: never reuse the connection
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err = w.exec(ctx, "BEGIN IMMEDIATE")
	if s.beginResult != nil {
		err = s.beginResult(ctx, err)
	}
	if err != nil {
		// The driver reports ctx's error when ctx ends while a statement
		// runs, even one that has completed: BEGIN may then have opened
		// the transaction. Close it (or drop the connection), or the
		// next BEGIN on the writer fails "cannot start a transaction
		// within a transaction".
		if ctx.Err() != nil {
			rollback()
		}
		return classify(err)
	}
	if err := fn(w); err != nil {
		rollback()
		return classify(err)
	}
	if err := ctx.Err(); err != nil {
		rollback()
		return err
	}
	if gate != nil {
		if err := gate.check(); err != nil {
			rollback()
			return err
		}
	}
	// COMMIT is not cancelled on SQLite: the driver would report ctx's
	// error for a COMMIT that went through, and group commit would tell
	// its callers that appeals it stored were not. It cannot wait for
	// another writer's lock (BEGIN IMMEDIATE holds it); waiting for readers
	// to leave (rollback journal, not WAL) ends after busy_timeout.
	if _, err := w.exec(context.WithoutCancel(commitCtx), "COMMIT"); err != nil {
		rollback()
		return classify(err)
	}
	return nil
}

// writerPragmas tune the SQLite writer connection. A batch touches pages
// all over the ID index; with SQLite's default 2 MB page cache most of them
// are read back from the file for every batch, so the writer keeps 64 MB.
// Checkpointing the WAL into the database every 4,000 pages (16 MB) instead
// of 1,000 copies a page changed by several batches once, with one fsync.
var writerPragmas = []string{
	`PRAGMA cache_size = -65536`,
	`PRAGMA wal_autocheckpoint = 4000`,
}

// writerConn returns the SQLite writer connection, taking one from the pool
// the first time. Call it with the writer slot held.
func (s *Store) writerConn(ctx context.Context) (*sql.Conn, error) {
	if s.wconn != nil {
		return s.wconn, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range writerPragmas {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("sqlite writer connection: %s: %w", p, err)
		}
	}
	s.wconn = conn
	s.stmts = make(map[string]*sql.Stmt)
	return conn, nil
}

// prepared returns q prepared on the writer connection, preparing it the
// first time. Call it with the writer slot held.
func (s *Store) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.stmts[q]; ok {
		return st, nil
	}
	st, err := s.wconn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	s.stmts[q] = st
	return st, nil
}

// dropWriter closes the writer connection's statements and discards the
// connection (it is not returned to the pool: it may be mid-transaction).
func (s *Store) dropWriter() {
	if s.wconn == nil {
		return
	}
	for _, st := range s.stmts {
		_ = st.Close()
	}
	s.stmts = nil
	_ = s.wconn.Raw(func(any) error { return driver.ErrBadConn })
	_ = s.wconn.Close()
	s.wconn = nil
}

// releaseWriter closes the writer connection's statements and gives the
// connection back to the pool (its transaction is over).
func (s *Store) releaseWriter() error {
	if s.wconn == nil {
		return nil
	}
	for _, st := range s.stmts {
		_ = st.Close()
	}
	s.stmts = nil
	err := s.wconn.Close()
	s.wconn = nil
	return err
}

// Close gives back the SQLite writer connection the Store holds and closes
// its prepared read statements (the *sql.DB itself stays open: it is the
// caller's). The Store takes them again if it is used after Close.
func (s *Store) Close() error {
	s.reads.Range(func(q, st any) bool {
		_ = st.(*sql.Stmt).Close()
		s.reads.Delete(q)
		return true
	})
	if s.writer == nil {
		return nil
	}
	s.writer <- struct{}{}
	defer func() { <-s.writer }()
	return s.releaseWriter()
}

// unavailableError marks an error as an outage: it matches
// appeal.ErrUnavailable and unwraps to the driver's error.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return "store unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }
func (e *unavailableError) Is(target error) bool {
	return target == appeal.ErrUnavailable
}

// classify wraps err so that it matches appeal.ErrUnavailable when it means
// the database could not be reached or could not take the write in time:
// the same call may succeed later. Context errors stay as they are.
func classify(err error) error {
	if err == nil || errors.Is(err, appeal.ErrUnavailable) || errors.Is(err, errRollback) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if transient(err) {
		return &unavailableError{err}
	}
	return err
}

// transient reports whether err is an outage rather than a refusal of the
// data: connection errors; PostgreSQL's connection-exception class 08,
// insufficient resources (class 53: disk full, out of memory, too many
// connections), system errors (class 58), admin or crash shutdown
// (57P01–57P03), a statement cancelled by timeout (57014), serialization
// failure and deadlock (40001, 40P01), lock not available (55P03); SQLite's
// BUSY and LOCKED (busy_timeout passed), NOMEM, IOERR and FULL. A disk that
// fills up is an outage too: the appeals must wait for space, not be
// dead-lettered. Drivers are recognised by their error methods, not their
// types.
func transient(err error) bool {
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		c := pg.SQLState()
		switch {
		case strings.HasPrefix(c, "08"), strings.HasPrefix(c, "53"), strings.HasPrefix(c, "58"):
			return true
		}
		switch c {
		case "57P01", "57P02", "57P03", "57014", "40001", "40P01", "55P03":
			return true
		}
		return false
	}
	var lite interface{ Code() int }
	if errors.As(err, &lite) {
		switch lite.Code() & 0xff {
		case 5, 6, 7, 10, 13: // BUSY, LOCKED, NOMEM, IOERR, FULL
			return true
		}
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection reset")
}

// isBroken reports whether the writer connection should be discarded after
// err.
func isBroken(err error) bool {
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// eventRow is one appeal_history row. Its time is kept as RFC 3339 text
// with nanoseconds, so the zone offset survives like in the JSON document.
type eventRow struct {
	id                        string
	seq                       int64
	at, actor, from, to, note string
}

func newEventRow(id appeal.ID, seq int, e *appeal.Event) (eventRow, error) {
	at, err := e.At.MarshalText()
	if err != nil {
		return eventRow{}, fmt.Errorf("sqlstore: appeal %s: history event %d: time: %w", id.Redacted(), seq, err)
	}
	return eventRow{id: string(id), seq: int64(seq), at: string(at), actor: e.Actor, from: string(e.From), to: string(e.To), note: e.Note}, nil
}
