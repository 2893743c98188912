package source

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// Edit is a message its author changed after sending it: a citizen adds the
// address or the house number to a complaint. Networks deliver an edit under
// the original message's external id, so the Store's idempotent Put would
// drop it; adapters hand edits to an EditSink instead of the Sink.
type Edit struct {
	// Appeal is the message as it reads now, normalized: the same ID as
	// the original, the new text.
	Appeal appeal.Appeal
	// EditedAt is when the author edited the message; zero when the
	// network does not say (StoreEdits then uses the time it applies the
	// edit).
	EditedAt time.Time
	// Deleted says the message was removed on the network (by its author
	// or a moderator). Appeal then needs only Network, ExternalID (or ID)
	// and Kind; its Text is ignored. StoreEdits keeps the stored text — an
	// accepted appeal is never lost — and records the removal in history.
	Deleted bool
}

// EditSink receives edits. Like a Sink it returns nil only once the edit is
// durably applied; any error means "not applied", and the Source must not
// advance its checkpoint past that edit (a long poll does not save the
// offset, a webhook does not answer success), so the network delivers it
// again. Adapters document a nil EditSink as "edits are skipped".
type EditSink func(ctx context.Context, e Edit) error

// EditHook runs on the appeal inside the Store.Update that applies an edit,
// after the new text is set, so whatever it derives from the text (topics,
// urgency, place) is written in the same version as the text and never
// describes the old one. It may change fields and append to History; an
// error leaves the stored appeal as it was and is returned by the EditSink.
type EditHook func(ctx context.Context, a *appeal.Appeal) error

// EditOption tunes StoreEdits.
type EditOption func(*editConfig)

type editConfig struct {
	hook     EditHook
	attempts int
	now      func() time.Time
}

// WithEditHook runs hook on every edited appeal inside the Store.Update that
// stores the new text, and on an appeal StoreEdits stores as new (an edit of
// a message never stored) before the Put. Use it to classify the edited text
// again.
func WithEditHook(hook EditHook) EditOption {
	return func(c *editConfig) { c.hook = hook }
}

// WithEditAttempts sets how many times StoreEdits reads the appeal again
// after a Store.Update lost an optimistic-concurrency race (an operator or
// the pipeline changed it meanwhile) before giving up with an error
// matching appeal.ErrConflict. Default 10; values below 1 mean 1.
func WithEditAttempts(n int) EditOption {
	return func(c *editConfig) { c.attempts = max(n, 1) }
}

// WithEditClock sets the clock that dates an edit whose EditedAt is zero
// (default time.Now).
func WithEditClock(now func() time.Time) EditOption {
	return func(c *editConfig) { c.now = now }
}

// EditNotePrefix starts the Note of the history Event StoreEdits appends for
// an edit; the previous text follows it. appeal.Appeal.Redacted masks phone
// numbers and e-mail addresses in history notes, so the quoted text leaves
// the library as redacted as the appeal's own text.
const EditNotePrefix = "text edited by the author; previous text: "

// DeletedNote is the Note of the history Event StoreEdits appends when the
// message was removed on the network.
const DeletedNote = "message removed on the network; the stored text is kept"

// StoreEdits returns an EditSink that applies edits to store:
//
//   - A stored appeal gets the new text (and the new attachments, when the
//     edit carries any) and an Event — At the edit time, Actor the network,
//     Status unchanged — whose Note is EditNotePrefix and the previous
//     text, all in one Store.Update, together with the WithEditHook
//     changes.
//   - An edit whose text equals the stored one changes nothing, so a
//     redelivered edit is harmless.
//   - An edit of an appeal never stored (written before monitoring began)
//     is stored as a new appeal with Put.
//   - A deletion (Edit.Deleted) appends an Event with DeletedNote and
//     changes nothing else; a deletion already recorded, or of an appeal
//     never stored, changes nothing.
//   - An Update that loses a race (appeal.ErrConflict) is retried on a
//     fresh read, up to WithEditAttempts times.
//
// The returned EditSink is safe for concurrent use if store is.
func StoreEdits(store appeal.Store, opts ...EditOption) EditSink {
	cfg := editConfig{attempts: 10, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	return func(ctx context.Context, e Edit) error {
		edited := e.Appeal
		if edited.ID == "" {
			if err := edited.Normalize(); err != nil {
				ext := edited.ExternalID
				if edited.EmbedsUserID() {
					ext = pseudonym(ext)
				}
				return fmt.Errorf("source: edit of %s:%s: %w", edited.Network, ext, err)
			}
		}
		for attempt := 0; attempt < cfg.attempts; attempt++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			cur, err := store.Get(ctx, edited.ID)
			if e.Deleted && errors.Is(err, appeal.ErrNotFound) {
				return nil // nothing stored, nothing to mark
			}
			if errors.Is(err, appeal.ErrNotFound) {
				created, err := cfg.putNew(ctx, store, edited)
				if err != nil || created {
					return err
				}
				continue // stored meanwhile by someone else: apply the edit to it
			}
			if err != nil {
				return fmt.Errorf("source: edit of %s: %w", edited.ID, err)
			}
			at := e.EditedAt
			if at.IsZero() {
				at = cfg.now()
			}
			if e.Deleted {
				if deletionRecorded(cur) {
					return nil
				}
				_, err = store.Update(ctx, cur.ID, cur.Version, func(a *appeal.Appeal) error {
					a.History = append(a.History, appeal.Event{
						At: at, Actor: string(a.Network), From: a.Status, To: a.Status, Note: DeletedNote,
					})
					return nil
				})
				if errors.Is(err, appeal.ErrConflict) {
					continue
				}
				if err != nil {
					return fmt.Errorf("source: deletion of %s: %w", edited.ID, err)
				}
				return nil
			}
			if cur.Text == edited.Text {
				return nil
			}
			_, err = store.Update(ctx, cur.ID, cur.Version, func(a *appeal.Appeal) error {
				prev := a.Text
				a.Text = edited.Text
				if edited.Attachments != nil {
					a.Attachments = edited.Attachments
				}
				a.History = append(a.History, appeal.Event{
					At: at, Actor: string(a.Network), From: a.Status, To: a.Status,
					Note: EditNotePrefix + prev,
				})
				if cfg.hook != nil {
					return cfg.hook(ctx, a)
				}
				return nil
			})
			if errors.Is(err, appeal.ErrConflict) {
				continue // changed meanwhile: read it again
			}
			if err != nil {
				return fmt.Errorf("source: edit of %s: %w", edited.ID, err)
			}
			return nil
		}
		return fmt.Errorf("source: edit of %s: %w (gave up after %d attempts)", edited.ID, appeal.ErrConflict, cfg.attempts)
	}
}

func deletionRecorded(a appeal.Appeal) bool {
	for i := len(a.History) - 1; i >= 0; i-- {
		if a.History[i].Note == DeletedNote {
			return true
		}
	}
	return false
}

func (cfg *editConfig) putNew(ctx context.Context, store appeal.Store, a appeal.Appeal) (bool, error) {
	if cfg.hook != nil {
		a = a.Clone()
		if err := cfg.hook(ctx, &a); err != nil {
			return false, fmt.Errorf("source: edit of %s (not stored before): %w", a.RedactedID(), err)
		}
	}
	created, err := store.Put(ctx, a)
	if err != nil {
		return false, fmt.Errorf("source: edit of %s (not stored before): %w", a.RedactedID(), err)
	}
	return created, nil
}
