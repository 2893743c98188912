package vk_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/vk"
)

// One polling cycle against a stand-in for api.vk.com: the screen name is
// resolved with groups.getById, the wall is read inside one execute call,
// and the new post becomes an appeal. Run repeats such cycles every
// PollInterval; Poll runs one when you schedule them yourself. In
// production leave API.URL empty.
func ExampleNewMonitor() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm() // access_token and v come with every call
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch {
		case strings.HasSuffix(r.URL.Path, "/groups.getById"):
			io.WriteString(w, `{"response":[{"id":218900,"name":"Администрация Курска","screen_name":"kursk_adm","is_closed":0,"type":"page"}]}`)
		case strings.HasSuffix(r.URL.Path, "/execute") && strings.Contains(r.Form.Get("code"), "API.wall.get("):
			io.WriteString(w, `{"response":[{"count":1,"items":[{"id":3400,"owner_id":-218900,"from_id":1234567,`+
				`"date":1767258000,"post_type":"post","text":"На Ленина, 5 открыт люк, опасно для детей.","comments":{"count":0}}]}]}`)
		case strings.HasSuffix(r.URL.Path, "/execute"):
			io.WriteString(w, `{"response":[{"count":0,"items":[]}]}`)
		default:
			io.WriteString(w, `{"error":{"error_code":3,"error_msg":"Unknown method passed"}}`)
		}
	}))
	defer srv.Close()

	cp := source.NewMemoryCheckpoints()
	m, err := vk.NewMonitor(vk.MonitorConfig{
		API:         vk.API{Token: "vk1.a.example", URL: srv.URL},
		Communities: []vk.Community{{ID: "kursk_adm", Official: true}},
		Checkpoints: cp,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := m.Poll(context.Background(), func(ctx context.Context, a appeal.Appeal) error {
		fmt.Println(a.ID, a.Kind, a.Community.Name)
		fmt.Println(a.URL)
		return nil // store it here; return nil only once it is stored
	})
	fmt.Println("delivered:", st.Delivered, "err:", err)
	_, saved := cp.Snapshot()["vk:wall:-218900"] // CheckpointPrefix + community id
	fmt.Println("cursor saved:", saved)
	// Output:
	// vk:-218900_3400 post Администрация Курска
	// https://vk.com/wall-218900_3400
	// delivered: 1 err: <nil>
	// cursor saved: true
}

// Watch communities' walls and keep the position in a file across
// restarts.
func ExampleNewMonitor_production() {
	cp, err := source.OpenFileCheckpoints("vk-checkpoints.json")
	if err != nil {
		log.Fatal(err)
	}
	m, err := vk.NewMonitor(vk.MonitorConfig{
		API:          vk.API{Token: os.Getenv("VK_TOKEN"), TokenKind: vk.UserToken},
		Communities:  []vk.Community{{ID: "kursk_adm", Official: true}, {ID: "club123456"}},
		Checkpoints:  cp,
		PollInterval: time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	err = m.Run(context.Background(), func(ctx context.Context, a appeal.Appeal) error {
		fmt.Println(a.ID, a.URL) // store it here; return nil only once it is stored
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
}

// Receive the portal's own community events through Bots Long Poll, new
// appeals and edited comments into one store.
func ExampleNewLongPoll() {
	store := appeal.NewMemoryStore()
	lp, err := vk.NewLongPoll(vk.LongPollConfig{
		API:      vk.API{Token: os.Getenv("VK_GROUP_TOKEN"), TokenKind: vk.GroupToken},
		GroupID:  218900,
		Official: true,
		// ConfigureGroup: true would switch Long Poll on in the
		// community's settings; here it is configured by hand.
		Edits: source.StoreEdits(store),
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = lp.Run(context.Background(), func(ctx context.Context, a appeal.Appeal) error {
		_, err := store.Put(ctx, a)
		return err
	})
}

// VK POSTs Callback API events to the handler: first a confirmation
// request, answered with the community's confirmation string, then events
// such as a new wall comment, answered "ok" once the sink accepted the
// appeal. Here an httptest server plays the HTTPS address you enter in the
// community's settings; in production mount h in your own server, e.g.
// mux.Handle("POST /vk/callback", h).
func ExampleNewCallbackHandler() {
	h, err := vk.NewCallbackHandler(vk.CallbackConfig{
		GroupID:      218900,
		Name:         "Администрация Курска",
		Official:     true,
		Confirmation: "6c1a2b3d", // in production: os.Getenv("VK_CONFIRMATION")
		Secret:       "s3cr3t-key",
	}, func(ctx context.Context, a appeal.Appeal) error {
		fmt.Println(a.ID, a.Kind, a.Thread.RootID)
		return nil // store it here; "ok" goes back to VK only after nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	for _, event := range []string{
		`{"type":"confirmation","group_id":218900,"event_id":"d3b1b28e","v":"5.131","secret":"s3cr3t-key"}`,
		`{"type":"wall_reply_new","group_id":218900,"event_id":"6c3a4b1d","v":"5.131","secret":"s3cr3t-key",` +
			`"object":{"id":3420,"from_id":55502,"post_id":3400,"owner_id":-218900,"date":1701162060,` +
			`"text":"Во дворе дома 5 по Ленина не горят фонари","post_owner_id":-218900}}`,
	} {
		res, err := http.Post(srv.URL, "application/json", strings.NewReader(event))
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, string(body))
	}
	// Output:
	// 200 6c1a2b3d
	// vk:-218900_3400_c3420 comment -218900_3400
	// 200 ok
}

// A citizen adds the house number to a comment: VK sends wall_reply_edit
// under the comment's id, and Edits (here source.StoreEdits) writes the new
// text to the stored appeal, noting the edit in its history. With Edits
// nil the edit would be skipped.
func ExampleNewCallbackHandler_edits() {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	h, err := vk.NewCallbackHandler(vk.CallbackConfig{
		GroupID:      218900,
		Confirmation: "6c1a2b3d",
		Secret:       "s3cr3t-key",
		Edits:        source.StoreEdits(store),
	}, func(ctx context.Context, a appeal.Appeal) error {
		_, err := store.Put(ctx, a)
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	comment := `"id":3420,"from_id":55502,"post_id":3400,"owner_id":-218900,"date":1701162060,"post_owner_id":-218900`
	for _, event := range []string{
		`{"type":"wall_reply_new","group_id":218900,"event_id":"6c3a4b1d","v":"5.199","secret":"s3cr3t-key",` +
			`"object":{` + comment + `,"text":"Не горят фонари"}}`,
		`{"type":"wall_reply_edit","group_id":218900,"event_id":"8e5c6d3f","v":"5.199","secret":"s3cr3t-key",` +
			`"object":{` + comment + `,"text":"Не горят фонари у дома 5 по ул. Ленина"}}`,
	} {
		res, err := http.Post(srv.URL, "application/json", strings.NewReader(event))
		if err != nil {
			fmt.Println(err)
			return
		}
		res.Body.Close()
	}
	a, _ := store.Get(ctx, "vk:-218900_3400_c3420")
	fmt.Println(a.Version, a.Text)
	fmt.Println(a.History[0].Note)
	// Output:
	// 2 Не горят фонари у дома 5 по ул. Ленина
	// text edited by the author; previous text: Не горят фонари
}

// The same handler in a real server.
func ExampleNewCallbackHandler_production() {
	h, err := vk.NewCallbackHandler(vk.CallbackConfig{
		GroupID:      218900,
		Confirmation: os.Getenv("VK_CONFIRMATION"),
		Secret:       os.Getenv("VK_SECRET"),
	}, func(ctx context.Context, a appeal.Appeal) error {
		fmt.Println(a.ID)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/vk/callback", h)
	log.Fatal(http.ListenAndServe(":8080", nil))
}

// Search all of VK for posts that mention the region.
func ExampleNewSearch() {
	s, err := vk.NewSearch(vk.SearchConfig{
		API:   vk.API{Token: os.Getenv("VK_TOKEN")},
		Query: "Курск яма",
		Near:  &appeal.GeoPoint{Lat: 51.7304, Lon: 36.1926},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = s.Run(context.Background(), func(ctx context.Context, a appeal.Appeal) error {
		fmt.Println(a.URL)
		return nil
	})
}

// Answer an appeal in its own thread, as the community.
func ExampleNewReplier() {
	r, err := vk.NewReplier(vk.API{Token: os.Getenv("VK_GROUP_TOKEN"), TokenKind: vk.GroupToken})
	if err != nil {
		log.Fatal(err)
	}
	a := appeal.Appeal{ID: "vk:-218900_3400_c3420", Network: appeal.NetworkVK, ExternalID: "-218900_3400_c3420"}
	reply, err := r.Reply(context.Background(), a, "Заявка передана в управление благоустройства.")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply.URL)
}

func ExampleParseExternalID() {
	for _, id := range []string{"-218900_3400", "-218900_3400_c3421", "-218900_m55504_37"} {
		ref, _ := vk.ParseExternalID(id)
		fmt.Printf("%s: owner %d, object %d, item %d\n", id, ref.OwnerID, ref.ObjectID, ref.ItemID)
	}
	// Output:
	// -218900_3400: owner -218900, object 3400, item 0
	// -218900_3400_c3421: owner -218900, object 3400, item 3421
	// -218900_m55504_37: owner -218900, object 55504, item 37
}

func ExampleParseCommunities() {
	for _, c := range vk.ParseCommunities("kursk_adm!, club123 ,456") {
		fmt.Println(c.ID, c.Official)
	}
	// Output:
	// kursk_adm true
	// club123 false
	// 456 false
}
