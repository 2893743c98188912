package builtin_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source/builtin"
	"github.com/appealkit/appealkit/source/replay"
)

// One file describes the deployment: a SQLite store, the shipped
// classifier, and a replayed file as its source. A missing secret is an
// error at the line that names it.
func ExampleRegistry() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "deploy-example")
	defer os.RemoveAll(dir)

	f, _ := os.Create(filepath.Join(dir, "appeals.jsonl"))
	w := replay.NewWriter(f)
	_ = w.Write(appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_10", Text: "Третью неделю не вывозят мусор во дворе"})
	_ = w.Flush()
	_ = f.Close()

	deploy := filepath.Join(dir, "deploy.yaml")
	_ = os.WriteFile(deploy, []byte(`store: {driver: sqlite, dsn: appeals.db}
sources:
  - {name: archive, kind: replay, path: appeals.jsonl}
`), 0o600)
	d, err := appealkit.LoadDeployment(ctx, deploy, appealkit.DeployConfig{Sources: builtin.Registry()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	if err := d.Pipeline.Run(ctx); err != nil {
		fmt.Println(err)
		return
	}
	a, err := d.Store.Get(ctx, appeal.NewID(appeal.NetworkVK, "-1_10"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Status, a.TopTopic())

	_ = os.WriteFile(deploy, []byte(`sources:
  - {name: kursk, kind: vk, token_env: VK_TOKEN, communities: ["123"]}
`), 0o600)
	_, err = appealkit.LoadDeployment(ctx, deploy, appealkit.DeployConfig{
		Sources: builtin.Registry(),
		Getenv:  func(string) string { return "" }, // VK_TOKEN unset
	})
	fmt.Println(err == nil, filepath.Base(err.Error()))
	// Output:
	// new garbage
	// false deploy.yaml:2:40: sources[0].token_env: environment variable VK_TOKEN is not set
}
