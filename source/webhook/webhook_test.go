package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type recorder struct {
	mu   sync.Mutex
	got  []appeal.Appeal
	fail func(a appeal.Appeal) error
}

func (r *recorder) sink(_ context.Context, a appeal.Appeal) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(a); err != nil {
			return err
		}
	}
	r.got = append(r.got, a)
	return nil
}

func (r *recorder) all() []appeal.Appeal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]appeal.Appeal(nil), r.got...)
}

// start runs the intake with rec as sink and returns it with a stop func.
func start(t *testing.T, cfg Config, rec *recorder) *Source {
	t.Helper()
	cfg.Now = func() time.Time { return fixedNow }
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, rec.sink) }()
	waitRunning(t, s)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	return s
}

func waitRunning(t testing.TB, s *Source) {
	t.Helper()
	for i := 0; ; i++ {
		s.mu.RLock()
		ok := s.run != nil
		s.mu.RUnlock()
		if ok {
			return
		}
		if i > 1000 {
			t.Fatal("Run did not start")
		}
		time.Sleep(time.Millisecond)
	}
}

type resp struct {
	code int
	body reply
	hdr  http.Header
}

func post(t *testing.T, h http.Handler, body string, hdr map[string]string) resp {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/appeals", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var rep reply
	if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
		t.Fatalf("reply %q is not JSON: %v", w.Body.String(), err)
	}
	return resp{w.Code, rep, w.Header()}
}

func TestSingleAppealAccepted(t *testing.T) {
	rec := &recorder{}
	s := start(t, Config{Community: appeal.Community{ID: "portal", Name: "Портал"}}, rec)
	r := post(t, s, `{"external_id":"f-1","text":"  Во дворе не горят фонари  ","author":{"id":"u7","name":"Мария"},
		"created_at":"2026-03-01T09:30:00+03:00","geo":{"lat":51.73,"lon":36.19},
		"attachments":[{"type":"photo","url":"https://portal.example/p/1.jpg"}]}`, nil)
	if r.code != http.StatusAccepted || r.body.Accepted != 1 || len(r.body.IDs) != 1 || r.body.IDs[0] != "web:f-1" {
		t.Fatalf("reply %d %+v", r.code, r.body)
	}
	got := rec.all()
	if len(got) != 1 {
		t.Fatalf("sink got %d", len(got))
	}
	a := got[0]
	if a.ID != "web:f-1" || a.Network != appeal.NetworkWeb || a.Kind != appeal.KindMessage || a.Text != "Во дворе не горят фонари" ||
		a.Author.Name != "Мария" || a.Community.ID != "portal" || a.Geo == nil || a.Geo.Lat != 51.73 ||
		!a.CreatedAt.Equal(time.Date(2026, 3, 1, 6, 30, 0, 0, time.UTC)) || !a.ReceivedAt.Equal(fixedNow) ||
		len(a.Attachments) != 1 || a.Status != appeal.StatusNew {
		t.Fatalf("appeal %+v", a)
	}
}

func TestBatchAccepted(t *testing.T) {
	rec := &recorder{}
	s := start(t, Config{Network: "gosuslugi"}, rec)
	r := post(t, s, `[{"external_id":"1","text":"а"},{"external_id":"2","text":"б","kind":"comment","community":{"id":"c"}}]`, nil)
	if r.code != http.StatusAccepted || r.body.Accepted != 2 || fmt.Sprint(r.body.IDs) != "[gosuslugi:1 gosuslugi:2]" {
		t.Fatalf("reply %d %+v", r.code, r.body)
	}
	if got := rec.all(); len(got) != 2 || got[1].Kind != appeal.KindComment || got[1].Community.ID != "c" {
		t.Fatalf("sink got %+v", got)
	}
}

func TestValidationErrors(t *testing.T) {
	long := strings.Repeat("я", 31)
	cases := []struct {
		name, body string
		field      string
		index      int // -1: none
		msg        string
	}{
		{"empty body", ``, "", -1, "body is empty"},
		{"not json", `text=hello`, "", -1, "want a JSON object"},
		{"truncated", `{"external_id":"1","text":"обо`, "", -1, "truncated"},
		{"truncated batch", `[{"external_id":"1","text":"a"},{"ext`, "", -1, "truncated"},
		{"wrong type", `{"external_id":"1","text":42}`, "text", -1, "want a string"},
		{"nested wrong type", `{"external_id":"1","text":"a","author":{"name":["x"]}}`, "author.name", -1, "want a string"},
		{"unknown field", `{"external_id":"1","text":"a","phone":"+7 900"}`, "phone", -1, "unknown field"},
		{"missing text", `{"external_id":"1"}`, "text", -1, "is empty"},
		{"blank text", `{"external_id":"1","text":" \n "}`, "text", -1, "is empty"},
		{"long text", `{"external_id":"1","text":"` + long + `"}`, "text", -1, "31 characters"},
		{"missing id", `{"text":"a"}`, "external_id", -1, "Idempotency-Key"},
		{"control in id", `{"external_id":"a\u0000b","text":"a"}`, "external_id", -1, "control"},
		{"bad kind", `{"external_id":"1","text":"a","kind":"tweet"}`, "kind", -1, "not one of"},
		{"bad time", `{"external_id":"1","text":"a","created_at":"01.03.2026"}`, "created_at", -1, "RFC 3339"},
		{"future time", `{"external_id":"1","text":"a","created_at":"2027-01-01T00:00:00Z"}`, "created_at", -1, "future"},
		{"bad lat", `{"external_id":"1","text":"a","geo":{"lat":91,"lon":0}}`, "geo.lat", -1, "outside"},
		{"bad url", `{"external_id":"1","text":"a","url":"javascript:alert(1)"}`, "url", -1, "http(s)"},
		{"bad attachment", `{"external_id":"1","text":"a","attachments":[{"type":"photo"},{"url":"https://x.example/1"}]}`, "attachments[1].type", -1, "empty"},
		{"trailing data", `{"external_id":"1","text":"a"} {}`, "", -1, "after the JSON value"},
		{"batch item bad", `[{"external_id":"1","text":"a"},{"external_id":"2","text":""}]`, "text", 1, "is empty"},
		{"batch item type", `[{"external_id":"1","text":"a"},{"external_id":"2","text":"b"},{"external_id":3,"text":"c"}]`, "external_id", 2, "want a string"},
		{"batch item not object", `[{"external_id":"1","text":"a"},"x"]`, "", 1, "want a JSON object"},
		{"batch duplicate", `[{"external_id":"1","text":"a"},{"external_id":"1","text":"b"}]`, "external_id", 1, "repeats appeal [0]"},
		{"empty batch", `[]`, "", -1, "batch is empty"},
		{"too big batch", `[` + strings.Repeat(`{"external_id":"x","text":"a"},`, 3) + `{"external_id":"y","text":"a"}]`, "", -1, "at most 3"},
		{"invalid utf8", "{\"external_id\":\"1\",\"text\":\"\xd0\"}", "", -1, "not valid UTF-8"},
	}
	rec := &recorder{}
	s := start(t, Config{MaxTextRunes: 30, MaxBatch: 3}, rec)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, s, tc.body, nil)
			if r.code != http.StatusBadRequest {
				t.Fatalf("code %d %+v", r.code, r.body)
			}
			if r.body.Field != tc.field || !strings.Contains(r.body.Error, tc.msg) || r.body.Accepted != 0 {
				t.Errorf("got %+v, want field %q and %q", r.body, tc.field, tc.msg)
			}
			gotIndex := -1
			if r.body.Index != nil {
				gotIndex = *r.body.Index
			}
			if gotIndex != tc.index {
				t.Errorf("index %d, want %d", gotIndex, tc.index)
			}
		})
	}
	if n := len(rec.all()); n != 0 {
		t.Fatalf("a refused request reached the sink %d times", n)
	}
}

func TestHTTPErrors(t *testing.T) {
	rec := &recorder{}
	s := start(t, Config{MaxBodyBytes: 100}, rec)

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "POST" {
		t.Errorf("GET: %d", w.Code)
	}

	req = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`text=a`))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w = httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("form body: %d", w.Code)
	}

	big := `{"external_id":"1","text":"` + strings.Repeat("a", 200) + `"}`
	if r := post(t, s, big, nil); r.code != http.StatusRequestEntityTooLarge {
		t.Errorf("big body: %d", r.code)
	}
	// Without Content-Length (chunked), the limit still holds.
	req = httptest.NewRequest(http.MethodPost, "/", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	w = httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked big body: %d", w.Code)
	}
	if len(rec.all()) != 0 {
		t.Fatal("refused requests reached the sink")
	}
}

func TestSignature(t *testing.T) {
	secret := []byte("s3cr3t")
	rec := &recorder{}
	s := start(t, Config{Secret: secret}, rec)
	body := `{"external_id":"1","text":"a"}`
	for _, tc := range []struct {
		name, sig string
		code      int
	}{
		{"missing", "", 401},
		{"garbage", "sha256=zz", 401},
		{"short", "sha256=abcd", 401},
		{"other secret", Sign([]byte("other"), []byte(body)), 401},
		{"other body", Sign(secret, []byte(body+" ")), 401},
		{"valid", Sign(secret, []byte(body)), 202},
		{"valid bare hex", strings.TrimPrefix(Sign(secret, []byte(body)), "sha256="), 202},
	} {
		hdr := map[string]string{}
		if tc.sig != "" {
			hdr[DefaultSignatureHeader] = tc.sig
		}
		if r := post(t, s, body, hdr); r.code != tc.code {
			t.Errorf("%s: %d %+v", tc.name, r.code, r.body)
		}
	}
	if n := len(rec.all()); n != 2 {
		t.Fatalf("sink got %d, want 2", n)
	}
}

func TestSinkErrorIs503AndNothingClaimed(t *testing.T) {
	down := true
	rec := &recorder{}
	rec.fail = func(a appeal.Appeal) error {
		if down && a.ExternalID == "2" {
			return errors.New("database is down")
		}
		return nil
	}
	s := start(t, Config{}, rec)
	body := `[{"external_id":"1","text":"a"},{"external_id":"2","text":"b"},{"external_id":"3","text":"c"}]`
	r := post(t, s, body, nil)
	if r.code != http.StatusServiceUnavailable || r.body.Accepted != 0 || len(r.body.IDs) != 0 || r.hdr.Get("Retry-After") == "" {
		t.Fatalf("reply %d %+v", r.code, r.body)
	}
	if r.body.Index == nil || *r.body.Index != 1 {
		t.Errorf("index %v, want 1", r.body.Index)
	}
	rec.mu.Lock()
	down = false
	rec.mu.Unlock()
	// The sender resends; the store would dedupe appeal 1 by its ID.
	if r := post(t, s, body, nil); r.code != http.StatusAccepted || r.body.Accepted != 3 {
		t.Fatalf("resend: %d %+v", r.code, r.body)
	}
	var got []string
	for _, a := range rec.all() {
		got = append(got, a.ExternalID)
	}
	if strings.Join(got, ",") != "1,1,2,3" {
		t.Fatalf("sink saw %v", got)
	}
}

func TestIdempotencyKey(t *testing.T) {
	rec := &recorder{}
	s := start(t, Config{}, rec)
	body := `{"text":"без id, ключ вместо него"}`
	key := map[string]string{IdempotencyHeader: "req-42"}
	r1 := post(t, s, body, key)
	if r1.code != 202 || r1.body.IDs[0] != "web:req-42" {
		t.Fatalf("first: %d %+v", r1.code, r1.body)
	}
	r2 := post(t, s, body, key)
	if r2.code != 202 || r2.hdr.Get("Idempotent-Replayed") != "true" || r2.body.IDs[0] != "web:req-42" {
		t.Fatalf("resend: %d %+v", r2.code, r2.body)
	}
	if n := len(rec.all()); n != 1 {
		t.Fatalf("sink got %d, want 1", n)
	}
	if r := post(t, s, `{"text":"другой текст"}`, key); r.code != http.StatusUnprocessableEntity {
		t.Fatalf("reuse with another body: %d", r.code)
	}
	// A batch takes key#index as the missing ids.
	r := post(t, s, `[{"text":"a"},{"external_id":"own","text":"b"}]`, map[string]string{IdempotencyHeader: "b-1"})
	if fmt.Sprint(r.body.IDs) != "[web:b-1#0 web:own]" {
		t.Fatalf("batch ids %v", r.body.IDs)
	}
}

func TestIdempotencyForgetsFailures(t *testing.T) {
	fail := true
	rec := &recorder{fail: func(appeal.Appeal) error {
		if fail {
			return errors.New("down")
		}
		return nil
	}}
	s := start(t, Config{}, rec)
	key := map[string]string{IdempotencyHeader: "k"}
	if r := post(t, s, `{"text":"a"}`, key); r.code != 503 {
		t.Fatalf("first %d", r.code)
	}
	rec.mu.Lock()
	fail = false
	rec.mu.Unlock()
	if r := post(t, s, `{"text":"a"}`, key); r.code != 202 || r.hdr.Get("Idempotent-Replayed") != "" {
		t.Fatalf("retry after failure %d %v", r.code, r.hdr)
	}
}

func TestIdempotencyInFlightConflict(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	rec := &recorder{fail: func(appeal.Appeal) error {
		entered <- struct{}{}
		<-release
		return nil
	}}
	s := start(t, Config{}, rec)
	key := map[string]string{IdempotencyHeader: "k"}
	done := make(chan resp)
	go func() { done <- post(t, s, `{"text":"a"}`, key) }()
	<-entered
	if r := post(t, s, `{"text":"a"}`, key); r.code != http.StatusConflict {
		t.Errorf("concurrent same key: %d", r.code)
	}
	close(release)
	if r := <-done; r.code != 202 {
		t.Fatalf("first: %d", r.code)
	}
}

func TestIdempotencyBounded(t *testing.T) {
	m := newIdempotency(2, time.Hour)
	now := fixedNow
	for _, k := range []string{"a", "b", "c"} {
		if _, st := m.begin(k, [32]byte{1}, now); st != idemNew {
			t.Fatal(k, st)
		}
		m.end(k, [32]byte{1}, true, reply{Accepted: 1}, now)
	}
	if _, st := m.begin("a", [32]byte{1}, now); st != idemNew {
		t.Error("oldest key was not forgotten")
	}
	if _, st := m.begin("c", [32]byte{1}, now.Add(2*time.Hour)); st != idemNew {
		t.Error("expired key was not forgotten")
	}
}

func TestNotRunningIs503(t *testing.T) {
	s, _ := New(Config{Logger: slog.New(slog.DiscardHandler)})
	if r := post(t, s, `{"external_id":"1","text":"a"}`, nil); r.code != 503 {
		t.Fatalf("%d", r.code)
	}
}

func TestRunServesOnListenerAndStopsCleanly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	s, _ := New(Config{Listener: ln, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, rec.sink) }()
	waitRunning(t, s)
	res, err := http.Post("http://"+ln.Addr().String()+"/", "application/json", bytes.NewBufferString(`{"external_id":"n1","text":"сеть"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 202 || len(rec.all()) != 1 {
		t.Fatalf("%d, %d delivered", res.StatusCode, len(rec.all()))
	}
	// A second Run is refused while the first is active.
	if err := s.Run(context.Background(), rec.sink); !errors.Is(err, source.ErrAlreadyRunning) {
		t.Errorf("second Run = %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, err := http.Post("http://"+ln.Addr().String()+"/", "application/json", strings.NewReader(`{}`)); err == nil {
		t.Error("listener still serving after Run returned")
	}
}

func TestCancelStopsSinkInFlight(t *testing.T) {
	entered := make(chan struct{})
	s, _ := New(Config{Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, func(ctx context.Context, a appeal.Appeal) error {
			close(entered)
			<-ctx.Done() // a sink honouring ctx
			return ctx.Err()
		})
	}()
	waitRunning(t, s)
	got := make(chan resp)
	go func() { got <- post(t, s, `{"external_id":"1","text":"a"}`, nil) }()
	<-entered
	cancel()
	if r := <-got; r.code != 503 {
		t.Errorf("in-flight request during shutdown: %d", r.code)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSinkRateLimitSetsRetryAfter(t *testing.T) {
	rec := &recorder{fail: func(appeal.Appeal) error {
		return &source.RateLimitError{Wait: 30 * time.Second}
	}}
	s := start(t, Config{}, rec)
	r := post(t, s, `{"external_id":"1","text":"a"}`, nil)
	if r.code != 503 || r.hdr.Get("Retry-After") != "30" {
		t.Fatalf("%d, Retry-After %q", r.code, r.hdr.Get("Retry-After"))
	}
	if r.body.Index != nil {
		t.Errorf("single appeal reply names an index: %v", *r.body.Index)
	}
}
