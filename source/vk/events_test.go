package vk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/sourcetest"
	"github.com/appealkit/appealkit/source/vk"
)

type lpFixture struct {
	Ts      string            `json:"ts"`
	Updates []json.RawMessage `json:"updates"`
}

func loadUpdates(t *testing.T) []json.RawMessage {
	t.Helper()
	data, err := os.ReadFile("testdata/longpoll_updates.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx lpFixture
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	return fx.Updates
}

// wantEvents is what the fixture's events must become.
var wantEvents = []struct {
	ext, kind, url, parent, author string
}{
	{"-218900_3412", "post", "https://vk.com/wall-218900_3412", "", "55501"},
	{"-218900_3400_c3420", "comment", "https://vk.com/wall-218900_3400?reply=3420", "-218900_3400", "55502"},
	{"-218900_3400_c3421", "reply", "https://vk.com/wall-218900_3400?reply=3421&thread=3420", "-218900_3400_c3420", "55503"},
	{"-218900_m55504_37", "message", "https://vk.com/gim218900?sel=55504", "", "55504"},
	{"-218900_t40123_c58", "comment", "https://vk.com/topic-218900_40123?post=58", "-218900_t40123", "55505"},
	{"-218900_p457239200_c77", "comment", "https://vk.com/photo-218900_457239200", "-218900_p457239200", "55506"},
}

// editCollect collects edits.
type editCollect struct {
	mu  sync.Mutex
	got []source.Edit
}

func (c *editCollect) sink(_ context.Context, e source.Edit) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, e)
	return nil
}

// checkFixtureEdit checks that the fixture's wall_reply_edit came as an
// edit of comment 3420, not as a new appeal.
func checkFixtureEdit(t *testing.T, c *editCollect) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.got) != 1 {
		t.Fatalf("got %d edits, want the one wall_reply_edit", len(c.got))
	}
	e := c.got[0]
	if e.Appeal.ID != "vk:-218900_3400_c3420" || e.Appeal.Kind != appeal.KindComment || !strings.HasSuffix(e.Appeal.Text, "уже неделю") ||
		e.Appeal.Author.ID != "55502" || e.EditedAt.IsZero() || !e.Appeal.Community.Official {
		t.Errorf("edit = %+v", e)
	}
}

func checkEvents(t *testing.T, got []appeal.Appeal) {
	t.Helper()
	if len(got) != len(wantEvents) {
		t.Fatalf("got %d appeals, want %d (the typing event is not an appeal)", len(got), len(wantEvents))
	}
	for i, w := range wantEvents {
		a := got[i]
		if a.ExternalID != w.ext || string(a.Kind) != w.kind || a.URL != w.url || a.Thread.ParentID != w.parent || a.Author.ID != w.author {
			t.Errorf("appeal %d = ext %s kind %s url %s parent %s author %s; want %+v", i, a.ExternalID, a.Kind, a.URL, a.Thread.ParentID, a.Author.ID, w)
		}
		if a.Community.ID != "-218900" || !a.Community.Official || a.Community.Name != "Администрация Курска" {
			t.Errorf("appeal %d community = %+v", i, a.Community)
		}
		if a.Text == "" || a.CreatedAt.IsZero() {
			t.Errorf("appeal %d: empty text or date", i)
		}
		if err := a.Normalize(); err != nil {
			t.Errorf("appeal %d: %v", i, err)
		}
	}
	post := got[0]
	if post.Geo == nil || post.Geo.Lat != 51.730846 || post.Geo.Lon != 36.193015 {
		t.Errorf("post geo = %+v", post.Geo)
	}
	if len(post.Attachments) != 1 || post.Attachments[0].URL != "https://sun9-1.userapi.com/impg/big.jpg" {
		t.Errorf("post attachments = %+v", post.Attachments)
	}
}

func TestLongPollDeliversFixtureEvents(t *testing.T) {
	f := newFakeVK(t)
	for _, ev := range loadUpdates(t) {
		f.addEvent(ev)
	}
	var edits editCollect
	lp, err := vk.NewLongPoll(vk.LongPollConfig{API: f.api(), GroupID: 218900, Official: true, Name: "Администрация Курска", Wait: 1, ConfigureGroup: true,
		Edits: edits.sink})
	if err != nil {
		t.Fatal(err)
	}
	var c collect
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- lp.Run(ctx, c.sink) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		n := len(c.got)
		c.mu.Unlock()
		edits.mu.Lock()
		n += len(edits.got)
		edits.mu.Unlock()
		if n >= len(wantEvents)+1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkEvents(t, c.got)
	checkFixtureEdit(t, &edits)
	set := f.directCalls("groups.setLongPollSettings")
	if len(set) != 1 || set[0].Params.Get("wall_post_new") != "1" || set[0].Params.Get("message_new") != "1" || set[0].Params.Get("enabled") != "1" ||
		set[0].Params.Get("wall_reply_edit") != "1" || set[0].Params.Get("board_post_edit") != "1" || set[0].Params.Get("photo_comment_edit") != "1" {
		t.Errorf("groups.setLongPollSettings calls = %+v", set)
	}
}

func TestLongPollFailedCodes(t *testing.T) {
	f := newFakeVK(t)
	f.lpFailNext = []string{`{"failed":2}`, `{"failed":1,"ts":1}`, `{"failed":3}`}
	f.addEvent(loadUpdates(t)[0])
	lp, err := vk.NewLongPoll(vk.LongPollConfig{API: f.api(), GroupID: 218900, Wait: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan appeal.Appeal, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- lp.Run(ctx, func(_ context.Context, a appeal.Appeal) error { got <- a; return nil })
	}()
	select {
	case a := <-got:
		if a.ExternalID != "-218900_3412" {
			t.Fatalf("got %s", a.ExternalID)
		}
	case err := <-done:
		t.Fatalf("Run ended: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no event after failed 2, 1, 3")
	}
	cancel()
	<-done
	if n := len(f.directCalls("groups.getLongPollServer")); n != 3 { // start, failed 2, failed 3
		t.Errorf("groups.getLongPollServer called %d times, want 3", n)
	}
}

func TestLongPollConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Features{Checkpointed: true, Malformed: true},
		func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
			f := newFakeVK(t)
			for i, it := range up.Items {
				var ev string
				if i%2 == 0 {
					ev = fmt.Sprintf(`{"group_id":7,"type":"wall_post_new","event_id":"e%d","v":"5.131","object":{"id":%d,"from_id":%d,"owner_id":-7,"date":1701162000,"post_type":"post","text":%q,"comments":{"count":0}}}`, i, 100+i, 500+i, "Жалоба "+it.Text)
				} else {
					ev = fmt.Sprintf(`{"group_id":7,"type":"message_new","event_id":"e%d","v":"5.131","object":{"message":{"date":1701162000,"from_id":%d,"id":0,"out":0,"peer_id":%d,"text":%q,"conversation_message_id":%d,"attachments":[],"fwd_messages":[]},"client_info":{"keyboard":true}}}`, i, 500+i, 500+i, "Вопрос "+it.Text, i)
				}
				f.addEvent(json.RawMessage(ev))
			}
			f.malformed = up.Malformed
			return func(cp source.Checkpoints) source.Source {
				lp, err := vk.NewLongPoll(vk.LongPollConfig{API: f.api(), GroupID: 7, Checkpoints: cp, Wait: 1})
				if err != nil {
					t.Fatal(err)
				}
				return lp
			}
		})
}

func TestCallbackHandler(t *testing.T) {
	const secret = "s3cr3t-key"
	var accepted atomic.Int64
	var fail atomic.Bool
	var c collect
	var edits editCollect
	h, err := vk.NewCallbackHandler(vk.CallbackConfig{
		GroupID: 218900, Official: true, Name: "Администрация Курска",
		Confirmation: "1a2b3c4d", Secret: secret, MaxBodyBytes: 4096, Logger: discard, Edits: edits.sink,
	}, func(ctx context.Context, a appeal.Appeal) error {
		if fail.Load() {
			return errors.New("store down")
		}
		accepted.Add(1)
		return c.sink(ctx, a)
	})
	if err != nil {
		t.Fatal(err)
	}
	post := func(body []byte) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/vk/callback", bytes.NewReader(body)))
		return rec
	}
	withSecret := func(raw json.RawMessage, s string) []byte {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		m["secret"] = s
		out, _ := json.Marshal(m)
		return out
	}

	conf, _ := os.ReadFile("testdata/callback_confirmation.json")
	if rec := post(conf); rec.Code != 200 || rec.Body.String() != "1a2b3c4d" {
		t.Fatalf("confirmation: %d %q", rec.Code, rec.Body)
	}
	updates := loadUpdates(t)
	if rec := post(withSecret(updates[0], "wrong")); rec.Code != http.StatusForbidden {
		t.Fatalf("wrong secret: %d, want 403", rec.Code)
	}
	if rec := post(updates[0]); rec.Code != http.StatusForbidden {
		t.Fatalf("missing secret: %d, want 403", rec.Code)
	}
	if rec := post(bytes.Repeat([]byte(" "), 5000)); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("huge body: %d, want 413", rec.Code)
	}
	if rec := post([]byte(`{"type":"wall_post_new","object":`)); rec.Code != http.StatusBadRequest {
		t.Fatalf("malformed: %d, want 400", rec.Code)
	}
	if rec := post(withSecret(json.RawMessage(`{"type":"wall_post_new","group_id":218900,"event_id":"x","object":{"id":"not a number"}}`), secret)); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "wall_post_new") {
		t.Fatalf("mistyped object: %d %q, want 400 naming the event", rec.Code, rec.Body)
	}

	// The sink refuses: not "ok", so VK redelivers; then it accepts.
	fail.Store(true)
	if rec := post(withSecret(updates[0], secret)); rec.Code != http.StatusInternalServerError {
		t.Fatalf("sink refused: %d, want 500", rec.Code)
	}
	fail.Store(false)
	for _, u := range updates {
		if rec := post(withSecret(u, secret)); rec.Code != 200 || rec.Body.String() != "ok" {
			t.Fatalf("event: %d %q", rec.Code, rec.Body)
		}
	}
	checkEvents(t, c.got)
	checkFixtureEdit(t, &edits)
	// VK's redelivery of an accepted event reaches the sink once.
	if rec := post(withSecret(updates[0], secret)); rec.Body.String() != "ok" || accepted.Load() != int64(len(wantEvents)) {
		t.Fatalf("redelivery: %q, sink got %d, want %d", rec.Body, accepted.Load(), len(wantEvents))
	}
	if rec := httptest.NewRecorder(); true {
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/vk/callback", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Fatalf("GET: %d", rec.Code)
		}
	}
}
