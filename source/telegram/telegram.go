// Package telegram brings appeals from Telegram through the Bot API, on
// plain net/http: private messages to the bot, posts of channels where the
// bot is an administrator (channel_post), and comments in a channel's linked
// discussion group, each tied to the channel post it discusses.
//
//	bot, err := telegram.New(telegram.Config{
//		Token:       os.Getenv("TELEGRAM_TOKEN"),
//		Checkpoints: store,                     // the getUpdates offset survives restarts
//		Edits:       source.StoreEdits(store), // edited messages update the stored appeal
//	})
//	if err != nil {
//		return err
//	}
//	err = bot.Run(ctx, pipeline.Sink("telegram")) // or NewWebhook for webhooks
//	reply, err := bot.Reply(ctx, a, "Бригада выехала") // the official answer, in the same chat
//
// Two ways to receive updates:
//
//   - Source polls getUpdates (long polling). The checkpoint is the update
//     offset, saved after the sink accepted the updates before it, so a
//     restart continues at the first update not accepted.
//   - Webhook is an http.Handler for setWebhook: it checks the
//     X-Telegram-Bot-Api-Secret-Token header in constant time and answers
//     200 only after the sink accepted the update, so Telegram redelivers
//     what was not.
//
// # Appeals
//
// The external id is "<chat id>_<message id>" (message ids are unique per
// chat). Private messages are KindMessage with Config.Community (by default
// the bot). Channel posts are KindPost. In a discussion group, the channel
// post mirrored by Telegram (is_automatic_forward) is not an appeal, but it
// ties the thread to the post: a message replying to it is a KindComment
// whose Thread.ParentID and RootID are the channel post's external id, and
// whose Community is the channel; replies deeper in the thread are
// KindReply with RootID the channel post. Messages sent on behalf of a chat
// (administrators, the channel itself), by bots, or without any text or
// caption are not appeals.
//
// The link from a thread to its channel post is remembered in memory from
// the mirrored post and from direct comments (whose reply_to_message is the
// mirror). After a restart, a reply deep in a thread whose post was
// mirrored before the restart, and not commented directly since, has as
// RootID the discussion group's thread root ("<group id>_<message id>") and
// the group as Community: the Bot API does not repeat the channel post in
// such replies.
//
// The bot must be an administrator of the channel to get channel_post, and
// an administrator of the discussion group (or have privacy mode turned off
// with @BotFather) to see every comment.
//
// # Edits
//
// edited_message and edited_channel_post are not new appeals: they are
// handed to Config.Edits as a source.Edit carrying the appeal (same ID as
// the original, new text) and Telegram's edit_date. source.StoreEdits(store)
// is a source.EditSink that updates the stored appeal's text and appends an
// Event to its history; the checkpoint does not pass an edit until the
// EditSink accepted it. With Config.Edits nil, edits are skipped.
//
// # Replies
//
// Source and Webhook are source.Repliers: Reply sends the answer with
// sendMessage as a reply (reply_parameters) to the citizen's message, in
// the same chat, at most Config.SendPerSecond messages a second, honouring
// a 429's retry_after.
package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
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

// Config configures a Source or a Webhook.
type Config struct {
	// Token is the bot token from @BotFather. Required. It is never logged
	// nor put in errors.
	Token string
	// BaseURL of the Bot API server (default DefaultBaseURL); point it at a
	// local Bot API server or an httptest server.
	BaseURL string
	// HTTPClient makes the calls; the default has a timeout a little over
	// PollTimeout.
	HTTPClient *http.Client

	// Checkpoints keeps the getUpdates offset (Source only). Nil starts
	// from whatever Telegram still holds unconfirmed.
	Checkpoints source.Checkpoints
	// Key is the checkpoint key; default "telegram:" + the bot id (the
	// token's part before the colon).
	Key string
	// PollTimeout is the long-polling timeout of getUpdates (default 30s,
	// whole seconds, at most 50).
	PollTimeout time.Duration
	// Limit is how many updates one getUpdates returns (1..100, default
	// 100).
	Limit int
	// Backoff spaces retries of failed getUpdates calls; a 429's
	// retry_after is always honoured.
	Backoff source.Backoff
	// StartTimeout bounds the getMe call that starts Run (default 1 minute):
	// while the Bot API cannot be reached it is retried with Backoff, each
	// failure logged, and after StartTimeout Run returns an error naming
	// getMe, the Bot API address and the last failure (it still matches
	// source.ErrTemporary, so a supervisor may restart it later) instead of
	// retrying forever with nothing to show.
	StartTimeout time.Duration
	// SkipMalformed makes Run log and skip an update it cannot decode
	// instead of stopping with an error matching source.ErrMalformed.
	SkipMalformed bool

	// Edits receives edited messages and channel posts; see
	// source.StoreEdits. Nil skips edits.
	Edits source.EditSink
	// Community is set on private messages; by default the bot itself
	// ("@username", its name) as getMe reports it.
	Community appeal.Community
	// Chats, when not empty, limits monitoring to these channels and
	// discussion groups (a bot someone added to an unrelated group then
	// ignores it); private messages to the bot are always taken.
	Chats []int64
	// OfficialChats lists the chat ids (channels, groups) of official
	// pages (госпаблики); their appeals get Community.Official.
	OfficialChats []int64

	// SendPerSecond caps sendMessage calls (default 25; Telegram allows
	// about 30 a second per bot).
	SendPerSecond float64

	// Logger; nil means slog.Default(). Texts and authors are never
	// logged, only ids, kinds and pseudonyms.
	Logger *slog.Logger
	// Now is the clock for ReceivedAt (default time.Now).
	Now func() time.Time
}

// bot is what Source and Webhook share: the API client, the mapper, the
// reply limiter.
type bot struct {
	cfg    Config
	c      *client
	log    *slog.Logger
	send   *rate.Limiter
	botID  string
	mapper *mapper

	meOnce sync.Mutex
	meDone bool
}

func newBot(cfg Config) (*bot, error) {
	if cfg.Token == "" {
		return nil, errors.New("telegram: Config.Token is empty")
	}
	id, _, ok := strings.Cut(cfg.Token, ":")
	if !ok || id == "" {
		return nil, errors.New("telegram: Config.Token is not a bot token (want <bot id>:<secret>)")
	}
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return nil, errors.New("telegram: Config.Token is not a bot token (want <bot id>:<secret>)")
	}
	cfg.BaseURL = httpapi.BaseURL(cfg.BaseURL, DefaultBaseURL)
	poll := httpapi.LongPoll{Timeout: &cfg.PollTimeout, Limit: &cfg.Limit, Client: &cfg.HTTPClient,
		MaxTimeout: 50 * time.Second, MaxLimit: 100}
	if err := poll.Defaults("telegram"); err != nil {
		return nil, err
	}
	if cfg.Key == "" {
		cfg.Key = "telegram:" + id
	}
	if cfg.SendPerSecond == 0 {
		cfg.SendPerSecond = 25
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StartTimeout < 0 {
		return nil, fmt.Errorf("telegram: Config.StartTimeout %v is negative", cfg.StartTimeout)
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	b := &bot{
		cfg: cfg,
		c: &client{base: cfg.BaseURL + "/bot" + cfg.Token,
			http: &httpapi.Client{HTTP: cfg.HTTPClient, Secrets: []string{cfg.Token}, MaxBytes: maxResponseBytes}},
		log:   source.Logger(cfg.Logger),
		send:  source.NewLimiter(cfg.SendPerSecond),
		botID: id,
	}
	b.mapper = newMapper(cfg.Community, cfg.OfficialChats, cfg.Now)
	b.mapper.watch(cfg.Chats)
	return b, nil
}

// DefaultStartTimeout is Config.StartTimeout's default.
const DefaultStartTimeout = time.Minute

// hello calls getMe once per bot (until it succeeds): it checks the token
// before anything else, so a bad one fails fast with source.ErrAuth, and
// names the bot as the community of private messages. Temporary failures
// are retried with backoff and logged, for at most Config.StartTimeout.
func (b *bot) hello(ctx context.Context, backoff source.Backoff) error {
	b.meOnce.Lock()
	defer b.meOnce.Unlock()
	if b.meDone {
		return nil
	}
	hctx, cancel := context.WithTimeout(ctx, b.cfg.StartTimeout)
	defer cancel()
	var me user
	var last error
	attempts := 0
	err := source.Retry(hctx, backoff, func(ctx context.Context) error {
		attempts++
		err := b.c.call(ctx, "getMe", struct{}{}, &me)
		if source.Retryable(err) {
			last = err
			b.log.LogAttrs(ctx, slog.LevelWarn, "telegram: getMe failed, retrying",
				slog.Int("attempt", attempts), slog.String("error", err.Error()))
		}
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if hctx.Err() == nil {
			return err // final (a refused token) or out of attempts
		}
		if last == nil {
			// The first attempt itself did not return in time.
			last = fmt.Errorf("telegram: getMe: %w: no answer", source.ErrTemporary)
		}
		err = fmt.Errorf("telegram: getMe: gave up after %s (%d attempts): the Bot API at %s cannot be reached (network down?): %w",
			b.cfg.StartTimeout, attempts, b.cfg.BaseURL, last)
		b.log.LogAttrs(ctx, slog.LevelError, "telegram: start failed", slog.String("error", err.Error()))
		return err
	}
	if b.cfg.Community == (appeal.Community{}) {
		c := appeal.Community{ID: strconv.FormatInt(me.ID, 10), Name: me.FirstName}
		if me.Username != "" {
			c.ID = "@" + me.Username
		}
		b.mapper.setBot(c)
	}
	b.meDone = true
	return nil
}

// deliver hands one update to the sink or the edit sink. It returns nil
// for updates that are not appeals.
func (b *bot) deliver(ctx context.Context, u *update, sink source.Sink) error {
	ev, ok, why := b.mapper.mapUpdate(u)
	if !ok {
		b.log.LogAttrs(ctx, slog.LevelDebug, "telegram: update is not an appeal",
			slog.Int64("update_id", u.UpdateID), slog.String("why", why))
		return nil
	}
	if ev.edit {
		if b.cfg.Edits == nil {
			b.log.LogAttrs(ctx, slog.LevelDebug, "telegram: edit skipped (Config.Edits is nil)",
				slog.Int64("update_id", u.UpdateID), slog.String("id", string(ev.appeal.RedactedID())))
			return nil
		}
		a := ev.appeal
		if err := a.Normalize(); err != nil {
			return fmt.Errorf("telegram: update %d: %w", u.UpdateID, err)
		}
		if err := b.cfg.Edits(ctx, source.Edit{Appeal: a, EditedAt: ev.editedAt}); err != nil {
			return fmt.Errorf("telegram: update %d: edit of %s not accepted: %w", u.UpdateID, a.RedactedID(), err)
		}
		return nil
	}
	a := ev.appeal
	if err := a.Normalize(); err != nil {
		return fmt.Errorf("telegram: update %d: %w", u.UpdateID, err)
	}
	if err := sink(ctx, a); err != nil {
		return fmt.Errorf("telegram: update %d: appeal %s not accepted: %w", u.UpdateID, a.RedactedID(), err)
	}
	b.log.LogAttrs(ctx, slog.LevelDebug, "telegram: delivered", slog.Int64("update_id", u.UpdateID), source.AppealAttr("appeal", a))
	return nil
}

// decodeUpdate decodes one update, naming its update_id and the bad field
// on error.
func decodeUpdate(raw json.RawMessage) (*update, error) {
	var u update
	var decodeErr string
	if !utf8.Valid(raw) {
		// encoding/json would quietly turn the bad bytes into U+FFFD; a
		// corrupted update is reported instead.
		decodeErr = fmt.Sprintf("invalid UTF-8 at byte %d", invalidUTF8At(raw))
	} else if err := json.Unmarshal(raw, &u); err != nil {
		decodeErr = describeJSON(err)
	}
	if decodeErr != "" {
		var id struct {
			UpdateID int64 `json:"update_id"`
		}
		_ = json.Unmarshal(raw, &id)
		return &update{UpdateID: id.UpdateID}, fmt.Errorf("telegram: update %d: %w: %s", id.UpdateID, source.ErrMalformed, decodeErr)
	}
	if u.UpdateID <= 0 {
		return &u, fmt.Errorf("telegram: update: %w: update_id is missing or not positive", source.ErrMalformed)
	}
	return &u, nil
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// Reply sends text as a reply to the appeal's message, in the same chat.
// Texts over Telegram's 4096-character limit go as several messages, each
// replying to the one before. The returned Reply names the first message.
func (b *bot) reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	if to.Network != appeal.NetworkTelegram {
		return appeal.Reply{}, fmt.Errorf("telegram: cannot reply to a %q appeal", to.Network)
	}
	chatID, msgID, ok := parseExtID(to.ExternalID)
	if !ok {
		return appeal.Reply{}, fmt.Errorf("telegram: external id %q is not <chat id>_<message id>", to.ExternalID)
	}
	if strings.TrimSpace(text) == "" {
		return appeal.Reply{}, errors.New("telegram: reply text is empty")
	}
	var first appeal.Reply
	replyTo := msgID
	for i, part := range splitText(text, 4096) {
		sent, err := b.sendMessage(ctx, chatID, replyTo, part)
		if err != nil {
			if i > 0 {
				return first, fmt.Errorf("telegram: reply to %s: part %d of the answer: %w", to.RedactedID(), i+1, err)
			}
			return appeal.Reply{}, fmt.Errorf("telegram: reply to %s: %w", to.RedactedID(), err)
		}
		if i == 0 {
			first = appeal.Reply{ExternalID: extID(sent.Chat.ID, sent.MessageID), Text: text, At: time.Unix(sent.Date, 0).UTC()}
			if sent.Date == 0 {
				first.At = b.cfg.Now()
			}
			if sent.Chat.Username != "" {
				first.URL = "https://t.me/" + sent.Chat.Username + "/" + strconv.FormatInt(sent.MessageID, 10)
			}
		}
		replyTo = sent.MessageID
	}
	return first, nil
}

type replyParameters struct {
	MessageID                int64 `json:"message_id"`
	AllowSendingWithoutReply bool  `json:"allow_sending_without_reply"`
}

type sendMessageParams struct {
	ChatID          int64           `json:"chat_id"`
	Text            string          `json:"text"`
	ReplyParameters replyParameters `json:"reply_parameters"`
}

// sendMessage sends one message, waiting out 429s (at most 3 attempts: a
// message is not sent twice, as 429 means it was not sent at all).
func (b *bot) sendMessage(ctx context.Context, chatID, replyTo int64, text string) (*message, error) {
	params := sendMessageParams{ChatID: chatID, Text: text,
		ReplyParameters: replyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}}
	var sent message
	for attempt := 1; ; attempt++ {
		if err := source.Wait(ctx, b.send); err != nil {
			return nil, err
		}
		err := b.c.call(ctx, "sendMessage", params, &sent)
		var rl *source.RateLimitError
		if errors.As(err, &rl) && attempt < 3 {
			if err := source.Sleep(ctx, rl.Wait); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		return &sent, nil
	}
}

// splitText cuts s into parts of at most n runes, preferring to cut at a
// line break or a space.
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
