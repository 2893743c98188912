package vk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/SevereCloud/vksdk/v2/api"
	"github.com/SevereCloud/vksdk/v2/object"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// MaxExecuteCalls is how many API calls VK allows inside one execute
// request.
const MaxExecuteCalls = 25

// MonitorConfig configures a Monitor.
type MonitorConfig struct {
	// API is the access; a user or service token reads public communities,
	// a community token only its own community.
	API API
	// Communities to watch. Required.
	Communities []Community
	// Checkpoints keeps one cursor per community under CheckpointPrefix +
	// community id (e.g. "vk:wall:-123"), saved together once per cycle
	// (in one write when it is a source.BatchSaver, as FileCheckpoints is);
	// default in-memory (a restart then starts over).
	Checkpoints source.Checkpoints
	// CheckpointPrefix, default "vk:wall:".
	CheckpointPrefix string
	// PollInterval is the pause between cycles; default 1 minute.
	PollInterval time.Duration
	// PostsPerCommunity is how many recent posts each cycle reads with
	// wall.get (1–100, default 20). New posts beyond that many within one
	// interval are missed, and comments are followed on these posts only:
	// raise it for busy communities or poll more often.
	PostsPerCommunity int
	// CommentsPerPost is how many of the newest top-level comments are read
	// when a post's comment count grows (1–100, default 100). More new
	// top-level comments than that under one post within one interval are
	// missed: poll more often for very busy posts.
	CommentsPerPost int
	// ThreadItems is how many replies of each comment's thread come along
	// with the comments (0–10, default 10). Longer threads cost one more
	// call each (up to their newest 100 replies), batched the same way.
	ThreadItems int
	// SkipHistory: on the first sight of a community (no checkpoint), mark
	// what is on its wall as seen instead of delivering it.
	SkipHistory bool
	// SkipCommunityPosts drops posts and comments the community itself
	// authored (from_id = -community): its own announcements and official
	// answers are not citizens' appeals.
	SkipCommunityPosts bool
	// Now is the clock for ReceivedAt; default time.Now.
	Now func() time.Time
	// OnMalformed is told about every object the Monitor skips because it
	// cannot be decoded: a post, a comment, a community's whole wall.get or
	// groups.getById entry. The error is a *MalformedError (it matches
	// source.ErrMalformed) naming the community and the object, never its
	// text or author. The other objects and communities go on; the cursor
	// moves past a skipped post or comment whose id is known, so it is
	// reported once. Every skip is also logged as a warning and counted in
	// CycleStats.Malformed. Called from the polling goroutine; keep it quick.
	OnMalformed func(err error)
}

// MalformedError is an object from VK the Monitor could not decode and
// skipped. It matches source.ErrMalformed and unwraps to the decoding error.
type MalformedError struct {
	Community int    // community (positive group id); 0 when not known or not a community
	Object    string // what was skipped: "post -123_456", "comment -123_456_c789", "wall.get result", ...
	Err       error
}

// Error names the community and the object.
func (e *MalformedError) Error() string {
	return fmt.Sprintf("vk: community %d: %s skipped: %v", e.Community, e.Object, e.Err)
}

// Unwrap returns the decoding error.
func (e *MalformedError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, source.ErrMalformed) true.
func (e *MalformedError) Is(target error) bool { return target == source.ErrMalformed }

// Monitor polls communities' walls for new posts, comments and replies. It
// is a source.Source and a source.Replier (answering needs a token allowed
// to comment as the community). One Run at a time.
type Monitor struct {
	cfg    MonitorConfig
	client *client
	m      mapper
	reply  replier
	guard  source.RunGuard

	requests atomic.Int64

	// State of the running Run; only touched under guard.
	resolved  []resolvedCommunity
	cursors   map[int]*wallCursor
	skipped   map[int]bool
	malformed int // objects skipped as malformed in the current cycle
}

type resolvedCommunity struct {
	id   int // positive group id, or minus the user id of a personal page (so the wall's owner id is always -id)
	conf Community
}

// CycleStats describes one polling cycle.
type CycleStats struct {
	Communities int // communities read
	Skipped     int // communities skipped (unavailable) so far in this Run
	Requests    int // HTTP requests to the API, retries included
	Delivered   int // appeals the sink accepted
	Malformed   int // objects skipped in this cycle because they could not be decoded (see MonitorConfig.OnMalformed)
}

// wallCursor is a community's saved position: the newest post delivered and,
// for each recent post, how many comments it had and the newest comment
// delivered.
type wallCursor struct {
	LastPost int                `json:"last_post"`
	Posts    map[int]*postState `json:"posts,omitempty"`
	// Since (unix time), when set, hides everything older: SkipHistory.
	Since int `json:"since,omitempty"`
}

type postState struct {
	Count       int `json:"n"`
	LastComment int `json:"last"`
}

// NewMonitor checks cfg and returns a Monitor. Screen names are resolved on
// the first Run.
func NewMonitor(cfg MonitorConfig) (*Monitor, error) {
	if len(cfg.Communities) == 0 {
		return nil, errors.New("vk: MonitorConfig.Communities is empty")
	}
	c, err := newClient(cfg.API)
	if err != nil {
		return nil, err
	}
	if cfg.Checkpoints == nil {
		cfg.Checkpoints = source.NewMemoryCheckpoints()
	}
	if cfg.CheckpointPrefix == "" {
		cfg.CheckpointPrefix = "vk:wall:"
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Minute
	}
	cfg.PostsPerCommunity = clamp(cfg.PostsPerCommunity, 1, 100, 20)
	cfg.CommentsPerPost = clamp(cfg.CommentsPerPost, 1, 100, 100)
	if cfg.ThreadItems == 0 {
		cfg.ThreadItems = 10
	}
	cfg.ThreadItems = clamp(cfg.ThreadItems, 0, 10, 10)
	for i, co := range cfg.Communities {
		if strings.TrimSpace(co.ID) == "" {
			return nil, fmt.Errorf("vk: MonitorConfig.Communities[%d]: empty id", i)
		}
	}
	m := &Monitor{cfg: cfg, client: c, m: mapper{now: cfg.Now}}
	m.client.count = &m.requests
	m.reply = replier{client: c}
	return m, nil
}

func clamp(v, lo, hi, def int) int {
	if v == 0 {
		return def
	}
	return max(lo, min(hi, v))
}

// Reply posts text under the appeal's post or comment as the community
// (wall.createComment with from_group), or answers a private message
// (messages.send).
func (m *Monitor) Reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	return m.reply.Reply(ctx, to, text)
}

// Run polls every PollInterval until ctx is cancelled (then it returns nil)
// or a fatal error: source.ErrAuth, ErrCaptcha, source.ErrMalformed, or the
// sink's error. Temporary failures and rate limits are retried with backoff;
// unavailable communities are skipped with a warning.
func (m *Monitor) Run(ctx context.Context, sink source.Sink) error {
	release, err := m.guard.Enter()
	if err != nil {
		return err
	}
	defer release()
	m.reset()
	for {
		if _, err := m.poll(ctx, sink); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := source.Sleep(ctx, m.cfg.PollInterval); err != nil {
			return nil
		}
	}
}

// Poll runs one polling cycle and returns what it cost. Use it to drive the
// Monitor from your own scheduler; it refuses to run alongside Run
// (source.ErrAlreadyRunning).
func (m *Monitor) Poll(ctx context.Context, sink source.Sink) (CycleStats, error) {
	release, err := m.guard.Enter()
	if err != nil {
		return CycleStats{}, err
	}
	defer release()
	return m.poll(ctx, sink)
}

func (m *Monitor) reset() {
	m.cursors = nil
	m.skipped = nil
}

func (m *Monitor) poll(ctx context.Context, sink source.Sink) (st CycleStats, err error) {
	start := m.requests.Load()
	m.malformed = 0
	defer func() {
		st.Requests = int(m.requests.Load() - start)
		st.Malformed = m.malformed
	}()
	if m.cursors == nil {
		m.cursors = make(map[int]*wallCursor)
		m.skipped = make(map[int]bool)
	}
	if m.resolved == nil {
		if err := m.resolve(ctx); err != nil {
			return st, err
		}
	}
	var active []int
	for _, rc := range m.resolved {
		if !m.skipped[rc.id] {
			active = append(active, rc.id)
		}
	}
	st.Communities = len(active)

	walls, err := m.fetchWalls(ctx, active)
	if err != nil {
		return st, err
	}
	// Which posts need their comments read: those whose count grew.
	var tasks []commentTask
	for _, gid := range active {
		w, ok := walls[gid]
		if !ok {
			continue
		}
		cur, err := m.cursor(ctx, gid)
		if err != nil {
			return st, err
		}
		if cur.LastPost == 0 && cur.Posts == nil && m.cfg.SkipHistory && cur.Since == 0 {
			cur.Since = int(m.now().Unix())
		}
		for _, p := range w {
			ps := cur.Posts[p.ID]
			known := 0
			if ps != nil {
				known = ps.Count
			}
			if p.Comments.Count > known {
				tasks = append(tasks, commentTask{gid: gid, post: p.ID})
			}
		}
	}
	comments, err := m.fetchComments(ctx, tasks)
	if err != nil {
		return st, err
	}
	// Cursors are saved together at the end of the cycle (one write for a
	// FileCheckpoints), and also when the sink refuses, so what it accepted
	// is not offered again.
	dirty := make(map[string]string)
	for _, gid := range active {
		w, ok := walls[gid]
		if !ok {
			continue
		}
		n, err := m.deliver(ctx, sink, gid, w, comments, dirty)
		st.Delivered += n
		if err != nil {
			if serr := m.saveAll(ctx, dirty); serr != nil {
				err = errors.Join(err, serr)
			}
			return st, err
		}
	}
	if err := m.saveAll(ctx, dirty); err != nil {
		return st, err
	}
	st.Skipped = len(m.skipped)
	return st, nil
}

func (m *Monitor) saveAll(ctx context.Context, dirty map[string]string) error {
	// Saving must not be cut short by the cancellation that may have ended
	// the cycle: what the sink accepted should not come again.
	ctx = context.WithoutCancel(ctx)
	if err := source.SaveAll(ctx, m.cfg.Checkpoints, dirty); err != nil {
		return fmt.Errorf("vk: save checkpoints of %d communities: %w", len(dirty), err)
	}
	return nil
}

func (m *Monitor) now() time.Time {
	if m.cfg.Now != nil {
		return m.cfg.Now()
	}
	return time.Now()
}

// key is the checkpoint key of a wall: the prefix and its owner id (gid is
// the positive group id, or minus the user id of a personal page).
func (m *Monitor) key(gid int) string { return m.cfg.CheckpointPrefix + strconv.Itoa(-gid) }

func (m *Monitor) cursor(ctx context.Context, gid int) (*wallCursor, error) {
	if c, ok := m.cursors[gid]; ok {
		return c, nil
	}
	raw, err := m.cfg.Checkpoints.Load(ctx, m.key(gid))
	if err != nil {
		return nil, fmt.Errorf("vk: load checkpoint %s: %w", m.key(gid), err)
	}
	c := &wallCursor{}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), c); err != nil {
			return nil, fmt.Errorf("vk: checkpoint %s: %w: %v", m.key(gid), source.ErrMalformed, err)
		}
	}
	m.cursors[gid] = c
	return c, nil
}

// reportMalformed logs and reports an object that is skipped because it
// cannot be decoded; the cycle goes on without it.
func (m *Monitor) reportMalformed(gid int, object string, err error) {
	me := &MalformedError{Community: gid, Object: object, Err: err}
	m.malformed++
	m.client.log.Warn("vk: malformed object skipped", "community", -gid, "object", object, "err", err)
	if m.cfg.OnMalformed != nil {
		m.cfg.OnMalformed(me)
	}
}

// itemID reads just the "id" of an object that did not decode, so the
// cursor can still move past it; 0 when even that is unreadable.
func itemID(raw json.RawMessage) int {
	var v struct {
		ID int `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	return v.ID
}

func (m *Monitor) skip(gid int, err error) {
	if !m.skipped[gid] {
		m.client.log.Warn("vk: skipping community", "community", -gid, "err", err)
	}
	m.skipped[gid] = true
}

// resolve turns the configured ids and screen names into group ids with
// groups.getById (500 per call) and fills in names.
func (m *Monitor) resolve(ctx context.Context) error {
	var out []resolvedCommunity
	byKey := map[string]object.GroupsGroup{}
	groupConf, people := splitPeople(m.cfg.Communities)
	keys := make([]string, 0, len(groupConf))
	for _, c := range groupConf {
		if id := numericGroupID(c.ID); id > 0 {
			keys = append(keys, strconv.Itoa(id))
		} else {
			keys = append(keys, c.ID)
		}
	}
	for chunk := range slices.Chunk(keys, 500) {
		var raws []json.RawMessage
		err := m.client.callRetry(ctx, "groups.getById", api.Params{"group_ids": strings.Join(chunk, ","), "fields": "verified"}, &raws)
		var ve *Error
		switch {
		case errors.As(err, &ve) && !errors.Is(err, source.ErrAuth):
			// VK refuses the whole call for one bad id (error 100). Go on
			// with numeric ids as they are (names unknown); screen names in
			// this chunk then fail below, by name.
			m.client.log.Warn("vk: groups.getById refused; using numeric ids without names", "err", err)
			continue
		case err != nil:
			return fmt.Errorf("vk: resolving communities: %w", err)
		}
		for _, raw := range raws {
			var g object.GroupsGroup
			if err := json.Unmarshal(raw, &g); err != nil {
				// Numeric ids still work without the name; a screen
				// name then fails below, by name.
				m.reportMalformed(itemID(raw), "groups.getById entry", err)
				continue
			}
			byKey[strconv.Itoa(g.ID)] = g
			if g.ScreenName != "" {
				byKey[strings.ToLower(g.ScreenName)] = g
			}
		}
	}
	m.m.communities = make(map[int]Community)
	seen := map[int]bool{}
	for i, c := range groupConf {
		g, ok := byKey[strings.ToLower(keys[i])]
		if !ok {
			if id := numericGroupID(c.ID); id > 0 {
				g = object.GroupsGroup{ID: id}
			} else {
				return fmt.Errorf("vk: community %q (Communities[%d]) not found: use its numeric id or check the screen name", c.ID, i)
			}
		}
		if seen[g.ID] {
			continue
		}
		seen[g.ID] = true
		if c.Name == "" {
			c.Name = plainText(g.Name) // VK escapes names too: "Школа &quot;Радуга&quot;"
		}
		if bool(g.Verified) {
			c.Official = true // VK's mark (госметка): no "!" needed
		}
		if g.Deactivated != "" {
			m.client.log.Warn("vk: community is deactivated, skipping", "community", -g.ID, "state", g.Deactivated)
			if m.skipped == nil {
				m.skipped = map[int]bool{}
			}
			m.skipped[g.ID] = true
		}
		m.m.communities[g.ID] = c
		out = append(out, resolvedCommunity{id: g.ID, conf: c})
	}
	pr, err := m.resolvePeople(ctx, people)
	if err != nil {
		return err
	}
	m.resolved = append(out, pr...)
	return nil
}

// executeBatch runs calls (VKScript expressions) 25 at a time and hands each
// result, or the error VK reported for it, to each.
func (m *Monitor) executeBatch(ctx context.Context, calls []string, each func(i int, raw json.RawMessage, err error) error) error {
	for off := 0; off < len(calls); off += MaxExecuteCalls {
		chunk := calls[off:min(off+MaxExecuteCalls, len(calls))]
		results, callErrs, err := m.executeChunk(ctx, chunk)
		if err != nil {
			return err
		}
		for i := range chunk {
			if err := each(off+i, results[i], callErrs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// executeRateLimitAttempts is how often one call inside execute is tried
// within a cycle while VK answers it with 6, 9 or 29.
const executeRateLimitAttempts = 3

// executeChunk runs up to MaxExecuteCalls calls in one execute request and
// returns each call's result and error. Calls that VK refused with a rate
// limit inside execute (6, 9, 29 in execute_errors; the request itself
// succeeded) are sent again, alone, after the wait their code asks for —
// up to executeRateLimitAttempts times — instead of losing the cycle for
// those communities or hammering VK with the next request at once.
func (m *Monitor) executeChunk(ctx context.Context, chunk []string) ([]json.RawMessage, []error, error) {
	results := make([]json.RawMessage, len(chunk))
	callErrs := make([]error, len(chunk))
	pending := make([]int, len(chunk))
	for i := range pending {
		pending[i] = i
	}
	for attempt := 1; ; attempt++ {
		code := make([]string, len(pending))
		for k, i := range pending {
			code[k] = chunk[i]
		}
		var raws []json.RawMessage
		errs, err := m.client.executeRetry(ctx, "return ["+strings.Join(code, ",")+"];", &raws)
		if err != nil {
			return nil, nil, err
		}
		if len(raws) != len(pending) {
			return nil, nil, fmt.Errorf("vk: execute: %w: %d results for %d calls", source.ErrMalformed, len(raws), len(pending))
		}
		var limited []int
		var wait time.Duration
		nextErr := 0
		for k, raw := range raws {
			i := pending[k]
			results[i], callErrs[i] = raw, nil
			if !bytes.Equal(bytes.TrimSpace(raw), []byte("false")) {
				continue
			}
			if nextErr < len(errs) {
				e := errs[nextErr]
				callErrs[i] = codeError(e.Method, e.Code, e.Msg, nil)
			} else {
				callErrs[i] = fmt.Errorf("vk: execute: call %d failed without an error", i)
			}
			nextErr++
			var rl *source.RateLimitError
			if errors.As(callErrs[i], &rl) {
				limited = append(limited, i)
				wait = max(wait, rl.Wait)
			}
		}
		if len(limited) == 0 || attempt >= executeRateLimitAttempts {
			return results, callErrs, nil
		}
		wait = max(wait, m.client.backoff.Delay(attempt))
		m.client.log.Warn("vk: rate limited inside execute; waiting before sending those calls again",
			"calls", len(limited), "wait", wait, "err", callErrs[limited[0]])
		if err := source.Sleep(ctx, wait); err != nil {
			return nil, nil, err
		}
		pending = limited
	}
}

// perCallError decides what a failed call inside execute means for the
// cycle: fatal (returned) or skip this community (nil).
func (m *Monitor) perCallError(gid int, err error) error {
	switch {
	case errors.Is(err, source.ErrAuth), errors.Is(err, ErrCaptcha):
		return err
	case source.Retryable(err):
		// Next cycle will try again.
		m.client.log.Warn("vk: community not read this cycle", "community", -gid, "err", err)
		return nil
	default:
		m.skip(gid, err)
		return nil
	}
}

func (m *Monitor) fetchWalls(ctx context.Context, gids []int) (map[int][]object.WallWallpost, error) {
	calls := make([]string, len(gids))
	for i, gid := range gids {
		calls[i] = fmt.Sprintf(`API.wall.get({"owner_id":%d,"count":%d,"filter":"all"})`, -gid, m.cfg.PostsPerCommunity)
	}
	walls := make(map[int][]object.WallWallpost, len(gids))
	err := m.executeBatch(ctx, calls, func(i int, raw json.RawMessage, err error) error {
		gid := gids[i]
		if err != nil {
			return m.perCallError(gid, err)
		}
		var resp struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(raw, &resp); err != nil {
			// Not read this cycle; the others go on.
			m.reportMalformed(gid, "wall.get result", err)
			return nil
		}
		cur, err := m.cursor(ctx, gid)
		if err != nil {
			return err
		}
		posts := make([]object.WallWallpost, 0, len(resp.Items))
		for _, it := range resp.Items {
			var p object.WallWallpost
			if err := json.Unmarshal(it, &p); err != nil {
				id := itemID(it)
				if id > 0 && id <= cur.LastPost {
					continue // reported when it was new; it stays on the wall
				}
				m.reportMalformed(gid, "post "+PostExternalID(-gid, id), err)
				if id > 0 {
					posts = append(posts, malformedPost(gid, id))
				}
				continue
			}
			posts = append(posts, p)
		}
		walls[gid] = posts
		return nil
	})
	return walls, err
}

// malformedPost stands in for a post that could not be decoded: deliver
// moves the cursor past it (its Date is 0, so it is never delivered) and no
// comments are read for it.
func malformedPost(gid, id int) object.WallWallpost {
	return object.WallWallpost{ID: id, OwnerID: -gid}
}

// decodeComments decodes wall.getComments items one by one: a comment that
// cannot be decoded is reported and replaced by a deleted stand-in (so the
// cursor moves past it), and a thread reply that cannot be decoded spoils
// only itself, not the comment that holds the thread.
func (m *Monitor) decodeComments(gid, post int, items []json.RawMessage) []object.WallWallComment {
	out := make([]object.WallWallComment, 0, len(items))
	lastSeen := 0
	if cur := m.cursors[gid]; cur != nil && cur.Posts[post] != nil {
		lastSeen = cur.Posts[post].LastComment
	}
	bad := func(raw json.RawMessage, err error) {
		id := itemID(raw)
		if id > 0 && id <= lastSeen {
			return // reported when it was new
		}
		m.reportMalformed(gid, "comment "+CommentExternalID(-gid, post, id), err)
		if id > 0 {
			out = append(out, object.WallWallComment{ID: id, Deleted: true})
		}
	}
	for _, raw := range items {
		var c object.WallWallComment
		err := json.Unmarshal(raw, &c)
		if err == nil {
			out = append(out, c)
			continue
		}
		// Decode the comment without its thread, then the replies alone.
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil || fields["thread"] == nil {
			bad(raw, err)
			continue
		}
		thread := fields["thread"]
		delete(fields, "thread")
		bare, _ := json.Marshal(fields)
		c = object.WallWallComment{}
		if err := json.Unmarshal(bare, &c); err != nil {
			bad(raw, err)
			continue
		}
		var th struct {
			Count int               `json:"count"`
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(thread, &th); err != nil {
			bad(raw, err)
			continue
		}
		c.Thread.Count = th.Count
		replies := m.decodeComments(gid, post, th.Items)
		c.Thread.Items = replies
		out = append(out, c)
	}
	return out
}

type commentTask struct{ gid, post int }

func (m *Monitor) fetchComments(ctx context.Context, tasks []commentTask) (map[commentTask][]object.WallWallComment, error) {
	calls := make([]string, len(tasks))
	for i, t := range tasks {
		calls[i] = fmt.Sprintf(`API.wall.getComments({"owner_id":%d,"post_id":%d,"count":%d,"sort":"desc","thread_items_count":%d,"preview_length":0})`,
			-t.gid, t.post, m.cfg.CommentsPerPost, m.cfg.ThreadItems)
	}
	out := make(map[commentTask][]object.WallWallComment, len(tasks))
	// Threads longer than ThreadItems are read on their own afterwards.
	type threadTask struct {
		commentTask
		comment int
	}
	var threads []threadTask
	err := m.executeBatch(ctx, calls, func(i int, raw json.RawMessage, err error) error {
		t := tasks[i]
		if err != nil {
			if errors.Is(err, source.ErrAuth) || errors.Is(err, ErrCaptcha) {
				return err
			}
			// Comments closed or the post deleted: next cycle tries again
			// only if the count grows further.
			m.client.log.Debug("vk: comments not read", "community", -t.gid, "post", t.post, "err", err)
			return nil
		}
		var resp struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(raw, &resp); err != nil {
			// The post's comments are not read this cycle; its count does
			// not move, so the next cycle tries again.
			m.reportMalformed(t.gid, "wall.getComments result of post "+PostExternalID(-t.gid, t.post), err)
			return nil
		}
		var flat []object.WallWallComment
		for _, c := range m.decodeComments(t.gid, t.post, resp.Items) {
			flat = append(flat, c)
			flat = append(flat, c.Thread.Items...)
			if c.Thread.Count > len(c.Thread.Items) {
				threads = append(threads, threadTask{commentTask: t, comment: c.ID})
			}
		}
		out[t] = flat
		return nil
	})
	if err != nil || len(threads) == 0 {
		return out, err
	}
	calls = make([]string, len(threads))
	for i, t := range threads {
		calls[i] = fmt.Sprintf(`API.wall.getComments({"owner_id":%d,"post_id":%d,"comment_id":%d,"count":100,"sort":"desc","preview_length":0})`,
			-t.gid, t.post, t.comment)
	}
	err = m.executeBatch(ctx, calls, func(i int, raw json.RawMessage, err error) error {
		t := threads[i]
		if err != nil {
			if errors.Is(err, source.ErrAuth) || errors.Is(err, ErrCaptcha) {
				return err
			}
			// Without the whole thread, do not let the cursor move past
			// replies that were not read: drop the post's comments for
			// this cycle.
			delete(out, t.commentTask)
			return nil
		}
		var resp struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(raw, &resp); err != nil {
			// As for an unread thread: keep the cursor before it.
			m.reportMalformed(t.gid, "wall.getComments result of thread "+CommentExternalID(-t.gid, t.post, t.comment), err)
			delete(out, t.commentTask)
			return nil
		}
		if cs, ok := out[t.commentTask]; ok {
			out[t.commentTask] = append(cs, m.decodeComments(t.gid, t.post, resp.Items)...)
		}
		return nil
	})
	return out, err
}

// deliver hands one community's new posts and comments to the sink, oldest
// first, moving its cursor past each accepted one. It records the cursor in
// dirty when it changed (also when the sink refuses); poll saves them all.
func (m *Monitor) deliver(ctx context.Context, sink source.Sink, gid int, wall []object.WallWallpost, comments map[commentTask][]object.WallWallComment, dirty map[string]string) (int, error) {
	cur, err := m.cursor(ctx, gid)
	if err != nil {
		return 0, err
	}
	before, _ := json.Marshal(cur)
	delivered := 0
	save := func() error {
		after, _ := json.Marshal(cur)
		if !bytes.Equal(before, after) {
			dirty[m.key(gid)] = string(after)
		}
		return nil
	}
	own := func(from int) bool { return m.cfg.SkipCommunityPosts && from == -gid }
	send := func(a appeal.Appeal) error {
		if err := sink(ctx, a); err != nil {
			return fmt.Errorf("vk: appeal %s: %w", a.ExternalID, err)
		}
		delivered++
		return nil
	}
	fail := func(err error) (int, error) {
		if serr := save(); serr != nil {
			err = errors.Join(err, serr)
		}
		return delivered, err
	}

	posts := slices.Clone(wall)
	slices.SortFunc(posts, func(a, b object.WallWallpost) int { return a.ID - b.ID })
	for _, p := range posts {
		if p.ID <= cur.LastPost {
			continue
		}
		if p.Date > cur.Since && !own(p.FromID) {
			if err := send(m.m.post(p)); err != nil {
				return fail(err)
			}
		}
		cur.LastPost = p.ID
	}

	window := make(map[int]*postState, len(posts))
	for _, p := range posts {
		ps := cur.Posts[p.ID]
		if ps == nil {
			ps = &postState{}
		}
		window[p.ID] = ps
	}
	// Forget posts that left the window, so the cursor stays small.
	cur.Posts = window
	for _, p := range posts {
		ps := window[p.ID]
		cs, fetched := comments[commentTask{gid: gid, post: p.ID}]
		if !fetched {
			if p.Comments.Count < ps.Count {
				ps.Count = p.Comments.Count // deletions
			}
			continue
		}
		cs = slices.Clone(cs)
		slices.SortFunc(cs, func(a, b object.WallWallComment) int { return a.ID - b.ID })
		for i, c := range cs {
			if c.ID <= ps.LastComment || i > 0 && cs[i-1].ID == c.ID { // a reply read twice (thread preview and whole thread)
				continue
			}
			hasContent := strings.TrimSpace(c.Text) != "" || len(c.Attachments) > 0
			if !bool(c.Deleted) && hasContent && c.Date > cur.Since && !own(c.FromID) {
				if err := send(m.m.comment(-gid, p.ID, c)); err != nil {
					return fail(err)
				}
			}
			ps.LastComment = c.ID
		}
		ps.Count = p.Comments.Count
	}
	if err := save(); err != nil {
		return delivered, err
	}
	return delivered, nil
}
