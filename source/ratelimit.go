package source

import (
	"context"

	"golang.org/x/time/rate"
)

// NewLimiter returns a limiter that lets through at most perSecond calls per
// second, evenly spaced (burst 1), so that no one-second window ever holds
// more than perSecond calls — what VK, OK and Telegram count. perSecond <= 0
// means unlimited.
//
// Share one limiter between everything that spends the same quota (one
// token, one bot); it is safe for concurrent use.
func NewLimiter(perSecond float64) *rate.Limiter {
	if perSecond <= 0 {
		return rate.NewLimiter(rate.Inf, 1)
	}
	return rate.NewLimiter(rate.Limit(perSecond), 1)
}

// Wait blocks until lim lets one call through or ctx is done. A nil lim does
// not limit.
func Wait(ctx context.Context, lim *rate.Limiter) error {
	if lim == nil {
		return ctx.Err()
	}
	return lim.Wait(ctx)
}
