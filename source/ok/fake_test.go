package ok

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
)

const (
	testAppKey = "CBAFGHIJKLMNOPQRS"
	testSecret = "0123456789ABCDEF0123456789ABCDEF"
	testToken  = "tkn1.abcdefghijklmnopqrstuvwxyz0123456789"
	testGroup  = "57000000000001"
)

// fakeOK is an OK REST endpoint: it checks the application key, token and
// signature of every call like api.ok.ru does, and serves group.getInfo,
// mediatopic.getTopics and discussions.getComments from its state, paging
// with opaque anchors.
type fakeOK struct {
	srv *httptest.Server

	mu       sync.Mutex
	topics   map[string][]json.RawMessage // group → topics, newest first
	comments map[string][]json.RawMessage // topic → comments, oldest first
	users    []json.RawMessage
	script   map[string][]string // method → queued raw answers
	calls    map[string]int
	broken   string // served for mediatopic.getTopics when set
}

func newFakeOK(t testing.TB) *fakeOK {
	f := &fakeOK{topics: map[string][]json.RawMessage{}, comments: map[string][]json.RawMessage{},
		script: map[string][]string{}, calls: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// seed loads the fixtures: the group's topics and the comments of topic
// 155000000000002.
func (f *fakeOK) seed(t testing.TB) {
	var tr struct {
		MediaTopics []json.RawMessage `json:"media_topics"`
		Entities    struct {
			Users []json.RawMessage `json:"users"`
		} `json:"entities"`
	}
	mustJSON(t, "mediatopic_getTopics.json", &tr)
	var cr struct {
		Comments []json.RawMessage `json:"comments"`
		Entities struct {
			Users []json.RawMessage `json:"users"`
		} `json:"entities"`
	}
	mustJSON(t, "discussions_getComments.json", &cr)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.topics[testGroup] = tr.MediaTopics
	f.comments["155000000000002"] = cr.Comments
	f.users = append(append(f.users, tr.Entities.Users...), cr.Entities.Users...)
}

func mustJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func fixture(t testing.TB, name string) string {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (f *fakeOK) push(method, raw string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[method] = append(f.script[method], raw)
}

func (f *fakeOK) callCount(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *fakeOK) addTopic(group string, raw json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.topics[group] = append([]json.RawMessage{raw}, f.topics[group]...)
}

func (f *fakeOK) addComment(topic string, raw json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.comments[topic] = append(f.comments[topic], raw)
}

func answer(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	_, _ = io.WriteString(w, body)
}

func (f *fakeOK) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		answer(w, `{"error_code":100,"error_msg":"PARAM : bad request"}`)
		return
	}
	p := r.PostForm
	switch {
	case p.Get("application_key") != testAppKey:
		answer(w, `{"error_code":101,"error_msg":"PARAM_API_KEY : Application key is invalid"}`)
		return
	case p.Get("access_token") != testToken:
		answer(w, `{"error_code":102,"error_msg":"PARAM_SESSION_EXPIRED : Session expired"}`)
		return
	case p.Get("format") != "json":
		answer(w, `{"error_code":5000,"error_msg":"INVALID_RESPONSE : format"}`)
		return
	case p.Get("sig") != Sign(p, md5hex(testToken+testSecret)):
		answer(w, `{"error_code":104,"error_msg":"PARAM_SIGNATURE : Invalid signature"}`)
		return
	}
	method := p.Get("method")
	f.mu.Lock()
	f.calls[method]++
	if q := f.script[method]; len(q) > 0 {
		f.script[method] = q[1:]
		f.mu.Unlock()
		answer(w, q[0])
		return
	}
	defer f.mu.Unlock()
	switch method {
	case "group.getInfo":
		answer(w, `[{"uid":"57000000000001","name":"Администрация города Курска"},{"uid":"57000000000002","name":"Курск — наш город"}]`)
	case "mediatopic.getTopics":
		if f.broken != "" {
			answer(w, f.broken)
			return
		}
		if _, ok := f.topics[p.Get("gid")]; !ok && p.Get("gid") != testGroup && p.Get("gid") != "57000000000002" {
			answer(w, `{"error_code":160,"error_msg":"PARAM_GROUP_ID : Invalid group id"}`)
			return
		}
		page, anchor, more := pageOf(f.topics[p.Get("gid")], p.Get("anchor"), p.Get("count"))
		f.write(w, "media_topics", page, anchor, more)
	case "discussions.getComments":
		if p.Get("discussionType") != "GROUP_TOPIC" {
			answer(w, `{"error_code":100,"error_msg":"PARAM : discussionType"}`)
			return
		}
		page, anchor, more := pageOf(f.comments[p.Get("discussionId")], p.Get("anchor"), p.Get("count"))
		f.write(w, "comments", page, anchor, more)
	default:
		answer(w, `{"error_code":3,"error_msg":"METHOD : Method does not exist"}`)
	}
}

func (f *fakeOK) write(w http.ResponseWriter, field string, page []json.RawMessage, anchor string, more bool) {
	if page == nil {
		page = []json.RawMessage{}
	}
	b, _ := json.Marshal(map[string]any{field: page, "anchor": anchor, "has_more": more,
		"entities": map[string]any{"users": f.users}})
	answer(w, string(b))
}

// pageOf returns count items after the anchor (an index), the next anchor
// and whether more follow.
func pageOf(all []json.RawMessage, anchor, count string) ([]json.RawMessage, string, bool) {
	from, _ := strconv.Atoi(anchor)
	n, _ := strconv.Atoi(count)
	if n <= 0 {
		n = 20
	}
	if from > len(all) {
		from = len(all)
	}
	to := min(from+n, len(all))
	return all[from:to], strconv.Itoa(to), to < len(all)
}
