package ok

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/adaptertest"
)

var quiet = slog.New(slog.DiscardHandler)

func testConfig(f *fakeOK, cp source.Checkpoints, groups ...string) Config {
	if len(groups) == 0 {
		groups = []string{testGroup}
	}
	return Config{
		ApplicationKey: testAppKey, ApplicationSecretKey: testSecret, AccessToken: testToken,
		Groups: groups, OfficialGroups: []string{testGroup},
		BaseURL: f.srv.URL, HTTPClient: f.srv.Client(), Checkpoints: cp,
		PollInterval: 10 * time.Millisecond, RequestsPerSecond: -1,
		Backoff: source.Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond},
		Logger:  quiet,
		Now:     func() time.Time { return time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC) },
	}
}

func runUntil(t *testing.T, s *Source, sink source.Sink, cond func() bool) error {
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
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
	}
	time.Sleep(50 * time.Millisecond) // a few more rounds: nothing more may come
	cancel()
	return <-done
}

func TestSignKnownAnswer(t *testing.T) {
	// Computed independently: md5("application_key=CBAFGHIJKLMNOP" +
	// "fields=name,shortname" + "format=json" + "method=group.getInfo" +
	// "uids=57000000000001" + md5("tkn.0123456789abcdef" + secret)).
	params := url.Values{
		"application_key": {"CBAFGHIJKLMNOP"}, "format": {"json"}, "method": {"group.getInfo"},
		"uids": {"57000000000001"}, "fields": {"name,shortname"},
		"access_token": {"ignored"}, "sig": {"ignored"},
	}
	got := Sign(params, md5hex("tkn.0123456789abcdef"+"0123456789ABCDEF0123456789ABCDEF"))
	if got != "f5fd268810002857be3be53bb35d7774" {
		t.Fatalf("Sign = %s", got)
	}
}

func TestPollsTopicsAndComments(t *testing.T) {
	f := newFakeOK(t)
	f.seed(t)
	cp := source.NewMemoryCheckpoints()
	s, err := New(testConfig(f, cp))
	if err != nil {
		t.Fatal(err)
	}
	rec := &adaptertest.Sink{}
	if err := runUntil(t, s, rec.Sink, func() bool { return len(rec.Appeals()) >= 4 }); err != nil {
		t.Fatal(err)
	}
	got := rec.Appeals()
	if len(got) != 4 {
		t.Fatalf("delivered %d: %v", len(got), ids(got))
	}
	// Oldest first: topic 2, its two citizen comments, topic 3 (topic 1
	// has no text; the group's own comment is an answer, not an appeal).
	want := []appeal.ID{
		"ok:155000000000002",
		"ok:155000000000003",
		"ok:155000000000002_MTc2NzI2MDAwMDAwMDoxMTE=",
		"ok:155000000000002_MTc2NzI2MDAwMDAwMDoxMTI=",
	}
	if fmt.Sprint(ids(got)) != fmt.Sprint(want) {
		t.Fatalf("order %v, want %v", ids(got), want)
	}
	byID := map[appeal.ID]appeal.Appeal{}
	for _, a := range got {
		byID[a.ID] = a
	}
	t3 := byID["ok:155000000000003"]
	if t3.Kind != appeal.KindPost || t3.Author.Name != "Сергей Иванов" || t3.Author.ID != "580000000011" ||
		t3.Community.Name != "Администрация города Курска" || !t3.Community.Official ||
		t3.URL != "https://ok.ru/group/57000000000001/topic/155000000000003" ||
		!t3.CreatedAt.Equal(time.UnixMilli(1767262800000)) || !strings.HasPrefix(t3.Text, "Когда починят") ||
		len(t3.Attachments) != 1 || t3.Attachments[0].Type != "photo" {
		t.Errorf("topic: %+v", t3)
	}
	t2 := byID["ok:155000000000002"]
	if t2.Author != (appeal.Author{}) || len(t2.Attachments) != 1 || t2.Attachments[0].URL != "https://kursk.example.ru/news/grafik" {
		t.Errorf("group topic: %+v", t2)
	}
	c1 := byID["ok:155000000000002_MTc2NzI2MDAwMDAwMDoxMTE="]
	if c1.Kind != appeal.KindComment || c1.Thread.RootID != "155000000000002" || c1.Thread.ParentID != "155000000000002" ||
		c1.Author.Name != "Мария Соколова" || !c1.CreatedAt.Equal(time.Date(2026, 1, 1, 9, 40, 0, 0, time.UTC)) {
		t.Errorf("comment: %+v", c1)
	}
	c2 := byID["ok:155000000000002_MTc2NzI2MDAwMDAwMDoxMTI="]
	if c2.Kind != appeal.KindReply || c2.Thread.ParentID != "155000000000002_MTc2NzI2MDAwMDAwMDoxMTE=" || c2.Author.Name != "Пётр Смирнов" {
		t.Errorf("reply: %+v", c2)
	}

	// New messages: a topic and a comment in the same second as the
	// newest delivered one (the cursor keeps ids for such ties).
	f.addTopic(testGroup, json.RawMessage(`{"id":"155000000000004","created_ms":1767266400000,"author_ref":"user:580000000031","media":[{"type":"text","text":"Яма у остановки «Школа»"}]}`))
	f.addComment("155000000000002", json.RawMessage(`{"id":"MTc2NzI2MDAwMDAwMDoxMTQ=","text":"И у нас, на Дзержинского","date":"2026-01-01 13:05:10","author_id":"580000000023","author_type":"USER"}`))
	s2, _ := New(testConfig(f, cp))
	rec2 := &adaptertest.Sink{}
	if err := runUntil(t, s2, rec2.Sink, func() bool { return len(rec2.Appeals()) >= 2 }); err != nil {
		t.Fatal(err)
	}
	if got := ids(rec2.Appeals()); fmt.Sprint(got) != "[ok:155000000000004 ok:155000000000002_MTc2NzI2MDAwMDAwMDoxMTQ=]" {
		t.Fatalf("second run delivered %v", got)
	}
	raw, _ := cp.Load(context.Background(), CheckpointKey(testGroup))
	var c cursor
	if err := json.Unmarshal([]byte(raw), &c); err != nil || c.TopicMs != 1767266400000 || len(c.Comments) != 1 {
		t.Fatalf("cursor %s", raw)
	}
	if cc := c.Comments["155000000000002"]; len(cc.IDs) != 2 {
		t.Errorf("comment cursor %+v: want both ids of 13:05:10 (the group's answer and the new one)", cc)
	}
}

func ids(as []appeal.Appeal) []appeal.ID {
	var out []appeal.ID
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func TestSinkErrorHoldsCursor(t *testing.T) {
	f := newFakeOK(t)
	f.seed(t)
	cp := source.NewMemoryCheckpoints()
	s, _ := New(testConfig(f, cp))
	rec := &adaptertest.Sink{FailAt: 3}
	err := s.Run(context.Background(), rec.Sink)
	if !errors.Is(err, adaptertest.ErrDown) || !strings.Contains(err.Error(), "comment MTc2NzI2MDAwMDAwMDoxMTE=") {
		t.Fatalf("Run = %v", err)
	}
	rec2 := &adaptertest.Sink{}
	if err := runUntil(t, s, rec2.Sink, func() bool { return len(rec2.Appeals()) >= 2 }); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ids(rec2.Appeals())); got != "[ok:155000000000002_MTc2NzI2MDAwMDAwMDoxMTE= ok:155000000000002_MTc2NzI2MDAwMDAwMDoxMTI=]" {
		t.Fatalf("after restart: %s", got)
	}
}

func TestAuthErrors(t *testing.T) {
	f := newFakeOK(t)
	f.seed(t)
	for name, mutate := range map[string]func(*Config){
		"expired token": func(c *Config) { c.AccessToken = "tkn1.expired" },
		"wrong secret":  func(c *Config) { c.ApplicationSecretKey = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" },
		"wrong app key": func(c *Config) { c.ApplicationKey = "CBAXXXX" },
	} {
		cfg := testConfig(f, nil)
		mutate(&cfg)
		s, _ := New(cfg)
		err := s.Run(context.Background(), (&adaptertest.Sink{}).Sink)
		var apiErr *APIError
		if !errors.Is(err, source.ErrAuth) || !errors.As(err, &apiErr) {
			t.Errorf("%s: Run = %v, want ErrAuth", name, err)
		}
		if strings.Contains(fmt.Sprint(err), "tkn1") || strings.Contains(fmt.Sprint(err), "FFFF") {
			t.Errorf("%s: error leaks a credential: %v", name, err)
		}
	}
}

func TestRateLimitAndTemporaryRetried(t *testing.T) {
	f := newFakeOK(t)
	f.seed(t)
	f.push("mediatopic.getTopics", fixture(t, "error_8.json"))
	f.push("mediatopic.getTopics", fixture(t, "error_2.json"))
	s, _ := New(testConfig(f, nil))
	rec := &adaptertest.Sink{}
	if err := runUntil(t, s, rec.Sink, func() bool { return len(rec.Appeals()) >= 4 }); err != nil {
		t.Fatal(err)
	}
	if n := f.callCount("mediatopic.getTopics"); n < 3 {
		t.Errorf("getTopics called %d times", n)
	}
	// A fresh server for the direct call: a request the cancelled Run left
	// in flight may still reach the first one and take a queued answer.
	f2 := newFakeOK(t)
	f2.seed(t)
	s2, _ := New(testConfig(f2, nil))
	var rl *source.RateLimitError
	f2.push("mediatopic.getTopics", fixture(t, "error_8.json"))
	err := s2.c.call(context.Background(), "mediatopic.getTopics", url.Values{"gid": {testGroup}}, &topicsResponse{})
	if !errors.As(err, &rl) || !errors.Is(err, source.ErrRateLimited) {
		t.Errorf("code 8 gave %v", err)
	}
}

func TestInaccessibleGroupSkipped(t *testing.T) {
	f := newFakeOK(t)
	f.seed(t)
	s, _ := New(testConfig(f, nil, "57999999999999", testGroup))
	rec := &adaptertest.Sink{}
	if err := runUntil(t, s, rec.Sink, func() bool { return len(rec.Appeals()) >= 4 }); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestMalformed(t *testing.T) {
	f := newFakeOK(t)
	f.seed(t)
	f.broken = `{"media_topics":[{"id":"1","created_ms":"вчера"}]}`
	s, _ := New(testConfig(f, nil))
	err := s.Run(context.Background(), (&adaptertest.Sink{}).Sink)
	if !errors.Is(err, source.ErrMalformed) || !strings.Contains(err.Error(), "created_ms") {
		t.Fatalf("Run = %v", err)
	}
	f.broken = `{"media_topics":[{"id":"1","created_ms":17`
	if err := s.Run(context.Background(), (&adaptertest.Sink{}).Sink); !errors.Is(err, source.ErrMalformed) {
		t.Fatalf("truncated: %v", err)
	}
	f.broken = "{\"media_topics\":[{\"id\":\"1\",\"created_ms\":1,\"media\":[{\"type\":\"text\",\"text\":\"\xd0\"}]}]}"
	if err := s.Run(context.Background(), (&adaptertest.Sink{}).Sink); !errors.Is(err, source.ErrMalformed) || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	f.broken = ""
	f.addComment("155000000000002", json.RawMessage(`{"id":"bad","text":"x","date":"1 января","author_id":"1"}`))
	err = s.Run(context.Background(), (&adaptertest.Sink{}).Sink)
	if !errors.Is(err, source.ErrMalformed) || !strings.Contains(err.Error(), "comment bad") {
		t.Fatalf("bad date: %v", err)
	}
}

func TestCatchUpPagesBack(t *testing.T) {
	f := newFakeOK(t)
	cp := source.NewMemoryCheckpoints()
	// An old topic delivered earlier.
	f.addTopic(testGroup, json.RawMessage(`{"id":"1","created_ms":1000,"media":[{"type":"text","text":"старая тема"}]}`))
	cfg := testConfig(f, cp)
	cfg.TopicsPerPage = 10
	s, _ := New(cfg)
	rec := &adaptertest.Sink{}
	if err := runUntil(t, s, rec.Sink, func() bool { return len(rec.Appeals()) >= 1 }); err != nil {
		t.Fatal(err)
	}
	// 35 topics arrive during a pause.
	for i := 2; i <= 36; i++ {
		f.addTopic(testGroup, json.RawMessage(fmt.Sprintf(`{"id":"%d","created_ms":%d,"media":[{"type":"text","text":"тема %d"}]}`, i, 1000+i, i)))
	}
	rec2 := &adaptertest.Sink{}
	if err := runUntil(t, s, rec2.Sink, func() bool { return len(rec2.Appeals()) >= 35 }); err != nil {
		t.Fatal(err)
	}
	got := rec2.Appeals()
	if len(got) != 35 || got[0].ExternalID != "2" || got[34].ExternalID != "36" {
		t.Fatalf("catch-up delivered %d, first %s", len(got), got[0].ExternalID)
	}
}

func TestNewValidates(t *testing.T) {
	base := Config{ApplicationKey: "k", ApplicationSecretKey: "s", AccessToken: "t", Groups: []string{"1"}}
	for name, mutate := range map[string]func(*Config){
		"no key":     func(c *Config) { c.ApplicationKey = "" },
		"no secret":  func(c *Config) { c.ApplicationSecretKey = "" },
		"no token":   func(c *Config) { c.AccessToken = "" },
		"no groups":  func(c *Config) { c.Groups = nil },
		"short name": func(c *Config) { c.Groups = []string{"kursk_city"} },
	} {
		c := base
		mutate(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func BenchmarkPollRound(b *testing.B) {
	f := newFakeOK(b)
	for i := 1; i <= 20; i++ {
		f.addTopic(testGroup, json.RawMessage(fmt.Sprintf(`{"id":"%d","created_ms":%d,"author_ref":"user:5","media":[{"type":"text","text":"Тема номер %d про дороги"}]}`, i, 1000+i, i)))
		for j := 0; j < 10; j++ {
			f.addComment(fmt.Sprint(i), json.RawMessage(fmt.Sprintf(`{"id":"c%d_%d","text":"Комментарий %d","date":"2026-01-01 12:%02d:00","author_id":"7","author_type":"USER"}`, i, j, j, j)))
		}
	}
	cfg := testConfig(f, nil)
	cfg.WatchTopics = 20
	s, _ := New(cfg)
	n := 0
	sink := func(context.Context, appeal.Appeal) error { n++; return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := s.pollGroup(context.Background(), testGroup, sink); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "appeals/s")
	b.ReportMetric(float64(f.callCount("mediatopic.getTopics")+f.callCount("discussions.getComments"))/float64(b.N), "requests/round")
}
