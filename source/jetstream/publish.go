package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// Header names appealkit sets on its messages besides Nats-Msg-Id.
const (
	// HeaderReason holds why a dead letter was refused.
	HeaderReason = "Appealkit-Reason"
	// HeaderDeliveries holds how many times a dead letter was delivered.
	HeaderDeliveries = "Appealkit-Deliveries"
	// HeaderStreamSeq holds a dead letter's sequence in the appeals stream.
	HeaderStreamSeq = "Appealkit-Stream-Seq"
)

// Publisher is the intake side: a sink that publishes each accepted appeal
// to the appeals stream, with the appeal ID as Nats-Msg-Id so that JetStream
// drops a republished appeal (an intake replica that restarts re-reads from
// its last checkpoint). A sink answers only once JetStream acknowledged the
// publish (the appeal is stored on a quorum of servers), so a source's
// checkpoint never runs ahead of the stream.
//
// An appeal that fails appeal.Appeal.Normalize is published to the
// dead-letter subject instead, so that intake goes on past it.
//
// A Publisher is safe for concurrent use.
type Publisher struct {
	js  natsjs.JetStream
	cfg Config
}

// NewPublisher returns a Publisher on js. Call Setup once before
// publishing, so that the streams exist.
func NewPublisher(js natsjs.JetStream, cfg Config) (*Publisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Publisher{js: js, cfg: cfg.withDefaults()}, nil
}

// Sink publishes and waits for the acknowledgement.
func (p *Publisher) Sink() source.Sink {
	return func(ctx context.Context, a appeal.Appeal) error {
		msg, err := p.message(&a)
		if err != nil {
			return err
		}
		if _, err := p.js.PublishMsg(ctx, msg); err != nil {
			return publishError(&a, msg.Subject, err)
		}
		return nil
	}
}

// AsyncSink publishes without waiting: done is called when JetStream
// acknowledged the publish (or refused it, or did not answer in time). Many
// appeals are in flight at once, up to the JetStream context's
// PublishAsyncMaxPending; use it through a source.Window.
func (p *Publisher) AsyncSink() source.AsyncSink {
	return func(ctx context.Context, a appeal.Appeal, done func(error)) error {
		msg, err := p.message(&a)
		if err != nil {
			return err
		}
		fut, err := p.js.PublishMsgAsync(msg)
		if err != nil {
			return publishError(&a, msg.Subject, err)
		}
		go func() {
			select {
			case <-fut.Ok():
				done(nil)
			case err := <-fut.Err():
				done(publishError(&a, msg.Subject, err))
			}
		}()
		return nil
	}
}

// message encodes a for the appeals stream, or for the dead-letter stream
// when it is not a valid appeal.
func (p *Publisher) message(a *appeal.Appeal) (*nats.Msg, error) {
	c := a.Clone()
	nerr := c.Normalize()
	data, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("jetstream: encode appeal %s: %w", c.ID, err)
	}
	msg := nats.NewMsg(Subject(p.cfg.Subject, &c))
	msg.Data = data
	if c.ID != "" {
		msg.Header.Set(nats.MsgIdHdr, string(c.ID))
	}
	if nerr != nil {
		msg.Subject = Subject(p.cfg.DeadSubject, &c)
		msg.Header.Set(HeaderReason, nerr.Error())
		if c.ID != "" {
			msg.Header.Set(nats.MsgIdHdr, "invalid-"+string(c.ID))
		}
	}
	return msg, nil
}

// publishError says which appeal was not published; a connection problem or
// a timeout matches source.ErrTemporary, so that the source retries.
func publishError(a *appeal.Appeal, subject string, err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("jetstream: publish appeal %s to %s: %w", a.ID, subject, err)
	}
	return fmt.Errorf("jetstream: publish appeal %s to %s: %w: %w", a.ID, subject, source.ErrTemporary, err)
}
