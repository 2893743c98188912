package sourcetest

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"
)

// Push plays the upstream of a webhook source: the network POSTs each body
// to url, in order, and resends it every 10ms until it gets 200 (Telegram,
// MAX and Meta all redeliver until then). prepare, when not nil, sets what
// each request needs (a secret header, a signature over the body). It runs
// in the background until t ends; use it in a Constructor:
//
//	srv := httptest.NewServer(handlerOfTheCurrentSource)
//	sourcetest.Push(t, srv.URL, bodies, func(r *http.Request) { r.Header.Set("X-Secret", "s") })
func Push(t *testing.T, url string, bodies [][]byte, prepare func(*http.Request)) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, body := range bodies {
			for {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					return
				}
				req.Header.Set("Content-Type", "application/json")
				if prepare != nil {
					prepare(req)
				}
				res, err := http.DefaultClient.Do(req)
				if err == nil {
					res.Body.Close()
					if res.StatusCode == http.StatusOK {
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
	}()
	t.Cleanup(func() {
		stop()
		<-done
	})
}
