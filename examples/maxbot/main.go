// Command maxbot collects appeals from MAX, the national messenger: comments
// under the posts of channels where the bot is an administrator, messages
// to the bot, and group chats (house chats) where it reads every message.
// Each appeal is stored (SQLite with -db, else in memory) and printed as one
// JSON line, personal data redacted unless -show-authors. Edits and
// deletions update the stored appeal and are printed too.
//
//	MAX_TOKEN=... go run ./examples/maxbot -checkpoints max.json
//	MAX_TOKEN=... MAX_WEBHOOK_SECRET=s3cret-value go run ./examples/maxbot -webhook :8443 -subscribe https://cur.example.ru/max
//	MAX_TOKEN=... go run ./examples/maxbot -reply 'max:-70801090403050/mid.post/mid.c-1' "Ремонт освещения — до 1 декабря"
//
// Long polling (the default) keeps the /updates marker in -checkpoints, so
// a restart continues where it stopped; MAX itself calls long polling unfit
// for production, so run -webhook behind HTTPS there. -api-url points the
// bot at another server (a test one).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/examples/internal/setup"
	"github.com/appealkit/appealkit/source"
	maxbot "github.com/appealkit/appealkit/source/max"
)

func main() {
	setup.Main("maxbot", func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil)
	}, os.Interrupt, syscall.SIGTERM)
}

// run is the whole program; ready, when not nil, gets the webhook's
// address once it listens (for tests).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("maxbot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		apiURL      = fs.String("api-url", "", "MAX Bot API URL (default "+maxbot.DefaultBaseURL+")")
		cpFile      = fs.String("checkpoints", "", "file keeping the /updates marker across restarts (long polling)")
		webhook     = fs.String("webhook", "", "listen on this address for MAX's webhook instead of long polling (needs MAX_WEBHOOK_SECRET)")
		subscribe   = fs.String("subscribe", "", "with -webhook: register this public https URL with MAX first")
		official    = fs.String("official", "", "comma-separated chat ids of official channels (госпаблики)")
		reply       = fs.String("reply", "", "answer the appeal with this ID (max:...) with the text in the first argument, and exit")
		showAuthors = fs.Bool("show-authors", false, "print authors and phone numbers in clear (personal data!)")
		verbose     = fs.Bool("v", false, "log every update to stderr")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	token := getenv("MAX_TOKEN")
	if token == "" {
		return errors.New("set MAX_TOKEN to the bot's token from business.max.ru")
	}
	cfg := maxbot.Config{Token: token, BaseURL: *apiURL, Logger: setup.Logger(stderr, slog.LevelWarn, *verbose)}
	for _, f := range strings.Split(*official, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		var id int64
		if _, err := fmt.Sscan(f, &id); err != nil {
			return fmt.Errorf("-official: %q is not a chat id", f)
		}
		cfg.OfficialChats = append(cfg.OfficialChats, id)
	}

	if *reply != "" {
		ext, ok := strings.CutPrefix(*reply, string(appeal.NetworkMAX)+":")
		if !ok || fs.NArg() != 1 {
			return errors.New(`-reply wants an appeal ID "max:..." and the answer as one argument`)
		}
		src, err := maxbot.New(cfg)
		if err != nil {
			return err
		}
		r, err := src.Reply(ctx, appeal.Appeal{Network: appeal.NetworkMAX, ExternalID: ext}, fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "отправлено: %s\n", r.ExternalID)
		return nil
	}

	store := appeal.NewMemoryStore()
	var mu sync.Mutex
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	emit := func(kind string, a appeal.Appeal) error {
		if !*showAuthors {
			a = a.Redacted()
		}
		mu.Lock()
		defer mu.Unlock()
		return enc.Encode(struct {
			Event  string        `json:"event"`
			Appeal appeal.Appeal `json:"appeal"`
		}{kind, a})
	}
	apply := source.StoreEdits(store)
	cfg.Edits = func(ctx context.Context, e source.Edit) error {
		if err := apply(ctx, e); err != nil {
			return err
		}
		kind := "edited"
		if e.Deleted {
			kind = "deleted"
		}
		a, err := store.Get(ctx, e.Appeal.ID)
		if err != nil {
			a = e.Appeal
		}
		return emit(kind, a)
	}
	sink := func(ctx context.Context, a appeal.Appeal) error {
		if _, err := store.Put(ctx, a); err != nil {
			return err
		}
		return emit("new", a)
	}

	if *webhook == "" {
		if *cpFile != "" {
			cp, err := source.OpenFileCheckpoints(*cpFile)
			if err != nil {
				return err
			}
			cfg.Checkpoints = cp
		}
		src, err := maxbot.New(cfg)
		if err != nil {
			return err
		}
		return src.Run(ctx, sink)
	}

	secret := getenv("MAX_WEBHOOK_SECRET")
	hook, err := maxbot.NewWebhook(cfg, secret)
	if err != nil {
		return fmt.Errorf("MAX_WEBHOOK_SECRET: %w", err)
	}
	if *subscribe != "" {
		if err := hook.Subscribe(ctx, *subscribe); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *webhook)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: hook, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}
	runErr := hook.Run(ctx, sink)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return runErr
}
