package jetstream_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
)

// pgSchema makes a fresh schema in APPEALKIT_PG_DSN (dropped at cleanup)
// and returns a function that opens a store on it with its own connection
// pool, as a separate worker process would; "" when the variable is unset.
func pgSchema(t testing.TB) func() appeal.Store {
	dsn := os.Getenv("APPEALKIT_PG_DSN")
	if dsn == "" {
		return nil
	}
	admin, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	schema := fmt.Sprintf("appealkit_cluster_%d", time.Now().UnixNano())
	_, err = admin.Exec(`CREATE SCHEMA ` + schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	if !strings.HasPrefix(dsn, "postgres") {
		sep = " "
	}
	return func() appeal.Store {
		db, err := sql.Open("pgx", dsn+sep+"search_path="+schema)
		require.NoError(t, err)
		db.SetMaxIdleConns(16)
		t.Cleanup(func() { db.Close() })
		s, err := sqlstore.Open(context.Background(), db)
		require.NoError(t, err)
		return s
	}
}
