package ok_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/ok"
)

// Polling one group through a stand-in for api.ok.ru: its newest topic
// becomes an appeal, and the group's cursor is saved once the sink has
// accepted it. In production leave BaseURL empty.
func ExampleNew() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm() // every call is a signed form POST: method, application_key, access_token, sig
		switch r.PostForm.Get("method") {
		case "group.getInfo":
			io.WriteString(w, `[{"uid":"57000000000001","name":"Администрация города"}]`)
		case "mediatopic.getTopics":
			io.WriteString(w, `{"media_topics":[{"id":"155000000000003","created_ms":1767262800000,`+
				`"author_ref":"user:580000000011","owner_ref":"group:57000000000001",`+
				`"media":[{"type":"text","text":"Когда починят освещение на улице Карла Маркса?"}]}],`+
				`"has_more":false,"entities":{"users":[]}}`)
		case "discussions.getComments":
			io.WriteString(w, `{"comments":[],"has_more":false}`)
		default:
			io.WriteString(w, `{"error_code":3,"error_msg":"METHOD : Method does not exist"}`)
		}
	}))
	defer srv.Close()

	cp := source.NewMemoryCheckpoints()
	src, err := ok.New(ok.Config{
		ApplicationKey:       "CBAFGHIJKLMNOPQRS",
		ApplicationSecretKey: "0123456789ABCDEF0123456789ABCDEF",
		AccessToken:          "tkn1.example",
		Groups:               []string{"57000000000001"},
		OfficialGroups:       []string{"57000000000001"},
		Checkpoints:          cp,
		BaseURL:              srv.URL,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	store := appeal.NewMemoryStore()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err = src.Run(ctx, func(ctx context.Context, a appeal.Appeal) error {
		if _, err := store.Put(ctx, a); err != nil {
			return err
		}
		fmt.Println(a.ID, a.Kind, a.Community.Name)
		fmt.Println(a.URL)
		cancel() // one round is enough for the example
		return nil
	})
	_, saved := cp.Snapshot()[ok.CheckpointKey("57000000000001")]
	fmt.Println("run:", err, "cursor saved:", saved)
	// Output:
	// ok:155000000000003 post Администрация города
	// https://ok.ru/group/57000000000001/topic/155000000000003
	// run: <nil> cursor saved: true
}

// Monitoring two groups, with the cursors kept in a file.
func ExampleNew_production() {
	cp, err := source.OpenFileCheckpoints("checkpoints.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	src, err := ok.New(ok.Config{
		ApplicationKey:       os.Getenv("OK_APP_KEY"),
		ApplicationSecretKey: os.Getenv("OK_APP_SECRET"),
		AccessToken:          os.Getenv("OK_TOKEN"),
		Groups:               []string{"57000000000001", "57000000000002"},
		OfficialGroups:       []string{"57000000000001"},
		Checkpoints:          cp,
		PollInterval:         2 * time.Minute,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	store := appeal.NewMemoryStore()
	err = src.Run(context.Background(), func(ctx context.Context, a appeal.Appeal) error {
		_, err := store.Put(ctx, a)
		return err
	})
	fmt.Println(err) // e.g. an error matching source.ErrAuth: the token expired
}

// Signing a call by hand, as the OK API documents it.
func ExampleSign() {
	params := map[string][]string{
		"application_key": {"CBAFGHIJKLMNOP"},
		"format":          {"json"},
		"method":          {"group.getInfo"},
		"uids":            {"57000000000001"},
		"fields":          {"name,shortname"},
	}
	// sessionSecret = lower-hex md5(access_token + application_secret_key)
	fmt.Println(ok.Sign(params, "fdc8ebc6e1a5b4c7ab02d21e14ba0ec3"))
	// Output: de048d375d1211e0464ac02ea34bbe79
}
