package source

import "sync/atomic"

// RunGuard refuses a second concurrent Run of one Source. Embed it (the zero
// value is ready) and start Run with
//
//	release, err := s.guard.Enter()
//	if err != nil {
//		return err // ErrAlreadyRunning
//	}
//	defer release()
type RunGuard struct {
	running atomic.Bool
}

// Enter marks the Source running and returns the function that marks it
// stopped again, or ErrAlreadyRunning when it is running already.
func (g *RunGuard) Enter() (release func(), err error) {
	if !g.running.CompareAndSwap(false, true) {
		return nil, ErrAlreadyRunning
	}
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			g.running.Store(false)
		}
	}, nil
}

// Running reports whether a Run is active.
func (g *RunGuard) Running() bool { return g.running.Load() }
