package appealkit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/route"
)

func routedPothole(t *testing.T, store appeal.Store, e *route.Engine, ext string, at time.Time) appeal.Appeal {
	t.Helper()
	ctx := context.Background()
	a := appeal.Appeal{Network: appeal.NetworkVK, ExternalID: ext, Text: "яма на дороге", CreatedAt: at,
		Municipality: "Курский район", Topics: []appeal.TopicScore{{Code: "roads", Score: 0.9}}}
	_, err := store.Put(ctx, a)
	require.NoError(t, err)
	c := e.Route(&a, at).Change("pipeline", at)
	c.ExpectedVersion = 1
	routed, err := store.Transition(ctx, appeal.NewID(a.Network, a.ExternalID), c)
	require.NoError(t, err)
	return routed
}

func TestEscalateSteps(t *testing.T) {
	ctx := context.Background()
	msk := time.FixedZone("MSK", 3*3600)
	e := regionEngine(t)
	store := appeal.NewMemoryStore()
	// Monday 12:00: one working day to answer, due Tuesday 12:00.
	a := routedPothole(t, store, e, "1", time.Date(2026, 11, 23, 12, 0, 0, 0, msk))
	require.Equal(t, "kursky-admin", a.Executor())
	require.True(t, a.Deadline().Equal(time.Date(2026, 11, 24, 12, 0, 0, 0, msk)))

	// Overdue but no step due yet: nothing is written.
	steps, err := appealkit.Escalate(ctx, store, e, time.Date(2026, 11, 24, 13, 0, 0, 0, msk))
	require.NoError(t, err)
	assert.Empty(t, steps)
	got, _ := store.Get(ctx, a.ID)
	assert.Equal(t, a.Version, got.Version, "no write when nothing is due")

	// Four working hours late (12:00–13:00, 13:45–16:45): the supervisor joins.
	tue := time.Date(2026, 11, 24, 17, 0, 0, 0, msk)
	steps, err = appealkit.Escalate(ctx, store, e, tue)
	require.NoError(t, err)
	require.Len(t, steps, 1)
	assert.Equal(t, 1, steps[0].Step)
	assert.Equal(t, "region-admin", steps[0].To)
	assert.False(t, steps[0].Reassign)
	got, _ = store.Get(ctx, a.ID)
	assert.Equal(t, "kursky-admin", got.Executor())
	assert.Contains(t, got.Assignment.CoExecutors, "region-admin")
	assert.Equal(t, 1, got.Assignment.Escalations)
	last := got.History[len(got.History)-1]
	assert.Equal(t, "escalation", last.Actor)
	assert.Contains(t, last.Note, "region-admin joins")

	// Idempotent: the same run again applies nothing.
	steps, err = appealkit.Escalate(ctx, store, e, tue)
	require.NoError(t, err)
	assert.Empty(t, steps)

	// A working day late: the centre's head takes over.
	steps, err = appealkit.Escalate(ctx, store, e, time.Date(2026, 11, 25, 14, 0, 0, 0, msk))
	require.NoError(t, err)
	require.Len(t, steps, 1)
	assert.True(t, steps[0].Reassign)
	got, _ = store.Get(ctx, a.ID)
	assert.Equal(t, "cur-head", got.Executor())
	assert.Equal(t, 2, got.Assignment.Escalations)

	// Answered appeals never escalate.
	b := routedPothole(t, store, e, "2", time.Date(2026, 11, 23, 12, 0, 0, 0, msk))
	_, err = store.Transition(ctx, b.ID, appeal.Change{To: appeal.StatusAnswered, Reply: &appeal.Reply{Text: "Яму засыплют 26.11"}, ExpectedVersion: b.Version})
	require.NoError(t, err)
	steps, err = appealkit.Escalate(ctx, store, e, time.Date(2026, 12, 1, 12, 0, 0, 0, msk))
	require.NoError(t, err)
	assert.Empty(t, steps)
}

// Several replicas escalating at once apply every step exactly once.
func TestEscalateConcurrentReplicas(t *testing.T) {
	ctx := context.Background()
	msk := time.FixedZone("MSK", 3*3600)
	e := regionEngine(t)
	store := appeal.NewMemoryStore()
	const n = 30
	for i := range n {
		routedPothole(t, store, e, string(rune('a'+i%26))+string(rune('0'+i/26)), time.Date(2026, 11, 23, 12, 0, 0, 0, msk))
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, msk) // both steps due
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			steps, err := appealkit.Escalate(ctx, store, e, now)
			assert.NoError(t, err)
			mu.Lock()
			total += len(steps)
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, 2*n, total, "two steps per appeal, each applied once")
	all, err := store.List(ctx, appeal.Filter{})
	require.NoError(t, err)
	for _, a := range all {
		assert.Equal(t, 2, a.Assignment.Escalations, a.ID)
		assert.Equal(t, "cur-head", a.Executor(), a.ID)
	}
}
