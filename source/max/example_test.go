package max_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	maxbot "github.com/appealkit/appealkit/source/max"
)

// Long polling against a stand-in MAX Bot API: a resident comments under a
// post of the district's channel, the sink stores the comment as an appeal,
// and the marker is saved only after that. In production leave BaseURL
// empty (platform-api.max.ru), keep the checkpoints durable, or better use
// the Webhook.
func ExampleNew() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("marker") != "" {
			<-r.Context().Done() // a long poll with nothing new
			return
		}
		io.WriteString(w, `{"updates":[{"update_type":"comment_created","timestamp":1767258000100,"message":{`+
			`"sender":{"user_id":5001,"first_name":"Ирина","is_bot":false},`+
			`"recipient":{"chat_type":"channel","chat_id":-70801090403050,"post_id":"mid.post-1"},"timestamp":1767258000000,`+
			`"body":{"mid":"mid.c-1","seq":1,"text":"Когда починят освещение на улице Садовой?"}}}],"marker":1}`)
	}))
	defer srv.Close()

	store := appeal.NewMemoryStore()
	src, err := maxbot.New(maxbot.Config{
		Token:         "example-token",
		BaseURL:       srv.URL,
		Checkpoints:   source.NewMemoryCheckpoints(),
		Edits:         source.StoreEdits(store),
		OfficialChats: []int64{-70801090403050},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = src.Run(ctx, func(ctx context.Context, a appeal.Appeal) error {
		if _, err := store.Put(ctx, a); err != nil {
			return err
		}
		fmt.Println(a.ID, a.Kind, "official:", a.Community.Official)
		cancel()
		return nil
	})
	fmt.Println("run:", err)
	// Output:
	// max:-70801090403050/mid.post-1/mid.c-1 comment official: true
	// run: <nil>
}

// A webhook: register the URL once with Subscribe, mount the handler, and
// Run it with the sink. MAX gets 200 "ok" only after the sink accepted.
func ExampleNewWebhook() {
	hook, err := maxbot.NewWebhook(maxbot.Config{Token: "example-token"}, "a-long-random-secret")
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/max", hook)
	// hook.Subscribe(ctx, "https://cur.example.ru/max") once, then:
	ctx, cancel := context.WithCancel(context.Background())
	go hook.Run(ctx, func(ctx context.Context, a appeal.Appeal) error { return nil })
	defer cancel()

	req := httptest.NewRequest(http.MethodPost, "/max", strings.NewReader(`{}`))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req) // no secret header
	fmt.Println(rec.Code)
	// Output: 401
}
