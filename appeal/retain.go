package appeal

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Retention under 152-ФЗ: personal data is kept no longer than its purpose
// needs. Once an appeal is closed (resolved or rejected) and the period has
// passed, Retain pseudonymises it in place:
//
//   - the author's id becomes a keyed pseudonym (the one Redacted gives with
//     the same RedactOptions), so distinct authors can still be counted;
//     the author's name and profile URL are removed and the Author is marked
//     Pseudonymous;
//   - the message URL and attachment URLs are removed (they lead to the
//     author's page and photos); attachment types stay;
//   - phone numbers and e-mail addresses are masked in the text, the replies
//     and the history notes; with DropText the text itself is removed too.
//
// Everything statistics read stays as it was: status, times, topics,
// municipality, place, geo point, assignment, history (times, statuses,
// actors), the community and the network's message id (ExternalID is part of
// the appeal's key).
//
// Names written inside the text itself are not detected: use DropText when
// texts must not outlive the period.

// RetentionPolicy says which appeals Retain pseudonymises and how.
type RetentionPolicy struct {
	// ClosedFor is how long an appeal stays closed (resolved or rejected)
	// before its personal data goes; it must be positive. The closing time
	// is that of the history event that closed it, or CreatedAt when the
	// history does not say.
	ClosedFor time.Duration
	// Now is the present; zero means time.Now().
	Now time.Time
	// Redact keys the author pseudonym: the deployment's usual redaction
	// options, so that pseudonyms agree with exports and with earlier
	// runs. Its Key is required: with the random per-process key each run
	// would give the same author a new pseudonym and distinct-author
	// counts would grow with every run.
	Redact RedactOptions
	// DropText removes the text and the replies' texts instead of masking
	// phones and e-mails in them.
	DropText bool
	// Actor is who the retention acts as, for errors; "" means "retention".
	Actor string
}

// RetentionReport counts what Retain did.
type RetentionReport struct {
	// Closed is how many closed appeals past the period were looked at.
	Closed int
	// Pseudonymised is how many were changed now; the rest had been
	// already.
	Pseudonymised int
}

// Retain pseudonymises the personal data of the appeals of s closed longer
// than p.ClosedFor (see the list above) through Store.Update, so it works on
// every store and an appeal changed meanwhile is re-read, not overwritten. It
// reads with Scan (bounded memory) and is idempotent: run it daily.
func Retain(ctx context.Context, s Store, p RetentionPolicy) (RetentionReport, error) {
	var rep RetentionReport
	if p.ClosedFor <= 0 {
		return rep, fmt.Errorf("appeal: retain: ClosedFor %s must be positive", p.ClosedFor)
	}
	if len(p.Redact.Key) == 0 {
		return rep, errors.New("appeal: retain: Redact.Key is empty: pseudonyms must be keyed with the deployment's secret to stay stable across runs")
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	cutoff := now.Add(-p.ClosedFor)
	f := Filter{Statuses: []Status{StatusResolved, StatusRejected}, CreatedTo: cutoff}
	for a, err := range Scan(ctx, s, f) {
		if err != nil {
			return rep, fmt.Errorf("appeal: retain: %w", err)
		}
		if !ClosedAt(&a).Before(cutoff) {
			continue
		}
		rep.Closed++
		if a.Author.Pseudonymous {
			continue
		}
		changed, err := retainOne(ctx, s, a, cutoff, &p)
		if err != nil {
			return rep, fmt.Errorf("appeal: retain %s: %w", a.RedactedID(), err)
		}
		if changed {
			rep.Pseudonymised++
		}
	}
	return rep, nil
}

// retainOne pseudonymises a, re-reading it after a version conflict.
func retainOne(ctx context.Context, s Store, a Appeal, cutoff time.Time, p *RetentionPolicy) (bool, error) {
	for range 5 {
		_, err := s.Update(ctx, a.ID, a.Version, func(c *Appeal) error {
			c.Pseudonymise(p.Redact, p.DropText)
			return nil
		})
		if !errors.Is(err, ErrConflict) {
			return err == nil, err
		}
		if a, err = s.Get(ctx, a.ID); err != nil {
			return false, err
		}
		if a.Author.Pseudonymous || (a.Status != StatusResolved && a.Status != StatusRejected) || !ClosedAt(&a).Before(cutoff) {
			return false, nil // reopened or done meanwhile
		}
	}
	return false, fmt.Errorf("still changing after 5 tries: %w", ErrConflict)
}

// ClosedAt returns when a was last moved to the status it is in (the time of
// the latest history event into it), or CreatedAt when the history does not
// say.
func ClosedAt(a *Appeal) time.Time {
	for i := len(a.History) - 1; i >= 0; i-- {
		if a.History[i].To == a.Status {
			return a.History[i].At
		}
	}
	return a.CreatedAt
}

// Pseudonymise removes a's personal data in place as Retain does (see the
// list under RetentionPolicy): the author becomes a keyed pseudonym marked
// Pseudonymous, URLs go, phones and e-mails are masked (or, with dropText,
// the texts removed). Calling it again changes nothing.
func (a *Appeal) Pseudonymise(o RedactOptions, dropText bool) {
	if a.Author.Pseudonymous {
		return
	}
	o.KeepText = false
	r := a.RedactedWith(o)
	a.Author = r.Author
	a.Author.Pseudonymous = true
	a.URL = ""
	for i := range a.Attachments {
		a.Attachments[i].URL = ""
	}
	a.Text = r.Text
	a.Analysis = nil
	for i := range a.Replies {
		a.Replies[i].Text = r.Replies[i].Text
	}
	if dropText {
		a.Text = ""
		for i := range a.Replies {
			a.Replies[i].Text = ""
		}
	}
	for i := range a.History {
		a.History[i].Note = r.History[i].Note
	}
}
