package source

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Backoff describes how Retry spaces its attempts: the n-th wait is
// Initial·Multiplier^(n-1), capped at Max, then spread by ±Jitter (a fraction,
// 0.2 = ±20%) so that many sources restarted together do not retry in step.
// The zero value means the defaults of DefaultBackoff.
type Backoff struct {
	Initial    time.Duration // first wait; default 500ms
	Max        time.Duration // longest wait; default 1 minute
	Multiplier float64       // growth per attempt; default 2
	Jitter     float64       // fraction in [0,1]; default 0.2
	// MaxAttempts caps the number of calls (the first included); 0 means
	// retry until ctx is done.
	MaxAttempts int
}

// DefaultBackoff is what the zero Backoff means.
var DefaultBackoff = Backoff{Initial: 500 * time.Millisecond, Max: time.Minute, Multiplier: 2, Jitter: 0.2}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = DefaultBackoff.Initial
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoff.Max
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Multiplier < 1 {
		b.Multiplier = DefaultBackoff.Multiplier
	}
	if b.Jitter < 0 || b.Jitter > 1 {
		b.Jitter = DefaultBackoff.Jitter
	}
	return b
}

// Delay returns the wait before retry number attempt (1 = the first retry),
// with jitter applied.
func (b Backoff) Delay(attempt int) time.Duration {
	b = b.withDefaults()
	d := float64(b.Initial)
	for i := 1; i < attempt && d < float64(b.Max); i++ {
		d *= b.Multiplier
	}
	d = min(d, float64(b.Max))
	if b.Jitter > 0 {
		d *= 1 + b.Jitter*(2*rand.Float64()-1)
	}
	return time.Duration(d)
}

// Retryable reports whether err is worth another attempt: it matches
// ErrTemporary or ErrRateLimited. Everything else (ErrAuth, ErrMalformed, a
// sink's refusal, a cancelled context) is final.
func Retryable(err error) bool {
	return errors.Is(err, ErrTemporary) || errors.Is(err, ErrRateLimited)
}

// Retry calls op until it succeeds, returns an error that is not Retryable,
// runs out of attempts, or ctx is done. Between attempts it waits per b; when
// op returns a *RateLimitError with a Wait hint, it waits at least that long.
// It returns op's last error, or, when ctx ended the waiting, ctx's error
// (which names op's last error in its text but matches only ctx's error, so
// that callers do not mistake a cancelled wait for something to retry).
func Retry(ctx context.Context, b Backoff, op func(ctx context.Context) error) error {
	b = b.withDefaults()
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil || !Retryable(err) {
			return err
		}
		if b.MaxAttempts > 0 && attempt >= b.MaxAttempts {
			return err
		}
		wait := b.Delay(attempt)
		var rl *RateLimitError
		if errors.As(err, &rl) && rl.Wait > wait {
			wait = rl.Wait
		}
		if cerr := Sleep(ctx, wait); cerr != nil {
			return fmt.Errorf("%w (while waiting to retry after: %v)", cerr, err)
		}
	}
}

// Sleep waits for d or until ctx is done, whichever comes first, and returns
// ctx.Err() in the second case. Unlike time.Sleep it never outlives a
// cancelled context.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
