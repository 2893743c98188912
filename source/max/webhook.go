package max

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/httpapi"
)

// SecretHeader is the header MAX sends the subscription's secret in.
const SecretHeader = "X-Max-Bot-Api-Secret"

// maxUpdateBytes caps one webhook body; a single update is a few KB.
const maxUpdateBytes = 1 << 20

// Webhook receives updates MAX POSTs to the URL registered with Subscribe.
// It is an http.Handler and a source.Source: it accepts updates while Run is
// active and answers 503 otherwise, which MAX retries. It answers 200 "ok"
// only after the sink (or edit sink) accepted the update. Requests without
// the right secret get 401. The sink is called concurrently, once per
// request in flight.
type Webhook struct {
	b      *bot
	secret []byte

	gate source.PushGate
}

var (
	_ source.Source  = (*Webhook)(nil)
	_ source.Replier = (*Webhook)(nil)
	_ http.Handler   = (*Webhook)(nil)
)

// NewWebhook returns a webhook handler that requires secret (5–256
// characters A–Z, a–z, 0–9, _ and -, as MAX allows) in every request.
// Checkpoint settings of cfg are not used: MAX keeps what was not
// acknowledged.
func NewWebhook(cfg Config, secret string) (*Webhook, error) {
	if err := httpapi.CheckSecret(secret, 5, "max: webhook secret"); err != nil {
		return nil, err
	}
	b, err := newBot(cfg)
	if err != nil {
		return nil, err
	}
	return &Webhook{b: b, secret: []byte(secret)}, nil
}

// Subscribe registers url (https) with MAX for this bot (POST
// /subscriptions), with the secret and the update types the Webhook
// handles.
func (h *Webhook) Subscribe(ctx context.Context, url string) error {
	var res simpleResult
	err := h.b.call(ctx, http.MethodPost, "/subscriptions", nil,
		subscriptionRequest{URL: url, Secret: string(h.secret), UpdateTypes: UpdateTypes}, &res)
	if err != nil {
		return err
	}
	if !res.Success {
		return fmt.Errorf("max: POST /subscriptions: refused: %s", res.Message)
	}
	return nil
}

// Reply implements source.Replier: see the package documentation.
func (h *Webhook) Reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	return h.b.reply(ctx, to, text)
}

// Run attaches sink and accepts updates until ctx is cancelled; then it
// stops accepting, waits for requests in flight and returns nil.
func (h *Webhook) Run(ctx context.Context, sink source.Sink) error {
	if sink == nil {
		return errors.New("max: Run with a nil sink")
	}
	return h.gate.Run(ctx, sink)
}

// ServeHTTP implements http.Handler.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, msg := h.serve(r)
	h.b.log.LogAttrs(r.Context(), httpapi.AnswerLevel(status), "max: webhook request", slog.Int("status", status), slog.String("result", msg))
	httpapi.WriteText(w, status, msg)
}

func (h *Webhook) serve(r *http.Request) (int, string) {
	body, status, msg, ok := httpapi.ReadSecretPush(r, SecretHeader, h.secret, maxUpdateBytes)
	if !ok {
		return status, msg
	}
	u, err := decodeUpdate(body, "webhook update")
	if err != nil {
		// A 4xx other than 429 is not "ok": MAX would retry a poison
		// update for hours. It is logged and acknowledged instead, so it
		// never blocks what comes after it.
		h.b.log.LogAttrs(r.Context(), slog.LevelWarn, "max: skipped an update that cannot be decoded", slog.String("error", err.Error()))
		return http.StatusOK, "ok"
	}
	ctx, sink, end, ok := h.gate.Begin(r.Context())
	if !ok {
		return http.StatusServiceUnavailable, "not running"
	}
	defer end()
	if err := h.b.deliver(ctx, u, "webhook update", sink); err != nil {
		var fe *appeal.FieldError
		if errors.Is(err, source.ErrMalformed) || errors.As(err, &fe) {
			h.b.log.LogAttrs(r.Context(), slog.LevelWarn, "max: skipped a bad update", slog.String("error", err.Error()))
			return http.StatusOK, "ok"
		}
		return http.StatusServiceUnavailable, "not accepted: " + err.Error()
	}
	return http.StatusOK, "ok"
}
