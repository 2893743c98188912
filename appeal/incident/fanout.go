package incident

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// Errors of FanOut, matched with errors.Is on a Delivery's Err.
var (
	// ErrNoReplier: no Replier was given for the appeal's network, so the
	// answer could not be posted there.
	ErrNoReplier = errors.New("incident: no replier for network")
	// ErrNotAnswerable: the appeal's status does not allow an answer (it
	// is new, rejected or already answered/resolved); nothing was posted.
	ErrNotAnswerable = errors.New("incident: appeal cannot be answered in its status")
)

// Answer is one official answer for every appeal of an incident.
type Answer struct {
	// Text is posted to each appeal's thread.
	Text string
	// By is the executor id recorded on each reply and history event.
	By string
	// At is when the answer was given; zero means time.Now().
	At time.Time
}

// Delivery is what happened to one appeal of a fan-out.
type Delivery struct {
	ID appeal.ID
	// Posted is true when the network accepted the reply; Reply is what it
	// returned (with Text, By and At filled in).
	Posted bool
	Reply  appeal.Reply
	// Stored is true when the appeal moved to answered in the store with
	// the reply recorded.
	Stored bool
	// Err is why the delivery is incomplete, nil when Posted and Stored.
	// Posted && !Stored means the citizen has the answer but the store does
	// not know: retry the store step only (FanOut does not repost an
	// answered appeal).
	Err error
}

// Result lists one Delivery per requested appeal, in the order given.
type Result struct {
	Deliveries []Delivery
}

// Failed returns the deliveries that did not complete.
func (r Result) Failed() []Delivery {
	var out []Delivery
	for _, d := range r.Deliveries {
		if d.Err != nil {
			out = append(out, d)
		}
	}
	return out
}

// Err joins the failures, each prefixed with its appeal ID, or returns nil
// when every delivery completed.
func (r Result) Err() error {
	var errs []error
	for _, d := range r.Deliveries {
		if d.Err != nil {
			errs = append(errs, fmt.Errorf("appeal %s: %w", d.ID.Redacted(), d.Err))
		}
	}
	return errors.Join(errs...)
}

// FanOut posts one answer to every appeal in ids through the Replier of each
// appeal's network and records it in the store (status answered, the reply
// appended, a history event by ans.By). Each appeal is handled on its own: a
// failure is reported in its Delivery and the rest go on, so nothing is
// silently dropped. Before posting, the appeal is read fresh and checked: an
// appeal that cannot be answered is not posted to. A version conflict on the
// store step is retried with a fresh read, never by posting again.
//
// If ctx is cancelled, the appeals not yet handled get ctx.Err().
func FanOut(ctx context.Context, st appeal.Store, repliers map[appeal.Network]source.Replier, ids []appeal.ID, ans Answer) Result {
	res := Result{Deliveries: make([]Delivery, len(ids))}
	at := ans.At
	if at.IsZero() {
		at = time.Now()
	}
	for i, id := range ids {
		d := &res.Deliveries[i]
		d.ID = id
		if err := ctx.Err(); err != nil {
			d.Err = err
			continue
		}
		a, err := st.Get(ctx, id)
		if err != nil {
			d.Err = fmt.Errorf("read: %w", err)
			continue
		}
		if !a.Status.CanTransition(appeal.StatusAnswered) {
			d.Err = fmt.Errorf("%w: status %s", ErrNotAnswerable, a.Status)
			continue
		}
		rp, ok := repliers[a.Network]
		if !ok || rp == nil {
			d.Err = fmt.Errorf("%w %q", ErrNoReplier, a.Network)
			continue
		}
		reply, err := rp.Reply(ctx, a, ans.Text)
		if err != nil {
			d.Err = fmt.Errorf("post to %s: %w", a.Network, err)
			continue
		}
		d.Posted = true
		if reply.Text == "" {
			reply.Text = ans.Text
		}
		if reply.By == "" {
			reply.By = ans.By
		}
		if reply.At.IsZero() {
			reply.At = at
		}
		d.Reply = reply
		d.Err = record(ctx, st, a, reply, ans.By, at)
		d.Stored = d.Err == nil
	}
	return res
}

// record moves a to answered with reply, re-reading on a version conflict
// (someone else touched the appeal between the read and the write).
func record(ctx context.Context, st appeal.Store, a appeal.Appeal, reply appeal.Reply, by string, at time.Time) error {
	const attempts = 3
	for try := 1; ; try++ {
		_, err := st.Transition(ctx, a.ID, appeal.Change{
			To: appeal.StatusAnswered, Actor: by, Note: "incident answer", At: at,
			Reply: &reply, ExpectedVersion: a.Version,
		})
		if err == nil {
			return nil
		}
		if !errors.Is(err, appeal.ErrConflict) || try == attempts {
			return fmt.Errorf("posted but not stored: %w", err)
		}
		if a, err = st.Get(ctx, a.ID); err != nil {
			return fmt.Errorf("posted but not stored: re-read: %w", err)
		}
		if !a.Status.CanTransition(appeal.StatusAnswered) {
			return fmt.Errorf("posted but not stored: %w: status became %s", ErrNotAnswerable, a.Status)
		}
	}
}

// Link records the incident on each appeal in the store (appeal.IncidentID)
// with Store.Update, re-reading on version conflicts. It stops at the first
// error and returns it wrapped with the appeal's ID.
func Link(ctx context.Context, st appeal.Store, incidentID string, ids ...appeal.ID) error {
	for _, id := range ids {
		var err error
		for try := 0; try < 3; try++ {
			var a appeal.Appeal
			if a, err = st.Get(ctx, id); err != nil {
				break
			}
			if a.IncidentID == incidentID {
				break
			}
			_, err = st.Update(ctx, id, a.Version, func(x *appeal.Appeal) error {
				x.IncidentID = incidentID
				return nil
			})
			if !errors.Is(err, appeal.ErrConflict) {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("incident: link %s to %s: %w", id.Redacted(), incidentID, err)
		}
	}
	return nil
}
