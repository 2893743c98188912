package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/appeal/storetest"
)

// TestPutHonoursContextWithFrozenPostgres freezes the server (kill -STOP,
// a hung host: connections open, nothing answers). Concurrent Puts (group
// commit), PutBatch, Get and Transition must all return ctx's error when
// their deadline passes, and the appeals whose Put failed are not stored
// once the server thaws.
func TestPutHonoursContextWithFrozenPostgres(t *testing.T) {
	srv := startPGServer(t)
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, srv.openDB())
	require.NoError(t, err)
	warm := put(t, s, storetest.Sample("warm"))

	srv.freeze()
	thawed := false
	defer func() {
		if !thawed {
			srv.cont()
		}
	}()
	const n, wait = 16, 500 * time.Millisecond
	start := time.Now()
	errs := make([]error, n+3)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, wait)
			defer cancel()
			_, errs[i] = s.Put(cctx, storetest.Sample(fmt.Sprintf("frozen%d", i)))
		})
	}
	wg.Go(func() {
		cctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		_, errs[n] = s.PutBatch(cctx, []appeal.Appeal{storetest.Sample("frozen-batch")})
	})
	wg.Go(func() {
		cctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		_, errs[n+1] = s.Get(cctx, warm.ID)
	})
	wg.Go(func() {
		cctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		_, errs[n+2] = s.Transition(cctx, warm.ID, appeal.Change{To: appeal.StatusRejected, ExpectedVersion: warm.Version})
	})
	wg.Wait()
	took := time.Since(start)
	t.Logf("%d calls against a frozen server returned after %s (deadline %s)", len(errs), took.Round(time.Millisecond), wait)
	assert.Less(t, took, wait+2*time.Second, "calls must end with their context, not with the server")
	for i, err := range errs {
		assert.ErrorIs(t, err, context.DeadlineExceeded, "call %d", i)
	}

	srv.cont()
	thawed = true
	for i := range n {
		_, err := s.Get(ctx, appeal.ID(fmt.Sprintf("vk:frozen%d", i)))
		assert.ErrorIs(t, err, appeal.ErrNotFound, "a Put that failed must not have stored its appeal")
	}
	_, err = s.Get(ctx, "vk:frozen-batch")
	assert.ErrorIs(t, err, appeal.ErrNotFound)
	created, err := s.Put(ctx, storetest.Sample("frozen0"))
	require.NoError(t, err, "the store works again once the server thaws")
	assert.True(t, created)
}

// TestOutageIsUnavailable stops the server: every call fails with an error
// matching appeal.ErrUnavailable (the pipeline retries those) instead of a
// refusal, and the store works again after a restart without reopening.
func TestOutageIsUnavailable(t *testing.T) {
	srv := startPGServer(t)
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, srv.openDB())
	require.NoError(t, err)
	put(t, s, storetest.Sample("before"))

	srv.stop()
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err = s.Put(cctx, storetest.Sample("during"))
	assert.ErrorIs(t, err, appeal.ErrUnavailable)
	_, err = s.PutBatch(cctx, []appeal.Appeal{storetest.Sample("during-batch")})
	assert.ErrorIs(t, err, appeal.ErrUnavailable)
	var be *appeal.BatchError
	assert.False(t, errors.As(err, &be), "an outage is not a refusal")
	_, err = s.Get(cctx, "vk:before")
	assert.ErrorIs(t, err, appeal.ErrUnavailable)
	assert.ErrorIs(t, s.Save(cctx, "k", "v"), appeal.ErrUnavailable)
	require.NoError(t, cctx.Err(), "an outage is reported at once, not at the deadline")

	srv.start()
	created, err := s.Put(ctx, storetest.Sample("during"))
	require.NoError(t, err)
	assert.True(t, created)
	_, err = s.Get(ctx, "vk:before")
	require.NoError(t, err)
}

// TestSQLiteBusyIsUnavailable: another process holding SQLite's write lock
// past busy_timeout makes writes fail with appeal.ErrUnavailable.
func TestSQLiteBusyIsUnavailable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	dsn := "file:" + path + "?_pragma=busy_timeout(200)&_pragma=journal_mode(WAL)"
	db, err := sql.Open("sqlite", dsn)
	require.NoError(t, err)
	defer db.Close()
	s, err := sqlstore.Open(ctx, db)
	require.NoError(t, err)
	put(t, s, storetest.Sample("first"))

	other, err := sql.Open("sqlite", dsn)
	require.NoError(t, err)
	defer other.Close()
	conn, err := other.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, `BEGIN IMMEDIATE`)
	require.NoError(t, err)

	_, err = s.Put(ctx, storetest.Sample("second"))
	assert.ErrorIs(t, err, appeal.ErrUnavailable)
	_, err = s.PutBatch(ctx, []appeal.Appeal{storetest.Sample("third")})
	assert.ErrorIs(t, err, appeal.ErrUnavailable)
	_, err = s.Get(ctx, "vk:first")
	assert.NoError(t, err, "readers are not blocked by a writer in WAL mode")

	_, err = conn.ExecContext(ctx, `ROLLBACK`)
	require.NoError(t, err)
	created, err := s.Put(ctx, storetest.Sample("second"))
	require.NoError(t, err)
	assert.True(t, created)
}

// TestRefusedRowRetriedAlone: an appeal the database itself refuses (here a
// trigger) fails alone; the other appeals of its batch, and the concurrent
// Puts that shared its transaction, are stored.
func TestRefusedRowRetriedAlone(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			be.ready(t)
			ctx := context.Background()
			s := be.open(t)
			trigger := []string{`CREATE TRIGGER poison BEFORE INSERT ON appeals WHEN NEW.id = 'vk:poison'
				BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`}
			if s.Dialect() == sqlstore.Postgres {
				trigger = []string{`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
					BEGIN IF NEW.id = 'vk:poison' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$`,
					`CREATE TRIGGER poison BEFORE INSERT ON appeals FOR EACH ROW EXECUTE FUNCTION poison()`}
			}
			for _, q := range trigger {
				_, err := s.DB().ExecContext(ctx, q)
				require.NoError(t, err)
			}
			batch := []appeal.Appeal{storetest.Sample("ok1"), storetest.Sample("poison"), storetest.Sample("ok2")}
			created, err := s.PutBatch(ctx, batch, appeal.Checkpoint{Key: "in", Cursor: "3"})
			var bErr *appeal.BatchError
			require.ErrorAs(t, err, &bErr)
			require.Len(t, bErr.Items, 1)
			assert.Equal(t, 1, bErr.Items[0].Index)
			assert.ErrorContains(t, bErr.Items[0].Err, "poisoned row")
			assert.NotErrorIs(t, err, appeal.ErrUnavailable)
			assert.Equal(t, []bool{true, false, true}, created)
			cursor, err := s.Load(ctx, "in")
			require.NoError(t, err)
			assert.Empty(t, cursor, "no checkpoint past a refused appeal")

			// Group commit: the poisoned Put fails, its neighbours do not.
			var wg sync.WaitGroup
			errs := make([]error, 20)
			for i := range errs {
				wg.Go(func() {
					ext := fmt.Sprintf("gc%d", i)
					if i == 7 {
						ext = "poison"
					}
					_, errs[i] = s.Put(ctx, storetest.Sample(ext))
				})
			}
			wg.Wait()
			for i, err := range errs {
				if i == 7 {
					assert.ErrorContains(t, err, "poisoned row")
					continue
				}
				assert.NoError(t, err, "Put %d", i)
			}
			all, err := s.List(ctx, appeal.Filter{})
			require.NoError(t, err)
			assert.Len(t, all, 2+19)
		})
	}
}

// TestOpenRefusesCorruptSQLite: a file that is not a database, and a
// database with damaged pages, are refused at Open with ErrCorrupt.
func TestOpenRefusesCorruptSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	garbage := filepath.Join(dir, "garbage.db")
	require.NoError(t, os.WriteFile(garbage, []byte("this is not a database, it is a text file long enough to have a header"), 0o600))
	_, err := openFile(t, sqlstore.SQLiteDSN(garbage))
	assert.ErrorIs(t, err, sqlstore.ErrCorrupt)

	damaged := filepath.Join(dir, "damaged.db")
	s, err := openFile(t, sqlstore.SQLiteDSN(damaged))
	require.NoError(t, err)
	as := make([]appeal.Appeal, 300)
	for i := range as {
		as[i] = storetest.Sample(fmt.Sprintf("d%d", i))
	}
	_, err = s.PutBatch(ctx, as)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.DB().Close()) // checkpoints the WAL into the file
	f, err := os.OpenFile(damaged, os.O_RDWR, 0)
	require.NoError(t, err)
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(i*7 + 3)
	}
	_, err = f.WriteAt(junk, 4096*4)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = openFile(t, sqlstore.SQLiteDSN(damaged))
	require.ErrorIs(t, err, sqlstore.ErrCorrupt)
	t.Logf("refused: %v", err)
}

// TestOpenReadOnly: reading never creates or migrates a database: a missing
// file stays missing, a 0-byte file is refused as not an appeals database,
// and every write to a read-only store fails with ErrReadOnly.
func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	missing := filepath.Join(dir, "missing.db")
	_, err := openFile(t, sqlstore.SQLiteReadOnlyDSN(missing), sqlstore.WithReadOnly())
	assert.Error(t, err)
	_, statErr := os.Stat(missing)
	assert.True(t, os.IsNotExist(statErr), "a read-only open must not create the file")

	empty := filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	_, err = openFile(t, sqlstore.SQLiteReadOnlyDSN(empty), sqlstore.WithReadOnly())
	assert.ErrorIs(t, err, sqlstore.ErrNotAppealDB)
	fi, err := os.Stat(empty)
	require.NoError(t, err)
	assert.Zero(t, fi.Size(), "a read-only open must not write a schema")

	real := filepath.Join(dir, "real.db")
	w, err := openFile(t, sqlstore.SQLiteDSN(real))
	require.NoError(t, err)
	stored := put(t, w, storetest.Sample("ro"))
	r, err := openFile(t, sqlstore.SQLiteReadOnlyDSN(real), sqlstore.WithReadOnly())
	require.NoError(t, err)
	got, err := r.Get(ctx, stored.ID)
	require.NoError(t, err)
	assert.Equal(t, stored.Text, got.Text)
	_, err = r.Put(ctx, storetest.Sample("ro2"))
	assert.ErrorIs(t, err, sqlstore.ErrReadOnly)
	_, err = r.PutBatch(ctx, []appeal.Appeal{storetest.Sample("ro3")})
	assert.ErrorIs(t, err, sqlstore.ErrReadOnly)
	_, err = r.Transition(ctx, stored.ID, appeal.Change{To: appeal.StatusRejected, ExpectedVersion: 1})
	assert.ErrorIs(t, err, sqlstore.ErrReadOnly)
	assert.ErrorIs(t, r.Save(ctx, "k", "v"), sqlstore.ErrReadOnly)
	assert.ErrorIs(t, r.PutDeadLetter(ctx, appeal.DeadLetter{ID: "x"}), sqlstore.ErrReadOnly)
	_, err = r.UpdateAndEnqueue(ctx, stored.ID, stored.Version, func(*appeal.Appeal) error { return nil },
		appeal.OutboxMessage{Key: "k1", AppealID: stored.ID, Channel: "thread", Text: "Ответ"})
	assert.ErrorIs(t, err, sqlstore.ErrReadOnly)
}

func openFile(t *testing.T, dsn string, opts ...sqlstore.Option) (*sqlstore.Store, error) {
	t.Helper()
	db, err := sql.Open("sqlite", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	s, err := sqlstore.Open(context.Background(), db, opts...)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

func put(t *testing.T, s appeal.Store, a appeal.Appeal) appeal.Appeal {
	t.Helper()
	ctx := context.Background()
	_, err := s.Put(ctx, a)
	require.NoError(t, err)
	got, err := s.Get(ctx, appeal.NewID(a.Network, a.ExternalID))
	require.NoError(t, err)
	return got
}
