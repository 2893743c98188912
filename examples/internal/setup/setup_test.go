package setup

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlags(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	rules, every := RulesFlags(fs)
	gaz := GazetteerFlag(fs)
	require.NoError(t, fs.Parse(nil))
	assert.Empty(t, *rules)
	assert.Equal(t, 2*time.Second, *every)
	assert.Empty(t, *gaz)
	require.NoError(t, fs.Parse([]string{"-rules", "r.yaml", "-rules-every", "5s", "-gazetteer", "g.csv"}))
	assert.Equal(t, "r.yaml", *rules)
	assert.Equal(t, 5*time.Second, *every)
	assert.Equal(t, "g.csv", *gaz)
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	Logger(&buf, slog.LevelWarn, false).Info("quiet")
	assert.Empty(t, buf.String())
	Logger(&buf, slog.LevelWarn, true).Debug("loud")
	assert.Contains(t, buf.String(), "msg=loud")
}
