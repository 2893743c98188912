package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/httpapi"
)

// allowedUpdates are the update types the bot asks Telegram for.
var allowedUpdates = []string{"message", "edited_message", "channel_post", "edited_channel_post"}

// Source receives updates by getUpdates long polling. Create it with New.
// It is safe for concurrent use; a second concurrent Run returns
// source.ErrAlreadyRunning (Telegram itself allows one poller per bot).
type Source struct {
	b     *bot
	guard source.RunGuard
}

var (
	_ source.Source  = (*Source)(nil)
	_ source.Replier = (*Source)(nil)
)

// New checks cfg and returns a long-polling Source. It makes no call yet.
func New(cfg Config) (*Source, error) {
	b, err := newBot(cfg)
	if err != nil {
		return nil, err
	}
	return &Source{b: b}, nil
}

// Key returns the checkpoint key the offset is saved under.
func (s *Source) Key() string { return s.b.cfg.Key }

// Reply implements source.Replier: see the package documentation.
func (s *Source) Reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	return s.b.reply(ctx, to, text)
}

// DeleteWebhook removes the bot's webhook, which Telegram requires before
// getUpdates works (it answers 409 otherwise). Pending updates are kept.
func (s *Source) DeleteWebhook(ctx context.Context) error {
	return s.b.c.call(ctx, "deleteWebhook", map[string]any{"drop_pending_updates": false}, nil)
}

type getUpdatesParams struct {
	Offset         int64    `json:"offset,omitempty"`
	Limit          int      `json:"limit"`
	Timeout        int      `json:"timeout"`
	AllowedUpdates []string `json:"allowed_updates"`
}

// Run polls getUpdates and delivers appeals until ctx is cancelled (then it
// returns nil). It returns early with an error matching source.ErrAuth when
// the token is refused, source.ErrMalformed when an update cannot be decoded
// (unless SkipMalformed), the sink's or edit sink's error (wrapped) when one
// of them refuses, and an *APIError for a 409 (another poller or a
// webhook). Network faults, 5xx and 429 are retried with backoff. The
// offset of the first update not accepted is saved before Run returns.
func (s *Source) Run(ctx context.Context, sink source.Sink) (err error) {
	release, err := httpapi.StartRun(&s.guard, sink, "telegram")
	if err != nil {
		return err
	}
	defer release()
	defer httpapi.NilOnCancel(ctx, &err)
	b := s.b
	if err := b.hello(ctx, b.cfg.Backoff); err != nil {
		return err
	}
	offset, err := s.loadOffset(ctx)
	if err != nil {
		return err
	}
	saved := offset
	save := func() error {
		if b.cfg.Checkpoints == nil || offset == saved {
			return nil
		}
		if err := httpapi.SaveCheckpoint(ctx, b.cfg.Checkpoints, "telegram", b.cfg.Key, strconv.FormatInt(offset, 10)); err != nil {
			return err
		}
		saved = offset
		return nil
	}
	defer func() {
		if serr := save(); serr != nil && err == nil {
			err = serr
		}
	}()

	params := getUpdatesParams{Limit: b.cfg.Limit, Timeout: int(b.cfg.PollTimeout / time.Second), AllowedUpdates: allowedUpdates}
	for {
		if err := ctx.Err(); err != nil {
			return nil
		}
		params.Offset = offset
		var raws []json.RawMessage
		err := httpapi.RetryLogged(ctx, b.log, b.cfg.Backoff, "telegram: getUpdates failed, retrying", func(ctx context.Context) error {
			return b.c.call(ctx, "getUpdates", params, &raws)
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for _, raw := range raws {
			u, derr := decodeUpdate(raw)
			if derr != nil {
				if u.UpdateID > 0 && u.UpdateID < offset {
					continue // already passed
				}
				if !b.cfg.SkipMalformed || u.UpdateID == 0 {
					return derr
				}
				b.log.LogAttrs(ctx, slog.LevelWarn, "telegram: skipped an update that cannot be decoded",
					slog.Int64("update_id", u.UpdateID), slog.String("error", derr.Error()))
				offset = u.UpdateID + 1
				continue
			}
			if u.UpdateID < offset {
				continue // Telegram re-sent one we have already passed
			}
			if err := b.deliver(ctx, u, sink); err != nil {
				return err
			}
			offset = u.UpdateID + 1
		}
		if err := save(); err != nil {
			return err
		}
	}
}

func (s *Source) loadOffset(ctx context.Context) (int64, error) {
	cur, err := httpapi.LoadCheckpoint(ctx, s.b.cfg.Checkpoints, "telegram", s.b.cfg.Key)
	if err != nil || cur == "" {
		return 0, err
	}
	off, err := strconv.ParseInt(cur, 10, 64)
	if err != nil || off < 0 {
		return 0, fmt.Errorf("telegram: checkpoint %q holds %q, not an update offset", s.b.cfg.Key, cur)
	}
	return off, nil
}
