package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/appeal/storetest"
)

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.ready(t)
			storetest.Run(t, func(t *testing.T) appeal.Store { return b.open(t) })
		})
	}
}

// TestConformanceValuesPath runs the suite on PostgreSQL through the
// multi-row VALUES statements that drivers other than pgx get.
func TestConformanceValuesPath(t *testing.T) {
	pgDSN(t)
	storetest.Run(t, func(t *testing.T) appeal.Store {
		s := openPG(t)
		sqlstore.SetArrays(s, false)
		return s
	})
}

// TestOneOpenConnection: with the pool capped at one connection the SQLite
// store does not keep it for writing, so reads still get it.
func TestOneOpenConnection(t *testing.T) {
	db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "one.db")))
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := sqlstore.Open(ctx, db)
	require.NoError(t, err)
	for i := range 3 {
		_, err := s.Put(ctx, storetest.Sample(fmt.Sprint(i)))
		require.NoError(t, err)
		_, err = s.Get(ctx, appeal.ID(fmt.Sprintf("vk:%d", i)))
		require.NoError(t, err)
	}
	list, err := s.List(ctx, appeal.Filter{})
	require.NoError(t, err)
	assert.Len(t, list, 3)
}
