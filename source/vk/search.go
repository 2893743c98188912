package vk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/SevereCloud/vksdk/v2/api"
	"github.com/SevereCloud/vksdk/v2/object"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// SearchConfig configures a Search.
type SearchConfig struct {
	// API needs a user or service token: newsfeed.search is not available
	// to community tokens.
	API API
	// Query is what to search for, in VK's syntax: words (all must occur),
	// "#hashtag", "-word" to exclude. E.g. "Курск яма". Required.
	Query string
	// Near, when set, limits results to posts with a location close to it.
	Near *appeal.GeoPoint
	// Checkpoints keeps the position under CheckpointKey (default
	// "vk:search:" + Query); default in-memory.
	Checkpoints   source.Checkpoints
	CheckpointKey string
	// PollInterval, default 5 minutes.
	PollInterval time.Duration
	// PageSize is how many posts one request asks for (1–200, default
	// 200); MaxPages caps the pages per cycle (default 5; VK returns at most
	// 1,000 posts per query).
	PageSize int
	MaxPages int
	// Lookback is how far back the first cycle (no checkpoint) searches;
	// default 24 hours.
	Lookback time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// OnMalformed is told about every search result skipped because it
	// cannot be decoded, once per Run, with a *MalformedError (Community is
	// 0 for a post on a person's wall, whose id is not given: it is the
	// person's user id). The other results are delivered. Nil: only logged.
	OnMalformed func(err error)
}

// Search finds new posts across VK matching a query with newsfeed.search,
// paging with next_from. It is a source.Source; one Run at a time. Posts
// are delivered oldest first; the cursor is the newest delivered post's
// time and the ids delivered at that second.
type Search struct {
	cfg    SearchConfig
	client *client
	m      mapper
	guard  source.RunGuard
}

type searchCursor struct {
	T   int      `json:"t"`
	IDs []string `json:"ids,omitempty"`
}

// NewSearch checks cfg and returns a Search.
func NewSearch(cfg SearchConfig) (*Search, error) {
	if strings.TrimSpace(cfg.Query) == "" {
		return nil, errors.New("vk: SearchConfig.Query is empty")
	}
	c, err := newClient(cfg.API)
	if err != nil {
		return nil, err
	}
	if cfg.Checkpoints == nil {
		cfg.Checkpoints = source.NewMemoryCheckpoints()
	}
	if cfg.CheckpointKey == "" {
		cfg.CheckpointKey = "vk:search:" + cfg.Query
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Minute
	}
	cfg.PageSize = clamp(cfg.PageSize, 1, 200, 200)
	cfg.MaxPages = clamp(cfg.MaxPages, 1, 1000, 5)
	if cfg.Lookback <= 0 {
		cfg.Lookback = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Search{cfg: cfg, client: c, m: mapper{now: cfg.Now, communities: map[int]Community{}}}, nil
}

// Run searches every PollInterval until ctx is cancelled (then it returns
// nil) or a fatal error.
func (s *Search) Run(ctx context.Context, sink source.Sink) error {
	release, err := s.guard.Enter()
	if err != nil {
		return err
	}
	defer release()
	reported := map[string]bool{} // malformed results already reported in this Run
	for {
		if err := s.cycle(ctx, sink, reported); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := source.Sleep(ctx, s.cfg.PollInterval); err != nil {
			return nil
		}
	}
}

func (s *Search) cycle(ctx context.Context, sink source.Sink, reported map[string]bool) error {
	raw, err := s.cfg.Checkpoints.Load(ctx, s.cfg.CheckpointKey)
	if err != nil {
		return fmt.Errorf("vk: search: load checkpoint: %w", err)
	}
	var cur searchCursor
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &cur); err != nil {
			return fmt.Errorf("vk: search: checkpoint %s: %w: %v", s.cfg.CheckpointKey, source.ErrMalformed, err)
		}
	}
	start := cur.T
	if start == 0 {
		start = int(s.cfg.Now().Add(-s.cfg.Lookback).Unix())
	}

	var found []object.WallWallpost
	seen := map[string]bool{}
	next := ""
	for page := 0; page < s.cfg.MaxPages; page++ {
		p := api.Params{"q": s.cfg.Query, "count": s.cfg.PageSize, "start_time": start, "extended": 0}
		if s.cfg.Near != nil {
			p["latitude"], p["longitude"] = s.cfg.Near.Lat, s.cfg.Near.Lon
		}
		if next != "" {
			p["start_from"] = next
		}
		var resp struct {
			Items    []json.RawMessage `json:"items"`
			NextFrom string            `json:"next_from"`
		}
		if err := s.client.callRetry(ctx, "newsfeed.search", p, &resp); err != nil {
			return fmt.Errorf("vk: search %q: %w", s.cfg.Query, err)
		}
		for _, raw := range resp.Items {
			var it object.WallWallpost
			if err := json.Unmarshal(raw, &it); err != nil {
				s.reportMalformed(raw, err, reported)
				continue
			}
			ext := PostExternalID(it.OwnerID, it.ID)
			if it.ID == 0 || it.OwnerID == 0 || seen[ext] || it.Date < start {
				continue
			}
			seen[ext] = true
			found = append(found, it)
		}
		if resp.NextFrom == "" || resp.NextFrom == next || len(resp.Items) == 0 {
			break
		}
		next = resp.NextFrom
	}
	slices.SortFunc(found, func(a, b object.WallWallpost) int {
		if a.Date != b.Date {
			return a.Date - b.Date
		}
		return strings.Compare(PostExternalID(a.OwnerID, a.ID), PostExternalID(b.OwnerID, b.ID))
	})

	before := cur.T
	beforeN := len(cur.IDs)
	save := func() error {
		if cur.T == before && len(cur.IDs) == beforeN {
			return nil
		}
		b, _ := json.Marshal(cur)
		// WithoutCancel: record what the sink accepted even if ctx was
		// cancelled meanwhile.
		if err := s.cfg.Checkpoints.Save(context.WithoutCancel(ctx), s.cfg.CheckpointKey, string(b)); err != nil {
			return fmt.Errorf("vk: search: save checkpoint: %w", err)
		}
		return nil
	}
	for _, p := range found {
		ext := PostExternalID(p.OwnerID, p.ID)
		if p.Date < cur.T || p.Date == cur.T && slices.Contains(cur.IDs, ext) {
			continue
		}
		if err := sink(ctx, s.m.post(p)); err != nil {
			return errors.Join(fmt.Errorf("vk: search: appeal %s: %w", ext, err), save())
		}
		if p.Date > cur.T {
			cur.T, cur.IDs = p.Date, nil
		}
		cur.IDs = append(cur.IDs, ext)
	}
	return save()
}

// reportMalformed logs and reports a search result that cannot be decoded,
// once per Run: the search window keeps returning it for a while.
func (s *Search) reportMalformed(raw json.RawMessage, err error, reported map[string]bool) {
	var ref struct {
		ID      int `json:"id"`
		OwnerID int `json:"owner_id"`
	}
	_ = json.Unmarshal(raw, &ref)
	ext := PostExternalID(ref.OwnerID, ref.ID)
	if reported[ext] {
		return
	}
	reported[ext] = true
	me := &MalformedError{Community: -ref.OwnerID, Object: "search result " + ext, Err: err}
	if ref.OwnerID >= 0 {
		// A post on a person's wall: its id embeds the user id.
		me = &MalformedError{Object: "search result on a person's wall", Err: err}
	}
	s.client.log.Warn("vk: search: malformed result skipped", "object", me.Object, "err", err)
	if s.cfg.OnMalformed != nil {
		s.cfg.OnMalformed(me)
	}
}
