package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
	"github.com/appealkit/appealkit/appeal/answer/answertest"
	"github.com/appealkit/appealkit/source/vk"
)

// TestAnswerCrashBetweenPostAndRecord runs the answer loop's crash case on
// every backend, PostgreSQL included: the publisher dies after VK took the
// comment and before the store recorded it; the next publisher posts again
// with the same guid, VK drops the repeat, one reply is recorded.
func TestAnswerCrashBetweenPostAndRecord(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.ready(t)
			ctx := context.Background()
			s := b.open(t)
			now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			_, err := s.Put(ctx, appeal.Appeal{Network: appeal.NetworkVK, Kind: appeal.KindComment, ExternalID: "-100_4000_c9000",
				Text: "Яма на дороге у остановки на улице Садовой", Topics: []appeal.TopicScore{{Code: "roads", Score: 1}}})
			require.NoError(t, err)
			a, err := s.Transition(ctx, "vk:-100_4000_c9000", appeal.Change{To: appeal.StatusRouted,
				Assignment: &appeal.Assignment{Executor: "roads"}, ExpectedVersion: 1})
			require.NoError(t, err)
			w, err := answer.New(answer.Config{Store: s, Now: clock})
			require.NoError(t, err)
			a, d, err := w.Write(ctx, a.ID, appeal.AnswerFinal, "Яму на улице Садовой заделали 24 ноября, работы выполнил ООО «Дорстрой».", "op", a.Version)
			require.NoError(t, err)
			_, err = w.Submit(ctx, a.ID, d.ID, "op", a.Version)
			require.NoError(t, err)

			fake := answertest.NewVK()
			defer fake.Close()
			r, err := vk.NewReplier(vk.API{Token: fake.Token, URL: fake.URL(), HTTPClient: fake.Server.Client(), RequestsPerSecond: 1000})
			require.NoError(t, err)
			ch := map[string]answer.Channel{"vk": {Replier: r, Idempotent: true}}
			crash := errors.New("crash")
			p1, err := answer.NewPublisher(answer.PublisherConfig{Store: s, Channels: ch, Now: clock, Lease: time.Minute,
				AfterPost: func(appeal.OutboxMessage) error { return crash }})
			require.NoError(t, err)
			_, err = p1.Drain(ctx)
			require.ErrorIs(t, err, crash)

			now = now.Add(2 * time.Minute)
			p2, err := answer.NewPublisher(answer.PublisherConfig{Store: s, Channels: ch, Now: clock, Lease: time.Minute})
			require.NoError(t, err)
			res, err := p2.Drain(ctx)
			require.NoError(t, err)
			assert.Equal(t, 1, res.Published)
			assert.Equal(t, 2, fake.Calls())
			assert.Len(t, fake.Posts(), 1)
			got, err := s.Get(ctx, a.ID)
			require.NoError(t, err)
			assert.Len(t, got.Replies, 1)
			assert.Equal(t, appeal.StatusAnswered, got.Status)
			assert.Equal(t, appeal.AnswerPublished, got.Drafts[0].State)
			pending, err := s.Pending(ctx)
			require.NoError(t, err)
			assert.Empty(t, pending)
		})
	}
}
