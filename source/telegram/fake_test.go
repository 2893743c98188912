package telegram

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "7000000001:AAE-test-secret-token"

// fakeAPI is a Bot API server: getMe, getUpdates with offset/limit/timeout
// long polling, sendMessage, setWebhook, deleteWebhook. Responses can be
// scripted per method.
type fakeAPI struct {
	srv *httptest.Server

	mu      sync.Mutex
	updates []json.RawMessage
	added   chan struct{}
	script  map[string][]scripted
	calls   map[string][]time.Time
	offsets []int64
	sent    []sendMessageParams
	nextMsg int64
	broken  string // served as the getUpdates body when not empty
}

type scripted struct {
	status int
	body   string
}

func newFakeAPI(t testing.TB, updates []json.RawMessage) *fakeAPI {
	f := &fakeAPI{updates: updates, added: make(chan struct{}), script: map[string][]scripted{}, calls: map[string][]time.Time{}, nextMsg: 9000}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixtureUpdates(t testing.TB) []json.RawMessage {
	var ups []json.RawMessage
	if err := json.Unmarshal(readFixture(t, "updates.json"), &ups); err != nil {
		t.Fatal(err)
	}
	return ups
}

func (f *fakeAPI) push(method string, status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[method] = append(f.script[method], scripted{status, body})
}

func (f *fakeAPI) add(raw json.RawMessage) {
	f.mu.Lock()
	f.updates = append(f.updates, raw)
	close(f.added)
	f.added = make(chan struct{})
	f.mu.Unlock()
}

func (f *fakeAPI) callTimes(method string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.calls[method]...)
}

func (f *fakeAPI) sentMessages() []sendMessageParams {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sendMessageParams(nil), f.sent...)
}

func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot"+testToken+"/")
	if !ok || r.Method != http.MethodPost {
		reply(w, http.StatusNotFound, `{"ok":false,"error_code":404,"description":"Not Found"}`)
		return
	}
	method := rest
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.calls[method] = append(f.calls[method], time.Now())
	if q := f.script[method]; len(q) > 0 {
		f.script[method] = q[1:]
		f.mu.Unlock()
		reply(w, q[0].status, q[0].body)
		return
	}
	f.mu.Unlock()

	switch method {
	case "getMe":
		reply(w, 200, `{"ok":true,"result":{"id":7000000001,"is_bot":true,"first_name":"Приёмная","username":"city_reception_bot"}}`)
	case "getUpdates":
		var p getUpdatesParams
		if err := json.Unmarshal(body, &p); err != nil {
			reply(w, 400, `{"ok":false,"error_code":400,"description":"Bad Request: can't parse JSON"}`)
			return
		}
		f.getUpdates(w, r, p)
	case "sendMessage":
		var p sendMessageParams
		if err := json.Unmarshal(body, &p); err != nil || p.ChatID == 0 || p.Text == "" {
			reply(w, 400, `{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}`)
			return
		}
		f.mu.Lock()
		f.sent = append(f.sent, p)
		f.nextMsg++
		id := f.nextMsg
		f.mu.Unlock()
		out, _ := json.Marshal(map[string]any{"ok": true, "result": map[string]any{
			"message_id": id, "date": 1767260000, "text": p.Text,
			"chat":             map[string]any{"id": p.ChatID, "type": "supergroup", "title": "Обсуждение", "username": "city_talk"},
			"reply_to_message": map[string]any{"message_id": p.ReplyParameters.MessageID, "date": 1767258300, "chat": map[string]any{"id": p.ChatID, "type": "supergroup"}},
		}})
		reply(w, 200, string(out))
	case "setWebhook", "deleteWebhook":
		reply(w, 200, `{"ok":true,"result":true,"description":"Webhook was set"}`)
	default:
		reply(w, 404, `{"ok":false,"error_code":404,"description":"Not Found: method not found"}`)
	}
}

func (f *fakeAPI) getUpdates(w http.ResponseWriter, r *http.Request, p getUpdatesParams) {
	deadline := time.After(time.Duration(p.Timeout) * time.Second)
	for {
		f.mu.Lock()
		f.offsets = append(f.offsets, p.Offset)
		if f.broken != "" {
			f.mu.Unlock()
			reply(w, 200, f.broken)
			return
		}
		var out []json.RawMessage
		for _, raw := range f.updates {
			var id struct {
				UpdateID int64 `json:"update_id"`
			}
			_ = json.Unmarshal(raw, &id)
			if id.UpdateID >= p.Offset && len(out) < p.Limit {
				out = append(out, raw)
			}
		}
		added := f.added
		f.mu.Unlock()
		if len(out) > 0 {
			b, _ := json.Marshal(map[string]any{"ok": true, "result": out})
			reply(w, 200, string(b))
			return
		}
		select {
		case <-added:
		case <-deadline:
			reply(w, 200, `{"ok":true,"result":[]}`)
			return
		case <-r.Context().Done():
			return
		}
	}
}
