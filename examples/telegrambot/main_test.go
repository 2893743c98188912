package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appealkit/appealkit/source"
)

const token = "7000000001:AAE-example-token"

// fakeBotAPI serves getMe, getUpdates (two messages and an edit, then empty
// long polls) and sendMessage, the way api.telegram.org answers.
func fakeBotAPI(t *testing.T, sent *[]string, mu *sync.Mutex) *httptest.Server {
	updates := []string{
		`{"update_id":501,"message":{"message_id":11,"from":{"id":4242,"is_bot":false,"first_name":"Анна","last_name":"Петрова"},"chat":{"id":4242,"first_name":"Анна","type":"private"},"date":1767258000,"text":"Не горят фонари на ул. Садовой, тел. +7 912 345-67-89"}}`,
		`{"update_id":502,"channel_post":{"message_id":88,"chat":{"id":-1001987654321,"title":"Администрация","username":"city_admin","type":"channel"},"date":1767258060,"text":"Сообщайте о ямах в комментариях"}}`,
		`{"update_id":503,"edited_message":{"message_id":11,"from":{"id":4242,"is_bot":false,"first_name":"Анна"},"chat":{"id":4242,"type":"private"},"date":1767258000,"edit_date":1767258100,"text":"Не горят фонари на ул. Садовой и Ленина"}}`,
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

func TestPollingPrintsRedactedAppealsAndResumes(t *testing.T) {
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
	for len(out.Lines()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run = %v", err)
	}
	lines := out.Lines()
	if len(lines) != 3 {
		t.Fatalf("printed %d lines: %q", len(lines), lines)
	}
	var got []struct {
		Event, Outcome string
		Appeal         struct {
			ID, Text string
			Author   struct{ ID, Name string }
			History  []struct{ Note string }
		}
	}
	for _, l := range lines {
		var v struct {
			Event, Outcome string
			Appeal         struct {
				ID, Text string
				Author   struct{ ID, Name string }
				History  []struct{ Note string }
			}
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		got = append(got, v)
	}
	if got[0].Event != "appeal" || got[0].Outcome != "stored" || got[0].Appeal.ID != "telegram:4242_11" {
		t.Errorf("first line %+v", got[0])
	}
	if strings.Contains(lines[0], "Анна") || strings.Contains(lines[0], "912 345") || !strings.HasPrefix(got[0].Appeal.Author.ID, "anon-") {
		t.Errorf("personal data printed in clear: %s", lines[0])
	}
	if got[2].Event != "edit" || !strings.Contains(got[2].Appeal.Text, "Ленина") || len(got[2].Appeal.History) != 1 {
		t.Errorf("edit line %+v", got[2])
	}

	// A restart continues after the saved offset: nothing is printed again.
	cps, err := source.OpenFileCheckpoints(cp)
	if err != nil {
		t.Fatal(err)
	}
	if off, _ := cps.Load(context.Background(), "telegram:7000000001"); off != strconv.Itoa(504) {
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
	if err := run(context.Background(), []string{"-webhook", "127.0.0.1:0"}, env(map[string]string{"TELEGRAM_TOKEN": token}), io.Discard, io.Discard); err == nil {
		t.Fatal("webhook without a secret was accepted")
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
	update := `{"update_id":9,"message":{"message_id":5,"from":{"id":77,"is_bot":false,"first_name":"Олег"},"chat":{"id":77,"type":"private"},"date":1767258000,"text":"Прорыв трубы во дворе"}}`
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
	if l := out.Lines(); len(l) != 1 || !strings.Contains(l[0], `"id":"telegram:77_5"`) {
		t.Fatalf("printed %q", l)
	}
}
