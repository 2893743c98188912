package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/appeal/storetest"
)

// TestCancelledBeginLeavesNoTransaction: modernc's driver reports ctx's
// error for a statement during which ctx ended even when the statement ran
// to the end, so a BEGIN IMMEDIATE can open the transaction and still
// report context.Canceled. The writer must not keep that transaction open:
// the next write would fail "cannot start a transaction within a
// transaction" (seen as a flake of TestGroupCommitCancellation). The hook
// plays the driver's part deterministically: BEGIN runs, then the caller
// cancels and the result becomes ctx's error.
func TestCancelledBeginLeavesNoTransaction(t *testing.T) {
	for _, batch := range []int{1, 0} { // 1: Put writes alone; 0: group commit
		t.Run(map[int]string{1: "alone", 0: "group"}[batch], func(t *testing.T) {
			db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "appeals.db")))
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			var opts []sqlstore.Option
			if batch > 0 {
				opts = append(opts, sqlstore.WithMaxBatch(batch))
			}
			s, err := sqlstore.Open(context.Background(), db, opts...)
			require.NoError(t, err)
			ctx := context.Background()
			pctx, cancel := context.WithCancel(ctx)
			defer cancel()
			var fired atomic.Bool
			sqlstore.SetBeginResult(s, func(bctx context.Context, err error) error {
				if err != nil || !fired.CompareAndSwap(false, true) {
					return err
				}
				cancel()
				<-bctx.Done() // group commit: its ctx ends once the caller's has
				return bctx.Err()
			})
			_, err = s.Put(pctx, storetest.Sample("left"))
			require.ErrorIs(t, err, context.Canceled)
			require.True(t, fired.Load())

			created, err := s.Put(ctx, storetest.Sample("after"))
			require.NoError(t, err, "the writer kept the cancelled BEGIN's transaction open")
			assert.True(t, created)
			_, err = s.Get(ctx, "vk:after")
			require.NoError(t, err)
			_, err = s.Get(ctx, "vk:left")
			assert.ErrorIs(t, err, appeal.ErrNotFound)
			require.NoError(t, s.Close())
		})
	}
}
