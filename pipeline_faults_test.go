package appealkit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/replay"
)

// batchStore is a MemoryStore with a PutBatch that records the batch sizes
// and can fail: the first `unavailable` calls with appeal.ErrUnavailable,
// and any call holding an appeal whose text contains "POISON" with a
// content error (appeal.ErrInvalid), as a database refusing a value would,
// failing the whole batch.
type batchStore struct {
	*appeal.MemoryStore
	unavailable atomic.Int32
	mu          sync.Mutex
	sizes       []int
}

var errPoison = fmt.Errorf("value refused by the database: %w", appeal.ErrInvalid)

func (s *batchStore) refuse(a *appeal.Appeal) error {
	if s.unavailable.Add(-1) >= 0 {
		return fmt.Errorf("connection refused: %w", appeal.ErrUnavailable)
	}
	if strings.Contains(a.Text, "POISON") {
		return fmt.Errorf("appeal %s: %w", a.ID, errPoison)
	}
	return nil
}

func (s *batchStore) PutBatch(ctx context.Context, as []appeal.Appeal, _ ...appeal.Checkpoint) ([]bool, error) {
	s.mu.Lock()
	s.sizes = append(s.sizes, len(as))
	s.mu.Unlock()
	for i := range as {
		if err := s.refuse(&as[i]); err != nil {
			return nil, err
		}
	}
	created := make([]bool, len(as))
	for i := range as {
		c, err := s.MemoryStore.Put(ctx, as[i])
		if err != nil {
			return nil, err
		}
		created[i] = c
	}
	return created, nil
}

func (s *batchStore) Put(ctx context.Context, a appeal.Appeal) (bool, error) {
	if err := s.refuse(&a); err != nil {
		return false, err
	}
	return s.MemoryStore.Put(ctx, a)
}

func (s *batchStore) maxBatch() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := 0
	for _, n := range s.sizes {
		m = max(m, n)
	}
	return m
}

// writeReplay writes n appeals to a JSONL file; text(i) gives each text.
func writeReplay(t testing.TB, n int, text func(i int) string) string {
	t.Helper()
	return writeReplayFrom(t, 0, n, text)
}

// writeReplayFrom is writeReplay with external ids from first on.
func writeReplayFrom(t testing.TB, first, n int, text func(i int) string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "appeals.jsonl")
	var appeals []appeal.Appeal
	for i := range n {
		appeals = append(appeals, msg(fmt.Sprint(first+i), text(i)))
	}
	f, err := os.Create(path)
	require.NoError(t, err)
	w := replay.NewWriter(f)
	for _, a := range appeals {
		require.NoError(t, w.Write(a))
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	return path
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	require.NoError(t, err)
	return st.Size()
}

// quietLogger keeps replay's progress lines out of test output.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestPipelineReplayHasManyInFlightAndBatches(t *testing.T) {
	ctx := context.Background()
	store := &batchStore{MemoryStore: appeal.NewMemoryStore()}
	path := writeReplay(t, 3000, func(i int) string { return []string{"яма на дороге", "мусор", "привет"}[i%3] })
	cp := source.NewMemoryCheckpoints()
	src, err := replay.New(replay.Config{Path: path, Checkpoints: cp, Logger: quietLogger})
	require.NoError(t, err)
	var rec recorder
	p := newPipeline(t, appealkit.Config{Store: store, Classifier: keywordClassifier, Router: topicRouter,
		Inputs: []appealkit.Input{{Name: "replay", Source: src}}, Hooks: rec.hooks()})
	require.NoError(t, p.Run(ctx))

	all, err := store.List(ctx, appeal.Filter{})
	require.NoError(t, err)
	assert.Len(t, all, 3000)
	assert.Equal(t, map[appealkit.Outcome]int{appealkit.OutcomeRouted: 2000, appealkit.OutcomeRejected: 1000}, rec.outcomes())
	assert.Greater(t, store.maxBatch(), 1, "the store got batches: the source had more than one appeal in flight")
	assert.LessOrEqual(t, store.maxBatch(), 500, "batches are capped by MaxBatch")
	assert.Equal(t, map[string]string{src.Key(): fmt.Sprint(fileSize(t, path))}, cp.Snapshot(), "the checkpoint reached the end")
}

func TestPipelineRetriesAnUnavailableStore(t *testing.T) {
	ctx := context.Background()
	store := &batchStore{MemoryStore: appeal.NewMemoryStore()}
	store.unavailable.Store(5)
	var retries atomic.Int32
	src := &sliceSource{appeals: []appeal.Appeal{msg("1", "яма"), msg("2", "мусор"), msg("3", "привет")}}
	p := newPipeline(t, appealkit.Config{Store: store, Classifier: keywordClassifier, Router: topicRouter,
		StoreBackoff: source.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond},
		Inputs:       []appealkit.Input{{Name: "vk", Source: src}},
		Hooks:        appealkit.Hooks{StoreRetry: func(err error, _ int) { assert.ErrorIs(t, err, appeal.ErrUnavailable); retries.Add(1) }}})
	require.NoError(t, p.Run(ctx), "a store outage pauses intake, it does not fail it")
	all, err := store.List(ctx, appeal.Filter{})
	require.NoError(t, err)
	assert.Len(t, all, 3)
	assert.Equal(t, int32(5), retries.Load())
}

func TestPipelineDeadLettersPoisonAndStoresTheRest(t *testing.T) {
	ctx := context.Background()
	store := &batchStore{MemoryStore: appeal.NewMemoryStore()}
	path := writeReplay(t, 1000, func(i int) string {
		if i%250 == 7 {
			return "POISON яма"
		}
		return "яма на дороге"
	})
	src, err := replay.New(replay.Config{Path: path, Logger: quietLogger})
	require.NoError(t, err)
	var mu sync.Mutex
	var dead []appeal.DeadLetter
	var rec recorder
	hooks := rec.hooks()
	hooks.DeadLetter = func(d appeal.DeadLetter) {
		mu.Lock()
		dead = append(dead, d)
		mu.Unlock()
	}
	// An invalid appeal from a pushing input (no external id) goes the
	// same way.
	p := newPipeline(t, appealkit.Config{Store: store, Classifier: keywordClassifier, Router: topicRouter,
		Inputs: []appealkit.Input{{Name: "replay", Source: src}}, Hooks: hooks})
	runDone := make(chan error)
	ctxRun, cancel := context.WithCancel(ctx)
	go func() { runDone <- p.Run(ctxRun) }()
	require.Eventually(t, func() bool {
		return !errors.Is(p.Sink("webhook")(ctx, appeal.Appeal{Network: appeal.NetworkWeb, Text: "без id"}), appealkit.ErrStopped)
	}, 5*time.Second, time.Millisecond)
	for len(rec.outcomes()) == 0 || rec.outcomes()[appealkit.OutcomeRouted] < 996 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	require.NoError(t, <-runDone)

	all, err := store.List(ctx, appeal.Filter{})
	require.NoError(t, err)
	assert.Len(t, all, 996, "every appeal but the poisoned ones is stored")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, dead, 5, "4 poisoned appeals and 1 invalid one")
	var ids []string
	for _, d := range dead {
		ids = append(ids, string(d.ID)+"@"+d.Input)
		assert.NotEmpty(t, d.Reason)
	}
	assert.ElementsMatch(t, []string{"vk:7@replay", "vk:257@replay", "vk:507@replay", "vk:757@replay", "@webhook"}, ids)
	assert.Equal(t, 5, rec.outcomes()[appealkit.OutcomeDeadLettered])
}

func TestPipelineParksInvalidAppealsInTheStoresDeadLetters(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	var rec recorder
	src := &sliceSource{appeals: []appeal.Appeal{msg("1", "яма"), {Network: appeal.NetworkVK, Text: "no id"}, msg("2", "мусор")}}
	p := newPipeline(t, appealkit.Config{Store: store, Classifier: keywordClassifier, Router: topicRouter,
		Inputs: []appealkit.Input{{Name: "vk", Source: src}}, Hooks: rec.hooks()})
	require.NoError(t, p.Run(ctx), "the source moves past the invalid appeal")
	all, err := store.List(ctx, appeal.Filter{})
	require.NoError(t, err)
	assert.Len(t, all, 2)
	dead, err := store.DeadLetters(ctx, 0)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, "vk", dead[0].Input)
	assert.Contains(t, dead[0].Reason, "validate")
	assert.Equal(t, map[appealkit.Outcome]int{appealkit.OutcomeRouted: 2, appealkit.OutcomeDeadLettered: 1}, rec.outcomes())
	var se *appealkit.StageError
	for _, r := range rec.results {
		if r.Outcome == appealkit.OutcomeDeadLettered {
			require.ErrorAs(t, r.Err, &se)
			assert.Equal(t, appealkit.StageValidate, se.Stage)
			assert.ErrorIs(t, r.Err, appeal.ErrInvalid)
		}
	}
}

// flakySource fails with a temporary error `fails` times, then delivers.
type flakySource struct {
	fails atomic.Int32
	next  sliceSource
}

func (s *flakySource) Run(ctx context.Context, sink source.Sink) error {
	if s.fails.Add(-1) >= 0 {
		return fmt.Errorf("network down: %w", source.ErrTemporary)
	}
	return s.next.Run(ctx, sink)
}

// blockingSource delivers nothing and returns when ctx ends.
type blockingSource struct{}

func (blockingSource) Run(ctx context.Context, _ source.Sink) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestPipelineRestartsAFailedInputWhileOthersRun(t *testing.T) {
	store := appeal.NewMemoryStore()
	flaky := &flakySource{next: sliceSource{appeals: []appeal.Appeal{msg("1", "яма")}}}
	flaky.fails.Store(2)
	var restarts atomic.Int32
	p := newPipeline(t, appealkit.Config{Store: store, Classifier: keywordClassifier, Router: topicRouter,
		RestartBackoff: source.Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond},
		Inputs: []appealkit.Input{{Name: "flaky", Source: flaky},
			{Name: "other", Source: &sliceSource{appeals: []appeal.Appeal{msg("2", "мусор")}}}},
		Hooks: appealkit.Hooks{InputRestart: func(name string, err error, _ time.Duration) {
			assert.Equal(t, "flaky", name)
			assert.ErrorIs(t, err, source.ErrTemporary)
			restarts.Add(1)
		}}})
	require.NoError(t, p.Run(context.Background()))
	assert.Equal(t, int32(2), restarts.Load())
	_, err := store.Get(context.Background(), "vk:1")
	assert.NoError(t, err, "the restarted input delivered")
	_, err = store.Get(context.Background(), "vk:2")
	assert.NoError(t, err)
}

func TestPipelineRunReturnsWhenAnInputFailsForGood(t *testing.T) {
	var rec recorder
	p := newPipeline(t, appealkit.Config{Store: appeal.NewMemoryStore(), Classifier: appealkit.NoClassification{}, Router: appealkit.NoRouting{}, Hooks: rec.hooks(), Inputs: []appealkit.Input{
		{Name: "bad", Source: failingSource{fmt.Errorf("token revoked: %w", source.ErrAuth)}},
		{Name: "forever", Source: blockingSource{}},
	}})
	done := make(chan error)
	go func() { done <- p.Run(context.Background()) }()
	select {
	case err := <-done:
		require.Error(t, err)
		assert.ErrorIs(t, err, source.ErrAuth)
		assert.Contains(t, err.Error(), `input "bad"`)
	case <-time.After(10 * time.Second):
		t.Fatal("Run carried on with an input dead for good")
	}
	assert.NoError(t, rec.stopped["forever"], "the other input was stopped, not failed")
}

func TestRestartable(t *testing.T) {
	assert.True(t, appealkit.Restartable(fmt.Errorf("x: %w", source.ErrTemporary)))
	assert.True(t, appealkit.Restartable(&source.RateLimitError{Wait: time.Second}))
	assert.True(t, appealkit.Restartable(fmt.Errorf("x: %w", appeal.ErrUnavailable)))
	assert.False(t, appealkit.Restartable(fmt.Errorf("x: %w", source.ErrAuth)))
	assert.False(t, appealkit.Restartable(fmt.Errorf("x: %w", source.ErrMalformed)))
	assert.False(t, appealkit.Restartable(errors.New("something else")))
}

// brokenStore fails every write with an error that says nothing about the
// appeal, as a full disk would.
type brokenStore struct{ *appeal.MemoryStore }

var errDiskFull = errors.New("disk I/O error")

func (brokenStore) PutBatch(context.Context, []appeal.Appeal, ...appeal.Checkpoint) ([]bool, error) {
	return nil, errDiskFull
}

func (brokenStore) Put(context.Context, appeal.Appeal) (bool, error) { return false, errDiskFull }

func TestPipelineDoesNotDeadLetterWhenTheStoreFailsAsAWhole(t *testing.T) {
	ctx := context.Background()
	store := brokenStore{appeal.NewMemoryStore()}
	path := writeReplay(t, 50, func(int) string { return "яма" })
	cp := source.NewMemoryCheckpoints()
	src, err := replay.New(replay.Config{Path: path, Checkpoints: cp, Logger: quietLogger})
	require.NoError(t, err)
	p := newPipeline(t, appealkit.Config{Store: store, Classifier: keywordClassifier, Router: topicRouter,
		Inputs: []appealkit.Input{{Name: "replay", Source: src}}})
	err = p.Run(ctx)
	require.ErrorIs(t, err, errDiskFull, "the input stops on a store that fails as a whole")
	dead, derr := store.DeadLetters(ctx, 0)
	require.NoError(t, derr)
	assert.Empty(t, dead, "good appeals are not parked as dead letters because the database failed")
	assert.Empty(t, cp.Snapshot(), "the checkpoint did not move")
}

// transitionCounter counts Transition calls, as something watching the
// store's lifecycle steps would.
type transitionCounter struct {
	*appeal.MemoryStore
	n atomic.Int32
}

func (s *transitionCounter) Transition(ctx context.Context, id appeal.ID, c appeal.Change) (appeal.Appeal, error) {
	s.n.Add(1)
	return s.MemoryStore.Transition(ctx, id, c)
}

func TestPipelineSeparateTransitionOptsOut(t *testing.T) {
	ctx := context.Background()
	for _, separate := range []bool{false, true} {
		store := &transitionCounter{MemoryStore: appeal.NewMemoryStore()}
		src := &sliceSource{appeals: []appeal.Appeal{msg("1", "яма"), msg("2", "привет")}}
		p := newPipeline(t, appealkit.Config{Store: store, Classifier: keywordClassifier, Router: topicRouter,
			SeparateTransition: separate, Inputs: []appealkit.Input{{Name: "vk", Source: src}}})
		require.NoError(t, p.Run(ctx))
		one, err := store.Get(ctx, "vk:1")
		require.NoError(t, err)
		assert.Equal(t, appeal.StatusRouted, one.Status)
		require.Len(t, one.History, 1)
		if separate {
			assert.Equal(t, int32(2), store.n.Load(), "one Transition per appeal")
			assert.Equal(t, int64(2), one.Version)
		} else {
			assert.Zero(t, store.n.Load(), "routed in memory, stored once")
			assert.Equal(t, int64(1), one.Version)
		}
	}
}

func TestPipelineAsyncSinkForPushers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	store := &batchStore{MemoryStore: appeal.NewMemoryStore()}
	p := newPipeline(t, appealkit.Config{Store: store, Classifier: keywordClassifier, Router: topicRouter})
	require.ErrorIs(t, p.AsyncSink("push")(ctx, msg("0", "яма"), func(error) {}), appealkit.ErrStopped)
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	require.Eventually(t, func() bool {
		return !errors.Is(p.Sink("push")(ctx, appeal.Appeal{}), appealkit.ErrStopped)
	}, 5*time.Second, time.Millisecond)

	w := source.NewWindow(p.AsyncSink("push"), 256)
	for i := range 1000 {
		require.NoError(t, w.Send(ctx, msg(fmt.Sprint(i), "мусор"), fmt.Sprint(i)))
	}
	require.NoError(t, w.Wait(ctx))
	cur, _ := w.Committed()
	assert.Equal(t, "999", cur)
	all, err := store.List(ctx, appeal.Filter{})
	require.NoError(t, err)
	assert.Len(t, all, 1000)
	assert.Greater(t, store.maxBatch(), 1, "appeals in flight were written in batches")
	cancel()
	require.NoError(t, <-done)
}

// BenchmarkPipelineReplay measures appeals per second from a replay input
// with many appeals in flight (the backfill path) through the stand-in
// classifier and router into each store; with the memory store it is the
// pipeline's own ceiling.
func BenchmarkPipelineReplay(b *testing.B) {
	const n = 10000
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			store := st.open(b)
			b.ReportAllocs()
			total := 0
			for b.Loop() {
				b.StopTimer()
				// Fresh ids per iteration: every appeal is new to the store.
				path := writeReplayFrom(b, total, n, func(i int) string {
					return []string{"яма на дороге", "не вывозят мусор", "привет"}[i%3]
				})
				src, err := replay.New(replay.Config{Path: path, Key: fmt.Sprint(total), Logger: quietLogger})
				require.NoError(b, err)
				p, err := appealkit.New(appealkit.Config{Store: store, Classifier: keywordClassifier, Router: topicRouter,
					Inputs: []appealkit.Input{{Name: "replay", Source: src}}})
				require.NoError(b, err)
				b.StartTimer()
				require.NoError(b, p.Run(context.Background()))
				total += n
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "appeals/s")
		})
	}
}
