package vk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/SevereCloud/vksdk/v2/api"
	"github.com/SevereCloud/vksdk/v2/events"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// LongPollConfig configures a LongPoll.
type LongPollConfig struct {
	// API must carry a community token (TokenKind GroupToken) of the
	// community, with the "manage" right if ConfigureGroup is set.
	API API
	// GroupID is the community's id (positive). Required.
	GroupID int
	// Official and Name describe the community in the appeals.
	Official bool
	Name     string
	// Checkpoints keeps the last fully accepted ts under CheckpointKey
	// (default "vk:longpoll:<GroupID>"), so a restart resumes there while
	// VK still holds those events (a few hours); default in-memory.
	Checkpoints   source.Checkpoints
	CheckpointKey string
	// Wait is how long VK holds a request open with no events, in seconds
	// (1–90, default 25).
	Wait int
	// ConfigureGroup makes Run call groups.setLongPollSettings first: it
	// CHANGES THE COMMUNITY'S SETTINGS — turns Bots Long Poll on, sets its
	// API version to the client's and enables the AppealEvents types (others
	// stay as they are). Leave it off to configure the community by hand
	// (Manage → API usage → Long Poll API) and keep the token's rights to
	// the minimum.
	ConfigureGroup bool
	// Edits receives edited comments (wall_reply_edit, board_post_edit,
	// photo_comment_edit), typically source.StoreEdits(store). The ts is
	// saved only after it accepted them too. Nil skips edits: the stored
	// appeal keeps the text it had when it arrived.
	Edits source.EditSink
	// OnMalformed is told about every event skipped because its object
	// cannot be decoded (a mistyped field, a post without id); the error
	// matches source.ErrMalformed and names the event, never its text or
	// author. Such an event is logged and skipped, and the events after it
	// are delivered: stopping would meet it again after every restart,
	// since the ts cannot move past it. Nil: only logged. A response that
	// is not JSON at all still stops Run with source.ErrMalformed.
	OnMalformed func(err error)
}

// LongPoll receives the events of one community through the Bots Long Poll
// API and delivers those in AppealEvents as appeals. It is a source.Source
// and a source.Replier. One Run at a time.
type LongPoll struct {
	cfg    LongPollConfig
	client *client
	m      mapper
	reply  replier
	guard  source.RunGuard
}

// NewLongPoll checks cfg and returns a LongPoll.
func NewLongPoll(cfg LongPollConfig) (*LongPoll, error) {
	if cfg.GroupID <= 0 {
		return nil, fmt.Errorf("vk: LongPollConfig.GroupID must be the positive community id, got %d", cfg.GroupID)
	}
	c, err := newClient(cfg.API)
	if err != nil {
		return nil, err
	}
	if cfg.Checkpoints == nil {
		cfg.Checkpoints = source.NewMemoryCheckpoints()
	}
	if cfg.CheckpointKey == "" {
		cfg.CheckpointKey = "vk:longpoll:" + strconv.Itoa(cfg.GroupID)
	}
	cfg.Wait = clamp(cfg.Wait, 1, 90, 25)
	lp := &LongPoll{cfg: cfg, client: c, reply: replier{client: c}}
	lp.m.communities = map[int]Community{cfg.GroupID: {ID: strconv.Itoa(cfg.GroupID), Official: cfg.Official, Name: cfg.Name}}
	return lp, nil
}

// Reply answers the appeal in place (see Replier).
func (lp *LongPoll) Reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	return lp.reply.Reply(ctx, to, text)
}

type lpServer struct {
	server, key string
}

type lpResponse struct {
	Ts      json.RawMessage     `json:"ts"`
	Updates []events.GroupEvent `json:"updates"`
	Failed  int                 `json:"failed"`
}

// Run listens until ctx is cancelled (then it returns nil) or a fatal
// error. The ts is saved only after the sink accepted every appeal of a
// response (and the Edits sink every edit), so a refused appeal comes again
// after a restart (with the others of its response). If VK reports that events were lost (failed 1 or 3, e.g.
// after a long downtime), Run logs a warning and goes on from VK's ts.
func (lp *LongPoll) Run(ctx context.Context, sink source.Sink) error {
	release, err := lp.guard.Enter()
	if err != nil {
		return err
	}
	defer release()
	err = lp.run(ctx, sink)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (lp *LongPoll) run(ctx context.Context, sink source.Sink) error {
	if lp.cfg.ConfigureGroup {
		p := api.Params{"group_id": lp.cfg.GroupID, "enabled": true, "api_version": lp.client.vk.Version}
		for _, e := range AppealEvents {
			p[string(e)] = true
		}
		var ok int
		if err := lp.client.callRetry(ctx, "groups.setLongPollSettings", p, &ok); err != nil {
			return fmt.Errorf("vk: long poll: configuring community %d: %w", lp.cfg.GroupID, err)
		}
	}
	srv, serverTs, err := lp.server(ctx)
	if err != nil {
		return err
	}
	ts, err := lp.cfg.Checkpoints.Load(ctx, lp.cfg.CheckpointKey)
	if err != nil {
		return fmt.Errorf("vk: long poll: load checkpoint: %w", err)
	}
	if ts == "" {
		ts = serverTs
	}
	for {
		var resp lpResponse
		err := source.Retry(ctx, lp.client.backoff, func(ctx context.Context) error {
			var err error
			resp, err = lp.check(ctx, srv, ts)
			lp.client.logRetry("long poll", err)
			return err
		})
		if err != nil {
			return err
		}
		newTs := rawTs(resp.Ts)
		switch resp.Failed {
		case 0:
		case 1:
			lp.client.log.Warn("vk: long poll: event history outdated or partly lost; going on from the new ts", "community", lp.cfg.GroupID, "from_ts", ts, "to_ts", newTs)
			ts = newTs
			if err := lp.save(ctx, ts); err != nil {
				return err
			}
			continue
		case 2:
			if srv, _, err = lp.server(ctx); err != nil {
				return err
			}
			continue
		case 3:
			var fresh string
			if srv, fresh, err = lp.server(ctx); err != nil {
				return err
			}
			lp.client.log.Warn("vk: long poll: events lost; going on from the new ts", "community", lp.cfg.GroupID, "from_ts", ts, "to_ts", fresh)
			ts = fresh
			continue
		default:
			return fmt.Errorf("vk: long poll: %w: unknown failed code %d", source.ErrMalformed, resp.Failed)
		}
		if newTs == "" {
			return fmt.Errorf("vk: long poll: %w: response without ts", source.ErrMalformed)
		}
		for _, ev := range resp.Updates {
			mp, ok, err := lp.m.event(ev)
			if err != nil {
				lp.client.log.Warn("vk: long poll: malformed event skipped", "type", ev.Type, "event_id", ev.EventID, "err", err)
				if lp.cfg.OnMalformed != nil {
					lp.cfg.OnMalformed(err)
				}
				continue
			}
			if !ok {
				continue
			}
			if mp.edit {
				if err := deliverEdit(ctx, lp.cfg.Edits, mp.appeal, lp.client.log); err != nil {
					return fmt.Errorf("vk: long poll: %w", err)
				}
				continue
			}
			if err := sink(ctx, mp.appeal); err != nil {
				return fmt.Errorf("vk: long poll: appeal %s: %w", mp.appeal.RedactedID(), err)
			}
		}
		if newTs != ts {
			ts = newTs
			if err := lp.save(ctx, ts); err != nil {
				return err
			}
		}
	}
}

func (lp *LongPoll) save(ctx context.Context, ts string) error {
	// Record what the sink accepted even if ctx was cancelled meanwhile, so
	// that it is not offered again after a restart.
	if err := lp.cfg.Checkpoints.Save(context.WithoutCancel(ctx), lp.cfg.CheckpointKey, ts); err != nil {
		return fmt.Errorf("vk: long poll: save checkpoint: %w", err)
	}
	return nil
}

func rawTs(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	if uq, err := strconv.Unquote(s); err == nil {
		return uq
	}
	if s == "null" {
		return ""
	}
	return s
}

func (lp *LongPoll) server(ctx context.Context) (lpServer, string, error) {
	var s api.GroupsGetLongPollServerResponse
	if err := lp.client.callRetry(ctx, "groups.getLongPollServer", api.Params{"group_id": lp.cfg.GroupID}, &s); err != nil {
		return lpServer{}, "", fmt.Errorf("vk: long poll: groups.getLongPollServer of community %d: %w", lp.cfg.GroupID, err)
	}
	if s.Server == "" || s.Key == "" {
		return lpServer{}, "", fmt.Errorf("vk: long poll: %w: groups.getLongPollServer gave no server or key", source.ErrMalformed)
	}
	return lpServer{server: s.Server, key: s.Key}, s.Ts, nil
}

// check is one long-poll request: it blocks up to Wait seconds for events.
func (lp *LongPoll) check(ctx context.Context, srv lpServer, ts string) (lpResponse, error) {
	q := url.Values{"act": {"a_check"}, "key": {srv.key}, "ts": {ts}, "wait": {strconv.Itoa(lp.cfg.Wait)}}
	u := srv.server
	if strings.Contains(u, "?") {
		u += "&" + q.Encode()
	} else {
		u += "?" + q.Encode()
	}
	// The request may last Wait seconds; give the network some more.
	ctx, cancel := context.WithTimeout(ctx, time.Duration(lp.cfg.Wait)*time.Second+15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return lpResponse{}, fmt.Errorf("vk: long poll: %w", err)
	}
	resp, err := lp.client.vk.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return lpResponse{}, ctx.Err()
		}
		return lpResponse{}, fmt.Errorf("vk: long poll: %w: %v", source.ErrTemporary, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return lpResponse{}, fmt.Errorf("vk: long poll: %w: HTTP %s", source.ErrTemporary, resp.Status)
	}
	var out lpResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		if ctx.Err() != nil {
			return lpResponse{}, ctx.Err()
		}
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) {
			return lpResponse{}, fmt.Errorf("vk: long poll: %w: %v", source.ErrTemporary, err)
		}
		return lpResponse{}, fmt.Errorf("vk: long poll: %w: response to ts %s: %v", source.ErrMalformed, ts, err)
	}
	return out, nil
}
