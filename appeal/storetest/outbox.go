package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
)

// OutboxStore is a Store that keeps an answer outbox.
type OutboxStore interface {
	appeal.Store
	appeal.Outbox
}

// RunOutbox runs the conformance tests of appeal.Outbox against stores made
// by newStore (each call an empty store).
func RunOutbox(t *testing.T, newStore func(t *testing.T) OutboxStore) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s OutboxStore)
	}{
		{"EnqueueWithUpdate", testEnqueue},
		{"EnqueueAtomic", testEnqueueAtomic},
		{"ClaimLeaseRetryRemove", testClaim},
		{"ConcurrentClaimsDisjoint", testConcurrentClaims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func msg(id appeal.ID, key string) appeal.OutboxMessage {
	return appeal.OutboxMessage{Key: key, AppealID: id, DraftID: "1", Channel: "vk", Text: "Яму заделали 3 декабря", CreatedAt: base}
}

func testEnqueue(t *testing.T, s OutboxStore) {
	ctx := context.Background()
	a := put(t, s, Sample("o1"))
	got, err := s.UpdateAndEnqueue(ctx, a.ID, a.Version, func(x *appeal.Appeal) error {
		x.Drafts[0].State = appeal.AnswerApproved
		x.History = append(x.History, appeal.Event{At: base, Actor: "moderator", From: x.Status, To: x.Status, Note: "approved"})
		return nil
	}, msg(a.ID, "k1"))
	require.NoError(t, err)
	assert.Equal(t, a.Version+1, got.Version)
	stored, err := s.Get(ctx, a.ID)
	require.NoError(t, err)
	assertSame(t, got, stored)
	assert.Equal(t, appeal.AnswerApproved, stored.Drafts[0].State)
	p, err := s.Pending(ctx)
	require.NoError(t, err)
	require.Len(t, p, 1)
	assert.Equal(t, "k1", p[0].Key)
	assert.Equal(t, "Яму заделали 3 декабря", p[0].Text)
	assert.Zero(t, p[0].Attempts)
}

func testEnqueueAtomic(t *testing.T, s OutboxStore) {
	ctx := context.Background()
	a := put(t, s, Sample("o2"))
	// A stale version: neither the change nor the message.
	_, err := s.UpdateAndEnqueue(ctx, a.ID, a.Version+5, func(x *appeal.Appeal) error { x.Place = "x"; return nil }, msg(a.ID, "k2"))
	require.ErrorIs(t, err, appeal.ErrConflict)
	// mutate fails: neither.
	boom := errors.New("boom")
	_, err = s.UpdateAndEnqueue(ctx, a.ID, a.Version, func(x *appeal.Appeal) error { return boom }, msg(a.ID, "k2"))
	require.ErrorIs(t, err, boom)
	// mutate breaks the lifecycle rules: neither.
	_, err = s.UpdateAndEnqueue(ctx, a.ID, a.Version, func(x *appeal.Appeal) error { x.Status = appeal.StatusResolved; return nil }, msg(a.ID, "k2"))
	require.ErrorIs(t, err, appeal.ErrInvalid)
	p, err := s.Pending(ctx)
	require.NoError(t, err)
	assert.Empty(t, p)
	stored, err := s.Get(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, a.Version, stored.Version)
	// A key already queued: neither.
	a2, err := s.UpdateAndEnqueue(ctx, a.ID, a.Version, func(x *appeal.Appeal) error { return nil }, msg(a.ID, "k2"))
	require.NoError(t, err)
	_, err = s.UpdateAndEnqueue(ctx, a.ID, a2.Version, func(x *appeal.Appeal) error { x.Place = "changed"; return nil }, msg(a.ID, "k2"))
	require.ErrorIs(t, err, appeal.ErrOutboxKey)
	stored, err = s.Get(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, a2.Version, stored.Version)
	assert.NotEqual(t, "changed", stored.Place)
	// An empty key is refused.
	_, err = s.UpdateAndEnqueue(ctx, a.ID, a2.Version, func(x *appeal.Appeal) error { return nil }, msg(a.ID, ""))
	require.ErrorIs(t, err, appeal.ErrOutboxKey)
}

func testClaim(t *testing.T, s OutboxStore) {
	ctx := context.Background()
	a := put(t, s, Sample("o3"))
	a, err := s.UpdateAndEnqueue(ctx, a.ID, a.Version, func(*appeal.Appeal) error { return nil }, msg(a.ID, "k3"))
	require.NoError(t, err)
	now := base.Add(time.Hour)
	c, err := s.Claim(ctx, now, time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, c, 1)
	assert.Equal(t, 1, c[0].Attempts)
	assert.False(t, c[0].InFlight, "the first claim finds the message idle")
	// Leased: not due again within the lease.
	c2, err := s.Claim(ctx, now.Add(30*time.Second), time.Minute, 10)
	require.NoError(t, err)
	assert.Empty(t, c2)
	// After the lease (the publisher died): claimed again, in flight.
	c3, err := s.Claim(ctx, now.Add(2*time.Minute), time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, c3, 1)
	assert.True(t, c3[0].InFlight)
	assert.Equal(t, 2, c3[0].Attempts)
	// Retry: idle again, due at next, with the reason.
	next := now.Add(10 * time.Minute)
	require.NoError(t, s.Retry(ctx, "k3", next, "timeout"))
	c4, err := s.Claim(ctx, next.Add(-time.Second), time.Minute, 10)
	require.NoError(t, err)
	assert.Empty(t, c4)
	c5, err := s.Claim(ctx, next, time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, c5, 1)
	assert.False(t, c5[0].InFlight)
	assert.Equal(t, "timeout", c5[0].LastError)
	assert.Equal(t, 3, c5[0].Attempts)
	require.NoError(t, s.Remove(ctx, "k3"))
	require.NoError(t, s.Remove(ctx, "k3"), "Remove is idempotent")
	require.NoError(t, s.Retry(ctx, "k3", next, "gone"), "Retry of a removed message is harmless")
	p, err := s.Pending(ctx)
	require.NoError(t, err)
	assert.Empty(t, p)
}

func testConcurrentClaims(t *testing.T, s OutboxStore) {
	ctx := context.Background()
	const n = 12
	for i := range n {
		a := put(t, s, Sample("oc"+string(rune('a'+i))))
		_, err := s.UpdateAndEnqueue(ctx, a.ID, a.Version, func(*appeal.Appeal) error { return nil }, msg(a.ID, "kc"+string(rune('a'+i))))
		require.NoError(t, err)
	}
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	now := base.Add(time.Hour)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				c, err := s.Claim(ctx, now, time.Hour, 3)
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				for _, m := range c {
					seen[m.Key]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Len(t, seen, n, "every message claimed")
	for k, c := range seen {
		assert.Equal(t, 1, c, "message %s claimed by two publishers", k)
	}
}
