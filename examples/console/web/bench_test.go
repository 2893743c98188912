package web_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	_ "modernc.org/sqlite"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/appeal/stats/statstest"
)

// benchEnv is a console over 5,000 synthetic appeals (about a week of a
// large region) in SQLite, as the example runs, signed in as login (the
// moderator sees them all).
func benchEnv(b *testing.B, login string) (*client, []appeal.Appeal) {
	b.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(b.TempDir(), "bench.db")))
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	store, err := sqlstore.Open(ctx, db)
	require.NoError(b, err)
	list := statstest.Generate(statstest.Options{N: 5000, Seed: 1, Now: now, Start: now.Add(-7 * 24 * time.Hour), Weeks: 1})
	// The "housing" operator's executor answers one appeal in twenty and
	// helps with another one in twenty: an operator's share of a region.
	for i := range list {
		if as := list[i].Assignment; as != nil {
			switch i % 20 {
			case 0:
				as.Executor = "housing-committee"
			case 10:
				as.CoExecutors = append(as.CoExecutors, "housing-committee")
			}
		}
	}
	_, err = store.PutBatch(ctx, list)
	require.NoError(b, err)
	e := newEnvWith(b, store, false)
	c := e.client(b)
	c.login(login)
	return c, list
}

func benchGet(b *testing.B, c *client, path string) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := c.http.Get(c.e.srv.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: HTTP %d", path, resp.StatusCode)
		}
	}
}

// The whole request, as a browser makes it: session, store listing,
// filtering, sorting by deadline, working time left per row, rendering.
func BenchmarkQueue5000(b *testing.B) {
	c, _ := benchEnv(b, "moderator")
	benchGet(b, c, "/queue")
}

// The counts every open queue asks for every RefreshEvery, for the centre
// and for an operator (who sees what the executor is on): counted by the
// store, not read.
func BenchmarkCounts5000(b *testing.B) {
	for _, login := range []string{"moderator", "housing"} {
		b.Run(login, func(b *testing.B) {
			c, _ := benchEnv(b, login)
			benchGet(b, c, "/counts")
		})
	}
}

// An operator's queue: the store reads only the appeals the operator's
// executor is on.
func BenchmarkQueue5000Operator(b *testing.B) {
	c, _ := benchEnv(b, "housing")
	benchGet(b, c, "/queue")
}

func BenchmarkCard5000(b *testing.B) {
	c, list := benchEnv(b, "moderator")
	benchGet(b, c, "/appeals/"+string(list[len(list)/2].ID))
}

func BenchmarkReports5000(b *testing.B) {
	c, _ := benchEnv(b, "analyst")
	benchGet(b, c, "/reports")
}
