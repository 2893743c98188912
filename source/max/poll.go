package max

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

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/httpapi"
)

// Source receives updates by long polling GET /updates. Create it with New.
// It is safe for concurrent use; a second concurrent Run returns
// source.ErrAlreadyRunning.
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

// Key returns the checkpoint key the marker is saved under.
func (s *Source) Key() string { return s.b.cfg.Key }

// Reply implements source.Replier: see the package documentation.
func (s *Source) Reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	return s.b.reply(ctx, to, text)
}

// Run polls /updates and delivers appeals until ctx is cancelled (then it
// returns nil). It returns early with an error matching source.ErrAuth when
// the token is refused, source.ErrMalformed when an update cannot be decoded
// (unless SkipMalformed), the sink's or edit sink's error (wrapped) when
// one refuses, and an *APIError for other refusals (405: a webhook is
// subscribed). Network faults, 5xx and 429 are retried with backoff.
func (s *Source) Run(ctx context.Context, sink source.Sink) (err error) {
	release, err := httpapi.StartRun(&s.guard, sink, "max")
	if err != nil {
		return err
	}
	defer release()
	defer httpapi.NilOnCancel(ctx, &err)
	b := s.b
	marker, err := s.loadMarker(ctx)
	if err != nil {
		return err
	}
	for {
		if ctx.Err() != nil {
			return nil
		}
		q := url.Values{
			"limit":   {strconv.Itoa(b.cfg.Limit)},
			"timeout": {strconv.Itoa(int(b.cfg.PollTimeout / time.Second))},
			"types":   {strings.Join(UpdateTypes, ",")},
		}
		if marker != "" {
			q.Set("marker", marker)
		}
		var list updateList
		err := httpapi.RetryLogged(ctx, b.log, b.cfg.Backoff, "max: /updates failed, retrying", func(ctx context.Context) error {
			list = updateList{}
			return b.call(ctx, http.MethodGet, "/updates", q, nil, &list)
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for i, raw := range list.Updates {
			where := fmt.Sprintf("update %d of the page after marker %q", i, marker)
			u, derr := decodeUpdate(raw, where)
			if derr == nil {
				derr = b.deliver(ctx, u, where, sink)
				if derr != nil && !errors.Is(derr, source.ErrMalformed) {
					return derr // a sink refused: the marker stays where it was
				}
			}
			if derr != nil {
				if !b.cfg.SkipMalformed {
					return derr
				}
				b.log.LogAttrs(ctx, slog.LevelWarn, "max: skipped an update that cannot be decoded", slog.String("error", derr.Error()))
			}
		}
		if list.Marker == nil {
			continue // nothing new; MAX keeps the position
		}
		next := strconv.FormatInt(*list.Marker, 10)
		if next == marker {
			continue
		}
		// Saved even if ctx was cancelled meanwhile: everything before
		// next was accepted.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpapi.SaveGrace)
		err = httpapi.SaveCheckpoint(sctx, b.cfg.Checkpoints, "max", b.cfg.Key, next)
		cancel()
		if err != nil {
			return err
		}
		marker = next
	}
}

func (s *Source) loadMarker(ctx context.Context) (string, error) {
	cur, err := httpapi.LoadCheckpoint(ctx, s.b.cfg.Checkpoints, "max", s.b.cfg.Key)
	if err != nil || cur == "" {
		return "", err
	}
	if _, err := strconv.ParseInt(cur, 10, 64); err != nil {
		return "", fmt.Errorf("max: checkpoint %q holds %q, not an /updates marker", s.b.cfg.Key, cur)
	}
	return cur, nil
}
