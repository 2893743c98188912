// Package answertest has stand-ins for the places answers are published
// to, for tests and demos of the answer loop: a VK-shaped API server that
// answers wall.createComment, board.createComment, photos.createComment
// and messages.send as VK does, including VK's deduplication of a repeated
// guid (comments) or random_id (messages) — the property the publisher's
// crash safety rests on.
package answertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
)

// Post is one answer the stand-in accepted.
type Post struct {
	Method string
	Params url.Values
	// ID is the comment or message id VK gave it.
	ID int
}

// VK is a VK-shaped API server. It is safe for concurrent use.
type VK struct {
	// Server is the httptest server; point vk.API.URL at Server.URL.
	Server *httptest.Server
	// Token is the access token it accepts ("test-token").
	Token string

	mu       sync.Mutex
	posts    []Post
	calls    int
	byKey    map[string]int
	failNext []int
	nextID   int
}

// NewVK starts a stand-in VK API. Close it with Close.
func NewVK() *VK {
	v := &VK{Token: "test-token", byKey: map[string]int{}, nextID: 500}
	v.Server = httptest.NewServer(http.HandlerFunc(v.serve))
	return v
}

// Close stops the server.
func (v *VK) Close() { v.Server.Close() }

// URL is the method endpoint to put in vk.API.URL.
func (v *VK) URL() string { return v.Server.URL + "/method/" }

// FailNext makes the next calls fail with these VK error codes, one call
// each (10 internal error, 9 flood control, 15 access denied...).
func (v *VK) FailNext(codes ...int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.failNext = append(v.failNext, codes...)
}

// Posts returns the answers accepted, without the repeats VK dropped.
func (v *VK) Posts() []Post {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Post(nil), v.posts...)
}

// Calls counts every call made, repeats and failures included.
func (v *VK) Calls() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.calls
}

func (v *VK) serve(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/method/")
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	if r.Header.Get("Authorization") != "Bearer "+v.Token && r.Form.Get("access_token") != v.Token {
		writeErr(w, 5, "User authorization failed: invalid access_token (4).")
		return
	}
	if len(v.failNext) > 0 {
		code := v.failNext[0]
		v.failNext = v.failNext[1:]
		writeErr(w, code, errText(code))
		return
	}
	var key string
	switch method {
	case "wall.createComment", "board.createComment", "photos.createComment":
		if strings.TrimSpace(r.Form.Get("message")) == "" {
			writeErr(w, 100, "One of the parameters specified was missing or invalid: message is undefined")
			return
		}
		key = method + "|" + r.Form.Get("guid")
	case "messages.send":
		if r.Form.Get("random_id") == "" {
			writeErr(w, 100, "One of the parameters specified was missing or invalid: random_id is a required parameter")
			return
		}
		key = method + "|" + r.Form.Get("peer_id") + "|" + r.Form.Get("random_id")
	default:
		writeErr(w, 3, "Unknown method passed")
		return
	}
	id, seen := v.byKey[key]
	// No guid: VK does not deduplicate.
	if !seen || strings.HasSuffix(key, "|") {
		v.nextID++
		id = v.nextID
		v.byKey[key] = id
		p := Post{Method: method, Params: r.Form, ID: id}
		v.posts = append(v.posts, p)
	}
	switch method {
	case "wall.createComment":
		fmt.Fprintf(w, `{"response":{"comment_id":%d}}`, id)
	default: // messages.send, board.createComment, photos.createComment
		fmt.Fprintf(w, `{"response":%d}`, id)
	}
}

func errText(code int) string {
	switch code {
	case 6:
		return "Too many requests per second"
	case 9:
		return "Flood control"
	case 10:
		return "Internal server error"
	case 15:
		return "Access denied"
	case 18:
		return "User was deleted or banned"
	case 27:
		return "Group authorization failed: method is unavailable with group auth."
	}
	return "Unknown error occurred"
}

func writeErr(w http.ResponseWriter, code int, msg string) {
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"error_code": code, "error_msg": msg}})
}
