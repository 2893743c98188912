package telegram_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/telegram"
)

// Long polling against a stand-in Bot API server: the bot receives one
// private message, the sink stores it as an appeal, and the offset of the
// next update is saved only after that. In production leave BaseURL empty
// (api.telegram.org) and keep the checkpoints in a file or a database.
func ExampleNew() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case strings.HasSuffix(r.URL.Path, "/getMe"):
			io.WriteString(w, `{"ok":true,"result":{"id":7000000001,"is_bot":true,"first_name":"Приёмная","username":"city_reception_bot"}}`)
		case strings.HasSuffix(r.URL.Path, "/getUpdates") && !strings.Contains(string(body), `"offset":700101`):
			io.WriteString(w, `{"ok":true,"result":[{"update_id":700100,"message":{"message_id":501,`+
				`"from":{"id":48151623,"is_bot":false,"first_name":"Анна"},"chat":{"id":48151623,"first_name":"Анна","type":"private"},`+
				`"date":1767258000,"text":"Во дворе дома 12 по ул. Садовой нет горячей воды."}}]}`)
		case strings.HasSuffix(r.URL.Path, "/getUpdates"):
			<-r.Context().Done() // a long poll with nothing new
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	store := appeal.NewMemoryStore()
	cp := source.NewMemoryCheckpoints()
	bot, err := telegram.New(telegram.Config{
		Token:       "7000000001:AAE-example",
		BaseURL:     srv.URL,
		Checkpoints: cp,
		Edits:       source.StoreEdits(store),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err = bot.Run(ctx, func(ctx context.Context, a appeal.Appeal) error {
		if _, err := store.Put(ctx, a); err != nil { // durable before returning nil
			return err
		}
		fmt.Println(a.ID, a.Kind, a.Community.ID)
		cancel() // one is enough for the example
		return nil
	})
	fmt.Println("run:", err, "offset:", cp.Snapshot())
	// Output:
	// telegram:48151623_501 message @city_reception_bot
	// run: <nil> offset: map[telegram:7000000001:700101]
}

// Long polling with the offset kept in a file, edits applied to the store,
// until the process is interrupted.
func ExampleNew_production() {
	store := appeal.NewMemoryStore()
	cp, err := source.OpenFileCheckpoints("checkpoints.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	bot, err := telegram.New(telegram.Config{
		Token:       os.Getenv("TELEGRAM_TOKEN"),
		Checkpoints: cp,
		Edits:       source.StoreEdits(store),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err = bot.Run(ctx, func(ctx context.Context, a appeal.Appeal) error {
		_, err := store.Put(ctx, a) // durable before returning nil
		return err
	})
	if err != nil {
		fmt.Println(err) // e.g. source.ErrAuth: the token was refused
	}
}

// Telegram pushes updates to a registered URL instead of being polled.
// Here one httptest server stands in for the Bot API (getMe, setWebhook)
// and another plays your HTTPS address. Telegram sends the secret token
// with every update, so a request without it is refused; an update is
// answered 200 only after the sink accepted it (503 while Run is not
// active, which Telegram retries).
func ExampleNewWebhook() {
	botAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/getMe"):
			io.WriteString(w, `{"ok":true,"result":{"id":7000000001,"is_bot":true,"first_name":"Приёмная","username":"city_reception_bot"}}`)
		case strings.HasSuffix(r.URL.Path, "/setWebhook"):
			io.WriteString(w, `{"ok":true,"result":true,"description":"Webhook was set"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer botAPI.Close()

	const secret = "hook-secret_42"
	hook, err := telegram.NewWebhook(telegram.Config{Token: "7000000001:AAE-example", BaseURL: botAPI.URL}, secret)
	if err != nil {
		fmt.Println(err)
		return
	}
	yours := httptest.NewServer(hook) // or mux.Handle("POST /telegram", hook)
	defer yours.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := hook.SetWebhook(ctx, yours.URL); err != nil { // once, at deployment
		fmt.Println(err)
		return
	}
	accepted := make(chan appeal.Appeal, 1)
	go hook.Run(ctx, func(ctx context.Context, a appeal.Appeal) error {
		accepted <- a // a real sink stores it durably before returning nil
		return nil
	})

	// What Telegram does:
	update := `{"update_id":700100,"message":{"message_id":501,"from":{"id":48151623,"is_bot":false,"first_name":"Анна"},` +
		`"chat":{"id":48151623,"first_name":"Анна","type":"private"},"date":1767258000,"text":"Нет горячей воды, ул. Садовая, 12"}}`
	post := func(token string) int {
		req, _ := http.NewRequest(http.MethodPost, yours.URL, strings.NewReader(update))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set(telegram.SecretHeader, token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	fmt.Println("without the secret:", post(""))
	status := post(secret)
	for status == http.StatusServiceUnavailable { // Run is still starting
		time.Sleep(time.Millisecond)
		status = post(secret)
	}
	a := <-accepted
	fmt.Println("with it:", status, a.ID, a.Community.ID)
	// Output:
	// without the secret: 401
	// with it: 200 telegram:48151623_501 @city_reception_bot
}

// A webhook mounted in your own server; register it once with SetWebhook.
func ExampleNewWebhook_production() {
	hook, err := telegram.NewWebhook(telegram.Config{Token: os.Getenv("TELEGRAM_TOKEN")}, os.Getenv("TELEGRAM_WEBHOOK_SECRET"))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := hook.SetWebhook(ctx, "https://appeals.example.ru/telegram"); err != nil {
		fmt.Println(err)
		return
	}
	http.Handle("POST /telegram", hook)
	go hook.Run(ctx, func(ctx context.Context, a appeal.Appeal) error { return nil /* store it */ })
	_ = http.ListenAndServe(":8443", nil)
}

// Answering a citizen in the thread the appeal came from.
func ExampleSource_Reply() {
	bot, _ := telegram.New(telegram.Config{Token: os.Getenv("TELEGRAM_TOKEN")})
	var r source.Replier = bot
	to := appeal.Appeal{Network: appeal.NetworkTelegram, ExternalID: "-1001122334455_3002"}
	rep, err := r.Reply(context.Background(), to, "Бригада выехала, тротуары очистят до 18:00.")
	fmt.Println(rep.ExternalID, err)
}
