package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/appealkit/appealkit/source"
)

// The polling side: the frame every polling Run of these adapters has in
// common — one Run at a time, retries that say what failed, the checkpoint
// loaded at the start and saved after the sink accepted. What the cursor is
// (an update offset, a marker, a page cursor, a JSON state) and when it may
// move stay in each adapter: they are the networks' own semantics.

// SaveGrace bounds a checkpoint save made after Run's context has ended.
const SaveGrace = 5 * time.Second

// StartRun begins a Run: it refuses a second concurrent one (guard, with
// source.ErrAlreadyRunning) and a nil sink ("<network>: Run with a nil
// sink"). Call release when Run returns.
func StartRun(guard *source.RunGuard, sink source.Sink, network string) (release func(), err error) {
	release, err = guard.Enter()
	if err != nil {
		return nil, err
	}
	if sink == nil {
		release()
		return nil, errors.New(network + ": Run with a nil sink")
	}
	return release, nil
}

// NilOnCancel sets *err to nil when ctx has ended and *err is ctx's error:
// a Run stopped by its context returns nil. Defer it in a Run with a named
// error result.
func NilOnCancel(ctx context.Context, err *error) {
	if ctx.Err() != nil && errors.Is(*err, ctx.Err()) {
		*err = nil
	}
}

// RetryLogged is source.Retry that logs every failure it is going to retry
// at Warn level, as msg with attrs and the error.
func RetryLogged(ctx context.Context, log *slog.Logger, b source.Backoff, msg string, op func(ctx context.Context) error, attrs ...slog.Attr) error {
	return source.Retry(ctx, b, func(ctx context.Context) error {
		err := op(ctx)
		if source.Retryable(err) {
			log.LogAttrs(ctx, slog.LevelWarn, msg, append(attrs[:len(attrs):len(attrs)], slog.String("error", err.Error()))...)
		}
		return err
	})
}

// LoadCheckpoint returns the cursor saved under key in cp: "" when cp is
// nil or holds none. A failure reads "<network>: load checkpoint <key>: …"
// and wraps cp's error.
func LoadCheckpoint(ctx context.Context, cp source.Checkpoints, network, key string) (string, error) {
	if cp == nil {
		return "", nil
	}
	cur, err := cp.Load(ctx, key)
	if err != nil {
		return "", fmt.Errorf("%s: load checkpoint %q: %w", network, key, err)
	}
	return cur, nil
}

// SaveCheckpoint saves cursor under key in cp (nothing when cp is nil).
// When ctx has ended already — Run is stopping — it still saves, within
// SaveGrace: what the sink accepted must not be delivered again after a
// restart. A failure reads "<network>: save checkpoint <key>: …" and wraps
// cp's error.
func SaveCheckpoint(ctx context.Context, cp source.Checkpoints, network, key, cursor string) error {
	if cp == nil {
		return nil
	}
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), SaveGrace)
		defer cancel()
	}
	if err := cp.Save(ctx, key, cursor); err != nil {
		return fmt.Errorf("%s: save checkpoint %q: %w", network, key, err)
	}
	return nil
}
