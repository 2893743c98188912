// Package source is the contract between appealkit and the networks appeals
// come from, plus the machinery every adapter shares.
//
// A Source reads one network or channel and hands each message, as an
// appeal.Appeal, to a Sink. Delivery is at-least-once: a Source saves its
// cursor in Checkpoints only after the Sink accepted everything before it, so
// a restart re-reads from the last saved checkpoint and loses nothing; the
// Store's idempotent Put (appeal IDs derive from network + external id) turns
// that into effectively-once.
//
// Every adapter, shipped or an integrator's, passes the conformance suite in
// source/sourcetest.
//
// # Edits
//
// A message edited after it was sent keeps its external id, so the Store's
// idempotent Put would drop it. Adapters that see edits (source/telegram,
// source/vk's LongPoll and CallbackHandler) hand them as an Edit to an
// EditSink, with the same checkpoint rule as the Sink. StoreEdits is the
// EditSink that writes the new text to the stored appeal with a history
// Event, and WithEditHook recomputes what derives from the text (topics,
// urgency) in the same Store.Update.
//
// # Machinery for adapters
//
//   - Checkpoints: MemoryCheckpoints (tests) and FileCheckpoints (one JSON
//     file, atomic write-then-rename with fsync).
//   - Rate limits: NewLimiter and Wait, on golang.org/x/time/rate.
//   - Retries: Retry with a Backoff (exponential, jittered), retrying only
//     Retryable errors (ErrTemporary, ErrRateLimited) and waiting at least a
//     RateLimitError's Wait; Sleep honours ctx.
//   - Duplicates: Dedup, a bounded window of recently seen ids.
//   - One Run at a time: RunGuard returns ErrAlreadyRunning.
//   - Many appeals in flight: a source that implements AsyncSource sends
//     through a Window, which keeps up to N appeals with an AsyncSink (the
//     pipeline's) and gives the cursor below which all are stored, in
//     order: the only cursor to save. Async adapts a synchronous Sink.
//   - Webhooks: PushGate lets an http.Handler that is also a Source reach
//     the sink only while Run is active, and Run wait for the requests in
//     flight (source/max, source/instagram).
//   - Personal data: AppealAttr, AuthorAttr and UserIDAttr keep names,
//     user ids and phone numbers out of logs (redaction itself is package
//     appeal's: appeal.RedactText, appeal.Appeal.Redacted); Logger
//     defaults a nil *slog.Logger.
//
// An adapter's Run typically looks like this:
//
//	func (s *MySource) Run(ctx context.Context, sink source.Sink) error {
//		release, err := s.guard.Enter() // source.RunGuard
//		if err != nil {
//			return err
//		}
//		defer release()
//		cursor, err := s.cp.Load(ctx, s.key)
//		...
//		for {
//			var page Page
//			err := source.Retry(ctx, s.backoff, func(ctx context.Context) error {
//				if err := source.Wait(ctx, s.limiter); err != nil {
//					return err
//				}
//				page, err = s.fetch(ctx, cursor) // maps errors to ErrTemporary, *RateLimitError, ErrAuth, ErrMalformed
//				return err
//			})
//			if err != nil {
//				if ctx.Err() != nil {
//					return nil
//				}
//				return err
//			}
//			for _, item := range page.Items {
//				if err := sink(ctx, item.Appeal()); err != nil {
//					return fmt.Errorf("mysource: %s: %w", item.ID, err) // cursor not advanced
//				}
//				cursor = item.Cursor
//			}
//			if err := s.cp.Save(ctx, s.key, cursor); err != nil {
//				return err
//			}
//			if err := source.Sleep(ctx, s.interval); err != nil {
//				return nil
//			}
//		}
//	}
package source

import (
	"context"
	"fmt"

	"github.com/appealkit/appealkit/appeal"
)

// Sink receives appeals from a Source. It returns nil only once the appeal is
// durably accepted (stored, or queued somewhere that survives a crash); any
// error means "not accepted": the Source must not advance its checkpoint past
// that appeal and should stop or retry. A Sink may be called concurrently
// only if the Source documents so; shipped sources call it from one
// goroutine.
type Sink func(ctx context.Context, a appeal.Appeal) error

// Source brings appeals from one network or channel.
type Source interface {
	// Run delivers appeals to sink until ctx is cancelled, the input ends
	// (then it returns nil, or ErrEndOfInput where the caller must know), or
	// a fatal error such as ErrAuth. It returns promptly after ctx is
	// cancelled and leaves no goroutine behind. A second concurrent Run on
	// the same Source returns ErrAlreadyRunning.
	Run(ctx context.Context, sink Sink) error
}

// Checkpoints stores each source's cursor. Implementations are safe for
// concurrent use; Save is atomic (a crash leaves the old or the new cursor,
// never a torn one).
type Checkpoints interface {
	// Load returns the cursor saved under key, or "" and a nil error if none
	// was saved.
	Load(ctx context.Context, key string) (string, error)
	// Save stores cursor under key, replacing what was there.
	Save(ctx context.Context, key, cursor string) error
}

// BatchSaver is an optional capability of Checkpoints (find it by type
// assertion, or just call SaveAll): it saves several cursors at once, and
// atomically. A source that tracks many cursors (one per community) saves
// them together once per cycle instead of paying one durable write each.
type BatchSaver interface {
	SaveBatch(ctx context.Context, cursors map[string]string) error
}

// Replier is an optional capability of a Source (find it by type assertion):
// it posts an official answer into the same thread the appeal came from.
type Replier interface {
	Reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error)
}

// SaveAll saves every cursor: in one write when cp is a BatchSaver, else one
// Save per key. Without a BatchSaver a failure can leave some cursors saved
// and others not, which is safe: each saved cursor is one the sink accepted.
func SaveAll(ctx context.Context, cp Checkpoints, cursors map[string]string) error {
	if len(cursors) == 0 {
		return nil
	}
	if b, ok := cp.(BatchSaver); ok {
		return b.SaveBatch(ctx, cursors)
	}
	for k, v := range cursors {
		if err := cp.Save(ctx, k, v); err != nil {
			return fmt.Errorf("source: save checkpoint %q: %w", k, err)
		}
	}
	return nil
}
