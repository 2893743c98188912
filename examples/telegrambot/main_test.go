package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/source"
)

const token = "7000000001:AAE-example-token"

// fakeBotAPI serves getMe, getUpdates (two messages, an edit of the first
// and an edit of a message from before the bot started, then empty long
// polls) and sendMessage, the way api.telegram.org answers.
func fakeBotAPI(t *testing.T, sent *[]string, mu *sync.Mutex) *httptest.Server {
	updates := []string{
		`{"update_id":501,"message":{"message_id":11,"from":{"id":4242,"is_bot":false,"first_name":"Анна","last_name":"Петрова"},"chat":{"id":4242,"first_name":"Анна","type":"private"},"date":1767258000,"text":"Не горят фонари на ул. Садовой, тел. +7 912 345-67-89"}}`,
		`{"update_id":502,"channel_post":{"message_id":88,"chat":{"id":-1001987654321,"title":"Администрация","username":"city_admin","type":"channel"},"date":1767258060,"text":"Сообщайте о ямах в комментариях"}}`,
		`{"update_id":503,"edited_message":{"message_id":11,"from":{"id":4242,"is_bot":false,"first_name":"Анна"},"chat":{"id":4242,"type":"private"},"date":1767258000,"edit_date":1767258100,"text":"Не горят фонари на ул. Садовой, а во дворе неделю не вывозят мусор"}}`,
		`{"update_id":504,"edited_message":{"message_id":7,"from":{"id":4243,"is_bot":false,"first_name":"Иван"},"chat":{"id":4243,"first_name":"Иван","type":"private"},"date":1767250000,"edit_date":1767258200,"text":"Во дворе на ул. Садовой неделю не вывозят мусор, контейнеры переполнены"}}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		method, ok := strings.CutPrefix(r.URL.Path, "/bot"+token+"/")
		if !ok {
			w.WriteHeader(404)
			io.WriteString(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
			return
		}
		var p map[string]any
		_ = json.NewDecoder(r.Body).Decode(&p)
		switch method {
		case "getMe":
			io.WriteString(w, `{"ok":true,"result":{"id":7000000001,"is_bot":true,"first_name":"Приёмная","username":"reception_bot"}}`)
		case "getUpdates":
			offset, _ := p["offset"].(float64)
			var out []string
			for _, u := range updates {
				var id struct {
					UpdateID float64 `json:"update_id"`
				}
				_ = json.Unmarshal([]byte(u), &id)
				if id.UpdateID >= offset {
					out = append(out, u)
				}
			}
			if len(out) == 0 {
				select {
				case <-r.Context().Done():
					return
				case <-time.After(time.Second):
				}
			}
			fmt.Fprintf(w, `{"ok":true,"result":[%s]}`, strings.Join(out, ","))
		case "sendMessage":
			mu.Lock()
			chat, _ := p["chat_id"].(float64)
			*sent = append(*sent, fmt.Sprintf("%.0f %v %v", chat, p["reply_parameters"], p["text"]))
			mu.Unlock()
			io.WriteString(w, `{"ok":true,"result":{"message_id":90,"chat":{"id":-1001987654321,"type":"channel","username":"city_admin"},"date":1767260000,"text":"ok"}}`)
		default:
			w.WriteHeader(404)
			io.WriteString(w, `{"ok":false,"error_code":404,"description":"Not Found: method not found"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// syncBuffer collects output lines written concurrently.
type syncBuffer struct {
	mu    sync.Mutex
	lines []string
	part  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.part.Write(p)
	s := b.part.String()
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			break
		}
		b.lines = append(b.lines, s[:i])
		s = s[i+1:]
	}
	b.part.Reset()
	b.part.WriteString(s)
	return len(p), nil
}

func (b *syncBuffer) Lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.lines...)
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// printed is what the tests read from a printed line.
type printed struct {
	raw            string
	Event, Outcome string
	Appeal         struct {
		ID, Text, Status string
		Author           struct{ ID, Name string }
		Topics           []struct{ Code string }
		Assignment       *struct {
			Executor string
			RuleID   string `json:"rule_id"`
		}
		History []struct{ Actor, Note string }
	}
}

func (p printed) topic() string {
	if len(p.Appeal.Topics) == 0 {
		return ""
	}
	return p.Appeal.Topics[0].Code
}

func (p printed) executor() string {
	if p.Appeal.Assignment == nil {
		return ""
	}
	return p.Appeal.Assignment.Executor
}

func parseLines(t *testing.T, lines []string) []printed {
	t.Helper()
	var out []printed
	for _, l := range lines {
		p := printed{raw: l}
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		out = append(out, p)
	}
	return out
}

func TestPollingClassifiesRoutesAndResumes(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	api := fakeBotAPI(t, &sent, &mu)
	cp := filepath.Join(t.TempDir(), "cp.json")
	args := []string{"-api-url", api.URL, "-checkpoints", cp, "-poll-timeout", "1s"}

	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, env(map[string]string{"TELEGRAM_TOKEN": token}), out, io.Discard) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(out.Lines()) < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run = %v", err)
	}
	lines := out.Lines()
	if len(lines) != 4 {
		t.Fatalf("printed %d lines: %q", len(lines), lines)
	}
	got := parseLines(t, lines)
	for _, l := range lines {
		if strings.Contains(l, "Анна") || strings.Contains(l, "Иван") || strings.Contains(l, "912 345") || strings.Contains(l, "4242_") {
			t.Errorf("personal data printed in clear: %s", l)
		}
	}

	// A message no district is named in: lighting has no regional body in
	// the rules, so the centre's duty operator takes it.
	if p := got[0]; p.Event != "appeal" || p.Outcome != "routed" || p.Appeal.ID != privID("4242_11") ||
		p.topic() != "landscaping.lighting" || p.executor() != "cur-duty" || !strings.HasPrefix(p.Appeal.Author.ID, "anon-") {
		t.Errorf("want telegram:4242_11 routed, landscaping.lighting → cur-duty, author pseudonymous: %s", p.raw)
	}
	// The channel's own announcement is not an appeal.
	if p := got[1]; p.Event != "appeal" || p.Outcome != "rejected" || p.Appeal.ID != "telegram:-1001987654321_88" || p.Appeal.Status != "rejected" {
		t.Errorf("want the channel post rejected: %s", p.raw)
	}
	// The edit is classified again: the topic follows the text, the
	// assignment stays and the history says the topic changed.
	if p := got[2]; p.Event != "edit" || p.Appeal.ID != privID("4242_11") || !strings.Contains(p.Appeal.Text, "мусор") ||
		p.topic() != "garbage" || p.executor() != "cur-duty" || len(p.Appeal.History) != 3 ||
		p.Appeal.History[2].Actor != "classifier" || !strings.Contains(p.Appeal.History[2].Note, "garbage (was landscaping.lighting)") {
		t.Errorf("want the edit re-classified as garbage, still with cur-duty, history noting it: %s", p.raw)
	}
	// An edit of a message from before the bot started is a new appeal.
	if p := got[3]; p.Event != "appeal" || p.Outcome != "routed" || p.Appeal.ID != privID("4243_7") ||
		p.topic() != "garbage" || p.executor() != "housing-inspection" {
		t.Errorf("want telegram:4243_7 routed, garbage → housing-inspection: %s", p.raw)
	}

	// A restart continues after the saved offset: nothing is printed again.
	cps, err := source.OpenFileCheckpoints(cp)
	if err != nil {
		t.Fatal(err)
	}
	if off, _ := cps.Load(context.Background(), "telegram:7000000001"); off != strconv.Itoa(505) {
		t.Fatalf("saved offset %q", off)
	}
	out2 := &syncBuffer{}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if err := run(ctx2, args, env(map[string]string{"TELEGRAM_TOKEN": token}), out2, io.Discard); err != nil {
		t.Fatal(err)
	}
	if l := out2.Lines(); len(l) != 0 {
		t.Fatalf("restart printed %q", l)
	}
}

func TestReplyMode(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	api := fakeBotAPI(t, &sent, &mu)
	out := &syncBuffer{}
	err := run(context.Background(), []string{"-api-url", api.URL, "-reply", "telegram:-1001987654321_88", "Бригада выехала"},
		env(map[string]string{"TELEGRAM_TOKEN": token}), out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 1 || !strings.HasPrefix(sent[0], "-1001987654321 map[allow_sending_without_reply:true message_id:88] Бригада выехала") {
		t.Fatalf("sent %q", sent)
	}
	if l := out.Lines(); len(l) != 1 || !strings.Contains(l[0], `"external_id":"-1001987654321_90"`) {
		t.Fatalf("printed %q", l)
	}
}

func TestBadTokenAndUsage(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	api := fakeBotAPI(t, &sent, &mu)
	err := run(context.Background(), []string{"-api-url", api.URL, "-checkpoints", filepath.Join(t.TempDir(), "cp.json")},
		env(map[string]string{"TELEGRAM_TOKEN": "7000000001:wrong"}), io.Discard, io.Discard)
	if !errors.Is(err, source.ErrAuth) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad token: %v", err)
	}
	if err := run(context.Background(), nil, env(nil), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "TELEGRAM_TOKEN") {
		t.Fatalf("no token: %v", err)
	}
	if err := run(context.Background(), []string{"-webhook", "127.0.0.1:0"}, env(map[string]string{"TELEGRAM_TOKEN": token}), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "TELEGRAM_WEBHOOK_SECRET") {
		t.Fatalf("webhook without a secret: %v (want an error naming TELEGRAM_WEBHOOK_SECRET)", err)
	}
	err = run(context.Background(), []string{"-rules", filepath.Join(t.TempDir(), "none.yaml")}, env(map[string]string{"TELEGRAM_TOKEN": token}), io.Discard, io.Discard)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "-rules") {
		t.Fatalf("missing rules file: %v", err)
	}
	err = run(context.Background(), []string{"-gazetteer", filepath.Join(t.TempDir(), "none.yaml")}, env(map[string]string{"TELEGRAM_TOKEN": token}), io.Discard, io.Discard)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "-gazetteer") {
		t.Fatalf("missing gazetteer file: %v", err)
	}
}

func TestWebhookMode(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	api := fakeBotAPI(t, &sent, &mu)
	out, errOut := &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-api-url", api.URL, "-webhook", "127.0.0.1:0"},
			env(map[string]string{"TELEGRAM_TOKEN": token, "TELEGRAM_WEBHOOK_SECRET": "hook-secret_1"}), out, errOut)
	}()
	var addr string
	for deadline := time.Now().Add(5 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, l := range errOut.Lines() {
			if rest, ok := strings.CutPrefix(l, "webhook listening on "); ok {
				addr, _, _ = strings.Cut(rest, " ")
			}
		}
	}
	if addr == "" {
		t.Fatalf("no listening line in %q", errOut.Lines())
	}
	update := `{"update_id":9,"message":{"message_id":5,"from":{"id":77,"is_bot":false,"first_name":"Олег"},"chat":{"id":77,"type":"private"},"date":1767258000,"text":"Прорыв трубы в подвале, во всём доме нет воды"}}`
	post := func(secret string) int {
		for {
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(update))
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusServiceUnavailable { // 503 until the pipeline runs
				return res.StatusCode
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if code := post("wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", code)
	}
	if code := post("hook-secret_1"); code != http.StatusOK {
		t.Fatalf("update: %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	l := out.Lines()
	if len(l) != 1 {
		t.Fatalf("printed %q", l)
	}
	// A burst pipe is urgent housing: the inspection, with the duty
	// operator watching.
	if p := parseLines(t, l)[0]; p.Appeal.ID != privID("77_5") || p.Outcome != "routed" || p.topic() != "housing.water" || p.executor() != "housing-inspection" ||
		!strings.Contains(p.raw, `"urgent":true`) || !strings.Contains(p.raw, `"cur-duty"`) {
		t.Fatalf("want telegram:77_5 routed, urgent housing.water → housing-inspection with cur-duty: %s", p.raw)
	}
}

func TestEditsAreReclassifiedInTheSameUpdate(t *testing.T) {
	ctx := context.Background()
	engine, err := classify.New()
	if err != nil {
		t.Fatal(err)
	}
	store := appeal.NewMemoryStore()
	apply := source.StoreEdits(store, source.WithEditHook(reclassify(appealkit.Classify(engine, appealkit.ClassifyOptions{}))))
	a := appeal.Appeal{Network: appeal.NetworkTelegram, Kind: appeal.KindMessage, ExternalID: "1_2", Text: "Не горят фонари на ул. Садовой",
		Topics: []appeal.TopicScore{{Code: "landscaping.lighting", Score: 0.99}}}
	if err := a.Normalize(); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(ctx, a); err != nil {
		t.Fatal(err)
	}
	edit := func(text string) appeal.Appeal {
		t.Helper()
		e := a
		e.Text = text
		if err := apply(ctx, source.Edit{Appeal: e, EditedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		got, err := store.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	// Same topic: the edit is recorded, nothing more.
	got := edit("Не горят фонари на ул. Садовой и Ленина")
	if got.TopTopic() != "landscaping.lighting" || len(got.History) != 1 || got.Version != 2 {
		t.Fatalf("same-topic edit: topic %q, history %+v, version %d", got.TopTopic(), got.History, got.Version)
	}
	// New topic: changed together with the text, in one write.
	got = edit("Во дворе на ул. Садовой неделю не вывозят мусор")
	if got.TopTopic() != "garbage" || len(got.History) != 3 || got.History[2].Actor != "classifier" || got.Version != 3 {
		t.Fatalf("new-topic edit: topic %q, history %+v, version %d", got.TopTopic(), got.History, got.Version)
	}

	// An appeal StoreEdits has to create is classified too.
	b := a
	b.ID, b.ExternalID, b.Topics, b.Text = "", "1_3", nil, "Яма на дороге у школы"
	if err := b.Normalize(); err != nil {
		t.Fatal(err)
	}
	if err := apply(ctx, source.Edit{Appeal: b}); err != nil {
		t.Fatal(err)
	}
	if got, err := store.Get(ctx, b.ID); err != nil || got.TopTopic() != "roads" {
		t.Fatalf("created by an edit: topic %q, %v", got.TopTopic(), err)
	}
}

// privID is how the bot prints a private message's id: redacted, because a
// private chat's id is the citizen's Telegram user id.
func privID(ext string) string {
	return string(appeal.Appeal{Network: appeal.NetworkTelegram, Kind: appeal.KindMessage, ExternalID: ext}.RedactedID())
}
