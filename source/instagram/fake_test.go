package instagram

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testToken   = "IGQVJ-test-access-token-000"
	testAccount = "17841400000000001"
)

// fakeGraph is a Graph API server: GET /{media-id}/comments with limit and
// after (cursor paging: paging.cursors.after names the last comment of a
// page, paging.next is present while more follow), GET /{ig-user-id}/media,
// POST /{comment-id}/replies. Errors can be scripted per path.
type fakeGraph struct {
	srv *httptest.Server

	mu       sync.Mutex
	comments map[string][]json.RawMessage // media id → comments, oldest first
	media    []string
	script   map[string][]scripted
	replies  map[string][]string // comment id → messages
	calls    []string
	broken   string
}

type scripted struct {
	status int
	body   string
}

func newFakeGraph(t testing.TB) *fakeGraph {
	f := &fakeGraph{comments: map[string][]json.RawMessage{}, script: map[string][]scripted{}, replies: map[string][]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGraph) add(mediaID string, comments ...json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.comments[mediaID] = append(f.comments[mediaID], comments...)
}

func (f *fakeGraph) push(path string, s scripted) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[path] = append(f.script[path], s)
}

func cursorOf(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("pos:" + strconv.Itoa(i)))
}

func posOf(c string) int {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "pos:"))
	if err != nil {
		return -1
	}
	return n
}

func graphError(w http.ResponseWriter, status, code int, typ, msg string) {
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"message":%q,"type":%q,"code":%d,"fbtrace_id":"AbCdEf"}}`, msg, typ, code)
}

func (f *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	var s *scripted
	if q := f.script[r.URL.Path]; len(q) > 0 {
		s, f.script[r.URL.Path] = &q[0], q[1:]
	}
	f.mu.Unlock()
	if r.Form.Get("access_token") != testToken {
		graphError(w, http.StatusBadRequest, 190, "OAuthException", "Error validating access token: Session has expired")
		return
	}
	if s != nil {
		w.WriteHeader(s.status)
		_, _ = io.WriteString(w, s.body)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 3 { // v21.0/{id}/{edge}
		graphError(w, http.StatusBadRequest, 100, "GraphMethodException", "Unsupported request")
		return
	}
	id, edge := parts[1], parts[2]
	switch {
	case r.Method == http.MethodGet && edge == "comments":
		f.mu.Lock()
		all, ok := f.comments[id]
		broken := f.broken
		f.mu.Unlock()
		if !ok {
			graphError(w, http.StatusBadRequest, 100, "GraphMethodException", "Unsupported get request. Object with ID '"+id+"' does not exist")
			return
		}
		if broken != "" {
			_, _ = io.WriteString(w, broken)
			return
		}
		limit, _ := strconv.Atoi(r.Form.Get("limit"))
		start := 0
		if a := r.Form.Get("after"); a != "" {
			start = posOf(a) + 1
		}
		end := min(len(all), start+limit)
		page := map[string]any{"data": []json.RawMessage{}}
		if start < end {
			page["data"] = all[start:end]
			p := map[string]any{"cursors": map[string]string{"before": cursorOf(start), "after": cursorOf(end - 1)}}
			if end < len(all) {
				p["next"] = "https://graph.facebook.com/v21.0/" + id + "/comments?after=" + cursorOf(end-1)
			}
			page["paging"] = p
		}
		_ = json.NewEncoder(w).Encode(page)
	case r.Method == http.MethodGet && edge == "media":
		var data []map[string]string
		f.mu.Lock()
		for _, m := range f.media {
			data = append(data, map[string]string{"id": m, "permalink": "https://www.instagram.com/p/" + m + "/"})
		}
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
	case r.Method == http.MethodPost && edge == "replies":
		msg := r.PostForm.Get("message")
		f.mu.Lock()
		f.replies[id] = append(f.replies[id], msg)
		n := len(f.replies[id])
		f.mu.Unlock()
		fmt.Fprintf(w, `{"id":"1790000000000%04d"}`, n)
	default:
		graphError(w, http.StatusBadRequest, 100, "GraphMethodException", "Unsupported request")
	}
}

// igComment builds a comment in the Graph API's shape.
func igCommentJSON(id, userID, username, text string, at time.Time, replies ...json.RawMessage) json.RawMessage {
	c := map[string]any{"id": id, "text": text, "timestamp": at.UTC().Format("2006-01-02T15:04:05-0700"),
		"username": username, "from": map[string]string{"id": userID, "username": username}, "like_count": 2}
	if len(replies) > 0 {
		c["replies"] = map[string]any{"data": replies}
	}
	b, _ := json.Marshal(c)
	return b
}
