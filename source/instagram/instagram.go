// Package instagram brings appeals from the comments on an Instagram
// business (professional) account's media through the Instagram Graph API,
// on plain net/http, and posts answers as replies to those comments.
//
//	hook, err := instagram.NewWebhook(instagram.Config{
//		AccessToken: os.Getenv("IG_TOKEN"), AccountID: "17841400000000001",
//	}, os.Getenv("IG_APP_SECRET"), os.Getenv("IG_VERIFY_TOKEN"))
//	if err != nil {
//		return err
//	}
//	http.Handle("/instagram", hook) // the hub.challenge handshake, then signed comment events
//	go func() { _ = hook.Run(ctx, pipeline.Sink("instagram")) }()
//	// or New(cfg) to poll the account's media for comments instead
//
// # Legal status in Russia — read before connecting
//
// On 21 March 2022 the Tverskoy District Court of Moscow recognised Meta
// Platforms Inc. as an extremist organisation and banned its activity in
// Russia (the Supreme Court upheld it); Instagram and Facebook are blocked
// by Roskomnadzor since March 2022. For Russian state bodies, regional
// management centres (ЦУР) and their subordinate organisations, connecting
// to Meta's services, holding an account there or reaching the API is not
// appropriate, and using it may have legal consequences. This adapter is
// meant for deployments outside Russian state bodies — municipalities and
// organisations in other jurisdictions, or a private operator whose
// lawyers have cleared it. It does nothing by default: nothing in appealkit
// starts it unless you construct it yourself.
//
// # What becomes an appeal
//
// Comments on the account's media (KindComment, Thread.RootID the media id)
// and replies to them (KindReply, Thread.ParentID the parent comment). The
// external id is the comment id. Comments by the account itself
// (Config.AccountID) and empty ones are not appeals. The Community is the
// account (Config.AccountID, Config.AccountName, Config.Official).
//
// # Receiving comments
//
//   - Webhook (recommended by Meta, no rate-limit cost) is an http.Handler:
//     it answers the hub.mode/hub.verify_token/hub.challenge handshake,
//     checks X-Hub-Signature-256 (HMAC-SHA256 of the body with the app
//     secret, compared in constant time), and answers 200 only after the
//     sink accepted every comment in the notification; otherwise Meta
//     retries.
//   - Source polls GET /{media-id}/comments for Config.Media (and, with
//     Config.RecentMedia, the account's newest media), page by page; the
//     checkpoint of each media is the paging.cursors.after cursor of the
//     last page the sink accepted. This relies on the edge listing a
//     media's comments oldest first, as the Graph API's documented answers
//     do, so that the last cursor points past everything read. Replies come
//     with their comment (field expansion) when it is first read; a reply
//     added later to an old comment is seen only by the Webhook, which is
//     why the Webhook is the way to run in production.
//
// # Replies
//
// Source and Webhook are source.Repliers: Reply posts POST
// /{comment-id}/replies. Instagram threads are one level deep, so an
// answer to a reply goes under its parent comment.
package instagram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/httpapi"
)

// Config configures a Source or a Webhook.
type Config struct {
	// AccessToken is a long-lived user or system-user token with
	// instagram_basic and instagram_manage_comments. Required. Never logged
	// nor put in errors.
	AccessToken string
	// AccountID is the Instagram business account's id (the IG user id).
	// Required: comments by it are the account's own answers, not appeals.
	AccountID string
	// AccountName and Official describe the account as the appeals'
	// Community.
	AccountName string
	Official    bool
	// BaseURL of the Graph API with its version (default DefaultBaseURL).
	BaseURL string
	// HTTPClient makes the calls (default: 30s timeout).
	HTTPClient *http.Client

	// Media are the media ids Source polls.
	Media []string
	// RecentMedia, when above 0, makes Source also poll the account's
	// newest RecentMedia media (GET /{ig-user-id}/media), looked up every
	// cycle.
	RecentMedia int
	// Checkpoints keeps one cursor per media (Source only); nil reads
	// every media from its first comment on each Run.
	Checkpoints source.Checkpoints
	// PollInterval is the pause between cycles (default 1 minute; Graph API
	// limits apps to about 200 calls an hour per user).
	PollInterval time.Duration
	// PageSize is how many comments one call returns (1..100, default 50).
	PageSize int
	// Backoff spaces retries of failed calls.
	Backoff source.Backoff
	// RequestsPerSecond caps calls (default 1).
	RequestsPerSecond float64

	// Logger; nil means slog.Default(). Texts and authors are never logged.
	Logger *slog.Logger
	// Now is the clock for ReceivedAt (default time.Now).
	Now func() time.Time
}

type account struct {
	cfg Config
	c   *client
	log *slog.Logger
	lim *rate.Limiter
}

func newAccount(cfg Config) (*account, error) {
	if strings.TrimSpace(cfg.AccessToken) == "" {
		return nil, errors.New("instagram: Config.AccessToken is empty")
	}
	if cfg.AccountID == "" {
		return nil, errors.New("instagram: Config.AccountID is empty (the account's own comments could not be told from citizens')")
	}
	cfg.BaseURL = httpapi.BaseURL(cfg.BaseURL, DefaultBaseURL)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Minute
	}
	if cfg.PollInterval < 0 {
		return nil, fmt.Errorf("instagram: Config.PollInterval %v is negative", cfg.PollInterval)
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 50
	}
	if cfg.PageSize < 1 || cfg.PageSize > 100 {
		return nil, fmt.Errorf("instagram: Config.PageSize %d is outside 1..100", cfg.PageSize)
	}
	if cfg.RecentMedia < 0 || cfg.RecentMedia > 100 {
		return nil, fmt.Errorf("instagram: Config.RecentMedia %d is outside 0..100", cfg.RecentMedia)
	}
	for i, m := range cfg.Media {
		if !numeric(m) {
			return nil, fmt.Errorf("instagram: Config.Media[%d] = %q is not a media id (digits only)", i, m)
		}
	}
	if cfg.RequestsPerSecond == 0 {
		cfg.RequestsPerSecond = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &account{
		cfg: cfg,
		c: &client{base: cfg.BaseURL, token: cfg.AccessToken,
			http: &httpapi.Client{HTTP: cfg.HTTPClient, Secrets: []string{cfg.AccessToken}, MaxBytes: maxResponseBytes}},
		log: source.Logger(cfg.Logger),
		lim: source.NewLimiter(cfg.RequestsPerSecond),
	}, nil
}

func numeric(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (a *account) call(ctx context.Context, method, path string, form url.Values, out any) error {
	if err := source.Wait(ctx, a.lim); err != nil {
		return err
	}
	return a.c.call(ctx, method, path, form, out)
}

// comment is one comment, from either way of receiving it.
type comment struct {
	id, text, parentID, mediaID string
	from                        *igUser
	username                    string
	created                     time.Time
}

// toAppeal maps a comment; ok is false (with why) for the account's own
// comments and empty ones.
func (a *account) toAppeal(c comment) (appeal.Appeal, bool, string, error) {
	if c.id == "" {
		return appeal.Appeal{}, false, "", fmt.Errorf("%w: comment without id", source.ErrMalformed)
	}
	if c.mediaID == "" {
		return appeal.Appeal{}, false, "", fmt.Errorf("%w: comment %s without media id", source.ErrMalformed, c.id)
	}
	author := appeal.Author{}
	if c.from != nil {
		author.ID = c.from.ID
		if c.from.Username != "" {
			c.username = c.from.Username
		}
	}
	if c.username != "" {
		author.Name = c.username
		author.ProfileURL = "https://www.instagram.com/" + c.username + "/"
	}
	if author.ID == a.cfg.AccountID {
		return appeal.Appeal{}, false, "written by the account itself", nil
	}
	text := strings.TrimSpace(c.text)
	if text == "" {
		return appeal.Appeal{}, false, "no text", nil
	}
	ap := appeal.Appeal{
		Network:    appeal.NetworkInstagram,
		Kind:       appeal.KindComment,
		ExternalID: c.id,
		Text:       text,
		Author:     author,
		Community:  appeal.Community{ID: a.cfg.AccountID, Name: a.cfg.AccountName, Official: a.cfg.Official},
		Thread:     appeal.Thread{ParentID: c.mediaID, RootID: c.mediaID},
		CreatedAt:  c.created,
		ReceivedAt: a.cfg.Now().UTC(),
	}
	if c.parentID != "" {
		ap.Kind = appeal.KindReply
		ap.Thread.ParentID = c.parentID
	}
	return ap, true, "", nil
}

// deliver maps and hands one comment to the sink.
func (a *account) deliver(ctx context.Context, c comment, sink source.Sink) error {
	ap, ok, why, err := a.toAppeal(c)
	if err != nil {
		return fmt.Errorf("instagram: %w", err)
	}
	if !ok {
		a.log.LogAttrs(ctx, slog.LevelDebug, "instagram: comment is not an appeal", slog.String("comment", c.id), slog.String("why", why))
		return nil
	}
	if err := ap.Normalize(); err != nil {
		return fmt.Errorf("instagram: comment %s: %w", c.id, err)
	}
	if err := sink(ctx, ap); err != nil {
		return fmt.Errorf("instagram: comment %s: appeal %s not accepted: %w", c.id, ap.ID, err)
	}
	a.log.LogAttrs(ctx, slog.LevelDebug, "instagram: delivered", source.AppealAttr("appeal", ap))
	return nil
}

// parseTime reads the Graph API's "2006-01-02T15:04:05+0000".
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02T15:04:05-0700", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: timestamp %q is not 2006-01-02T15:04:05+0000", source.ErrMalformed, s)
	}
	return t.UTC(), nil
}

// reply answers the comment; see the package documentation.
func (a *account) reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	if to.Network != appeal.NetworkInstagram {
		return appeal.Reply{}, fmt.Errorf("instagram: cannot reply to a %q appeal", to.Network)
	}
	if strings.TrimSpace(text) == "" {
		return appeal.Reply{}, errors.New("instagram: reply text is empty")
	}
	if n := len([]rune(text)); n > 2200 {
		return appeal.Reply{}, fmt.Errorf("instagram: reply text has %d characters; Instagram allows 2200", n)
	}
	target := to.ExternalID
	if to.Kind == appeal.KindReply && to.Thread.ParentID != "" && to.Thread.ParentID != to.Thread.RootID {
		target = to.Thread.ParentID // threads are one level deep
	}
	if !numeric(target) {
		return appeal.Reply{}, fmt.Errorf("instagram: external id %q is not a comment id", target)
	}
	var res struct {
		ID string `json:"id"`
	}
	for attempt := 1; ; attempt++ {
		err := a.call(ctx, http.MethodPost, "/"+target+"/replies", url.Values{"message": {text}}, &res)
		var rl *source.RateLimitError
		if errors.As(err, &rl) && attempt < 2 {
			if err := source.Sleep(ctx, rl.Wait); err != nil {
				return appeal.Reply{}, err
			}
			continue
		}
		if err != nil {
			return appeal.Reply{}, fmt.Errorf("instagram: reply to %s: %w", to.ExternalID, err)
		}
		break
	}
	if res.ID == "" {
		return appeal.Reply{}, fmt.Errorf("instagram: reply to %s: %w: answer without id", to.ExternalID, source.ErrMalformed)
	}
	return appeal.Reply{ExternalID: res.ID, Text: text, At: a.cfg.Now().UTC()}, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
