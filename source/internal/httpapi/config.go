package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// BaseURL returns u without trailing slashes, or def when u is empty.
func BaseURL(u, def string) string {
	if u == "" {
		u = def
	}
	return strings.TrimRight(u, "/")
}

// LongPoll is the long-polling part of a bot adapter's Config (MAX's
// /updates, Telegram's getUpdates), with the network's limits.
type LongPoll struct {
	Timeout *time.Duration // Config.PollTimeout: default 30s, 0..MaxTimeout
	Limit   *int           // Config.Limit: default 100, 1..MaxLimit
	// Client is Config.HTTPClient: by default a client whose timeout is
	// 15s over the poll timeout, so that a long poll is never cut short.
	Client **http.Client

	MaxTimeout time.Duration // whole seconds
	MaxLimit   int
}

// Defaults fills the unset settings and checks them against the limits;
// errors read "<network>: Config.PollTimeout 2m0s is outside 0..90s".
func (p LongPoll) Defaults(network string) error {
	if *p.Timeout == 0 {
		*p.Timeout = 30 * time.Second
	}
	if *p.Timeout < 0 || *p.Timeout > p.MaxTimeout {
		return fmt.Errorf("%s: Config.PollTimeout %v is outside 0..%ds", network, *p.Timeout, int(p.MaxTimeout/time.Second))
	}
	if *p.Limit == 0 {
		*p.Limit = 100
	}
	if *p.Limit < 1 || *p.Limit > p.MaxLimit {
		return fmt.Errorf("%s: Config.Limit %d is outside 1..%d", network, *p.Limit, p.MaxLimit)
	}
	if *p.Client == nil {
		*p.Client = &http.Client{Timeout: *p.Timeout + 15*time.Second}
	}
	return nil
}
