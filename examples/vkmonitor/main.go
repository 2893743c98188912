// Command vkmonitor watches VK communities, classifies and routes every
// new post, comment and reply, and prints each as one JSON line (an
// appeal.Appeal with its topics, status and assignment) on stdout.
//
//	VK_TOKEN=... go run ./examples/vkmonitor -communities 123,club456,mosreg!
//
// Routing uses the example rules of Курская область (examples/rules) unless
// -rules names another file; -raw prints appeals as VK gave them.
//
// A trailing "!" marks a community as official (a госпаблик); communities
// VK marks as verified are official without it. "id1234" watches an
// official's personal page like a community. Authors are
// pseudonymised and phone numbers masked unless -show-authors is given
// (personal data under 152-ФЗ); set APPEALKIT_PSEUDONYM_KEY to a secret to
// keep pseudonyms the same across runs. -api-url points it at any VK-compatible
// endpoint; -once runs a single cycle and exits (giving up after -timeout,
// default 1 minute, when VK cannot be reached); -checkpoints FILE keeps the
// position across restarts.
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
	"os"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // the rules name Europe/Moscow

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/examples/internal/setup"
	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/vk"
)

func main() {
	setup.Main("vkmonitor", func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	}, os.Interrupt, syscall.SIGTERM)
}

// run is the whole program, with its environment passed in so that tests
// can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vkmonitor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		communities = fs.String("communities", "", "comma-separated community ids or screen names, id1234 for an official's personal page; a trailing ! marks an official one (VK-verified communities are official anyway) (required)")
		apiURL      = fs.String("api-url", "", "VK API method URL (default https://api.vk.com/method/)")
		tokenKind   = fs.String("token", "user", "kind of VK_TOKEN: user (3 requests/s) or group (20 requests/s)")
		interval    = fs.Duration("interval", time.Minute, "pause between polling cycles")
		posts       = fs.Int("posts", 20, "recent posts read per community and cycle (1-100)")
		cpFile      = fs.String("checkpoints", "", "file to keep the position in across restarts (default: start over)")
		history     = fs.Bool("history", true, "on first sight of a community, print what is already on its wall")
		showAuthors = fs.Bool("show-authors", false, "print authors and phone numbers in clear (personal data!)")
		once        = fs.Bool("once", false, "run one polling cycle and exit")
		onceTimeout = fs.Duration("timeout", time.Minute, "with -once: give up if the cycle has not completed in this time (network down, VK unreachable)")
		verbose     = fs.Bool("v", false, "log requests' warnings and backoffs to stderr")
		rulesFile   = fs.String("rules", "", "routing rules YAML (default: the example rules of Курская область)")
		raw         = fs.Bool("raw", false, "print appeals as they come, without classification and routing")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The deployment's secret keys the authors' pseudonyms, so that they
	// stay the same from run to run; without it they hold within one run.
	redact := appeal.RedactOptions{Key: []byte(getenv("APPEALKIT_PSEUDONYM_KEY"))}
	token := getenv("VK_TOKEN")
	if token == "" {
		return errors.New("set VK_TOKEN to a VK access token (a user or service token reads public communities)")
	}
	list := vk.ParseCommunities(*communities)
	if len(list) == 0 {
		return errors.New("-communities is required, e.g. -communities 123,club456,mosreg")
	}
	kind := vk.UserToken
	switch *tokenKind {
	case "user", "service":
	case "group":
		kind = vk.GroupToken
	default:
		return fmt.Errorf("-token %q: want user or group", *tokenKind)
	}
	logger := setup.Logger(stderr, slog.LevelWarn, *verbose)

	var cp source.Checkpoints = source.NewMemoryCheckpoints()
	if *cpFile != "" {
		fcp, err := source.OpenFileCheckpoints(*cpFile)
		if err != nil {
			return err
		}
		cp = fcp
	}
	m, err := vk.NewMonitor(vk.MonitorConfig{
		API:               vk.API{Token: token, TokenKind: kind, URL: *apiURL, Logger: logger},
		Communities:       list,
		Checkpoints:       cp,
		PollInterval:      *interval,
		PostsPerCommunity: *posts,
		SkipHistory:       !*history,
	})
	if err != nil {
		return err
	}

	var router func(a *appeal.Appeal)
	if !*raw {
		router, err = newRouter(*rulesFile)
		if err != nil {
			return err
		}
	}

	var mu sync.Mutex
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	sink := func(ctx context.Context, a appeal.Appeal) error {
		if router != nil {
			router(&a)
		}
		if !*showAuthors {
			a = a.RedactedWith(redact)
		}
		mu.Lock()
		defer mu.Unlock()
		if err := enc.Encode(a); err != nil {
			return fmt.Errorf("writing appeal %s: %w", a.ID, err)
		}
		return nil
	}

	if *once {
		if *onceTimeout <= 0 {
			return fmt.Errorf("-timeout %v: want a positive duration", *onceTimeout)
		}
		// Temporary failures are retried with backoff, which with the
		// network down would be for ever: one cycle gets a deadline.
		cctx, cancel := context.WithTimeout(ctx, *onceTimeout)
		defer cancel()
		st, err := m.Poll(cctx, sink)
		logger.Info("cycle", "communities", st.Communities, "skipped", st.Skipped, "requests", st.Requests, "appeals", st.Delivered)
		if err != nil && ctx.Err() == nil && cctx.Err() != nil {
			endpoint := *apiURL
			if endpoint == "" {
				endpoint = "https://api.vk.com/method/"
			}
			return fmt.Errorf("-once: the polling cycle did not complete within %v: the VK API at %s cannot be reached or keeps failing (network down?): %w",
				*onceTimeout, endpoint, err)
		}
		if errors.Is(err, source.ErrAuth) {
			return fmt.Errorf("%w\n(check VK_TOKEN: it was refused)", err)
		}
		return err
	}
	err = m.Run(ctx, sink)
	if errors.Is(err, source.ErrAuth) {
		return fmt.Errorf("%w\n(check VK_TOKEN: it was refused)", err)
	}
	return err
}

// newRouter classifies with the shipped rubricator and routes with the rules
// in path (or the embedded example rules), as the pipeline would: the
// appeal comes out routed, with an executor and a deadline, or rejected as
// noise or by a rule.
func newRouter(path string) (func(a *appeal.Appeal), error) {
	cls, err := classify.New()
	if err != nil {
		return nil, err
	}
	var eng *route.Engine
	if path != "" {
		eng, err = route.ParseFile(path)
	} else {
		eng, err = route.Parse(bytes.NewReader(rules.Region), "region.yaml")
	}
	if err != nil {
		return nil, err
	}
	ctx := context.Background() // both only check it; neither blocks
	return func(a *appeal.Appeal) {
		now := time.Now()
		_ = cls.ClassifyAppeal(ctx, a)
		step, _ := eng.RouteAppeal(ctx, a, now)
		step.Actor, step.At = "vkmonitor", now
		if a.Status == "" {
			a.Status = appeal.StatusNew
		}
		_ = a.Apply(step) // new → routed/rejected is always allowed
	}, nil
}
