package answer_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
	"github.com/appealkit/appealkit/appeal/answer/answertest"
	"github.com/appealkit/appealkit/appeal/storetest"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/vk"
)

type loop struct {
	store storetest.OutboxStore
	w     *answer.Workflow
	vk    *answertest.VK
	vkCh  answer.Channel
	clock *clock
}

func newLoop(t testing.TB, open func(testing.TB) storetest.OutboxStore, policy answer.Policy) *loop {
	t.Helper()
	l := &loop{store: open(t), vk: answertest.NewVK(), clock: newClock()}
	t.Cleanup(l.vk.Close)
	r, err := vk.NewReplier(vk.API{Token: l.vk.Token, URL: l.vk.URL(), HTTPClient: l.vk.Server.Client(), RequestsPerSecond: 10000})
	require.NoError(t, err)
	l.vkCh = answer.Channel{Replier: r, Idempotent: true, IsPermanent: answer.OnlyTemporaryRetried}
	l.w, err = answer.New(answer.Config{Store: l.store, Templates: testTemplates(t), Rules: testRules(t), Policy: policy, Now: l.clock.Now})
	require.NoError(t, err)
	return l
}

func (l *loop) publisher(t testing.TB, channels map[string]answer.Channel, afterPost func(appeal.OutboxMessage) error) *answer.Publisher {
	t.Helper()
	if channels == nil {
		channels = map[string]answer.Channel{"vk": l.vkCh}
	}
	p, err := answer.NewPublisher(answer.PublisherConfig{Store: l.store, Channels: channels, Now: l.clock.Now,
		Lease: time.Minute, AfterPost: afterPost, MaxAttempts: 4})
	require.NoError(t, err)
	return p
}

// approved makes an interim answer to a fresh appeal and queues it.
func (l *loop) approved(t *testing.T, ext string) appeal.Appeal {
	t.Helper()
	ctx := context.Background()
	a := routed(t, l.store, ext, "Огромная яма на дороге у остановки на улице Садовой", "roads", "roads-committee")
	a, d, err := l.w.Draft(ctx, a.ID, appeal.AnswerInterim, "operator-1", a.Version)
	require.NoError(t, err)
	a, err = l.w.Submit(ctx, a.ID, d.ID, "operator-1", a.Version)
	require.NoError(t, err)
	require.Equal(t, appeal.AnswerApproved, a.Drafts[0].State)
	return a
}

func TestPublishHappyPath(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			l := newLoop(t, st.open, answer.Policy{})
			a := l.approved(t, "-100_4000_c9000")
			res, err := l.publisher(t, nil, nil).Drain(ctx)
			require.NoError(t, err)
			assert.Equal(t, answer.DrainResult{Published: 1}, res)

			posts := l.vk.Posts()
			require.Len(t, posts, 1)
			p := posts[0]
			assert.Equal(t, "wall.createComment", p.Method)
			assert.Equal(t, "100", p.Params.Get("from_group"), "answers as the community")
			assert.Equal(t, "9000", p.Params.Get("reply_to_comment"))
			assert.Equal(t, answer.OutboxKey(a.ID, "1", a.Drafts[0].Text), p.Params.Get("guid"))

			got, err := l.store.Get(ctx, a.ID)
			require.NoError(t, err)
			assert.Equal(t, appeal.StatusInProgress, got.Status, "an interim answer takes the appeal in progress")
			require.Len(t, got.Replies, 1)
			assert.Equal(t, appeal.AnswerInterim, got.Replies[0].Kind)
			assert.Equal(t, vk.CommentExternalID(-100, 4000, p.ID), got.Replies[0].ExternalID)
			assert.Equal(t, appeal.AnswerPublished, got.Drafts[0].State)
			assert.False(t, got.Promised.IsZero())
			assert.Equal(t, got.Drafts[0].Promised, got.Promised)
			pending, err := l.store.Pending(ctx)
			require.NoError(t, err)
			assert.Empty(t, pending)
			// Every step is in the history with its actor.
			var actors []string
			for _, e := range got.History {
				actors = append(actors, e.Actor)
			}
			assert.Equal(t, []string{"pipeline", "operator-1", "operator-1", "publisher", "publisher"}, actors)
		})
	}
}

var errCrash = errors.New("injected crash between post and record")

// TestCrashBetweenPostAndRecord: the publisher dies after VK accepted the
// comment and before the appeal records it. A new publisher, after the
// lease, posts again with the same guid: VK drops the repeat and returns
// the same comment, so the citizen sees one answer and the appeal records
// exactly one reply.
func TestCrashBetweenPostAndRecord(t *testing.T) {
	for _, st := range stores {
		for _, ext := range []string{"-100_4000_c9000", "-100_m555_7M"} {
			t.Run(st.name+"/"+ext, func(t *testing.T) {
				ctx := context.Background()
				l := newLoop(t, st.open, answer.Policy{})
				if ext[len(ext)-1] == 'M' {
					ext = ext[:len(ext)-1]
				}
				a := l.approved(t, ext)
				_, err := l.publisher(t, nil, func(appeal.OutboxMessage) error { return errCrash }).Drain(ctx)
				require.ErrorIs(t, err, errCrash)
				require.Len(t, l.vk.Posts(), 1, "the answer went out")
				got, err := l.store.Get(ctx, a.ID)
				require.NoError(t, err)
				assert.Empty(t, got.Replies, "nothing recorded yet")
				pending, err := l.store.Pending(ctx)
				require.NoError(t, err)
				require.Len(t, pending, 1, "the answer is not lost")
				assert.True(t, pending[0].InFlight)

				// A restarted publisher within the lease leaves it alone...
				p2 := l.publisher(t, nil, nil)
				res, err := p2.Drain(ctx)
				require.NoError(t, err)
				assert.Zero(t, res.Published)
				// ...and after it finishes the job.
				l.clock.Advance(2 * time.Minute)
				res, err = p2.Drain(ctx)
				require.NoError(t, err)
				assert.Equal(t, answer.DrainResult{Published: 1}, res)
				assert.Equal(t, 2, l.vk.Calls(), "posted twice with the same key")
				require.Len(t, l.vk.Posts(), 1, "VK dropped the repeat: the citizen sees one answer")

				got, err = l.store.Get(ctx, a.ID)
				require.NoError(t, err)
				require.Len(t, got.Replies, 1)
				assert.Equal(t, appeal.StatusInProgress, got.Status)
				assert.Equal(t, appeal.AnswerPublished, got.Drafts[0].State)
				pending, err = l.store.Pending(ctx)
				require.NoError(t, err)
				assert.Empty(t, pending)
			})
		}
	}
}

// countingReplier stands in for a network without idempotency keys
// (Telegram, MAX): every call is a new message.
type countingReplier struct {
	posts   atomic.Int32
	fail    atomic.Int32 // fail this many calls with failErr
	failErr error
}

func (c *countingReplier) Reply(_ context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	if c.fail.Load() > 0 {
		c.fail.Add(-1)
		return appeal.Reply{}, c.failErr
	}
	n := c.posts.Add(1)
	return appeal.Reply{ExternalID: to.ExternalID + "_r" + string(rune('0'+n)), Text: text}, nil
}

// TestCrashOnChannelWithoutKeys: a channel that cannot drop repeats is
// never posted to twice: after a crash mid-post the draft goes back to the
// operator to check the thread, with the reason.
func TestCrashOnChannelWithoutKeys(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			l := newLoop(t, st.open, answer.Policy{})
			tg := &countingReplier{}
			ch := map[string]answer.Channel{"vk": {Replier: tg}}
			a := l.approved(t, "-100_4000_c9001")
			_, err := l.publisher(t, ch, func(appeal.OutboxMessage) error { return errCrash }).Drain(ctx)
			require.ErrorIs(t, err, errCrash)
			l.clock.Advance(2 * time.Minute)
			res, err := l.publisher(t, ch, nil).Drain(ctx)
			require.NoError(t, err)
			assert.Equal(t, answer.DrainResult{Returned: 1}, res)
			assert.EqualValues(t, 1, tg.posts.Load(), "never posted twice")
			got, err := l.store.Get(ctx, a.ID)
			require.NoError(t, err)
			assert.Equal(t, appeal.AnswerReturned, got.Drafts[0].State)
			assert.Contains(t, got.Drafts[0].Comment, "Проверьте ветку")
			pending, err := l.store.Pending(ctx)
			require.NoError(t, err)
			assert.Empty(t, pending)
		})
	}
}

// failingRemove makes the outbox's Remove fail once: a crash after the
// publication is recorded and before the message is removed.
type failingRemove struct {
	storetest.OutboxStore
	failed atomic.Bool
}

func (f *failingRemove) Remove(ctx context.Context, key string) error {
	if f.failed.CompareAndSwap(false, true) {
		return errCrash
	}
	return f.OutboxStore.Remove(ctx, key)
}

func TestCrashBetweenRecordAndRemove(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			l := newLoop(t, st.open, answer.Policy{})
			tg := &countingReplier{}
			ch := map[string]answer.Channel{"vk": {Replier: tg}}
			a := l.approved(t, "-100_4000_c9002")
			fr := &failingRemove{OutboxStore: l.store}
			p, err := answer.NewPublisher(answer.PublisherConfig{Store: fr, Channels: ch, Now: l.clock.Now, Lease: time.Minute})
			require.NoError(t, err)
			_, err = p.Drain(ctx)
			require.ErrorIs(t, err, errCrash)
			l.clock.Advance(2 * time.Minute)
			res, err := p.Drain(ctx)
			require.NoError(t, err)
			assert.Equal(t, answer.DrainResult{Published: 1}, res, "found recorded, not posted again")
			assert.EqualValues(t, 1, tg.posts.Load())
			got, err := l.store.Get(ctx, a.ID)
			require.NoError(t, err)
			assert.Len(t, got.Replies, 1)
		})
	}
}

func TestPublishRetriesWithBackoffThenReturns(t *testing.T) {
	ctx := context.Background()
	l := newLoop(t, stores[1].open, answer.Policy{})
	a := l.approved(t, "-100_4000_c9003")
	l.vk.FailNext(10, 10) // VK internal error twice
	p := l.publisher(t, nil, nil)
	res, err := p.Drain(ctx)
	require.NoError(t, err)
	assert.Equal(t, answer.DrainResult{Retrying: 1}, res)
	res, err = p.Drain(ctx)
	require.NoError(t, err)
	assert.Zero(t, res, "not due before the backoff")
	l.clock.Advance(31 * time.Second)
	res, err = p.Drain(ctx)
	require.NoError(t, err)
	assert.Equal(t, answer.DrainResult{Retrying: 1}, res)
	l.clock.Advance(61 * time.Second)
	res, err = p.Drain(ctx)
	require.NoError(t, err)
	assert.Equal(t, answer.DrainResult{Published: 1}, res)
	got, err := l.store.Get(ctx, a.ID)
	require.NoError(t, err)
	assert.Len(t, got.Replies, 1)

	// A permanent failure (access denied) goes back to the operator at once.
	b := l.approved(t, "-100_4001_c9004")
	l.vk.FailNext(15)
	res, err = p.Drain(ctx)
	require.NoError(t, err)
	assert.Equal(t, answer.DrainResult{Returned: 1}, res)
	got, err = l.store.Get(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, appeal.AnswerReturned, got.Drafts[0].State)
	assert.Contains(t, got.Drafts[0].Comment, "Ответ не опубликован")
	assert.Equal(t, appeal.StatusRouted, got.Status)
	last := got.History[len(got.History)-1]
	assert.Equal(t, "publisher", last.Actor)

	// Temporary failures beyond MaxAttempts count as permanent.
	c := l.approved(t, "-100_4002_c9005")
	l.vk.FailNext(10, 10, 10, 10, 10)
	for range 4 {
		_, err = p.Drain(ctx)
		require.NoError(t, err)
		l.clock.Advance(time.Hour)
	}
	got, err = l.store.Get(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, appeal.AnswerReturned, got.Drafts[0].State)
	assert.Contains(t, got.Drafts[0].Comment, "попыток: 4")
}

func TestNoChannelReturnsToOperator(t *testing.T) {
	ctx := context.Background()
	l := newLoop(t, stores[0].open, answer.Policy{})
	a := l.approved(t, "-100_4000_c9006")
	res, err := l.publisher(t, map[string]answer.Channel{}, nil).Drain(ctx)
	require.NoError(t, err)
	assert.Equal(t, answer.DrainResult{Returned: 1}, res)
	got, err := l.store.Get(ctx, a.ID)
	require.NoError(t, err)
	assert.Contains(t, got.Drafts[0].Comment, "Нет канала публикации")
}

// TestConcurrentPublishersPostOnce: four publishers drain one outbox at
// once; every answer is posted and recorded exactly once.
func TestConcurrentPublishersPostOnce(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			l := newLoop(t, st.open, answer.Policy{})
			const n = 12
			var ids []appeal.ID
			for i := range n {
				ids = append(ids, l.approved(t, fmt.Sprintf("-100_%d_c%d", 5000+i, 9500+i)).ID)
			}
			tg := &countingReplier{}
			ch := map[string]answer.Channel{"vk": {Replier: tg}}
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p, err := answer.NewPublisher(answer.PublisherConfig{Store: l.store, Channels: ch, Now: l.clock.Now, Batch: 2})
					if !assert.NoError(t, err) {
						return
					}
					for range 10 {
						if _, err := p.Drain(ctx); !assert.NoError(t, err) {
							return
						}
					}
				}()
			}
			wg.Wait()
			assert.EqualValues(t, n, tg.posts.Load(), "each answer posted once")
			for _, id := range ids {
				a, err := l.store.Get(ctx, id)
				require.NoError(t, err)
				assert.Len(t, a.Replies, 1, "%s", id)
				assert.Equal(t, appeal.AnswerPublished, a.Drafts[0].State)
			}
		})
	}
}

func TestTwoModeratorsOneWins(t *testing.T) {
	ctx := context.Background()
	l := newLoop(t, stores[1].open, answer.Policy{All: true})
	a := routed(t, l.store, "-100_4000_c9600", "Яма на дороге на улице Садовой", "roads", "roads-committee")
	a, d, err := l.w.Draft(ctx, a.ID, appeal.AnswerInterim, "op", a.Version)
	require.NoError(t, err)
	a, err = l.w.Submit(ctx, a.ID, d.ID, "op", a.Version)
	require.NoError(t, err)
	_, err1 := l.w.Approve(ctx, a.ID, d.ID, "moderator-1", a.Version)
	_, err2 := l.w.Return(ctx, a.ID, d.ID, "moderator-2", "перепишите", a.Version)
	require.NoError(t, err1)
	require.ErrorIs(t, err2, appeal.ErrConflict, "the second moderator read a stale version")
	pending, err := l.store.Pending(ctx)
	require.NoError(t, err)
	assert.Len(t, pending, 1)
}

func TestRunDrainsUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	l := newLoop(t, stores[0].open, answer.Policy{})
	for i := range 5 {
		l.approved(t, fmt.Sprintf("-100_%d_c%d", 6000+i, 9700+i))
	}
	tg := &countingReplier{}
	p, err := answer.NewPublisher(answer.PublisherConfig{Store: l.store, Channels: map[string]answer.Channel{"vk": {Replier: tg}},
		Now: l.clock.Now, Batch: 2, OnError: func(err error) { t.Errorf("run: %v", err) }})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, time.Hour) }()
	require.Eventually(t, func() bool { return tg.posts.Load() == 5 }, 5*time.Second, 5*time.Millisecond,
		"full batches are followed at once by the next drain")
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}

// TestAmbiguousFailureWithoutKeys: on a channel without idempotency keys a
// failure that surely sent nothing is retried, an ambiguous one (a 5xx, a
// timeout) goes back to the operator instead of risking a second post.
func TestAmbiguousFailureWithoutKeys(t *testing.T) {
	ctx := context.Background()
	l := newLoop(t, stores[0].open, answer.Policy{})
	tg := &countingReplier{failErr: answer.NotSent(source.ErrTemporary)}
	tg.fail.Store(1)
	ch := map[string]answer.Channel{"vk": {Replier: tg}}
	a := l.approved(t, "-100_4000_c9800")
	p := l.publisher(t, ch, nil)
	res, err := p.Drain(ctx)
	require.NoError(t, err)
	assert.Equal(t, answer.DrainResult{Retrying: 1}, res)
	l.clock.Advance(time.Minute)
	res, err = p.Drain(ctx)
	require.NoError(t, err)
	assert.Equal(t, answer.DrainResult{Published: 1}, res)

	b := l.approved(t, "-100_4001_c9801")
	tg.failErr = fmt.Errorf("telegram: sendMessage: %w: HTTP 502", source.ErrTemporary)
	tg.fail.Store(1)
	res, err = p.Drain(ctx)
	require.NoError(t, err)
	assert.Equal(t, answer.DrainResult{Returned: 1}, res)
	got, err := l.store.Get(ctx, b.ID)
	require.NoError(t, err)
	assert.Contains(t, got.Drafts[0].Comment, "неизвестно, ушёл ли ответ")
	assert.EqualValues(t, 1, tg.posts.Load())
	_ = a
}
