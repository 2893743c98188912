package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

func TestStartRun(t *testing.T) {
	var g source.RunGuard
	sink := func(context.Context, appeal.Appeal) error { return nil }

	_, err := StartRun(&g, nil, "x")
	require.EqualError(t, err, "x: Run with a nil sink")
	assert.False(t, g.Running(), "a refused Run must not stay marked running")

	release, err := StartRun(&g, sink, "x")
	require.NoError(t, err)
	_, err = StartRun(&g, sink, "x")
	assert.ErrorIs(t, err, source.ErrAlreadyRunning)
	release()
	assert.False(t, g.Running())
}

func TestNilOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	err := fmt.Errorf("wrapped: %w", context.Canceled)
	NilOnCancel(ctx, &err)
	assert.Error(t, err, "ctx still live: the error stays")
	cancel()
	NilOnCancel(ctx, &err)
	assert.NoError(t, err)
	other := errors.New("sink refused")
	NilOnCancel(ctx, &other)
	assert.Error(t, other, "another error stays even after cancel")
}

func TestRetryLoggedLogsRetries(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	calls := 0
	err := RetryLogged(context.Background(), log, source.Backoff{Initial: time.Millisecond, MaxAttempts: 3}, "x: call failed, retrying",
		func(context.Context) error {
			calls++
			return fmt.Errorf("x: %w: down", source.ErrTemporary)
		}, slog.String("method", "m"))
	assert.ErrorIs(t, err, source.ErrTemporary)
	assert.Equal(t, 3, calls)
	assert.Equal(t, 3, bytes.Count(buf.Bytes(), []byte(`msg="x: call failed, retrying" method=m error="x: source: temporary failure: down"`)), buf.String())
}

type failingCheckpoints struct{ source.Checkpoints }

func (failingCheckpoints) Load(context.Context, string) (string, error) {
	return "", errors.New("disk gone")
}
func (failingCheckpoints) Save(context.Context, string, string) error { return errors.New("disk gone") }

func TestCheckpointHelpers(t *testing.T) {
	ctx := context.Background()
	cur, err := LoadCheckpoint(ctx, nil, "x", "k")
	require.NoError(t, err)
	assert.Empty(t, cur)
	require.NoError(t, SaveCheckpoint(ctx, nil, "x", "k", "1"))

	cp := source.NewMemoryCheckpoints()
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	require.NoError(t, SaveCheckpoint(stopped, cp, "x", "k", "42"), "a stopping Run still saves what was accepted")
	cur, err = LoadCheckpoint(ctx, cp, "x", "k")
	require.NoError(t, err)
	assert.Equal(t, "42", cur)

	_, err = LoadCheckpoint(ctx, failingCheckpoints{}, "x", "k")
	assert.EqualError(t, err, `x: load checkpoint "k": disk gone`)
	assert.EqualError(t, SaveCheckpoint(ctx, failingCheckpoints{}, "x", "k", "1"), `x: save checkpoint "k": disk gone`)
}
