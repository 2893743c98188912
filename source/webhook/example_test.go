package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source/webhook"
)

// An intake for a web form or a portal: it verifies the HMAC signature,
// validates the JSON, hands each appeal to the sink and answers 202 only
// once the sink accepted it (so the sender retries anything else).
func ExampleNew() {
	secret := []byte("shared-with-the-portal")
	src, err := webhook.New(webhook.Config{
		Secret:    secret,
		Community: appeal.Community{ID: "portal", Name: "Портал обращений"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(src) // or mux.Handle("POST /appeals", src)
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	accepted := make(chan appeal.Appeal, 1)
	go src.Run(ctx, func(_ context.Context, a appeal.Appeal) error {
		accepted <- a // a real sink stores it durably before returning nil
		return nil
	})
	for !waitReady(srv.URL) {
		time.Sleep(time.Millisecond)
	}

	// What the portal does:
	body := `{"external_id":"form-1017","text":"Не вывозят мусор на ул. Ленина, 5"}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.DefaultSignatureHeader, webhook.Sign(secret, []byte(body)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	a := <-accepted
	fmt.Println(res.StatusCode, a.ID, a.Kind, a.Community.ID)
	// Output: 202 web:form-1017 message portal
}

// waitReady reports whether the intake's Run is active (it answers 503
// before).
func waitReady(url string) bool {
	res, err := http.Post(url, "application/json", strings.NewReader(`{}`))
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode != http.StatusServiceUnavailable
}
