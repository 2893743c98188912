package incident_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/incident"
)

// TestGroupingRecoversKnownDuplicates plants re-reports of known problems
// (a word of the description changed, sometimes the address dropped, within a day, same
// topic and municipality) among unrelated appeals, and checks that grouping
// finds the planted pairs without joining unrelated ones. It needs no data
// set, so it guards the grouping quality in every CI run.
func TestGroupingRecoversKnownDuplicates(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	topics := []string{"roads", "garbage", "housing.heating", "snow"}
	var list []appeal.Appeal
	root := map[appeal.ID]int{}
	at := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 1500; i++ {
		at = at.Add(time.Duration(5+rng.IntN(20)) * time.Minute)
		id := appeal.NewID("vk", fmt.Sprint(i))
		if i > 20 && rng.IntN(4) == 0 {
			// re-report a recent problem
			j := i - 1 - rng.IntN(20)
			src := list[j]
			body, addr, _ := strings.Cut(src.Text, " ул. ")
			words := strings.Fields(body)
			words[rng.IntN(len(words))] = benchWords[rng.IntN(len(benchWords))]
			text := strings.Join(words, " ")
			if addr != "" {
				text += " ул. " + addr
			}
			if k := strings.Index(text, " ул. "); k > 0 && rng.IntN(3) == 0 {
				text = text[:k] // this reporter did not give the address
			}
			a := src
			a.ID, a.ExternalID, a.Text, a.CreatedAt = id, fmt.Sprint(i), text, at
			list = append(list, a)
			root[id] = root[src.ID]
			continue
		}
		var b strings.Builder
		for range 10 + rng.IntN(15) {
			b.WriteString(benchWords[rng.IntN(len(benchWords))])
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, " ул. %s, д. %d", benchStreets[rng.IntN(len(benchStreets))], 1+rng.IntN(80))
		list = append(list, appeal.Appeal{ID: id, Network: "vk", ExternalID: fmt.Sprint(i), Text: b.String(), CreatedAt: at,
			Municipality: fmt.Sprint("район ", rng.IntN(6)), Topics: []appeal.TopicScore{{Code: topics[rng.IntN(len(topics))], Score: 1}}})
		root[id] = i
	}
	_, assign, err := incident.Group(list, incident.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var tp, fp, fn int
	for x := range list {
		for y := x + 1; y < len(list) && y < x+60; y++ {
			same := root[list[x].ID] == root[list[y].ID]
			grouped := assign[list[x].ID] == assign[list[y].ID]
			switch {
			case same && grouped:
				tp++
			case grouped:
				fp++
			case same:
				fn++
				if testing.Verbose() && fn <= 5 {
					t.Logf("missed %s ~ %s: %q | %q", list[x].ID, list[y].ID, list[x].Text, list[y].Text)
				}
			}
		}
	}
	p, r := float64(tp)/float64(max(tp+fp, 1)), float64(tp)/float64(max(tp+fn, 1))
	t.Logf("planted pairs: precision %.3f recall %.3f (tp %d fp %d fn %d)", p, r, tp, fp, fn)
	if p < 0.98 || r < 0.95 {
		t.Errorf("precision %.3f / recall %.3f below 0.98 / 0.95", p, r)
	}
}
