package appealkit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/builtin"
)

// forms is a program's own source: the appeals of its web form.
type forms struct{ texts []string }

func (f forms) Run(ctx context.Context, sink source.Sink) error {
	for i, text := range f.texts {
		if err := sink(ctx, appeal.Appeal{Network: appeal.NetworkWeb, ExternalID: fmt.Sprint("form-", i+1), Text: text}); err != nil {
			return err
		}
	}
	return nil
}

// A deployment in one file, with a program's own source kind registered
// beside the shipped ones; its settings are read with Decode and checked
// where they are written.
func ExampleLoadDeployment() {
	dir, err := os.MkdirTemp("", "deploy")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "deploy.yaml")
	if err := os.WriteFile(path, []byte(`
store: {driver: sqlite, dsn: appeals.db}
sources:
  - name: site
    kind: forms
    texts: ["Третью неделю не вывозят мусор во дворе", "Спасибо за новый сквер!"]
`), 0o600); err != nil {
		fmt.Println(err)
		return
	}

	kinds := builtin.Registry() // vk, telegram, max, replay; the sqlite and pgx drivers
	if err := kinds.Register("forms", func(c appealkit.SourceConfig) (source.Source, error) {
		var s struct {
			Texts []string `yaml:"texts"`
		}
		if err := c.Decode(&s); err != nil {
			return nil, err
		}
		if len(s.Texts) == 0 {
			return nil, c.Errorf("texts", "at least one text")
		}
		return forms{texts: s.Texts}, nil
	}); err != nil {
		fmt.Println(err)
		return
	}

	ctx := context.Background()
	d, err := appealkit.LoadDeployment(ctx, path, appealkit.DeployConfig{Sources: kinds})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	if err := d.Pipeline.Run(ctx); err != nil {
		fmt.Println(err)
		return
	}
	for _, id := range []appeal.ID{"web:form-1", "web:form-2"} {
		a, err := d.Store.Get(ctx, id)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(a.ID, a.Status, a.TopTopic(), a.Noise)
	}
	// Output:
	// web:form-1 new garbage false
	// web:form-2 new landscaping true
}
