package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/appeal/storetest"
)

func TestOpenMigratesOnceConcurrently(t *testing.T) {
	ctx := context.Background()
	for _, be := range []struct {
		name, driver string
		dsn          func(t *testing.T) string
	}{
		{"SQLite", "sqlite", func(t *testing.T) string { return sqliteDSN(filepath.Join(t.TempDir(), "m.db")) }},
		{"Postgres", "pgx", func(t *testing.T) string { return pgSchema(t) }},
	} {
		t.Run(be.name, func(t *testing.T) {
			dsn := be.dsn(t)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() {
					// Separate pools: like separate processes.
					db, err := sql.Open(be.driver, dsn)
					if err != nil {
						errs[i] = err
						return
					}
					defer db.Close()
					_, errs[i] = sqlstore.Open(ctx, db)
				})
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			db, err := sql.Open(be.driver, dsn)
			require.NoError(t, err)
			defer db.Close()
			var n, v int
			require.NoError(t, db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &v))
			assert.Equal(t, sqlstore.SchemaVersion(), n, "each migration applied once")
			assert.Equal(t, sqlstore.SchemaVersion(), v)
			// Opening a migrated database again is a no-op.
			_, err = sqlstore.Open(ctx, db)
			require.NoError(t, err)
		})
	}
}

func TestOpenRefusesNewerSchemaAndUnknownDialect(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	_, err := s.DB().Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`)
	require.NoError(t, err)
	_, err = sqlstore.Open(ctx, s.DB())
	assert.ErrorIs(t, err, sqlstore.ErrSchemaTooNew)
	assert.ErrorContains(t, err, "999")

	_, err = sqlstore.Open(ctx, s.DB(), sqlstore.WithDialect("oracle"))
	assert.ErrorIs(t, err, sqlstore.ErrUnknownDialect)
	_, err = sqlstore.Open(ctx, s.DB(), sqlstore.WithMaxBatch(0))
	assert.ErrorContains(t, err, "max batch")
	_, err = sqlstore.Open(ctx, nil)
	assert.Error(t, err)
	assert.Equal(t, sqlstore.SQLite, sqlstore.DetectDialect(s.DB()))
}

func TestPutBatch(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			be.ready(t)
			ctx := context.Background()
			s := be.open(t)
			_, err := s.Put(ctx, storetest.Sample("b1"))
			require.NoError(t, err)
			batch := []appeal.Appeal{storetest.Sample("b0"), storetest.Sample("b1"), storetest.Sample("b2"), storetest.Sample("b0")}
			created, err := s.PutBatch(ctx, batch)
			require.NoError(t, err)
			assert.Equal(t, []bool{true, false, true, false}, created)
			list, err := s.List(ctx, appeal.Filter{Topic: "garbage"})
			require.NoError(t, err)
			assert.Len(t, list, 3, "topics of batch-written appeals are indexed")

			// One invalid appeal does not fail the others.
			bad := []appeal.Appeal{storetest.Sample("b3"), {Network: appeal.NetworkVK}}
			created, err = s.PutBatch(ctx, bad)
			assert.ErrorIs(t, err, appeal.ErrInvalid)
			assert.ErrorContains(t, err, "appeal #1")
			var be *appeal.BatchError
			require.ErrorAs(t, err, &be)
			require.Len(t, be.Items, 1)
			assert.Equal(t, 1, be.Items[0].Index)
			assert.Equal(t, []bool{true, false}, created)
			_, err = s.Get(ctx, "vk:b3")
			assert.NoError(t, err, "the good appeal of a batch with a bad one is stored")

			// Bigger than one transaction (default 500).
			many := make([]appeal.Appeal, 1203)
			for i := range many {
				many[i] = storetest.Sample(fmt.Sprintf("m%d", i))
			}
			created, err = s.PutBatch(ctx, many)
			require.NoError(t, err)
			require.Len(t, created, len(many))
			for i, c := range created {
				require.True(t, c, i)
			}
			all, err := s.List(ctx, appeal.Filter{})
			require.NoError(t, err)
			assert.Len(t, all, 4+len(many))
		})
	}
}

func TestHistoryAndOrderingEdges(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			be.ready(t)
			ctx := context.Background()
			s := be.open(t)
			// An imported appeal that arrives with its history.
			msk := time.FixedZone("MSK", 3*3600)
			imp := storetest.Sample("imp")
			imp.Status = appeal.StatusAnswered
			imp.History = []appeal.Event{
				{At: time.Date(2025, 5, 1, 10, 0, 0, 0, msk), Actor: "legacy", From: appeal.StatusNew, To: appeal.StatusRouted, Note: "imported"},
				{At: time.Date(2025, 5, 2, 10, 0, 0, 0, msk), Actor: "legacy", From: appeal.StatusRouted, To: appeal.StatusAnswered},
			}
			_, err := s.Put(ctx, imp)
			require.NoError(t, err)
			got, err := s.Get(ctx, "vk:imp")
			require.NoError(t, err)
			require.Len(t, got.History, 2)
			assert.Equal(t, imp.History[1].At.Format(time.RFC3339Nano), got.History[1].At.Format(time.RFC3339Nano), "the zone offset survives")
			res, err := s.Transition(ctx, "vk:imp", appeal.Change{To: appeal.StatusResolved, ExpectedVersion: 1, Actor: "op"})
			require.NoError(t, err)
			require.Len(t, res.History, 3)
			got, err = s.Get(ctx, "vk:imp")
			require.NoError(t, err)
			assert.Equal(t, "op", got.History[2].Actor)

			// A stale transition says which version is stored.
			_, err = s.Transition(ctx, "vk:imp", appeal.Change{To: appeal.StatusReopened, ExpectedVersion: 1})
			var ce *appeal.ConflictError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, int64(2), ce.Actual)

			// An appeal without CreatedAt sorts first, as appeal.Less says.
			noTime := storetest.Sample("notime")
			noTime.CreatedAt = time.Time{}
			_, err = s.Put(ctx, noTime)
			require.NoError(t, err)
			all, err := s.List(ctx, appeal.Filter{})
			require.NoError(t, err)
			require.Len(t, all, 2)
			assert.Equal(t, appeal.ID("vk:notime"), all[0].ID)
			after, err := s.List(ctx, appeal.Filter{AfterID: "vk:notime"})
			require.NoError(t, err)
			require.Len(t, after, 1)
			assert.Equal(t, appeal.ID("vk:imp"), after[0].ID)
		})
	}
}

func TestCheckpoints(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			be.ready(t)
			ctx := context.Background()
			s := be.open(t)
			c, err := s.Load(ctx, "vk")
			require.NoError(t, err)
			assert.Empty(t, c)
			require.NoError(t, s.Save(ctx, "vk", "ts=1"))
			require.NoError(t, s.Save(ctx, "vk", "ts=2"))
			require.NoError(t, s.Save(ctx, "tg", "update=9"))
			c, err = s.Load(ctx, "vk")
			require.NoError(t, err)
			assert.Equal(t, "ts=2", c)
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			assert.ErrorIs(t, s.Save(cctx, "vk", "ts=3"), context.Canceled)
			c, err = s.Load(ctx, "vk")
			require.NoError(t, err)
			assert.Equal(t, "ts=2", c)
		})
	}
}

// TestGroupCommitCancellation: under concurrent Puts, some with contexts
// cancelled at random moments, a Put that returned nil is stored and one
// that returned an error is not.
func TestGroupCommitCancellation(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			be.ready(t)
			s := be.open(t)
			ctx := context.Background()
			const n = 200
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					pctx, cancel := context.WithCancel(ctx)
					defer cancel()
					if i%2 == 1 {
						go func() {
							time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
							cancel()
						}()
					}
					_, errs[i] = s.Put(pctx, storetest.Sample(fmt.Sprintf("g%d", i)))
				})
			}
			wg.Wait()
			var failed int
			for i, err := range errs {
				_, gerr := s.Get(ctx, appeal.ID(fmt.Sprintf("vk:g%d", i)))
				if err != nil {
					failed++
					require.ErrorIs(t, err, context.Canceled)
					assert.ErrorIs(t, gerr, appeal.ErrNotFound, "Put %d failed but stored", i)
				} else {
					assert.NoError(t, gerr, "Put %d succeeded but is not stored", i)
				}
			}
			t.Logf("%d of %d puts were cancelled before being written", failed, n)
		})
	}
}

// TestGroupCommitInterruptedCommitIsReadBack: when every caller of a group
// commit leaves while its COMMIT runs, the COMMIT is interrupted and the
// server may have committed anyway (here it has: the hook reports the
// interruption after a successful COMMIT). The callers were committing,
// so they wait, and the store reads the rows back: a Put that returned nil
// is stored, one that returned an error is not, and the interrupted one is
// among the first.
func TestGroupCommitInterruptedCommitIsReadBack(t *testing.T) {
	pgDSN(t)
	s := openPG(t)
	const n = 3
	ctxs, cancels := make([]context.Context, n), make([]context.CancelFunc, n)
	for i := range n {
		ctxs[i], cancels[i] = context.WithCancel(context.Background())
	}
	var interrupted atomic.Int32
	sqlstore.SetCommitResult(s, func(gate context.Context, err error) error {
		if err != nil || interrupted.Load() > 0 {
			return err
		}
		interrupted.Add(1)
		for _, cancel := range cancels {
			cancel()
		}
		<-gate.Done() // every caller of this batch has left
		return fmt.Errorf("conn closed: %w", gate.Err())
	})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = s.Put(ctxs[i], storetest.Sample(fmt.Sprintf("ic%d", i))) })
	}
	wg.Wait()
	require.Equal(t, int32(1), interrupted.Load(), "the hook ran")
	ok := 0
	for i, err := range errs {
		_, gerr := s.Get(context.Background(), appeal.ID(fmt.Sprintf("vk:ic%d", i)))
		if err != nil {
			require.ErrorIs(t, err, context.Canceled)
			assert.ErrorIs(t, gerr, appeal.ErrNotFound, "Put %d failed but stored", i)
			continue
		}
		ok++
		assert.NoError(t, gerr, "Put %d succeeded but is not stored", i)
	}
	assert.Positive(t, ok, "the interrupted batch was committed and its callers told so")
}

// The filters a console asks for on every page use their indexes in
// SQLite (the query List really runs, explained): "overdue for executor X"
// the partial index of appeals awaiting an answer, an incident's members
// the partial index of linked appeals, a thread its network's index.
func TestFiltersUseTheirIndexes(t *testing.T) {
	s := openSQLite(t)
	for _, tc := range []struct {
		f     appeal.Filter
		index string
	}{
		{appeal.Filter{Executor: "x", OverdueAt: time.Unix(1, 0)}, "appeals_overdue"},
		{appeal.Filter{Incident: "inc-1"}, "appeals_incident"},
		{appeal.Filter{Network: appeal.NetworkVK, ThreadRoot: "-1_10"}, "appeals_network"},
	} {
		q, args := sqlstore.ListSQL(s, tc.f)
		rows, err := s.DB().Query(`EXPLAIN QUERY PLAN `+q, args...)
		require.NoError(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
			plan = append(plan, detail)
		}
		require.NoError(t, rows.Err())
		rows.Close()
		assert.Contains(t, strings.Join(plan, "\n"), tc.index, "plan: %v", plan)
	}
}

func TestGetReportsCorruptDocument(t *testing.T) {
	s := openSQLite(t)
	ctx := context.Background()
	_, err := s.Put(ctx, storetest.Sample("x"))
	require.NoError(t, err)
	_, err = s.DB().Exec(`UPDATE appeals SET doc = '{"id": 1' WHERE id = 'vk:x'`)
	require.NoError(t, err)
	_, err = s.Get(ctx, "vk:x")
	require.Error(t, err)
	assert.ErrorContains(t, err, "vk:x")
	assert.False(t, errors.Is(err, appeal.ErrNotFound))
}

// TestOverlappingBatchesDoNotDeadlock: concurrent PutBatch calls over the
// same appeals in opposite orders (redeliveries from two sources) all
// succeed, and each appeal is created once. Only PostgreSQL runs batches
// concurrently (SQLite has one writer), so only it could deadlock.
func TestOverlappingBatchesDoNotDeadlock(t *testing.T) {
	for _, be := range backends[1:] {
		t.Run(be.name, func(t *testing.T) {
			be.ready(t)
			s := be.open(t)
			ctx := context.Background()
			for round := range 3 {
				forward := make([]appeal.Appeal, 250)
				for i := range forward {
					forward[i] = storetest.Sample(fmt.Sprintf("o%d-%03d", round, i))
				}
				backward := slices.Clone(forward)
				slices.Reverse(backward)
				var wg sync.WaitGroup
				var mu sync.Mutex
				created := 0
				for w := range 6 {
					wg.Go(func() {
						batch := forward
						if w%2 == 1 {
							batch = backward
						}
						got, err := s.PutBatch(ctx, batch)
						if !assert.NoError(t, err) {
							return
						}
						mu.Lock()
						for _, c := range got {
							if c {
								created++
							}
						}
						mu.Unlock()
					})
				}
				wg.Wait()
				require.Equal(t, len(forward), created, "round %d", round)
			}
		})
	}
}
