package source

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors that carry behaviour; match them with errors.Is.
var (
	// ErrAuth: the token or credentials were refused. Retrying will not
	// help; stop and tell the operator the token is bad.
	ErrAuth = errors.New("source: authorization failed")
	// ErrTemporary: a passing fault (network, 5xx, an upstream "internal
	// error"); retry with backoff.
	ErrTemporary = errors.New("source: temporary failure")
	// ErrRateLimited matches every *RateLimitError.
	ErrRateLimited = errors.New("source: rate limited")
	// ErrMalformed: upstream sent something that cannot be decoded. The
	// error names what and where; nothing is delivered from it.
	ErrMalformed = errors.New("source: malformed upstream data")
	// ErrAlreadyRunning: Run was called while another Run of the same
	// Source is active.
	ErrAlreadyRunning = errors.New("source: already running")
	// ErrEndOfInput: a finite source (a file, a replay) has delivered
	// everything.
	ErrEndOfInput = errors.New("source: end of input")
)

// RateLimitError says the upstream asked us to slow down, and for how long
// when it said so (Wait is 0 when it did not). It matches ErrRateLimited.
type RateLimitError struct {
	Wait time.Duration
	Err  error // the upstream error, if any
}

// Error says that the upstream asked to slow down, and for how long.
func (e *RateLimitError) Error() string {
	msg := "source: rate limited"
	if e.Wait > 0 {
		msg += fmt.Sprintf(", retry after %s", e.Wait)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Unwrap returns the upstream error.
func (e *RateLimitError) Unwrap() error { return e.Err }
