// Command customsource shows how an integrator brings appeals from a
// network appealkit does not ship: portal.go is the whole adapter (some
// seventy lines of code: poll, hand each item to the sink, save the cursor
// after the sink accepted it, map failures to the source errors), and
// portal_test.go proves it with the sourcetest conformance suite — the
// same one the shipped adapters pass.
//
//	go run ./examples/customsource -url https://portal.example.ru/api/messages
//
// Each appeal is put through the appealkit pipeline — classified by the
// shipped rubricator (-gazetteer adds places), routed by the example region
// rules or a -rules file, stored — and printed as one JSON line with its
// topics, status and assignment (personal data redacted). A new source
// needs nothing else: classification and routing do not care where an
// appeal came from.
//
// With -deploy the whole deployment comes from one YAML file (see
// appealkit.LoadDeployment) and the portal is one more source kind beside
// the shipped ones, registered the way a plugin joins:
//
//	go run ./examples/customsource -deploy deploy.yaml
//
//	# deploy.yaml
//	store:  {driver: sqlite, dsn: appeals.db}
//	route:  {rules: rules.yaml}
//	sources:
//	  - {name: portal, kind: portal, url: "https://portal.example.ru/api/messages", every: 1m}
//	  - {name: kursk-vk, kind: vk, token_env: VK_TOKEN, communities: ["club123"]}
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"
	_ "time/tzdata" // the rules name Europe/Moscow; hosts without a tz database still work

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/examples/internal/setup"
	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/builtin"
)

func main() {
	setup.Main("customsource", func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}, os.Interrupt)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("customsource", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "the portal's message list endpoint")
	cpPath := fs.String("checkpoints", "customsource-checkpoints.json", "file keeping the cursor")
	every := fs.Duration("every", time.Minute, "pause between polls")
	rulesPath := fs.String("rules", "", "routing rules file (default: examples/rules/region.yaml, embedded)")
	gazetteerPath := setup.GazetteerFlag(fs)
	deployPath := fs.String("deploy", "", "deployment file (store, rules, sources of kind portal or the shipped kinds) instead of the other flags")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *deployPath != "" {
		return runDeployment(ctx, *deployPath, stdout, stderr)
	}
	if *url == "" {
		return errors.New("-url is required")
	}
	classifier, err := setup.Classifier(*gazetteerPath)
	if err != nil {
		return err
	}
	engine, err := newEngine(*rulesPath)
	if err != nil {
		return err
	}
	cp, err := source.OpenFileCheckpoints(*cpPath)
	if err != nil {
		return err
	}
	src := &portalSource{URL: *url, Client: &http.Client{Timeout: 30 * time.Second}, Checkpoints: cp, Every: *every}

	out := &printer{w: stdout, store: appeal.NewMemoryStore()}
	p, err := appealkit.New(appealkit.Config{
		Store:      out.store,
		Classifier: appealkit.Classify(classifier, appealkit.ClassifyOptions{}),
		Router:     appealkit.Route(engine, appealkit.RouteOptions{}),
		Inputs:     []appealkit.Input{{Name: "portal", Source: src}},
		Hooks:      appealkit.Hooks{Processed: out.processed},
	})
	if err != nil {
		return err
	}
	return p.Run(ctx)
}

// runDeployment runs the deployment the file describes, with the portal
// registered as a source kind beside the shipped ones.
func runDeployment(ctx context.Context, path string, stdout, stderr io.Writer) error {
	kinds := builtin.Registry()
	if err := kinds.Register("portal", buildPortal); err != nil {
		return err
	}
	out := &printer{w: stdout}
	d, err := appealkit.LoadDeployment(ctx, path, appealkit.DeployConfig{
		Sources: kinds,
		Logger:  setup.Logger(stderr, slog.LevelWarn, false),
		Hooks:   appealkit.Hooks{Processed: out.processed},
	})
	if err != nil {
		return err
	}
	defer d.Close()
	out.store = d.Store // set before Run: the hook runs only while it does
	return d.Pipeline.Run(ctx)
}

// portalSettings are a portal source's settings in a deployment file.
type portalSettings struct {
	URL   string        `yaml:"url"`
	Every time.Duration `yaml:"every"`
}

// buildPortal makes a portal source from its deployment settings; its
// errors point at the file's line.
func buildPortal(c appealkit.SourceConfig) (source.Source, error) {
	var s portalSettings
	if err := c.Decode(&s); err != nil {
		return nil, err
	}
	if s.URL == "" {
		return nil, c.Errorf("url", "required: the portal's message list endpoint")
	}
	if s.Every <= 0 {
		s.Every = time.Minute
	}
	return &portalSource{URL: s.URL, Client: &http.Client{Timeout: 30 * time.Second}, Checkpoints: c.Checkpoints, Every: s.Every}, nil
}

// printer prints each processed appeal as one JSON line, redacted.
type printer struct {
	w     io.Writer
	store appeal.Store
	mu    sync.Mutex
}

func (p *printer) processed(r appealkit.Result) {
	a, err := p.store.Get(context.Background(), r.ID)
	if err != nil {
		return
	}
	b, _ := json.Marshal(map[string]any{"outcome": r.Outcome, "appeal": a.Redacted()})
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s\n", b)
}

// newEngine loads the rules file at rulesPath, or the embedded example
// region rules when there is none.
func newEngine(rulesPath string) (*route.Engine, error) {
	if rulesPath != "" {
		e, err := route.ParseFile(rulesPath)
		if err != nil {
			return nil, fmt.Errorf("-rules: %w", err)
		}
		return e, nil
	}
	return route.Parse(bytes.NewReader(rules.Region), "examples/rules/region.yaml")
}
