package jetstream_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/source/jetstream"
)

const leaseTTL = time.Second

// exclusive records who runs each key, and fails when two run one at once.
type exclusive struct {
	t       testing.TB
	mu      sync.Mutex
	running map[string]string // key → member
	starts  map[string]int
}

func newExclusive(t testing.TB) *exclusive {
	return &exclusive{t: t, running: map[string]string{}, starts: map[string]int{}}
}

func (e *exclusive) enter(key, member string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if other, ok := e.running[key]; ok {
		e.t.Errorf("%s runs on %s and %s at once", key, other, member)
	}
	e.running[key] = member
	e.starts[key]++
}

func (e *exclusive) leave(key, member string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.running[key] == member {
		delete(e.running, key)
	}
}

func (e *exclusive) holders() map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]string, len(e.running))
	for k, v := range e.running {
		out[k] = v
	}
	return out
}

// replica is one member of a lease group with its own connection.
type replica struct {
	name   string
	nc     *nats.Conn
	js     natsjs.JetStream
	leases *jetstream.Leases
	cancel context.CancelFunc
	done   chan struct{}
}

func startReplica(t testing.TB, url, name string, run func(ctx context.Context, r *replica) error) *replica {
	t.Helper()
	nc, js := connect(t, url)
	leases, err := jetstream.OpenLeases(ctxTimeout(t, 5*time.Second), js, jetstream.LeasesConfig{TTL: leaseTTL, MemoryStorage: true})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{name: name, nc: nc, js: js, leases: leases, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		if err := run(ctx, r); err != nil && ctx.Err() == nil {
			t.Errorf("replica %s: %v", name, err)
		}
	}()
	t.Cleanup(r.stop)
	return r
}

func (r *replica) stop() {
	r.cancel()
	<-r.done
}

// kill drops the connection first, so the replica cannot give its leases
// back: they must expire.
func (r *replica) kill() {
	r.nc.Close()
	r.stop()
}

func count(holders map[string]string, member string) int {
	n := 0
	for _, m := range holders {
		if m == member {
			n++
		}
	}
	return n
}

// failoverBound is how long a dead replica's lease may wait: TTL, one
// renewal interval of the taker, and slack for the server's expiry timer
// and a loaded test machine.
const failoverBound = leaseTTL + leaseTTL/3 + 2*time.Second

// Keys spread evenly over the members; one killed, its keys move to the
// others within the bound; one stopped, its keys move at once; a member
// that joins gets its share; never two runners of one key.
func TestLeasesSplitAndFailover(t *testing.T) {
	srv := startServer(t, "", 0)
	keys := []string{"vk:-1", "vk:-2", "vk:-3", "vk:-4", "vk:-5", "vk:-6", "ok:7", "ok:8", "ok:9"}
	ex := newExclusive(t)
	work := func(ctx context.Context, r *replica) error {
		return r.leases.Run(ctx, jetstream.Work{Group: "communities", Member: r.name, Keys: keys, RestartDelay: 10 * time.Millisecond,
			Run: func(ctx context.Context, key string) error {
				ex.enter(key, r.name)
				defer ex.leave(key, r.name)
				<-ctx.Done()
				return nil
			}})
	}
	a := startReplica(t, srv.ClientURL(), "a", work)
	b := startReplica(t, srv.ClientURL(), "b", work)
	c := startReplica(t, srv.ClientURL(), "c", work)
	waitUntil(t, 10*time.Second, "three keys each", func() bool {
		h := ex.holders()
		return len(h) == 9 && count(h, "a") == 3 && count(h, "b") == 3 && count(h, "c") == 3
	})
	_, js := connect(t, srv.ClientURL())
	leases, err := jetstream.OpenLeases(ctxTimeout(t, 5*time.Second), js, jetstream.LeasesConfig{TTL: leaseTTL, MemoryStorage: true})
	require.NoError(t, err)
	holders, err := leases.Holders(ctxTimeout(t, 5*time.Second), "communities")
	require.NoError(t, err)
	assert.Equal(t, ex.holders(), holders, "the KV and the runners agree on who holds what")

	killed := time.Now()
	b.kill()
	waitUntil(t, failoverBound, "b's keys taken by a and c", func() bool {
		h := ex.holders()
		return len(h) == 9 && count(h, "b") == 0
	})
	took := time.Since(killed)
	h := ex.holders()
	assert.Equal(t, 9, count(h, "a")+count(h, "c"))
	assert.LessOrEqual(t, max(count(h, "a"), count(h, "c")), 5)

	d := startReplica(t, srv.ClientURL(), "d", work)
	waitUntil(t, 10*time.Second, "d gets its share", func() bool {
		h := ex.holders()
		return len(h) == 9 && count(h, "d") >= 3 && count(h, "a") <= 3 && count(h, "c") <= 3
	})
	stopped := time.Now()
	a.stop()
	waitUntil(t, 2*time.Second, "a's keys taken after a clean stop", func() bool {
		h := ex.holders()
		return len(h) == 9 && count(h, "a") == 0
	})
	t.Logf("killed member's keys moved in %v (bound %v); a stopped member's in %v", took, failoverBound, time.Since(stopped))
	c.stop()
	d.stop()
}

// A singleton runs on one replica; when it dies another takes over within
// the bound.
func TestSingletonFailover(t *testing.T) {
	srv := startServer(t, "", 0)
	ex := newExclusive(t)
	var runs atomic.Int64
	work := func(ctx context.Context, r *replica) error {
		return r.leases.Singleton(ctx, r.name, "escalate", func(ctx context.Context) error {
			ex.enter("escalate", r.name)
			defer ex.leave("escalate", r.name)
			runs.Add(1)
			<-ctx.Done()
			return nil
		})
	}
	reps := map[string]*replica{}
	for _, n := range []string{"a", "b", "c"} {
		reps[n] = startReplica(t, srv.ClientURL(), n, work)
	}
	var first string
	waitUntil(t, 5*time.Second, "a singleton holder", func() bool {
		first = ex.holders()["escalate"]
		return first != ""
	})
	time.Sleep(leaseTTL) // renewals keep it where it is
	assert.Equal(t, first, ex.holders()["escalate"])
	assert.Equal(t, int64(1), runs.Load())
	reps[first].kill()
	waitUntil(t, failoverBound, "another holder", func() bool {
		h := ex.holders()["escalate"]
		return h != "" && h != first
	})
}

// A holder cut off from NATS (its process still running, its context
// alive) stops its work before the lease can expire and be taken: the
// exclusive checker fails the test if the two ever overlap.
func TestPartitionedHolderStopsBeforeTakeover(t *testing.T) {
	srv := startServer(t, "", 0)
	ex := newExclusive(t)
	stoppedAt := map[string]time.Time{}
	var mu sync.Mutex
	work := func(ctx context.Context, r *replica) error {
		return r.leases.Singleton(ctx, r.name, "escalate", func(ctx context.Context) error {
			ex.enter("escalate", r.name)
			<-ctx.Done()
			mu.Lock()
			stoppedAt[r.name] = time.Now()
			mu.Unlock()
			ex.leave("escalate", r.name)
			return nil
		})
	}
	reps := map[string]*replica{}
	for _, n := range []string{"a", "b"} {
		reps[n] = startReplica(t, srv.ClientURL(), n, work)
	}
	var first string
	waitUntil(t, 5*time.Second, "a singleton holder", func() bool {
		first = ex.holders()["escalate"]
		return first != ""
	})
	cut := time.Now()
	reps[first].nc.Close() // partitioned: nothing cancels its context
	waitUntil(t, failoverBound, "the other replica takes over", func() bool {
		h := ex.holders()["escalate"]
		return h != "" && h != first
	})
	mu.Lock()
	stopped := stoppedAt[first].Sub(cut)
	mu.Unlock()
	assert.Less(t, stopped, leaseTTL, "the cut-off holder stopped %v after the cut; the lease lives %v", stopped, leaseTTL)
	t.Logf("cut-off holder stopped after %v, the other took over after %v", stopped, time.Since(cut))
}
