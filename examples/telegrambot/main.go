// Command telegrambot collects appeals from Telegram: private messages to a
// bot, posts of channels where the bot is an administrator, and comments in
// their discussion groups. Each appeal goes through the appealkit pipeline
// into a store and is printed as one JSON line (personal data redacted
// unless -reveal).
//
//	TELEGRAM_TOKEN=123:ABC go run ./examples/telegrambot
//	TELEGRAM_TOKEN=123:ABC TELEGRAM_WEBHOOK_SECRET=s3cret go run ./examples/telegrambot -webhook :8443
//	TELEGRAM_TOKEN=123:ABC go run ./examples/telegrambot -reply telegram:-100123_45 "Бригада выехала"
//
// With long polling (the default) the update offset is kept in
// -checkpoints, so a restart continues where it stopped. Edits of messages
// update the stored appeal's text and history. -api-url points the bot at
// another Bot API server (a local one, or a test server).
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
	"os/signal"
	"sync"
	"time"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/telegram"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "telegrambot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("telegrambot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	apiURL := fs.String("api-url", telegram.DefaultBaseURL, "Bot API server")
	cpPath := fs.String("checkpoints", "telegrambot-checkpoints.json", "file keeping the update offset (long polling)")
	pollTimeout := fs.Duration("poll-timeout", 30*time.Second, "getUpdates long-polling timeout")
	webhookAddr := fs.String("webhook", "", "serve a webhook on this address instead of long polling (needs TELEGRAM_WEBHOOK_SECRET)")
	replyTo := fs.String("reply", "", "send the text given as the argument as an official answer to this appeal ID, then exit")
	reveal := fs.Bool("reveal", false, "print authors and texts in clear (personal data: off by default)")
	verbose := fs.Bool("v", false, "log debug details to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	token := getenv("TELEGRAM_TOKEN")
	if token == "" {
		return errors.New("set TELEGRAM_TOKEN to the bot token from @BotFather")
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	store := appeal.NewMemoryStore()
	out := &printer{w: stdout, store: store, reveal: *reveal}
	cfg := telegram.Config{
		Token:       token,
		BaseURL:     *apiURL,
		PollTimeout: *pollTimeout,
		Edits:       out.edits(telegram.StoreEdits(store)),
		Logger:      logger,
	}

	if *replyTo != "" {
		return reply(ctx, cfg, *replyTo, fs.Args(), stdout)
	}

	var src source.Source
	var serve func(ctx context.Context) error
	if *webhookAddr != "" {
		secret := getenv("TELEGRAM_WEBHOOK_SECRET")
		hook, err := telegram.NewWebhook(cfg, secret)
		if err != nil {
			return err
		}
		src = hook
		serve = func(ctx context.Context) error { return serveHTTP(ctx, *webhookAddr, hook, stderr) }
	} else {
		cp, err := source.OpenFileCheckpoints(*cpPath)
		if err != nil {
			return err
		}
		cfg.Checkpoints = cp
		poller, err := telegram.New(cfg)
		if err != nil {
			return err
		}
		src = poller
	}

	p, err := appealkit.New(appealkit.Config{
		Store:  store,
		Inputs: []appealkit.Input{{Name: "telegram", Source: src}},
		Hooks:  appealkit.Hooks{Processed: out.processed},
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	serveErr := make(chan error, 1)
	if serve != nil {
		go func() { serveErr <- serve(ctx) }()
	}
	err = p.Run(ctx)
	cancel()
	if serve != nil {
		if serr := <-serveErr; serr != nil && err == nil {
			err = serr
		}
	}
	if errors.Is(err, source.ErrAuth) {
		return fmt.Errorf("the bot token was refused (check TELEGRAM_TOKEN): %w", err)
	}
	return err
}

// reply sends an official answer, as an operator's tool would.
func reply(ctx context.Context, cfg telegram.Config, id string, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("-reply takes the answer text as the one argument after the flags")
	}
	network, ext, ok := appeal.ID(id).Split()
	if !ok || network != appeal.NetworkTelegram {
		return fmt.Errorf("-reply %q: want a Telegram appeal ID such as telegram:-1001234_56", id)
	}
	bot, err := telegram.New(cfg)
	if err != nil {
		return err
	}
	r, err := bot.Reply(ctx, appeal.Appeal{ID: appeal.ID(id), Network: network, ExternalID: ext}, args[0])
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]any{"replied_to": id, "reply": r})
}

// serveHTTP serves h until ctx ends.
func serveHTTP(ctx context.Context, addr string, h http.Handler, stderr io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "webhook listening on %s (register its public HTTPS URL with SetWebhook)\n", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// printer writes one JSON line per processed appeal or applied edit.
type printer struct {
	mu     sync.Mutex
	w      io.Writer
	store  appeal.Store
	reveal bool
}

type line struct {
	Event   string         `json:"event"` // appeal, edit
	Outcome string         `json:"outcome,omitempty"`
	Error   string         `json:"error,omitempty"`
	Appeal  *appeal.Appeal `json:"appeal,omitempty"`
}

func (p *printer) print(l line) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, _ := json.Marshal(l)
	fmt.Fprintf(p.w, "%s\n", b)
}

func (p *printer) show(id appeal.ID) *appeal.Appeal {
	a, err := p.store.Get(context.Background(), id)
	if err != nil {
		return nil
	}
	if !p.reveal {
		a = a.Redacted()
	}
	return &a
}

func (p *printer) processed(r appealkit.Result) {
	l := line{Event: "appeal", Outcome: string(r.Outcome), Appeal: p.show(r.ID)}
	if r.Err != nil {
		l.Error = r.Err.Error()
	}
	p.print(l)
}

func (p *printer) edits(next telegram.EditSink) telegram.EditSink {
	return func(ctx context.Context, e telegram.Edit) error {
		if err := next(ctx, e); err != nil {
			return err
		}
		p.print(line{Event: "edit", Appeal: p.show(e.Appeal.ID)})
		return nil
	}
}
