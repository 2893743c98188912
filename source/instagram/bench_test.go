package instagram

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// BenchmarkWebhookNotification measures one signed notification of 10
// comments through ServeHTTP: signature check, decoding, mapping, the sink.
func BenchmarkWebhookNotification(b *testing.B) {
	f := newFakeGraph(b)
	h, err := NewWebhook(testConfig(f, nil), testSecret, testVerify)
	if err != nil {
		b.Fatal(err)
	}
	var changes []any
	for i := range 10 {
		changes = append(changes, map[string]any{"field": "comments", "value": map[string]any{
			"from": map[string]string{"id": "2100" + strconv.Itoa(i), "username": "resident"}, "media": map[string]string{"id": testMedia},
			"id": "179200000000000" + strconv.Itoa(i), "text": "Когда отремонтируют дорогу на улице Ленина у дома 5?"}})
	}
	body, _ := json.Marshal(map[string]any{"object": "instagram", "entry": []any{map[string]any{"id": testAccount, "time": 1767258000, "changes": changes}}})
	sig := "sha256=" + hex.EncodeToString(Sign([]byte(testSecret), body))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.Run(ctx, func(context.Context, appeal.Appeal) error { return nil })
	for !h.gate.Running() {
		time.Sleep(time.Millisecond)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest(http.MethodPost, "/ig", bytes.NewReader(body))
		req.Header.Set(SignatureHeader, sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10), "ns/comment")
}
