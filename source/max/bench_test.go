package max

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// BenchmarkPoll measures the whole intake path of the long-polling Source:
// /updates pages of 100 over HTTP, decoding, mapping, Normalize, the sink,
// and the marker saved after each page — 1000 channel comments a run.
func BenchmarkPoll(b *testing.B) {
	const n = 1000
	var ups []json.RawMessage
	for i := range n {
		raw, _ := json.Marshal(map[string]any{"update_type": "comment_created", "timestamp": 1767258000000 + i, "message": map[string]any{
			"sender":    map[string]any{"user_id": 5000 + i%50, "first_name": "Житель", "is_bot": false},
			"recipient": map[string]any{"chat_type": "channel", "chat_id": -70801090403050, "post_id": fmt.Sprintf("mid.post-%d", i/40)},
			"timestamp": 1767258000000 + i,
			"body":      map[string]any{"mid": fmt.Sprintf("mid.c-%d", i), "seq": i, "text": "Когда починят освещение на улице Садовой у дома 12? Темно уже неделю"},
		}})
		ups = append(ups, raw)
	}
	f := newFakeAPI(b, ups)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		cfg := testConfig(f, source.NewMemoryCheckpoints())
		s, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var got atomic.Int64
		done := make(chan error, 1)
		go func() {
			done <- s.Run(ctx, func(context.Context, appeal.Appeal) error {
				if got.Add(1) == n {
					cancel()
				}
				return nil
			})
		}()
		select {
		case err := <-done:
			if err != nil {
				b.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			b.Fatal("timeout")
		}
		cancel()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/appeal")
}
