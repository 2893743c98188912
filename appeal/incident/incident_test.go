package incident_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/incident"
)

var t0 = time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC)

func ap(net appeal.Network, ext, topic, muni, text string, at time.Time) appeal.Appeal {
	return appeal.Appeal{ID: appeal.NewID(net, ext), Network: net, ExternalID: ext, Text: text, CreatedAt: at,
		Municipality: muni, Topics: []appeal.TopicScore{{Code: topic, Score: 0.9}}, Status: appeal.StatusNew}
}

func TestGrouperJoinsSameProblem(t *testing.T) {
	g, err := incident.New(incident.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a := ap("vk", "1", "roads", "Курский", "На улице Садовой, д. 5 огромная яма на дороге у остановки, пробил колесо", t0)
	// Same address, other words: the place carries it.
	b := ap("telegram", "2", "roads", "Курский", "Огромная яма на дороге на ул. Садовая 5 у остановки, никто не чинит", t0.Add(5*time.Hour))
	// No address, nearly the same words: the text carries it.
	c := ap("ok", "3", "roads", "Курский", "Огромная яма на дороге у остановки, пробил колесо, помогите", t0.Add(20*time.Hour))
	ma, mb, mc := g.Add(&a), g.Add(&b), g.Add(&c)
	if !ma.New || mb.New || mb.IncidentID != ma.IncidentID || !mb.SamePlace {
		t.Errorf("same address and topic did not join: %+v %+v", ma, mb)
	}
	if mc.IncidentID != ma.IncidentID || mc.SamePlace {
		t.Errorf("similar text without address did not join: %+v (sim %.2f)", mc, mc.Similarity)
	}
	inc, ok := g.Incident(ma.IncidentID)
	if !ok || len(inc.Members) != 3 || inc.Place != "садов 5" || !inc.Last.Equal(c.CreatedAt) {
		t.Errorf("incident = %+v", inc)
	}
}

func TestGrouperKeepsApart(t *testing.T) {
	base := ap("vk", "1", "roads", "Курский", "Огромная яма на дороге на ул. Садовая, д. 5 у остановки", t0)
	cases := map[string]appeal.Appeal{
		"other house":        ap("vk", "2", "roads", "Курский", "Огромная яма на дороге на ул. Садовая, д. 7 у остановки", t0.Add(time.Hour)),
		"other topic":        ap("vk", "3", "garbage", "Курский", "Огромная яма на дороге на ул. Садовая, д. 5 у остановки", t0.Add(time.Hour)),
		"other municipality": ap("vk", "4", "roads", "Октябрьский", "Огромная яма на дороге на ул. Садовая, д. 5 у остановки", t0.Add(time.Hour)),
		"ten days later":     ap("vk", "5", "roads", "Курский", "Огромная яма на дороге на ул. Садовая, д. 5 у остановки", t0.Add(240*time.Hour)),
		"unrelated text":     ap("vk", "6", "roads", "Курский", "Когда наконец построят новый мост через реку Сейм?", t0.Add(time.Hour)),
	}
	for name, other := range cases {
		t.Run(name, func(t *testing.T) {
			g, _ := incident.New(incident.Config{})
			first := g.Add(&base)
			if m := g.Add(&other); !m.New || m.IncidentID == first.IncidentID {
				t.Errorf("joined: %+v", m)
			}
		})
	}
}

func TestParentTopicMatchesChild(t *testing.T) {
	g, _ := incident.New(incident.Config{})
	a := ap("vk", "1", "housing", "", "В доме нет отопления, батареи холодные третий день", t0)
	b := ap("vk", "2", "housing.heating", "", "Батареи холодные, нет отопления в доме третий день", t0.Add(time.Hour))
	if ma, mb := g.Add(&a), g.Add(&b); ma.IncidentID != mb.IncidentID {
		t.Errorf("housing and housing.heating did not join: %+v", mb)
	}
}

func TestAddIsIdempotentAndTracksStatus(t *testing.T) {
	g, _ := incident.New(incident.Config{})
	a := ap("vk", "1", "snow", "", "Двор не чистят от снега, машины не могут выехать", t0)
	b := ap("vk", "2", "snow", "", "Двор не чистят от снега, машины не могут выехать!!!", t0.Add(time.Hour))
	m := g.Add(&a)
	g.Add(&b)
	a.Status, b.Status = appeal.StatusAnswered, appeal.StatusRouted
	if again := g.Add(&a); again.IncidentID != m.IncidentID || again.New {
		t.Errorf("re-Add = %+v", again)
	}
	g.Add(&b)
	inc, _ := g.Incident(m.IncidentID)
	if len(inc.Members) != 2 || inc.Status != appeal.StatusRouted {
		t.Errorf("incident = %+v", inc)
	}
	b.Status = appeal.StatusAnswered
	g.Add(&b)
	if inc, _ = g.Incident(m.IncidentID); inc.Status != appeal.StatusAnswered {
		t.Errorf("status = %s, want answered", inc.Status)
	}
}

func TestStatusOf(t *testing.T) {
	S := func(s ...appeal.Status) []appeal.Status { return s }
	cases := []struct {
		in   []appeal.Status
		want appeal.Status
	}{
		{S(), appeal.StatusNew},
		{S(appeal.StatusRejected, appeal.StatusRejected), appeal.StatusRejected},
		{S(appeal.StatusResolved, appeal.StatusRejected), appeal.StatusResolved},
		{S(appeal.StatusResolved, appeal.StatusAnswered), appeal.StatusAnswered},
		{S(appeal.StatusResolved, appeal.StatusReopened), appeal.StatusReopened},
		{S(appeal.StatusAnswered, appeal.StatusInProgress), appeal.StatusInProgress},
		{S(appeal.StatusRouted, appeal.StatusInProgress), appeal.StatusRouted},
		{S(appeal.StatusNew, appeal.StatusRouted), appeal.StatusNew},
	}
	for _, c := range cases {
		if got := incident.StatusOf(c.in...); got != c.want {
			t.Errorf("StatusOf(%v) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestGroupIsDeterministic(t *testing.T) {
	var list []appeal.Appeal
	for i := range 300 {
		house := i % 7
		list = append(list, ap("vk", fmt.Sprint(i), []string{"roads", "garbage", "snow"}[i%3], "Курский",
			fmt.Sprintf("Проблема номер %d на ул. Ленина, д. %d: яма, мусор и снег во дворе", i%11, house), t0.Add(time.Duration(i)*17*time.Minute)))
	}
	inc1, as1, err := incident.Group(list, incident.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// Reversed input order: Group sorts by creation time, so the result
	// must not change.
	rev := make([]appeal.Appeal, len(list))
	for i := range list {
		rev[len(list)-1-i] = list[i]
	}
	inc2, as2, _ := incident.Group(rev, incident.Config{})
	if len(inc1) != len(inc2) || len(inc1) == len(list) || len(inc1) < 21 {
		t.Fatalf("incidents %d vs %d over %d appeals", len(inc1), len(inc2), len(list))
	}
	for id, inc := range as1 {
		if as2[id] != inc {
			t.Fatalf("%s: %s vs %s", id, inc, as2[id])
		}
	}
	for _, inc := range inc1 {
		if inc.Last.Sub(inc.First) > incident.DefaultMaxSpan {
			t.Errorf("incident %s spans %v", inc.ID, inc.Last.Sub(inc.First))
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []incident.Config{
		{Similarity: 1.5}, {Window: -time.Hour}, {Hashes: 50, Bands: 24}, {ShingleSize: 9}, {SamePlaceSimilarity: -1},
	} {
		if _, err := incident.New(c); !errors.Is(err, incident.ErrConfig) {
			t.Errorf("New(%+v) error = %v", c, err)
		}
	}
}

func TestForget(t *testing.T) {
	g, _ := incident.New(incident.Config{Window: 1000 * time.Hour, MaxSpan: 1000 * time.Hour})
	a := ap("vk", "1", "roads", "", "Огромная яма на дороге у остановки", t0)
	b := ap("vk", "2", "roads", "", "Огромная яма на дороге у остановки", t0.Add(48*time.Hour))
	g.Add(&a)
	g.Forget(t0.Add(time.Hour))
	if m := g.Add(&b); !m.New {
		t.Errorf("joined a forgotten appeal: %+v", m)
	}
	if n := len(g.Incidents()); n != 2 {
		t.Errorf("forgotten incident dropped from the list: %d", n)
	}
}

func TestGrouperConcurrentAdd(t *testing.T) {
	g, _ := incident.New(incident.Config{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				a := ap("vk", fmt.Sprint(w*100+i), "roads", "", fmt.Sprintf("Яма номер %d на дороге", i%5), t0.Add(time.Duration(i)*time.Minute))
				g.Add(&a)
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, inc := range g.Incidents() {
		total += len(inc.Members)
	}
	if total != 200 {
		t.Errorf("members = %d, want 200", total)
	}
}
