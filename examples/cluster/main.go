// Command cluster is appealkit on several machines: the same binary runs as
// an intake replica (polls VK communities and publishes accepted appeals to
// NATS JetStream), as a worker replica (classifies, routes and stores them
// in PostgreSQL, and runs escalation on one replica at a time), or prints
// the cluster's state for monitoring.
//
//	VK_TOKEN=... cluster -role intake -nats nats://n1:4222,nats://n2:4222,nats://n3:4222 -replicas 3 -communities 123,club456,mosreg!
//	cluster -role worker -nats nats://n1:4222,... -replicas 3 -pg 'postgres://appealkit@db/appealkit'
//	cluster -role status -nats nats://n1:4222
//
// Intake replicas split the communities into -shards groups and hold one
// JetStream KV lease per group: each group is polled by one replica at a
// time, and a dead replica's groups move to the others within -lease-ttl
// plus a third of it. Their cursors live in a KV bucket, so the replica
// that takes a group over resumes where the last one stopped. See
// README.md for a three-machine layout and what to monitor.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // the rules name Europe/Moscow

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	_ "modernc.org/sqlite" // database/sql driver "sqlite", for -sqlite

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/examples/internal/setup"
	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/source/jetstream"
	"github.com/appealkit/appealkit/source/vk"
)

func main() {
	setup.Main("cluster", func(ctx context.Context) error { return run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr) }, os.Interrupt, syscall.SIGTERM)
}

type options struct {
	role, natsURL, member string
	replicas, shards      int
	leaseTTL              time.Duration
	communities, vkAPI    string
	tokenKind             string
	interval              time.Duration
	pgDSN, sqlitePath     string
	rulesFile             string
	workers, inFlight     int
	escalateEvery         time.Duration
	stream                jetstream.Config
	verbose               bool
}

// run is the whole program, with its environment passed in so that tests
// can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host, _ := os.Hostname()
	var o options
	fs.StringVar(&o.role, "role", "", "intake, worker or status (required)")
	fs.StringVar(&o.natsURL, "nats", nats.DefaultURL, "NATS server URLs, comma-separated")
	fs.StringVar(&o.member, "member", host+"-"+strconv.Itoa(os.Getpid()), "this replica's name in leases (unique among live replicas)")
	fs.IntVar(&o.replicas, "replicas", 1, "copies of each stream and bucket (3 on a NATS cluster of 3)")
	fs.IntVar(&o.shards, "shards", 16, "intake: groups the communities are split into, one lease each")
	fs.DurationVar(&o.leaseTTL, "lease-ttl", 15*time.Second, "how long a dead replica's leases wait before others take them")
	fs.StringVar(&o.communities, "communities", "", "intake: comma-separated VK community ids or screen names; a trailing ! marks an official one")
	fs.StringVar(&o.vkAPI, "vk-api-url", "", "intake: VK API method URL (default https://api.vk.com/method/)")
	fs.StringVar(&o.tokenKind, "token", "user", "intake: kind of VK_TOKEN: user or group")
	fs.DurationVar(&o.interval, "interval", time.Minute, "intake: pause between polling cycles")
	fs.StringVar(&o.pgDSN, "pg", getenv("APPEALKIT_PG_DSN"), "worker: PostgreSQL DSN (default $APPEALKIT_PG_DSN)")
	fs.StringVar(&o.sqlitePath, "sqlite", "", "worker: SQLite file instead of PostgreSQL (a trial on one machine)")
	fs.StringVar(&o.rulesFile, "rules", "", "worker: routing rules YAML (default: the example rules of Курская область)")
	fs.IntVar(&o.workers, "workers", 4, "worker: appeals classified and routed at once")
	fs.IntVar(&o.inFlight, "in-flight", 256, "worker: appeals taken from the stream and not yet stored")
	fs.DurationVar(&o.escalateEvery, "escalate-every", time.Minute, "worker: escalation pass interval (on one worker at a time; 0 = off)")
	fs.StringVar(&o.stream.Stream, "stream", "", "JetStream stream of appeals (default APPEALS)")
	fs.Int64Var(&o.stream.MaxBytes, "stream-max-bytes", 0, "cap on the stream's size; when full, intake waits instead of dropping (0 = no cap)")
	fs.BoolVar(&o.verbose, "v", false, "log lease changes and retries")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.stream.Replicas = o.replicas
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	nc, err := nats.Connect(o.natsURL, nats.Name("appealkit "+o.role+" "+o.member), nats.MaxReconnects(-1), nats.NoCallbacksAfterClientClose(),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { log.Warn("NATS disconnected", "err", err) }),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Warn("NATS reconnected", "url", c.ConnectedUrlRedacted()) }))
	if err != nil {
		return fmt.Errorf("connect to NATS %s: %w", o.natsURL, err)
	}
	defer nc.Close()
	js, err := natsjs.New(nc)
	if err != nil {
		return err
	}
	if err := jetstream.Setup(ctx, js, o.stream); err != nil {
		return err
	}
	leases, err := jetstream.OpenLeases(ctx, js, jetstream.LeasesConfig{TTL: o.leaseTTL, Replicas: o.replicas, Logger: log})
	if err != nil {
		return err
	}
	switch o.role {
	case "intake":
		return intake(ctx, o, getenv, js, leases, log)
	case "worker":
		return worker(ctx, o, js, leases, log)
	case "status":
		return status(ctx, o, js, leases, stdout)
	default:
		return fmt.Errorf("-role %q: want intake, worker or status", o.role)
	}
}

// intake polls its share of the communities and publishes what it reads.
func intake(ctx context.Context, o options, getenv func(string) string, js natsjs.JetStream, leases *jetstream.Leases, log *slog.Logger) error {
	token := getenv("VK_TOKEN")
	if token == "" {
		return errors.New("set VK_TOKEN to a VK access token")
	}
	list := vk.ParseCommunities(o.communities)
	if len(list) == 0 {
		return errors.New("-communities is required for -role intake")
	}
	kind := vk.UserToken
	if o.tokenKind == "group" {
		kind = vk.GroupToken
	}
	cp, err := jetstream.OpenCheckpoints(ctx, js, jetstream.CheckpointsConfig{Replicas: o.replicas})
	if err != nil {
		return err
	}
	pub, err := jetstream.NewPublisher(js, o.stream)
	if err != nil {
		return err
	}
	shards := shard(list, o.shards)
	keys := make([]string, 0, len(shards))
	for k := range shards {
		keys = append(keys, k)
	}
	return leases.Run(ctx, jetstream.Work{
		Group: "vk-walls", Member: o.member, Keys: keys, RestartDelay: 5 * time.Second,
		OnChange: func(held []string) { log.Info("intake: polling shards", "held", held) },
		Run: func(ctx context.Context, key string) error {
			m, err := vk.NewMonitor(vk.MonitorConfig{
				API:         vk.API{Token: token, TokenKind: kind, URL: o.vkAPI, Logger: log},
				Communities: shards[key], Checkpoints: cp, CheckpointPrefix: "vk-wall",
				PollInterval: o.interval,
			})
			if err != nil {
				return err
			}
			return m.Run(ctx, pub.Sink())
		},
	})
}

// shard groups communities by a hash of their id, so that every replica
// computes the same groups from the same list.
func shard(list []vk.Community, n int) map[string][]vk.Community {
	n = max(1, min(n, len(list)))
	out := map[string][]vk.Community{}
	for _, c := range list {
		h := fnv.New32a()
		_, _ = h.Write([]byte(strings.ToLower(c.ID)))
		k := "shard-" + strconv.Itoa(int(h.Sum32()%uint32(n)))
		out[k] = append(out[k], c)
	}
	return out
}

// worker runs the pipeline on the shared consumer, and escalation on one
// worker at a time.
func worker(ctx context.Context, o options, js natsjs.JetStream, leases *jetstream.Leases, log *slog.Logger) error {
	var db *sql.DB
	var err error
	switch {
	case o.sqlitePath != "":
		db, err = sql.Open("sqlite", sqlstore.SQLiteDSN(o.sqlitePath))
	case o.pgDSN != "":
		db, err = sql.Open("pgx", o.pgDSN)
	default:
		return errors.New("-role worker needs -pg (or $APPEALKIT_PG_DSN), or -sqlite for a trial")
	}
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxIdleConns(16)
	store, err := sqlstore.Open(ctx, db)
	if err != nil {
		return err
	}
	cls, err := classify.New()
	if err != nil {
		return err
	}
	var eng *route.Engine
	if o.rulesFile != "" {
		eng, err = route.ParseFile(o.rulesFile)
	} else {
		eng, err = route.Parse(bytes.NewReader(rules.Region), "examples/rules/region.yaml")
	}
	if err != nil {
		return err
	}
	src, err := jetstream.NewSource(js, o.stream, jetstream.WithInFlight(o.inFlight), jetstream.WithLogger(log))
	if err != nil {
		return err
	}
	p, err := appealkit.New(appealkit.Config{
		Store:      store,
		Classifier: appealkit.Classify(cls, appealkit.ClassifyOptions{}),
		Router:     appealkit.Route(eng, appealkit.RouteOptions{}),
		Inputs:     []appealkit.Input{{Name: "jetstream", Source: src}},
		Workers:    o.workers,
		Queue:      o.inFlight,
		Hooks: appealkit.Hooks{
			StoreRetry: func(err error, attempt int) {
				log.Warn("worker: store unavailable, retrying", "attempt", attempt, "err", err)
			},
		},
	})
	if err != nil {
		return err
	}
	if o.escalateEvery > 0 {
		go func() {
			_ = leases.Singleton(ctx, o.member, "escalate", func(ctx context.Context) error {
				t := time.NewTicker(o.escalateEvery)
				defer t.Stop()
				for {
					steps, err := appealkit.Escalate(ctx, store, eng, time.Now())
					if err != nil && ctx.Err() == nil {
						log.Warn("worker: escalation", "err", err)
					}
					if len(steps) > 0 {
						log.Info("worker: escalation steps applied", "steps", len(steps))
					}
					select {
					case <-ctx.Done():
						return nil
					case <-t.C:
					}
				}
			})
		}()
	}
	return p.Run(ctx)
}

// status prints what to watch: the work queue, the consumer's lag and
// redeliveries, the dead letters and who holds which lease.
func status(ctx context.Context, o options, js natsjs.JetStream, leases *jetstream.Leases, out io.Writer) error {
	cfg := o.stream
	if cfg.Stream == "" {
		cfg.Stream = "APPEALS"
	}
	st, err := js.Stream(ctx, cfg.Stream)
	if err != nil {
		return err
	}
	cons, err := st.Consumer(ctx, "workers")
	if err != nil {
		return err
	}
	ci, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "stream %s: %d appeals waiting\n", cfg.Stream, st.CachedInfo().State.Msgs)
	fmt.Fprintf(out, "consumer %s: num_pending=%d num_ack_pending=%d num_redelivered=%d waiting_pulls=%d\n",
		ci.Name, ci.NumPending, ci.NumAckPending, ci.NumRedelivered, ci.NumWaiting)
	if dead, err := js.Stream(ctx, "APPEALS_DEAD"); err == nil {
		fmt.Fprintf(out, "dead letters: %d\n", dead.CachedInfo().State.Msgs)
	}
	for _, g := range []string{"vk-walls", "singleton"} {
		h, err := leases.Holders(ctx, g)
		if err != nil {
			return err
		}
		ks := make([]string, 0, len(h))
		for k := range h {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			fmt.Fprintf(out, "lease %s/%s: %s\n", g, k, h[k])
		}
	}
	return nil
}
