package answer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// ErrPermanent marks a publication error that retrying cannot fix (the
// post was deleted, the network cannot answer this kind of thread). Wrap
// with Permanent; the publisher returns the draft to the operator at once.
var ErrPermanent = errors.New("answer: permanent publication failure")

// ErrNoChannel: no Channel is configured for the message's channel
// (network). The draft goes back to the operator to answer by hand.
var ErrNoChannel = errors.New("answer: no channel to publish to")

// ErrNotSent marks a publication error after which the channel is sure the
// answer did not go out (a connection refused, an SMTP 4xx reply, a rate
// limit): safe to retry even on a channel without idempotency keys.
var ErrNotSent = errors.New("answer: not sent")

// NotSent wraps err so that errors.Is(err, ErrNotSent) is true.
func NotSent(err error) error { return fmt.Errorf("%w: %w", ErrNotSent, err) }

// Permanent wraps err so that errors.Is(err, ErrPermanent) is true.
func Permanent(err error) error { return fmt.Errorf("%w: %w", ErrPermanent, err) }

// OnlyTemporaryRetried is a Channel.IsPermanent for adapters that mark
// their errors as the source package does: source.ErrTemporary,
// source.ErrRateLimited and source.ErrAuth (a token to renew) are retried;
// anything else — access denied, a deleted post, a refused request — is
// permanent.
func OnlyTemporaryRetried(err error) bool {
	return !errors.Is(err, source.ErrTemporary) && !errors.Is(err, source.ErrRateLimited) && !errors.Is(err, source.ErrAuth)
}

// Channel is where answers to appeals of one network (or e-mail, or a
// portal) are published.
type Channel struct {
	// Replier posts the answer: a network adapter's source.Replier
	// (vk.Replier, telegram.Source), EmailReplier or PortalReplier.
	Replier source.Replier
	// Idempotent says the channel drops a repeated post with the same
	// idempotency key (source.WithReplyKey), as VK does with guid and
	// random_id. Then a message that was being posted when its publisher
	// died, or whose post failed in a way that leaves it unknown whether it
	// went out (a timeout, a 5xx), is posted again. Otherwise (Telegram,
	// MAX, e-mail: no such key) only failures that surely sent nothing
	// (ErrNotSent, source.ErrRateLimited) are retried; after any other,
	// rather than risk a second post, the draft goes back to the operator
	// to check the thread.
	Idempotent bool
	// IsPermanent, when set, says which of the Replier's errors retrying
	// cannot fix, besides those matching ErrPermanent.
	IsPermanent func(error) bool
}

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	// Store keeps the appeals. Required.
	Store appeal.Store
	// Outbox holds the approved answers; nil means Store.
	Outbox appeal.Outbox
	// Channels by OutboxMessage.Channel: "vk", "telegram", "email"...
	Channels map[string]Channel
	// MaxAttempts before a temporary failure counts as permanent
	// (default 8).
	MaxAttempts int
	// Backoff is the wait before attempt n+1 after n failed ones
	// (default 30 s doubling to at most 1 h).
	Backoff func(attempt int) time.Duration
	// Lease is how long a claimed message is reserved for this publisher
	// (default 2 min); after it another publisher takes over.
	Lease time.Duration
	// Batch is how many messages one Drain claims at most (default 20).
	Batch int
	// Actor names the publisher in the appeals' history (default
	// "publisher").
	Actor string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// AfterPost, when set, is called after a successful post and before
	// the publication is recorded. Tests use it to inject a crash there.
	AfterPost func(m appeal.OutboxMessage) error
	// OnError, when set, hears the errors Run meets (a store that is down);
	// Run goes on after them. Errors carry appeal ids, never texts.
	OnError func(error)
}

// Publisher drains the outbox into the channels. Several publishers (also
// in several processes) may drain one outbox: claims keep them apart.
type Publisher struct {
	cfg    PublisherConfig
	outbox appeal.Outbox
}

// NewPublisher returns a Publisher.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	ob, err := outboxOf(cfg.Store, cfg.Outbox, "PublisherConfig")
	if err != nil {
		return nil, err
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.Backoff == nil {
		cfg.Backoff = func(n int) time.Duration {
			d := 30 * time.Second << min(n-1, 7)
			return min(d, time.Hour)
		}
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 20
	}
	if cfg.Actor == "" {
		cfg.Actor = "publisher"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Publisher{cfg: cfg, outbox: ob}, nil
}

// DrainResult counts what one Drain did.
type DrainResult struct {
	Published int // posted and recorded (or found already recorded)
	Retrying  int // failed for now, scheduled again
	Returned  int // given back to the operator with the reason
}

// Drain claims the messages due now and publishes each: post, record the
// reply in the appeal, remove the message. It returns when the batch is
// done; an error means the store failed (the messages stay queued and are
// claimed again after their lease).
func (p *Publisher) Drain(ctx context.Context) (DrainResult, error) {
	var res DrainResult
	msgs, err := p.outbox.Claim(ctx, p.cfg.Now(), p.cfg.Lease, p.cfg.Batch)
	if err != nil {
		return res, fmt.Errorf("answer: claim outbox: %w", err)
	}
	for _, m := range msgs {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		outcome, err := p.publish(ctx, m)
		if err != nil {
			return res, err
		}
		switch outcome {
		case published:
			res.Published++
		case retrying:
			res.Retrying++
		case returned:
			res.Returned++
		}
	}
	return res, nil
}

// Run drains the outbox every interval until ctx ends, and at once again
// when a drain found a full batch. Errors go to PublisherConfig.OnError
// and do not stop it: the messages stay queued and are claimed again.
func (p *Publisher) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		res, err := p.Drain(ctx)
		if err != nil && ctx.Err() == nil && p.cfg.OnError != nil {
			p.cfg.OnError(err)
		}
		if err == nil && res.Published+res.Retrying+res.Returned >= p.cfg.Batch {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

type outcome int

const (
	published outcome = iota + 1
	retrying
	returned
)

func (p *Publisher) publish(ctx context.Context, m appeal.OutboxMessage) (outcome, error) {
	a, err := p.cfg.Store.Get(ctx, m.AppealID)
	if errors.Is(err, appeal.ErrNotFound) {
		return returned, p.outbox.Remove(ctx, m.Key) // nothing to answer any more
	}
	if err != nil {
		return 0, fmt.Errorf("answer: publish %s: %w", m.AppealID, err)
	}
	if hasReply(&a, m.Key) {
		// Posted and recorded before; only the bookkeeping is left.
		if err := p.record(ctx, m, appeal.Reply{}); err != nil {
			return 0, err
		}
		return published, p.outbox.Remove(ctx, m.Key)
	}
	ch, ok := p.cfg.Channels[m.Channel]
	if !ok || ch.Replier == nil {
		return returned, p.giveBack(ctx, m, fmt.Sprintf("Нет канала публикации для «%s»: ответьте заявителю вручную (%v).", m.Channel, ErrNoChannel))
	}
	if m.InFlight && !ch.Idempotent {
		return returned, p.giveBack(ctx, m, "Публикация прервалась сбоем, и неизвестно, ушёл ли ответ. Проверьте ветку: если ответа там нет, отправьте его снова.")
	}
	reply, err := ch.Replier.Reply(source.WithReplyKey(ctx, m.Key), a, m.Text)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if errors.Is(err, ErrPermanent) || ch.IsPermanent != nil && ch.IsPermanent(err) || m.Attempts >= p.cfg.MaxAttempts {
			return returned, p.giveBack(ctx, m, fmt.Sprintf("Ответ не опубликован (попыток: %d): %v. Исправьте причину и отправьте снова.", m.Attempts, err))
		}
		if !ch.Idempotent && !errors.Is(err, ErrNotSent) && !errors.Is(err, source.ErrRateLimited) {
			return returned, p.giveBack(ctx, m, fmt.Sprintf("Сбой при публикации (%v), и неизвестно, ушёл ли ответ. Проверьте ветку: если ответа там нет, отправьте его снова.", err))
		}
		wait := p.cfg.Backoff(m.Attempts)
		if rl, ok := errors.AsType[*source.RateLimitError](err); ok && rl.Wait > wait {
			wait = rl.Wait // the network said how long to keep away
		}
		next := p.cfg.Now().Add(wait)
		if rerr := p.outbox.Retry(ctx, m.Key, next, err.Error()); rerr != nil {
			return 0, fmt.Errorf("answer: publish %s: schedule retry: %w", m.AppealID, rerr)
		}
		return retrying, nil
	}
	if p.cfg.AfterPost != nil {
		if err := p.cfg.AfterPost(m); err != nil {
			return 0, err
		}
	}
	reply.Key = m.Key
	if err := p.record(ctx, m, reply); err != nil {
		return 0, err
	}
	return published, p.outbox.Remove(ctx, m.Key)
}

func hasReply(a *appeal.Appeal, key string) bool {
	for i := range a.Replies {
		if a.Replies[i].Key == key {
			return true
		}
	}
	return false
}

// record writes the reply into the appeal (moving it to in_progress for an
// interim answer, answered for a final one) and marks the draft published.
// Each write is skipped when already done, so a publisher that died
// between them finishes the job on the next claim. Conflicts with other
// writers are retried.
func (p *Publisher) record(ctx context.Context, m appeal.OutboxMessage, reply appeal.Reply) error {
	for attempt := 0; ; attempt++ {
		err := p.recordOnce(ctx, m, reply)
		if err == nil || !errors.Is(err, appeal.ErrConflict) || attempt >= 10 {
			if err != nil {
				return fmt.Errorf("answer: record publication of %s: %w", m.AppealID, err)
			}
			return nil
		}
	}
}

func (p *Publisher) recordOnce(ctx context.Context, m appeal.OutboxMessage, reply appeal.Reply) error {
	a, err := p.cfg.Store.Get(ctx, m.AppealID)
	if err != nil {
		return err
	}
	d, ok := a.Draft(m.DraftID)
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoDraft, m.DraftID)
	}
	now := p.cfg.Now()
	kind := d.Kind
	if !hasReply(&a, m.Key) {
		reply.Kind, reply.By = kind, d.Executor
		if reply.Text == "" {
			reply.Text = m.Text
		}
		// The publisher's clock, like every other step of the loop, so
		// that times to answer are measured on one clock.
		reply.At = now
		to := appeal.StatusAnswered
		if kind == appeal.AnswerInterim {
			to = appeal.StatusInProgress
		}
		n := "опубликован ответ " + d.ID + " (" + KindName(kind) + ")"
		if a.Status.CanTransition(to) {
			a, err = p.cfg.Store.Transition(ctx, a.ID, appeal.Change{To: to, Actor: p.cfg.Actor, Note: n, At: now, Reply: &reply, ExpectedVersion: a.Version})
		} else {
			a, err = p.cfg.Store.Update(ctx, a.ID, a.Version, func(x *appeal.Appeal) error {
				x.Replies = append(x.Replies, reply)
				event(x, now, p.cfg.Actor, n)
				return nil
			})
		}
		if err != nil {
			return err
		}
	}
	if d, _ := a.Draft(m.DraftID); d.State == appeal.AnswerPublished {
		return nil
	}
	_, err = p.cfg.Store.Update(ctx, a.ID, a.Version, func(x *appeal.Appeal) error {
		d, _ := x.Draft(m.DraftID)
		from := d.State
		d.State, d.UpdatedAt, d.Comment = appeal.AnswerPublished, now, ""
		if !d.Promised.IsZero() {
			x.Promised = d.Promised
		}
		event(x, now, p.cfg.Actor, note(d, from, ""))
		return nil
	})
	return err
}

// giveBack returns the draft to the operator with the reason and removes
// the message.
func (p *Publisher) giveBack(ctx context.Context, m appeal.OutboxMessage, reason string) error {
	for attempt := 0; ; attempt++ {
		a, err := p.cfg.Store.Get(ctx, m.AppealID)
		if err != nil {
			return fmt.Errorf("answer: return draft of %s: %w", m.AppealID, err)
		}
		now := p.cfg.Now()
		_, err = p.cfg.Store.Update(ctx, a.ID, a.Version, func(x *appeal.Appeal) error {
			d, ok := x.Draft(m.DraftID)
			if !ok {
				return nil
			}
			from := d.State
			d.State, d.Comment, d.UpdatedAt = appeal.AnswerReturned, reason, now
			event(x, now, p.cfg.Actor, note(d, from, reason))
			return nil
		})
		if errors.Is(err, appeal.ErrConflict) && attempt < 10 {
			continue
		}
		if err != nil {
			return fmt.Errorf("answer: return draft of %s: %w", m.AppealID, err)
		}
		return p.outbox.Remove(ctx, m.Key)
	}
}
