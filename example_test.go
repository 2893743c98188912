package appealkit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
	"github.com/appealkit/appealkit/appeal/stats"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/source/replay"
)

// The whole flow in one place: a source (here a replayed file) feeds the
// pipeline, which classifies with the shipped rubricator, routes with a
// rules file and keeps the appeals in a store; an operator answers one
// through the answer workflow; the week's report counts them.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "appealkit-flow")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	// 1. Source: two messages, as a VK adapter would deliver them.
	path := filepath.Join(dir, "appeals.jsonl")
	f, err := os.Create(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	w := replay.NewWriter(f)
	_ = w.Write(appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_10", Municipality: "Курский район",
		Text: "На улице Садовой огромная яма на дороге, вчера пробил колесо"})
	_ = w.Write(appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_11", Text: "Всех с праздником!"})
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		fmt.Println(err)
		return
	}
	src, err := replay.New(replay.Config{Path: path, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}

	// 2–4. Classify, route, store.
	classifier, err := classify.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	engine, err := route.Parse(bytes.NewReader(rules.Region), "region.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	store := appeal.NewMemoryStore()
	p, err := appealkit.New(appealkit.Config{
		Store:      store,
		Classifier: appealkit.Classify(classifier, appealkit.ClassifyOptions{}),
		Router:     appealkit.Route(engine, appealkit.RouteOptions{}),
		Inputs:     []appealkit.Input{{Name: "vk", Source: src}},
		Now:        func() time.Time { return now },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Run(ctx); err != nil { // returns at the file's end
		fmt.Println(err)
		return
	}
	a, err := store.Get(ctx, appeal.NewID(appeal.NetworkVK, "-1_10"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Status, a.TopTopic(), a.Executor(), a.Deadline().In(engine.DefaultCalendar().Location()).Format("02.01 15:04"))

	// 5. Answer: a template drafts it, the quality gate checks it.
	tmpl, err := answer.ParseTemplates(strings.NewReader(`templates:
  - topic: roads
    kind: interim
    promise_days: 5
    text: "Здравствуйте! Обращение принято. Исполнитель — {{.Executor}}. Срок решения — до {{date .Promised}}."
`), "answers.yaml", engine.DefaultCalendar())
	if err != nil {
		fmt.Println(err)
		return
	}
	wf, err := answer.New(answer.Config{Store: store, Templates: tmpl, Rules: engine, Now: func() time.Time { return now }})
	if err != nil {
		fmt.Println(err)
		return
	}
	a, d, err := wf.Draft(ctx, a.ID, appeal.AnswerInterim, "operator", a.Version)
	if err != nil {
		fmt.Println(err)
		return
	}
	if a, err = wf.Submit(ctx, a.ID, d.ID, "operator", a.Version); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Text)

	// 6. Report.
	all, err := store.List(ctx, appeal.Filter{})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := stats.FromSlice(all, stats.Config{Now: now})
	fmt.Println(r.Total, "appeals,", r.Statuses[appeal.StatusRejected], "rejected as not an appeal")
	// Output:
	// routed roads kursky-admin 24.11 12:00
	// Здравствуйте! Обращение принято. Исполнитель — Администрация Курского района. Срок решения — до 30 ноября.
	// 2 appeals, 1 rejected as not an appeal
}

// Escalate runs from a ticker: every step that has come due is applied once
// and returned, for notifying whoever was brought in.
func ExampleEscalate() {
	ctx := context.Background()
	engine, _ := route.Parse(bytes.NewReader(rules.Region), "region.yaml")
	store := appeal.NewMemoryStore()
	msk := time.FixedZone("MSK", 3*3600)
	monday := time.Date(2026, 11, 23, 12, 0, 0, 0, msk)
	a := appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-46_7", Text: "яма", CreatedAt: monday,
		Municipality: "Курский район", Topics: []appeal.TopicScore{{Code: "roads", Score: 0.9}}}
	_, _ = store.Put(ctx, a)
	change := engine.Route(&a, monday).Change("pipeline", monday)
	change.ExpectedVersion = 1
	_, _ = store.Transition(ctx, "vk:-46_7", change)

	for _, day := range []int{24, 25} { // Tuesday and Wednesday at 17:00
		steps, _ := appealkit.Escalate(ctx, store, engine, time.Date(2026, 11, day, 17, 0, 0, 0, msk))
		for _, s := range steps {
			fmt.Printf("step %d: %s → %s (reassign %v)\n", s.Step, s.From, s.To, s.Reassign)
		}
	}
	// Output:
	// step 1: kursky-admin → region-admin (reassign false)
	// step 2: kursky-admin → cur-head (reassign true)
}
