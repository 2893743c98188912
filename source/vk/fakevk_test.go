package vk_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/vk"
)

// fakeVK is an httptest server that answers the VK API methods the package
// calls, in VK's JSON shapes: {"response": ...} or {"error": {...}}, and for
// execute the array of results with false for failed calls plus
// "execute_errors". It interprets the VKScript the Monitor sends
// (return [API.method({json}),...];).
type fakeVK struct {
	srv   *httptest.Server
	token string

	mu         sync.Mutex
	groups     map[int]fakeGroup
	posts      map[int][]map[string]any        // group id → posts
	comments   map[string][]map[string]any     // "owner_post" → top-level comments with their "thread"
	callErrors map[int]int                     // group id → error code wall.get gets inside execute
	callOnce   map[int][]int                   // group id → error codes for its next wall.get calls, one each
	rawWall    map[int]any                     // group id → what wall.get answers instead of its posts
	jsonErrors []fakeJSONError                 // answer the next requests with these HTTP errors
	topError   *fakeError                      // error for every request
	failNext   []*fakeError                    // errors for the next requests, one each
	badGateway int                             // answer this many next requests with a proxy's HTML 502
	malformed  bool                            // answer truncated JSON
	calls      []fakeCall                      // direct (non-execute) calls
	handlers   map[string]func(url.Values) any // extra methods
	nextID     int

	found []map[string]any // posts newsfeed.search finds, any order

	// Bots Long Poll: event k has ts k+1; getLongPollServer answers
	// lpStartTs (default "1": the events come after the connection).
	lpKey      string
	lpStartTs  string
	lpEvents   []json.RawMessage
	lpFailNext []string // raw bodies for the next checks

	requests atomic.Int64
	methods  sync.Map // method → *atomic.Int64, calls inside execute counted too
}

type fakeGroup struct{ name, screen string }

// fakeJSONError is a 5xx answer with a JSON body, as VK's own frontends
// and JSON-speaking proxies give during an incident.
type fakeJSONError struct {
	status int
	body   string
}

type fakeError struct {
	Code int    `json:"error_code"`
	Msg  string `json:"error_msg"`
	// captcha
	SID string `json:"captcha_sid,omitempty"`
	Img string `json:"captcha_img,omitempty"`
}

type fakeCall struct {
	Method string
	Params url.Values
}

func newFakeVK(t testing.TB) *fakeVK {
	f := &fakeVK{
		token:      "test-token",
		groups:     map[int]fakeGroup{},
		posts:      map[int][]map[string]any{},
		comments:   map[string][]map[string]any{},
		callErrors: map[int]int{},
		callOnce:   map[int][]int{},
		rawWall:    map[int]any{},
		handlers:   map[string]func(url.Values) any{},
		nextID:     1000,
		lpKey:      "9a4c3b2d1e0f",
		lpStartTs:  "1",
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// api returns an API config pointing at the fake, fast enough for tests.
func (f *fakeVK) api() vk.API {
	return vk.API{
		Token:             f.token,
		URL:               f.srv.URL + "/method/",
		HTTPClient:        f.srv.Client(),
		RequestsPerSecond: 10000,
		Backoff:           source.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond},
		Logger:            discard,
	}
}

func (f *fakeVK) addGroup(id int, name, screen string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groups[id] = fakeGroup{name: name, screen: screen}
}

// addPost adds a post on community gid's wall and returns its id.
func (f *fakeVK) addPost(gid, fromID int, text string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := f.nextID
	f.posts[gid] = append(f.posts[gid], map[string]any{
		"id": id, "owner_id": -gid, "from_id": fromID, "date": 1700000000 + id, "post_type": "post",
		"text": text, "attachments": []any{}, "post_source": map[string]any{"type": "vk"},
		"likes":   map[string]any{"count": 0, "user_likes": 0, "can_like": 1, "can_publish": 1},
		"reposts": map[string]any{"count": 0, "user_reposted": 0}, "views": map[string]any{"count": 15},
		"is_favorite": false,
	})
	return id
}

// addComment adds a comment under a post (parent 0) or a reply in the
// thread of top-level comment parent, and returns its id.
func (f *fakeVK) addComment(gid, postID, parent, fromID int, text string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := f.nextID
	key := fmt.Sprintf("%d_%d", -gid, postID)
	c := map[string]any{
		"id": id, "from_id": fromID, "post_id": postID, "owner_id": -gid, "date": 1700000000 + id,
		"text": text, "parents_stack": []int{}, "likes": map[string]any{"count": 0},
		"thread": map[string]any{"count": 0, "items": []any{}, "can_post": true, "show_reply_button": true, "groups_can_post": true},
	}
	if parent == 0 {
		f.comments[key] = append(f.comments[key], c)
		return id
	}
	c["parents_stack"] = []int{parent}
	c["reply_to_comment"] = parent
	c["reply_to_user"] = 1
	delete(c, "thread")
	for _, top := range f.comments[key] {
		if top["id"] == parent {
			th := top["thread"].(map[string]any)
			th["items"] = append(th["items"].([]any), c)
			th["count"] = th["count"].(int) + 1
			return id
		}
	}
	panic("no such parent comment")
}

func (f *fakeVK) count(method string) int64 {
	v, ok := f.methods.Load(method)
	if !ok {
		return 0
	}
	return v.(*atomic.Int64).Load()
}

func (f *fakeVK) directCalls(method string) []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeCall
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

var callRe = regexp.MustCompile(`API\.([a-zA-Z]+\.[a-zA-Z]+)\((\{[^{}]*\})\)`)

func (f *fakeVK) serve(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	if r.URL.Path == "/lp" {
		f.serveLongPoll(w, r)
		return
	}
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
	f.mu.Lock()
	if f.badGateway > 0 {
		f.badGateway--
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
		return
	}
	if len(f.jsonErrors) > 0 {
		e := f.jsonErrors[0]
		f.jsonErrors = f.jsonErrors[1:]
		f.mu.Unlock()
		w.WriteHeader(e.status)
		fmt.Fprint(w, e.body)
		return
	}
	malformed, top := f.malformed, f.topError
	if len(f.failNext) > 0 {
		top, f.failNext = f.failNext[0], f.failNext[1:]
	}
	f.mu.Unlock()
	if malformed {
		fmt.Fprint(w, `{"response":[{"count":1,"items":[{"id":1,"text":"обрыв`)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		top = &fakeError{Code: 5, Msg: "User authorization failed: invalid access_token (4)."}
	}
	if r.Form.Get("v") == "" {
		top = &fakeError{Code: 8, Msg: "Invalid request: v (version) is required"}
	}
	if top != nil {
		_ = json.NewEncoder(w).Encode(map[string]any{"error": top})
		return
	}
	if method != "execute" {
		f.mu.Lock()
		f.calls = append(f.calls, fakeCall{Method: method, Params: r.Form})
		f.mu.Unlock()
		res, ferr := f.call(method, r.Form)
		if ferr != nil {
			_ = json.NewEncoder(w).Encode(map[string]any{"error": ferr})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"response": res})
		return
	}
	code := r.Form.Get("code")
	calls := callRe.FindAllStringSubmatch(code, -1)
	if len(calls) > vk.MaxExecuteCalls {
		_ = json.NewEncoder(w).Encode(map[string]any{"error": fakeError{Code: 13, Msg: "Runtime error occurred during code invocation: Too many API calls"}})
		return
	}
	results := make([]any, 0, len(calls))
	var execErrs []map[string]any
	for _, c := range calls {
		var params map[string]any
		if err := json.Unmarshal([]byte(c[2]), &params); err != nil {
			_ = json.NewEncoder(w).Encode(map[string]any{"error": fakeError{Code: 12, Msg: "Unable to compile code: " + err.Error()}})
			return
		}
		vals := url.Values{}
		for k, v := range params {
			vals.Set(k, fmt.Sprint(v))
		}
		res, ferr := f.call(c[1], vals)
		if ferr != nil {
			results = append(results, false)
			execErrs = append(execErrs, map[string]any{"method": c[1], "error_code": ferr.Code, "error_msg": ferr.Msg})
			continue
		}
		results = append(results, res)
	}
	body := map[string]any{"response": results}
	if len(execErrs) > 0 {
		body["execute_errors"] = execErrs
	}
	_ = json.NewEncoder(w).Encode(body)
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// call answers one method.
func (f *fakeVK) call(method string, p url.Values) (any, *fakeError) {
	v, _ := f.methods.LoadOrStore(method, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if h, ok := f.handlers[method]; ok {
		f.mu.Unlock()
		res := h(p)
		f.mu.Lock()
		if e, ok := res.(*fakeError); ok {
			return nil, e
		}
		return res, nil
	}
	switch method {
	case "groups.getById":
		var out []any
		for _, key := range strings.Split(p.Get("group_ids"), ",") {
			for id, g := range f.groups {
				if strconv.Itoa(id) == key || strings.EqualFold(g.screen, key) {
					out = append(out, map[string]any{"id": id, "name": g.name, "screen_name": g.screen, "is_closed": 0, "type": "page"})
				}
			}
		}
		if len(out) == 0 {
			return nil, &fakeError{Code: 100, Msg: "One of the parameters specified was missing or invalid: group_ids is undefined"}
		}
		return out, nil
	case "wall.get":
		gid := -atoi(p.Get("owner_id"))
		if code := f.callErrors[gid]; code != 0 {
			return nil, &fakeError{Code: code, Msg: "Access denied: this wall available only for community members"}
		}
		if codes := f.callOnce[gid]; len(codes) > 0 {
			f.callOnce[gid] = codes[1:]
			return nil, &fakeError{Code: codes[0], Msg: "Too many requests per second"}
		}
		if raw, ok := f.rawWall[gid]; ok {
			return raw, nil
		}
		posts := append([]map[string]any(nil), f.posts[gid]...)
		sort.Slice(posts, func(i, j int) bool { return posts[i]["id"].(int) > posts[j]["id"].(int) })
		total := len(posts)
		if n := atoi(p.Get("count")); n > 0 && n < len(posts) {
			posts = posts[:n]
		}
		items := make([]any, len(posts))
		for i, post := range posts {
			cp := map[string]any{}
			for k, v := range post {
				cp[k] = v
			}
			n := 0
			for _, c := range f.comments[fmt.Sprintf("%d_%d", -gid, post["id"])] {
				n += 1 + c["thread"].(map[string]any)["count"].(int)
			}
			cp["comments"] = map[string]any{"count": n, "can_post": 1, "groups_can_post": true}
			items[i] = cp
		}
		return map[string]any{"count": total, "items": items}, nil
	case "wall.getComments":
		key := p.Get("owner_id") + "_" + p.Get("post_id")
		cs := append([]map[string]any(nil), f.comments[key]...)
		if cid := atoi(p.Get("comment_id")); cid != 0 {
			var thread []map[string]any
			for _, c := range cs {
				if c["id"] == cid {
					for _, r := range c["thread"].(map[string]any)["items"].([]any) {
						thread = append(thread, r.(map[string]any))
					}
				}
			}
			sort.Slice(thread, func(i, j int) bool { return thread[i]["id"].(int) > thread[j]["id"].(int) })
			if n := atoi(p.Get("count")); n > 0 && n < len(thread) {
				thread = thread[:n]
			}
			return map[string]any{"count": len(thread), "items": thread, "current_level_count": len(thread), "can_post": true}, nil
		}
		sort.Slice(cs, func(i, j int) bool { return cs[i]["id"].(int) > cs[j]["id"].(int) })
		if p.Get("sort") == "asc" {
			sort.Slice(cs, func(i, j int) bool { return cs[i]["id"].(int) < cs[j]["id"].(int) })
		}
		total := len(cs)
		if n := atoi(p.Get("count")); n > 0 && n < len(cs) {
			cs = cs[:n]
		}
		limit := atoi(p.Get("thread_items_count"))
		items := make([]any, len(cs))
		for i, c := range cs {
			cp := map[string]any{}
			for k, v := range c {
				cp[k] = v
			}
			th := c["thread"].(map[string]any)
			ti := th["items"].([]any)
			if len(ti) > limit {
				ti = ti[:limit]
			}
			cp["thread"] = map[string]any{"count": th["count"], "items": ti, "can_post": true, "show_reply_button": true, "groups_can_post": true}
			items[i] = cp
		}
		return map[string]any{"count": total, "items": items, "current_level_count": total, "can_post": true, "show_reply_button": true, "groups_can_post": true}, nil
	case "newsfeed.search":
		q := strings.ToLower(p.Get("q"))
		start := atoi(p.Get("start_time"))
		var hits []map[string]any
		for _, post := range f.found {
			if strings.Contains(strings.ToLower(post["text"].(string)), q) && post["date"].(int) >= start {
				hits = append(hits, post)
			}
		}
		sort.Slice(hits, func(i, j int) bool { return hits[i]["date"].(int) > hits[j]["date"].(int) })
		off := 0
		if from := p.Get("start_from"); from != "" {
			off = atoi(strings.TrimPrefix(from, "o"))
		}
		total := len(hits)
		hits = hits[min(off, len(hits)):]
		n := atoi(p.Get("count"))
		next := ""
		if n > 0 && n < len(hits) {
			hits = hits[:n]
			next = fmt.Sprintf("o%d", off+n)
		}
		return map[string]any{"items": hits, "count": len(hits), "total_count": total, "next_from": next}, nil
	case "groups.getLongPollServer":
		return map[string]any{"key": f.lpKey, "server": f.srv.URL + "/lp", "ts": f.lpStartTs}, nil
	case "groups.setLongPollSettings":
		return 1, nil
	case "wall.createComment":
		f.nextID++
		return map[string]any{"comment_id": f.nextID, "parents_stack": []int{}}, nil
	case "messages.send":
		f.nextID++
		return f.nextID, nil
	}
	return nil, &fakeError{Code: 3, Msg: "Unknown method passed"}
}

func (f *fakeVK) addEvent(ev json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lpEvents = append(f.lpEvents, ev)
}

// serveLongPoll answers a_check like VK's long-poll server: the events from
// ts on, or, when there are none, nothing after holding the request up to
// wait seconds.
func (f *fakeVK) serveLongPoll(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	malformed := f.malformed
	var fail string
	if len(f.lpFailNext) > 0 {
		fail, f.lpFailNext = f.lpFailNext[0], f.lpFailNext[1:]
	}
	key := f.lpKey
	f.mu.Unlock()
	switch {
	case malformed:
		fmt.Fprint(w, `{"ts":"5","updates":[{"type":"wall_post_new","object":{"id":`)
		return
	case fail != "":
		fmt.Fprint(w, fail)
		return
	case q.Get("act") != "a_check" || q.Get("key") != key:
		fmt.Fprint(w, `{"failed":2}`)
		return
	}
	ts := atoi(q.Get("ts"))
	deadline := time.Now().Add(time.Duration(atoi(q.Get("wait"))) * time.Second)
	for {
		f.mu.Lock()
		evs := f.lpEvents
		f.mu.Unlock()
		if ts >= 1 && ts-1 < len(evs) {
			_ = json.NewEncoder(w).Encode(map[string]any{"ts": strconv.Itoa(len(evs) + 1), "updates": evs[ts-1:]})
			return
		}
		if time.Now().After(deadline) {
			_ = json.NewEncoder(w).Encode(map[string]any{"ts": strconv.Itoa(ts), "updates": []any{}})
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// addFound adds a post newsfeed.search will find.
func (f *fakeVK) addFound(ownerID, id, fromID, date int, text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.found = append(f.found, map[string]any{
		"id": id, "owner_id": ownerID, "from_id": fromID, "date": date, "post_type": "post", "text": text,
		"comments": map[string]any{"count": 0, "can_post": 1}, "likes": map[string]any{"count": 0},
		"post_source": map[string]any{"type": "api"},
	})
}
