package telegram

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/adaptertest"
)

// sharedTelegram holds real Bot API updates recorded by other projects'
// test suites (origins in ../shared/fixtures/SOURCES.txt). They are read in
// place, never copied into the repository.
const sharedTelegram = "../../../shared/fixtures/telegram"

// readSharedUpdate reads one shared fixture as an update; a bare message
// (some suites record only the message) is wrapped in one. The test skips
// when the fixtures are absent, except in CI, where they must be there.
func readSharedUpdate(t *testing.T, name string, updateID int64) json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sharedTelegram, name))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared Telegram fixture %s: %v (CI must have ../shared)", name, err)
		}
		t.Skipf("shared Telegram fixture %s not available (%v); it lives outside the repository", name, err)
	}
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &fields), name)
	if _, ok := fields["update_id"]; !ok {
		fields = map[string]json.RawMessage{"message": data}
	}
	// Several suites number their updates alike; a poller needs them apart.
	fields["update_id"] = json.RawMessage(strings.TrimSpace(string(mustJSON(t, updateID))))
	return mustJSON(t, fields)
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

type sharedCase struct {
	file string
	ok   bool
	why  string // when not ok, part of the reason
	edit bool
	want func(t *testing.T, a appeal.Appeal, ev event)
}

var sharedCases = []sharedCase{
	{file: "telegram_types_message.json", ok: true, want: func(t *testing.T, a appeal.Appeal, _ event) {
		assert.Equal(t, appeal.KindMessage, a.Kind)
		assert.Equal(t, "12345678_11223", a.ExternalID)
		assert.Equal(t, appeal.Author{ID: "12345678", Name: "FirstName LastName", ProfileURL: "https://t.me/username"}, a.Author)
		assert.Equal(t, "Hi, world!", a.Text)
		assert.Equal(t, time.Unix(1508709711, 0).UTC(), a.CreatedAt)
		assert.Equal(t, "@city_reception_bot", a.Community.ID, "private messages belong to the bot")
	}},
	{file: "telegram_types_forwarded_message.json", ok: true, want: func(t *testing.T, a appeal.Appeal, _ event) {
		// A citizen forwards something to the bot: the sender is the author.
		assert.Equal(t, appeal.KindMessage, a.Kind)
		assert.Equal(t, "message text", a.Text)
		assert.Equal(t, "12345678", a.Author.ID)
		assert.Equal(t, time.Unix(1508912492, 0).UTC(), a.CreatedAt, "the message's date, not forward_date")
	}},
	{file: "telegram_types_reply_message.json", ok: true, want: func(t *testing.T, a appeal.Appeal, _ event) {
		assert.Equal(t, appeal.KindMessage, a.Kind, "a reply in a private chat is still a private message")
		assert.Equal(t, "Reply to quoted message", a.Text, "the quoted message is not mixed in")
	}},
	{file: "telegram_types_edited_message.json", ok: true, edit: true, want: func(t *testing.T, a appeal.Appeal, ev event) {
		assert.Equal(t, appeal.KindMessage, a.Kind)
		assert.Equal(t, "12345678_12345", a.ExternalID)
		assert.Equal(t, "hi there (edited)", a.Text)
		assert.Equal(t, time.Unix(1508825379, 0).UTC(), ev.editedAt)
	}},
	{file: "tgbot_update__message.json", ok: true, want: func(t *testing.T, a appeal.Appeal, _ event) {
		assert.Equal(t, appeal.KindMessage, a.Kind)
		assert.Equal(t, "1_1", a.ExternalID)
		assert.Equal(t, "message-text", a.Text)
		assert.True(t, a.CreatedAt.IsZero(), "date 0 means unknown")
	}},
	{file: "tgbot_update__edited_message.json", ok: true, edit: true, want: func(t *testing.T, a appeal.Appeal, ev event) {
		assert.Equal(t, "1111_1365", a.ExternalID)
		assert.Equal(t, "John Doe", a.Author.Name)
		assert.Equal(t, "Edited text", a.Text)
		assert.Equal(t, time.Unix(1441, 0).UTC(), ev.editedAt)
	}},
	{file: "tgbot_update__channel_post.json", ok: true, want: func(t *testing.T, a appeal.Appeal, _ event) {
		assert.Equal(t, appeal.KindPost, a.Kind)
		assert.Equal(t, "1_1111", a.ExternalID)
		assert.Equal(t, appeal.Community{ID: "1", Name: "Channel"}, a.Community)
		assert.Equal(t, "https://t.me/channel_username/1111", a.URL)
		assert.Equal(t, appeal.Author{Name: "John D."}, a.Author, "the signature, not the channel")
	}},
	{file: "tgbot_update__edited_channel_post.json", ok: true, edit: true, want: func(t *testing.T, a appeal.Appeal, _ event) {
		assert.Equal(t, appeal.KindPost, a.Kind)
		assert.Equal(t, "1_1111", a.ExternalID, "the edit names the post it changes")
	}},
	{file: "tgbot_discussion_group_automatic_forward_update.json", why: "automatic forward"},
	{file: "tgbot_message__group_chat-2.json", why: "on behalf of a chat"},
	{file: "tgbot_message__supergroup_chat.json", why: "no text"},
}

// Every real update shape maps as the package documents.
func TestSharedFixturesMapping(t *testing.T) {
	m := newMapper(appeal.Community{ID: "@city_reception_bot"}, nil, func() time.Time { return time.Unix(1767258000, 0) })
	for i, tc := range sharedCases {
		t.Run(tc.file, func(t *testing.T) {
			u, err := decodeUpdate(readSharedUpdate(t, tc.file, int64(i+1)))
			require.NoError(t, err)
			ev, ok, why := m.mapUpdate(u)
			require.Equal(t, tc.ok, ok, "why: %s", why)
			if !ok {
				assert.Contains(t, why, tc.why)
				return
			}
			assert.Equal(t, tc.edit, ev.edit)
			a := ev.appeal
			require.NoError(t, a.Normalize(), "a mapped appeal is valid")
			assert.Equal(t, appeal.NetworkTelegram, a.Network)
			tc.want(t, a, ev)
		})
	}

	t.Run("a comment under the automatic forward", func(t *testing.T) {
		// A citizen's reply to the mirrored channel post, in the shape of the
		// supergroup fixture, quoting the real automatic forward.
		var fwd struct {
			Message json.RawMessage `json:"message"`
		}
		require.NoError(t, json.Unmarshal(readSharedUpdate(t, "tgbot_discussion_group_automatic_forward_update.json", 50), &fwd))
		raw := mustJSON(t, map[string]any{"update_id": 51, "message": map[string]any{
			"message_id": 1112, "date": 1767258000, "chat": map[string]any{"id": 6, "type": "group", "title": "grouptitle"},
			"from":             map[string]any{"id": 4242, "is_bot": false, "first_name": "Олег"},
			"reply_to_message": fwd.Message, "text": "Когда уберут снег?",
		}})
		u, err := decodeUpdate(raw)
		require.NoError(t, err)
		ev, ok, why := m.mapUpdate(u)
		require.True(t, ok, why)
		a := ev.appeal
		assert.Equal(t, appeal.KindComment, a.Kind)
		assert.Equal(t, "6", a.Community.ID, "the channel (sender_chat of the mirror)")
		assert.Equal(t, "channeltitle", a.Community.Name)
		assert.Equal(t, appeal.Thread{ParentID: "6_1111", RootID: "6_1111"}, a.Thread)
	})
}

// The same updates through a polling Source end to end: the appeals reach
// the sink and the edits the edit sink, and the offset passes them all.
func TestSharedFixturesThroughSource(t *testing.T) {
	var updates []json.RawMessage
	wantAppeals, wantEdits := 0, 0
	for i, tc := range sharedCases {
		updates = append(updates, readSharedUpdate(t, tc.file, int64(i+1)))
		switch {
		case tc.ok && tc.edit:
			wantEdits++
		case tc.ok:
			wantAppeals++
		}
	}
	f := newFakeAPI(t, updates)
	cp := source.NewMemoryCheckpoints()
	c := &adaptertest.Sink{}
	cfg := testConfig(f, cp)
	cfg.Edits = c.Edit
	s, err := New(cfg)
	require.NoError(t, err)
	err = runUntil(t, s, c.Sink, func() bool { a, e := c.Snapshot(); return len(a) == wantAppeals && len(e) == wantEdits })
	require.NoError(t, err)
	off, err := cp.Load(t.Context(), s.Key())
	require.NoError(t, err)
	assert.Equal(t, "12", off, "the offset passes the updates that are not appeals too")
}
