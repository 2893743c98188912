package jetstream_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/jetstream"
)

// community is a fake community wall: post i appears at start + i*every.
type community struct {
	id    int
	start time.Time
	every time.Duration
	posts int
}

func (c *community) available(now time.Time) int {
	return min(c.posts, int(now.Sub(c.start)/c.every))
}

// publishCounter counts how many times intake published each appeal.
type publishCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (p *publishCounter) add(id string) {
	p.mu.Lock()
	p.n[id]++
	p.mu.Unlock()
}

// pollCommunity is the intake work of one community: read the posts after
// the shared checkpoint, publish them, save the checkpoint, wait, repeat.
func pollCommunity(ctx context.Context, c *community, cp source.Checkpoints, sink source.Sink, pc *publishCounter) error {
	key := "wall:" + strconv.Itoa(c.id)
	cur, err := cp.Load(ctx, key)
	if err != nil {
		return err
	}
	last, _ := strconv.Atoi(cur)
	for round := 1; ; round++ {
		avail := c.available(time.Now())
		for i := last + 1; i <= avail; i++ {
			a := testAppeal("vk", c.id*100000+i, fmt.Sprintf("сообщество %d, пост %d: мусор не вывозят", c.id, i))
			a.Community = appeal.Community{ID: strconv.Itoa(-c.id), Official: true}
			if err := sink(ctx, a); err != nil {
				return err
			}
			pc.add(a.ExternalID)
			last = i
		}
		// Saved every fifth round, as a source saves once per cycle: a
		// replica that dies in between leaves posts to publish again.
		if round%5 == 0 {
			if err := cp.Save(context.WithoutCancel(ctx), key, strconv.Itoa(last)); err != nil {
				return err
			}
		}
		if err := source.Sleep(ctx, 20*time.Millisecond); err != nil {
			return nil
		}
	}
}

// Two intake replicas split six communities; one is killed while posts
// keep appearing. The other takes its communities within the lease bound,
// resumes each from the shared checkpoint, and the stream ends up with
// every post exactly once (a post the dead replica published but had not
// checkpointed is published again and dropped by JetStream's duplicate
// window).
func TestIntakeReplicaKilled(t *testing.T) {
	const perCommunity = 150
	every := 10 * time.Millisecond
	srv := startServer(t, "", 0)
	_, js := connect(t, srv.ClientURL())
	cfg := freshConfig()
	ctx := ctxTimeout(t, time.Minute)
	require.NoError(t, jetstream.Setup(ctx, js, cfg))

	start := time.Now()
	comms := map[string]*community{}
	var keys []string
	for id := 1; id <= 6; id++ {
		k := strconv.Itoa(id)
		comms[k] = &community{id: id, start: start, every: every, posts: perCommunity}
		keys = append(keys, k)
	}
	ex := newExclusive(t)
	pc := &publishCounter{n: map[string]int{}}
	intake := func(ctx context.Context, r *replica) error {
		cp, err := jetstream.OpenCheckpoints(ctx, r.js, jetstream.CheckpointsConfig{MemoryStorage: true})
		if err != nil {
			return err
		}
		pub, err := jetstream.NewPublisher(r.js, cfg)
		if err != nil {
			return err
		}
		return r.leases.Run(ctx, jetstream.Work{Group: "vk-walls", Member: r.name, Keys: keys, RestartDelay: 20 * time.Millisecond,
			Run: func(ctx context.Context, key string) error {
				ex.enter(key, r.name)
				defer ex.leave(key, r.name)
				return pollCommunity(ctx, comms[key], cp, pub.Sink(), pc)
			}})
	}
	a := startReplica(t, srv.ClientURL(), "intake-a", intake)
	startReplica(t, srv.ClientURL(), "intake-b", intake)
	waitUntil(t, 10*time.Second, "three communities each", func() bool {
		h := ex.holders()
		return len(h) == 6 && count(h, "intake-a") == 3
	})
	time.Sleep(perCommunity * every / 3)
	killed := time.Now()
	a.kill()
	waitUntil(t, failoverBound, "intake-b polls all six", func() bool { return count(ex.holders(), "intake-b") == 6 })
	t.Logf("communities moved %v after the kill", time.Since(killed))

	// Read the stream back: every post once, nothing else.
	total := 6 * perCommunity
	waitUntil(t, 20*time.Second, "every post in the stream", func() bool {
		s, err := js.Stream(ctx, cfg.Stream)
		return err == nil && s.CachedInfo().State.Msgs == uint64(total)
	})
	time.Sleep(200 * time.Millisecond) // anything extra would show up now
	s, err := js.Stream(ctx, cfg.Stream)
	require.NoError(t, err)
	assert.Equal(t, uint64(total), s.CachedInfo().State.Msgs)

	src, err := jetstream.NewSource(js, cfg)
	require.NoError(t, err)
	seen := map[appeal.ID]int{}
	var mu sync.Mutex
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- src.Run(rctx, func(_ context.Context, a appeal.Appeal) error {
			mu.Lock()
			seen[a.ID]++
			mu.Unlock()
			return nil
		})
	}()
	waitUntil(t, 20*time.Second, "every post consumed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == total
	})
	cancel()
	require.NoError(t, <-done)
	for id, n := range seen {
		assert.Equal(t, 1, n, "appeal %s delivered %d times", id, n)
	}
	pc.mu.Lock()
	again := 0
	for _, n := range pc.n {
		again += n - 1
	}
	assert.Len(t, pc.n, total, "posts published")
	pc.mu.Unlock()
	t.Logf("%d posts; %d published again after the takeover, dropped by the duplicate window", total, again)
}
