// Command webhook runs the intake for a portal's own web form or any system
// that POSTs JSON appeals (one object or an array; see source/webhook), puts
// them through the appealkit pipeline — classify (shipped rubricator), route
// (rules), store — and prints each as one JSON line with its topics, status
// and assignment (personal data redacted unless -reveal).
//
//	WEBHOOK_SECRET=s3cret go run ./examples/webhook -addr :8080
//	WEBHOOK_SECRET=s3cret go run ./examples/webhook -rules region.yaml -gazetteer places.yaml
//
//	body='{"external_id":"form-1017","text":"Не вывозят мусор на ул. Ленина, 5"}'
//	sig=$(printf %s "$body" | openssl dgst -sha256 -hmac s3cret | cut -d' ' -f2)
//	curl -i -H 'Content-Type: application/json' -H "X-Signature-256: sha256=$sig" \
//	     -d "$body" http://localhost:8080/appeals
//
// Without WEBHOOK_SECRET requests are not signed; do that only on a closed
// network. GET /healthz answers 200 while the intake accepts appeals.
//
// Without -rules the example region rules (examples/rules/region.yaml,
// embedded) route. A -rules file is watched: save a changed file and it is
// in force within -rules-every, or, if it is bad, the error is logged and
// the rules in force stay. -gazetteer lets the classifier find places, so
// rules that match municipalities apply.
//
// -deploy FILE takes all of that from a deployment file instead (see
// appealkit.LoadDeployment), the form being a source of kind webhook:
//
//	store:  {driver: sqlite, dsn: appeals.db}
//	route:  {rules: rules.yaml}
//	sources:
//	  - {name: form, kind: webhook, secret_env: WEBHOOK_SECRET, community: portal}
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
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/builtin"
	"github.com/appealkit/appealkit/source/webhook"
)

func main() {
	setup.Main("webhook", func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	}, os.Interrupt)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", ":8080", "address to listen on")
	path := fs.String("path", "/appeals", "path the intake is served at")
	maxBody := fs.Int64("max-body", webhook.DefaultMaxBodyBytes, "largest request body in bytes")
	community := fs.String("community", "portal", "community id set on appeals that name none")
	reveal := fs.Bool("reveal", false, "print authors and texts in clear (personal data: off by default)")
	rulesPath, rulesEvery := setup.RulesFlags(fs)
	gazetteerPath := setup.GazetteerFlag(fs)
	deployPath := fs.String("deploy", "", "deployment file (store, rules, gazetteer, one source of kind webhook with secret_env) instead of -rules, -gazetteer, -community, -max-body and WEBHOOK_SECRET")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := setup.Logger(stderr, slog.LevelInfo, false)
	out := &printer{w: stdout, reveal: *reveal}

	var (
		p      *appealkit.Pipeline
		intake *webhook.Source
		router *route.Reloader
	)
	if *deployPath != "" {
		d, err := loadDeployment(ctx, *deployPath, getenv, logger, out)
		if err != nil {
			return err
		}
		defer d.Close()
		p, intake, router = d.Pipeline, d.intake, d.Rules
		*rulesPath = d.rulesPath
	} else {
		secret := getenv("WEBHOOK_SECRET")
		if secret == "" {
			logger.Warn("WEBHOOK_SECRET is not set: requests are accepted unsigned")
		}
		classifier, err := setup.Classifier(*gazetteerPath)
		if err != nil {
			return err
		}
		if router, err = setup.Rules(*rulesPath); err != nil {
			return err
		}
		out.store = appeal.NewMemoryStore()
		cfg := webhook.Config{
			Community:    appeal.Community{ID: *community},
			MaxBodyBytes: *maxBody,
			Logger:       logger,
		}
		if secret != "" {
			cfg.Secret = []byte(secret)
		}
		if intake, err = webhook.New(cfg); err != nil {
			return err
		}
		p, err = appealkit.New(appealkit.Config{
			Store:      out.store,
			Classifier: appealkit.Classify(classifier, appealkit.ClassifyOptions{}),
			Router:     appealkit.Route(router, appealkit.RouteOptions{}),
			Inputs:     []appealkit.Input{{Name: "webhook", Source: intake}},
			Hooks:      appealkit.Hooks{Processed: out.processed},
		})
		if err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+*path, intake)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
	fmt.Fprintf(stderr, "listening on http://%s%s\n", ln.Addr(), *path)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var watching sync.WaitGroup
	if *rulesPath != "" && router != nil {
		watching.Go(func() { setup.WatchRules(ctx, router, *rulesPath, *rulesEvery, logger) })
	}
	serveErr := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		serveErr <- err
		cancel() // a dead listener ends the pipeline too
	}()
	runErr := p.Run(ctx)
	// Stop taking requests, let those in flight finish.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer scancel()
	_ = srv.Shutdown(sctx)
	cancel()
	watching.Wait()
	if err := <-serveErr; err != nil {
		return err
	}
	return runErr
}

// deployment is a loaded deployment file with the webhook it serves.
type deployment struct {
	*appealkit.Deployment
	intake    *webhook.Source
	rulesPath string
}

// webhookSettings are a webhook source's settings in a deployment file.
type webhookSettings struct {
	SecretEnv string `yaml:"secret_env"`
	Community string `yaml:"community"`
	MaxBody   int64  `yaml:"max_body"`
}

// loadDeployment builds the pipeline a deployment file describes, with the
// web-form intake registered as the source kind "webhook": the file names
// its secret's environment variable, and exactly one such source is served.
func loadDeployment(ctx context.Context, path string, getenv func(string) string, logger *slog.Logger, out *printer) (*deployment, error) {
	d := &deployment{}
	kinds := builtin.Registry()
	err := kinds.Register("webhook", func(c appealkit.SourceConfig) (source.Source, error) {
		var s webhookSettings
		if err := c.Decode(&s); err != nil {
			return nil, err
		}
		if d.intake != nil {
			return nil, c.Errorf("kind", "a second webhook source: this program serves one")
		}
		secret, err := c.Env("secret_env") // an unsigned intake must be chosen in code, not by a missing variable
		if err != nil {
			return nil, err
		}
		community := s.Community
		if community == "" {
			community = "portal"
		}
		h, err := webhook.New(webhook.Config{Secret: []byte(secret), Community: appeal.Community{ID: community}, MaxBodyBytes: s.MaxBody, Logger: c.Logger})
		if err != nil {
			return nil, err
		}
		d.intake = h
		return h, nil
	})
	if err != nil {
		return nil, err
	}
	dep, err := appealkit.LoadDeployment(ctx, path, appealkit.DeployConfig{Sources: kinds, Getenv: getenv, Logger: logger,
		Hooks: appealkit.Hooks{Processed: out.processed}})
	if err != nil {
		return nil, err
	}
	if d.intake == nil {
		_ = dep.Close()
		return nil, fmt.Errorf("%s: no source of kind webhook: this program serves one", path)
	}
	d.Deployment = dep
	out.store = dep.Store // before Run: the hook runs only while it does
	d.rulesPath = dep.RulesPath
	return d, nil
}

// printer writes one JSON line per processed appeal.
type printer struct {
	mu     sync.Mutex
	w      io.Writer
	store  appeal.Store
	reveal bool
}

func (p *printer) processed(r appealkit.Result) {
	l := struct {
		Outcome string         `json:"outcome"`
		Error   string         `json:"error,omitempty"`
		Appeal  *appeal.Appeal `json:"appeal,omitempty"`
	}{Outcome: string(r.Outcome)}
	if r.Err != nil {
		l.Error = r.Err.Error()
	}
	if a, err := p.store.Get(context.Background(), r.ID); err == nil {
		if !p.reveal {
			a = a.Redacted()
		}
		l.Appeal = &a
	}
	b, _ := json.Marshal(l)
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s\n", b)
}
