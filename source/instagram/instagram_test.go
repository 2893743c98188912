package instagram

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/adaptertest"
	"github.com/appealkit/appealkit/source/sourcetest"
)

const (
	testMedia  = "17900000000000001"
	testSecret = "app-secret-for-tests"
	testVerify = "verify-me"
)

func testConfig(f *fakeGraph, cp source.Checkpoints) Config {
	return Config{AccessToken: testToken, AccountID: testAccount, AccountName: "Администрация района",
		BaseURL: f.srv.URL + "/v21.0", Media: []string{testMedia}, Checkpoints: cp,
		PollInterval: 10 * time.Millisecond, PageSize: 2, RequestsPerSecond: 1000,
		Backoff: source.Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}}
}

func TestConformancePolling(t *testing.T) {
	sourcetest.Run(t, sourcetest.Features{Checkpointed: true, Malformed: true},
		func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
			f := newFakeGraph(t)
			base := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
			for i, it := range up.Items {
				f.add(testMedia, igCommentJSON("1791000000000000"+itoa(i), "2100000000000"+itoa(i), "resident", "Вопрос: "+it.Text, base.Add(time.Duration(i)*time.Minute)))
			}
			if up.Malformed {
				f.broken = `{"data":[{"id":17910000000000000,"text":"` + up.Items[0].Text + `"}]}`
			}
			return func(cp source.Checkpoints) source.Source {
				s, err := New(testConfig(f, cp))
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
		})
}

func signedRequest(t testing.TB, url string, body []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set(SignatureHeader, "sha256="+hex.EncodeToString(Sign([]byte(testSecret), body)))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func TestConformanceWebhook(t *testing.T) {
	sourcetest.Run(t, sourcetest.Features{Quiet: 200 * time.Millisecond},
		func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
			api := newFakeGraph(t)
			hookURL, setHook := adaptertest.HookServer(t)
			var bodies [][]byte
			for i, it := range up.Items {
				body, _ := json.Marshal(map[string]any{"object": "instagram", "entry": []any{map[string]any{
					"id": testAccount, "time": 1767258000 + i,
					"changes": []any{map[string]any{"field": "comments", "value": map[string]any{
						"from": map[string]string{"id": "2100", "username": "resident"}, "media": map[string]string{"id": testMedia},
						"id": "1792000000000000" + itoa(i), "text": "Вопрос: " + it.Text}}}}}})
				bodies = append(bodies, body)
			}
			sourcetest.Push(t, hookURL, bodies, func(r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(body))
				r.Header.Set(SignatureHeader, "sha256="+hex.EncodeToString(Sign([]byte(testSecret), body)))
			})
			return func(source.Checkpoints) source.Source {
				h, err := NewWebhook(testConfig(api, nil), testSecret, testVerify)
				if err != nil {
					t.Fatal(err)
				}
				setHook(h)
				return h
			}
		})
}

func TestPollingMapsCommentsAndReplies(t *testing.T) {
	f := newFakeGraph(t)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	f.add(testMedia,
		igCommentJSON("17910000000000001", "2100000000000001", "resident_kursk", "Когда отремонтируют дорогу?", at,
			json.RawMessage(`{"id":"17910000000000002","text":"Тоже жду","timestamp":"2026-03-01T10:05:00+0000","from":{"id":"2100000000000002","username":"neighbour"}}`),
			json.RawMessage(`{"id":"17910000000000003","text":"Ремонт в мае","timestamp":"2026-03-01T10:06:00+0000","from":{"id":"`+testAccount+`","username":"district_admin"}}`)),
		igCommentJSON("17910000000000004", "2100000000000003", "anna", "   ", at),
		igCommentJSON("17910000000000005", "2100000000000004", "oleg", "Нет света на Садовой", at.Add(time.Hour)))
	cp := source.NewMemoryCheckpoints()
	cfg := testConfig(f, cp)
	cfg.Official = true
	s, err := New(cfg)
	require.NoError(t, err)
	var got adaptertest.Sink
	require.NoError(t, adaptertest.RunUntil(t, s, got.Sink, func() bool { return len(got.Appeals()) >= 3 }))
	require.Len(t, got.Appeals(), 3, "the account's own reply and the empty comment are not appeals")
	c, r, c2 := got.Appeals()[0], got.Appeals()[1], got.Appeals()[2]
	assert.Equal(t, appeal.KindComment, c.Kind)
	assert.Equal(t, appeal.ID("instagram:17910000000000001"), c.ID)
	assert.Equal(t, appeal.Thread{ParentID: testMedia, RootID: testMedia}, c.Thread)
	assert.Equal(t, appeal.Community{ID: testAccount, Name: "Администрация района", Official: true}, c.Community)
	assert.Equal(t, appeal.Author{ID: "2100000000000001", Name: "resident_kursk", ProfileURL: "https://www.instagram.com/resident_kursk/"}, c.Author)
	assert.Equal(t, at, c.CreatedAt)
	assert.Equal(t, appeal.KindReply, r.Kind)
	assert.Equal(t, "17910000000000001", r.Thread.ParentID)
	assert.Equal(t, "Нет света на Садовой", c2.Text)

	// The cursor of the last accepted page is the checkpoint; a restart
	// reads nothing again, and a new comment arrives.
	saved, err := cp.Load(context.Background(), CheckpointKey(testMedia))
	require.NoError(t, err)
	assert.Equal(t, cursorOf(2), saved)
	f.add(testMedia, igCommentJSON("17910000000000006", "2100000000000005", "ivan", "Когда уберут снег?", at.Add(2*time.Hour)))
	var again adaptertest.Sink
	s, err = New(cfg)
	require.NoError(t, err)
	require.NoError(t, adaptertest.RunUntil(t, s, again.Sink, func() bool { return len(again.Appeals()) >= 1 }))
	time.Sleep(30 * time.Millisecond)
	require.Len(t, again.Appeals(), 1)
	assert.Equal(t, "17910000000000006", again.Appeals()[0].ExternalID)
}

func TestBadMediaIsSkippedOthersGoOn(t *testing.T) {
	f := newFakeGraph(t)
	f.add(testMedia, igCommentJSON("17910000000000001", "2100000000000001", "resident", "Яма у школы", time.Now()))
	var logs bytes.Buffer
	cfg := testConfig(f, nil)
	cfg.Media = []string{"17999999999999999", testMedia} // the first does not exist
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	s, err := New(cfg)
	require.NoError(t, err)
	var got adaptertest.Sink
	require.NoError(t, adaptertest.RunUntil(t, s, got.Sink, func() bool { return len(got.Appeals()) >= 1 }))
	assert.Equal(t, 1, len(got.Appeals()))
	assert.Contains(t, logs.String(), "media skipped this cycle")
	assert.Contains(t, logs.String(), "17999999999999999")

	_, err = New(Config{AccessToken: "t", AccountID: "1", Media: []string{"https://instagram.com/p/abc"}})
	assert.ErrorContains(t, err, "Config.Media[0]")
}

func TestRecentMediaAreDiscovered(t *testing.T) {
	f := newFakeGraph(t)
	f.media = []string{"17900000000000002", testMedia}
	f.add("17900000000000002", igCommentJSON("17910000000000009", "21", "a", "Когда починят лифт?", time.Now()))
	f.add(testMedia, igCommentJSON("17910000000000010", "22", "b", "Нет отопления", time.Now()))
	cfg := testConfig(f, nil)
	cfg.Media = []string{testMedia}
	cfg.RecentMedia = 5
	s, err := New(cfg)
	require.NoError(t, err)
	var got adaptertest.Sink
	require.NoError(t, adaptertest.RunUntil(t, s, got.Sink, func() bool { return len(got.Appeals()) >= 2 }))
	time.Sleep(20 * time.Millisecond)
	ids := map[string]int{}
	for _, a := range got.Appeals() {
		ids[a.ExternalID]++
	}
	assert.Equal(t, 1, ids["17910000000000009"])
	assert.GreaterOrEqual(t, ids["17910000000000010"], 1)
}

func TestErrorsAndTokenSecrecy(t *testing.T) {
	f := newFakeGraph(t)
	f.add(testMedia, igCommentJSON("17910000000000001", "21", "a", "Текст", time.Now()))
	var logs bytes.Buffer
	cfg := testConfig(f, nil)
	cfg.AccessToken = "EAAB-wrong-token-must-not-leak"
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(cfg)
	require.NoError(t, err)
	err = s.Run(context.Background(), (&adaptertest.Sink{}).Sink)
	require.ErrorIs(t, err, source.ErrAuth)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 190, apiErr.Code)
	assert.NotContains(t, err.Error(), cfg.AccessToken)
	assert.NotContains(t, logs.String(), cfg.AccessToken)

	// Throttling is a RateLimitError; a 5xx is temporary; the token echoed
	// in an error message is scrubbed.
	f2 := newFakeGraph(t)
	f2.add(testMedia)
	f2.push("/v21.0/"+testMedia+"/comments", scripted{400, `{"error":{"message":"Application request limit reached","type":"OAuthException","code":4}}`})
	f2.push("/v21.0/"+testMedia+"/comments", scripted{500, `{"error":{"message":"An unknown error occurred, token ` + testToken + `","type":"OAuthException","code":1}}`})
	b, err := newAccount(testConfig(f2, nil))
	require.NoError(t, err)
	var page commentsPage
	err = b.call(context.Background(), http.MethodGet, "/"+testMedia+"/comments", nil, &page)
	var rl *source.RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, time.Minute, rl.Wait)
	err = b.call(context.Background(), http.MethodGet, "/"+testMedia+"/comments", nil, &page)
	assert.ErrorIs(t, err, source.ErrTemporary)
	assert.NotContains(t, err.Error(), testToken)
}

func TestWebhookHandshakeSignatureAndDelivery(t *testing.T) {
	f := newFakeGraph(t)
	var logs bytes.Buffer
	cfg := testConfig(f, nil)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := NewWebhook(cfg, testSecret, testVerify)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(q string) (int, string) {
		res, err := http.Get(srv.URL + "?" + q)
		require.NoError(t, err)
		defer res.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		return res.StatusCode, b.String()
	}
	code, body := get("hub.mode=subscribe&hub.verify_token=" + testVerify + "&hub.challenge=1158201444")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "1158201444", body)
	code, _ = get("hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1")
	assert.Equal(t, http.StatusForbidden, code)

	notification, err := os.ReadFile("testdata/notification.json")
	require.NoError(t, err)
	post := func(req *http.Request) int {
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	assert.Equal(t, http.StatusServiceUnavailable, post(signedRequest(t, srv.URL, notification)), "not running")

	var got adaptertest.Sink
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx, got.Sink) }()
	require.Eventually(t, func() bool { return post(signedRequest(t, srv.URL, notification)) == http.StatusOK }, 2*time.Second, 5*time.Millisecond)

	bad := signedRequest(t, srv.URL, notification)
	bad.Header.Set(SignatureHeader, "sha256="+strings.Repeat("0", 64))
	assert.Equal(t, http.StatusUnauthorized, post(bad))
	unsigned := signedRequest(t, srv.URL, notification)
	unsigned.Header.Del(SignatureHeader)
	assert.Equal(t, http.StatusUnauthorized, post(unsigned))
	tampered := signedRequest(t, srv.URL, notification)
	tampered.Body = http.NoBody
	tampered.ContentLength = 0
	assert.Equal(t, http.StatusUnauthorized, post(tampered))
	assert.Equal(t, http.StatusOK, post(signedRequest(t, srv.URL, []byte(`{"object":"page"}`))), "a signed poison notification is acknowledged, not retried for hours")

	cancel()
	require.NoError(t, <-done)
	require.GreaterOrEqual(t, len(got.Appeals()), 2)
	c, r := got.Appeals()[0], got.Appeals()[1]
	assert.Equal(t, appeal.KindComment, c.Kind)
	assert.Equal(t, "17919697626119712", c.ExternalID)
	assert.Equal(t, time.Unix(1767258000, 0).UTC(), c.CreatedAt)
	assert.Equal(t, appeal.KindReply, r.Kind)
	assert.Equal(t, "17919697626119712", r.Thread.ParentID)
	for _, a := range got.Appeals() {
		assert.NotEqual(t, testAccount, a.Author.ID, "the account's own reply is not an appeal")
	}
	assert.NotContains(t, logs.String(), testSecret)
	assert.NotContains(t, logs.String(), "resident_kursk")

	_, err = NewWebhook(cfg, "", testVerify)
	assert.Error(t, err)
	_, err = NewWebhook(cfg, testSecret, "")
	assert.Error(t, err)
}

func TestReply(t *testing.T) {
	f := newFakeGraph(t)
	s, err := New(testConfig(f, nil))
	require.NoError(t, err)
	ctx := context.Background()
	r, err := s.Reply(ctx, appeal.Appeal{Network: appeal.NetworkInstagram, Kind: appeal.KindComment, ExternalID: "17919697626119712",
		Thread: appeal.Thread{ParentID: testMedia, RootID: testMedia}}, "Ремонт дороги запланирован на май.")
	require.NoError(t, err)
	assert.NotEmpty(t, r.ExternalID)
	// An answer to a reply goes under its parent comment.
	_, err = s.Reply(ctx, appeal.Appeal{Network: appeal.NetworkInstagram, Kind: appeal.KindReply, ExternalID: "17919697626119713",
		Thread: appeal.Thread{ParentID: "17919697626119712", RootID: testMedia}}, "Спасибо, передали.")
	require.NoError(t, err)
	f.mu.Lock()
	assert.Equal(t, []string{"Ремонт дороги запланирован на май.", "Спасибо, передали."}, f.replies["17919697626119712"])
	f.mu.Unlock()

	for _, bad := range []struct {
		a    appeal.Appeal
		text string
	}{
		{appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "1"}, "x"},
		{appeal.Appeal{Network: appeal.NetworkInstagram, ExternalID: "abc"}, "x"},
		{appeal.Appeal{Network: appeal.NetworkInstagram, ExternalID: "1"}, " "},
		{appeal.Appeal{Network: appeal.NetworkInstagram, ExternalID: "1"}, strings.Repeat("я", 2201)},
	} {
		_, err := s.Reply(ctx, bad.a, bad.text)
		assert.Error(t, err, bad.a.ExternalID)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no token":   {AccountID: "1", Media: []string{"1"}},
		"no account": {AccessToken: "t", Media: []string{"1"}},
		"nothing":    {AccessToken: "t", AccountID: "1"},
		"page size":  {AccessToken: "t", AccountID: "1", Media: []string{"1"}, PageSize: 500},
	} {
		_, err := New(cfg)
		assert.Error(t, err, name)
	}
}

func TestSinkRefusalHoldsTheCursor(t *testing.T) {
	f := newFakeGraph(t)
	for i := range 5 {
		f.add(testMedia, igCommentJSON("1791000000000000"+itoa(i), "21", "a", "Вопрос "+itoa(i), time.Now()))
	}
	cp := source.NewMemoryCheckpoints()
	s, err := New(testConfig(f, cp))
	require.NoError(t, err)
	calls := 0
	err = s.Run(context.Background(), func(context.Context, appeal.Appeal) error {
		calls++
		if calls == 4 {
			return errors.New("store down")
		}
		return nil
	})
	require.Error(t, err)
	saved, _ := cp.Load(context.Background(), CheckpointKey(testMedia))
	assert.Equal(t, cursorOf(1), saved, "the first page (2 comments) was accepted, the second was not")
}

// A comment that names no media is logged and skipped; the other comments
// of the same notification are delivered and Meta gets its 200.
func TestWebhookSkipsABadCommentKeepsTheOthers(t *testing.T) {
	f := newFakeGraph(t)
	var logs bytes.Buffer
	cfg := testConfig(f, nil)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	h, err := NewWebhook(cfg, testSecret, testVerify)
	require.NoError(t, err)
	var got adaptertest.Sink
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.Run(ctx, got.Sink)
	require.Eventually(t, h.gate.Running, time.Second, time.Millisecond)
	body := []byte(`{"object":"instagram","entry":[{"id":"` + testAccount + `","time":1767258000,"changes":[` +
		`{"field":"comments","value":{"from":{"id":"21","username":"a"},"media":{"id":"` + testMedia + `"},"id":"17919697626119001","text":"Яма у школы"}},` +
		`{"field":"comments","value":{"from":{"id":"22","username":"b"},"id":"17919697626119002","text":"Без медиа"}},` +
		`{"field":"comments","value":{"from":{"id":"23","username":"c"},"media":{"id":"` + testMedia + `"},"id":"17919697626119003","text":"Нет света"}}]}]}`)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signedRequest(t, "/ig", body))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, 2, len(got.Appeals()))
	assert.Contains(t, logs.String(), "comment 17919697626119002 without media id")
}
