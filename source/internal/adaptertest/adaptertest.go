// Package adaptertest holds what the tests of the network adapters (max,
// telegram, instagram, ok) share: a recording sink that can fail on cue,
// running a Source until something happened, and a webhook server that
// waits for its handler. It is imported by _test.go files only.
package adaptertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/appealkit/appealkit/source"
)

// T is the part of testing.TB the helpers use.
type T interface {
	// Helper marks the caller as a test helper.
	Helper()
	// Cleanup registers f to run when the test ends, last registered
	// first.
	Cleanup(f func())
}

// RunUntil runs s with sink until cond holds or 5s pass, then cancels it
// and returns what Run returned (at once when Run returns by itself).
func RunUntil(t T, s source.Source, sink source.Sink, cond func() bool) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, sink) }()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() && time.Now().Before(deadline) {
		select {
		case err := <-done:
			cancel()
			return err
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	return <-done
}

// HookServer starts a server that hands every request to the handler last
// given to set and answers 503 — which the networks retry — until there is
// one: the conformance suite builds the webhook source after its upstream
// has started pushing. It is closed when t ends, after the cleanups
// registered later (a pusher) have run.
func HookServer(t T) (url string, set func(http.Handler)) {
	var current atomic.Pointer[http.Handler]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := current.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func(h http.Handler) { current.Store(&h) }
}
