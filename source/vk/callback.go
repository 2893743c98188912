package vk

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/SevereCloud/vksdk/v2/events"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// CallbackConfig configures a CallbackHandler.
type CallbackConfig struct {
	// GroupID is the community's id (positive). Events for other
	// communities are refused. Required.
	GroupID int
	// Official and Name describe the community in the appeals.
	Official bool
	Name     string
	// Confirmation is the string VK shows in the community's Callback API
	// settings; the handler answers VK's "confirmation" request with it.
	// Required.
	Confirmation string
	// Secret is the secret key set in the same settings. When set, events
	// that do not carry it are refused (compared in constant time). Set it:
	// without it anyone who finds the URL can post fake appeals.
	Secret string
	// MaxBodyBytes caps a request body; default 1 MiB.
	MaxBodyBytes int64
	// DedupWindow is how many recent event ids are remembered, so that VK's
	// redeliveries (it retries when the answer is slow or not "ok") reach
	// the sink once; default 10,000.
	DedupWindow int
	// Edits receives edited comments (wall_reply_edit, board_post_edit,
	// photo_comment_edit), typically source.StoreEdits(store); the handler
	// answers "ok" to an edit only after Edits accepted it. Nil skips edits
	// (answered "ok"): the stored appeal keeps the text it arrived with.
	Edits source.EditSink
	// MaxTextRunes caps an event's text (default DefaultMaxTextRunes, as
	// source/webhook): VK itself allows 16,384 characters in a post and
	// fewer in a comment, so a longer text is a forged or broken event.
	MaxTextRunes int
	// OnMalformed is told about every event refused as malformed (400):
	// undecodable, a mistyped object, a text over MaxTextRunes, an
	// impossible date. The error matches source.ErrMalformed and names the
	// event and the field, never the text or author. Nil: only logged.
	OnMalformed func(err error)
	// Now is the clock for ReceivedAt and the date check; default time.Now.
	Now func() time.Time
	// Logger, nil means slog.Default().
	Logger *slog.Logger
}

// DefaultMaxTextRunes is CallbackConfig.MaxTextRunes's default, the same
// cap source/webhook puts on texts posted to it.
const DefaultMaxTextRunes = 20000

// vkEpoch is when VK opened (October 2006): nothing on it is older.
var vkEpoch = time.Date(2006, 10, 1, 0, 0, 0, 0, time.UTC)

// maxFutureSkew is how far ahead of our clock an event's date may be, as
// source/webhook allows for created_at: clocks differ, days do not.
const maxFutureSkew = 24 * time.Hour

// checkPlausible refuses what VK cannot have sent: a text longer than
// maxRunes, a date before VK existed or more than a day in the future.
func checkPlausible(a appeal.Appeal, maxRunes int, now time.Time) error {
	if n := utf8.RuneCountInString(a.Text); n > maxRunes {
		return fmt.Errorf("field text: is %d characters long, at most %d are allowed", n, maxRunes)
	}
	if a.CreatedAt.IsZero() {
		return nil
	}
	if a.CreatedAt.Before(vkEpoch) {
		return fmt.Errorf("field date: %s is before VK existed", a.CreatedAt.Format(time.RFC3339))
	}
	if a.CreatedAt.After(now.Add(maxFutureSkew)) {
		return fmt.Errorf("field date: %s is in the future", a.CreatedAt.Format(time.RFC3339))
	}
	return nil
}

// CallbackHandler receives Callback API events (POST, JSON) and hands those
// in AppealEvents to the sink. It answers "ok" only after the sink accepted
// the appeal (or Edits the edit); if it fails the handler answers 500 and VK
// delivers the event again later. Mount it on an HTTPS address and enter that in the
// community's Callback API settings. It is safe for concurrent use; the sink
// is called concurrently for concurrent requests.
type CallbackHandler struct {
	cfg  CallbackConfig
	sink source.Sink
	m    mapper
	log  *slog.Logger

	mu       sync.Mutex
	dedup    *source.Dedup   // events the sink accepted
	inflight map[string]bool // events in the sink now
}

// NewCallbackHandler checks cfg and returns the handler.
func NewCallbackHandler(cfg CallbackConfig, sink source.Sink) (*CallbackHandler, error) {
	if cfg.GroupID <= 0 {
		return nil, fmt.Errorf("vk: CallbackConfig.GroupID must be the positive community id, got %d", cfg.GroupID)
	}
	if cfg.Confirmation == "" {
		return nil, errors.New("vk: CallbackConfig.Confirmation is empty (copy it from the community's Callback API settings)")
	}
	if sink == nil {
		return nil, errors.New("vk: NewCallbackHandler: nil sink")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.DedupWindow <= 0 {
		cfg.DedupWindow = 10000
	}
	if cfg.MaxTextRunes <= 0 {
		cfg.MaxTextRunes = DefaultMaxTextRunes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &CallbackHandler{cfg: cfg, sink: sink, dedup: source.NewDedup(cfg.DedupWindow), inflight: map[string]bool{}, log: source.Logger(cfg.Logger)}
	h.m.communities = map[int]Community{cfg.GroupID: {ID: strconv.Itoa(cfg.GroupID), Official: cfg.Official, Name: cfg.Name}}
	h.m.now = cfg.Now
	if cfg.Secret == "" {
		h.log.Warn("vk: callback handler without a secret: anyone who knows its URL can post events", "community", cfg.GroupID)
	}
	return h, nil
}

// ServeHTTP handles one Callback API request: 405 for other methods than
// POST, 413 for a body over MaxBodyBytes, 400 for undecodable JSON, a
// mistyped object, a text over MaxTextRunes or an impossible date, 403 for
// a wrong secret or community, the confirmation string for "confirmation",
// 500 when the sink (or Edits, for an edit) refused (VK retries), and "ok"
// otherwise.
func (h *CallbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	var ev events.GroupEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		h.log.Warn("vk: callback: undecodable event", "err", err)
		h.reportMalformed(fmt.Errorf("vk: callback: %w: undecodable event: %v", source.ErrMalformed, err))
		http.Error(w, "malformed event: "+err.Error(), http.StatusBadRequest)
		return
	}
	if h.cfg.Secret != "" && subtle.ConstantTimeCompare([]byte(ev.Secret), []byte(h.cfg.Secret)) != 1 {
		h.log.Warn("vk: callback: wrong secret", "remote", r.RemoteAddr)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if ev.GroupID != h.cfg.GroupID {
		h.log.Warn("vk: callback: event for another community", "group_id", ev.GroupID)
		http.Error(w, "wrong group_id", http.StatusForbidden)
		return
	}
	if ev.Type == events.EventConfirmation {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, h.cfg.Confirmation)
		return
	}
	mp, ok, err := h.m.event(ev)
	a := mp.appeal
	if err == nil && ok {
		if perr := checkPlausible(a, h.cfg.MaxTextRunes, h.cfg.Now()); perr != nil {
			err = fmt.Errorf("vk: event %s (%s) of community %d: %w: %v", ev.Type, ev.EventID, ev.GroupID, source.ErrMalformed, perr)
		}
	}
	if err != nil {
		h.log.Warn("vk: callback: malformed event object", "type", ev.Type, "event_id", ev.EventID, "err", err)
		h.reportMalformed(err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if ok {
		key := ev.EventID
		if key == "" {
			// Without event_id (older API versions) the comment names the
			// event; successive edits of one comment differ by their text.
			key = string(ev.Type) + ":" + a.ExternalID
			if mp.edit {
				sum := sha256.Sum256([]byte(a.Text))
				key += ":" + hex.EncodeToString(sum[:8])
			}
		}
		h.mu.Lock()
		switch {
		case h.inflight[key]:
			// VK retried while the first delivery is still in the sink.
			// Saying "ok" now would lose the event if that one fails.
			h.mu.Unlock()
			http.Error(w, "event in progress", http.StatusServiceUnavailable)
			return
		case h.dedup.Has(key):
			h.mu.Unlock()
			writeOK(w)
			return
		}
		h.inflight[key] = true
		h.mu.Unlock()

		var err error
		if mp.edit {
			err = deliverEdit(r.Context(), h.cfg.Edits, a, h.log)
		} else {
			err = h.sink(r.Context(), a)
		}

		h.mu.Lock()
		delete(h.inflight, key)
		if err == nil {
			h.dedup.Seen(key)
		}
		h.mu.Unlock()
		if err != nil {
			h.log.Warn("vk: callback: sink refused the appeal or edit; VK will redeliver", source.AppealAttr("appeal", a), slog.Bool("edit", mp.edit), "err", err)
			http.Error(w, "not accepted", http.StatusInternalServerError)
			return
		}
	}
	writeOK(w)
}

func (h *CallbackHandler) reportMalformed(err error) {
	if h.cfg.OnMalformed != nil {
		h.cfg.OnMalformed(err)
	}
}

func writeOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok")
}
