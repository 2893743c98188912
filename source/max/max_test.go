package max

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/adaptertest"
)

func TestMappingFromFixtures(t *testing.T) {
	f := newFakeAPI(t, fixtureUpdates(t))
	var got adaptertest.Sink
	cfg := testConfig(f, source.NewMemoryCheckpoints())
	cfg.Edits = got.Edit
	cfg.OfficialChats = []int64{-70801090403050}
	cfg.Community = appeal.Community{ID: "@cur_bot", Name: "ЦУР"}
	s, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, adaptertest.RunUntil(t, s, got.Sink, func() bool { a, e := got.Counts(); return a >= 4 && e >= 3 }))

	require.Len(t, got.Appeals(), 4, "channel post without sender, bot message and bot_started are not appeals")
	c1, c2, dm, chat := got.Appeals()[0], got.Appeals()[1], got.Appeals()[2], got.Appeals()[3]

	assert.Equal(t, appeal.KindComment, c1.Kind)
	assert.Equal(t, "-70801090403050/mid.post-1/mid.c-1", c1.ExternalID)
	assert.Equal(t, appeal.ID("max:-70801090403050/mid.post-1/mid.c-1"), c1.ID)
	assert.Equal(t, appeal.Thread{ParentID: "-70801090403050/mid.post-1", RootID: "-70801090403050/mid.post-1"}, c1.Thread)
	assert.Equal(t, appeal.Community{ID: "-70801090403050", Name: "Администрация Советского района", Official: true}, c1.Community)
	assert.Equal(t, appeal.Community{ID: "-60000000000001"}, chat.Community, "a chat whose title cannot be read keeps its id")
	assert.Len(t, f.callTimes("GET /chats/-70801090403050"), 1, "the title is read once")
	assert.Equal(t, appeal.Author{ID: "5001", Name: "Ирина Петрова", ProfileURL: "https://max.ru/irina_p"}, c1.Author)
	assert.Equal(t, time.UnixMilli(1767258000000).UTC(), c1.CreatedAt)

	assert.Equal(t, appeal.KindReply, c2.Kind)
	assert.Equal(t, "-70801090403050/mid.post-1/mid.c-1", c2.Thread.ParentID)
	assert.Equal(t, "-70801090403050/mid.post-1", c2.Thread.RootID)

	assert.Equal(t, appeal.KindMessage, dm.Kind)
	assert.Equal(t, "90001/mid.d-1", dm.ExternalID)
	assert.Equal(t, cfg.Community, dm.Community)
	require.NotNil(t, dm.Geo)
	assert.InDelta(t, 51.73, dm.Geo.Lat, 1e-9)
	assert.Equal(t, []appeal.Attachment{{Type: "image", URL: "https://i.max.ru/1.jpg"}}, dm.Attachments)

	assert.Equal(t, appeal.KindPost, chat.Kind)
	assert.Equal(t, "https://max.ru/c/-60000000000001/mid.g-1", chat.URL)

	require.Len(t, got.Edits(), 3)
	assert.False(t, got.Edits()[0].Deleted)
	assert.Equal(t, c1.ID, got.Edits()[0].Appeal.ID)
	assert.Contains(t, got.Edits()[0].Appeal.Text, "дом 12")
	assert.Equal(t, time.UnixMilli(1767258420100).UTC(), got.Edits()[0].EditedAt)
	assert.True(t, got.Edits()[1].Deleted)
	assert.Equal(t, c2.ID, got.Edits()[1].Appeal.ID)
	assert.True(t, got.Edits()[2].Deleted)
	assert.Equal(t, chat.ID, got.Edits()[2].Appeal.ID)

	// The marker passed in the next call commits the page.
	assert.Equal(t, "10", loadCP(t, cfg.Checkpoints, s.Key()))
}

func loadCP(t *testing.T, cp source.Checkpoints, key string) string {
	v, err := cp.Load(context.Background(), key)
	require.NoError(t, err)
	return v
}

func TestEditsAndDeletionsReachTheStore(t *testing.T) {
	f := newFakeAPI(t, fixtureUpdates(t))
	store := appeal.NewMemoryStore()
	cfg := testConfig(f, nil)
	cfg.Edits = source.StoreEdits(store)
	s, err := New(cfg)
	require.NoError(t, err)
	put := func(ctx context.Context, a appeal.Appeal) error { _, err := store.Put(ctx, a); return err }
	removed := appeal.NewID(appeal.NetworkMAX, "-60000000000001/mid.g-1")
	require.NoError(t, adaptertest.RunUntil(t, s, put, func() bool {
		a, err := store.Get(context.Background(), removed)
		return err == nil && len(a.History) > 0
	}))
	edited, err := store.Get(context.Background(), appeal.NewID(appeal.NetworkMAX, "-70801090403050/mid.post-1/mid.c-1"))
	require.NoError(t, err)
	assert.Contains(t, edited.Text, "дом 12")
	gone, err := store.Get(context.Background(), removed)
	require.NoError(t, err)
	assert.Equal(t, "В подъезде третий день нет горячей воды", gone.Text, "a removed message keeps its accepted text")
	assert.Equal(t, source.DeletedNote, gone.History[len(gone.History)-1].Note)
}

func TestChatsFilter(t *testing.T) {
	f := newFakeAPI(t, fixtureUpdates(t))
	var got adaptertest.Sink
	cfg := testConfig(f, nil)
	cfg.Chats = []int64{-60000000000001}
	s, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, adaptertest.RunUntil(t, s, got.Sink, func() bool { a, _ := got.Counts(); return a >= 2 }))
	time.Sleep(30 * time.Millisecond)
	require.Len(t, got.Appeals(), 2, "the channel is not monitored; the dialog always is")
	assert.Equal(t, appeal.KindMessage, got.Appeals()[0].Kind)
	assert.Equal(t, appeal.KindPost, got.Appeals()[1].Kind)
}

func TestErrorsMapToTypedErrors(t *testing.T) {
	t.Run("bad token stops Run with ErrAuth and no token in the error", func(t *testing.T) {
		f := newFakeAPI(t, fixtureUpdates(t))
		cfg := testConfig(f, nil)
		cfg.Token = "wrong-token-that-must-not-leak"
		s, err := New(cfg)
		require.NoError(t, err)
		err = s.Run(context.Background(), (&adaptertest.Sink{}).Sink)
		require.ErrorIs(t, err, source.ErrAuth)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "verify.token", apiErr.Code)
		assert.NotContains(t, err.Error(), cfg.Token)
	})
	t.Run("429 and 503 are retried", func(t *testing.T) {
		f := newFakeAPI(t, fixtureUpdates(t))
		f.push("GET /updates", scripted{status: 429, header: map[string]string{"Retry-After": "0"}, body: `{"code":"too.many.requests","message":"slow down"}`})
		f.push("GET /updates", scripted{status: 503, body: `{"code":"internal","message":"service unavailable"}`})
		f.push("GET /updates", scripted{status: 502, body: `<html>bad gateway</html>`})
		var got adaptertest.Sink
		s, err := New(testConfig(f, nil))
		require.NoError(t, err)
		require.NoError(t, adaptertest.RunUntil(t, s, got.Sink, func() bool { a, _ := got.Counts(); return a >= 4 }))
		assert.GreaterOrEqual(t, len(f.callTimes("GET /updates")), 4)
	})
	t.Run("405 (a webhook is subscribed) stops Run with an explanation", func(t *testing.T) {
		f := newFakeAPI(t, nil)
		f.push("GET /updates", scripted{status: 405, body: `{"code":"method.not.allowed","message":"Method is not allowed"}`})
		s, err := New(testConfig(f, nil))
		require.NoError(t, err)
		err = s.Run(context.Background(), (&adaptertest.Sink{}).Sink)
		require.Error(t, err)
		assert.False(t, source.Retryable(err))
		assert.Contains(t, err.Error(), "webhook subscription is active")
	})
	t.Run("rate limit error carries Retry-After", func(t *testing.T) {
		e := &APIError{Status: 500}
		assert.ErrorIs(t, e, source.ErrTemporary)
		f := newFakeAPI(t, nil)
		f.push("POST /messages", scripted{status: 429, header: map[string]string{"Retry-After": "7"}, body: `{}`})
		b, err := newBot(testConfig(f, nil))
		require.NoError(t, err)
		err = b.c.call(context.Background(), http.MethodPost, "/messages", nil, newMessageBody{Text: "x"}, nil)
		var rl *source.RateLimitError
		require.ErrorAs(t, err, &rl)
		assert.Equal(t, 7*time.Second, rl.Wait)
	})
}

func TestMalformedUpdateSkippedWhenAsked(t *testing.T) {
	ups := fixtureUpdates(t)
	bad := json.RawMessage(`{"update_type":"comment_created","timestamp":1,"message":{"recipient":{"chat_type":"channel","chat_id":-1},"body":{"mid":"x","text":"без поста"},"sender":{"user_id":1,"first_name":"A","is_bot":false}}}`)
	f := newFakeAPI(t, append([]json.RawMessage{ups[0], bad}, ups[1:]...))
	var logs bytes.Buffer
	cfg := testConfig(f, nil)
	cfg.SkipMalformed = true
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(cfg)
	require.NoError(t, err)
	var got adaptertest.Sink
	require.NoError(t, adaptertest.RunUntil(t, s, got.Sink, func() bool { a, _ := got.Counts(); return a >= 4 }))
	assert.Len(t, got.Appeals(), 4, "the bad comment is skipped, the others arrive")
	assert.Contains(t, logs.String(), "without recipient.post_id")

	// Without SkipMalformed the same update stops Run and names the problem.
	cfg.SkipMalformed = false
	cfg.Logger = nil
	s, err = New(cfg)
	require.NoError(t, err)
	err = s.Run(context.Background(), (&adaptertest.Sink{}).Sink)
	require.ErrorIs(t, err, source.ErrMalformed)
	assert.Contains(t, err.Error(), "update 1")
	assert.Contains(t, err.Error(), "post_id")
}

func TestTokenNeverLogged(t *testing.T) {
	f := newFakeAPI(t, fixtureUpdates(t))
	f.push("GET /updates", scripted{status: 503, body: `{"code":"internal","message":"` + testToken + ` echoed"}`})
	var logs bytes.Buffer
	cfg := testConfig(f, nil)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(cfg)
	require.NoError(t, err)
	var got adaptertest.Sink
	require.NoError(t, adaptertest.RunUntil(t, s, got.Sink, func() bool { a, _ := got.Counts(); return a >= 4 }))
	require.Contains(t, logs.String(), "retrying")
	assert.NotContains(t, logs.String(), testToken)
	assert.NotContains(t, logs.String(), "Ирина", "author names are not logged")
	assert.NotContains(t, logs.String(), "освещение", "texts are not logged")
}

func TestReplyToMessageAndComment(t *testing.T) {
	f := newFakeAPI(t, nil)
	s, err := New(testConfig(f, nil))
	require.NoError(t, err)
	ctx := context.Background()

	r, err := s.Reply(ctx, appeal.Appeal{Network: appeal.NetworkMAX, ExternalID: "-60000000000001/mid.g-1"}, "Передали в управляющую компанию.")
	require.NoError(t, err)
	assert.Equal(t, "-60000000000001/mid.sent-101", r.ExternalID)
	r, err = s.Reply(ctx, appeal.Appeal{Network: appeal.NetworkMAX, ExternalID: "-70801090403050/mid.post-1/mid.c-1"}, "Ремонт освещения — до 1 декабря.")
	require.NoError(t, err)
	assert.Equal(t, "-70801090403050/mid.post-1/mid.sent-102", r.ExternalID)

	sent := f.sentMessages()
	require.Len(t, sent, 2)
	assert.Equal(t, sentMessage{Path: "/messages", ChatID: "-60000000000001",
		Body: newMessageBody{Text: "Передали в управляющую компанию.", Link: &newMessageLink{Type: "reply", MID: "mid.g-1"}}}, sent[0])
	assert.Equal(t, "/messages/mid.post-1/comments", sent[1].Path)
	assert.Equal(t, &newMessageLink{Type: "reply", MID: "mid.c-1"}, sent[1].Body.Link)

	// A long answer goes as several messages, each replying to the one before.
	long := strings.Repeat("Слово ", 1000) // 6000 runes
	_, err = s.Reply(ctx, appeal.Appeal{Network: appeal.NetworkMAX, ExternalID: "90001/mid.d-1"}, long)
	require.NoError(t, err)
	sent = f.sentMessages()
	require.Len(t, sent, 4)
	assert.Equal(t, "mid.sent-103", sent[3].Body.Link.MID)

	for _, bad := range []appeal.Appeal{
		{Network: appeal.NetworkVK, ExternalID: "1/2"},
		{Network: appeal.NetworkMAX, ExternalID: "nochat"},
		{Network: appeal.NetworkMAX, ExternalID: "abc/mid"},
		{Network: appeal.NetworkMAX, ExternalID: "1/a/b/c"},
	} {
		_, err := s.Reply(ctx, bad, "ответ")
		assert.Error(t, err, bad.ExternalID)
	}
	_, err = s.Reply(ctx, appeal.Appeal{Network: appeal.NetworkMAX, ExternalID: "1/m"}, "  ")
	assert.Error(t, err)
}

func TestRequestsAreRateLimited(t *testing.T) {
	f := newFakeAPI(t, nil)
	cfg := testConfig(f, nil)
	cfg.RequestsPerSecond = 50
	s, err := New(cfg)
	require.NoError(t, err)
	start := time.Now()
	for range 5 {
		_, err := s.Reply(context.Background(), appeal.Appeal{Network: appeal.NetworkMAX, ExternalID: "1/m"}, "ответ")
		require.NoError(t, err)
	}
	// Five calls at 50 a second, evenly spaced: the limiter cannot let
	// them through in less than four intervals of 20ms.
	assert.GreaterOrEqual(t, time.Since(start), 75*time.Millisecond)
	assert.Len(t, f.callTimes("POST /messages"), 5)
}

func TestWebhook(t *testing.T) {
	f := newFakeAPI(t, nil)
	h, err := NewWebhook(testConfig(f, nil), "s3cret-value")
	require.NoError(t, err)
	require.NoError(t, h.Subscribe(context.Background(), "https://cur.example/max"))
	require.Len(t, f.subs, 1)
	assert.Equal(t, subscriptionRequest{URL: "https://cur.example/max", Secret: "s3cret-value", UpdateTypes: UpdateTypes}, f.subs[0])

	post := func(secret, body string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, "/max", strings.NewReader(body))
		if secret != "" {
			req.Header.Set(SecretHeader, secret)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	upd := string(fixtureUpdates(t)[0])
	code, _ := post("s3cret-value", upd)
	assert.Equal(t, http.StatusServiceUnavailable, code, "not running yet")

	var mu sync.Mutex
	refuse := true
	var accepted []appeal.Appeal
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- h.Run(ctx, func(_ context.Context, a appeal.Appeal) error {
			mu.Lock()
			defer mu.Unlock()
			if refuse {
				return errors.New("store down")
			}
			accepted = append(accepted, a)
			return nil
		})
	}()
	require.Eventually(t, h.gate.Running, time.Second, 5*time.Millisecond)
	code, body := post("s3cret-value", upd)
	assert.Contains(t, body, "not accepted")
	assert.Equal(t, http.StatusServiceUnavailable, code, "the sink refused: MAX must retry")

	code, _ = post("", upd)
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = post("s3cret-valuX", upd)
	assert.Equal(t, http.StatusUnauthorized, code)

	mu.Lock()
	refuse = false
	mu.Unlock()
	code, body = post("s3cret-value", upd)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok", body)
	code, body = post("s3cret-value", `{"update_type":`)
	assert.Equal(t, http.StatusOK, code, "a poison update is acknowledged (and logged), not retried for hours")
	assert.Equal(t, "ok", body)
	cancel()
	require.NoError(t, <-done)
	require.Len(t, accepted, 1)
	assert.Equal(t, appeal.KindComment, accepted[0].Kind)

	_, err = NewWebhook(testConfig(f, nil), "abc")
	assert.Error(t, err)
	_, err = NewWebhook(testConfig(f, nil), "has space!")
	assert.Error(t, err)
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no token":    {},
		"poll":        {Token: "t", PollTimeout: 2 * time.Minute},
		"limit":       {Token: "t", Limit: 5000},
		"neg timeout": {Token: "t", PollTimeout: -time.Second},
	} {
		_, err := New(cfg)
		assert.Error(t, err, name)
	}
	s, err := New(Config{Token: "abc"})
	require.NoError(t, err)
	assert.NotContains(t, s.Key(), "abc")
	assert.True(t, strings.HasPrefix(s.Key(), "max:"))
}

func TestCheckpointResumesAfterRefusal(t *testing.T) {
	f := newFakeAPI(t, fixtureUpdates(t))
	cp := source.NewMemoryCheckpoints()
	cfg := testConfig(f, cp)
	s, err := New(cfg)
	require.NoError(t, err)
	calls := 0
	err = s.Run(context.Background(), func(context.Context, appeal.Appeal) error {
		calls++
		if calls == 2 {
			return errors.New("store down")
		}
		return nil
	})
	require.Error(t, err)
	assert.Equal(t, "", loadCP(t, cp, s.Key()), "the page was not fully accepted: the marker is not saved")
	var got adaptertest.Sink
	s, err = New(cfg)
	require.NoError(t, err)
	require.NoError(t, adaptertest.RunUntil(t, s, got.Sink, func() bool { a, _ := got.Counts(); return a >= 4 }))
	assert.Len(t, got.Appeals(), 4, "everything comes again after the restart")
}
