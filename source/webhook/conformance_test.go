package webhook_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/sourcetest"
	"github.com/appealkit/appealkit/source/webhook"
)

// The webhook's upstream is a sender — a portal that POSTs each appeal and,
// like any well-behaved sender, resends it until it gets 202. The intake
// keeps no cursor (the sender's retry queue is its checkpoint), so the
// checkpoint checks do not apply; bad bodies are refused with 400 to the
// sender rather than stopping Run, so the malformed check does not either
// (TestValidationErrors and FuzzDecodeBody cover them).
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Features{Quiet: 200 * time.Millisecond},
		func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
			var current atomic.Pointer[webhook.Source]
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if s := current.Load(); s != nil {
					s.ServeHTTP(w, r)
					return
				}
				http.Error(w, "no intake yet", http.StatusServiceUnavailable)
			}))
			ctx, stop := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				send(ctx, srv.URL, up)
			}()
			t.Cleanup(func() {
				stop()
				<-done
				srv.Close()
			})
			return func(source.Checkpoints) source.Source {
				s, err := webhook.New(webhook.Config{Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				current.Store(s)
				return s
			}
		})
}

// send posts every item until it is accepted, in order, retrying each
// every 10ms.
func send(ctx context.Context, url string, up sourcetest.Upstream) {
	for i, it := range up.Items {
		body := fmt.Sprintf(`{"external_id":"item-%d","text":"Обращение с портала: %s"}`, i+1, it.Text)
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusAccepted {
					break
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}
