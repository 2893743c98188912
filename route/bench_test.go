package route_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/route"
)

// syntheticRules builds a rules file with n rules the way a large region
// writes them: a few region-wide rules (spam, urgent watcher), then one
// rule per (municipality, topic) pair, then region-wide topic rules.
func syntheticRules(n int) string {
	// Sub-topics first: a parent-topic rule placed before them would
	// shadow them, which Parse rightly refuses.
	var topics []string
	for _, t := range route.TopicCodes() {
		if strings.Contains(t, ".") {
			topics = append(topics, t)
		}
	}
	for _, t := range route.TopicCodes() {
		if !strings.Contains(t, ".") {
			topics = append(topics, t)
		}
	}
	var b strings.Builder
	b.WriteString("executors:\n  - {id: duty}\n  - {id: ministry}\n")
	muns := n/len(topics) + 1
	for m := range muns {
		fmt.Fprintf(&b, "  - {id: adm%d, municipality: m%d}\n", m, m)
	}
	b.WriteString("fallback: {executor: duty, respond_within: 4h calendar}\ndefaults: {respond_within: 1d}\nrules:\n")
	b.WriteString("  - {id: spam, when: {keywords: [казино, ставки]}, reject: true}\n")
	b.WriteString("  - {id: watch, when: {urgent: true}, continue: true, co_executors: [duty], priority: high}\n")
	written := 2
	for m := 0; written < n-len(topics); m++ {
		for _, t := range topics {
			if written >= n-len(topics) {
				break
			}
			fmt.Fprintf(&b, "  - {id: r%d-%s, when: {municipality: m%d, topics: [%s]}, executor: adm%d}\n", m, t, m, t, m)
			written++
		}
	}
	for _, t := range topics {
		if written >= n {
			break
		}
		fmt.Fprintf(&b, "  - {id: region-%s, when: {topics: [%s]}, executor: ministry}\n", t, t)
		written++
	}
	return b.String()
}

func benchRoute(b *testing.B, n int) {
	e, err := route.Parse(strings.NewReader(syntheticRules(n)), "synthetic")
	if err != nil {
		b.Fatal(err)
	}
	if got := len(e.Rules()); got < n*9/10 {
		b.Fatalf("built %d rules, want about %d", got, n)
	}
	mun := fmt.Sprintf("m%d", (n/len(route.TopicCodes()))/2)
	a := &appeal.Appeal{
		Text:         "Вторую неделю нет отопления в доме, батареи холодные",
		Municipality: mun,
		Topics:       []appeal.TopicScore{{Code: "housing.heating", Score: 0.8}, {Code: "housing", Score: 0.1}},
	}
	now := time.Date(2025, 3, 3, 7, 0, 0, 0, time.UTC)
	if d := e.Route(a, now); d.Fallback {
		b.Fatalf("benchmark appeal fell through: %+v", d)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d := e.Route(a, now)
		if d.Executor == "" {
			b.Fatal("no executor")
		}
	}
}

func BenchmarkRoute10(b *testing.B)    { benchRoute(b, 10) }
func BenchmarkRoute1000(b *testing.B)  { benchRoute(b, 1000) }
func BenchmarkRoute10000(b *testing.B) { benchRoute(b, 10000) }

// BenchmarkRouteRegion routes with the example region's rules: a plain
// appeal (no allocation) and an urgent one, where watcher rules add
// co-executors and tags (the Decision's own slices are allocated).
func BenchmarkRouteRegion(b *testing.B) {
	e := loadRegion(b)
	now := time.Date(2025, 3, 3, 7, 0, 0, 0, time.UTC)
	for _, urgent := range []bool{false, true} {
		a := &appeal.Appeal{Text: "Во дворе яма, машины ломают подвеску", Municipality: "Льговский район", Topics: []appeal.TopicScore{{Code: "roads", Score: 0.9}}, Urgent: urgent}
		b.Run(fmt.Sprintf("urgent=%v", urgent), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.Route(a, now)
			}
		})
	}
}

func BenchmarkRouteExplainRegion(b *testing.B) {
	e := loadRegion(b)
	a := &appeal.Appeal{Text: "Во дворе яма", Municipality: "Льговский район", Topics: []appeal.TopicScore{{Code: "roads", Score: 0.9}}}
	now := time.Date(2025, 3, 3, 7, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		e.RouteExplain(a, now)
	}
}

func TestRouteDoesNotAllocate(t *testing.T) {
	e, err := route.Parse(strings.NewReader(syntheticRules(1000)), "synthetic")
	if err != nil {
		t.Fatal(err)
	}
	a := &appeal.Appeal{Text: "нет отопления", Municipality: "m3", Topics: []appeal.TopicScore{{Code: "housing.heating", Score: 0.8}}}
	now := time.Date(2025, 3, 3, 7, 0, 0, 0, time.UTC)
	if n := testing.AllocsPerRun(100, func() { e.Route(a, now) }); n != 0 {
		t.Errorf("Route allocates %.0f times per decision", n)
	}
	// The region's rules have long phrase keywords, nested rules, time
	// conditions and deadlines in a loaded time zone.
	region := loadRegion(t)
	b := &appeal.Appeal{Text: "Во дворе яма, машины ломают подвеску", Municipality: "Льговский район", Topics: []appeal.TopicScore{{Code: "roads", Score: 0.9}}}
	if n := testing.AllocsPerRun(100, func() { region.Route(b, now) }); n != 0 {
		t.Errorf("Route with the region's rules allocates %.0f times per decision", n)
	}
}

func BenchmarkParseRegion(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		loadRegion(b)
	}
}

func BenchmarkParse10000(b *testing.B) {
	src := syntheticRules(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := route.Parse(strings.NewReader(src), "synthetic"); err != nil {
			b.Fatal(err)
		}
	}
}
