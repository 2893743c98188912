package ok

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/source/internal/adaptertest"
)

// Logs at the most verbose level, through a retry and every delivery,
// carry neither the token nor the secret key nor the authors' names.
func TestLogsKeepCredentialsAndAuthorsOut(t *testing.T) {
	f := newFakeOK(t)
	f.seed(t)
	f.push("mediatopic.getTopics", fixture(t, "error_2.json"))
	var logs bytes.Buffer
	cfg := testConfig(f, nil)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(cfg)
	require.NoError(t, err)
	rec := &adaptertest.Sink{}
	require.NoError(t, runUntil(t, s, rec.Sink, func() bool { return len(rec.Appeals()) >= 4 }))
	out := logs.String()
	require.Contains(t, out, "ok: delivered")
	for _, secret := range []string{testToken, testSecret, md5hex(testToken + testSecret), "Сергей", "Иванов", "Карла Маркса"} {
		assert.NotContains(t, out, secret)
	}
}
