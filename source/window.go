package source

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// AsyncSink hands an appeal over without waiting for it to be stored, so
// that a source can have many appeals in flight. It returns nil once it has
// taken the appeal, and then calls done exactly once, from any goroutine,
// with nil when the appeal is durably accepted or with the reason it was
// not. When it returns an error the appeal was not taken and done is not
// called. done must return quickly.
//
// The pipeline provides one (appealkit.Pipeline.AsyncSink); a source uses
// it through a Window, which keeps the checkpoint rule of Sink: a cursor is
// saved only once every appeal before it is accepted.
type AsyncSink func(ctx context.Context, a appeal.Appeal, done func(error)) error

// AsyncSource is an optional capability of a Source (found by type
// assertion): it can deliver to an AsyncSink. A runner that has one (the
// pipeline does) calls RunAsync instead of Run; Run keeps working with a
// synchronous Sink for every other caller.
type AsyncSource interface {
	Source
	// RunAsync is Run with many appeals in flight: the same cursor and
	// error rules, the checkpoint saved only over appeals all accepted.
	RunAsync(ctx context.Context, sink AsyncSink) error
}

// Async adapts a synchronous Sink to an AsyncSink: each appeal is accepted
// (or refused) before the call returns, so one is in flight at a time.
func Async(sink Sink) AsyncSink {
	return func(ctx context.Context, a appeal.Appeal, done func(error)) error {
		if err := sink(ctx, a); err != nil {
			return err
		}
		done(nil)
		return nil
	}
}

// Window keeps up to a fixed number of appeals in flight through an
// AsyncSink and tracks, in the order they were sent, the cursor below which
// every appeal is durably accepted: the only cursor a source may save.
// After a refusal that cursor never moves past the refused appeal, and Send
// returns the refusal, so the source stops (or restarts) there and the
// appeals after it are delivered again; the store's idempotent Put makes
// the redelivery harmless.
//
// A Window is used by one source goroutine (Send, Skip) while completions
// arrive from others; all methods are safe for concurrent use.
type Window struct {
	sink  AsyncSink
	slots chan struct{} // one token per appeal in flight

	mu        sync.Mutex
	pending   []windowEntry // sent, oldest first, not yet below the committed cursor
	base      uint64        // sequence number of pending[0]
	next      uint64        // sequence number of the next Send or Skip
	committed string
	hasCommit bool
	inFlight  int
	err       error         // the first refusal
	changed   chan struct{} // closed and replaced at a completion while someone waits
	waiting   int           // Wait calls waiting on changed
}

type windowEntry struct {
	cursor string
	done   bool
	err    error
}

// NewWindow returns a Window that keeps at most size appeals in flight
// through sink (size < 1 means 1).
func NewWindow(sink AsyncSink, size int) *Window {
	return &Window{sink: sink, slots: make(chan struct{}, max(size, 1)), changed: make(chan struct{})}
}

// Send waits until fewer than size appeals are in flight (or ctx ends),
// then hands a to the sink. cursor is where the source resumes once a and
// every appeal sent before it are accepted. Send returns the first refusal
// seen so far, of this appeal or an earlier one, without sending; the
// refusal is a *RefusedError.
func (w *Window) Send(ctx context.Context, a appeal.Appeal, cursor string) error {
	if err := w.Err(); err != nil {
		return err
	}
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	w.mu.Lock()
	seq := w.next
	w.next++
	w.inFlight++
	w.pending = append(w.pending, windowEntry{cursor: cursor})
	w.mu.Unlock()
	id := a.ID
	err := w.sink(ctx, a, func(err error) { w.finish(seq, id, cursor, err) })
	if err != nil {
		w.finish(seq, id, cursor, err)
		return w.Err()
	}
	return nil
}

// RefusedError is an appeal an AsyncSink refused, as a Window reports it.
// It unwraps to the sink's error.
type RefusedError struct {
	// ID is the refused appeal's ID.
	ID appeal.ID
	// Cursor is the cursor that was sent with it (the position after it).
	Cursor string
	// Err is the sink's refusal.
	Err error
}

// Error names the appeal and the refusal.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("appeal %s not accepted: %v", e.ID, e.Err)
}

// Unwrap returns the sink's refusal.
func (e *RefusedError) Unwrap() error { return e.Err }

// Skip records a position with nothing to deliver (a bad line passed
// over): the committed cursor reaches it once every appeal sent before it
// is accepted.
func (w *Window) Skip(cursor string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.next++
	w.pending = append(w.pending, windowEntry{cursor: cursor, done: true})
	w.advance()
}

func (w *Window) finish(seq uint64, id appeal.ID, cursor string, err error) {
	w.mu.Lock()
	i := seq - w.base
	if err != nil {
		err = &RefusedError{ID: id, Cursor: cursor, Err: err}
		if w.err == nil {
			w.err = err
		}
	}
	w.pending[i].done, w.pending[i].err = true, err
	w.inFlight--
	w.advance()
	if w.waiting > 0 {
		close(w.changed)
		w.changed = make(chan struct{})
	}
	w.mu.Unlock()
	<-w.slots
}

// advance moves the committed cursor over the accepted prefix. Call it
// with w.mu held.
func (w *Window) advance() {
	n := 0
	for n < len(w.pending) && w.pending[n].done && w.pending[n].err == nil {
		w.committed, w.hasCommit = w.pending[n].cursor, true
		n++
	}
	if n > 0 {
		w.pending = w.pending[n:]
		w.base += uint64(n)
	}
}

// Committed returns the cursor below which every appeal sent is accepted,
// and false when there is none yet (nothing accepted since NewWindow).
func (w *Window) Committed() (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.committed, w.hasCommit
}

// InFlight returns how many appeals are sent and not yet answered.
func (w *Window) InFlight() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.inFlight
}

// Err returns the first refusal, or nil.
func (w *Window) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Wait waits until no appeal is in flight or ctx ends, and returns the
// first refusal (or ctx's error when it ended the wait).
func (w *Window) Wait(ctx context.Context) error {
	for {
		w.mu.Lock()
		if w.inFlight == 0 {
			err := w.err
			w.mu.Unlock()
			return err
		}
		ch := w.changed
		w.waiting++
		w.mu.Unlock()
		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = ctx.Err()
		}
		w.mu.Lock()
		w.waiting--
		w.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

type shutdownGraceKey struct{}

// WithShutdownGrace tells the sources run under ctx how long their runner
// lets them finish once ctx is cancelled (the pipeline passes its
// ShutdownGrace), so that their last work (answers for appeals in flight,
// the last checkpoint) ends within it.
func WithShutdownGrace(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, shutdownGraceKey{}, d)
}

// AfterCancel returns a context for the work a source still does after
// ctx is cancelled (waiting for the appeals in flight, saving the last
// checkpoint): it is not cancelled with ctx but ends after the runner's
// shutdown grace (see WithShutdownGrace), or after def when the runner set
// none. Call it when the work starts, once.
func AfterCancel(ctx context.Context, def time.Duration) (context.Context, context.CancelFunc) {
	d := def
	if g, ok := ctx.Value(shutdownGraceKey{}).(time.Duration); ok && g > 0 {
		d = g
	}
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}
