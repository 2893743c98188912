package route

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// Reloader holds the rules in force and swaps them atomically, so rules can
// be reloaded while appeals are being routed. Routing never blocks on a
// reload and always sees one whole rules file, old or new. A Reloader is safe
// for concurrent use.
type Reloader struct {
	cur atomic.Pointer[Engine]

	mu      sync.Mutex // guards the fields below and serialises swaps, never taken by routing
	zone    func(*appeal.Appeal) *time.Location
	lastErr error
	modTime time.Time
	size    int64
	missing bool
}

// NewReloader returns a Reloader with e in force. e must not be nil.
func NewReloader(e *Engine) *Reloader {
	r := &Reloader{}
	r.cur.Store(e)
	return r
}

// OpenReloader parses the rules file at path and returns a Reloader with it in
// force.
func OpenReloader(path string) (*Reloader, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	e, err := ParseFile(path)
	if err != nil {
		return nil, err
	}
	r := NewReloader(e)
	r.modTime, r.size = st.ModTime(), st.Size()
	return r, nil
}

// Engine returns the rules in force.
func (r *Reloader) Engine() *Engine { return r.cur.Load() }

// Route routes with the rules in force; see Engine.Route.
func (r *Reloader) Route(a *appeal.Appeal, now time.Time) Decision {
	return r.cur.Load().Route(a, now)
}

// RouteExplain routes with a trace; see Engine.RouteExplain.
func (r *Reloader) RouteExplain(a *appeal.Appeal, now time.Time) Decision {
	return r.cur.Load().RouteExplain(a, now)
}

// Swap puts e in force and returns the engine it replaced.
func (r *Reloader) Swap(e *Engine) *Engine {
	if e == nil {
		return r.cur.Load()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur.Swap(r.zoned(e))
}

// SetPlaceZone makes the rules in force, and every rules file reloaded or
// swapped in later, count deadlines on the clock of the appeal's place
// (Engine.WithPlaceZone); nil goes back to the calendars' own zones.
func (r *Reloader) SetPlaceZone(zone func(a *appeal.Appeal) *time.Location) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.zone = zone
	r.cur.Store(r.cur.Load().WithPlaceZone(zone))
}

// zoned applies the place zone to e; r.mu is held.
func (r *Reloader) zoned(e *Engine) *Engine {
	if r.zone == nil {
		return e
	}
	return e.WithPlaceZone(r.zone)
}

// Reload parses the rules file at path and puts it in force. When the file
// is bad, the rules in force stay and the error (a *RuleError or
// RuleErrors for a bad file) says why; LastError keeps it.
func (r *Reloader) Reload(path string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloadLocked(path)
}

func (r *Reloader) reloadLocked(path string) error {
	st, err := os.Stat(path)
	if err == nil {
		r.modTime, r.size = st.ModTime(), st.Size()
		var e *Engine
		if e, err = ParseFile(path); err == nil {
			r.cur.Store(r.zoned(e))
		}
	}
	r.lastErr = err
	return err
}

// LastError is the outcome of the latest reload: nil when it succeeded.
func (r *Reloader) LastError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// Watch polls the rules file at path every interval (1s when zero) and
// reloads it when its modification time or size has changed and then stayed
// the same for one interval (so a half-written file is not read), until ctx ends;
// it then returns ctx.Err(). After every reload attempt it calls report
// (if not nil) with the error, nil on success — a bad file leaves the old
// rules in force. Polling works on every file system, including mounted
// config maps, where change notifications are unreliable.
func (r *Reloader) Watch(ctx context.Context, path string, interval time.Duration, report func(error)) error {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var pending fileStamp
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		st, err := os.Stat(path)
		r.mu.Lock()
		var changed bool
		if err != nil {
			// Report a vanished file once, not on every tick.
			changed = !r.missing
			r.missing = true
			pending = fileStamp{}
		} else {
			stamp := fileStamp{st.ModTime(), st.Size()}
			differs := r.missing || !stamp.mod.Equal(r.modTime) || stamp.size != r.size
			// Reload only once the file has stopped changing for one
			// interval, so a file caught half-written is not parsed.
			changed = differs && stamp == pending
			pending = stamp
			if !differs {
				pending = fileStamp{}
			}
		}
		if !changed {
			r.mu.Unlock()
			continue
		}
		if err != nil {
			r.lastErr = fmt.Errorf("route: rules file: %w (rules in force unchanged)", err)
			err = r.lastErr
		} else {
			r.missing = false
			err = r.reloadLocked(path)
		}
		r.mu.Unlock()
		if report != nil {
			report(err)
		}
	}
}
