// Command customsource shows how an integrator brings appeals from a
// network appealkit does not ship: portal.go is the whole adapter (some
// seventy lines of code: poll, hand each item to the sink, save the cursor
// after the sink accepted it, map failures to the source errors), and
// portal_test.go proves it with the sourcetest conformance suite — the
// same one the shipped adapters pass.
//
//	go run ./examples/customsource -url https://portal.example.ru/api/messages
//
// Each appeal is put through the appealkit pipeline into a store and
// printed as one JSON line (personal data redacted).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "customsource:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("customsource", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "the portal's message list endpoint")
	cpPath := fs.String("checkpoints", "customsource-checkpoints.json", "file keeping the cursor")
	every := fs.Duration("every", time.Minute, "pause between polls")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		return errors.New("-url is required")
	}
	cp, err := source.OpenFileCheckpoints(*cpPath)
	if err != nil {
		return err
	}
	src := &portalSource{URL: *url, Client: &http.Client{Timeout: 30 * time.Second}, Checkpoints: cp, Every: *every}

	store := appeal.NewMemoryStore()
	var mu sync.Mutex
	p, err := appealkit.New(appealkit.Config{
		Store:  store,
		Inputs: []appealkit.Input{{Name: "portal", Source: src}},
		Hooks: appealkit.Hooks{Processed: func(r appealkit.Result) {
			a, err := store.Get(context.Background(), r.ID)
			if err != nil {
				return
			}
			b, _ := json.Marshal(map[string]any{"outcome": r.Outcome, "appeal": a.Redacted()})
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(stdout, "%s\n", b)
		}},
	})
	if err != nil {
		return err
	}
	return p.Run(ctx)
}
