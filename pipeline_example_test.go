package appealkit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/source/replay"
)

// A replay file goes through a classifier and a router into a SQLite store;
// the store keeps the replay's checkpoint too, so a second run (a restart)
// reads nothing twice.
func ExampleNew() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "pipeline-example")
	defer os.RemoveAll(dir)

	// Two citizen messages and one that is not an appeal.
	path := filepath.Join(dir, "appeals.jsonl")
	f, _ := os.Create(path)
	w := replay.NewWriter(f)
	_ = w.Write(appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_10", Text: "На Ленина яма на дороге"})
	_ = w.Write(appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_11", Text: "Третью неделю не вывозят мусор"})
	_ = w.Write(appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_12", Text: "Всех с праздником!"})
	_ = w.Flush()
	_ = f.Close()

	db, _ := sql.Open("sqlite", "file:"+filepath.Join(dir, "appeals.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	defer db.Close()
	store, err := sqlstore.Open(ctx, db)
	if err != nil {
		fmt.Println(err)
		return
	}
	src, _ := replay.New(replay.Config{Path: path, Checkpoints: store})

	// Stand-ins for the classify and route packages.
	classifier := appealkit.AppealClassifierFunc(func(_ context.Context, a *appeal.Appeal) error {
		for word, code := range map[string]string{"дорог": "roads", "мусор": "garbage"} {
			if strings.Contains(a.Text, word) {
				a.Topics = append(a.Topics, appeal.TopicScore{Code: code, Score: 1})
			}
		}
		return nil
	})
	router := appealkit.AppealRouterFunc(func(_ context.Context, a *appeal.Appeal, now time.Time) (appeal.Change, error) {
		if a.TopTopic() == "" {
			return appeal.Change{To: appeal.StatusRejected, Note: "not an appeal"}, nil
		}
		return appeal.Change{To: appeal.StatusRouted, Assignment: &appeal.Assignment{Executor: a.TopTopic() + "-committee", Deadline: now.Add(24 * time.Hour)}}, nil
	})

	var mu sync.Mutex // hooks are called from the pipeline's goroutines
	counts := map[appealkit.Outcome]int{}
	p, err := appealkit.New(appealkit.Config{
		Store: store, Classifier: classifier, Router: router,
		Inputs: []appealkit.Input{{Name: "replay", Source: src}},
		Hooks: appealkit.Hooks{Processed: func(r appealkit.Result) {
			mu.Lock()
			counts[r.Outcome]++
			mu.Unlock()
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for run := 1; run <= 2; run++ {
		if err := p.Run(ctx); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("run %d: %d routed, %d rejected\n", run, counts[appealkit.OutcomeRouted], counts[appealkit.OutcomeRejected])
	}

	list, _ := store.List(ctx, appeal.Filter{})
	for _, a := range list {
		fmt.Println(a.ID, a.Status, a.Executor())
	}
	// Output:
	// run 1: 2 routed, 1 rejected
	// run 2: 2 routed, 1 rejected
	// vk:-1_10 routed roads-committee
	// vk:-1_11 routed garbage-committee
	// vk:-1_12 rejected
}

// Sink feeds a running pipeline from a source that pushes, such as an HTTP
// handler: the call returns nil once the appeal is stored and routed.
func ExamplePipeline_Sink() {
	store := appeal.NewMemoryStore()
	p, err := appealkit.New(appealkit.Config{
		Store:      store,
		Classifier: appealkit.NoClassification{}, // the form asked for the topic
		Router: appealkit.AppealRouterFunc(func(_ context.Context, a *appeal.Appeal, now time.Time) (appeal.Change, error) {
			return appeal.Change{To: appeal.StatusRouted, Assignment: &appeal.Assignment{Executor: "duty-operator", Deadline: now.Add(4 * time.Hour)}}, nil
		}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }() // with no Inputs, Run serves sinks until ctx ends

	sink := p.Sink("webhook")
	a := appeal.Appeal{Network: appeal.NetworkWeb, ExternalID: "form-7", Text: "Не горит фонарь у школы"}
	for {
		err = sink(context.Background(), a)
		if !errors.Is(err, appealkit.ErrStopped) { // ErrStopped: Run has not started yet
			break
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Println("accepted:", err == nil)
	stop()
	fmt.Println("run:", <-done)

	got, _ := store.Get(context.Background(), "web:form-7")
	fmt.Println(got.Status, got.Executor())
	// Output:
	// accepted: true
	// run: <nil>
	// routed duty-operator
}
