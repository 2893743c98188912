package jetstream

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/appealkit/appealkit/source"
)

// Leases splits work between replicas with JetStream KV leases: a lease is
// a key in a bucket whose TTL is the lease time. A replica takes a free
// lease with KV Create (which fails if another replica holds it) and keeps
// it by rewriting it with KV Update against the revision it last wrote (a
// compare-and-set: it fails if the lease changed hands). A replica that
// dies stops rewriting, the bucket's TTL removes its leases, and the others
// take them: a dead replica's share moves within TTL plus one renewal
// interval (TTL/3).
//
// A holder that cannot renew (its server is unreachable) stops the work
// 2/3 TTL after the start of its last successful renewal, whatever else it
// is waiting for (a timer, not the renewal loop, enforces it), before the
// lease can expire and be taken elsewhere: a piece of work runs on one
// replica at a time, provided Run returns within TTL/3 of its context
// ending.
//
// A Leases is safe for concurrent use; one value serves any number of Work
// groups and singletons.
type Leases struct {
	kv  natsjs.KeyValue
	ttl time.Duration
	log *slog.Logger
}

// LeasesConfig names the lease bucket and sets the lease time.
type LeasesConfig struct {
	// Bucket is the KV bucket (default "appealkit_leases").
	Bucket string
	// TTL is how long a lease lives without renewal (default 15s): the
	// bound on how long a dead replica's work waits for another replica.
	// Every replica must use the same value (it is the bucket's).
	TTL time.Duration
	// Replicas is how many servers keep the bucket (default 1; 3 in a
	// cluster of 3).
	Replicas int
	// MemoryStorage keeps the bucket in memory: leases need no disk, a
	// restarted server starts with none and the replicas take them again.
	MemoryStorage bool
	// Logger reports leases taken, lost and released (default
	// slog.Default).
	Logger *slog.Logger
}

// OpenLeases creates the lease bucket if needed (or updates its TTL).
func OpenLeases(ctx context.Context, js natsjs.JetStream, cfg LeasesConfig) (*Leases, error) {
	if cfg.Bucket == "" {
		cfg.Bucket = "appealkit_leases"
	}
	if cfg.TTL == 0 {
		cfg.TTL = 15 * time.Second
	}
	if cfg.TTL < 100*time.Millisecond {
		return nil, fmt.Errorf("jetstream: LeasesConfig.TTL %v is too short (at least 100ms)", cfg.TTL)
	}
	st := natsjs.FileStorage
	if cfg.MemoryStorage {
		st = natsjs.MemoryStorage
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, natsjs.KeyValueConfig{
		Bucket: cfg.Bucket, Description: "appealkit: who polls what, who runs the singletons",
		History: 1, TTL: cfg.TTL, Storage: st, Replicas: max(cfg.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream: lease bucket %s: %w", cfg.Bucket, err)
	}
	return &Leases{kv: kv, ttl: cfg.TTL, log: source.Logger(cfg.Logger)}, nil
}

// TTL returns the lease time.
func (l *Leases) TTL() time.Duration { return l.ttl }

// Work is a set of keys (communities, search queries, ...) to spread over
// the replicas that run the same Group: each key is run by one replica at a
// time, each replica runs about its share (keys / live replicas), and a key
// whose replica died or left moves to another.
type Work struct {
	// Group names the key set; replicas sharing the keys use the same
	// Group. Letters, digits, '-' and '_' read best in monitoring.
	Group string
	// Member names this replica, uniquely among the live ones (host name
	// and process id, say).
	Member string
	// Keys are the pieces of work. Every member should list the same keys.
	Keys []string
	// Run does the work of one key while this replica holds its lease. Its
	// context is cancelled when the lease is lost or released; it should
	// then return promptly. When it returns earlier it is started again
	// after RestartDelay, as long as the lease is held.
	Run func(ctx context.Context, key string) error
	// RestartDelay spaces restarts of Run for one key (default 1s).
	RestartDelay time.Duration
	// OnChange, when set, is called with the keys this replica holds each
	// time the set changes (for logs and metrics).
	OnChange func(held []string)
}

// Singleton runs run on one replica at a time, for as long as ctx lasts:
// the replica that holds the lease name runs it; the others wait and take
// over within the lease TTL if that replica dies. run is restarted after a
// second when it returns. Use it for Escalate and other periodic jobs that
// must not run twice at once.
func (l *Leases) Singleton(ctx context.Context, member, name string, run func(ctx context.Context) error) error {
	return l.Run(ctx, Work{
		Group: "singleton", Member: member, Keys: []string{name},
		Run: func(ctx context.Context, _ string) error { return run(ctx) },
	})
}

// Holders returns who holds each lease of group (key → member), for
// monitoring and tests.
func (l *Leases) Holders(ctx context.Context, group string) (map[string]string, error) {
	prefix := kvKey(group) + ".k."
	keys, err := l.listKeys(ctx, prefix+">")
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		e, err := l.kv.Get(ctx, k)
		if errors.Is(err, natsjs.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("jetstream: read lease %s: %w", k, err)
		}
		out[unKVKey(strings.TrimPrefix(k, prefix))] = string(e.Value())
	}
	return out, nil
}

func (l *Leases) listKeys(ctx context.Context, filter string) ([]string, error) {
	lister, err := l.kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("jetstream: list %s: %w", filter, err)
	}
	defer func() { _ = lister.Stop() }()
	var out []string
	for k := range lister.Keys() {
		out = append(out, k)
	}
	// The lister ends early, without an error, when ctx ends: a short
	// list of members would make this replica take too much.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("jetstream: list %s: %w", filter, err)
	}
	return out, nil
}

// lease is one key this replica holds.
type lease struct {
	key      string // the work key
	rev      uint64 // revision this replica last wrote
	ctx      context.Context
	cancel   context.CancelFunc
	watchdog *time.Timer // cancels the work when renewals stop succeeding
	done     chan struct{}
}

// Run takes part in w until ctx is cancelled: it keeps this replica's
// membership alive, takes and renews its share of leases and runs w.Run
// for each. When ctx ends it stops its work and gives its leases back, so
// that other replicas take them at once instead of after the TTL. It
// returns nil after ctx ends, or an error for an unusable Work.
func (l *Leases) Run(ctx context.Context, w Work) error {
	if w.Group == "" || w.Member == "" || w.Run == nil {
		return errors.New("jetstream: Work needs Group, Member and Run")
	}
	if w.RestartDelay <= 0 {
		w.RestartDelay = time.Second
	}
	keys := slices.Clone(w.Keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	r := &workRun{l: l, w: w, keys: keys, held: map[string]*lease{},
		memberKey: kvKey(w.Group) + ".m." + kvKey(w.Member),
		prefix:    kvKey(w.Group) + ".k."}
	defer r.releaseAll()
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		r.tick(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

type workRun struct {
	l         *Leases
	w         Work
	keys      []string
	memberKey string
	prefix    string
	held      map[string]*lease
	reported  []string
}

func (r *workRun) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.l.ttl/3)
}

func (r *workRun) tick(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	l := r.l
	r.renew(ctx)
	octx, cancel := r.op(ctx)
	_, err := l.kv.PutString(octx, r.memberKey, r.w.Member)
	cancel()
	if err != nil {
		l.log.Warn("jetstream: lease membership not renewed", "group", r.w.Group, "member", r.w.Member, "err", err)
	}

	octx, cancel = r.op(ctx)
	members, err := l.listKeys(octx, kvKey(r.w.Group)+".m.*")
	cancel()
	if err != nil {
		l.log.Warn("jetstream: cannot list lease members", "group", r.w.Group, "err", err)
		r.report()
		return
	}
	names := make([]string, 0, len(members)+1)
	for _, m := range members {
		names = append(names, unKVKey(strings.TrimPrefix(m, kvKey(r.w.Group)+".m.")))
	}
	if !slices.Contains(names, r.w.Member) {
		names = append(names, r.w.Member)
	}
	fair := (len(r.keys) + len(names) - 1) / len(names)

	// Give back the keys over the share, least preferred first, so that a
	// replica that joined gets work.
	if extra := len(r.held) - fair; extra > 0 {
		heldKeys := make([]string, 0, len(r.held))
		for k := range r.held {
			heldKeys = append(heldKeys, k)
		}
		r.byPreference(heldKeys, names)
		for _, k := range heldKeys[len(heldKeys)-extra:] {
			r.release(ctx, r.held[k])
		}
	}
	if len(r.held) < fair {
		lctx, cancel := r.op(ctx)
		taken, err := l.listKeys(lctx, r.prefix+">")
		cancel()
		if err != nil {
			l.log.Warn("jetstream: cannot list leases", "group", r.w.Group, "err", err)
			r.report()
			return
		}
		busy := make(map[string]bool, len(taken))
		for _, k := range taken {
			busy[k] = true
		}
		var free []string
		for _, k := range r.keys {
			if _, mine := r.held[k]; !mine && !busy[r.prefix+kvKey(k)] {
				free = append(free, k)
			}
		}
		r.byPreference(free, names)
		for _, k := range free {
			if len(r.held) >= fair || ctx.Err() != nil {
				break
			}
			start := time.Now()
			cctx, cancel := r.op(ctx)
			rev, err := l.kv.Create(cctx, r.prefix+kvKey(k), []byte(r.w.Member))
			cancel()
			if err != nil {
				if !errors.Is(err, natsjs.ErrKeyExists) {
					l.log.Warn("jetstream: cannot take lease", "group", r.w.Group, "key", k, "err", err)
				}
				continue
			}
			r.start(ctx, k, rev, start)
		}
	}
	r.report()
}

// byPreference orders keys by how strongly they belong to this member
// (rendezvous hashing over the live members): most preferred first.
func (r *workRun) byPreference(keys, members []string) {
	rank := func(k string) int {
		mine := score(r.w.Member, k)
		n := 0
		for _, m := range members {
			if m != r.w.Member && score(m, k) > mine {
				n++
			}
		}
		return n
	}
	ranks := make(map[string]int, len(keys))
	for _, k := range keys {
		ranks[k] = rank(k)
	}
	sort.SliceStable(keys, func(i, j int) bool {
		if ranks[keys[i]] != ranks[keys[j]] {
			return ranks[keys[i]] < ranks[keys[j]]
		}
		return keys[i] < keys[j]
	})
}

func score(member, key string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(member))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(key))
	return h.Sum64()
}

// renew rewrites every held lease against its last revision, all within
// TTL/3. A lease that changed hands is dropped at once; one whose watchdog
// fired (no successful renewal for 2/3 TTL) has had its work cancelled and
// is dropped too.
func (r *workRun) renew(ctx context.Context) {
	rctx, cancel := r.op(ctx)
	defer cancel()
	for _, ls := range r.held {
		if ls.ctx.Err() != nil {
			r.l.log.Warn("jetstream: lease not renewed in time; work stopped", "group", r.w.Group, "key", ls.key, "member", r.w.Member)
			r.stop(ls)
			continue
		}
		if rctx.Err() != nil {
			continue
		}
		start := time.Now()
		rev, err := r.l.kv.Update(rctx, r.prefix+kvKey(ls.key), []byte(r.w.Member), ls.rev)
		switch {
		case err == nil:
			ls.rev = rev
			// The server stamps the write after start, so the lease
			// lives at least until start+TTL; stop well before.
			if !ls.watchdog.Reset(time.Until(start.Add(r.l.ttl * 2 / 3))) {
				r.stop(ls) // the watchdog fired while the request was out
			}
		case errors.Is(err, natsjs.ErrKeyRevisionMismatch), errors.Is(err, natsjs.ErrKeyExists), errors.Is(err, natsjs.ErrKeyNotFound), errors.Is(err, natsjs.ErrKeyDeleted):
			r.l.log.Warn("jetstream: lease lost", "group", r.w.Group, "key", ls.key, "member", r.w.Member, "err", err)
			r.stop(ls)
		}
	}
}

// start runs the work of key under a fresh lease.
func (r *workRun) start(ctx context.Context, key string, rev uint64, at time.Time) {
	wctx, cancel := context.WithCancel(ctx)
	ls := &lease{key: key, rev: rev, ctx: wctx, cancel: cancel, done: make(chan struct{})}
	ls.watchdog = time.AfterFunc(time.Until(at.Add(r.l.ttl*2/3)), cancel)
	r.held[key] = ls
	r.l.log.Info("jetstream: lease taken", "group", r.w.Group, "key", key, "member", r.w.Member)
	go func() {
		defer close(ls.done)
		for {
			err := r.w.Run(wctx, key)
			if wctx.Err() != nil {
				return
			}
			if err != nil {
				r.l.log.Warn("jetstream: leased work failed; restarting", "group", r.w.Group, "key", key, "err", err, "wait", r.w.RestartDelay)
			}
			if source.Sleep(wctx, r.w.RestartDelay) != nil {
				return
			}
		}
	}()
}

// stop ends the work of a lease and forgets it, without touching the KV.
func (r *workRun) stop(ls *lease) {
	ls.watchdog.Stop()
	ls.cancel()
	<-ls.done
	delete(r.held, ls.key)
}

// release stops the work and then deletes the lease (only if it is still
// this replica's), so another replica can take it at once.
func (r *workRun) release(ctx context.Context, ls *lease) {
	r.stop(ls)
	octx, cancel := r.op(ctx)
	defer cancel()
	if err := r.l.kv.Delete(octx, r.prefix+kvKey(ls.key), natsjs.LastRevision(ls.rev)); err != nil {
		r.l.log.Warn("jetstream: lease not released; it expires after its TTL", "group", r.w.Group, "key", ls.key, "err", err)
		return
	}
	r.l.log.Info("jetstream: lease released", "group", r.w.Group, "key", ls.key, "member", r.w.Member)
}

// releaseAll gives everything back when Run ends.
func (r *workRun) releaseAll() {
	ctx, cancel := context.WithTimeout(context.Background(), r.l.ttl/3)
	defer cancel()
	for _, ls := range r.held {
		r.release(ctx, ls)
	}
	_ = r.l.kv.Delete(ctx, r.memberKey)
	r.report()
}

func (r *workRun) report() {
	if r.w.OnChange == nil {
		return
	}
	held := make([]string, 0, len(r.held))
	for k := range r.held {
		held = append(held, k)
	}
	slices.Sort(held)
	if slices.Equal(held, r.reported) {
		return
	}
	r.reported = held
	r.w.OnChange(slices.Clone(held))
}
