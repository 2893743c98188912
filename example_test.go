package appealkit_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
)

// The whole flow in one place: classify with the shipped rubricator, route
// with a rules file, keep in a store. A push source (a webhook, a callback
// handler) feeds the running pipeline through Sink.
func Example() {
	classifier, _ := classify.New()
	engine, _ := route.Parse(bytes.NewReader(rules.Region), "region.yaml")
	store := appeal.NewMemoryStore()
	p, _ := appealkit.New(appealkit.Config{
		Store:      store,
		Classifier: appealkit.Classify(classifier, appealkit.ClassifyOptions{}),
		Router:     appealkit.Route(engine, appealkit.RouteOptions{}),
		Now:        func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) },
	})

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()

	sink := p.Sink("web-form")
	a := appeal.Appeal{
		Network: appeal.NetworkWeb, Kind: appeal.KindMessage, ExternalID: "form-1",
		Text:         "На улице Садовой огромная яма на дороге, вчера пробил колесо",
		Municipality: "Курский район", // the form asked for the district
	}
	// The sink refuses until Run has started; a real push source retries.
	for sink(ctx, a) != nil {
		time.Sleep(time.Millisecond)
	}
	stop()
	<-done

	got, _ := store.Get(context.Background(), "web:form-1")
	fmt.Println(got.Status, got.TopTopic(), got.Executor(), got.Deadline().UTC().Format(time.RFC3339))
	// Output: routed roads kursky-admin 2026-11-24T09:00:00Z
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
