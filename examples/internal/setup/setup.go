// Package setup is what the example programs share: the command frame
// (Main: signals, the error line, the exit status), the common flags and
// logger, and the processing setup — the shipped classifier (finding places
// with a -gazetteer file) and the routing rules (a -rules file, reloadable,
// or the embedded example region rules). A deployment described in one
// file builds the same with appealkit.LoadDeployment.
package setup

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
)

// Main runs a command: run gets a context that ends at the first of
// signals, and an error it returns is printed on stderr after the
// command's name, exiting with status 1.
func Main(name string, run func(ctx context.Context) error, signals ...os.Signal) {
	ctx, stop := signal.NotifyContext(context.Background(), signals...)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Logger returns a text logger on w at level, or at Debug with verbose
// (the examples' -v).
func Logger(w io.Writer, level slog.Level, verbose bool) *slog.Logger {
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// RulesFlags registers -rules and -rules-every on fs, for a command that
// routes with Rules and keeps the file in force with WatchRules.
func RulesFlags(fs *flag.FlagSet) (path *string, every *time.Duration) {
	path = fs.String("rules", "", "routing rules file, reloaded when it changes (default: examples/rules/region.yaml, embedded)")
	every = fs.Duration("rules-every", 2*time.Second, "how often the -rules file is checked for changes")
	return path, every
}

// GazetteerFlag registers -gazetteer on fs: the file Classifier reads.
func GazetteerFlag(fs *flag.FlagSet) *string {
	return fs.String("gazetteer", "", "gazetteer file (YAML or JSON) for finding places in texts (default: none)")
}

// Classifier builds the shipped classifier, finding places when a
// gazetteer file is given. Errors name the -gazetteer flag.
func Classifier(gazetteerPath string) (*classify.Engine, error) {
	if gazetteerPath == "" {
		return classify.New()
	}
	f, err := os.Open(gazetteerPath)
	if err != nil {
		return nil, fmt.Errorf("-gazetteer: %w", err)
	}
	defer f.Close()
	g, err := classify.ParseGazetteer(f, gazetteerPath)
	if err != nil {
		return nil, fmt.Errorf("-gazetteer: %w", err)
	}
	return classify.New(classify.WithGazetteer(g))
}

// Rules loads the rules file at rulesPath, or the embedded example region
// rules when there is none. A Reloader rather than a bare Engine, so that
// WatchRules can swap in an edited file while appeals are being routed.
// Errors name the -rules flag.
func Rules(rulesPath string) (*route.Reloader, error) {
	if rulesPath != "" {
		r, err := route.OpenReloader(rulesPath)
		if err != nil {
			return nil, fmt.Errorf("-rules: %w", err)
		}
		return r, nil
	}
	e, err := route.Parse(bytes.NewReader(rules.Region), "examples/rules/region.yaml")
	if err != nil {
		return nil, err
	}
	return route.NewReloader(e), nil
}

// WatchRules reloads the rules file when it changes, until ctx ends. A bad
// file is logged and leaves the rules in force: a typo must not stop intake.
func WatchRules(ctx context.Context, r *route.Reloader, path string, every time.Duration, logger *slog.Logger) {
	_ = r.Watch(ctx, path, every, func(err error) {
		if err != nil {
			logger.Error("rules not reloaded; the rules in force stay", "file", path, "err", err)
			return
		}
		logger.Info("rules reloaded", "file", path, "name", r.Engine().Name())
	})
}
