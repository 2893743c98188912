package instagram

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/httpapi"
)

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body,
// keyed with the app secret.
const SignatureHeader = "X-Hub-Signature-256"

const maxNotificationBytes = 1 << 20

// Webhook receives the comments Meta POSTs to the app's callback URL. It is
// an http.Handler and a source.Source: it accepts notifications while Run
// is active and answers 503 otherwise (Meta retries). A GET answers the
// verification handshake. The sink is called concurrently, once per
// request in flight.
type Webhook struct {
	a           *account
	appSecret   []byte
	verifyToken []byte

	gate source.PushGate
}

var (
	_ source.Source  = (*Webhook)(nil)
	_ source.Replier = (*Webhook)(nil)
	_ http.Handler   = (*Webhook)(nil)
)

// NewWebhook returns the handler for the app's Instagram webhook.
// appSecret is the app secret (it keys X-Hub-Signature-256); verifyToken is
// the string typed in the App Dashboard for the handshake. Both are
// required. Polling settings of cfg are not used.
func NewWebhook(cfg Config, appSecret, verifyToken string) (*Webhook, error) {
	if appSecret == "" {
		return nil, errors.New("instagram: webhook app secret is empty (an unsigned webhook would let anyone post appeals)")
	}
	if verifyToken == "" {
		return nil, errors.New("instagram: webhook verify token is empty")
	}
	a, err := newAccount(cfg)
	if err != nil {
		return nil, err
	}
	a.c.http.Secrets = append(a.c.http.Secrets, appSecret)
	return &Webhook{a: a, appSecret: []byte(appSecret), verifyToken: []byte(verifyToken)}, nil
}

// Reply implements source.Replier: see the package documentation.
func (h *Webhook) Reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	return h.a.reply(ctx, to, text)
}

// Run attaches sink and accepts notifications until ctx is cancelled; then
// it stops accepting, waits for requests in flight and returns nil.
func (h *Webhook) Run(ctx context.Context, sink source.Sink) error {
	if sink == nil {
		return errors.New("instagram: Run with a nil sink")
	}
	return h.gate.Run(ctx, sink)
}

// ServeHTTP implements http.Handler.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, msg := h.serve(r)
	h.a.log.LogAttrs(r.Context(), httpapi.AnswerLevel(status), "instagram: webhook request", slog.String("method", r.Method), slog.Int("status", status))
	httpapi.WriteText(w, status, msg)
}

func (h *Webhook) serve(r *http.Request) (int, string) {
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		if q.Get("hub.mode") != "subscribe" {
			return http.StatusBadRequest, "hub.mode is not subscribe"
		}
		if subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), h.verifyToken) != 1 {
			return http.StatusForbidden, "wrong hub.verify_token"
		}
		return http.StatusOK, q.Get("hub.challenge")
	case http.MethodPost:
	default:
		return http.StatusMethodNotAllowed, "use GET or POST"
	}
	body, status, msg, ok := httpapi.ReadBody(r, maxNotificationBytes)
	if !ok {
		return status, msg
	}
	if !h.signed(r.Header.Get(SignatureHeader), body) {
		return http.StatusUnauthorized, "missing or wrong " + SignatureHeader
	}
	comments, err := decodeNotification(body)
	if err != nil {
		// A signed notification Meta cannot fix by resending: logged and
		// acknowledged, so it does not come back for hours.
		h.a.log.LogAttrs(r.Context(), slog.LevelWarn, "instagram: skipped a notification that cannot be decoded", slog.String("error", err.Error()))
		return http.StatusOK, "ok"
	}
	ctx, sink, end, ok := h.gate.Begin(r.Context())
	if !ok {
		return http.StatusServiceUnavailable, "not running"
	}
	defer end()
	for _, c := range comments {
		if err := h.a.deliver(ctx, c, sink); err != nil {
			if errors.Is(err, source.ErrMalformed) {
				h.a.log.LogAttrs(r.Context(), slog.LevelWarn, "instagram: skipped a bad comment", slog.String("error", err.Error()))
				continue // the others in the notification still count
			}
			return http.StatusServiceUnavailable, "not accepted: " + err.Error()
		}
	}
	return http.StatusOK, "ok"
}

// signed checks "sha256=<hex>" against the HMAC of body in constant time.
func (h *Webhook) signed(header string, body []byte) bool {
	sig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, Sign(h.appSecret, body))
}

// Sign returns the HMAC-SHA256 of body keyed with appSecret, the value of
// X-Hub-Signature-256 after "sha256=" (hex-encoded).
func Sign(appSecret, body []byte) []byte {
	m := hmac.New(sha256.New, appSecret)
	m.Write(body)
	return m.Sum(nil)
}

// decodeNotification returns the comments of a notification; other fields
// (mentions, story insights, messages) are ignored.
func decodeNotification(body []byte) ([]comment, error) {
	var p hookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("instagram: notification: %w: %s", source.ErrMalformed, httpapi.DescribeJSON(err))
	}
	if p.Object != "instagram" {
		return nil, fmt.Errorf("instagram: notification: %w: object is %q, not instagram", source.ErrMalformed, p.Object)
	}
	var out []comment
	for i, e := range p.Entry {
		changes := e.Changes
		if e.Field != "" {
			changes = append(changes, hookChange{Field: e.Field, Value: e.Value})
		}
		for j, ch := range changes {
			if ch.Field != "comments" && ch.Field != "live_comments" {
				continue
			}
			var v hookComment
			if err := json.Unmarshal(ch.Value, &v); err != nil {
				return nil, fmt.Errorf("instagram: notification entry[%d].changes[%d]: %w: %s", i, j, source.ErrMalformed, httpapi.DescribeJSON(err))
			}
			c := comment{id: v.ID, text: v.Text, parentID: v.ParentID, mediaID: v.Media.ID, from: v.From}
			switch {
			case e.Time > 1e12: // milliseconds in some Instagram Login payloads
				c.created = time.UnixMilli(e.Time).UTC()
			case e.Time > 0:
				c.created = time.Unix(e.Time, 0).UTC()
			}
			out = append(out, c)
		}
	}
	return out, nil
}
