package vk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/vk"
)

// One undecodable post, comment, reply or community result is skipped and
// reported; everything else in the cycle is delivered.
func TestMonitorSkipsMalformedObjects(t *testing.T) {
	f := newFakeVK(t)
	for _, gid := range []int{1, 2, 3} {
		f.addGroup(gid, fmt.Sprint("group ", gid), "")
	}
	good1 := f.addPost(1, 11, "Яма на Ленина")
	bad := f.addPost(1, 12, "секретный текст поста")
	good2 := f.addPost(1, 13, "Нет света")
	f.posts[1][1]["from_id"] = "not a number" // wall.get item with a wrong type

	f.addPost(2, 21, "пост, которого не будет видно")
	f.rawWall[2] = map[string]any{"count": "x", "items": 5} // the whole community result

	post := f.addPost(3, 31, "Отключили воду")
	c1 := f.addComment(3, post, 0, 32, "Поддерживаю")
	c2 := f.addComment(3, post, 0, 33, "секретный текст комментария")
	c3 := f.addComment(3, post, 0, 34, "И у нас")
	r1 := f.addComment(3, post, c3, 35, "секретный текст ответа")
	r2 := f.addComment(3, post, c3, 36, "Третий день")
	key := fmt.Sprintf("%d_%d", -3, post)
	f.comments[key][1]["date"] = "вчера"
	f.comments[key][2]["thread"].(map[string]any)["items"].([]any)[0].(map[string]any)["text"] = 5

	var logs bytes.Buffer
	var mu sync.Mutex
	var reported []error
	api := f.api()
	api.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	m, err := vk.NewMonitor(vk.MonitorConfig{API: api, Communities: vk.ParseCommunities("1,2,3"),
		OnMalformed: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }})
	require.NoError(t, err)
	var c collect
	st, err := m.Poll(context.Background(), c.sink)
	require.NoError(t, err, "a malformed object stopped the cycle")

	got := keys(c.byExt())
	want := []string{
		fmt.Sprintf("-1_%d", good1), fmt.Sprintf("-1_%d", good2),
		fmt.Sprintf("-3_%d", post), fmt.Sprintf("-3_%d_c%d", post, c1), fmt.Sprintf("-3_%d_c%d", post, c3), fmt.Sprintf("-3_%d_c%d", post, r2),
	}
	assert.ElementsMatch(t, want, got)
	assert.Equal(t, 4, st.Malformed, "post, community result, comment, reply")
	assert.Equal(t, 6, st.Delivered)

	require.Len(t, reported, 4)
	objects := map[string]bool{}
	for _, err := range reported {
		var me *vk.MalformedError
		require.ErrorAs(t, err, &me)
		assert.ErrorIs(t, err, source.ErrMalformed)
		objects[fmt.Sprintf("%d %s", me.Community, me.Object)] = true
	}
	assert.Equal(t, map[string]bool{
		fmt.Sprintf("1 post -1_%d", bad):             true,
		"2 wall.get result":                          true,
		fmt.Sprintf("3 comment -3_%d_c%d", post, c2): true,
		fmt.Sprintf("3 comment -3_%d_c%d", post, r1): true,
	}, objects)
	assert.NotContains(t, logs.String(), "секретный", "no text in the log")
	assert.NotContains(t, logs.String(), `"12"`, "no author in the log")
	assert.Contains(t, logs.String(), "malformed object skipped")

	// The cursor moved past the skipped objects with known ids: the next
	// cycle reports only the community result again, and delivers nothing.
	c = collect{}
	st, err = m.Poll(context.Background(), c.sink)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Malformed)
	assert.Empty(t, c.got)

	// Once VK answers the community properly again, it is read.
	delete(f.rawWall, 2)
	st, err = m.Poll(context.Background(), c.sink)
	require.NoError(t, err)
	assert.Equal(t, 0, st.Malformed)
	assert.Equal(t, 1, st.Delivered)
}

// Errors 6, 9 and 29 of one call inside execute (execute_errors, the
// request itself succeeded) wait as long as their code asks before that
// call is sent again.
func TestMonitorHonoursRateLimitsInsideExecute(t *testing.T) {
	setup := func(t *testing.T) (*fakeVK, *vk.Monitor) {
		f := newFakeVK(t)
		f.addGroup(1, "g", "g")
		f.addGroup(2, "h", "h")
		f.addPost(1, 5, "текст")
		f.addPost(2, 6, "текст")
		m, err := vk.NewMonitor(vk.MonitorConfig{API: f.api(), Communities: vk.ParseCommunities("1,2")})
		require.NoError(t, err)
		return f, m
	}
	t.Run("6 once: waits a second, then reads it", func(t *testing.T) {
		f, m := setup(t)
		f.callOnce[1] = []int{6}
		start := time.Now()
		var c collect
		st, err := m.Poll(context.Background(), c.sink)
		require.NoError(t, err)
		assert.Equal(t, 2, st.Delivered, "both communities in this cycle")
		assert.GreaterOrEqual(t, time.Since(start), time.Second)
		assert.EqualValues(t, 3, f.count("wall.get"), "only the limited call is sent again")
	})
	for _, code := range []int{9, 29} {
		t.Run(fmt.Sprintf("%d: still waiting", code), func(t *testing.T) {
			f, m := setup(t)
			f.callErrors[1] = code
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err := m.Poll(ctx, (&collect{}).sink)
			assert.ErrorIs(t, err, context.DeadlineExceeded, "the wait was not honoured")
			assert.EqualValues(t, 2, f.count("wall.get"), "no call repeated within the wait")
		})
	}
}

// A 5xx with a JSON body (VK's frontends and JSON-speaking proxies during
// an incident) is a passing fault, whatever the body says.
func TestMonitor5xxWithJSONBodyIsTemporary(t *testing.T) {
	f := newFakeVK(t)
	f.addGroup(1, "g", "g")
	f.addPost(1, 5, "текст")
	f.jsonErrors = []fakeJSONError{
		{http500, `{"error":{"error_code":1,"error_msg":"Unknown error occurred"}}`},
		{503, `{}`},
		{502, `{"response":null}`},
		{504, `{"message":"upstream timed out"}`},
	}
	m, err := vk.NewMonitor(vk.MonitorConfig{API: f.api(), Communities: vk.ParseCommunities("1")})
	require.NoError(t, err)
	var c collect
	st, err := m.Poll(context.Background(), c.sink)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Delivered)
	assert.Equal(t, 6, st.Requests, "4 errors retried, then groups.getById and execute")
}

const http500 = 500

func TestRepostKeepsOriginalGeoAndAttachments(t *testing.T) {
	f := newFakeVK(t)
	f.addGroup(7, "Подслушано", "city")
	id := f.addPost(7, 70, "")
	f.posts[7][0]["copy_history"] = []any{map[string]any{
		"id": 5, "owner_id": 700, "from_id": 700, "date": 1700000000, "post_type": "post",
		"text": "Яма на &quot;Ленина&quot;<br>у дома 5 &amp; 7",
		"geo":  map[string]any{"type": "point", "coordinates": "51.7304 36.1926"},
		"attachments": []any{map[string]any{"type": "photo", "photo": map[string]any{
			"id": 1, "owner_id": 700, "sizes": []any{map[string]any{"type": "x", "url": "https://sun9-1.userapi.com/yama.jpg", "width": 604, "height": 453}},
		}}},
	}}
	m, err := vk.NewMonitor(vk.MonitorConfig{API: f.api(), Communities: vk.ParseCommunities("city")})
	require.NoError(t, err)
	var c collect
	_, err = m.Poll(context.Background(), c.sink)
	require.NoError(t, err)
	a, ok := c.byExt()[fmt.Sprintf("-7_%d", id)]
	require.True(t, ok)
	assert.Equal(t, "Яма на \"Ленина\"\nу дома 5 & 7", a.Text)
	assert.Equal(t, &appeal.GeoPoint{Lat: 51.7304, Lon: 36.1926}, a.Geo)
	assert.Equal(t, []appeal.Attachment{{Type: "photo", URL: "https://sun9-1.userapi.com/yama.jpg"}}, a.Attachments)
}

func TestHTMLInVKTextsIsDecoded(t *testing.T) {
	f := newFakeVK(t)
	f.addGroup(8, "Школа &quot;Радуга&quot;", "raduga")
	post := f.addPost(8, 80, "Когда &laquo;починят&raquo; крышу?<br/>Течёт &#33;")
	f.addComment(8, post, 0, 81, "Да, &lt;срочно&gt;<BR>пишите")
	m, err := vk.NewMonitor(vk.MonitorConfig{API: f.api(), Communities: vk.ParseCommunities("raduga")})
	require.NoError(t, err)
	var c collect
	_, err = m.Poll(context.Background(), c.sink)
	require.NoError(t, err)
	got := c.byExt()
	p := got[fmt.Sprintf("-8_%d", post)]
	assert.Equal(t, "Когда «починят» крышу?\nТечёт !", p.Text)
	assert.Equal(t, `Школа "Радуга"`, p.Community.Name)
	var comment appeal.Appeal
	for _, a := range got {
		if a.Kind == appeal.KindComment {
			comment = a
		}
	}
	assert.Equal(t, "Да, <срочно>\nпишите", comment.Text)
}

// The Callback API endpoint is on the Internet: like source/webhook, it
// refuses texts longer than any VK text and dates VK cannot have sent.
func TestCallbackRefusesOversizedTextAndImpossibleDates(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	var c collect
	var reported []error
	h, err := vk.NewCallbackHandler(vk.CallbackConfig{
		GroupID: 218900, Confirmation: "1a2b3c4d", Secret: "s", Logger: discard,
		MaxTextRunes: 100, Now: func() time.Time { return now },
		OnMalformed: func(err error) { reported = append(reported, err) },
	}, c.sink)
	require.NoError(t, err)
	event := func(id string, date int64, text string) []byte {
		b, _ := json.Marshal(map[string]any{
			"type": "wall_post_new", "group_id": 218900, "event_id": id, "v": "5.199", "secret": "s",
			"object": map[string]any{"id": 5, "owner_id": -218900, "from_id": 100, "date": date, "text": text, "post_type": "post"},
		})
		return b
	}
	post := func(body []byte) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/vk/callback", bytes.NewReader(body)))
		return rec
	}
	for _, tc := range []struct {
		name, text, want string
		date             int64
	}{
		{"text over the cap", strings.Repeat("я", 101), "text: is 101 characters long, at most 100", now.Unix()},
		{"date in the future", "Яма", "in the future", now.Add(48 * time.Hour).Unix()},
		{"date before VK", "Яма", "before VK existed", 86400},
		{"negative date", "Яма", "before VK existed", -5},
	} {
		rec := post(event(tc.name, tc.date, tc.text))
		assert.Equal(t, http.StatusBadRequest, rec.Code, tc.name)
		assert.Contains(t, rec.Body.String(), tc.want, tc.name)
		assert.NotContains(t, rec.Body.String(), "яяя", "the text is not echoed")
	}
	assert.Empty(t, c.got)
	require.Len(t, reported, 4)
	for _, err := range reported {
		assert.ErrorIs(t, err, source.ErrMalformed)
	}
	// At the cap, and a clock a little behind VK's, are fine.
	rec := post(event("ok", now.Add(time.Hour).Unix(), strings.Repeat("я", 100)))
	assert.Equal(t, "ok", rec.Body.String())
	assert.Len(t, c.got, 1)
}

// A long-poll event whose object cannot be decoded is skipped and
// reported; the events after it arrive, and the ts moves past it (before,
// Run stopped at it, and met it again after every restart).
func TestLongPollSkipsMalformedEvent(t *testing.T) {
	f := newFakeVK(t)
	post := func(id int, text string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"group_id":7,"type":"wall_post_new","event_id":"e%d","v":"5.199","object":{"id":%d,"from_id":500,"owner_id":-7,"date":1701162000,"post_type":"post","text":%q}}`, id, id, text))
	}
	f.addEvent(post(1, "Яма на Ленина"))
	f.addEvent(json.RawMessage(`{"group_id":7,"type":"wall_post_new","event_id":"e2","v":"5.199","object":{"id":"два","from_id":501,"owner_id":-7,"text":"секретный текст"}}`))
	f.addEvent(post(3, "Нет света"))
	var mu sync.Mutex
	var reported []error
	var logs bytes.Buffer
	api := f.api()
	api.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	cp := source.NewMemoryCheckpoints()
	lp, err := vk.NewLongPoll(vk.LongPollConfig{API: api, GroupID: 7, Wait: 1, Checkpoints: cp,
		OnMalformed: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }})
	require.NoError(t, err)
	var c collect
	runUntilDelivered(t, lp, &c, 2, 0)
	assert.ElementsMatch(t, []string{"-7_1", "-7_3"}, keys(c.byExt()))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, reported, 1)
	assert.ErrorIs(t, reported[0], source.ErrMalformed)
	assert.Contains(t, reported[0].Error(), "e2")
	assert.NotContains(t, logs.String(), "секретный")
	ts, err := cp.Load(context.Background(), "vk:longpoll:7")
	require.NoError(t, err)
	assert.NotEmpty(t, ts, "the ts moved past the batch with the bad event")
}

// One search result that cannot be decoded is skipped and reported once;
// the others are delivered. A person's post is reported without its id
// (which is the person's user id).
func TestSearchSkipsMalformedResult(t *testing.T) {
	f := newFakeVK(t)
	now := int(searchNow.Unix())
	f.addFound(-10, 1, 100, now-30, "Курск: яма на Ленина")
	f.addFound(-10, 2, 101, now-20, "Курск: секретный текст")
	f.addFound(777001, 3, 777001, now-15, "Курск: секретный текст на личной странице")
	f.addFound(-11, 4, 102, now-10, "Курск: нет света")
	f.found[1]["from_id"] = "не число"
	f.found[2]["comments"] = "нет"
	var mu sync.Mutex
	var reported []error
	s, err := vk.NewSearch(vk.SearchConfig{API: f.api(), Query: "Курск", PollInterval: 10 * time.Millisecond,
		Now: func() time.Time { return searchNow }, OnMalformed: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }})
	require.NoError(t, err)
	var c collect
	runUntilDelivered(t, s, &c, 2, 50*time.Millisecond) // more cycles meet the bad results again
	assert.ElementsMatch(t, []string{"-10_1", "-11_4"}, keys(c.byExt()))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, reported, 2, "each reported once per Run")
	for _, err := range reported {
		assert.ErrorIs(t, err, source.ErrMalformed)
		assert.NotContains(t, err.Error(), "777001")
		assert.NotContains(t, err.Error(), "секретный")
	}
}

// runUntilDelivered runs src until c holds n appeals (failing after 5 s),
// lets it run for linger more, then stops it and checks that Run returned
// nil.
func runUntilDelivered(t *testing.T, src source.Source, c *collect, n int, linger time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, c.sink) }()
	require.Eventually(t, func() bool { return len(c.byExt()) == n }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(linger)
	cancel()
	require.NoError(t, <-done)
}
