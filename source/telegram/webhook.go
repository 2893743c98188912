package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/httpapi"
)

// SecretHeader is the header Telegram sends the webhook's secret_token in.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// maxUpdateBytes caps one webhook body; a single update is a few KB.
const maxUpdateBytes = 1 << 20

// Webhook receives updates Telegram POSTs to a URL registered with
// SetWebhook. It is an http.Handler and a source.Source: it accepts updates
// while Run is active and answers 503 otherwise, which Telegram retries.
// It answers 200 only after the sink (or edit sink) accepted the update.
// Requests without the right secret token get 401. The sink is called
// concurrently, once per in-flight request.
type Webhook struct {
	b      *bot
	secret []byte
	gate   source.PushGate
}

var (
	_ source.Source  = (*Webhook)(nil)
	_ source.Replier = (*Webhook)(nil)
	_ http.Handler   = (*Webhook)(nil)
)

// NewWebhook returns a webhook handler that requires secretToken (1–256
// characters A–Z, a–z, 0–9, _ and -, as Telegram allows) in every request.
// Checkpoint settings of cfg are not used: Telegram keeps what was not
// acknowledged.
func NewWebhook(cfg Config, secretToken string) (*Webhook, error) {
	if err := httpapi.CheckSecret(secretToken, 1, "telegram: webhook secret token"); err != nil {
		return nil, err
	}
	b, err := newBot(cfg)
	if err != nil {
		return nil, err
	}
	return &Webhook{b: b, secret: []byte(secretToken)}, nil
}

// SetWebhook registers url with Telegram for this bot, with the secret
// token and the update types the Webhook handles.
func (h *Webhook) SetWebhook(ctx context.Context, url string) error {
	return h.b.c.call(ctx, "setWebhook", map[string]any{
		"url": url, "secret_token": string(h.secret), "allowed_updates": allowedUpdates,
	}, nil)
}

// Reply implements source.Replier: see the package documentation.
func (h *Webhook) Reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	return h.b.reply(ctx, to, text)
}

// Run checks the token with getMe, attaches sink and accepts updates until
// ctx is cancelled; then it stops accepting, waits for requests in flight
// and returns nil. It returns an error matching source.ErrAuth at once when
// the token is refused; when the Bot API cannot be reached it goes on
// (the webhook needs no outgoing call to work).
func (h *Webhook) Run(ctx context.Context, sink source.Sink) error {
	if h.gate.Running() {
		return source.ErrAlreadyRunning
	}
	if sink == nil {
		return errors.New("telegram: Run with a nil sink")
	}
	// A refused token stops Run at once; a Bot API that cannot be reached
	// must not keep the webhook from accepting what Telegram pushes, so
	// after a few attempts it goes on with the bot's numeric id as the
	// community of private messages.
	backoff := h.b.cfg.Backoff
	backoff.MaxAttempts = 3
	if err := h.b.hello(ctx, backoff); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		if !source.Retryable(err) {
			return err
		}
		h.b.log.LogAttrs(ctx, slog.LevelWarn, "telegram: getMe failed; accepting updates anyway", slog.String("error", err.Error()))
		if h.b.cfg.Community == (appeal.Community{}) {
			h.b.mapper.setBot(appeal.Community{ID: h.b.botID})
		}
	}
	return h.gate.Run(ctx, sink)
}

// ServeHTTP implements http.Handler.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, msg := h.serve(r)
	h.b.log.LogAttrs(r.Context(), httpapi.AnswerLevel(status), "telegram: webhook request", slog.Int("status", status), slog.String("result", msg))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"result": msg})
	_, _ = w.Write(b)
}

func (h *Webhook) serve(r *http.Request) (int, string) {
	body, status, msg, ok := httpapi.ReadSecretPush(r, SecretHeader, h.secret, maxUpdateBytes)
	if !ok {
		return status, msg
	}
	u, err := decodeUpdate(body)
	if err != nil {
		return http.StatusBadRequest, err.Error()
	}

	ctx, sink, end, ok := h.gate.Begin(r.Context())
	if !ok {
		return http.StatusServiceUnavailable, "not running"
	}
	defer end()
	if err := h.b.deliver(ctx, u, sink); err != nil {
		var fe *appeal.FieldError
		if errors.As(err, &fe) {
			return http.StatusBadRequest, err.Error()
		}
		return http.StatusServiceUnavailable, "not accepted: " + err.Error()
	}
	return http.StatusOK, "ok"
}
