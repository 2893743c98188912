package source_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

func TestPushGate(t *testing.T) {
	var g source.PushGate
	if _, _, _, ok := g.Begin(context.Background()); ok {
		t.Fatal("Begin without a Run: want ok false")
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan appeal.Appeal, 1)
	done := make(chan error, 1)
	go func() {
		done <- g.Run(ctx, func(_ context.Context, a appeal.Appeal) error { got <- a; return nil })
	}()
	deadline := time.Now().Add(2 * time.Second)
	for !g.Running() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := g.Run(ctx, nil); !errors.Is(err, source.ErrAlreadyRunning) {
		t.Fatalf("second Run = %v; want ErrAlreadyRunning", err)
	}
	rctx, sink, end, ok := g.Begin(context.Background())
	if !ok {
		t.Fatal("Begin during Run: want ok")
	}
	if err := sink(rctx, appeal.Appeal{ExternalID: "1"}); err != nil {
		t.Fatal(err)
	}
	<-got
	cancel()
	select {
	case <-rctx.Done(): // Run's end cancels the request's context
	case <-time.After(2 * time.Second):
		t.Fatal("request context not cancelled when Run's ctx ended")
	}
	select {
	case <-done:
		t.Fatal("Run returned while a request was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	end()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok := g.Begin(context.Background()); ok {
		t.Fatal("Begin after Run returned: want ok false")
	}
}
