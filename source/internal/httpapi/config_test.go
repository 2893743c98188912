package httpapi

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLongPollDefaults(t *testing.T) {
	var (
		timeout time.Duration
		limit   int
		client  *http.Client
	)
	p := LongPoll{Timeout: &timeout, Limit: &limit, Client: &client, MaxTimeout: 90 * time.Second, MaxLimit: 1000}
	require.NoError(t, p.Defaults("x"))
	assert.Equal(t, 30*time.Second, timeout)
	assert.Equal(t, 100, limit)
	assert.Equal(t, 45*time.Second, client.Timeout)

	timeout = 91 * time.Second
	assert.EqualError(t, p.Defaults("x"), "x: Config.PollTimeout 1m31s is outside 0..90s")
	timeout, limit = time.Second, 1001
	assert.EqualError(t, p.Defaults("x"), "x: Config.Limit 1001 is outside 1..1000")

	assert.Equal(t, "https://a.example/api", BaseURL("https://a.example/api//", "https://def"))
	assert.Equal(t, "https://def", BaseURL("", "https://def/"))
}
