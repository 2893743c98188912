package source_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// heldSink takes appeals and answers them only when the test says so.
type heldSink struct {
	mu    sync.Mutex
	dones map[appeal.ID]func(error)
	taken chan appeal.ID
}

func newHeldSink() *heldSink {
	return &heldSink{dones: map[appeal.ID]func(error){}, taken: make(chan appeal.ID, 100)}
}

func (h *heldSink) sink(_ context.Context, a appeal.Appeal, done func(error)) error {
	h.mu.Lock()
	h.dones[a.ID] = done
	h.mu.Unlock()
	h.taken <- a.ID
	return nil
}

func (h *heldSink) answer(id appeal.ID, err error) {
	h.mu.Lock()
	done := h.dones[id]
	delete(h.dones, id)
	h.mu.Unlock()
	done(err)
}

func wa(i int) appeal.Appeal { return appeal.Appeal{ID: appeal.ID("vk:" + strconv.Itoa(i))} }

func TestWindowCommitsOnlyTheAcceptedPrefixInOrder(t *testing.T) {
	ctx := context.Background()
	h := newHeldSink()
	w := source.NewWindow(h.sink, 3)
	for i := 1; i <= 3; i++ {
		require.NoError(t, w.Send(ctx, wa(i), strconv.Itoa(i*10)))
	}
	_, ok := w.Committed()
	assert.False(t, ok, "nothing accepted yet")
	assert.Equal(t, 3, w.InFlight())

	// The window is full: a fourth Send waits for room.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, w.Send(short, wa(4), "40"), context.DeadlineExceeded)

	// Answers out of order: the cursor moves only over the prefix.
	h.answer("vk:2", nil)
	_, ok = w.Committed()
	assert.False(t, ok, "vk:1 before it is still in flight")
	h.answer("vk:1", nil)
	cur, ok := w.Committed()
	assert.True(t, ok)
	assert.Equal(t, "20", cur)

	require.NoError(t, w.Send(ctx, wa(4), "40"))
	w.Skip("45") // a bad line passed over after vk:4
	h.answer("vk:4", nil)
	cur, _ = w.Committed()
	assert.Equal(t, "20", cur, "vk:3 still holds the cursor back")
	h.answer("vk:3", nil)
	require.NoError(t, w.Wait(ctx))
	cur, _ = w.Committed()
	assert.Equal(t, "45", cur)
}

func TestWindowStopsAtARefusal(t *testing.T) {
	ctx := context.Background()
	h := newHeldSink()
	w := source.NewWindow(h.sink, 10)
	for i := 1; i <= 3; i++ {
		require.NoError(t, w.Send(ctx, wa(i), strconv.Itoa(i)))
	}
	boom := errors.New("disk full")
	h.answer("vk:1", nil)
	h.answer("vk:2", boom)
	h.answer("vk:3", nil)
	err := w.Send(ctx, wa(4), "4")
	require.ErrorIs(t, err, boom, "the next Send reports the refusal and sends nothing")
	var re *source.RefusedError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, appeal.ID("vk:2"), re.ID)
	assert.Equal(t, "2", re.Cursor)
	assert.Contains(t, err.Error(), "vk:2")
	cur, _ := w.Committed()
	assert.Equal(t, "1", cur, "never past the refused appeal, though vk:3 was accepted")
	assert.ErrorIs(t, w.Wait(ctx), boom)
	assert.Equal(t, 0, w.InFlight())
}

func TestWindowWithASynchronousSink(t *testing.T) {
	var got []appeal.ID
	w := source.NewWindow(source.Async(func(_ context.Context, a appeal.Appeal) error {
		if a.ID == "vk:3" {
			return errors.New("refused")
		}
		got = append(got, a.ID)
		return nil
	}), 5)
	ctx := context.Background()
	require.NoError(t, w.Send(ctx, wa(1), "1"))
	require.NoError(t, w.Send(ctx, wa(2), "2"))
	cur, _ := w.Committed()
	assert.Equal(t, "2", cur, "a synchronous sink answers before Send returns")
	require.Error(t, w.Send(ctx, wa(3), "3"))
	assert.Equal(t, []appeal.ID{"vk:1", "vk:2"}, got)
	cur, _ = w.Committed()
	assert.Equal(t, "2", cur)
}

func TestWindowConcurrentAnswers(t *testing.T) {
	ctx := context.Background()
	w := source.NewWindow(func(_ context.Context, _ appeal.Appeal, done func(error)) error {
		go done(nil)
		return nil
	}, 16)
	for i := 1; i <= 2000; i++ {
		require.NoError(t, w.Send(ctx, wa(i), strconv.Itoa(i)))
	}
	require.NoError(t, w.Wait(ctx))
	cur, ok := w.Committed()
	assert.True(t, ok)
	assert.Equal(t, "2000", cur)
}

func TestAfterCancelEndsWithTheRunnersGrace(t *testing.T) {
	ctx, cancel := context.WithCancel(source.WithShutdownGrace(context.Background(), 30*time.Millisecond))
	cancel()
	dctx, stop := source.AfterCancel(ctx, time.Hour)
	defer stop()
	require.NoError(t, dctx.Err(), "not cancelled with ctx")
	deadline, ok := dctx.Deadline()
	require.True(t, ok)
	assert.WithinDuration(t, time.Now().Add(30*time.Millisecond), deadline, 20*time.Millisecond)

	plain, stop2 := source.AfterCancel(context.Background(), time.Hour)
	defer stop2()
	deadline, _ = plain.Deadline()
	assert.WithinDuration(t, time.Now().Add(time.Hour), deadline, time.Second, "the default without a runner's grace")
}
