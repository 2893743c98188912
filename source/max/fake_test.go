package max

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "max-test-token-0123456789abcdef"

// fakeAPI is a MAX Bot API server: GET /updates with marker/limit/timeout
// long polling (passing a marker commits what came before it), POST
// /messages, POST /messages/{mid}/comments, POST /subscriptions. Answers
// can be scripted per "METHOD path".
type fakeAPI struct {
	srv *httptest.Server

	mu      sync.Mutex
	updates []json.RawMessage
	script  map[string][]scripted
	calls   map[string][]time.Time
	markers []string
	sent    []sentMessage
	subs    []subscriptionRequest
	nextMsg int
	broken  string // served as the /updates body when not empty
}

type scripted struct {
	status int
	header map[string]string
	body   string
}

type sentMessage struct {
	Path   string
	ChatID string
	Body   newMessageBody
}

func newFakeAPI(t testing.TB, updates []json.RawMessage) *fakeAPI {
	f := &fakeAPI{updates: updates, script: map[string][]scripted{}, calls: map[string][]time.Time{}, nextMsg: 100}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func fixtureUpdates(t testing.TB) []json.RawMessage {
	b, err := os.ReadFile("testdata/updates.json")
	if err != nil {
		t.Fatal(err)
	}
	var ups []json.RawMessage
	if err := json.Unmarshal(b, &ups); err != nil {
		t.Fatal(err)
	}
	return ups
}

func (f *fakeAPI) push(op string, s scripted) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[op] = append(f.script[op], s)
}

func (f *fakeAPI) callTimes(op string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.calls[op]...)
}

func (f *fakeAPI) sentMessages() []sentMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMessage(nil), f.sent...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	op := r.Method + " " + r.URL.Path
	if strings.HasPrefix(r.URL.Path, "/messages/") && strings.HasSuffix(r.URL.Path, "/comments") {
		op = r.Method + " /messages/{mid}/comments"
	}
	f.mu.Lock()
	f.calls[op] = append(f.calls[op], time.Now())
	var s *scripted
	if q := f.script[op]; len(q) > 0 {
		s, f.script[op] = &q[0], q[1:]
	}
	f.mu.Unlock()
	if r.Header.Get("Authorization") != testToken {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "verify.token", "message": "Invalid access_token"})
		return
	}
	if s != nil {
		for k, v := range s.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(s.status)
		_, _ = io.WriteString(w, s.body)
		return
	}
	switch op {
	case "GET /updates":
		f.getUpdates(w, r)
	case "POST /messages", "POST /messages/{mid}/comments":
		var body newMessageBody
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"code": "proto.payload", "message": err.Error()})
			return
		}
		f.mu.Lock()
		f.nextMsg++
		mid := "mid.sent-" + strconv.Itoa(f.nextMsg)
		f.sent = append(f.sent, sentMessage{Path: r.URL.Path, ChatID: r.URL.Query().Get("chat_id"), Body: body})
		f.mu.Unlock()
		chatID, _ := strconv.ParseInt(r.URL.Query().Get("chat_id"), 10, 64)
		writeJSON(w, http.StatusOK, map[string]any{"message": map[string]any{
			"recipient": map[string]any{"chat_type": "chat", "chat_id": chatID},
			"timestamp": 1767260000000,
			"body":      map[string]any{"mid": mid, "seq": 1, "text": body.Text},
		}})
	case "GET /chats/-70801090403050":
		writeJSON(w, http.StatusOK, map[string]any{"chat_id": -70801090403050, "type": "channel", "status": "active",
			"title": "Администрация Советского района", "last_event_time": 1767258000000, "participants_count": 1200, "is_public": true})
	case "POST /subscriptions":
		var req subscriptionRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		f.mu.Lock()
		f.subs = append(f.subs, req)
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"success": true})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "not.found", "message": "no such method"})
	}
}

func (f *fakeAPI) getUpdates(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	marker, _ := strconv.Atoi(q.Get("marker"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	timeout, _ := strconv.Atoi(q.Get("timeout"))
	f.mu.Lock()
	f.markers = append(f.markers, q.Get("marker"))
	broken := f.broken
	var page []json.RawMessage
	if marker < len(f.updates) {
		page = f.updates[marker:min(len(f.updates), marker+limit)]
	}
	f.mu.Unlock()
	if broken != "" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, broken)
		return
	}
	if len(page) == 0 && timeout > 0 {
		// Long poll: hold the request a little (the real one holds up to
		// timeout seconds).
		select {
		case <-r.Context().Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"updates": page, "marker": marker + len(page)})
}
