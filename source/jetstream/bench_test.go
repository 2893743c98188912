package jetstream_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source/jetstream"
)

// BenchmarkWorkers measures the processing side of a cluster: b.N appeals
// waiting in the stream, then 1, 2 or 3 worker replicas (each with its own
// NATS connection, pipeline and PostgreSQL connection pool, as separate
// processes would have) pulling from the shared consumer, routing and
// storing in batches, and acknowledging. Timed from the workers' start to
// the last acknowledgement. Publishing is not timed (see
// BenchmarkPublish). PostgreSQL only: APPEALKIT_PG_DSN (.ci/postgres.sh
// starts one); the Memory variant shows what NATS alone costs.
func BenchmarkWorkers(b *testing.B) {
	for _, backend := range []string{"Memory", "Postgres"} {
		for _, workers := range []int{1, 2, 3} {
			b.Run(fmt.Sprintf("%s/workers=%d", backend, workers), func(b *testing.B) {
				var open func() appeal.Store
				if backend == "Postgres" {
					if open = pgSchema(b); open == nil {
						b.Skip("APPEALKIT_PG_DSN is not set")
					}
				} else {
					mem := appeal.NewMemoryStore()
					open = func() appeal.Store { return mem }
				}
				srv := startServer(b, "", 0)
				_, js := connect(b, srv.ClientURL())
				cfg := freshConfig()
				ctx := ctxTimeout(b, 10*time.Minute)
				require.NoError(b, jetstream.Setup(ctx, js, cfg))
				publishAll(b, ctx, js, cfg, b.N, func(i int) string { return fmt.Sprintf("не вывозят мусор со двора, дом %d", i) })
				stores := make([]appeal.Store, workers)
				for i := range stores {
					stores[i] = open()
				}
				b.ReportAllocs()
				cpu0 := cpuTime()
				b.ResetTimer()
				var ws []*worker
				for i := range workers {
					ws = append(ws, startWorker(b, srv.ClientURL(), cfg, stores[i], nil))
				}
				acked := func() int64 {
					var n int64
					for _, w := range ws {
						n += w.src.Stats().Acked
					}
					return n
				}
				for acked() < int64(b.N) {
					time.Sleep(2 * time.Millisecond)
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appeals/s")
				// CPU of this process (workers and the embedded NATS
				// server, not PostgreSQL) per appeal: with every core busy,
				// more workers on one machine cannot go faster.
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/appeal")
				for _, w := range ws {
					w.stop(b)
				}
			})
		}
	}
}

// BenchmarkPublish measures intake: appeals published through the async
// sink with a window of 1024 in flight, each acknowledged by JetStream (file
// storage) before the window moves past it.
func BenchmarkPublish(b *testing.B) {
	srv := startServer(b, "", 0)
	_, js := connect(b, srv.ClientURL())
	cfg := freshConfig()
	ctx := ctxTimeout(b, 10*time.Minute)
	require.NoError(b, jetstream.Setup(ctx, js, cfg))
	b.ReportAllocs()
	b.ResetTimer()
	publishAll(b, ctx, js, cfg, b.N, func(i int) string { return fmt.Sprintf("яма на дороге у дома %d", i) })
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appeals/s")
}

// cpuTime is the user and system CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
