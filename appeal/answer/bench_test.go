package answer_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
)

// BenchmarkGateCheck runs every check on the labelled answers, one answer
// per iteration.
func BenchmarkGateCheck(b *testing.B) {
	raw, err := os.ReadFile("testdata/gate.yaml")
	if err != nil {
		b.Fatal(err)
	}
	var set gateSet
	if err := yaml.Unmarshal(raw, &set); err != nil {
		b.Fatal(err)
	}
	g := answer.NewGate(answer.GateConfig{})
	type pair struct {
		a    appeal.Appeal
		kind appeal.AnswerKind
		text string
	}
	var ps []pair
	for _, c := range append(set.Cases, set.Holdout...) {
		ap := set.Appeals[c.Appeal]
		ps = append(ps, pair{appeal.Appeal{Text: ap.Text, Topics: []appeal.TopicScore{{Code: ap.Topic, Score: 1}}}, appeal.AnswerKind(c.Kind), c.Answer})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := &ps[i%len(ps)]
		_ = g.Check(&p.a, p.kind, p.text)
	}
}

// BenchmarkAnswerLoop is the whole path one answer takes on SQLite: draft
// from a template, gate, straight to the outbox, publish through the vk
// Replier into the VK-shaped stand-in, record.
func BenchmarkAnswerLoop(b *testing.B) {
	l := newLoop(b, stores[1].open, answer.Policy{})
	p := l.publisher(b, nil, nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		a := routed(b, l.store, fmt.Sprintf("-100_4000_c%d", 100000+i), "Огромная яма на дороге у остановки на улице Садовой", "roads", "roads-committee")
		b.StartTimer()
		a, d, err := l.w.Draft(ctx, a.ID, appeal.AnswerInterim, "op", a.Version)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := l.w.Submit(ctx, a.ID, d.ID, "op", a.Version); err != nil {
			b.Fatal(err)
		}
		if res, err := p.Drain(ctx); err != nil || res.Published != 1 {
			b.Fatal(res, err)
		}
	}
}
