package jetstream_test

import (
	"testing"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/jetstream"
)

// A publish JetStream does not acknowledge is not accepted: the sync sink
// returns a temporary error, and through the async sink a Window's cursor
// stays before it. The same appeal published twice is stored once.
func TestPublishAckedBeforeCheckpoint(t *testing.T) {
	srv := startServer(t, "", 0)
	_, js := connect(t, srv.ClientURL())
	cfg := freshConfig()
	ctx := ctxTimeout(t, 20*time.Second)

	// No stream yet: nobody acknowledges.
	pub, err := jetstream.NewPublisher(js, cfg)
	require.NoError(t, err)
	err = pub.Sink()(ctx, testAppeal("vk", 1, "нет стрима"))
	require.ErrorIs(t, err, source.ErrTemporary)

	w := source.NewWindow(pub.AsyncSink(), 8)
	require.NoError(t, w.Send(ctx, testAppeal("vk", 1, "нет стрима"), "1"))
	assert.Error(t, w.Wait(ctx))
	_, committed := w.Committed()
	assert.False(t, committed, "the cursor moved past an unacknowledged publish")

	require.NoError(t, jetstream.Setup(ctx, js, cfg))
	w = source.NewWindow(pub.AsyncSink(), 8)
	for i := 1; i <= 3; i++ {
		require.NoError(t, w.Send(ctx, testAppeal("vk", i, "есть стрим"), string(rune('0'+i))))
	}
	require.NoError(t, pub.Sink()(ctx, testAppeal("vk", 2, "есть стрим"))) // a redelivery
	require.NoError(t, w.Wait(ctx))
	cur, ok := w.Committed()
	assert.True(t, ok)
	assert.Equal(t, "3", cur)
	info, err := js.Stream(ctx, cfg.Stream)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), info.CachedInfo().State.Msgs, "the republished appeal was dropped by its Nats-Msg-Id")
	a := testAppeal("vk", 4, "с муниципалитетом")
	a.Municipality = "г. Курск"
	require.NoError(t, pub.Sink()(ctx, a))
	assert.ElementsMatch(t, []string{cfg.Subject + ".vk._", cfg.Subject + ".vk.г__Курск"}, subjects(t, info))
}

func subjects(t *testing.T, s natsjs.Stream) []string {
	t.Helper()
	info, err := s.Info(ctxTimeout(t, 5*time.Second), natsjs.WithSubjectFilter(">"))
	require.NoError(t, err)
	var out []string
	for subj := range info.State.Subjects {
		out = append(out, subj)
	}
	return out
}

// A full stream refuses new appeals (the source retries them later) and
// keeps the ones it has: nothing is dropped to make room.
func TestFullStreamRefusesNotDrops(t *testing.T) {
	srv := startServer(t, "", 0)
	_, js := connect(t, srv.ClientURL())
	cfg := freshConfig()
	cfg.MaxBytes = 4 << 10
	ctx := ctxTimeout(t, 20*time.Second)
	require.NoError(t, jetstream.Setup(ctx, js, cfg))
	pub, err := jetstream.NewPublisher(js, cfg)
	require.NoError(t, err)
	accepted := 0
	var refusal error
	for i := 1; i <= 100 && refusal == nil; i++ {
		if refusal = pub.Sink()(ctx, testAppeal("vk", i, "на остановке разбито стекло, просим заменить")); refusal == nil {
			accepted++
		}
	}
	require.Error(t, refusal, "a 4 KiB stream took 100 appeals")
	assert.ErrorIs(t, refusal, source.ErrTemporary)
	info, err := js.Stream(ctx, cfg.Stream)
	require.NoError(t, err)
	assert.Equal(t, uint64(accepted), info.CachedInfo().State.Msgs)
	assert.Equal(t, uint64(1), info.CachedInfo().State.FirstSeq, "an accepted appeal was dropped to make room")
}
