package answer

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// Headers of the portal callback.
const (
	// PortalSignatureHeader carries "sha256=" and the hex HMAC-SHA256, keyed
	// with the shared secret, of the timestamp, a dot and the body.
	PortalSignatureHeader = "X-Appealkit-Signature"
	// PortalTimestampHeader carries the Unix time of the call, so that a
	// recorded call cannot be replayed later.
	PortalTimestampHeader = "X-Appealkit-Timestamp"
	// PortalKeyHeader carries the answer's idempotency key: a portal that
	// sees a key again must not publish the answer twice.
	PortalKeyHeader = "Idempotency-Key"
)

// ErrBadSignature is returned by VerifyPortalCallback for a call that is
// not signed with the secret, or signed too long ago.
var ErrBadSignature = errors.New("answer: portal callback signature is invalid or stale")

// PortalConfig configures a PortalReplier.
type PortalConfig struct {
	// URL receives the answers (POST, JSON). Required.
	URL string
	// Secret signs every call. Required; share it with the portal only.
	Secret []byte
	// Client is the HTTP client; nil means one with a 30 s timeout.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// PortalReplier publishes answers to a web portal (the region's appeal
// form, a ПОС-like system) by a signed HTTP callback. It is a
// source.Replier; use it as the Channel of appeals from the web.
type PortalReplier struct {
	cfg PortalConfig
}

// PortalAnswer is the JSON body of the callback.
type PortalAnswer struct {
	AppealID   appeal.ID `json:"appeal_id"`
	ExternalID string    `json:"external_id"`
	Text       string    `json:"text"`
	Key        string    `json:"idempotency_key,omitempty"`
	At         time.Time `json:"answered_at"`
}

// NewPortalReplier returns a PortalReplier.
func NewPortalReplier(cfg PortalConfig) (*PortalReplier, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("answer: PortalConfig.URL %q is not an http(s) URL", cfg.URL)
	}
	if len(cfg.Secret) == 0 {
		return nil, errors.New("answer: PortalConfig.Secret is empty")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &PortalReplier{cfg: cfg}, nil
}

// Reply posts the answer. A 2xx response is success and may carry {"id":
// ..., "url": ...}; 408, 429 and 5xx are temporary (source.ErrTemporary);
// other 4xx are permanent (ErrPermanent).
func (p *PortalReplier) Reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	now := p.cfg.Now()
	body, err := json.Marshal(PortalAnswer{AppealID: to.ID, ExternalID: to.ExternalID, Text: text, Key: source.ReplyKey(ctx), At: now.UTC()})
	if err != nil {
		return appeal.Reply{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return appeal.Reply{}, err
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set(PortalTimestampHeader, ts)
	req.Header.Set(PortalSignatureHeader, "sha256="+sign(p.cfg.Secret, ts, body))
	if k := source.ReplyKey(ctx); k != "" {
		req.Header.Set(PortalKeyHeader, k)
	}
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		return appeal.Reply{}, fmt.Errorf("answer: portal: %w: %v", source.ErrTemporary, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		return appeal.Reply{}, fmt.Errorf("answer: portal: %w: HTTP %d", source.ErrTemporary, c)
	default:
		return appeal.Reply{}, Permanent(fmt.Errorf("answer: portal refused the answer: HTTP %d: %s", c, strings.TrimSpace(string(rb))))
	}
	var ack struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	_ = json.Unmarshal(rb, &ack) // an empty or non-JSON 2xx body is fine
	return appeal.Reply{ExternalID: ack.ID, URL: ack.URL, Text: text, At: now}, nil
}

func sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyPortalCallback checks a callback on the portal's side: the
// signature over the timestamp and body, and a timestamp within maxAge of
// now. It returns an error matching ErrBadSignature when either fails.
func VerifyPortalCallback(secret []byte, h http.Header, body []byte, now time.Time, maxAge time.Duration) error {
	ts := h.Get(PortalTimestampHeader)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q", ErrBadSignature, PortalTimestampHeader, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxAge || d < -maxAge {
		return fmt.Errorf("%w: timestamp is %s off", ErrBadSignature, d.Round(time.Second))
	}
	got, ok := strings.CutPrefix(h.Get(PortalSignatureHeader), "sha256=")
	want := sign(secret, ts, body)
	if !ok || !hmac.Equal([]byte(got), []byte(want)) {
		return fmt.Errorf("%w: signature does not match", ErrBadSignature)
	}
	return nil
}
