package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/appealkit/appealkit/appeal"
)

func BenchmarkServeBatch100(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[")
	for i := range 100 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"external_id":"%d","text":"Во дворе дома %d по ул. Ленина не горят фонари","author":{"id":"u%d"},"created_at":"2026-03-01T09:30:00+03:00"}`, i, i, i)
	}
	sb.WriteString("]")
	body := sb.String()
	s, _ := New(Config{Secret: []byte("k"), Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx, func(context.Context, appeal.Appeal) error { return nil })
	waitRunning(b, s)
	sig := Sign([]byte("k"), []byte(body))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set(DefaultSignatureHeader, sig)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 202 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "appeals/s")
}
