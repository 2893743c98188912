package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/classify"
)

// spbPath is the St Petersburg portal export (47,911 messages), beside the
// repository.
const spbPath = "../../../shared/data/spb/dev.jsonl.gz"

// BenchmarkEndToEnd runs what `go run ./examples/quickstart -sample
// ../shared/data/spb/dev.jsonl.gz` runs (replay → classify with the shipped
// rubricator and gazetteer → route with the example region rules → store)
// over the whole St Petersburg file, into SQLite and PostgreSQL, with one
// input and with the file split across four. Each iteration starts from an
// empty database. It reports:
//
//   - appeals/s: stored appeals per second of the pipeline run;
//   - classify/s: the classifier alone on one goroutine over the same
//     appeals, measured right after the run (the ceiling for one core);
//   - peak-RSS-MB: the process's peak resident memory so far (VmHWM),
//     read before the classifier's own run.
//
// Run it with -benchtime=1x: one iteration is 47,911 appeals.
//
//	.ci/postgres.sh go test -run '^$' -bench EndToEnd -benchtime 1x ./examples/quickstart
func BenchmarkEndToEnd(b *testing.B) {
	if _, err := os.Stat(spbPath); err != nil {
		b.Skipf("%s is absent: the end-to-end benchmark needs the St Petersburg sample", spbPath)
	}
	dir := b.TempDir()
	converted := filepath.Join(dir, "spb.jsonl")
	n, err := convertPortal(spbPath, converted)
	require.NoError(b, err)
	parts, err := splitLines(converted, 4, dir)
	require.NoError(b, err)
	classifier, err := newClassifier("")
	require.NoError(b, err)
	engine, err := newEngine("")
	require.NoError(b, err)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

	stores := []struct {
		name string
		open func(b *testing.B, i int) *sqlstore.Store
	}{
		{"SQLite", func(b *testing.B, i int) *sqlstore.Store {
			return openBenchStore(b, "sqlite", sqlstore.SQLiteDSN(filepath.Join(b.TempDir(), fmt.Sprintf("e2e-%d.db", i))))
		}},
		{"Postgres", func(b *testing.B, i int) *sqlstore.Store {
			dsn := os.Getenv("APPEALKIT_PG_DSN")
			if dsn == "" {
				if os.Getenv("CI") == "true" {
					b.Fatal("APPEALKIT_PG_DSN is not set under CI")
				}
				b.Skip("APPEALKIT_PG_DSN is not set: skipping PostgreSQL")
			}
			return openBenchStore(b, "pgx", pgSchemaDSN(b, dsn))
		}},
	}
	for _, st := range stores {
		for _, inputs := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/inputs=%d", st.name, inputs), func(b *testing.B) {
				paths := []string{converted}
				if inputs > 1 {
					paths = parts
				}
				b.ReportAllocs()
				var stored int
				var run time.Duration
				i := 0
				for b.Loop() {
					b.StopTimer()
					store := st.open(b, i)
					i++
					b.StartTimer()
					t, took, err := ingest(context.Background(), store, classifier, engine, paths, now)
					require.NoError(b, err)
					require.Equal(b, n, t.stored, "every appeal of the file is stored once")
					stored += t.stored
					run += took
				}
				b.ReportMetric(float64(stored)/run.Seconds(), "appeals/s")
				// Read before the classifier's own run, so that the peak
				// is the pipeline's (and any earlier sub-benchmark's).
				b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
				b.ReportMetric(classifierAlone(b, classifier, converted), "classify/s")
			})
		}
	}
}

// classifierAlone runs the pipeline's classification step (the same
// adapter the pipeline calls) over every appeal of path once, on one
// goroutine, and returns appeals per second of classification. Appeals are
// decoded one at a time and only the classification is timed.
func classifierAlone(b *testing.B, c *classify.Engine, path string) float64 {
	b.Helper()
	f, err := os.Open(path)
	require.NoError(b, err)
	defer f.Close()
	step := appealkit.Classify(c, appealkit.ClassifyOptions{})
	ctx := context.Background()
	dec := json.NewDecoder(bufio.NewReader(f))
	var took time.Duration
	n := 0
	for dec.More() {
		var a appeal.Appeal
		require.NoError(b, dec.Decode(&a))
		start := time.Now()
		require.NoError(b, step.ClassifyAppeal(ctx, &a))
		took += time.Since(start)
		n++
	}
	return float64(n) / took.Seconds()
}

func openBenchStore(b *testing.B, driver, dsn string) *sqlstore.Store {
	db, err := sql.Open(driver, dsn)
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	s, err := sqlstore.Open(context.Background(), db)
	require.NoError(b, err)
	return s
}

// pgSchemaDSN creates a fresh schema in the database of dsn, dropped at the
// end of the benchmark, and returns a DSN that works in it.
func pgSchemaDSN(b *testing.B, dsn string) string {
	admin, err := sql.Open("pgx", dsn)
	require.NoError(b, err)
	schema := fmt.Sprintf("appealkit_e2e_%d", time.Now().UnixNano())
	_, err = admin.Exec(`CREATE SCHEMA ` + schema)
	require.NoError(b, err)
	b.Cleanup(func() {
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// peakRSSMB reads the process's peak resident set size (Linux VmHWM); 0
// elsewhere.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}
