package telegram_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/telegram"
)

// Long polling with the offset kept in a file, edits applied to the store.
func ExampleNew() {
	store := appeal.NewMemoryStore()
	cp, err := source.OpenFileCheckpoints("checkpoints.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	bot, err := telegram.New(telegram.Config{
		Token:       os.Getenv("TELEGRAM_TOKEN"),
		Checkpoints: cp,
		Edits:       telegram.StoreEdits(store),
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

// A webhook mounted in your own server; register it once with SetWebhook.
func ExampleNewWebhook() {
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
