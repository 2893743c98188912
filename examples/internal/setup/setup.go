// Package setup is the processing setup the examples share: the shipped
// classifier (finding places with a -gazetteer file) and the routing rules
// (a -rules file, reloadable, or the embedded example region rules). A
// deployment described in one file builds the same with
// appealkit.LoadDeployment.
package setup

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
)

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
