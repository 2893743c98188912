package vk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/vk"
)

// The project's shared fixtures are real VK responses recorded by other
// projects' test suites (see ../../../shared/fixtures/SOURCES.txt). They are
// read in place, never copied; the test skips when they are absent.
const sharedVK = "../../../shared/fixtures/vk"

func readShared(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sharedVK, name))
	if err != nil {
		t.Skipf("shared VK fixture %s not available (%v); it lives outside the repository", name, err)
	}
	return data
}

// Every real Bots API event shape maps to the expected kind of appeal; the
// edits (wall_reply_edit) reach the Edits sink instead of the Sink.
func TestSharedEventFixtures(t *testing.T) {
	for name, kind := range map[string]appeal.Kind{
		"bivashy/wall_post_new_sample_5_110.json":                             appeal.KindPost,
		"bivashy/wall_reply_new_sample_5_110.json":                            appeal.KindComment,
		"bivashy/wall_reply_edit_sample_5_110.json":                           appeal.KindComment,
		"bivashy/message_new_text_sample_5_110.json":                          appeal.KindMessage,
		"bivashy/message_new_wall_reply_sample_5_110.json":                    appeal.KindMessage,
		"bivashy/board_post_new_sample_5_110.json":                            appeal.KindComment,
		"bivashy/photo_comment_new_sample_5_110.json":                         appeal.KindComment,
		"vknet/BotsLongPoll__GetBotsLongPollHistory_WallPostNewTest.json":     appeal.KindPost,
		"vknet/BotsLongPoll__GetBotsLongPollHistory_WallReplyNewTest.json":    appeal.KindComment,
		"vknet/BotsLongPoll__GetBotsLongPollHistory_WallReplyEditTest.json":   appeal.KindComment,
		"vknet/BotsLongPoll__GetBotsLongPollHistory_MessageNewTest.json":      appeal.KindMessage,
		"vknet/BotsLongPoll__GetBotsLongPollHistory_BoardPostNew.json":        appeal.KindComment,
		"vknet/BotsLongPoll__GetBotsLongPollHistory_PhotoCommentNewTest.json": appeal.KindComment,
	} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data := readShared(t, name)
			var updates []json.RawMessage
			var full struct {
				Updates []json.RawMessage `json:"updates"`
			}
			if err := json.Unmarshal(data, &full); err == nil && len(full.Updates) > 0 {
				updates = full.Updates
			} else {
				updates = []json.RawMessage{data} // a single update object
			}
			for _, u := range updates {
				var head struct {
					GroupID int `json:"group_id"`
				}
				if err := json.Unmarshal(u, &head); err != nil {
					t.Fatal(err)
				}
				var got, edited []appeal.Appeal
				h, err := vk.NewCallbackHandler(vk.CallbackConfig{GroupID: head.GroupID, Confirmation: "x", Logger: discard,
					Edits: func(_ context.Context, e source.Edit) error { edited = append(edited, e.Appeal); return nil }},
					func(_ context.Context, a appeal.Appeal) error { got = append(got, a); return nil })
				if err != nil {
					t.Fatal(err)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(u)))
				if rec.Code != 200 || rec.Body.String() != "ok" {
					t.Fatalf("handler answered %d %q", rec.Code, rec.Body)
				}
				if isEdit := strings.Contains(name, "_edit") || strings.Contains(name, "EditTest"); isEdit {
					got, edited = edited, got
				}
				if len(got) != 1 || len(edited) != 0 {
					t.Fatalf("got %d appeals and %d of the other kind (edit or new), want 1 and 0", len(got), len(edited))
				}
				a := got[0]
				if a.Kind != kind || a.Text == "" || a.CreatedAt.IsZero() || a.Author.ID == "" {
					t.Errorf("appeal = kind %s, text %d chars, created %v, author %q; want kind %s", a.Kind, len(a.Text), a.CreatedAt, a.Author.ID, kind)
				}
				if err := a.Normalize(); err != nil {
					t.Error(err)
				}
				if _, err := vk.ParseExternalID(a.ExternalID); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// A real newsfeed.search response (with next_from) decodes into appeals.
func TestSharedNewsfeedSearchFixture(t *testing.T) {
	data := readShared(t, "vknet/NewsFeed__Search_NextFrom_NotNull.json")
	var body struct {
		Response struct {
			Items []json.RawMessage `json:"items"`
		} `json:"response"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatal(err)
	}
	f := newFakeVK(t)
	f.handlers["newsfeed.search"] = func(url.Values) any {
		var b struct {
			Response json.RawMessage `json:"response"`
		}
		_ = json.Unmarshal(data, &b)
		return b.Response
	}
	s, err := vk.NewSearch(vk.SearchConfig{API: f.api(), Query: "заказ", Lookback: 100 * 365 * 24 * time.Hour, Checkpoints: source.NewMemoryCheckpoints()})
	if err != nil {
		t.Fatal(err)
	}
	var c collect
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, c.sink) }()
	for ctx.Err() == nil {
		c.mu.Lock()
		n := len(c.got)
		c.mu.Unlock()
		if n >= len(body.Response.Items) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(c.got) != len(body.Response.Items) {
		t.Fatalf("got %d appeals from %d items", len(c.got), len(body.Response.Items))
	}
	for _, a := range c.got {
		if a.Kind != appeal.KindPost || a.URL == "" || a.Author.ID == "" {
			t.Errorf("appeal %s: kind %s url %q author %q", a.ExternalID, a.Kind, a.URL, a.Author.ID)
		}
	}
}
