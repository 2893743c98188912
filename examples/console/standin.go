package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// standInVK is a stand-in for the VK API that answers are published to in
// the demo: wall.createComment and messages.send with VK's request and
// response shapes (form-encoded parameters, {"response": …} or {"error":
// {"error_code", "error_msg"}}), and VK's idempotency: a second
// wall.createComment with the same guid, or messages.send with the same
// random_id, posts nothing and returns the first id.
type standInVK struct {
	srv *httptest.Server

	mu     sync.Mutex
	nextID int
	seen   map[string]int
	posts  []PostedAnswer
}

// PostedAnswer is one answer the stand-in network received.
type PostedAnswer struct {
	Method  string
	OwnerID string
	PostID  string
	PeerID  string
	Message string
	ID      int
}

func newStandInVK() *standInVK {
	s := &standInVK{nextID: 9000, seen: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the method endpoint to give vk.API.URL.
func (s *standInVK) URL() string { return s.srv.URL + "/method/" }

// Close stops the server.
func (s *standInVK) Close() { s.srv.Close() }

// Posted returns what was published so far.
func (s *standInVK) Posted() []PostedAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]PostedAnswer(nil), s.posts...)
}

func (s *standInVK) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := r.ParseForm(); err != nil {
		vkError(w, 100, "One of the parameters specified was missing or invalid")
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/method/")
	if r.FormValue("access_token") == "" {
		vkError(w, 5, "User authorization failed: no access_token passed.")
		return
	}
	switch method {
	case "wall.createComment":
		if r.FormValue("owner_id") == "" || r.FormValue("post_id") == "" || r.FormValue("message") == "" {
			vkError(w, 100, "One of the parameters specified was missing or invalid: owner_id, post_id and message are required")
			return
		}
		id := s.post("guid:"+r.FormValue("guid"), PostedAnswer{Method: method, OwnerID: r.FormValue("owner_id"),
			PostID: r.FormValue("post_id"), Message: r.FormValue("message")}, r.FormValue("guid") != "")
		vkResponse(w, map[string]any{"comment_id": id, "parents_stack": []int{}})
	case "messages.send":
		if r.FormValue("peer_id") == "" && r.FormValue("user_id") == "" {
			vkError(w, 100, "One of the parameters specified was missing or invalid: peer_id is required")
			return
		}
		id := s.post("random_id:"+r.FormValue("random_id"), PostedAnswer{Method: method,
			PeerID: r.FormValue("peer_id"), Message: r.FormValue("message")}, r.FormValue("random_id") != "" && r.FormValue("random_id") != "0")
		vkResponse(w, id)
	default:
		vkError(w, 3, "Unknown method passed")
	}
}

func (s *standInVK) post(key string, p PostedAnswer, dedup bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if dedup {
		if id, ok := s.seen[key]; ok {
			return id
		}
	}
	s.nextID++
	p.ID = s.nextID
	if dedup {
		s.seen[key] = p.ID
	}
	s.posts = append(s.posts, p)
	return p.ID
}

func vkResponse(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(map[string]any{"response": v})
}

func vkError(w http.ResponseWriter, code int, msg string) {
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"error_code": code, "error_msg": msg, "request_params": []any{}}})
}
