package instagram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/httpapi"
)

// commentFields asks for what becomes an appeal, with the replies present
// when the comment is read.
const commentFields = "id,text,timestamp,username,from,parent_id,replies{id,text,timestamp,username,from,parent_id}"

// Source polls the comments of media. Create it with New. A second
// concurrent Run returns source.ErrAlreadyRunning.
type Source struct {
	a     *account
	guard source.RunGuard
}

var (
	_ source.Source  = (*Source)(nil)
	_ source.Replier = (*Source)(nil)
)

// New checks cfg and returns a polling Source. It makes no call yet.
func New(cfg Config) (*Source, error) {
	a, err := newAccount(cfg)
	if err != nil {
		return nil, err
	}
	if len(cfg.Media) == 0 && cfg.RecentMedia == 0 {
		return nil, errors.New("instagram: nothing to poll: set Config.Media or Config.RecentMedia")
	}
	return &Source{a: a}, nil
}

// Reply implements source.Replier: see the package documentation.
func (s *Source) Reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	return s.a.reply(ctx, to, text)
}

// CheckpointKey is the key the cursor of mediaID is saved under.
func CheckpointKey(mediaID string) string { return "instagram:" + mediaID }

// Run polls every PollInterval until ctx is cancelled (then it returns
// nil). It returns early with an error matching source.ErrAuth when the
// token is refused, source.ErrMalformed when a page cannot be decoded, and
// the sink's error (wrapped) when it refuses. A media the API refuses (it
// was deleted, or belongs to another account) is logged and skipped; the
// others go on.
func (s *Source) Run(ctx context.Context, sink source.Sink) (err error) {
	release, err := httpapi.StartRun(&s.guard, sink, "instagram")
	if err != nil {
		return err
	}
	defer release()
	defer httpapi.NilOnCancel(ctx, &err)
	a := s.a
	for {
		media, err := s.media(ctx)
		if err != nil {
			return err
		}
		for _, m := range media {
			err := s.pollMedia(ctx, m, sink)
			if err == nil {
				continue
			}
			var apiErr *APIError
			if ctx.Err() == nil && errors.As(err, &apiErr) && !errors.Is(err, source.ErrAuth) && !source.Retryable(err) {
				a.log.LogAttrs(ctx, slog.LevelWarn, "instagram: media skipped this cycle", slog.String("media", m), slog.String("error", err.Error()))
				continue
			}
			return err
		}
		if err := source.Sleep(ctx, a.cfg.PollInterval); err != nil {
			return nil
		}
	}
}

// media lists the media to poll: Config.Media and the newest
// Config.RecentMedia of the account, without repeats.
func (s *Source) media(ctx context.Context) ([]string, error) {
	a := s.a
	out := append([]string(nil), a.cfg.Media...)
	if a.cfg.RecentMedia == 0 {
		return out, nil
	}
	var page mediaPage
	err := source.Retry(ctx, a.cfg.Backoff, func(ctx context.Context) error {
		page = mediaPage{}
		return a.call(ctx, http.MethodGet, "/"+a.cfg.AccountID+"/media", url.Values{"fields": {"id,permalink"}, "limit": {itoa(a.cfg.RecentMedia)}}, &page)
	})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, m := range out {
		seen[m] = true
	}
	for i, m := range page.Data {
		if !numeric(m.ID) {
			return nil, fmt.Errorf("instagram: GET /{ig-user-id}/media: %w: data[%d].id %q is not a media id", source.ErrMalformed, i, m.ID)
		}
		if !seen[m.ID] {
			seen[m.ID] = true
			out = append(out, m.ID)
		}
	}
	return out, nil
}

// pollMedia reads the comments of one media from its saved cursor to the
// end, saving the cursor after every page the sink accepted.
func (s *Source) pollMedia(ctx context.Context, mediaID string, sink source.Sink) error {
	a := s.a
	key := CheckpointKey(mediaID)
	cursor, err := httpapi.LoadCheckpoint(ctx, a.cfg.Checkpoints, "instagram", key)
	if err != nil {
		return err
	}
	for {
		q := url.Values{"fields": {commentFields}, "limit": {itoa(a.cfg.PageSize)}}
		if cursor != "" {
			q.Set("after", cursor)
		}
		var page commentsPage
		err := httpapi.RetryLogged(ctx, a.log, a.cfg.Backoff, "instagram: comments call failed, retrying", func(ctx context.Context) error {
			page = commentsPage{}
			return a.call(ctx, http.MethodGet, "/"+mediaID+"/comments", q, &page)
		})
		if err != nil {
			return fmt.Errorf("media %s: %w", mediaID, err)
		}
		for i, c := range page.Data {
			if err := s.deliverTree(ctx, mediaID, c, sink); err != nil {
				return fmt.Errorf("instagram: media %s, comment %d of the page after cursor %q: %w", mediaID, i, cursor, err)
			}
		}
		if page.Paging == nil || page.Paging.Cursors.After == "" {
			return nil // nothing (new) after the cursor
		}
		next := page.Paging.Cursors.After
		if next != cursor {
			if err := httpapi.SaveCheckpoint(context.WithoutCancel(ctx), a.cfg.Checkpoints, "instagram", key, next); err != nil {
				return err
			}
		}
		cursor = next
		if page.Paging.Next == "" {
			return nil
		}
	}
}

func (s *Source) deliverTree(ctx context.Context, mediaID string, c igComment, sink source.Sink) error {
	created, err := parseTime(c.Timestamp)
	if err != nil {
		return err
	}
	if err := s.a.deliver(ctx, comment{id: c.ID, text: c.Text, parentID: c.ParentID, mediaID: mediaID,
		from: c.From, username: c.Username, created: created}, sink); err != nil {
		return err
	}
	if c.Replies == nil {
		return nil
	}
	for _, r := range c.Replies.Data {
		if r.ParentID == "" {
			r.ParentID = c.ID
		}
		r.Replies = nil
		if err := s.deliverTree(ctx, mediaID, r, sink); err != nil {
			return fmt.Errorf("reply %s: %w", r.ID, err)
		}
	}
	return nil
}
