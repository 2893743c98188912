package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/appeal/storetest"
)

// benchBackends runs fn on SQLite and, when APPEALKIT_PG_DSN is set, on
// PostgreSQL.
func benchBackends(b *testing.B, fn func(b *testing.B, s *sqlstore.Store)) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			be.ready(b)
			fn(b, be.open(b))
		})
	}
}

// samples returns n distinct realistic appeals, from a prefix unique to the
// caller so that repeated runs on one store never collide.
func samples(prefix string, n int) []appeal.Appeal {
	out := make([]appeal.Appeal, n)
	for i := range out {
		out[i] = storetest.Sample(fmt.Sprintf("%s-%d", prefix, i))
	}
	return out
}

func reportRate(b *testing.B, appeals int) {
	b.ReportMetric(float64(appeals)/b.Elapsed().Seconds(), "appeals/s")
}

// BenchmarkPut stores appeals one at a time from one goroutine: one
// transaction per appeal, the worst case.
func BenchmarkPut(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *sqlstore.Store) {
		ctx := context.Background()
		as := samples("put", 100_000)
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			if _, err := s.Put(ctx, as[n%len(as)]); err != nil {
				b.Fatal(err)
			}
			n++
		}
		reportRate(b, n)
	})
}

// BenchmarkPutParallel stores appeals from 16 goroutines; group commit
// coalesces their Put calls into shared transactions.
func BenchmarkPutParallel(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *sqlstore.Store) {
		ctx := context.Background()
		var next atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(8) // 8 × GOMAXPROCS goroutines
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				a := storetest.Sample(fmt.Sprintf("par-%d", next.Add(1)))
				if _, err := s.Put(ctx, a); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportRate(b, int(next.Load()))
	})
}

// BenchmarkPutBatch stores appeals with PutBatch, 500 per transaction.
func BenchmarkPutBatch(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *sqlstore.Store) {
		ctx := context.Background()
		const batch = 500
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			created, err := s.PutBatch(ctx, samples(fmt.Sprintf("batch%d", n), batch))
			if err != nil {
				b.Fatal(err)
			}
			if !created[0] {
				b.Fatal("batch was not new")
			}
			n++
		}
		reportRate(b, n*batch)
	})
}

// routedSamples returns n appeals shaped like the pipeline's single write:
// classified, routed in memory (status routed, an assignment, one history
// event) and a text of typical length (about 400 characters), from a prefix
// unique to the caller, created a second apart from start on (intake is
// roughly in time order).
func routedSamples(prefix string, start time.Time, n int) []appeal.Appeal {
	at := start
	text := strings.Repeat("Во дворе дома 5 по улице Ленина третью неделю не вывозят мусор. ", 6)
	out := make([]appeal.Appeal, n)
	for i := range out {
		a := storetest.Sample(prefix + "-" + strconv.Itoa(i))
		a.Text = text
		a.CreatedAt = at.Add(time.Duration(i) * time.Second)
		a.Status = appeal.StatusRouted
		a.Assignment = &appeal.Assignment{Executor: "exec-" + strconv.Itoa(i%50), Deadline: a.CreatedAt.Add(72 * time.Hour),
			Priority: appeal.PriorityNormal, RuleID: "garbage-kursk"}
		a.History = []appeal.Event{{At: a.CreatedAt.Add(time.Millisecond), Actor: "pipeline", From: appeal.StatusNew, To: appeal.StatusRouted, Note: "rule garbage-kursk"}}
		out[i] = a
	}
	return out
}

var benchStart = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// BenchmarkPutBatchRouted is the store's share of the pipeline's write path:
// batches of 500 routed appeals (appeal row, two topics, one history event)
// with the source's checkpoint in the same transaction. The appeals are
// built outside the timer; rows/s counts appeals.
func BenchmarkPutBatchRouted(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *sqlstore.Store) {
		ctx := context.Background()
		const batch = 500
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			b.StopTimer()
			as := routedSamples("routed"+strconv.Itoa(n), benchStart.Add(time.Duration(n*batch)*time.Second), batch)
			b.StartTimer()
			created, err := s.PutBatch(ctx, as, appeal.Checkpoint{Key: "bench", Cursor: strconv.Itoa(n)})
			if err != nil {
				b.Fatal(err)
			}
			if !created[batch-1] {
				b.Fatal("batch was not new")
			}
			n++
		}
		reportRate(b, n*batch)
	})
}

// BenchmarkTransition routes stored appeals one at a time.
func BenchmarkTransition(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *sqlstore.Store) {
		ctx := context.Background()
		as := samples("tr", 20_000)
		for start := 0; start < len(as); start += 500 {
			if _, err := s.PutBatch(ctx, as[start:start+500]); err != nil {
				b.Fatal(err)
			}
		}
		now := time.Now()
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			a := as[n%len(as)]
			version := int64(1 + n/len(as))
			_, err := s.Transition(ctx, appeal.NewID(a.Network, a.ExternalID), appeal.Change{
				To: appeal.StatusRouted, Actor: "bench", At: now, ExpectedVersion: version,
				Assignment: &appeal.Assignment{Executor: fmt.Sprintf("exec-%d", n%50), Deadline: now.Add(24 * time.Hour)},
			})
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		reportRate(b, n)
	})
}

// Population of the million-appeal benchmark: 1,000,000 appeals two minutes
// apart (about 3.8 years of a busy region), 200 executors, 30
// municipalities. The newest 2% still await an answer (routed), as do 0.25%
// of older ones stuck in progress; everything else is resolved. Deadlines
// are 72 hours after creation, so at the end of the period about 100
// appeals per executor are overdue.
const (
	millionRows      = 1_000_000
	millionExecutors = 200
)

var millionBase = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

// seedMillion fills the store's tables inside the database (no round trip
// per row); every row has a full JSON document and one history event, like
// rows the store writes itself.
func seedMillion(b *testing.B, s *sqlstore.Store) time.Time {
	ctx := context.Background()
	base := millionBase.Unix()
	pg := s.Dialect() == sqlstore.Postgres
	ts := func(expr string) string {
		if pg {
			return `to_char(to_timestamp(` + expr + `) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
		}
		return `strftime('%Y-%m-%dT%H:%M:%SZ', ` + expr + `, 'unixepoch')`
	}
	obj, arr, yes := "json_object", "json_array", "json('true')"
	with, from := fmt.Sprintf(`WITH RECURSIVE t(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM t WHERE g < %d) `, millionRows), "t"
	if pg {
		obj, arr, yes = "json_build_object", "json_build_array", "true"
		with, from = "", fmt.Sprintf("generate_series(1, %d) AS t(g)", millionRows)
	}
	status := `CASE WHEN g > 980000 THEN 'routed' WHEN g % 400 = 7 THEN 'in_progress' ELSE 'resolved' END`
	created := fmt.Sprintf(`(%d + g * 120)`, base)
	executor := fmt.Sprintf(`'exec-' || (g %% %d)`, millionExecutors)
	stmt := with + `INSERT INTO appeals (id, network, status, municipality, executor, deadline, created_at, version, history_len, doc)
		SELECT 'vk:' || g, 'vk', ` + status + `, 'muni-' || (g % 30), ` + executor + `,
			CAST(` + created + ` + 72 * 3600 AS BIGINT) * 1000000000, CAST(` + created + ` AS BIGINT) * 1000000000, 2, 1,
			` + obj + `(
				'id', 'vk:' || g, 'network', 'vk', 'kind', 'comment', 'external_id', CAST(g AS TEXT),
				'url', 'https://vk.com/wall-1_' || g,
				'text', 'Во дворе дома ' || (g % 97) || ' по улице Ленина третью неделю не вывозят мусор, просим принять меры',
				'author', ` + obj + `('id', 'id' || g, 'name', 'Житель'),
				'community', ` + obj + `('id', '-1', 'name', 'Администрация района', 'official', ` + yes + `),
				'created_at', ` + ts(created) + `, 'received_at', ` + ts(created+" + 2") + `,
				'topics', ` + arr + `(` + obj + `('code', 'garbage', 'score', 0.91)),
				'municipality', 'muni-' || (g % 30),
				'assignment', ` + obj + `('executor', ` + executor + `,
					'deadline', ` + ts(created+" + 72 * 3600") + `, 'priority', 'normal', 'rule_id', 'r-' || (g % 40)),
				'status', ` + status + `, 'version', 0)
		FROM ` + from
	history := with + `INSERT INTO appeal_history (appeal_id, seq, at, actor, from_status, to_status, note)
		SELECT 'vk:' || g, 0, ` + ts(created+" + 60") + `, 'pipeline', 'new', 'routed', 'rule r-' || (g % 40)
		FROM ` + from
	start := time.Now()
	// Bulk load the way one restores a dump: drop the secondary indexes,
	// insert, build them again (much faster than index maintenance per row).
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	indexes := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('appeals', 'appeal_history')`
	if pg {
		indexes = `SELECT indexname, indexdef FROM pg_indexes
			WHERE schemaname = current_schema() AND tablename IN ('appeals', 'appeal_history') AND indexname NOT LIKE '%pkey'`
	}
	rows, err := conn.QueryContext(ctx, indexes)
	if err != nil {
		b.Fatal(err)
	}
	var drops, creates []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			b.Fatal(err)
		}
		drops = append(drops, `DROP INDEX `+name)
		creates = append(creates, def)
	}
	rows.Close()
	var steps []string
	if pg {
		steps = append(steps, `SET maintenance_work_mem = '256MB'`)
	}
	steps = append(steps, drops...)
	steps = append(steps, stmt, history)
	steps = append(steps, creates...)
	steps = append(steps, `ANALYZE appeals`, `ANALYZE appeal_history`)
	for _, q := range steps {
		t := time.Now()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
		if d := time.Since(t); d > 5*time.Second {
			b.Logf("seed step took %s: %.60s", d.Round(time.Millisecond), strings.Join(strings.Fields(q), " "))
		}
	}
	b.Logf("seeded %d appeals in %s", millionRows, time.Since(start).Round(time.Millisecond))
	return time.Unix(base+millionRows*120, 0).UTC()
}

// BenchmarkListOverdueMillion lists everything overdue for one executor
// among 1,000,000 appeals, on SQLite and (with APPEALKIT_PG_DSN) on
// PostgreSQL. Each seeds for a while (about a minute) before it measures.
func BenchmarkListOverdueMillion(b *testing.B) {
	benchBackends(b, benchListOverdue)
}

func benchListOverdue(b *testing.B, s *sqlstore.Store) {
	now := seedMillion(b, s)
	ctx := context.Background()
	f := appeal.Filter{Executor: "exec-42", OverdueAt: now}
	first, err := s.List(ctx, f)
	if err != nil {
		b.Fatal(err)
	}
	if len(first) == 0 {
		b.Fatal("no overdue appeals: the seed is wrong")
	}
	for _, a := range first {
		if !f.Match(&a) || len(a.History) != 1 {
			b.Fatalf("List returned %s which does not match or lacks history", a.ID)
		}
	}
	b.Logf("%d overdue appeals for %s", len(first), f.Executor)
	logPlan(b, s)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f.Executor = fmt.Sprintf("exec-%d", i%millionExecutors)
		if _, err := s.List(ctx, f); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// logPlan shows which index the database picks for the overdue query.
func logPlan(b *testing.B, s *sqlstore.Store) {
	q := `SELECT id, version, history_len, doc FROM appeals WHERE executor = 'exec-42'
		AND deadline IS NOT NULL AND status IN ('new', 'routed', 'in_progress', 'reopened') AND deadline < 1 ORDER BY created_at, id`
	if s.Dialect() == sqlstore.Postgres {
		q = "EXPLAIN " + q
	} else {
		q = "EXPLAIN QUERY PLAN " + q // the last column is the detail
	}
	rows, err := s.DB().Query(q)
	if err != nil {
		b.Logf("explain: %v", err)
		return
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(any)
		}
		_ = rows.Scan(vals...)
		line := *(vals[len(vals)-1].(*any))
		plan = append(plan, fmt.Sprint(line))
	}
	b.Logf("plan:\n%s", strings.Join(plan, "\n"))
}

// BenchmarkRawPreparedInserts is the yardstick for BenchmarkPutBatchRouted
// on SQLite: the same rows (appeal, topics, history, checkpoint) written
// with one prepared single-row INSERT each, 500 appeals a transaction,
// JSON encoding included, and nothing else: no validation, no idempotence
// check, no per-appeal result. Run both in one go to compare them on the
// same machine load.
func BenchmarkRawPreparedInserts(b *testing.B) {
	s := openSQLite(b)
	ctx := context.Background()
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	prep := func(q string) *sql.Stmt {
		st, err := conn.PrepareContext(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	insAppeal := prep(`INSERT INTO appeals (id, network, status, municipality, executor, deadline, created_at, version, history_len, doc) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`)
	insTopic := prep(`INSERT INTO appeal_topics (appeal_id, code) VALUES (?, ?)`)
	insEvent := prep(`INSERT INTO appeal_history (appeal_id, seq, at, actor, from_status, to_status, note) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	saveCP := prep(`INSERT INTO checkpoints (name, cursor, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor`)
	const batch = 500
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		b.StopTimer()
		as := routedSamples("raw"+strconv.Itoa(n), benchStart.Add(time.Duration(n*batch)*time.Second), batch)
		for i := range as {
			_ = as[i].Normalize()
		}
		b.StartTimer()
		if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
			b.Fatal(err)
		}
		for i := range as {
			a := &as[i]
			d := *a
			d.History = nil
			doc, err := json.Marshal(&d)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := insAppeal.ExecContext(ctx, string(a.ID), string(a.Network), string(a.Status), a.Municipality, a.Executor(),
				a.Deadline().UnixNano(), a.CreatedAt.UnixNano(), int64(len(a.History)), string(doc)); err != nil {
				b.Fatal(err)
			}
			for _, t := range a.Topics {
				if _, err := insTopic.ExecContext(ctx, string(a.ID), t.Code); err != nil {
					b.Fatal(err)
				}
			}
			for j, e := range a.History {
				at, _ := e.At.MarshalText()
				if _, err := insEvent.ExecContext(ctx, string(a.ID), int64(j), string(at), e.Actor, string(e.From), string(e.To), e.Note); err != nil {
					b.Fatal(err)
				}
			}
		}
		if _, err := saveCP.ExecContext(ctx, "bench", strconv.Itoa(n), time.Now().UnixNano()); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportRate(b, n*batch)
}

// BenchmarkReadAll reads every one of 20,000 stored appeals with List (the
// whole result in memory) and with Scan (one page at a time), and reports
// the heap in use while reading (sampled eight times a pass, after the
// List returned): Scan's stays near a page and the collector's slack,
// whatever the table holds; List's grows with the table.
func BenchmarkReadAll(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *sqlstore.Store) {
		ctx := context.Background()
		const n = 20_000
		for start := 0; start < n; start += 500 {
			as := routedSamples("all"+strconv.Itoa(start), benchStart.Add(time.Duration(start)*time.Second), 500)
			if _, err := s.PutBatch(ctx, as); err != nil {
				b.Fatal(err)
			}
		}
		heapMiB := func() float64 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return float64(ms.HeapAlloc) / (1 << 20)
		}
		b.Run("List", func(b *testing.B) {
			b.ReportAllocs()
			var hi float64
			for b.Loop() {
				runtime.GC()
				all, err := s.List(ctx, appeal.Filter{})
				if err != nil || len(all) != n {
					b.Fatal(len(all), err)
				}
				hi = max(hi, heapMiB())
			}
			b.ReportMetric(hi, "heap-MiB")
		})
		b.Run("Scan", func(b *testing.B) {
			b.ReportAllocs()
			var hi float64
			for b.Loop() {
				runtime.GC()
				count := 0
				for _, err := range s.Scan(ctx, appeal.Filter{}) {
					if err != nil {
						b.Fatal(err)
					}
					if count++; count%(n/8) == 0 {
						hi = max(hi, heapMiB())
					}
				}
				if count != n {
					b.Fatal(count)
				}
			}
			b.ReportMetric(hi, "heap-MiB")
		})
	})
}
