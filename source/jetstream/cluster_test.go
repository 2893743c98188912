package jetstream_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/jetstream"
)

var deptRouter = appealkit.AppealRouterFunc(func(_ context.Context, a *appeal.Appeal, now time.Time) (appeal.Change, error) {
	return appeal.Change{To: appeal.StatusRouted, Assignment: &appeal.Assignment{Executor: "dept-" + string(a.Network), Deadline: now.Add(24 * time.Hour), Priority: appeal.PriorityNormal, RuleID: "test"}}, nil
})

// outcomes counts the pipeline's results over all workers.
type outcomes struct {
	mu sync.Mutex
	n  map[appealkit.Outcome]int
	by map[appeal.ID]int // routed per appeal
}

func newOutcomes() *outcomes {
	return &outcomes{n: map[appealkit.Outcome]int{}, by: map[appeal.ID]int{}}
}

func (o *outcomes) hook(r appealkit.Result) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.n[r.Outcome]++
	if r.Outcome == appealkit.OutcomeRouted {
		o.by[r.ID]++
	}
}

func (o *outcomes) count(k appealkit.Outcome) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[k]
}

// worker is one processing replica: its own NATS connection, a Pipeline
// with the JetStream source as its only input, the shared store.
type worker struct {
	nc     *nats.Conn
	src    *jetstream.Source
	cancel context.CancelFunc
	done   chan error
}

func startWorker(t testing.TB, url string, cfg jetstream.Config, store appeal.Store, out *outcomes) *worker {
	t.Helper()
	nc, js := connect(t, url)
	src, err := jetstream.NewSource(js, cfg, jetstream.WithInFlight(256))
	require.NoError(t, err)
	hooks := appealkit.Hooks{}
	if out != nil {
		hooks.Processed = out.hook
	}
	p, err := appealkit.New(appealkit.Config{
		Store: store, Classifier: appealkit.NoClassification{}, Router: deptRouter, Workers: 4, Queue: 256,
		Inputs:         []appealkit.Input{{Name: "jetstream", Source: src}},
		RestartBackoff: source.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond},
		ShutdownGrace:  time.Second,
		Hooks:          hooks,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{nc: nc, src: src, cancel: cancel, done: make(chan error, 1)}
	go func() { w.done <- p.Run(ctx) }()
	t.Cleanup(func() { w.stop(t) })
	return w
}

func (w *worker) stop(t testing.TB) {
	w.cancel()
	select {
	case err := <-w.done:
		if err != nil {
			t.Errorf("worker Run: %v", err)
		}
		w.done <- nil
	case <-time.After(30 * time.Second):
		t.Error("worker did not stop within 30s")
	}
}

// kill ends a worker the hard way: its connection drops first, so nothing
// it had in flight is acknowledged; JetStream redelivers after AckWait.
func (w *worker) kill(t testing.TB) {
	w.nc.Close()
	w.stop(t)
}

// publishAll publishes n appeals through the async sink with a window, as
// an intake source does.
func publishAll(t testing.TB, ctx context.Context, js natsjs.JetStream, cfg jetstream.Config, n int, text func(i int) string) {
	t.Helper()
	pub, err := jetstream.NewPublisher(js, cfg)
	require.NoError(t, err)
	w := source.NewWindow(pub.AsyncSink(), 1024)
	for i := 1; i <= n; i++ {
		require.NoError(t, w.Send(ctx, testAppeal("vk", i, text(i)), fmt.Sprint(i)))
	}
	require.NoError(t, w.Wait(ctx))
}

func waitUntil(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// storedRouted counts the appeals in store, and those in status routed.
func storedRouted(t testing.TB, store appeal.Store) (all, routed int) {
	t.Helper()
	as, err := store.List(context.Background(), appeal.Filter{})
	require.NoError(t, err)
	for _, a := range as {
		if a.Status == appeal.StatusRouted {
			routed++
		}
	}
	return len(as), routed
}

// Three workers share 20,000 appeals; one is killed mid-stream. Every
// appeal ends up stored once and routed: what the killed worker had in
// flight comes back to the others after AckWait.
func TestWorkerKilledMidStream(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 4000
	}
	srv := startServer(t, "", 0)
	_, js := connect(t, srv.ClientURL())
	cfg := freshConfig()
	cfg.AckWait = time.Second
	ctx := ctxTimeout(t, 2*time.Minute)
	require.NoError(t, jetstream.Setup(ctx, js, cfg))
	publishAll(t, ctx, js, cfg, n, func(i int) string { return fmt.Sprintf("яма на дороге %d", i) })

	// With APPEALKIT_PG_DSN each worker has its own connection pool on
	// one PostgreSQL schema, as separate machines would; else they share
	// a memory store.
	open := pgSchema(t)
	if open == nil {
		mem := appeal.NewMemoryStore()
		open = func() appeal.Store { return mem }
	}
	store := open()
	out := newOutcomes()
	workers := []*worker{
		startWorker(t, srv.ClientURL(), cfg, store, out),
		startWorker(t, srv.ClientURL(), cfg, open(), out),
		startWorker(t, srv.ClientURL(), cfg, open(), out),
	}
	waitUntil(t, time.Minute, "a third of the appeals", func() bool { return out.count(appealkit.OutcomeRouted) >= n/3 })
	workers[1].kill(t)
	killedAt := out.count(appealkit.OutcomeRouted)

	waitUntil(t, 90*time.Second, "every appeal routed", func() bool { return out.count(appealkit.OutcomeRouted) >= n })
	waitUntil(t, 10*time.Second, "the consumer to drain", func() bool {
		info, err := js.Stream(ctx, cfg.Stream)
		return err == nil && info.CachedInfo().State.Msgs == 0
	})
	all, routed := storedRouted(t, store)
	assert.Equal(t, n, all, "stored appeals")
	assert.Equal(t, n, routed, "routed appeals")
	out.mu.Lock()
	for id, c := range out.by {
		if c != 1 {
			t.Errorf("appeal %s routed %d times", id, c)
		}
	}
	assert.Len(t, out.by, n)
	out.mu.Unlock()
	var redelivered int64
	for _, w := range workers {
		redelivered += w.src.Stats().Redelivered
	}
	t.Logf("%d appeals, worker 2 killed after %d were routed; %d redeliveries, %d duplicates dropped by the store",
		n, killedAt, redelivered, out.count(appealkit.OutcomeDuplicate))
}

// The NATS server (JetStream on disk) is restarted while intake publishes
// and a worker processes: intake retries what was not acknowledged, the
// worker reconnects, and every appeal is stored and routed.
func TestServerRestartMidStream(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 2000
	}
	dir := t.TempDir()
	srv := startServer(t, dir, 0)
	url := srv.ClientURL()
	_, js := connect(t, url)
	cfg := freshConfig()
	cfg.AckWait = 2 * time.Second
	ctx := ctxTimeout(t, 2*time.Minute)
	require.NoError(t, jetstream.Setup(ctx, js, cfg))
	// The store is not what this test is about: memory keeps it fast.
	store := appeal.NewMemoryStore()
	out := newOutcomes()
	startWorker(t, url, cfg, store, out)

	// Intake: a source that restarts from its checkpoint when a publish
	// is refused, as the pipeline restarts a failed input.
	pub, err := jetstream.NewPublisher(js, cfg)
	require.NoError(t, err)
	var published atomic.Int64
	intakeDone := make(chan error, 1)
	go func() {
		next := 1
		for next <= n && ctx.Err() == nil {
			w := source.NewWindow(pub.AsyncSink(), 256)
			for i := next; i <= n; i++ {
				if w.Send(ctx, testAppeal("vk", i, fmt.Sprintf("нет света %d", i)), fmt.Sprint(i)) != nil {
					break
				}
				published.Store(int64(i))
				if i%100 == 0 { // a network's pace, so the restart comes mid-stream
					time.Sleep(10 * time.Millisecond)
				}
			}
			_ = w.Wait(ctx)
			if c, ok := w.Committed(); ok {
				fmt.Sscan(c, &next)
				next++
			}
			if next <= n {
				time.Sleep(50 * time.Millisecond)
			}
		}
		intakeDone <- ctx.Err()
	}()

	waitUntil(t, time.Minute, "a quarter routed", func() bool { return out.count(appealkit.OutcomeRouted) >= n/4 })
	port := srv.Addr().(*net.TCPAddr).Port
	srv.Shutdown()
	srv.WaitForShutdown()
	at, pubAt := out.count(appealkit.OutcomeRouted), published.Load()
	require.Less(t, pubAt, int64(n), "intake finished before the restart: the test proves nothing")
	time.Sleep(300 * time.Millisecond)
	startServer(t, dir, port)

	require.NoError(t, <-intakeDone)
	waitUntil(t, 90*time.Second, "every appeal routed", func() bool {
		_, routed := storedRouted(t, store)
		return routed == n
	})
	all, routed := storedRouted(t, store)
	assert.Equal(t, n, all)
	assert.Equal(t, n, routed)
	t.Logf("%d appeals, server restarted after %d were published and %d routed; %d duplicates dropped by the store", n, pubAt, at, out.count(appealkit.OutcomeDuplicate))
}
