package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/adaptertest"
)

var quiet = slog.New(slog.DiscardHandler)

func testConfig(f *fakeAPI, cp source.Checkpoints) Config {
	return Config{
		Token: testToken, BaseURL: f.srv.URL, HTTPClient: f.srv.Client(), Checkpoints: cp,
		PollTimeout: time.Second, Logger: quiet,
		Backoff: source.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond},
		Now:     func() time.Time { return time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC) },
	}
}

// runUntil runs s until cond holds (or 5s pass), then cancels and returns
// Run's error.
func runUntil(t *testing.T, s source.Source, sink source.Sink, cond func() bool) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, sink) }()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		select {
		case err := <-done:
			return err
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		return err
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return after cancel")
		return nil
	}
}

func TestPollingMapsUpdates(t *testing.T) {
	f := newFakeAPI(t, fixtureUpdates(t))
	cp := source.NewMemoryCheckpoints()
	c := &adaptertest.Sink{}
	cfg := testConfig(f, cp)
	cfg.Edits = c.Edit
	cfg.OfficialChats = []int64{-1001987654321}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = runUntil(t, s, c.Sink, func() bool { a, e := c.Snapshot(); return len(a) == 5 && len(e) == 2 })
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	got, edits := c.Snapshot()
	byID := map[appeal.ID]appeal.Appeal{}
	for _, a := range got {
		byID[a.ID] = a
	}
	if len(byID) != 5 {
		t.Fatalf("ids %v", byID)
	}

	pm := byID["telegram:48151623_501"]
	if pm.Kind != appeal.KindMessage || pm.Author.Name != "Анна Петрова" || pm.Author.ID != "48151623" ||
		pm.Author.ProfileURL != "https://t.me/anna_p" || pm.Community.ID != "@city_reception_bot" ||
		!pm.CreatedAt.Equal(time.Unix(1767258000, 0)) || !strings.Contains(pm.Text, "третий день") || pm.Status != appeal.StatusNew {
		t.Errorf("private message: %+v", pm)
	}
	post := byID["telegram:-1001987654321_88"]
	if post.Kind != appeal.KindPost || post.Community.Name != "Администрация города" || !post.Community.Official ||
		post.URL != "https://t.me/city_admin/88" || post.Author.Name != "Пресс-служба" {
		t.Errorf("channel post: %+v", post)
	}
	com := byID["telegram:-1001122334455_3002"]
	if com.Kind != appeal.KindComment || com.Thread.ParentID != "-1001987654321_88" || com.Thread.RootID != "-1001987654321_88" ||
		com.Community.ID != "-1001987654321" || com.URL != "https://t.me/city_admin/88?comment=3002" || com.Author.Name != "Олег" {
		t.Errorf("comment: %+v", com)
	}
	rep := byID["telegram:-1001122334455_3003"]
	if rep.Kind != appeal.KindReply || rep.Thread.ParentID != "-1001122334455_3002" || rep.Thread.RootID != "-1001987654321_88" ||
		rep.Community.ID != "-1001987654321" {
		t.Errorf("reply in thread: %+v", rep)
	}
	photo := byID["telegram:48151623_503"]
	if photo.Text != "Вот фото прорыва трубы" || photo.Geo == nil || photo.Geo.Lat != 51.7304 ||
		len(photo.Attachments) != 1 || photo.Attachments[0].Type != "photo" {
		t.Errorf("photo: %+v", photo)
	}
	for _, skipped := range []appeal.ID{"telegram:-1001122334455_3001", "telegram:-1001122334455_3004", "telegram:48151623_502", "telegram:-1001122334455_77"} {
		if _, ok := byID[skipped]; ok {
			t.Errorf("%s is not an appeal but was delivered", skipped)
		}
	}

	if edits[0].Appeal.ID != "telegram:48151623_501" || !strings.Contains(edits[0].Appeal.Text, "четвёртый день") ||
		!edits[0].EditedAt.Equal(time.Unix(1767258900, 0)) {
		t.Errorf("edit 1: %+v", edits[0])
	}
	if edits[1].Appeal.ID != "telegram:-1001987654321_88" || !strings.Contains(edits[1].Appeal.Text, "наледи") {
		t.Errorf("edit 2: %+v", edits[1])
	}
	if off, _ := cp.Load(context.Background(), s.Key()); off != "700111" {
		t.Errorf("checkpoint %q, want 700111", off)
	}
	if s.Key() != "telegram:7000000001" {
		t.Errorf("key %q", s.Key())
	}
}

func TestEditsUpdateTheStore(t *testing.T) {
	f := newFakeAPI(t, fixtureUpdates(t))
	store := appeal.NewMemoryStore()
	cfg := testConfig(f, source.NewMemoryCheckpoints())
	cfg.Edits = source.StoreEdits(store)
	s, _ := New(cfg)
	sink := func(ctx context.Context, a appeal.Appeal) error { _, err := store.Put(ctx, a); return err }
	err := runUntil(t, s, sink, func() bool {
		a, err := store.Get(context.Background(), "telegram:-1001987654321_88")
		return err == nil && strings.Contains(a.Text, "наледи")
	})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := store.Get(context.Background(), "telegram:48151623_501")
	if !strings.Contains(a.Text, "четвёртый день") || len(a.History) != 1 || a.Version != 2 {
		t.Fatalf("edited appeal: text %q, history %+v, version %d", a.Text, a.History, a.Version)
	}
	ev := a.History[0]
	if ev.Actor != "telegram" || ev.From != appeal.StatusNew || ev.To != appeal.StatusNew || !strings.Contains(ev.Note, "третий день") || !ev.At.Equal(time.Unix(1767258900, 0)) {
		t.Errorf("history event %+v", ev)
	}
	// The same edit again (a redelivery) changes nothing.
	edit := source.StoreEdits(store)
	again := a
	if err := edit(context.Background(), source.Edit{Appeal: again, EditedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if b, _ := store.Get(context.Background(), a.ID); b.Version != a.Version {
		t.Errorf("redelivered edit changed the appeal: version %d → %d", a.Version, b.Version)
	}
	// An edit of a message never stored stores it.
	fresh := appeal.Appeal{Network: appeal.NetworkTelegram, ExternalID: "1_1", Text: "новое"}
	_ = fresh.Normalize()
	if err := edit(context.Background(), source.Edit{Appeal: fresh}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(context.Background(), fresh.ID); err != nil {
		t.Errorf("edit of an unknown appeal was not stored: %v", err)
	}
}

func TestSinkErrorHoldsOffset(t *testing.T) {
	f := newFakeAPI(t, fixtureUpdates(t))
	cp := source.NewMemoryCheckpoints()
	c := &adaptertest.Sink{FailAt: 3}
	cfg := testConfig(f, cp)
	s, _ := New(cfg)
	err := s.Run(context.Background(), c.Sink)
	if !errors.Is(err, adaptertest.ErrDown) || !strings.Contains(err.Error(), "update 700103") {
		t.Fatalf("Run = %v, want the sink's error naming update 700103", err)
	}
	if off, _ := cp.Load(context.Background(), s.Key()); off != "700103" {
		t.Fatalf("checkpoint %q, want 700103 (the refused update)", off)
	}
	f.mu.Lock()
	before := len(f.offsets)
	f.mu.Unlock()
	c2 := &adaptertest.Sink{}
	if err := runUntil(t, s, c2.Sink, func() bool { a, _ := c2.Snapshot(); return len(a) == 3 }); err != nil {
		t.Fatal(err)
	}
	got, _ := c2.Snapshot()
	if got[0].ExternalID != "-1001122334455_3002" || got[1].ExternalID != "-1001122334455_3003" || got[2].ExternalID != "48151623_503" {
		t.Fatalf("after restart: %s, %s, %s", got[0].ExternalID, got[1].ExternalID, got[2].ExternalID)
	}
	// The restarted source asked Telegram from the saved offset. (Whether it
	// also polled again before runUntil stopped it is timing, so only the
	// first request after the restart is checked.)
	f.mu.Lock()
	after := append([]int64(nil), f.offsets[before:]...)
	f.mu.Unlock()
	if len(after) == 0 || after[0] != 700103 {
		t.Errorf("getUpdates offsets after restart %v, want the first to be 700103", after)
	}
}

func TestAuthErrorStopsAndHidesToken(t *testing.T) {
	f := newFakeAPI(t, nil)
	f.push("getMe", 401, string(readFixture(t, "error_401.json")))
	s, _ := New(testConfig(f, nil))
	err := s.Run(context.Background(), (&adaptertest.Sink{}).Sink)
	if !errors.Is(err, source.ErrAuth) {
		t.Fatalf("Run = %v, want ErrAuth", err)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 401 || apiErr.Method != "getMe" {
		t.Errorf("error %#v", err)
	}
	if strings.Contains(err.Error(), "AAE-test-secret") {
		t.Errorf("error leaks the token: %v", err)
	}
	if n := len(f.callTimes("getMe")); n != 1 {
		t.Errorf("getMe called %d times; an auth error must not be retried", n)
	}
	// A wrong token (404 from Telegram) is an auth error too.
	cfg := testConfig(f, nil)
	cfg.Token = "7000000001:wrong"
	s2, _ := New(cfg)
	if err := s2.Run(context.Background(), (&adaptertest.Sink{}).Sink); !errors.Is(err, source.ErrAuth) || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong token: %v", err)
	}
}

func TestNetworkErrorHidesToken(t *testing.T) {
	f := newFakeAPI(t, nil)
	cfg := testConfig(f, nil)
	f.srv.Close()
	b, _ := newBot(cfg)
	err := b.c.call(context.Background(), "getMe", struct{}{}, nil)
	if !errors.Is(err, source.ErrTemporary) || strings.Contains(err.Error(), "secret-token") {
		t.Fatalf("error %v", err)
	}
}

func TestRateLimitHonoured(t *testing.T) {
	f := newFakeAPI(t, fixtureUpdates(t)[:1])
	f.push("getUpdates", 429, string(readFixture(t, "error_429.json")))
	f.push("getUpdates", 502, "<html><body>502 Bad Gateway</body></html>")
	c := &adaptertest.Sink{}
	s, _ := New(testConfig(f, nil))
	if err := runUntil(t, s, c.Sink, func() bool { a, _ := c.Snapshot(); return len(a) == 1 }); err != nil {
		t.Fatal(err)
	}
	calls := f.callTimes("getUpdates")
	if len(calls) < 3 {
		t.Fatalf("%d getUpdates calls", len(calls))
	}
	if gap := calls[1].Sub(calls[0]); gap < 900*time.Millisecond {
		t.Errorf("retried %v after a 429 with retry_after 1", gap)
	}
	if gap := calls[2].Sub(calls[1]); gap > 500*time.Millisecond {
		t.Errorf("5xx retry waited %v with a 10ms backoff", gap)
	}
}

func TestConflictIsFinal(t *testing.T) {
	f := newFakeAPI(t, nil)
	f.push("getUpdates", 409, string(readFixture(t, "error_409.json")))
	s, _ := New(testConfig(f, nil))
	err := s.Run(context.Background(), (&adaptertest.Sink{}).Sink)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 409 || !strings.Contains(err.Error(), "DeleteWebhook") {
		t.Fatalf("Run = %v", err)
	}
}

func TestMalformedUpdate(t *testing.T) {
	ups := fixtureUpdates(t)[:2]
	bad := json.RawMessage(`{"update_id":700102,"message":{"message_id":"три","chat":{"id":1,"type":"private"},"date":0,"text":"x"}}`)
	ups = append(ups, bad, fixtureUpdates(t)[3])
	f := newFakeAPI(t, ups)
	c := &adaptertest.Sink{}
	cp := source.NewMemoryCheckpoints()
	s, _ := New(testConfig(f, cp))
	err := s.Run(context.Background(), c.Sink)
	if !errors.Is(err, source.ErrMalformed) || !strings.Contains(err.Error(), "update 700102") || !strings.Contains(err.Error(), "message.message_id") {
		t.Fatalf("Run = %v", err)
	}
	if a, _ := c.Snapshot(); len(a) != 2 {
		t.Fatalf("delivered %d before the bad update", len(a))
	}
	if off, _ := cp.Load(context.Background(), s.Key()); off != "700102" {
		t.Errorf("checkpoint %q", off)
	}
	// With SkipMalformed the bad update is passed over.
	cfg := testConfig(f, cp)
	cfg.SkipMalformed = true
	s2, _ := New(cfg)
	c2 := &adaptertest.Sink{}
	if err := runUntil(t, s2, c2.Sink, func() bool { a, _ := c2.Snapshot(); return len(a) == 1 }); err != nil {
		t.Fatal(err)
	}
	if a, _ := c2.Snapshot(); a[0].ExternalID != "-1001122334455_3002" {
		t.Fatalf("after skipping: %+v", a[0])
	}

	// Invalid UTF-8 inside an update is reported, not papered over.
	f3 := newFakeAPI(t, []json.RawMessage{json.RawMessage("{\"update_id\":5,\"message\":{\"message_id\":1,\"chat\":{\"id\":1,\"type\":\"private\"},\"from\":{\"id\":1},\"text\":\"\xff\"}}")})
	s4, _ := New(testConfig(f3, nil))
	if err := s4.Run(context.Background(), c.Sink); !errors.Is(err, source.ErrMalformed) || !strings.Contains(err.Error(), "update 5: ") || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("invalid UTF-8: %v", err)
	}

	// A broken response envelope.
	f2 := newFakeAPI(t, nil)
	f2.broken = `{"ok":true,"result":[{"update_id":1,"message":{"message_id":1,"text":"обр`
	s3, _ := New(testConfig(f2, nil))
	if err := s3.Run(context.Background(), c.Sink); !errors.Is(err, source.ErrMalformed) {
		t.Fatalf("broken envelope: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Token: "no-colon"},
		{Token: "abc:def"},
		{Token: testToken, PollTimeout: time.Minute},
		{Token: testToken, Limit: 101},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		} else if strings.Contains(err.Error(), "def") {
			t.Errorf("error quotes the token: %v", err)
		}
	}
	for _, secret := range []string{"", "has space", strings.Repeat("a", 257)} {
		if _, err := NewWebhook(Config{Token: testToken}, secret); err == nil {
			t.Errorf("secret %q accepted", secret)
		}
	}
}

func TestReply(t *testing.T) {
	f := newFakeAPI(t, nil)
	s, _ := New(testConfig(f, nil))
	to := appeal.Appeal{Network: appeal.NetworkTelegram, ExternalID: "-1001122334455_3002"}
	f.push("sendMessage", 429, string(readFixture(t, "error_429.json")))
	start := time.Now()
	r, err := s.Reply(context.Background(), to, "Бригада выехала, тротуары очистят до 18:00.")
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 900*time.Millisecond {
		t.Error("429 retry_after was not waited out")
	}
	sent := f.sentMessages()
	if len(sent) != 1 || sent[0].ChatID != -1001122334455 || sent[0].ReplyParameters.MessageID != 3002 || !sent[0].ReplyParameters.AllowSendingWithoutReply {
		t.Fatalf("sent %+v", sent)
	}
	if r.ExternalID != "-1001122334455_9001" || r.URL != "https://t.me/city_talk/9001" || !r.At.Equal(time.Unix(1767260000, 0)) {
		t.Errorf("reply %+v", r)
	}

	long := strings.Repeat("Ответ по существу. ", 400) // ~7600 characters
	if _, err := s.Reply(context.Background(), to, long); err != nil {
		t.Fatal(err)
	}
	sent = f.sentMessages()[1:]
	if len(sent) != 2 || sent[1].ReplyParameters.MessageID != 9002 {
		t.Fatalf("long answer sent as %d parts: %+v", len(sent), sent)
	}
	for _, p := range sent {
		if n := len([]rune(p.Text)); n > 4096 {
			t.Errorf("part of %d characters", n)
		}
	}
	if sent[0].Text+sent[1].Text != long {
		t.Error("parts do not add up to the answer")
	}

	if _, err := s.Reply(context.Background(), appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "1_2"}, "x"); err == nil {
		t.Error("replied to a VK appeal")
	}
	if _, err := s.Reply(context.Background(), appeal.Appeal{Network: appeal.NetworkTelegram, ExternalID: "junk"}, "x"); err == nil {
		t.Error("replied to a bad external id")
	}
}

func TestWebhook(t *testing.T) {
	f := newFakeAPI(t, nil)
	cfg := testConfig(f, nil)
	c := &adaptertest.Sink{}
	cfg.Edits = c.Edit
	h, err := NewWebhook(cfg, "s3cret_token-1")
	if err != nil {
		t.Fatal(err)
	}
	ups := fixtureUpdates(t)
	post := func(secret string, body []byte) (int, string) {
		req := httptest.NewRequest(http.MethodPost, "/tg", strings.NewReader(string(body)))
		if secret != "" {
			req.Header.Set(SecretHeader, secret)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code, w.Body.String()
	}
	if code, _ := post("s3cret_token-1", ups[0]); code != 503 {
		t.Errorf("before Run: %d", code)
	}
	var mu sync.Mutex
	fail := false
	sink := func(ctx context.Context, a appeal.Appeal) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return adaptertest.ErrDown
		}
		return c.Sink(ctx, a)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx, sink) }()
	for !h.gate.Running() {
		time.Sleep(time.Millisecond)
	}
	for _, tc := range []struct {
		name, secret string
		body         []byte
		code         int
	}{
		{"no secret", "", ups[0], 401},
		{"wrong secret", "s3cret_token-2", ups[0], 401},
		{"prefix of secret", "s3cret", ups[0], 401},
		{"truncated", "s3cret_token-1", ups[0][:40], 400},
		{"wrong type", "s3cret_token-1", []byte(`{"update_id":5,"message":{"message_id":1,"chat":{"id":"x"}}}`), 400},
		{"no update id", "s3cret_token-1", []byte(`{"message":{"message_id":1}}`), 400},
		{"invalid utf-8 text", "s3cret_token-1", []byte("{\"update_id\":6,\"message\":{\"message_id\":1,\"from\":{\"id\":1,\"first_name\":\"a\"},\"chat\":{\"id\":1,\"type\":\"private\"},\"date\":1,\"text\":\"\xff\xfe\"}}"), 400},
		{"too big", "s3cret_token-1", []byte(`{"update_id":7,"message":{"text":"` + strings.Repeat("x", maxUpdateBytes) + `"}}`), 413},
		{"private message", "s3cret_token-1", ups[0], 200},
		{"edit", "s3cret_token-1", ups[8], 200},
		{"not an appeal", "s3cret_token-1", ups[2], 200},
	} {
		if code, body := post(tc.secret, tc.body); code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.code)
		}
	}
	mu.Lock()
	fail = true
	mu.Unlock()
	if code, _ := post("s3cret_token-1", ups[1]); code != 503 {
		t.Errorf("sink refused: %d, want 503 so Telegram redelivers", code)
	}
	req := httptest.NewRequest(http.MethodGet, "/tg", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 405 {
		t.Errorf("GET: %d", w.Code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got, edits := c.Snapshot()
	// The private message and the edit.
	if len(got) != 1 || got[0].ID != "telegram:48151623_501" || len(edits) != 1 {
		t.Fatalf("delivered %d appeals, %d edits", len(got), len(edits))
	}
	if err := h.SetWebhook(context.Background(), "https://bot.example/tg"); err != nil {
		t.Fatal(err)
	}
}

func TestSplitText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want []string
	}{
		{"abc", 5, []string{"abc"}},
		{"ab cd ef", 5, []string{"ab ", "cd ef"}},
		{"abcdefgh", 3, []string{"abc", "def", "gh"}},
		{"яяя яяя", 4, []string{"яяя ", "яяя"}},
	} {
		if got := splitText(tc.in, tc.n); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("splitText(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func BenchmarkDecodeAndMap(b *testing.B) {
	ups := fixtureUpdates(b)
	bt, _ := newBot(Config{Token: testToken, Logger: quiet})
	sink := func(context.Context, appeal.Appeal) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		for _, raw := range ups {
			u, err := decodeUpdate(raw)
			if err != nil {
				b.Fatal(err)
			}
			if err := bt.deliver(context.Background(), u, sink); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(ups))/b.Elapsed().Seconds(), "updates/s")
}

var _ = io.Discard

func TestChatsFilter(t *testing.T) {
	f := newFakeAPI(t, fixtureUpdates(t))
	c := &adaptertest.Sink{}
	cfg := testConfig(f, nil)
	cfg.Chats = []int64{-1001987654321} // the channel, not its discussion group
	s, _ := New(cfg)
	if err := runUntil(t, s, c.Sink, func() bool { a, _ := c.Snapshot(); return len(a) == 3 }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	got, _ := c.Snapshot()
	var ids []string
	for _, a := range got {
		ids = append(ids, a.ExternalID)
	}
	if fmt.Sprint(ids) != "[48151623_501 -1001987654321_88 48151623_503]" {
		t.Fatalf("delivered %v: want the private messages and the channel post only", ids)
	}
}

func TestWebhookRunsWhenBotAPIIsDown(t *testing.T) {
	f := newFakeAPI(t, nil)
	for range 3 {
		f.push("getMe", 502, "<html>Bad Gateway</html>")
	}
	cfg := testConfig(f, nil)
	h, _ := NewWebhook(cfg, "tok")
	c := &adaptertest.Sink{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx, c.Sink) }()
	body := fixtureUpdates(t)[0]
	deadline := time.Now().Add(5 * time.Second)
	for {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		req.Header.Set(SecretHeader, "tok")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook never accepted: %d", w.Code)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got, _ := c.Snapshot()
	if len(got) != 1 || got[0].Community.ID != "7000000001" {
		t.Fatalf("got %+v", got)
	}
	// A refused token still stops Run.
	f.push("getMe", 401, string(readFixture(t, "error_401.json")))
	h2, _ := NewWebhook(cfg, "tok")
	if err := h2.Run(context.Background(), c.Sink); !errors.Is(err, source.ErrAuth) {
		t.Fatalf("Run = %v", err)
	}
}
