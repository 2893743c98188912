package appealkit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/source"
)

// clock is the fixed time every test routes at.
var clock = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// sliceSource delivers its appeals in order from one goroutine and stops at
// the first refusal, like the shipped sources.
type sliceSource struct {
	appeals []appeal.Appeal
}

func (s *sliceSource) Run(ctx context.Context, sink source.Sink) error {
	for _, a := range s.appeals {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := sink(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// parallelSource calls its sink from n goroutines at once (a source that
// documents concurrent sink calls) and records every refusal.
type parallelSource struct {
	n       int
	appeals []appeal.Appeal
	mu      sync.Mutex
	refused []error
}

func (s *parallelSource) Run(ctx context.Context, sink source.Sink) error {
	next := make(chan appeal.Appeal)
	var wg sync.WaitGroup
	for range s.n {
		wg.Go(func() {
			for a := range next {
				if err := sink(ctx, a); err != nil {
					s.mu.Lock()
					s.refused = append(s.refused, err)
					s.mu.Unlock()
				}
			}
		})
	}
	for _, a := range s.appeals {
		next <- a
	}
	close(next)
	wg.Wait()
	return nil
}

func msg(ext, text string) appeal.Appeal {
	return appeal.Appeal{Network: appeal.NetworkVK, Kind: appeal.KindComment, ExternalID: ext, Text: text,
		CreatedAt: clock.Add(-time.Hour)}
}

// keywordClassifier is a deterministic stand-in for classify: a topic per
// keyword, nothing for noise.
var keywordClassifier = appealkit.AppealClassifierFunc(func(_ context.Context, a *appeal.Appeal) error {
	switch {
	case strings.Contains(a.Text, "яма"):
		a.Topics = []appeal.TopicScore{{Code: "roads", Score: 0.9}}
		a.Municipality = "Курск"
	case strings.Contains(a.Text, "мусор"):
		a.Topics = []appeal.TopicScore{{Code: "garbage", Score: 0.8}}
		a.Municipality = "Курск"
	}
	return nil
})

// topicRouter is a stand-in for route: one executor per topic, rejection
// for unclassified messages.
var topicRouter = appealkit.AppealRouterFunc(func(_ context.Context, a *appeal.Appeal, now time.Time) (appeal.Change, error) {
	topic := a.TopTopic()
	if topic == "" {
		return appeal.Change{To: appeal.StatusRejected, Note: "not an appeal"}, nil
	}
	return appeal.Change{To: appeal.StatusRouted,
		Assignment: &appeal.Assignment{Executor: topic + "-dept", Deadline: now.Add(24 * time.Hour), Priority: appeal.PriorityNormal, RuleID: "by-topic"},
		Note:       "rule by-topic",
	}, nil
})

// recorder collects hook calls.
type recorder struct {
	mu      sync.Mutex
	results []appealkit.Result
	stopped map[string]error
}

func (r *recorder) hooks() appealkit.Hooks {
	return appealkit.Hooks{
		Processed: func(res appealkit.Result) {
			r.mu.Lock()
			r.results = append(r.results, res)
			r.mu.Unlock()
		},
		SourceStopped: func(name string, err error) {
			r.mu.Lock()
			if r.stopped == nil {
				r.stopped = map[string]error{}
			}
			r.stopped[name] = err
			r.mu.Unlock()
		},
	}
}

func (r *recorder) outcomes() map[appealkit.Outcome]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[appealkit.Outcome]int{}
	for _, res := range r.results {
		out[res.Outcome]++
	}
	return out
}

func newPipeline(t *testing.T, cfg appealkit.Config) *appealkit.Pipeline {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return clock }
	}
	p, err := appealkit.New(cfg)
	require.NoError(t, err)
	return p
}

func TestPipelineRoutesAndRejects(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	src := &sliceSource{appeals: []appeal.Appeal{
		msg("1", "на дороге яма"), msg("2", "не вывозят мусор"), msg("3", "всем привет"),
	}}
	var rec recorder
	p := newPipeline(t, appealkit.Config{Store: store, Classifier: keywordClassifier, Router: topicRouter,
		Inputs: []appealkit.Input{{Name: "vk", Source: src}}, Hooks: rec.hooks()})
	require.NoError(t, p.Run(ctx))

	got, err := store.Get(ctx, "vk:1")
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusRouted, got.Status)
	assert.Equal(t, "roads-dept", got.Executor())
	assert.Equal(t, clock.Add(24*time.Hour), got.Deadline())
	assert.Equal(t, "Курск", got.Municipality)
	assert.Equal(t, int64(1), got.Version, "routed in memory and stored once")
	require.Len(t, got.History, 1)
	assert.Equal(t, appeal.Event{At: clock, Actor: "pipeline", From: appeal.StatusNew, To: appeal.StatusRouted, Note: "rule by-topic"}, got.History[0])
	assert.Equal(t, clock, got.ReceivedAt, "ReceivedAt is filled from the pipeline clock when the source left it empty")

	noise, err := store.Get(ctx, "vk:3")
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusRejected, noise.Status)
	assert.Nil(t, noise.Assignment)

	assert.Equal(t, map[appealkit.Outcome]int{appealkit.OutcomeRouted: 2, appealkit.OutcomeRejected: 1}, rec.outcomes())
	assert.Equal(t, map[string]error{"vk": nil}, rec.stopped)
	for _, r := range rec.results {
		assert.Equal(t, "vk", r.Source)
		assert.NoError(t, r.Err)
		assert.NotEmpty(t, r.ID)
	}
}

func TestPipelineRedeliveryIsIdempotent(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	src := &sliceSource{appeals: []appeal.Appeal{msg("1", "яма"), msg("2", "мусор")}}
	var rec recorder
	p := newPipeline(t, appealkit.Config{Store: store, Classifier: keywordClassifier, Router: topicRouter,
		Inputs: []appealkit.Input{{Name: "vk", Source: src}}, Hooks: rec.hooks()})
	require.NoError(t, p.Run(ctx))
	before, err := store.List(ctx, appeal.Filter{})
	require.NoError(t, err)

	// The same messages again, as after a restart from an old checkpoint.
	require.NoError(t, p.Run(ctx))
	after, err := store.List(ctx, appeal.Filter{})
	require.NoError(t, err)
	assert.Equal(t, before, after, "a redelivery must change nothing")
	assert.Equal(t, map[appealkit.Outcome]int{appealkit.OutcomeRouted: 2, appealkit.OutcomeDuplicate: 2}, rec.outcomes())
}

func TestPipelineFinishesInterruptedRouting(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	// An earlier delivery stored the appeal and died before routing it.
	earlier := msg("1", "яма")
	require.NoError(t, keywordClassifier(ctx, &earlier))
	_, err := store.Put(ctx, earlier)
	require.NoError(t, err)

	var rec recorder
	p := newPipeline(t, appealkit.Config{Store: store, Classifier: keywordClassifier, Router: topicRouter,
		Inputs: []appealkit.Input{{Name: "vk", Source: &sliceSource{appeals: []appeal.Appeal{msg("1", "яма")}}}}, Hooks: rec.hooks()})
	require.NoError(t, p.Run(ctx))
	got, err := store.Get(ctx, "vk:1")
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusRouted, got.Status)
	assert.Len(t, got.History, 1)
	require.Len(t, rec.results, 1)
	assert.True(t, rec.results[0].Resumed)
	assert.Equal(t, appealkit.OutcomeRouted, rec.results[0].Outcome)
}

func TestPipelineConcurrentDuplicatesStoredOnce(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	var appeals []appeal.Appeal
	for i := range 50 {
		for range 4 { // every message delivered four times, concurrently
			appeals = append(appeals, msg(fmt.Sprint(i), "яма"))
		}
	}
	src := &parallelSource{n: 8, appeals: appeals}
	var rec recorder
	p := newPipeline(t, appealkit.Config{Store: store, Classifier: keywordClassifier, Router: topicRouter, Workers: 8,
		Inputs: []appealkit.Input{{Name: "vk", Source: src}}, Hooks: rec.hooks()})
	require.NoError(t, p.Run(ctx))
	assert.Empty(t, src.refused)
	all, err := store.List(ctx, appeal.Filter{})
	require.NoError(t, err)
	require.Len(t, all, 50)
	for _, a := range all {
		assert.Equal(t, appeal.StatusRouted, a.Status, a.ID)
		assert.Len(t, a.History, 1, "routed exactly once: %s", a.ID)
	}
	assert.Equal(t, map[appealkit.Outcome]int{appealkit.OutcomeRouted: 50, appealkit.OutcomeDuplicate: 150}, rec.outcomes())
}

func TestPipelineRefusesOnStageErrors(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("model not loaded")
	cases := []struct {
		name       string
		a          appeal.Appeal
		classifier appealkit.AppealClassifier
		router     appealkit.AppealRouter
		stage      appealkit.Stage
		is         error
	}{
		{"classifier fails", msg("1", "яма"), appealkit.AppealClassifierFunc(func(context.Context, *appeal.Appeal) error { return boom }), topicRouter, appealkit.StageClassify, boom},
		{"router fails", msg("1", "яма"), keywordClassifier, appealkit.AppealRouterFunc(func(context.Context, *appeal.Appeal, time.Time) (appeal.Change, error) {
			return appeal.Change{}, boom
		}), appealkit.StageRoute, boom},
		{"router decides nothing", msg("1", "яма"), keywordClassifier, appealkit.AppealRouterFunc(func(context.Context, *appeal.Appeal, time.Time) (appeal.Change, error) {
			return appeal.Change{Note: "?"}, nil
		}), appealkit.StageRoute, appealkit.ErrBadRouting},
		{"router skips the lifecycle", msg("1", "яма"), keywordClassifier, appealkit.AppealRouterFunc(func(context.Context, *appeal.Appeal, time.Time) (appeal.Change, error) {
			return appeal.Change{To: appeal.StatusResolved, Assignment: &appeal.Assignment{Executor: "roads-dept"}}, nil
		}), appealkit.StageRoute, appealkit.ErrBadRouting},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := appeal.NewMemoryStore()
			var rec recorder
			p := newPipeline(t, appealkit.Config{Store: store, Classifier: tc.classifier, Router: tc.router,
				Inputs: []appealkit.Input{{Name: "vk", Source: &sliceSource{appeals: []appeal.Appeal{tc.a}}}}, Hooks: rec.hooks()})
			err := p.Run(ctx)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			var se *appealkit.StageError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.stage, se.Stage)
			assert.Contains(t, err.Error(), `input "vk"`)
			all, lerr := store.List(ctx, appeal.Filter{})
			require.NoError(t, lerr)
			assert.Empty(t, all, "a refused appeal must not be stored")
			assert.Equal(t, map[appealkit.Outcome]int{appealkit.OutcomeFailed: 1}, rec.outcomes())
			assert.ErrorIs(t, rec.stopped["vk"], tc.is)
		})
	}
}

func TestPipelineWithoutRouterStoresNew(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	imported := msg("2", "старое")
	imported.Status = appeal.StatusResolved
	var rec recorder
	p := newPipeline(t, appealkit.Config{Store: store, Classifier: keywordClassifier, Router: appealkit.NoRouting{}, Hooks: rec.hooks(),
		Inputs: []appealkit.Input{{Name: "vk", Source: &sliceSource{appeals: []appeal.Appeal{msg("1", "яма"), imported}}}}})
	require.NoError(t, p.Run(ctx))
	a, err := store.Get(ctx, "vk:1")
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusNew, a.Status)
	assert.True(t, a.HasTopic("roads"), "classified even without a router")
	b, err := store.Get(ctx, "vk:2")
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusResolved, b.Status, "an imported appeal keeps its status")
	assert.Equal(t, map[appealkit.Outcome]int{appealkit.OutcomeStored: 2}, rec.outcomes())
}

// gate blocks a stage until released and counts how many are inside it.
type gate struct {
	release      chan struct{}
	inside, peak atomic.Int64
	entered      chan struct{}
}

func newGate() *gate {
	return &gate{release: make(chan struct{}), entered: make(chan struct{}, 1000)}
}

func (g *gate) classifier() appealkit.AppealClassifier {
	return appealkit.AppealClassifierFunc(func(ctx context.Context, a *appeal.Appeal) error {
		n := g.inside.Add(1)
		defer g.inside.Add(-1)
		for {
			p := g.peak.Load()
			if n <= p || g.peak.CompareAndSwap(p, n) {
				break
			}
		}
		g.entered <- struct{}{}
		select {
		case <-g.release:
			return keywordClassifier(ctx, a)
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

func TestPipelineBackpressureBoundsWork(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	g := newGate()
	var appeals []appeal.Appeal
	for i := range 20 {
		appeals = append(appeals, msg(fmt.Sprint(i), "яма"))
	}
	src := &parallelSource{n: 10, appeals: appeals}
	var rec recorder
	p := newPipeline(t, appealkit.Config{Store: store, Classifier: g.classifier(), Router: topicRouter,
		Workers: 2, Queue: 1, Inputs: []appealkit.Input{{Name: "vk", Source: src}}, Hooks: rec.hooks()})
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	<-g.entered
	<-g.entered
	// Both workers are blocked; give the ten senders time to pile up.
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, int64(2), g.inside.Load(), "no more appeals in processing than workers")
	close(g.release)
	require.NoError(t, <-done)
	assert.Equal(t, int64(2), g.peak.Load())
	assert.Empty(t, src.refused)
	assert.Equal(t, map[appealkit.Outcome]int{appealkit.OutcomeRouted: 20}, rec.outcomes())
	var queuedLong int
	for _, r := range rec.results {
		if r.Queued > 20*time.Millisecond {
			queuedLong++
		}
	}
	assert.NotZero(t, queuedLong, "appeals that waited for a worker report it in Result.Queued")
}

func TestPipelineGracefulShutdownFinishesInFlight(t *testing.T) {
	store := appeal.NewMemoryStore()
	g := newGate()
	var rec recorder
	p := newPipeline(t, appealkit.Config{Store: store, Classifier: g.classifier(), Router: topicRouter,
		Workers: 1, Queue: 1, ShutdownGrace: 5 * time.Second, Hooks: rec.hooks()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()

	sink := p.Sink("webhook")
	// Wait until Run is serving.
	require.Eventually(t, func() bool {
		return !errors.Is(sink(context.Background(), appeal.Appeal{}), appealkit.ErrStopped)
	}, time.Second, time.Millisecond)

	srcCtx, srcCancel := context.WithCancel(context.Background())
	inflight := make(chan error)
	go func() { inflight <- sink(srcCtx, msg("1", "яма")) }()
	<-g.entered // being processed
	queued := make(chan error)
	go func() { queued <- sink(srcCtx, msg("2", "мусор")) }()
	time.Sleep(20 * time.Millisecond) // let it reach the queue

	// The source and the pipeline are told to stop.
	srcCancel()
	cancel()
	time.Sleep(20 * time.Millisecond)
	close(g.release)

	assert.NoError(t, <-inflight, "the appeal in flight finishes and is acknowledged")
	err := <-queued
	require.Error(t, err, "the queued appeal is refused, so the source redelivers it")
	assert.ErrorIs(t, err, context.Canceled)
	require.NoError(t, <-done)

	got, err := store.Get(context.Background(), "vk:1")
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusRouted, got.Status)
	_, err = store.Get(context.Background(), "vk:2")
	assert.ErrorIs(t, err, appeal.ErrNotFound)
	assert.ErrorIs(t, sink(context.Background(), msg("3", "яма")), appealkit.ErrStopped, "after Run the sink refuses")
}

// stuckStore never finishes a Put until its context ends.
type stuckStore struct{ appeal.Store }

func (s stuckStore) Put(ctx context.Context, a appeal.Appeal) (bool, error) {
	<-ctx.Done()
	return false, ctx.Err()
}

func TestPipelineGraceExpiresAndRefuses(t *testing.T) {
	p := newPipeline(t, appealkit.Config{Store: stuckStore{appeal.NewMemoryStore()}, Classifier: appealkit.NoClassification{}, Router: topicRouter,
		Workers: 1, ShutdownGrace: 30 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	sink := p.Sink("webhook")
	require.Eventually(t, func() bool {
		return !errors.Is(sink(context.Background(), appeal.Appeal{}), appealkit.ErrStopped)
	}, time.Second, time.Millisecond)
	res := make(chan error)
	go func() { res <- sink(context.Background(), msg("1", "яма")) }()
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	cancel()
	err := <-res
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	var se *appealkit.StageError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, appealkit.StageStore, se.Stage)
	assert.GreaterOrEqual(t, time.Since(start), 25*time.Millisecond, "in-flight work had its grace period")
	require.NoError(t, <-done)
}

func TestPipelineRunGuardsAndConfig(t *testing.T) {
	_, err := appealkit.New(appealkit.Config{})
	assert.ErrorContains(t, err, "Config.Store is nil")
	// A forgotten stage is an error naming the field; skipping one is said
	// out loud.
	_, err = appealkit.New(appealkit.Config{Store: appeal.NewMemoryStore(), Router: topicRouter})
	assert.ErrorContains(t, err, "Config.Classifier is nil")
	assert.ErrorContains(t, err, "appealkit.NoClassification{}")
	_, err = appealkit.New(appealkit.Config{Store: appeal.NewMemoryStore(), Classifier: keywordClassifier})
	assert.ErrorContains(t, err, "Config.Router is nil")
	assert.ErrorContains(t, err, "appealkit.NoRouting{}")
	bare := appealkit.Config{Store: appeal.NewMemoryStore(), Classifier: appealkit.NoClassification{}, Router: appealkit.NoRouting{}}
	withInputs := func(in ...appealkit.Input) appealkit.Config { c := bare; c.Inputs = in; return c }
	_, err = appealkit.New(withInputs(appealkit.Input{Name: "a"}))
	assert.ErrorContains(t, err, "Source is nil")
	_, err = appealkit.New(withInputs(appealkit.Input{Name: "a", Source: &sliceSource{}}, appealkit.Input{Name: "a", Source: &sliceSource{}}))
	assert.ErrorContains(t, err, `"a" is used twice`)
	negative := bare
	negative.Workers = -1
	_, err = appealkit.New(negative)
	assert.ErrorContains(t, err, "must not be negative")

	p := newPipeline(t, bare)
	assert.ErrorIs(t, p.Sink("x")(context.Background(), msg("1", "яма")), appealkit.ErrStopped)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	require.Eventually(t, func() bool {
		return !errors.Is(p.Sink("x")(context.Background(), appeal.Appeal{}), appealkit.ErrStopped)
	}, time.Second, time.Millisecond)
	assert.ErrorIs(t, p.Run(ctx), appealkit.ErrAlreadyRunning)
	cancel()
	require.NoError(t, <-done)
}

// failingSource fails at once.
type failingSource struct{ err error }

func (s failingSource) Run(context.Context, source.Sink) error { return s.err }

func TestPipelineJoinsInputErrors(t *testing.T) {
	store := appeal.NewMemoryStore()
	var rec recorder
	p := newPipeline(t, appealkit.Config{Store: store, Router: topicRouter, Classifier: keywordClassifier, Hooks: rec.hooks(), Inputs: []appealkit.Input{
		{Name: "bad", Source: failingSource{source.ErrAuth}},
		{Name: "end", Source: failingSource{source.ErrEndOfInput}},
		{Name: "good", Source: &sliceSource{appeals: []appeal.Appeal{msg("1", "яма")}}},
	}})
	err := p.Run(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, source.ErrAuth)
	assert.Contains(t, err.Error(), `input "bad"`)
	assert.NotContains(t, err.Error(), `input "end"`, "end of input is a normal stop")
	// The input that failed for good stopped the run: "good" may or may
	// not have delivered first, but it was stopped, not failed.
	assert.Len(t, rec.stopped, 3)
	assert.NoError(t, rec.stopped["good"])
	assert.NoError(t, rec.stopped["end"])
}

// benchStore opens a SQLite store in a temp dir for benchmarks.
func benchSQLite(b *testing.B) appeal.Store {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "bench.db")+
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)")
	require.NoError(b, err)
	db.SetMaxIdleConns(32)
	b.Cleanup(func() { db.Close() })
	s, err := sqlstore.Open(context.Background(), db)
	require.NoError(b, err)
	return s
}

// benchPG opens a PostgreSQL store in a fresh schema of APPEALKIT_PG_DSN,
// dropped at the end; it skips when the variable is unset.
func benchPG(b *testing.B) appeal.Store {
	dsn := os.Getenv("APPEALKIT_PG_DSN")
	if dsn == "" {
		b.Skip("APPEALKIT_PG_DSN is not set: skipping the PostgreSQL pipeline benchmark")
	}
	admin, err := sql.Open("pgx", dsn)
	require.NoError(b, err)
	schema := fmt.Sprintf("appealkit_bench_%d", time.Now().UnixNano())
	_, err = admin.Exec(`CREATE SCHEMA ` + schema)
	require.NoError(b, err)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	if !strings.HasPrefix(dsn, "postgres") {
		sep = " "
	}
	db, err := sql.Open("pgx", dsn+sep+"search_path="+schema)
	require.NoError(b, err)
	// database/sql keeps only 2 idle connections by default: with more
	// concurrent writers every call would reconnect.
	db.SetMaxIdleConns(32)
	b.Cleanup(func() {
		db.Close()
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	s, err := sqlstore.Open(context.Background(), db)
	require.NoError(b, err)
	return s
}

// benchStores are the stores the pipeline benchmarks run against.
var benchStores = []struct {
	name string
	open func(b *testing.B) appeal.Store
}{
	{"Memory", func(*testing.B) appeal.Store { return appeal.NewMemoryStore() }},
	{"SQLite", benchSQLite},
	{"Postgres", benchPG},
}

// BenchmarkPipeline measures appeals per second through classify → route
// → store (one batched write, or Put then Transition with
// SeparateTransition), with a synchronous source that calls its sink from
// one goroutine and with one that calls it from 32.
func BenchmarkPipeline(b *testing.B) {
	for _, st := range benchStores {
		for _, bc := range []struct {
			senders  int
			separate bool
		}{{1, false}, {32, false}, {1, true}, {32, true}} {
			senders := bc.senders
			b.Run(fmt.Sprintf("%s/senders=%d/separate=%v", st.name, senders, bc.separate), func(b *testing.B) {
				store := st.open(b)
				var appeals []appeal.Appeal
				for i := range 2000 {
					text := []string{"яма на дороге", "не вывозят мусор", "привет"}[i%3]
					appeals = append(appeals, msg(fmt.Sprint(i), text))
				}
				b.ReportAllocs()
				total := 0
				for b.Loop() {
					for i := range appeals {
						appeals[i].ExternalID = fmt.Sprintf("%d-%d", total, i)
					}
					var src source.Source = &sliceSource{appeals: appeals}
					if senders > 1 {
						src = &parallelSource{n: senders, appeals: appeals}
					}
					p, err := appealkit.New(appealkit.Config{Store: store, Classifier: keywordClassifier, Router: topicRouter,
						Workers: max(8, senders), SeparateTransition: bc.separate, Inputs: []appealkit.Input{{Name: "bench", Source: src}}})
					require.NoError(b, err)
					require.NoError(b, p.Run(context.Background()))
					total += len(appeals)
				}
				b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "appeals/s")
			})
		}
	}
}

func TestPipelineRoutesInMemoryAndWritesOnce(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	// One appeal was stored new by an earlier, interrupted delivery.
	earlier := msg("0", "яма")
	require.NoError(t, keywordClassifier(ctx, &earlier))
	_, err := store.Put(ctx, earlier)
	require.NoError(t, err)
	var rec recorder
	src := &sliceSource{appeals: []appeal.Appeal{msg("0", "яма"), msg("1", "яма"), msg("2", "привет"), msg("1", "яма")}}
	p := newPipeline(t, appealkit.Config{Store: store, Classifier: keywordClassifier, Router: topicRouter,
		Inputs: []appealkit.Input{{Name: "vk", Source: src}}, Hooks: rec.hooks()})
	require.NoError(t, p.Run(ctx))

	one, err := store.Get(ctx, "vk:1")
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusRouted, one.Status)
	assert.Equal(t, int64(1), one.Version, "routed in the same write that stored it")
	require.Len(t, one.History, 1)
	assert.Equal(t, appeal.Event{At: clock, Actor: "pipeline", From: appeal.StatusNew, To: appeal.StatusRouted, Note: "rule by-topic"}, one.History[0])
	two, err := store.Get(ctx, "vk:2")
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusRejected, two.Status)
	zero, err := store.Get(ctx, "vk:0")
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusRouted, zero.Status, "the interrupted one is finished with Transition")
	assert.Equal(t, map[appealkit.Outcome]int{appealkit.OutcomeRouted: 2, appealkit.OutcomeRejected: 1, appealkit.OutcomeDuplicate: 1}, rec.outcomes())
}

// A refused private message's error text, which ends up in logs, shows its
// id redacted (a VK message id embeds the user's id); StageError.ID keeps
// the real one for code.
func TestStageErrorRedactsPrivateIDs(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("model not loaded")
	a := appeal.Appeal{Network: appeal.NetworkVK, Kind: appeal.KindMessage, ExternalID: "734455_91", Text: "яма во дворе", CreatedAt: time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)}
	p := newPipeline(t, appealkit.Config{Store: appeal.NewMemoryStore(), Router: topicRouter,
		Classifier: appealkit.AppealClassifierFunc(func(context.Context, *appeal.Appeal) error { return boom }),
		Inputs:     []appealkit.Input{{Name: "vk", Source: &sliceSource{appeals: []appeal.Appeal{a}}}}})
	err := p.Run(ctx)
	var se *appealkit.StageError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, appeal.NewID(appeal.NetworkVK, "734455_91"), se.ID)
	assert.NotContains(t, err.Error(), "734455")
	assert.Contains(t, se.Error(), "vk:")
}
