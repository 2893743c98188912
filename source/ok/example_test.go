package ok_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/ok"
)

// Monitoring two groups, with the cursors kept in a file.
func ExampleNew() {
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
