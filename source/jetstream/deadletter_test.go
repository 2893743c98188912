package jetstream_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/jetstream"
)

var errRefused = errors.New("refused: classifier rejects this text")

// Poison (undecodable bytes, an appeal the sink refuses every time) goes to
// the dead-letter stream after MaxDeliveries with its reason; an appeal
// refused with a transient store error is redelivered past MaxDeliveries
// and finally accepted; the healthy ones are accepted once.
func TestPoisonDeadLettered(t *testing.T) {
	srv := startServer(t, "", 0)
	_, js := connect(t, srv.ClientURL())
	cfg := freshConfig()
	cfg.MaxDeliveries = 3
	cfg.Backoff = source.Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}
	ctx := ctxTimeout(t, 30*time.Second)
	require.NoError(t, jetstream.Setup(ctx, js, cfg))
	pub, err := jetstream.NewPublisher(js, cfg)
	require.NoError(t, err)
	sink := pub.Sink()
	for i, text := range []string{"ok 1", "poison", "outage", "ok 2"} {
		require.NoError(t, sink(ctx, testAppeal("telegram", i+1, text)))
	}
	_, err = js.PublishMsg(ctx, &nats.Msg{Subject: cfg.Subject + ".telegram._", Data: []byte(`{"id": 12, "text": `), Header: nats.Header{}})
	require.NoError(t, err)
	// An invalid appeal goes to the dead letters at intake.
	require.NoError(t, sink(ctx, appeal.Appeal{Network: "telegram", Text: "no external id"}))

	var mu sync.Mutex
	accepted := map[string]int{}
	outageLeft := 6 // more than MaxDeliveries
	src, err := jetstream.NewSource(js, cfg, jetstream.WithInFlight(4))
	require.NoError(t, err)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- src.RunAsync(rctx, func(_ context.Context, a appeal.Appeal, finish func(error)) error {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case a.Text == "poison":
				go finish(errRefused)
			case a.Text == "outage" && outageLeft > 0:
				outageLeft--
				go finish(appeal.ErrUnavailable)
			default:
				accepted[a.Text]++
				go finish(nil)
			}
			return nil
		})
	}()
	waitUntil(t, 10*time.Second, "the healthy and the recovered appeals accepted, the poison dead-lettered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(accepted) == 3 && src.Stats().DeadLettered == 2
	})
	cancel()
	require.NoError(t, <-done)
	assert.Equal(t, map[string]int{"ok 1": 1, "ok 2": 1, "outage": 1}, accepted)

	dead := readAll(t, ctx, js, cfg.DeadStream)
	require.Len(t, dead, 3)
	reasons := map[string]natsjs.Msg{}
	for _, m := range dead {
		reasons[m.Headers().Get(jetstream.HeaderReason)] = m
	}
	var sawPoison, sawGarbage, sawInvalid bool
	for r, m := range reasons {
		switch {
		case strings.Contains(r, errRefused.Error()):
			sawPoison = true
			assert.Equal(t, "3", m.Headers().Get(jetstream.HeaderDeliveries))
			assert.Equal(t, cfg.DeadSubject+".telegram._", m.Subject())
		case strings.Contains(r, "malformed"):
			sawGarbage = true
			assert.Equal(t, `{"id": 12, "text": `, string(m.Data()))
		case strings.Contains(r, "external"):
			sawInvalid = true
		}
	}
	assert.True(t, sawPoison && sawGarbage && sawInvalid, "dead letters: %v", keys(reasons))
	info, err := js.Stream(ctx, cfg.Stream)
	require.NoError(t, err)
	assert.Zero(t, info.CachedInfo().State.Msgs, "the work queue is empty")
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// readAll reads every message of a stream with an ordered consumer.
func readAll(t testing.TB, ctx context.Context, js natsjs.JetStream, stream string) []natsjs.Msg {
	t.Helper()
	cons, err := js.OrderedConsumer(ctx, stream, natsjs.OrderedConsumerConfig{})
	require.NoError(t, err)
	batch, err := cons.FetchNoWait(1000)
	require.NoError(t, err)
	var out []natsjs.Msg
	for m := range batch.Messages() {
		out = append(out, m)
	}
	return out
}

// A worker that holds appeals longer than AckWait (a store outage the
// pipeline rides out) keeps them: its in-progress signals stop JetStream
// from handing them to another worker.
func TestSlowSinkKeepsItsAppeals(t *testing.T) {
	srv := startServer(t, "", 0)
	_, js := connect(t, srv.ClientURL())
	cfg := freshConfig()
	cfg.AckWait = 300 * time.Millisecond
	ctx := ctxTimeout(t, 30*time.Second)
	require.NoError(t, jetstream.Setup(ctx, js, cfg))
	pub, err := jetstream.NewPublisher(js, cfg)
	require.NoError(t, err)
	for i := 1; i <= 3; i++ {
		require.NoError(t, pub.Sink()(ctx, testAppeal("vk", i, "slow")))
	}
	slow, err := jetstream.NewSource(js, cfg, jetstream.WithInFlight(8))
	require.NoError(t, err)
	other, err := jetstream.NewSource(js, cfg)
	require.NoError(t, err)
	var stolen sync.Map
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = slow.RunAsync(rctx, func(_ context.Context, _ appeal.Appeal, done func(error)) error {
			time.AfterFunc(1500*time.Millisecond, func() { done(nil) }) // five AckWaits
			return nil
		})
	}()
	waitUntil(t, 5*time.Second, "the slow worker holds all three", func() bool {
		info, err := js.Stream(ctx, cfg.Stream)
		if err != nil {
			return false
		}
		c, err := info.Consumer(ctx, cfg.Consumer)
		return err == nil && c.CachedInfo().NumAckPending == 3
	})
	go func() {
		defer wg.Done()
		_ = other.Run(rctx, func(_ context.Context, a appeal.Appeal) error {
			stolen.Store(a.ID, true)
			return nil
		})
	}()
	waitUntil(t, 10*time.Second, "the slow worker's acks", func() bool { return slow.Stats().Acked == 3 })
	cancel()
	wg.Wait()
	n := 0
	stolen.Range(func(any, any) bool { n++; return true })
	assert.Zero(t, n, "appeals handed to another worker while the slow one was on them")
	assert.Zero(t, slow.Stats().Redelivered)
}

// A worker whose connection is closed under it reports a temporary failure
// (the pipeline restarts the input), not a normal end of input.
func TestClosedConnectionIsTemporary(t *testing.T) {
	srv := startServer(t, "", 0)
	nc, js := connect(t, srv.ClientURL())
	cfg := freshConfig()
	require.NoError(t, jetstream.Setup(ctxTimeout(t, 5*time.Second), js, cfg))
	src, err := jetstream.NewSource(js, cfg)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		done <- src.Run(context.Background(), func(context.Context, appeal.Appeal) error { return nil })
	}()
	time.Sleep(100 * time.Millisecond)
	nc.Close()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, source.ErrTemporary)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its connection was closed")
	}
}
