package vk_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/vk"
)

func benchCommunities(f *fakeVK, n, postsEach, commentedEvery, commentsEach int) []vk.Community {
	ids := make([]string, 0, n)
	for gid := 1; gid <= n; gid++ {
		f.addGroup(gid, "Сообщество "+strconv.Itoa(gid), "")
		ids = append(ids, strconv.Itoa(gid))
		for p := range postsEach {
			post := f.addPost(gid, 1000+p, "Во дворе не убирают снег, тротуар не чистят неделю")
			if commentedEvery > 0 && gid%commentedEvery == 0 {
				for c := range commentsEach {
					f.addComment(gid, post, 0, 2000+c, "Поддерживаю, у нас то же самое")
				}
			}
		}
	}
	return vk.ParseCommunities(strings.Join(ids, ","))
}

// A quiet cycle over 1,000 communities: nothing new, only the 40 execute
// requests that read the walls.
func BenchmarkMonitorQuietCycle1000(b *testing.B) {
	f := newFakeVK(b)
	list := benchCommunities(f, 1000, 5, 10, 3)
	m, err := vk.NewMonitor(vk.MonitorConfig{API: f.api(), Communities: list})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	sink := func(context.Context, appeal.Appeal) error { return nil }
	if _, err := m.Poll(ctx, sink); err != nil { // history
		b.Fatal(err)
	}
	b.ReportAllocs()
	requests := 0
	b.ResetTimer()
	for b.Loop() {
		st, err := m.Poll(ctx, sink)
		if err != nil {
			b.Fatal(err)
		}
		requests += st.Requests
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/cycle")
}

// A first cycle over 1,000 communities that delivers everything on their
// walls (5,000 posts and 1,500 comments): appeals per second through the
// whole path (HTTP, JSON, mapping, sink, checkpoints).
func BenchmarkMonitorAppealsPerSecond(b *testing.B) {
	f := newFakeVK(b)
	list := benchCommunities(f, 1000, 5, 10, 3)
	ctx := context.Background()
	var delivered atomic.Int64
	sink := func(context.Context, appeal.Appeal) error { delivered.Add(1); return nil }
	b.ReportAllocs()
	requests := 0
	start := time.Now()
	for b.Loop() {
		m, err := vk.NewMonitor(vk.MonitorConfig{API: f.api(), Communities: list})
		if err != nil {
			b.Fatal(err)
		}
		st, err := m.Poll(ctx, sink)
		if err != nil {
			b.Fatal(err)
		}
		if st.Delivered != 6500 {
			b.Fatalf("delivered %d, want 6500", st.Delivered)
		}
		requests += st.Requests
	}
	b.ReportMetric(float64(delivered.Load())/time.Since(start).Seconds(), "appeals/s")
	b.ReportMetric(float64(requests)/float64(b.N), "requests/cycle")
}

// Callback API events through the handler into a sink.
func BenchmarkCallbackHandler(b *testing.B) {
	var n atomic.Int64
	h, err := vk.NewCallbackHandler(vk.CallbackConfig{GroupID: 218900, Confirmation: "x", Secret: "s", Logger: discard},
		func(context.Context, appeal.Appeal) error { n.Add(1); return nil })
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	start := time.Now()
	for b.Loop() {
		i++
		body := fmt.Sprintf(`{"group_id":218900,"type":"wall_reply_new","event_id":"e%d","v":"5.131","secret":"s","object":{"id":%d,"from_id":55502,"post_id":3400,"owner_id":-218900,"parents_stack":[],"date":1701162060,"text":"Во дворе дома 5 по Ленина не горят фонари","thread":{"count":0},"post_owner_id":-218900}}`, i, i)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewBufferString(body)))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "appeals/s")
}

// wall_reply_edit events through the handler into source.StoreEdits: each
// edits one of b.N comments stored beforehand (decode, map, Get, Update).
func BenchmarkCallbackEdit(b *testing.B) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	h, err := vk.NewCallbackHandler(vk.CallbackConfig{GroupID: 218900, Confirmation: "x", Secret: "s", Logger: discard, Edits: source.StoreEdits(store)},
		func(ctx context.Context, a appeal.Appeal) error { _, err := store.Put(ctx, a); return err })
	if err != nil {
		b.Fatal(err)
	}
	event := func(typ string, i int, text string) string {
		return fmt.Sprintf(`{"group_id":218900,"type":%q,"event_id":"%s%d","v":"5.199","secret":"s","object":{"id":%d,"from_id":55502,"post_id":3400,"owner_id":-218900,"parents_stack":[],"date":1701162060,"text":%q,"thread":{"count":0},"post_owner_id":-218900}}`, typ, typ, i, i+1, text)
	}
	post := func(body string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body)
		}
	}
	for i := range b.N {
		post(event("wall_reply_new", i, "Во дворе не горят фонари"))
	}
	edits := make([]string, b.N)
	for i := range edits {
		edits[i] = event("wall_reply_edit", i, "Во дворе дома 5 по Ленина не горят фонари")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		post(edits[i])
	}
	b.StopTimer()
	if a, err := store.Get(ctx, appeal.NewID(appeal.NetworkVK, vk.CommentExternalID(-218900, 3400, b.N))); err != nil || a.Version != 2 {
		b.Fatalf("last comment not edited: v%d %v", a.Version, err)
	}
}
