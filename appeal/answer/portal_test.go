package answer_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
	"github.com/appealkit/appealkit/source"
)

// portal is a stand-in portal that verifies signatures and deduplicates by
// idempotency key.
type portal struct {
	mu     sync.Mutex
	secret []byte
	got    map[string]answer.PortalAnswer
	status int
}

func (p *portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := answer.VerifyPortalCallback(p.secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status != 0 {
		w.WriteHeader(p.status)
		return
	}
	var a answer.PortalAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.got[r.Header.Get(answer.PortalKeyHeader)] = a
	_ = json.NewEncoder(w).Encode(map[string]string{"id": "ans-" + a.ExternalID, "url": "https://portal.example/a/" + a.ExternalID})
}

func TestPortalReplier(t *testing.T) {
	p := &portal{secret: []byte("s3cret"), got: map[string]answer.PortalAnswer{}}
	srv := httptest.NewServer(p)
	defer srv.Close()
	r, err := answer.NewPortalReplier(answer.PortalConfig{URL: srv.URL, Secret: p.secret, Client: srv.Client()})
	require.NoError(t, err)
	a := appeal.Appeal{ID: "web:form-1", Network: appeal.NetworkWeb, ExternalID: "form-1"}
	ctx := source.WithReplyKey(context.Background(), "k1")
	rep, err := r.Reply(ctx, a, "Яму заделали 25 ноября.")
	require.NoError(t, err)
	assert.Equal(t, "ans-form-1", rep.ExternalID)
	assert.Equal(t, "https://portal.example/a/form-1", rep.URL)
	require.Contains(t, p.got, "k1")
	assert.Equal(t, "Яму заделали 25 ноября.", p.got["k1"].Text)

	// A wrong secret is refused by the portal: permanent.
	bad, err := answer.NewPortalReplier(answer.PortalConfig{URL: srv.URL, Secret: []byte("other"), Client: srv.Client()})
	require.NoError(t, err)
	_, err = bad.Reply(ctx, a, "x")
	require.ErrorIs(t, err, answer.ErrPermanent)
	// A 503 is temporary.
	p.status = http.StatusServiceUnavailable
	_, err = r.Reply(ctx, a, "x")
	require.ErrorIs(t, err, source.ErrTemporary)

	_, err = answer.NewPortalReplier(answer.PortalConfig{URL: "ftp://x", Secret: p.secret})
	require.Error(t, err)
	_, err = answer.NewPortalReplier(answer.PortalConfig{URL: srv.URL})
	require.Error(t, err)
}

func TestVerifyPortalCallback(t *testing.T) {
	var h http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h = r.Header.Clone() }))
	defer srv.Close()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	r, err := answer.NewPortalReplier(answer.PortalConfig{URL: srv.URL, Secret: []byte("k"), Client: srv.Client(), Now: func() time.Time { return now }})
	require.NoError(t, err)
	_, err = r.Reply(context.Background(), appeal.Appeal{ID: "web:1", ExternalID: "1"}, "текст")
	require.NoError(t, err)
	body, _ := json.Marshal(answer.PortalAnswer{AppealID: "web:1", ExternalID: "1", Text: "текст", At: now})
	require.NoError(t, answer.VerifyPortalCallback([]byte("k"), h, body, now.Add(time.Minute), 5*time.Minute))
	assert.ErrorIs(t, answer.VerifyPortalCallback([]byte("k"), h, body, now.Add(time.Hour), 5*time.Minute), answer.ErrBadSignature, "stale")
	assert.ErrorIs(t, answer.VerifyPortalCallback([]byte("k"), h, append(body, ' '), now, 5*time.Minute), answer.ErrBadSignature, "body changed")
	assert.ErrorIs(t, answer.VerifyPortalCallback([]byte("x"), h, body, now, 5*time.Minute), answer.ErrBadSignature, "other secret")
}
