package source

import (
	"context"
	"sync"
)

// PushGate is what a push adapter — an http.Handler the network calls,
// which is also a Source — needs so that requests reach the sink only while
// Run is active: Run attaches the sink and, once ctx is done, detaches it
// and waits for the requests in flight; each request calls Begin to get
// the sink, or learns that no Run is active (answer 503 then, and the
// network retries). The zero value is ready; it refuses a second concurrent
// Run with ErrAlreadyRunning.
type PushGate struct {
	guard RunGuard
	mu    sync.RWMutex
	run   *gateRun
}

type gateRun struct {
	ctx      context.Context
	sink     Sink
	inflight sync.WaitGroup
}

// Run attaches sink and blocks until ctx is done; then it detaches the
// sink, waits for the requests in flight and returns nil.
func (g *PushGate) Run(ctx context.Context, sink Sink) error {
	release, err := g.guard.Enter()
	if err != nil {
		return err
	}
	defer release()
	rs := &gateRun{ctx: ctx, sink: sink}
	g.mu.Lock()
	g.run = rs
	g.mu.Unlock()
	<-ctx.Done()
	g.mu.Lock()
	g.run = nil
	g.mu.Unlock()
	rs.inflight.Wait()
	return nil
}

// Begin returns, for one request, the sink of the active Run and a context
// that ends with the request or with Run's ctx, whichever comes first; call
// end when the request is done with them. ok is false when no Run is
// active.
func (g *PushGate) Begin(req context.Context) (ctx context.Context, sink Sink, end func(), ok bool) {
	g.mu.RLock()
	rs := g.run
	if rs != nil {
		rs.inflight.Add(1)
	}
	g.mu.RUnlock()
	if rs == nil {
		return nil, nil, nil, false
	}
	ctx, cancel := context.WithCancel(req)
	stop := context.AfterFunc(rs.ctx, cancel)
	return ctx, rs.sink, func() {
		stop()
		cancel()
		rs.inflight.Done()
	}, true
}

// Running reports whether a Run is active.
func (g *PushGate) Running() bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.run != nil
}
