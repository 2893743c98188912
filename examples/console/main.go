// Command console is an operator's web console for a regional management
// centre (ЦУР), built on appealkit: the queue of appeals by deadline, the
// appeal card with «почему сюда», reassigning, rejecting and merging into
// incidents, answering through approval to publication, and the weekly
// report with the executors' ratings — behind sign-in with roles.
//
//	go run ./examples/console                     # the bundled sample in a temp SQLite, http://127.0.0.1:8080
//	go run ./examples/console -db appeals.db      # keep the database; the sample is loaded on first start only
//	VK_TOKEN=… go run ./examples/console -vk-communities 123,club456   # live VK monitoring as well
//	WEBHOOK_SECRET=… go run ./examples/console   # a web form's appeals at POST /intake (source/webhook)
//
// Demo users are printed at start with their passwords (-users FILE for
// your own: login:role:executor:password-or-bcrypt-hash:Name). Answers are
// published to a stand-in VK server the console starts on 127.0.0.1, so the
// whole loop runs without touching a real network.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the rules name Europe/Moscow; hosts without a tz database still work

	_ "modernc.org/sqlite"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
	"github.com/appealkit/appealkit/appeal/answer/answertest"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/examples/console/web"
	"github.com/appealkit/appealkit/examples/internal/setup"
	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/replay"
	"github.com/appealkit/appealkit/source/vk"
	"github.com/appealkit/appealkit/source/webhook"
)

func main() {
	setup.Main("console", func(ctx context.Context) error { return run(ctx, os.Args[1:], os.Stdout) }, os.Interrupt)
}

type options struct {
	addr, db, sample, rules, gazetteer, users, demoPassword string
	tlsCert, tlsKey                                         string
	secureCookies, asWritten                                bool
	vkCommunities, vkAPI, webhookSecret                     string
	answers, approve                                        string
	publishEvery, refreshEvery                              time.Duration
	bcryptCost                                              int
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to serve the console on")
	fs.StringVar(&o.db, "db", "", "SQLite database file (default: a temp file removed at exit)")
	fs.StringVar(&o.sample, "sample", "", "JSONL file of appeals to load on first start (default: examples/quickstart/sample.jsonl)")
	fs.StringVar(&o.rules, "rules", "", "routing rules file (default: examples/rules/region.yaml, embedded)")
	fs.StringVar(&o.gazetteer, "gazetteer", "", "gazetteer for places and municipalities (default: examples/quickstart/gazetteer.yaml)")
	fs.StringVar(&o.users, "users", "", "users file, one login:role:executor:password:Name a line (default: demo users with random passwords, printed)")
	fs.StringVar(&o.demoPassword, "demo-password", "", "one password for every demo user instead of random ones")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM) and -tls-key")
	fs.StringVar(&o.tlsKey, "tls-key", "", "private key (PEM) for -tls-cert")
	fs.BoolVar(&o.secureCookies, "secure-cookies", false, "mark cookies Secure on plain HTTP too (behind a TLS proxy)")
	fs.BoolVar(&o.asWritten, "as-written", true, "squeeze the bundled sample's dates into the last 36 hours and route each appeal as of when it was written, so the queue has both overdue appeals and appeals with time left")
	fs.StringVar(&o.vkCommunities, "vk-communities", "", "VK communities to watch live (needs VK_TOKEN), e.g. 123,club456,kursk_gov!")
	fs.StringVar(&o.vkAPI, "vk-api-url", "", "VK API method URL for -vk-communities (default VK's)")
	fs.StringVar(&o.webhookSecret, "webhook-secret", os.Getenv("WEBHOOK_SECRET"), "accept a web form's appeals at POST /intake, signed with this HMAC secret (default $WEBHOOK_SECRET; empty: no intake)")
	fs.StringVar(&o.answers, "answers", "", "answer templates file (default: examples/console/answers.yaml, embedded)")
	fs.StringVar(&o.approve, "approve", "all", "which answers a ЦУР moderator approves: all, final or none")
	fs.DurationVar(&o.publishEvery, "publish-every", 5*time.Second, "how often the background publisher drains the outbox")
	fs.DurationVar(&o.refreshEvery, "refresh-every", 15*time.Second, "how often the queue's counts refresh in the browser")
	fs.IntVar(&o.bcryptCost, "bcrypt-cost", 0, "bcrypt cost of demo passwords (default bcrypt's)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return o, errors.New("-tls-cert and -tls-key go together")
	}
	return o, nil
}

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	c, err := start(ctx, o, out)
	if err != nil {
		return err
	}
	defer c.Close()

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: c.Handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(out, "\nКонсоль: %s://%s/ (Ctrl+C — остановить)\n", scheme, ln.Addr())
	errc := make(chan error, 1)
	go func() {
		if o.tlsCert != "" {
			errc <- srv.ServeTLS(ln, o.tlsCert, o.tlsKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

// console is everything the example runs, so that tests can drive it.
type console struct {
	Handler http.Handler
	Store   *sqlstore.Store
	Engine  *route.Engine
	Users   *web.Users
	// Passwords of the demo users, by login (empty with -users).
	Passwords map[string]string
	// StandIn is the stand-in VK network answers are published to.
	StandIn *answertest.VK
	// Intake feeds the live pipeline (a push source: a webhook, the
	// citizen's next message in a test).
	Intake func(ctx context.Context, a appeal.Appeal) error

	stored  chan appeal.ID  // IDs the live pipeline stored, for the reaction watcher
	intake  *webhook.Source // the web form's intake, when -webhook-secret is set
	closers []func()
}

// Close stops the live pipeline and the stand-in network and closes the
// database.
func (c *console) Close() {
	for i := len(c.closers) - 1; i >= 0; i-- {
		c.closers[i]()
	}
}

func start(ctx context.Context, o options, out io.Writer) (_ *console, err error) {
	c := &console{}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	classifier, err := newClassifier(o.gazetteer)
	if err != nil {
		return nil, err
	}
	if o.rules != "" {
		c.Engine, err = route.ParseFile(o.rules)
	} else {
		c.Engine, err = route.Parse(bytes.NewReader(rules.Region), "examples/rules/region.yaml")
	}
	if err != nil {
		return nil, err
	}

	dbPath := o.db
	if dbPath == "" {
		tmp, err := os.MkdirTemp("", "appealkit-console-")
		if err != nil {
			return nil, err
		}
		c.closers = append(c.closers, func() { os.RemoveAll(tmp) })
		dbPath = filepath.Join(tmp, "appeals.db")
	}
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(dbPath))
	if err != nil {
		return nil, err
	}
	c.closers = append(c.closers, func() { db.Close() })
	if c.Store, err = sqlstore.Open(ctx, db); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dbPath, err)
	}

	if err := c.loadSample(ctx, o, classifier, logger, out); err != nil {
		return nil, err
	}
	c.StandIn = answertest.NewVK()
	c.closers = append(c.closers, c.StandIn.Close)
	answers, err := newAnswers(ctx, c, o, logger, out)
	if err != nil {
		return nil, err
	}
	var wf *answer.Workflow
	if answers != nil {
		wf = answers.Workflow
	}
	if err := c.startLive(ctx, o, classifier, wf, logger); err != nil {
		return nil, err
	}
	if c.Users, c.Passwords, err = loadUsers(o); err != nil {
		return nil, err
	}
	srv, err := web.New(web.Config{Store: c.Store, Engine: c.Engine, Users: c.Users, SecureCookies: o.secureCookies,
		Logger: logger, Answers: answers, RefreshEvery: o.refreshEvery})
	if err != nil {
		return nil, err
	}
	c.Handler = srv
	if c.intake != nil {
		mux := http.NewServeMux()
		mux.Handle("POST /intake", c.intake)
		mux.Handle("/", srv)
		c.Handler = mux
	}
	printUsers(out, c.Users, c.Passwords, c.Engine)
	return c, nil
}

// newClassifier is the shipped rubricator with a gazetteer, which ties
// places to municipalities.
func newClassifier(path string) (*classify.Engine, error) {
	if path == "" {
		p, err := bundled("gazetteer.yaml")
		if err != nil {
			return nil, err
		}
		path = p
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-gazetteer: %w", err)
	}
	defer f.Close()
	g, err := classify.ParseGazetteer(f, path)
	if err != nil {
		return nil, err
	}
	return classify.New(classify.WithGazetteer(g))
}

// loadSample runs the sample through the pipeline once. The store keeps the
// replay's checkpoint, so a second start on the same -db loads nothing.
func (c *console) loadSample(ctx context.Context, o options, classifier *classify.Engine, logger *slog.Logger, out io.Writer) error {
	path := o.sample
	shown := path
	if path == "" {
		p, err := bundled("sample.jsonl")
		if err != nil {
			return err
		}
		path, shown = p, p
		if o.asWritten {
			shown += ", даты сдвинуты к последним 36 часам"
			shifted, cleanup, err := shiftSample(p, time.Now())
			if err != nil {
				return err
			}
			defer cleanup()
			path = shifted
		}
	}
	src, err := replay.New(replay.Config{Path: path, Checkpoints: c.Store, Key: "console:sample", Logger: logger})
	if err != nil {
		return err
	}
	var router appealkit.AppealRouter = appealkit.Route(c.Engine, appealkit.RouteOptions{})
	if o.asWritten {
		router = asWritten{router}
	}
	p, err := appealkit.New(appealkit.Config{Store: c.Store, Classifier: appealkit.Classify(classifier, appealkit.ClassifyOptions{}),
		Router: router, Inputs: []appealkit.Input{{Name: "sample", Source: src}}})
	if err != nil {
		return err
	}
	if err := p.Run(ctx); err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	n, err := appeal.Count(ctx, c.Store, appeal.Filter{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "В базе %d обращений (%s).\n", n, shown)
	return nil
}

// asWritten routes each appeal as of when it was written, as a console that
// had been running then would have: deadlines count from the appeal, not
// from the moment a backfill happens to run.
type asWritten struct{ appealkit.AppealRouter }

func (r asWritten) RouteAppeal(ctx context.Context, a *appeal.Appeal, now time.Time) (appeal.Change, error) {
	if !a.CreatedAt.IsZero() && a.CreatedAt.Before(now) {
		now = a.CreatedAt
	}
	return r.AppealRouter.RouteAppeal(ctx, a, now)
}

// bundled finds a file of examples/quickstart (the sample, the gazetteer)
// from the working directory (go run from the repository) or from this
// source file's place.
func bundled(name string) (string, error) {
	rel := "examples/quickstart/" + name
	cands := []string{rel}
	if _, file, _, ok := runtime.Caller(0); ok {
		cands = append(cands, filepath.Join(filepath.Dir(file), "..", "quickstart", name))
	}
	for _, p := range cands {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("the bundled %s is not found: run from the repository or give its flag", rel)
}

// demoSpan is how far back the shifted sample reaches.
const demoSpan = 36 * time.Hour

// shiftSample writes a copy of the sample whose created_at times are moved
// so that the last appeal was written an hour ago and the first demoSpan
// before it.
func shiftSample(path string, now time.Time) (string, func(), error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	objs := make([]map[string]any, 0, len(lines))
	var first, last time.Time
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			return "", nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		if s, ok := m["created_at"].(string); ok {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return "", nil, fmt.Errorf("%s:%d: created_at: %w", path, i+1, err)
			}
			if t.After(last) {
				last = t
			}
			if first.IsZero() || t.Before(first) {
				first = t
			}
		}
		objs = append(objs, m)
	}
	// Squeeze the sample into the last demoSpan, keeping its order, so
	// that about half of it is overdue: a queue as a centre sees it.
	scale := 1.0
	if span := last.Sub(first); span > demoSpan {
		scale = float64(demoSpan) / float64(span)
	}
	end := now.Add(-time.Hour).Truncate(time.Minute)
	var buf bytes.Buffer
	for _, m := range objs {
		if s, ok := m["created_at"].(string); ok {
			t, _ := time.Parse(time.RFC3339, s)
			back := time.Duration(float64(last.Sub(t)) * scale).Truncate(time.Minute)
			m["created_at"] = end.Add(-back).UTC().Format(time.RFC3339)
		}
		b, err := json.Marshal(m)
		if err != nil {
			return "", nil, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	f, err := os.CreateTemp("", "console-sample-*.jsonl")
	if err != nil {
		return "", nil, err
	}
	name := f.Name()
	cleanup := func() { os.Remove(name) }
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		cleanup()
		return "", nil, err
	}
	if err := f.Close(); err != nil {
		cleanup()
		return "", nil, err
	}
	return name, cleanup, nil
}

// startLive runs a second pipeline for as long as the console runs: VK
// monitoring and the web form's intake when asked, and Intake for pushed
// messages. With the answer loop on, every live message passes the
// workflow's ReactionSink first, so the citizen's next message after an
// answer is recorded as a reaction on the answered appeal.
func (c *console) startLive(ctx context.Context, o options, classifier *classify.Engine, wf *answer.Workflow, logger *slog.Logger) error {
	react := func(src source.Source) source.Source { return src }
	if wf != nil {
		react = func(src source.Source) source.Source { return reacting{src, wf, logger} }
	}
	var inputs []appealkit.Input
	if o.vkCommunities != "" {
		token := os.Getenv("VK_TOKEN")
		if token == "" {
			return errors.New("-vk-communities needs VK_TOKEN in the environment")
		}
		m, err := vk.NewMonitor(vk.MonitorConfig{API: vk.API{Token: token, URL: o.vkAPI, Logger: logger},
			Communities: vk.ParseCommunities(o.vkCommunities), Checkpoints: c.Store, SkipHistory: true, SkipCommunityPosts: true})
		if err != nil {
			return err
		}
		inputs = append(inputs, appealkit.Input{Name: "vk", Source: react(m)})
	}
	if o.webhookSecret != "" {
		src, err := webhook.New(webhook.Config{Secret: []byte(o.webhookSecret), Logger: logger,
			Community: appeal.Community{ID: "portal", Name: "Портал обращений"}})
		if err != nil {
			return err
		}
		c.intake = src
		inputs = append(inputs, appealkit.Input{Name: "webhook", Source: react(src)})
	}
	p, err := appealkit.New(appealkit.Config{Store: c.Store, Classifier: appealkit.Classify(classifier, appealkit.ClassifyOptions{}),
		Router: appealkit.Route(c.Engine, appealkit.RouteOptions{}), Inputs: inputs})
	if err != nil {
		return err
	}
	live, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := p.Run(live); err != nil {
			logger.Error("console: live pipeline", "err", err)
		}
	}()
	c.closers = append(c.closers, func() { cancel(); wg.Wait() })
	c.Intake = p.Sink("intake")
	if wf != nil {
		c.Intake = wf.ReactionSink(c.Intake, reactionFailed(logger))
	}
	return nil
}

// reacting runs a source with its sink wrapped in the answer loop's
// ReactionSink.
type reacting struct {
	source.Source
	wf     *answer.Workflow
	logger *slog.Logger
}

func (r reacting) Run(ctx context.Context, sink source.Sink) error {
	return r.Source.Run(ctx, r.wf.ReactionSink(sink, reactionFailed(r.logger)))
}

// reactionFailed logs a reaction that could not be recorded (the message
// itself still goes on into the pipeline), without its text or author.
func reactionFailed(logger *slog.Logger) func(appeal.Appeal, error) {
	return func(a appeal.Appeal, err error) {
		logger.Warn("console: the citizen's reaction was not recorded", "id", a.ID, "err", err)
	}
}

// demoUsers are the people of the demo: the centre's moderator, an analyst,
// and operators of three executors of the example rules.
var demoUsers = []web.User{
	{Login: "moderator", Name: "Модератор ЦУР", Role: web.RoleModerator},
	{Login: "analyst", Name: "Аналитик ЦУР", Role: web.RoleAnalyst},
	{Login: "kursky", Name: "Оператор Курского района", Role: web.RoleOperator, Executor: "kursky-admin"},
	{Login: "lgovsky", Name: "Оператор Льговского района", Role: web.RoleOperator, Executor: "lgovsky-admin"},
	{Login: "housing", Name: "Оператор комитета ЖКХ", Role: web.RoleOperator, Executor: "housing-committee"},
}

func loadUsers(o options) (*web.Users, map[string]string, error) {
	if o.users != "" {
		f, err := os.Open(o.users)
		if err != nil {
			return nil, nil, fmt.Errorf("-users: %w", err)
		}
		defer f.Close()
		us, err := web.ParseUsers(f, o.users, o.bcryptCost)
		return us, nil, err
	}
	us := web.NewUsers()
	pw := map[string]string{}
	for _, u := range demoUsers {
		p := o.demoPassword
		if p == "" {
			p = randomPassword()
		}
		if err := us.Add(u, p, o.bcryptCost); err != nil {
			return nil, nil, err
		}
		pw[u.Login] = p
	}
	return us, pw, nil
}

// randomPassword is 12 letters and digits without look-alikes.
func randomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 12)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err) // crypto/rand does not fail on supported systems
		}
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}

func printUsers(out io.Writer, us *web.Users, pw map[string]string, e *route.Engine) {
	fmt.Fprintln(out, "Пользователи:")
	for _, u := range us.List() {
		line := fmt.Sprintf("  %-10s %-22s", u.Login, u.Role.Label())
		if p, ok := pw[u.Login]; ok {
			line += " пароль " + p
		}
		if u.Executor != "" {
			name := u.Executor
			if ex, ok := e.Executor(u.Executor); ok {
				name = ex.Name
			}
			line += " — " + name
		}
		fmt.Fprintln(out, strings.TrimRight(line, " "))
	}
}
