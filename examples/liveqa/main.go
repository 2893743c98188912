// Command liveqa gathers the questions of a «прямая линия» (live Q&A): given
// the VK post that announced it, it reads every comment and reply under the
// post, merges near-duplicate questions (appeal/incident grouping), counts
// "+1" replies as votes, and prints the questions ranked by how many people
// asked them (each person once) and how much they were liked. Each question is classified with
// the shipped rubricator first, so that questions about different problems
// at one address are not merged (-no-classify turns it off).
//
//	VK_TOKEN=... go run ./examples/liveqa -post wall-123_456
//
// -api-url points it at any VK-compatible endpoint; -top limits the list;
// -json prints the result as JSON (authors pseudonymised, phone numbers
// masked, unless -show-authors). Personal data (152-ФЗ) is never printed in
// clear by default.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"syscall"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/examples/internal/setup"
	"github.com/appealkit/appealkit/source/vk"
)

func main() {
	setup.Main("liveqa", func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	}, os.Interrupt, syscall.SIGTERM)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("liveqa", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		post        = fs.String("post", "", "the announcement post: wall-123_456, -123_456 or its address (required)")
		apiURL      = fs.String("api-url", "", "VK API method URL (default https://api.vk.com/method/)")
		top         = fs.Int("top", 0, "print only the N most asked questions (0: all)")
		asJSON      = fs.Bool("json", false, "print JSON instead of a list")
		showAuthors = fs.Bool("show-authors", false, "print authors and phone numbers in clear (personal data!)")
		keepOwner   = fs.Bool("keep-owner", false, "count the page owner's own comments as questions")
		noClassify  = fs.Bool("no-classify", false, "group by text and place only, without topics")
		verbose     = fs.Bool("v", false, "log warnings and retries to stderr")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *post == "" {
		return errors.New("-post is required, e.g. -post wall-123_456")
	}
	token := getenv("VK_TOKEN")
	if token == "" {
		return errors.New("set VK_TOKEN to a VK access token (a user or service token reads public walls)")
	}
	cfg := vk.LiveQAConfig{
		API:       vk.API{Token: token, URL: *apiURL, Logger: setup.Logger(stderr, slog.LevelError, *verbose)},
		Post:      *post,
		KeepOwner: *keepOwner,
	}
	if !*noClassify {
		cls, err := classify.New()
		if err != nil {
			return err
		}
		cfg.Prepare = func(a *appeal.Appeal) { classify.ClassifyAppeal(cls, a) }
	}
	res, err := vk.CollectLiveQA(ctx, cfg)
	if err != nil {
		return err
	}
	qs := res.Questions
	if *top > 0 && *top < len(qs) {
		qs = qs[:*top]
	}
	for i := range qs {
		if !*showAuthors {
			qs[i].Text = appeal.RedactText(qs[i].Text)
			for j := range qs[i].Appeals {
				qs[i].Appeals[j] = qs[i].Appeals[j].Redacted()
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		out := *res
		out.Questions = qs
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "Прямая линия %s: прочитано комментариев и ответов %d, поддержек «+1» %d, разных вопросов %d.\n\n",
		res.Post, res.Comments, res.Endorsements, len(res.Questions))
	for i, q := range qs {
		fmt.Fprintf(stdout, "%d. %s\n   спросили: %d, комментариев: %d, лайков: %d, впервые: %s",
			i+1, q.Text, q.Asked, q.Comments, q.Likes, q.First.Format("02.01.2006 15:04"))
		if q.Topic != "" {
			fmt.Fprintf(stdout, ", тема: %s", q.Topic)
		}
		fmt.Fprintln(stdout)
		for _, a := range q.Appeals {
			fmt.Fprintf(stdout, "   — %s\n", a.URL)
		}
	}
	return nil
}
