package incident_test

import (
	"context"
	"fmt"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/incident"
	"github.com/appealkit/appealkit/source"
)

func ExampleGroup() {
	at := time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC)
	mk := func(net appeal.Network, ext, text string, after time.Duration) appeal.Appeal {
		return appeal.Appeal{ID: appeal.NewID(net, ext), Network: net, ExternalID: ext, Text: text,
			CreatedAt: at.Add(after), Topics: []appeal.TopicScore{{Code: "roads", Score: 0.9}}}
	}
	appeals := []appeal.Appeal{
		mk("vk", "1", "На улице Садовой, д. 5 огромная яма на дороге у остановки", 0),
		mk("telegram", "2", "Огромная яма на дороге, ул. Садовая 5, никто не чинит", 3*time.Hour),
		mk("ok", "3", "Когда построят новый мост через реку?", 4*time.Hour),
	}
	incs, byAppeal, err := incident.Group(appeals, incident.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(incs), "incidents")
	fmt.Println(byAppeal["vk:1"] == byAppeal["telegram:2"], incs[0].Place, len(incs[0].Members))
	// Output:
	// 2 incidents
	// true садов 5 2
}

func ExampleExtractAddress() {
	fmt.Println(incident.ExtractAddress("По адресу пр. Науки 44 провал грунта у парадной"))
	fmt.Println(incident.ExtractAddress("Не убирают снег во дворе"))
	// Output:
	// наук 44
	//
}

// printReplier stands in for a network adapter's Replier.
type printReplier struct{ net string }

func (p printReplier) Reply(_ context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	fmt.Printf("%s: posted to %s\n", p.net, to.ID)
	return appeal.Reply{ExternalID: "answer-" + to.ExternalID}, nil
}

func ExampleFanOut() {
	ctx := context.Background()
	st := appeal.NewMemoryStore()
	at := time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC)
	var ids []appeal.ID
	for _, net := range []appeal.Network{"vk", "telegram", "ok"} {
		a := appeal.Appeal{Network: net, ExternalID: "1", Text: "яма", CreatedAt: at}
		_, _ = st.Put(ctx, a)
		id := appeal.NewID(net, "1")
		_, _ = st.Transition(ctx, id, appeal.Change{To: appeal.StatusRouted, ExpectedVersion: 1, At: at,
			Assignment: &appeal.Assignment{Executor: "roads"}})
		ids = append(ids, id)
	}
	repliers := map[appeal.Network]source.Replier{"vk": printReplier{"vk"}, "telegram": printReplier{"telegram"}}
	res := incident.FanOut(ctx, st, repliers, ids, incident.Answer{Text: "Яма заделана 17.11.2026", By: "roads"})
	for _, d := range res.Failed() {
		fmt.Println("failed:", d.Err)
	}
	// Output:
	// vk: posted to vk:1
	// telegram: posted to telegram:1
	// failed: incident: no replier for network "ok"
}

func ExampleGrouper_Add() {
	g, err := incident.New(incident.Config{Window: 48 * time.Hour})
	if err != nil {
		fmt.Println(err)
		return
	}
	at := time.Date(2026, 1, 20, 7, 0, 0, 0, time.UTC)
	for i, text := range []string{
		"Во дворе дома не вывозят мусор, баки переполнены",
		"Не вывозят мусор во дворе, баки переполнены!",
	} {
		a := appeal.Appeal{ID: appeal.NewID("vk", fmt.Sprint(i)), Text: text, CreatedAt: at.Add(time.Duration(i) * time.Hour),
			Topics: []appeal.TopicScore{{Code: "garbage", Score: 1}}, Status: appeal.StatusRouted}
		m := g.Add(&a)
		fmt.Printf("new=%v similarity=%.2f\n", m.New, m.Similarity)
	}
	// Output:
	// new=true similarity=0.00
	// new=false similarity=0.57
}
