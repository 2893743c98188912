package instagram_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source/instagram"
)

// The webhook Meta calls: the handshake, then a signed notification whose
// comment reaches the sink before Meta gets its 200. Read the package
// documentation on the legal status of Meta's services in Russia first.
func ExampleNewWebhook() {
	hook, err := instagram.NewWebhook(instagram.Config{AccessToken: "EAAB-example", AccountID: "17841400000000001",
		AccountName: "Администрация района"}, "app-secret", "verify-token")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan appeal.Appeal, 1)
	go hook.Run(ctx, func(ctx context.Context, a appeal.Appeal) error { got <- a; return nil })

	rec := httptest.NewRecorder()
	hook.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ig?hub.mode=subscribe&hub.verify_token=verify-token&hub.challenge=42", nil))
	fmt.Println("handshake:", rec.Code, rec.Body.String())

	body := `{"object":"instagram","entry":[{"id":"17841400000000001","time":1767258000,"changes":[{"field":"comments",` +
		`"value":{"from":{"id":"2105722729836161","username":"resident"},"media":{"id":"17900000000000001"},` +
		`"id":"17919697626119712","text":"Когда отремонтируют дорогу?"}}]}]}`
	for {
		req := httptest.NewRequest(http.MethodPost, "/ig", strings.NewReader(body))
		req.Header.Set(instagram.SignatureHeader, "sha256="+hex.EncodeToString(instagram.Sign([]byte("app-secret"), []byte(body))))
		rec = httptest.NewRecorder()
		hook.ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable { // Run not attached yet: Meta would retry
			break
		}
		time.Sleep(time.Millisecond)
	}
	a := <-got
	fmt.Println("notification:", rec.Code, a.ID, a.Kind)
	// Output:
	// handshake: 200 42
	// notification: 200 instagram:17919697626119712 comment
}

// Polling the comments of chosen media and of the account's newest posts;
// the cursor of each media is kept in the checkpoints.
func ExampleNew() {
	src, err := instagram.New(instagram.Config{
		AccessToken: "EAAB-example",
		AccountID:   "17841400000000001",
		Media:       []string{"17900000000000001"},
		RecentMedia: 10,
	})
	fmt.Println(src != nil, err)
	// Output: true <nil>
}
