// Command telegrambot collects appeals from Telegram: private messages to a
// bot, posts of channels where the bot is an administrator, and comments in
// their discussion groups. Each appeal goes through the appealkit pipeline —
// classify (shipped rubricator), route (rules), store — and is printed as
// one JSON line with its topics, status and assignment (personal data
// redacted unless -reveal).
//
//	TELEGRAM_TOKEN=123:ABC go run ./examples/telegrambot
//	TELEGRAM_TOKEN=123:ABC go run ./examples/telegrambot -rules region.yaml -gazetteer places.yaml
//	TELEGRAM_TOKEN=123:ABC TELEGRAM_WEBHOOK_SECRET=s3cret go run ./examples/telegrambot -webhook :8443
//	TELEGRAM_TOKEN=123:ABC go run ./examples/telegrambot -reply telegram:-100123_45 "Бригада выехала"
//
// With long polling (the default) the update offset is kept in
// -checkpoints, so a restart continues where it stopped. An edit of a
// message updates the stored appeal's text and history and classifies the
// new text again in the same store update; the assignment stays (moving a
// routed appeal is the operator's call), and the history notes a changed
// topic. An edit of a message written before the bot started is a new
// appeal, classified and routed like one. -api-url points the bot at another
// Bot API server (a local one, or a test server).
//
// Without -rules the example region rules (examples/rules/region.yaml,
// embedded) route. A -rules file is watched: save a changed file and it is
// in force within -rules-every, or, if it is bad, the error is logged and
// the rules in force stay. -gazetteer lets the classifier find places, so
// rules that match municipalities apply.
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
	"sync"
	"time"
	_ "time/tzdata" // the rules name Europe/Moscow; hosts without a tz database still work

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/examples/internal/setup"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/telegram"
)

func main() {
	setup.Main("telegrambot", func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	}, os.Interrupt)
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
	rulesPath, rulesEvery := setup.RulesFlags(fs)
	gazetteerPath := setup.GazetteerFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	token := getenv("TELEGRAM_TOKEN")
	if token == "" {
		return errors.New("set TELEGRAM_TOKEN to the bot token from @BotFather")
	}
	logger := setup.Logger(stderr, slog.LevelInfo, *verbose)

	cfg := telegram.Config{
		Token:       token,
		BaseURL:     *apiURL,
		PollTimeout: *pollTimeout,
		Logger:      logger,
	}
	if *replyTo != "" {
		return reply(ctx, cfg, *replyTo, fs.Args(), stdout)
	}

	engine, err := setup.Classifier(*gazetteerPath)
	if err != nil {
		return err
	}
	classifier := appealkit.Classify(engine, appealkit.ClassifyOptions{})
	router, err := setup.Rules(*rulesPath)
	if err != nil {
		return err
	}
	store := appeal.NewMemoryStore()
	out := &printer{w: stdout, store: store, reveal: *reveal}
	// Edits reach the pipeline that is built below; they only arrive
	// while it runs.
	var p *appealkit.Pipeline
	edited := &edits{
		store:   store,
		apply:   source.StoreEdits(store, source.WithEditHook(reclassify(classifier))),
		unknown: func(ctx context.Context, a appeal.Appeal) error { return p.Sink("telegram-edits")(ctx, a) },
		out:     out,
	}
	cfg.Edits = edited.sink

	var src source.Source
	var serve func(ctx context.Context) error
	if *webhookAddr != "" {
		secret := getenv("TELEGRAM_WEBHOOK_SECRET")
		hook, err := telegram.NewWebhook(cfg, secret)
		if err != nil {
			return fmt.Errorf("TELEGRAM_WEBHOOK_SECRET: %w", err)
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

	p, err = appealkit.New(appealkit.Config{
		Store:      store,
		Classifier: classifier,
		Router:     appealkit.Route(router, appealkit.RouteOptions{}),
		Inputs:     []appealkit.Input{{Name: "telegram", Source: src}},
		Hooks:      appealkit.Hooks{Processed: out.processed},
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var watching sync.WaitGroup
	if *rulesPath != "" {
		watching.Go(func() { setup.WatchRules(ctx, router, *rulesPath, *rulesEvery, logger) })
	}
	serveErr := make(chan error, 1)
	if serve != nil {
		go func() { serveErr <- serve(ctx) }()
	}
	err = p.Run(ctx)
	cancel()
	watching.Wait()
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
		// Redacted masks history notes too: an edit's note quotes the
		// previous text.
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

// edits takes the bot's edited messages.
type edits struct {
	store appeal.Store
	// apply writes an edit of a stored appeal.
	apply source.EditSink
	// unknown takes the edited message of an appeal never stored.
	unknown source.Sink
	out     *printer
}

// sink is the bot's source.EditSink. An edit of a message the bot never saw
// (written before it started) is the first the bot learns of that appeal,
// so it goes through the pipeline like a new message: classified, routed,
// printed as an appeal.
func (e *edits) sink(ctx context.Context, ed source.Edit) error {
	_, err := e.store.Get(ctx, ed.Appeal.ID)
	if errors.Is(err, appeal.ErrNotFound) {
		return e.unknown(ctx, ed.Appeal)
	}
	if err != nil {
		return err
	}
	if err := e.apply(ctx, ed); err != nil {
		return err
	}
	e.out.print(line{Event: "edit", Appeal: e.out.show(ed.Appeal.ID)})
	return nil
}

// reclassify is the source.EditHook of the bot's edits: source.StoreEdits
// runs it inside the same Store.Update that stores the edited text, so
// topics, urgency and place never describe the old text. The assignment
// stays; when the best topic changed, a history event says so, for the
// operator to decide whether the appeal should move. An appeal StoreEdits
// has to create (Version 0: it vanished between the bot's lookup and its
// own) is just classified.
func reclassify(classifier appealkit.AppealClassifier) source.EditHook {
	return func(ctx context.Context, a *appeal.Appeal) error {
		before := a.TopTopic()
		if err := classifier.ClassifyAppeal(ctx, a); err != nil {
			return err
		}
		if a.Version == 0 {
			return nil
		}
		if after := a.TopTopic(); after != before {
			note := fmt.Sprintf("topic after the edit: %s (was %s)", after, before)
			if a.Assignment != nil {
				note += "; still assigned to " + a.Assignment.Executor + ", move it if the new topic is not theirs"
			}
			a.History = append(a.History, appeal.Event{At: time.Now(), Actor: "classifier", From: a.Status, To: a.Status, Note: note})
		}
		return nil
	}
}
