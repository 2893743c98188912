package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/appealkit/appealkit/appeal/sqlstore"
)

// sqliteDSN is how the tests (and the docs) open SQLite: WAL, so that
// readers do not block the writer, and a busy timeout for other processes.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)"
}

// openSQLite opens a store in a fresh temp file.
func openSQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "appeals.db")))
	require.NoError(t, err)
	db.SetMaxIdleConns(16)
	t.Cleanup(func() { db.Close() })
	s, err := sqlstore.Open(context.Background(), db)
	require.NoError(t, err)
	require.Equal(t, sqlstore.SQLite, s.Dialect())
	return s
}

// pgDSN returns APPEALKIT_PG_DSN or skips the test; under CI, where
// .ci/run always starts PostgreSQL, a missing DSN fails instead, so the
// PostgreSQL half of the suite cannot go silently untested.
func pgDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("APPEALKIT_PG_DSN")
	if dsn == "" && os.Getenv("CI") == "true" {
		t.Fatal("APPEALKIT_PG_DSN is not set under CI: .ci/run should have started PostgreSQL (.ci/postgres.sh)")
	}
	if dsn == "" {
		t.Skip("APPEALKIT_PG_DSN is not set: skipping PostgreSQL tests (run them with .ci/postgres.sh go test ./appeal/sqlstore/)")
	}
	return dsn
}

// withParam adds a connection parameter to a URL or key=value DSN.
func withParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + key + "=" + value
	}
	return dsn + " " + key + "=" + value
}

// pgSchema creates a fresh schema in the database APPEALKIT_PG_DSN names,
// drops it when the test ends (so reruns start clean) and returns a DSN
// whose connections use it.
func pgSchema(t testing.TB) string {
	t.Helper()
	dsn := pgDSN(t)
	admin, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "appealkit_test_" + hex.EncodeToString(b[:])
	_, err = admin.Exec(`CREATE SCHEMA ` + schema)
	require.NoError(t, err, "create test schema")
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	return withParam(dsn, "search_path", schema)
}

// openPG opens a store in a fresh schema.
func openPG(t testing.TB) *sqlstore.Store {
	t.Helper()
	dsn := pgSchema(t)
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	db.SetMaxIdleConns(16)
	t.Cleanup(func() { db.Close() }) // runs before the schema is dropped
	s, err := sqlstore.Open(context.Background(), db)
	require.NoError(t, err)
	require.Equal(t, sqlstore.Postgres, s.Dialect())
	return s
}

// backends lists the stores every test below runs on.
var backends = []struct {
	name  string
	ready func(testing.TB) // skips when the backend is not available
	open  func(testing.TB) *sqlstore.Store
}{
	{"SQLite", func(testing.TB) {}, openSQLite},
	{"Postgres", func(t testing.TB) { pgDSN(t) }, openPG},
}
