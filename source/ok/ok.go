// Package ok brings appeals from Odnoklassniki (ok.ru) groups through the
// OK REST API: the group's topics (mediatopic.getTopics) and the comments
// under them (discussions.getComments). No Go SDK exists; the small client
// here signs requests as the API requires (see Sign) and maps its error
// codes to the typed errors of package source.
//
//	src, err := ok.New(ok.Config{
//		ApplicationKey:       os.Getenv("OK_APP_KEY"),
//		ApplicationSecretKey: os.Getenv("OK_APP_SECRET"), // signs every call; never sent
//		AccessToken:          os.Getenv("OK_TOKEN"),
//		Groups:               []string{"57000000000001"},
//		Checkpoints:          store,
//	})
//	if err != nil {
//		return err
//	}
//	err = src.Run(ctx, pipeline.Sink("ok")) // topics and their comments, resumed from the checkpoint
//
// Each group keeps its own cursor in Checkpoints (key "ok:group:<id>"): the
// creation time of the newest topic delivered, and for each recent topic
// the time of its newest comment delivered (with the ids at that time, so
// that two messages within one second are neither lost nor repeated). The
// cursor moves only after the sink accepted the item.
//
// Appeals: a topic is KindPost with external id "<topic id>"; a comment is
// KindComment (KindReply when it answers another comment) with external id
// "<topic id>_<comment id>", Thread.RootID the topic and Thread.ParentID the
// topic or the comment it answers.
//
// # Keyword search
//
// The OK REST API offers applications no full-text search inside a group's
// topics and comments: search.tagContents finds content only by a #hashtag,
// and search.quick finds users and groups, not messages. Keyword search is
// therefore done here, on what the Source reads anyway: with
// Config.Keywords set, only topics and comments whose text holds one of the
// keywords become appeals (the cursor passes the others). It costs no extra
// call; it cannot reach groups the token does not read.
//
// # Replies
//
// Source is not a source.Replier. The public OK REST API method list
// (apiok.ru, sections discussions and mediatopic) documents reading
// discussions (discussions.getComments, discussions.getList) but no method
// an application may call to post a comment under a group topic on the
// group's behalf; mediatopic.post publishes a new topic, which is not an
// answer in the citizen's thread. Answers to OK appeals are posted by an
// operator in the group, and recorded with the appeal.
package ok

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/httpapi"
)

// Config configures the OK source.
type Config struct {
	// ApplicationKey is the application's public key, ApplicationSecretKey
	// its secret key, and AccessToken the (eternal or session) token of the
	// account that reads the groups. All three are required; the secret
	// and the token are never logged.
	ApplicationKey string
	// ApplicationSecretKey: see ApplicationKey.
	ApplicationSecretKey string
	// AccessToken: see ApplicationKey.
	AccessToken string

	// Groups are the numeric ids of the groups to monitor. Required.
	Groups []string
	// OfficialGroups lists the groups that are official pages (госпаблики);
	// their appeals get Community.Official.
	OfficialGroups []string

	// BaseURL of the REST endpoint (default DefaultBaseURL).
	BaseURL string
	// HTTPClient makes the calls (default: 30s timeout).
	HTTPClient *http.Client

	// Checkpoints keeps the per-group cursors. Nil starts fresh on every
	// Run.
	Checkpoints source.Checkpoints
	// PollInterval is the pause between polling rounds (default 1 min).
	PollInterval time.Duration
	// TopicsPerPage is how many topics one call asks for (default 20).
	TopicsPerPage int
	// MaxTopicPages bounds the catch-up after a long pause (default 5
	// pages a group a round).
	MaxTopicPages int
	// WatchTopics is how many of a group's most recent topics are checked
	// for new comments each round (default 10).
	WatchTopics int
	// CommentsPerPage (default 100) and MaxCommentPages (default 10) bound
	// the comments read per topic a round.
	CommentsPerPage int
	// MaxCommentPages: see CommentsPerPage.
	MaxCommentPages int
	// RequestsPerSecond caps calls to the API (default 5; negative: no
	// cap, for tests against a local server).
	RequestsPerSecond float64
	// Backoff spaces retries of temporary failures and rate limits.
	Backoff source.Backoff
	// Location is the zone comment dates are written in (default Moscow
	// time, UTC+3).
	Location *time.Location

	// Keywords, when not empty, keep only the topics and comments whose
	// text holds one of them (see the package documentation): a keyword
	// matches the start of a word, case and ё/е aside, so "мусор" matches
	// "мусора" and "мусоропровод"; a keyword of several words matches them
	// in a row.
	Keywords []string

	// Logger; nil means slog.Default(). Texts and authors are never
	// logged.
	Logger *slog.Logger
	// Now is the clock for ReceivedAt (default time.Now).
	Now func() time.Time
}

// Source polls OK groups. Create it with New. A second concurrent Run
// returns source.ErrAlreadyRunning.
type Source struct {
	cfg      Config
	c        *client
	lim      *rate.Limiter
	log      *slog.Logger
	official map[string]bool
	names    map[string]string // group id → name, filled by group.getInfo
	keywords keywords
	guard    source.RunGuard
}

var _ source.Source = (*Source)(nil)

// New checks cfg and returns a Source. It makes no call yet.
func New(cfg Config) (*Source, error) {
	switch {
	case cfg.ApplicationKey == "":
		return nil, errors.New("ok: Config.ApplicationKey is empty")
	case cfg.ApplicationSecretKey == "":
		return nil, errors.New("ok: Config.ApplicationSecretKey is empty")
	case cfg.AccessToken == "":
		return nil, errors.New("ok: Config.AccessToken is empty")
	case len(cfg.Groups) == 0:
		return nil, errors.New("ok: Config.Groups is empty")
	}
	for _, g := range cfg.Groups {
		if _, err := strconv.ParseUint(g, 10, 64); err != nil {
			return nil, fmt.Errorf("ok: group id %q is not numeric (use the id from the group's address, not its short name)", g)
		}
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Minute
	}
	cfg.TopicsPerPage = positive(cfg.TopicsPerPage, 20)
	cfg.MaxTopicPages = positive(cfg.MaxTopicPages, 5)
	cfg.WatchTopics = positive(cfg.WatchTopics, 10)
	cfg.CommentsPerPage = positive(cfg.CommentsPerPage, 100)
	cfg.MaxCommentPages = positive(cfg.MaxCommentPages, 10)
	if cfg.RequestsPerSecond == 0 {
		cfg.RequestsPerSecond = 5
	}
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("MSK", 3*60*60)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Source{
		cfg:      cfg,
		c:        newClient(cfg.BaseURL, cfg.ApplicationKey, cfg.ApplicationSecretKey, cfg.AccessToken, cfg.HTTPClient),
		lim:      source.NewLimiter(cfg.RequestsPerSecond),
		log:      source.Logger(cfg.Logger),
		official: map[string]bool{},
		names:    map[string]string{},
	}
	for _, g := range cfg.OfficialGroups {
		s.official[g] = true
	}
	kw, err := parseKeywords(cfg.Keywords)
	if err != nil {
		return nil, err
	}
	s.keywords = kw
	return s, nil
}

func positive(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// CheckpointKey returns the key a group's cursor is saved under.
func CheckpointKey(groupID string) string { return "ok:group:" + groupID }

// call waits for the limiter and retries temporary failures.
func (s *Source) call(ctx context.Context, method string, params url.Values, out any) error {
	return s.callWith(ctx, s.cfg.Backoff, method, params, out)
}

func (s *Source) callWith(ctx context.Context, b source.Backoff, method string, params url.Values, out any) error {
	return httpapi.RetryLogged(ctx, s.log, b, "ok: call failed, retrying", func(ctx context.Context) error {
		if err := source.Wait(ctx, s.lim); err != nil {
			return err
		}
		return s.c.call(ctx, method, params, out)
	}, slog.String("method", method))
}

// Run polls every group, round after round, until ctx is cancelled (then
// it returns nil). It returns early with an error matching source.ErrAuth
// when the credentials are refused, source.ErrMalformed when an answer
// cannot be decoded, or the sink's error (wrapped) when it refuses an
// appeal; the cursor of what was accepted is saved first. A group that is
// deleted, closed or restricted is skipped with a warning for that round.
func (s *Source) Run(ctx context.Context, sink source.Sink) (err error) {
	release, err := httpapi.StartRun(&s.guard, sink, "ok")
	if err != nil {
		return err
	}
	defer release()
	defer httpapi.NilOnCancel(ctx, &err)
	s.loadNames(ctx)
	for {
		for _, g := range s.cfg.Groups {
			if err := ctx.Err(); err != nil {
				return nil
			}
			err := s.pollGroup(ctx, g, sink)
			switch {
			case err == nil:
			case groupInaccessible(err):
				s.log.LogAttrs(ctx, slog.LevelWarn, "ok: group skipped this round", slog.String("group", g), slog.String("error", err.Error()))
			default:
				return err
			}
		}
		if err := source.Sleep(ctx, s.cfg.PollInterval); err != nil {
			return nil
		}
	}
}

// loadNames asks group.getInfo for the groups' names once; a failure only
// leaves names empty (polling reports real problems).
func (s *Source) loadNames(ctx context.Context) {
	if len(s.names) > 0 {
		return
	}
	var raw json.RawMessage
	params := url.Values{"uids": {strings.Join(s.cfg.Groups, ",")}, "fields": {"uid,name"}}
	b := s.cfg.Backoff
	b.MaxAttempts = 3 // names are a nicety: do not hold polling up for them
	if err := s.callWith(ctx, b, "group.getInfo", params, &raw); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "ok: group.getInfo failed; communities will carry ids only", slog.String("error", err.Error()))
		return
	}
	var groups []entityGroup
	if json.Unmarshal(raw, &groups) != nil {
		var wrapped struct {
			Groups []entityGroup `json:"groups"`
		}
		if json.Unmarshal(raw, &wrapped) != nil {
			return
		}
		groups = wrapped.Groups
	}
	for _, g := range groups {
		s.names[g.UID] = g.Name
	}
}

// cursor is one group's checkpoint.
type cursor struct {
	TopicMs  int64                    `json:"topic_ms"`            // created_ms of the newest topic delivered
	TopicIDs []string                 `json:"topic_ids,omitempty"` // topics delivered with that created_ms
	Comments map[string]commentCursor `json:"comments,omitempty"`  // topic id → its comment cursor
}

type commentCursor struct {
	At  time.Time `json:"at"`            // date of the newest comment delivered
	IDs []string  `json:"ids,omitempty"` // comments delivered with that date
}

func (s *Source) loadCursor(ctx context.Context, g string) (cursor, error) {
	c := cursor{Comments: map[string]commentCursor{}}
	raw, err := httpapi.LoadCheckpoint(ctx, s.cfg.Checkpoints, "ok", CheckpointKey(g))
	if err != nil || raw == "" {
		return c, err
	}
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return c, fmt.Errorf("ok: checkpoint %q is not a cursor this version wrote: %v", CheckpointKey(g), err)
	}
	if c.Comments == nil {
		c.Comments = map[string]commentCursor{}
	}
	return c, nil
}

func (s *Source) saveCursor(ctx context.Context, g string, c cursor) error {
	if s.cfg.Checkpoints == nil {
		return nil
	}
	b, _ := json.Marshal(c)
	return httpapi.SaveCheckpoint(ctx, s.cfg.Checkpoints, "ok", CheckpointKey(g), string(b))
}

// pollGroup delivers a group's new topics, then new comments of its most
// recent topics, and saves the cursor (also when it stops early).
func (s *Source) pollGroup(ctx context.Context, g string, sink source.Sink) (err error) {
	cur, err := s.loadCursor(ctx, g)
	if err != nil {
		return err
	}
	before, _ := json.Marshal(cur)
	defer func() {
		if after, _ := json.Marshal(cur); string(after) != string(before) {
			if serr := s.saveCursor(ctx, g, cur); serr != nil && err == nil {
				err = serr
			}
		}
	}()

	topics, ents, err := s.fetchTopics(ctx, g, cur)
	if err != nil {
		return err
	}
	// Oldest first, so that the cursor only ever moves forward.
	sort.SliceStable(topics, func(i, j int) bool {
		if topics[i].CreatedMs != topics[j].CreatedMs {
			return topics[i].CreatedMs < topics[j].CreatedMs
		}
		return topics[i].ID < topics[j].ID
	})
	for _, t := range topics {
		if !newerTopic(t.CreatedMs, t.ID, cur) {
			continue
		}
		a := s.topicAppeal(g, t, ents)
		if err := s.deliver(ctx, sink, a, "topic "+t.ID+" of group "+g); err != nil {
			return err
		}
		if t.CreatedMs > cur.TopicMs {
			cur.TopicMs, cur.TopicIDs = t.CreatedMs, nil
		}
		cur.TopicIDs = append(cur.TopicIDs, t.ID)
	}

	// Comments of the most recent topics.
	watch := topics
	if len(watch) > s.cfg.WatchTopics {
		watch = watch[len(watch)-s.cfg.WatchTopics:]
	}
	// Only the watched topics keep a comment cursor; the others fell out of
	// the window.
	next := map[string]commentCursor{}
	for _, t := range watch {
		cc := cur.Comments[t.ID]
		err := s.pollComments(ctx, g, t.ID, &cc, sink)
		if !cc.At.IsZero() {
			next[t.ID] = cc
		}
		if err != nil {
			for id, c := range next {
				cur.Comments[id] = c
			}
			return err
		}
	}
	cur.Comments = next
	return nil
}

// newerTopic and newerComment report whether an item comes after a cursor:
// a later time, or the same time and an id the cursor has not delivered.
func newerTopic(ms int64, id string, cur cursor) bool {
	return ms > cur.TopicMs || ms == cur.TopicMs && !slices.Contains(cur.TopicIDs, id)
}

func newerComment(at time.Time, id string, cc *commentCursor) bool {
	return at.After(cc.At) || at.Equal(cc.At) && !slices.Contains(cc.IDs, id)
}

// fetchTopics reads the newest topics, paging back while every topic on a
// page is new (a catch-up after a pause), up to MaxTopicPages.
func (s *Source) fetchTopics(ctx context.Context, g string, cur cursor) ([]topic, entities, error) {
	var all []topic
	var ents entities
	anchor := ""
	for page := 0; page < s.cfg.MaxTopicPages; page++ {
		params := url.Values{
			"gid":    {g},
			"count":  {strconv.Itoa(s.cfg.TopicsPerPage)},
			"fields": {"media_topic.*,user.uid,user.name,group.uid,group.name"},
		}
		if anchor != "" {
			params.Set("anchor", anchor)
			params.Set("direction", "BACKWARD")
		}
		var res topicsResponse
		if err := s.call(ctx, "mediatopic.getTopics", params, &res); err != nil {
			return nil, ents, fmt.Errorf("group %s: %w", g, err)
		}
		for i, t := range res.MediaTopics {
			if t.ID == "" {
				return nil, ents, fmt.Errorf("ok: mediatopic.getTopics: group %s: %w: media_topics[%d] has no id", g, source.ErrMalformed, i)
			}
		}
		all = append(all, res.MediaTopics...)
		ents.Users = append(ents.Users, res.Entities.Users...)
		ents.Groups = append(ents.Groups, res.Entities.Groups...)
		allNew := len(res.MediaTopics) > 0
		for _, t := range res.MediaTopics {
			if !newerTopic(t.CreatedMs, t.ID, cur) {
				allNew = false
				break
			}
		}
		if !res.HasMore || res.Anchor == "" || !allNew || cur.TopicMs == 0 {
			break // on the first run the newest page is enough
		}
		anchor = res.Anchor
	}
	return all, ents, nil
}

// pollComments delivers the new comments of one topic, updating cc as each
// is accepted.
func (s *Source) pollComments(ctx context.Context, g, topicID string, cc *commentCursor, sink source.Sink) error {
	var all []comment
	var ents entities
	anchor := ""
	for page := 0; page < s.cfg.MaxCommentPages; page++ {
		params := url.Values{
			"discussionId":   {topicID},
			"discussionType": {"GROUP_TOPIC"},
			"count":          {strconv.Itoa(s.cfg.CommentsPerPage)},
			"direction":      {"FORWARD"},
			"fields":         {"comment.*,user.uid,user.name"},
		}
		if anchor != "" {
			params.Set("anchor", anchor)
		}
		var res commentsResponse
		if err := s.call(ctx, "discussions.getComments", params, &res); err != nil {
			return fmt.Errorf("group %s topic %s: %w", g, topicID, err)
		}
		all = append(all, res.Comments...)
		ents.Users = append(ents.Users, res.Entities.Users...)
		if !res.HasMore || res.Anchor == "" || res.Anchor == anchor {
			break
		}
		anchor = res.Anchor
	}
	type dated struct {
		c  comment
		at time.Time
	}
	items := make([]dated, 0, len(all))
	for i, c := range all {
		if c.ID == "" {
			return fmt.Errorf("ok: discussions.getComments: topic %s: %w: comments[%d] has no id", topicID, source.ErrMalformed, i)
		}
		at, err := time.ParseInLocation("2006-01-02 15:04:05", c.Date, s.cfg.Location)
		if err != nil {
			return fmt.Errorf("ok: discussions.getComments: topic %s: %w: comment %s: date %q is not \"YYYY-MM-DD hh:mm:ss\"", topicID, source.ErrMalformed, c.ID, c.Date)
		}
		items = append(items, dated{c, at.UTC()})
	}
	sort.SliceStable(items, func(i, j int) bool {
		if !items[i].at.Equal(items[j].at) {
			return items[i].at.Before(items[j].at)
		}
		return items[i].c.ID < items[j].c.ID
	})
	for _, it := range items {
		if !newerComment(it.at, it.c.ID, cc) {
			continue
		}
		// A comment written on behalf of the group is its administration
		// answering, not an appeal; the cursor passes it.
		if it.c.AuthorType != "GROUP" {
			a := s.commentAppeal(g, topicID, it.c, it.at, ents)
			if err := s.deliver(ctx, sink, a, "comment "+it.c.ID+" on topic "+topicID); err != nil {
				return err
			}
		}
		if it.at.After(cc.At) {
			cc.At, cc.IDs = it.at, nil
		}
		cc.IDs = append(cc.IDs, it.c.ID)
	}
	return nil
}

func (s *Source) deliver(ctx context.Context, sink source.Sink, a appeal.Appeal, what string) error {
	if strings.TrimSpace(a.Text) == "" {
		// A photo or a sticker without words: nothing to classify or
		// answer. The cursor passes it.
		s.log.LogAttrs(ctx, slog.LevelDebug, "ok: skipped a message without text", slog.String("what", what))
		return nil
	}
	if !s.keywords.match(a.Text) {
		s.log.LogAttrs(ctx, slog.LevelDebug, "ok: skipped a message without the keywords", slog.String("what", what))
		return nil
	}
	if err := a.Normalize(); err != nil {
		return fmt.Errorf("ok: %s: %w: %v", what, source.ErrMalformed, err)
	}
	if err := sink(ctx, a); err != nil {
		return fmt.Errorf("ok: %s: appeal %s not accepted: %w", what, a.ID, err)
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "ok: delivered", source.AppealAttr("appeal", a))
	return nil
}

func (s *Source) community(g string, ents entities) appeal.Community {
	name := s.names[g]
	if name == "" {
		for _, eg := range ents.Groups {
			if eg.UID == g {
				name = eg.Name
			}
		}
	}
	return appeal.Community{ID: g, Name: name, Official: s.official[g]}
}

func (s *Source) topicAppeal(g string, t topic, ents entities) appeal.Appeal {
	var texts []string
	var atts []appeal.Attachment
	for _, m := range t.Media {
		switch m.Type {
		case "text":
			if strings.TrimSpace(m.Text) != "" {
				texts = append(texts, m.Text)
			}
		case "link":
			atts = append(atts, appeal.Attachment{Type: "link", URL: m.URL})
		case "photo", "video", "poll", "music":
			atts = append(atts, appeal.Attachment{Type: m.Type})
		}
	}
	a := appeal.Appeal{
		Network:     appeal.NetworkOK,
		Kind:        appeal.KindPost,
		ExternalID:  t.ID,
		URL:         "https://ok.ru/group/" + g + "/topic/" + t.ID,
		Text:        strings.Join(texts, "\n"),
		Community:   s.community(g, ents),
		ReceivedAt:  s.cfg.Now(),
		Attachments: atts,
	}
	if t.CreatedMs > 0 {
		a.CreatedAt = time.UnixMilli(t.CreatedMs).UTC()
	}
	if uid, ok := strings.CutPrefix(t.AuthorRef, "user:"); ok {
		a.Author = appeal.Author{ID: uid, Name: ents.userName(uid), ProfileURL: "https://ok.ru/profile/" + uid}
	}
	return a
}

func (s *Source) commentAppeal(g, topicID string, c comment, at time.Time, ents entities) appeal.Appeal {
	a := appeal.Appeal{
		Network:    appeal.NetworkOK,
		Kind:       appeal.KindComment,
		ExternalID: topicID + "_" + c.ID,
		URL:        "https://ok.ru/group/" + g + "/topic/" + topicID,
		Text:       c.Text,
		Community:  s.community(g, ents),
		Thread:     appeal.Thread{RootID: topicID, ParentID: topicID},
		CreatedAt:  at,
		ReceivedAt: s.cfg.Now(),
	}
	if c.ReplyToCommentID != "" {
		a.Kind = appeal.KindReply
		a.Thread.ParentID = topicID + "_" + c.ReplyToCommentID
	}
	if c.AuthorID != "" {
		name := c.AuthorName
		if name == "" {
			name = ents.userName(c.AuthorID)
		}
		a.Author = appeal.Author{ID: c.AuthorID, Name: name, ProfileURL: "https://ok.ru/profile/" + c.AuthorID}
	}
	return a
}
