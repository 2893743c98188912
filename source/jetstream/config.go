package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// Config names the JetStream objects intake and workers share and sets how
// they behave. The zero value works for one NATS server; a three-node
// cluster sets Replicas to 3. Every replica must use the same names.
type Config struct {
	// Stream holds accepted appeals (default "APPEALS").
	Stream string
	// Subject is the prefix of the appeals' subjects (default "appeals"):
	// an appeal is published on <Subject>.<network>.<municipality>.
	Subject string
	// DeadStream holds poison messages (default "APPEALS_DEAD").
	DeadStream string
	// DeadSubject is the prefix of the dead letters' subjects (default
	// "appeals-dead"): <DeadSubject>.<network>.<municipality>, with the
	// reason in the Appealkit-Reason header.
	DeadSubject string
	// Consumer is the durable pull consumer the workers share (default
	// "workers").
	Consumer string
	// Replicas is how many NATS servers keep a copy of each stream and of
	// the lease bucket (default 1; 3 in a cluster of 3).
	Replicas int
	// MemoryStorage keeps the streams in memory instead of on disk: for
	// tests only, a server restart loses them.
	MemoryStorage bool
	// DuplicateWindow is how long the stream remembers appeal IDs to drop a
	// republished appeal (default 10 minutes). An intake replica that
	// restarts re-publishes what came after its last saved checkpoint; a
	// redelivery older than the window is still harmless, the store's
	// idempotent Put drops it.
	DuplicateWindow time.Duration
	// MaxAge drops appeals older than this from the stream, processed or
	// not (default 0: kept until acknowledged by the workers). Leave it 0
	// unless losing unprocessed appeals is acceptable.
	MaxAge time.Duration
	// MaxBytes caps the stream's size (default 0: no cap). A full stream
	// refuses new publishes (DiscardNew) instead of dropping old appeals:
	// intake sources then stop at their checkpoint and retry, so nothing
	// is lost while the workers catch up.
	MaxBytes int64
	// AckWait is how long a worker may hold an appeal without answering
	// before JetStream gives it to another worker (default 30s). Workers
	// signal progress on appeals still in flight every AckWait/3, so a slow
	// store does not cause redeliveries, but a dead worker's appeals move
	// on after AckWait.
	AckWait time.Duration
	// MaxAckPending caps the appeals handed to workers and not yet
	// acknowledged, over all workers (default 4096).
	MaxAckPending int
	// MaxDeliveries is how many times an appeal the pipeline refuses for
	// good (not a transient store error) is delivered before it goes to
	// the dead-letter stream (default 5). Transient failures
	// (appeal.ErrUnavailable, a deadline, a worker shutting down) are
	// redelivered without limit.
	MaxDeliveries int
	// Backoff spaces the redeliveries of a refused appeal (default 1s
	// doubling to 1 minute). MaxAttempts is ignored.
	Backoff source.Backoff
}

func (c Config) withDefaults() Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Stream, "APPEALS")
	def(&c.Subject, "appeals")
	def(&c.DeadStream, "APPEALS_DEAD")
	def(&c.DeadSubject, "appeals-dead")
	def(&c.Consumer, "workers")
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = 10 * time.Minute
	}
	if c.AckWait == 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxAckPending == 0 {
		c.MaxAckPending = 4096
	}
	if c.MaxDeliveries == 0 {
		c.MaxDeliveries = 5
	}
	if c.Backoff == (source.Backoff{}) {
		c.Backoff = source.Backoff{Initial: time.Second, Max: time.Minute}
	}
	c.Backoff.MaxAttempts = 0
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	for _, s := range []struct{ name, v string }{{"Subject", c.Subject}, {"DeadSubject", c.DeadSubject}} {
		if strings.ContainsAny(s.v, " \t\r\n*>") || strings.HasPrefix(s.v, ".") || strings.HasSuffix(s.v, ".") {
			return fmt.Errorf("jetstream: Config.%s %q is not a valid subject prefix", s.name, s.v)
		}
	}
	if c.Subject == c.DeadSubject || strings.HasPrefix(c.DeadSubject, c.Subject+".") || strings.HasPrefix(c.Subject, c.DeadSubject+".") {
		return fmt.Errorf("jetstream: Config.Subject %q and DeadSubject %q overlap", c.Subject, c.DeadSubject)
	}
	if c.Replicas < 0 || c.MaxBytes < 0 || c.MaxAckPending < 0 || c.MaxDeliveries < 0 || c.AckWait < 0 || c.DuplicateWindow < 0 || c.MaxAge < 0 {
		return errors.New("jetstream: Config: Replicas, MaxBytes, MaxAckPending, MaxDeliveries, AckWait, DuplicateWindow and MaxAge must not be negative")
	}
	return nil
}

func (c Config) storage() natsjs.StorageType {
	if c.MemoryStorage {
		return natsjs.MemoryStorage
	}
	return natsjs.FileStorage
}

// Setup creates, or updates to cfg, the appeals stream, the dead-letter
// stream and the workers' durable consumer. Every replica may call it at
// start: it is idempotent.
func Setup(ctx context.Context, js natsjs.JetStream, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	maxBytes := cfg.MaxBytes
	if maxBytes == 0 {
		maxBytes = -1 // no cap
	}
	_, err := js.CreateOrUpdateStream(ctx, natsjs.StreamConfig{
		Name:        cfg.Stream,
		Description: "appealkit: accepted appeals waiting for the workers",
		Subjects:    []string{cfg.Subject + ".>"},
		Retention:   natsjs.WorkQueuePolicy,
		Storage:     cfg.storage(),
		Replicas:    cfg.Replicas,
		Duplicates:  cfg.DuplicateWindow,
		MaxAge:      cfg.MaxAge,
		MaxBytes:    maxBytes,
		Discard:     natsjs.DiscardNew,
	})
	if err != nil {
		return fmt.Errorf("jetstream: set up stream %s: %w", cfg.Stream, err)
	}
	_, err = js.CreateOrUpdateStream(ctx, natsjs.StreamConfig{
		Name:        cfg.DeadStream,
		Description: "appealkit: appeals the workers could not process (poison messages)",
		Subjects:    []string{cfg.DeadSubject + ".>"},
		Storage:     cfg.storage(),
		Replicas:    cfg.Replicas,
		Duplicates:  cfg.DuplicateWindow,
	})
	if err != nil {
		return fmt.Errorf("jetstream: set up dead-letter stream %s: %w", cfg.DeadStream, err)
	}
	_, err = js.CreateOrUpdateConsumer(ctx, cfg.Stream, natsjs.ConsumerConfig{
		Durable:       cfg.Consumer,
		Description:   "appealkit workers",
		AckPolicy:     natsjs.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxAckPending: cfg.MaxAckPending,
		// Unlimited: an appeal is never dropped by the server. Poison is
		// told apart from outages by the worker, which dead-letters it.
		MaxDeliver: -1,
	})
	if err != nil {
		return fmt.Errorf("jetstream: set up consumer %s on %s: %w", cfg.Consumer, cfg.Stream, err)
	}
	return nil
}

// Subject returns the subject an appeal is published on:
// <prefix>.<network>.<municipality>, with "_" for an unknown municipality
// and the characters a subject token cannot hold replaced by "_".
func Subject(prefix string, a *appeal.Appeal) string {
	m := a.Municipality
	if m == "" {
		m = "_"
	}
	return prefix + "." + token(string(a.Network)) + "." + token(m)
}

func token(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '.', '*', '>', ' ', '\t', '\r', '\n':
			return '_'
		}
		return r
	}, s)
}
