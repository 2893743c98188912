package replay_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source/replay"
)

// Recording appeals to a JSONL file with a Writer and feeding them back
// through the same Sink a live source would use: for replaying a day's
// traffic into a new classifier, or for tests without a network.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "replay-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "appeals.jsonl")

	// Write a file (wrap f in a gzip.Writer for a compressed one).
	f, _ := os.Create(path)
	w := replay.NewWriter(f)
	_ = w.Write(appeal.Appeal{Network: appeal.NetworkWeb, ExternalID: "form-1", Text: "Не вывозят мусор"})
	_ = w.Write(appeal.Appeal{Network: appeal.NetworkWeb, ExternalID: "form-2", Text: "Нет отопления"})
	_ = w.Flush()
	_ = f.Close()

	// Replay it. With Config.Checkpoints set, a restart continues after
	// the last appeal the sink accepted.
	src, err := replay.New(replay.Config{Path: path})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = src.Run(context.Background(), func(_ context.Context, a appeal.Appeal) error {
		fmt.Println(a.ID, a.Text)
		return nil
	})
	fmt.Println("err:", err)
	// Output:
	// web:form-1 Не вывозят мусор
	// web:form-2 Нет отопления
	// err: <nil>
}
