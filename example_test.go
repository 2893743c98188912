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
