package telegram

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// With the network down, Run logs each failed getMe and gives up after
// StartTimeout with an error naming what failed, instead of retrying
// forever.
func TestGetMeGivesUpWhenTheBotAPIIsUnreachable(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close() // connection refused from now on

	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client leave
		select {                           // accepts, never answers
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(stop) }) // runs first

	for name, url := range map[string]string{"refused": downURL, "no answer": hang.URL} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			s, err := New(Config{
				Token: testToken, BaseURL: url, StartTimeout: 300 * time.Millisecond,
				Backoff: source.Backoff{Initial: 20 * time.Millisecond, Max: 50 * time.Millisecond},
				Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
			})
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			err = s.Run(ctx, func(context.Context, appeal.Appeal) error { return nil })
			took := time.Since(start)

			require.Error(t, err, "Run must give up, not wait for ctx")
			assert.Less(t, took, 3*time.Second)
			assert.ErrorIs(t, err, source.ErrTemporary, "a supervisor may try again later")
			assert.Contains(t, err.Error(), "getMe")
			assert.Contains(t, err.Error(), "gave up after 300ms")
			assert.Contains(t, err.Error(), url)
			assert.NotContains(t, err.Error(), testToken)
			assert.NotContains(t, logs.String(), testToken)
			assert.Contains(t, logs.String(), "start failed")
			if name == "refused" {
				assert.Contains(t, logs.String(), "getMe failed, retrying")
			}
		})
	}
}

// A refused token still fails at once, without waiting for StartTimeout.
func TestGetMeRefusedTokenFailsAtOnce(t *testing.T) {
	f := newFakeAPI(t, nil)
	f.push("getMe", 401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
	cfg := testConfig(f, nil)
	cfg.StartTimeout = time.Minute
	s, err := New(cfg)
	require.NoError(t, err)
	start := time.Now()
	err = s.Run(context.Background(), func(context.Context, appeal.Appeal) error { return nil })
	assert.ErrorIs(t, err, source.ErrAuth)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestStartTimeoutValidated(t *testing.T) {
	_, err := New(Config{Token: testToken, StartTimeout: -time.Second})
	assert.ErrorContains(t, err, "StartTimeout")
}
