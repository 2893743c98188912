// Package max brings appeals from MAX, the national messenger, through the
// MAX Bot API (REST at platform-api.max.ru, the token in the Authorization
// header), on plain net/http: the official Go client is not served by the
// module proxy, so the few calls needed are written here. Importers may
// want to name the package (maxbot "…/source/max") so that the builtin max
// stays in reach.
//
//	src, err := max.New(max.Config{
//		Token:         os.Getenv("MAX_TOKEN"),
//		Checkpoints:   store, // the /updates marker survives restarts
//		Edits:         source.StoreEdits(store),
//		OfficialChats: []int64{-70801090403050}, // госпаблики
//	})
//	if err != nil {
//		return err
//	}
//	err = src.Run(ctx, pipeline.Sink("max")) // or NewWebhook(cfg, secret) for webhooks
//
// What becomes an appeal:
//
//   - comments under the posts of a channel where the bot is an
//     administrator with read_all_messages (comment_created): KindComment,
//     or KindReply when the comment replies to another comment;
//   - messages to the bot in a dialog (message_created in a "dialog"):
//     KindMessage, with Config.Community (by default "max-bot");
//   - messages in group chats (house chats, district chats) where the bot is
//     an administrator with read_all_messages: KindPost, or KindReply when
//     the message replies to another one.
//
// Community.ID is the chat id; Community.Name the chat's title, read once
// per chat with GET /chats/{id}. Messages without a sender (posted on behalf of a channel), from bots, or
// without text are not appeals. Config.Chats limits monitoring to some
// chats and channels; Config.OfficialChats marks official pages.
//
// External ids are "<chat id>/<mid>" for messages and
// "<chat id>/<post mid>/<comment mid>" for comments (mids hold letters,
// digits, "_" and "-", never "/"); a comment's Thread.RootID is its post,
// "<chat id>/<post mid>".
//
// # Receiving updates
//
//   - Source long-polls GET /updates. The checkpoint is the marker: saved
//     only after the sink accepted every update before it, so a restart
//     passes the old marker and MAX sends again what was not accepted.
//     MAX calls long polling unfit for production; prefer the Webhook.
//   - Webhook is an http.Handler for a subscription made with Subscribe
//     (POST /subscriptions): it checks X-Max-Bot-Api-Secret in constant
//     time and answers 200 "ok" only after the sink accepted the update;
//     MAX retries anything else for up to 8 hours.
//
// Both cannot be used at once: with a subscription active, /updates answers
// 405.
//
// # Edits and deletions
//
// message_edited and comment_edited are handed to Config.Edits as a
// source.Edit (same appeal ID, new text); message_removed and
// comment_removed as a source.Edit with Deleted set. source.StoreEdits
// applies both (a deletion is recorded in history; the stored text stays).
// The checkpoint does not pass an edit until the EditSink accepted it. With
// Config.Edits nil, edits and deletions are skipped.
//
// # Replies and limits
//
// Source and Webhook are source.Repliers: Reply answers a message with a
// message in the same chat that replies to it, and a comment with a comment
// under the same post that replies to it. Every call — polling, replies —
// goes through one limiter of Config.RequestsPerSecond (default 30, the
// platform's limit); a 429 is retried after Retry-After.
package max

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/httpapi"
)

// UpdateTypes are the update types the adapter asks MAX for.
var UpdateTypes = []string{
	"message_created", "message_edited", "message_removed",
	"comment_created", "comment_edited", "comment_removed",
}

// Config configures a Source or a Webhook.
type Config struct {
	// Token is the bot's access token from business.max.ru. Required. It
	// is never logged nor put in errors.
	Token string
	// BaseURL of the Bot API (default DefaultBaseURL).
	BaseURL string
	// HTTPClient makes the calls; the default has a timeout a little over
	// PollTimeout.
	HTTPClient *http.Client

	// Checkpoints keeps the /updates marker (Source only). Nil starts from
	// whatever MAX still holds uncommitted.
	Checkpoints source.Checkpoints
	// Key is the checkpoint key; default "max:" and a short hash of the
	// token (the token itself never reaches the checkpoint store).
	Key string
	// PollTimeout is the long-polling timeout (default 30s, whole seconds,
	// at most 90s).
	PollTimeout time.Duration
	// Limit is how many updates one /updates call returns (1..1000,
	// default 100).
	Limit int
	// Backoff spaces retries of failed calls; a 429's Retry-After is always
	// honoured.
	Backoff source.Backoff
	// SkipMalformed makes Run log and skip an update it cannot decode
	// instead of stopping with an error matching source.ErrMalformed.
	SkipMalformed bool

	// Edits receives edits and deletions; see source.StoreEdits. Nil skips
	// them.
	Edits source.EditSink
	// Community is set on messages to the bot (default ID "max-bot").
	Community appeal.Community
	// Chats, when not empty, limits monitoring to these chat and channel
	// ids; dialogs with the bot are always taken.
	Chats []int64
	// OfficialChats lists the chat ids of official pages (госпаблики);
	// their appeals get Community.Official.
	OfficialChats []int64

	// RequestsPerSecond caps every call of this bot (default 30, the
	// platform's limit). Share one bot token between one Source or Webhook.
	RequestsPerSecond float64

	// Logger; nil means slog.Default(). Texts and authors are never
	// logged, only ids, kinds and pseudonyms.
	Logger *slog.Logger
	// Now is the clock for ReceivedAt (default time.Now).
	Now func() time.Time
}

// bot is what Source and Webhook share.
type bot struct {
	cfg      Config
	c        *client
	log      *slog.Logger
	lim      *rate.Limiter
	chats    map[int64]bool
	official map[int64]bool
	titles   sync.Map // chat id → title ("" when it could not be read)
}

func newBot(cfg Config) (*bot, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("max: Config.Token is empty")
	}
	cfg.BaseURL = httpapi.BaseURL(cfg.BaseURL, DefaultBaseURL)
	if _, err := url.Parse(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("max: Config.BaseURL: %w", err)
	}
	poll := httpapi.LongPoll{Timeout: &cfg.PollTimeout, Limit: &cfg.Limit, Client: &cfg.HTTPClient,
		MaxTimeout: 90 * time.Second, MaxLimit: 1000}
	if err := poll.Defaults("max"); err != nil {
		return nil, err
	}
	if cfg.Key == "" {
		h := sha256.Sum256([]byte(cfg.Token))
		cfg.Key = "max:" + hex.EncodeToString(h[:6])
	}
	if cfg.RequestsPerSecond == 0 {
		cfg.RequestsPerSecond = 30
	}
	if cfg.Community == (appeal.Community{}) {
		cfg.Community = appeal.Community{ID: "max-bot"}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &bot{
		cfg: cfg,
		c: &client{base: cfg.BaseURL, token: cfg.Token,
			http: &httpapi.Client{HTTP: cfg.HTTPClient, Secrets: []string{cfg.Token}, MaxBytes: maxResponseBytes}},
		log:      source.Logger(cfg.Logger),
		lim:      source.NewLimiter(cfg.RequestsPerSecond),
		chats:    map[int64]bool{},
		official: map[int64]bool{},
	}
	for _, id := range cfg.Chats {
		b.chats[id] = true
	}
	for _, id := range cfg.OfficialChats {
		b.official[id] = true
	}
	return b, nil
}

// call waits for the limiter and makes one call.
func (b *bot) call(ctx context.Context, method, path string, q url.Values, body, out any) error {
	if err := source.Wait(ctx, b.lim); err != nil {
		return err
	}
	return b.c.call(ctx, method, path, q, body, out)
}

// event is what one update means for the sinks.
type event struct {
	appeal   appeal.Appeal
	edit     bool
	deleted  bool
	editedAt time.Time
}

// mapUpdate turns an update into an event; ok is false (with why) for
// updates that are not appeals. An error means the update names no message
// it could be about (ErrMalformed).
func (b *bot) mapUpdate(u *update) (ev event, ok bool, why string, err error) {
	at := msTime(u.Timestamp)
	switch u.UpdateType {
	case "message_created", "message_edited", "comment_created", "comment_edited":
		if u.Message == nil {
			return ev, false, "", fmt.Errorf("%w: %s without a message", source.ErrMalformed, u.UpdateType)
		}
		comment := strings.HasPrefix(u.UpdateType, "comment_")
		a, ok, why, err := b.mapMessage(u.Message, comment)
		if err != nil || !ok {
			return ev, ok, why, err
		}
		ev.appeal = a
		if strings.HasSuffix(u.UpdateType, "_edited") {
			ev.edit, ev.editedAt = true, at
		}
		return ev, true, "", nil
	case "message_removed", "comment_removed":
		if u.MessageID == "" || u.ChatID == 0 {
			return ev, false, "", fmt.Errorf("%w: %s without message_id or chat_id", source.ErrMalformed, u.UpdateType)
		}
		// Not filtered by Config.Chats: the update does not say whether the
		// chat is a dialog, and a deletion of what was never stored changes
		// nothing.
		a := appeal.Appeal{Network: appeal.NetworkMAX, Kind: appeal.KindMessage, ExternalID: msgExtID(u.ChatID, u.MessageID)}
		if u.UpdateType == "comment_removed" {
			if u.PostID == "" {
				return ev, false, "", fmt.Errorf("%w: comment_removed without post_id", source.ErrMalformed)
			}
			a.Kind, a.ExternalID = appeal.KindComment, commentExtID(u.ChatID, u.PostID, u.MessageID)
		}
		return event{appeal: a, edit: true, deleted: true, editedAt: at}, true, "", nil
	}
	return ev, false, "update type " + u.UpdateType + " is not handled", nil
}

func (b *bot) watched(chatID int64, chatType string) bool {
	return chatType == "dialog" || len(b.chats) == 0 || b.chats[chatID]
}

func (b *bot) mapMessage(m *message, comment bool) (appeal.Appeal, bool, string, error) {
	r := m.Recipient
	if m.Body.MID == "" {
		return appeal.Appeal{}, false, "", fmt.Errorf("%w: message without body.mid", source.ErrMalformed)
	}
	if r.ChatID == 0 && r.ChatType != "dialog" {
		return appeal.Appeal{}, false, "", fmt.Errorf("%w: message %s without recipient.chat_id", source.ErrMalformed, m.Body.MID)
	}
	if !b.watched(r.ChatID, r.ChatType) {
		return appeal.Appeal{}, false, "chat not monitored", nil
	}
	if m.Sender == nil {
		return appeal.Appeal{}, false, "posted on behalf of the channel", nil
	}
	if m.Sender.IsBot {
		return appeal.Appeal{}, false, "sent by a bot", nil
	}
	text := strings.TrimSpace(m.Body.Text)
	if text == "" {
		return appeal.Appeal{}, false, "no text", nil
	}
	a := appeal.Appeal{
		Network:    appeal.NetworkMAX,
		Text:       text,
		URL:        m.URL,
		CreatedAt:  msTime(m.Timestamp),
		ReceivedAt: b.cfg.Now().UTC(),
		Author: appeal.Author{
			ID:   strconv.FormatInt(m.Sender.UserID, 10),
			Name: strings.TrimSpace(m.Sender.FirstName + " " + m.Sender.LastName),
		},
		Community: appeal.Community{ID: strconv.FormatInt(r.ChatID, 10), Official: b.official[r.ChatID]},
	}
	if m.Sender.Username != "" {
		a.Author.ProfileURL = "https://max.ru/" + m.Sender.Username
	}
	for _, at := range m.Body.Attachments {
		switch at.Type {
		case "location":
			a.Geo = &appeal.GeoPoint{Lat: at.Latitude, Lon: at.Longitude}
		case "inline_keyboard":
		default:
			a.Attachments = append(a.Attachments, appeal.Attachment{Type: at.Type, URL: at.Payload.URL})
		}
	}
	reply := m.Link != nil && m.Link.Type == "reply" && m.Link.Message.MID != ""
	switch {
	case comment:
		if r.PostID == "" {
			return appeal.Appeal{}, false, "", fmt.Errorf("%w: comment %s without recipient.post_id", source.ErrMalformed, m.Body.MID)
		}
		root := msgExtID(r.ChatID, r.PostID)
		a.ExternalID = commentExtID(r.ChatID, r.PostID, m.Body.MID)
		a.Kind = appeal.KindComment
		a.Thread = appeal.Thread{ParentID: root, RootID: root}
		if reply && m.Link.Message.MID != r.PostID {
			a.Kind = appeal.KindReply
			a.Thread.ParentID = commentExtID(r.ChatID, r.PostID, m.Link.Message.MID)
		}
	case r.ChatType == "dialog":
		a.ExternalID = msgExtID(r.ChatID, m.Body.MID)
		a.Kind = appeal.KindMessage
		a.Community = b.cfg.Community
	default:
		a.ExternalID = msgExtID(r.ChatID, m.Body.MID)
		a.Kind = appeal.KindPost
		if reply {
			a.Kind = appeal.KindReply
			parent := msgExtID(r.ChatID, m.Link.Message.MID)
			a.Thread = appeal.Thread{ParentID: parent, RootID: parent}
		}
	}
	return a, true, "", nil
}

func msTime(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func msgExtID(chatID int64, mid string) string {
	return strconv.FormatInt(chatID, 10) + "/" + mid
}

func commentExtID(chatID int64, postID, mid string) string {
	return strconv.FormatInt(chatID, 10) + "/" + postID + "/" + mid
}

// deliver hands one update to the sink or the edit sink; nil for updates
// that are not appeals.
func (b *bot) deliver(ctx context.Context, u *update, where string, sink source.Sink) error {
	ev, ok, why, err := b.mapUpdate(u)
	if err != nil {
		return fmt.Errorf("max: %s (%s): %w", where, u.UpdateType, err)
	}
	if !ok {
		b.log.LogAttrs(ctx, slog.LevelDebug, "max: update is not an appeal",
			slog.String("update", where), slog.String("type", u.UpdateType), slog.String("why", why))
		return nil
	}
	a := ev.appeal
	if !ev.deleted && a.Kind != appeal.KindMessage && a.Community.Name == "" {
		a.Community.Name = b.title(ctx, a.Community.ID)
	}
	if err := a.Normalize(); err != nil {
		return fmt.Errorf("max: %s: %w", where, err)
	}
	if ev.edit {
		if b.cfg.Edits == nil {
			b.log.LogAttrs(ctx, slog.LevelDebug, "max: edit or deletion skipped (Config.Edits is nil)",
				slog.String("update", where), slog.String("id", string(a.ID)))
			return nil
		}
		if err := b.cfg.Edits(ctx, source.Edit{Appeal: a, EditedAt: ev.editedAt, Deleted: ev.deleted}); err != nil {
			return fmt.Errorf("max: %s: edit of %s not accepted: %w", where, a.ID, err)
		}
		return nil
	}
	if err := sink(ctx, a); err != nil {
		return fmt.Errorf("max: %s: appeal %s not accepted: %w", where, a.ID, err)
	}
	b.log.LogAttrs(ctx, slog.LevelDebug, "max: delivered", slog.String("update", where), source.AppealAttr("appeal", a))
	return nil
}

// title returns the chat's or channel's title (GET /chats/{id}), read once
// per chat and remembered; "" when it cannot be read (the appeal goes on
// with the numeric id: a name is not worth holding intake up).
func (b *bot) title(ctx context.Context, chatID string) string {
	if t, ok := b.titles.Load(chatID); ok {
		return t.(string)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var chat struct {
		Title string `json:"title"`
	}
	if err := b.call(ctx, http.MethodGet, "/chats/"+url.PathEscape(chatID), nil, nil, &chat); err != nil {
		if ctx.Err() != nil {
			return "" // not remembered: the next appeal tries again
		}
		b.log.LogAttrs(ctx, slog.LevelDebug, "max: chat title not read", slog.String("chat", chatID), slog.String("error", err.Error()))
	}
	b.titles.Store(chatID, chat.Title)
	return chat.Title
}

// decodeUpdate decodes one update, naming the bad field on error.
func decodeUpdate(raw json.RawMessage, where string) (*update, error) {
	if !utf8.Valid(raw) {
		return nil, fmt.Errorf("max: %s: %w: invalid UTF-8", where, source.ErrMalformed)
	}
	var u update
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, fmt.Errorf("max: %s: %w: %s", where, source.ErrMalformed, httpapi.DescribeJSON(err))
	}
	if u.UpdateType == "" {
		return nil, fmt.Errorf("max: %s: %w: update_type is missing", where, source.ErrMalformed)
	}
	return &u, nil
}

// maxTextRunes is the platform's limit on a message or comment text.
const maxTextRunes = 4000

// reply answers the appeal in its thread; see the package documentation.
func (b *bot) reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	if to.Network != appeal.NetworkMAX {
		return appeal.Reply{}, fmt.Errorf("max: cannot reply to a %q appeal", to.Network)
	}
	if strings.TrimSpace(text) == "" {
		return appeal.Reply{}, errors.New("max: reply text is empty")
	}
	parts := strings.Split(to.ExternalID, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return appeal.Reply{}, fmt.Errorf("max: external id %q is not <chat id>/<mid> nor <chat id>/<post mid>/<comment mid>", to.ExternalID)
	}
	chatID, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || parts[1] == "" || parts[len(parts)-1] == "" {
		return appeal.Reply{}, fmt.Errorf("max: external id %q: bad chat id or mid", to.ExternalID)
	}
	var first appeal.Reply
	replyTo := parts[len(parts)-1]
	for i, part := range splitText(text, maxTextRunes) {
		body := newMessageBody{Text: part, Link: &newMessageLink{Type: "reply", MID: replyTo}}
		var res sendResult
		var path string
		var q url.Values
		if len(parts) == 3 {
			path = "/messages/" + url.PathEscape(parts[1]) + "/comments"
		} else {
			path, q = "/messages", url.Values{"chat_id": {parts[0]}}
		}
		if err := b.send(ctx, path, q, body, &res); err != nil {
			if i > 0 {
				return first, fmt.Errorf("max: reply to %s: part %d of the answer: %w", to.ExternalID, i+1, err)
			}
			return appeal.Reply{}, fmt.Errorf("max: reply to %s: %w", to.ExternalID, err)
		}
		if i == 0 {
			ext := msgExtID(chatID, res.Message.Body.MID)
			if len(parts) == 3 {
				ext = commentExtID(chatID, parts[1], res.Message.Body.MID)
			}
			first = appeal.Reply{ExternalID: ext, URL: res.Message.URL, Text: text, At: msTime(res.Message.Timestamp)}
			if first.At.IsZero() {
				first.At = b.cfg.Now().UTC()
			}
		}
		replyTo = res.Message.Body.MID
	}
	return first, nil
}

// send posts one message or comment, waiting out 429s (at most 3 attempts:
// a 429 means it was not sent, so nothing is sent twice).
func (b *bot) send(ctx context.Context, path string, q url.Values, body any, out *sendResult) error {
	for attempt := 1; ; attempt++ {
		err := b.call(ctx, http.MethodPost, path, q, body, out)
		var rl *source.RateLimitError
		if errors.As(err, &rl) && attempt < 3 {
			if err := source.Sleep(ctx, rl.Wait); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

// splitText cuts s into parts of at most n runes, preferring a line break or
// a space.
func splitText(s string, n int) []string {
	var parts []string
	r := []rune(s)
	for len(r) > n {
		cut := n
		for i := n; i > n/2; i-- {
			if r[i-1] == '\n' || r[i-1] == ' ' {
				cut = i
				break
			}
		}
		parts = append(parts, string(r[:cut]))
		r = r[cut:]
	}
	return append(parts, string(r))
}
