package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// Source is the worker side: a source.Source (and source.AsyncSource) that
// reads the appeals stream through the durable pull consumer all workers
// share, so each appeal goes to one worker at a time. Give it to a
// Pipeline as an Input; the pipeline's AsyncSink keeps up to InFlight
// appeals per worker in processing.
//
// An appeal is acknowledged only after the sink accepted it (for the
// pipeline: stored and routed). When the sink refuses it, the message is
// negatively acknowledged with a growing delay (Config.Backoff) and comes
// back, to this worker or another. A message that fails MaxDeliveries
// deliveries for a reason that lies in the message (undecodable bytes, a
// refusal that is not an outage) is copied to the dead-letter stream with
// the reason in its headers and removed from the work queue; undecodable
// messages are retried too, because a worker of a newer version may read
// them during a rolling upgrade. Transient refusals (appeal.ErrUnavailable,
// a deadline, source.ErrTemporary, a worker shutting down) never
// dead-letter.
//
// The consumer's state is the checkpoint: Run ignores source.Checkpoints.
type Source struct {
	js       natsjs.JetStream
	cfg      Config
	inFlight int
	log      *slog.Logger
	guard    source.RunGuard
	stats    stats
}

// SourceOption tunes a Source.
type SourceOption func(*Source)

// WithInFlight sets how many appeals RunAsync keeps in processing at once
// (default 256). Run always has one.
func WithInFlight(n int) SourceOption {
	return func(s *Source) { s.inFlight = max(n, 1) }
}

// WithLogger logs dead letters and consumer errors (no appeal text or
// author is logged). Default: slog.Default.
func WithLogger(l *slog.Logger) SourceOption {
	return func(s *Source) { s.log = l }
}

// NewSource returns a worker source on js. Setup must have created the
// streams and the consumer.
func NewSource(js natsjs.JetStream, cfg Config, opts ...SourceOption) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Source{js: js, cfg: cfg.withDefaults(), inFlight: 256}
	for _, o := range opts {
		o(s)
	}
	s.log = source.Logger(s.log)
	return s, nil
}

// Stats counts what a Source did since it was created.
type Stats struct {
	Acked        int64 // accepted by the sink and acknowledged
	Redelivered  int64 // deliveries that were not the first (NumDelivered > 1)
	Naked        int64 // refused by the sink and sent back with a delay
	DeadLettered int64 // moved to the dead-letter stream
}

type stats struct {
	mu sync.Mutex
	s  Stats
}

func (s *stats) add(f func(*Stats)) {
	s.mu.Lock()
	f(&s.s)
	s.mu.Unlock()
}

// Stats returns the counts so far.
func (s *Source) Stats() Stats {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	return s.stats.s
}

// Run delivers one appeal at a time to sink until ctx is cancelled.
func (s *Source) Run(ctx context.Context, sink source.Sink) error {
	return s.run(ctx, source.Async(sink), 1)
}

// RunAsync delivers up to the in-flight limit of appeals at once.
func (s *Source) RunAsync(ctx context.Context, sink source.AsyncSink) error {
	return s.run(ctx, sink, s.inFlight)
}

// delivery is one message being processed.
type delivery struct {
	msg natsjs.Msg
	n   uint64 // NumDelivered
	seq uint64 // stream sequence
}

func (s *Source) run(ctx context.Context, sink source.AsyncSink, inFlight int) error {
	release, err := s.guard.Enter()
	if err != nil {
		return err
	}
	defer release()
	cons, err := s.js.Consumer(ctx, s.cfg.Stream, s.cfg.Consumer)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("jetstream: consumer %s on stream %s: %w: %w", s.cfg.Consumer, s.cfg.Stream, source.ErrTemporary, err)
	}
	// Pull no more than can be processed: buffered messages would wait
	// while their AckWait runs.
	it, err := cons.Messages(natsjs.PullMaxMessages(min(max(inFlight, 16), 512)), natsjs.PullExpiry(5*time.Second))
	if err != nil {
		return fmt.Errorf("jetstream: pull from %s/%s: %w: %w", s.cfg.Stream, s.cfg.Consumer, source.ErrTemporary, err)
	}

	r := &runner{s: s, sink: sink, slots: make(chan struct{}, inFlight), held: map[*delivery]struct{}{}}
	stopped := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { // Next has no context: Stop unblocks it.
		defer bg.Done()
		select {
		case <-ctx.Done():
		case <-stopped:
		}
		it.Stop()
	}()
	go func() {
		defer bg.Done()
		r.keepAlive(stopped)
	}()

	var runErr error
	for {
		acquired := false
		select {
		case r.slots <- struct{}{}:
			acquired = true
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			if acquired {
				<-r.slots
			}
			break
		}
		msg, err := it.Next()
		if errors.Is(err, natsjs.ErrNoHeartbeat) {
			// A slow server or a reconnect: the iterator issues a new
			// pull request by itself.
			<-r.slots
			continue
		}
		if err != nil {
			<-r.slots
			// Closed without ctx ending: the connection was closed or the
			// consumer deleted. Not an end of input: say so, and let the
			// runner restart the input.
			if ctx.Err() == nil {
				runErr = fmt.Errorf("jetstream: pull from %s/%s: %w: %w", s.cfg.Stream, s.cfg.Consumer, source.ErrTemporary, err)
			}
			break
		}
		r.handle(ctx, msg)
	}
	close(stopped)
	bg.Wait()
	// Wait for the appeals in flight to be answered (the pipeline's
	// shutdown grace), but no longer than AckWait: after it JetStream
	// gives them to another worker anyway.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AckWait)
	defer cancel()
	for range cap(r.slots) {
		select {
		case r.slots <- struct{}{}:
		case <-wctx.Done():
		}
	}
	r.wg.Wait() // dead letters being published
	return runErr
}

// runner is the state of one Run.
type runner struct {
	s     *Source
	sink  source.AsyncSink
	slots chan struct{} // one token per appeal in flight
	wg    sync.WaitGroup

	mu   sync.Mutex
	held map[*delivery]struct{}
}

func (r *runner) handle(ctx context.Context, msg natsjs.Msg) {
	d := &delivery{msg: msg, n: 1}
	if md, err := msg.Metadata(); err == nil {
		d.n, d.seq = md.NumDelivered, md.Sequence.Stream
	}
	if d.n > 1 {
		r.s.stats.add(func(st *Stats) { st.Redelivered++ })
	}
	var a appeal.Appeal
	if err := json.Unmarshal(msg.Data(), &a); err != nil {
		r.settle(ctx, d, fmt.Errorf("jetstream: message %d on %s: %w: %v", d.seq, msg.Subject(), source.ErrMalformed, err))
		return
	}
	r.mu.Lock()
	r.held[d] = struct{}{}
	r.mu.Unlock()
	var once sync.Once
	done := func(err error) { once.Do(func() { r.settle(ctx, d, err) }) }
	if err := r.sink(ctx, a, done); err != nil {
		done(err)
	}
}

// settle answers JetStream for one delivery and frees its slot.
func (r *runner) settle(ctx context.Context, d *delivery, err error) {
	r.mu.Lock()
	delete(r.held, d)
	r.mu.Unlock()
	defer func() { <-r.slots }()
	if err == nil {
		_ = d.msg.Ack() // a lost ack means one redelivery, which the store drops
		r.s.stats.add(func(st *Stats) { st.Acked++ })
		return
	}
	if !transient(ctx, err) && d.n >= uint64(r.s.cfg.MaxDeliveries) {
		r.wg.Add(1)
		go func() { // publishing waits for the server; done must return quickly
			defer r.wg.Done()
			r.deadLetter(d, err)
		}()
		return
	}
	_ = d.msg.NakWithDelay(r.s.cfg.Backoff.Delay(int(min(d.n, 30))))
	r.s.stats.add(func(st *Stats) { st.Naked++ })
}

// transient reports whether a refusal says nothing about the appeal itself.
func transient(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, appeal.ErrUnavailable) || source.Retryable(err)
}

// deadLetter copies the message to the dead-letter stream, then removes it
// from the work queue. If the copy fails the message is sent back instead:
// it is never dropped.
func (r *runner) deadLetter(d *delivery, cause error) {
	s := r.s
	msg := nats.NewMsg(s.cfg.DeadSubject + strings.TrimPrefix(d.msg.Subject(), s.cfg.Subject))
	msg.Data = d.msg.Data()
	for k, v := range d.msg.Headers() {
		msg.Header[k] = v
	}
	msg.Header.Set(nats.MsgIdHdr, "dead-"+s.cfg.Stream+"-"+strconv.FormatUint(d.seq, 10))
	msg.Header.Set(HeaderReason, cause.Error())
	msg.Header.Set(HeaderDeliveries, strconv.FormatUint(d.n, 10))
	msg.Header.Set(HeaderStreamSeq, strconv.FormatUint(d.seq, 10))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.js.PublishMsg(ctx, msg); err != nil {
		s.log.Warn("jetstream: dead letter not published; the message goes back to the queue",
			"stream_seq", d.seq, "deliveries", d.n, "err", err)
		_ = d.msg.NakWithDelay(s.cfg.Backoff.Delay(int(min(d.n, 30))))
		return
	}
	if err := d.msg.TermWithReason("appealkit: dead-lettered"); err != nil {
		s.log.Warn("jetstream: dead letter published but not removed from the queue", "stream_seq", d.seq, "err", err)
	}
	s.stats.add(func(st *Stats) { st.DeadLettered++ })
	s.log.Warn("jetstream: message dead-lettered", "stream_seq", d.seq, "deliveries", d.n, "subject", msg.Subject, "reason", cause.Error())
}

// keepAlive tells JetStream every AckWait/3 that the appeals in flight are
// still being worked on, so a store outage the pipeline is riding out does
// not make them go to another worker.
func (r *runner) keepAlive(stop <-chan struct{}) {
	t := time.NewTicker(max(r.s.cfg.AckWait/3, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		r.mu.Lock()
		held := make([]*delivery, 0, len(r.held))
		for d := range r.held {
			held = append(held, d)
		}
		r.mu.Unlock()
		for _, d := range held {
			_ = d.msg.InProgress()
		}
	}
}
