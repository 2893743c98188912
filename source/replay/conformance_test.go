package replay_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/replay"
	"github.com/appealkit/appealkit/source/sourcetest"
)

func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Features{Finite: true, Checkpointed: true, Malformed: true},
		func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
			path := filepath.Join(t.TempDir(), "appeals.jsonl")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			w := replay.NewWriter(f)
			for i, it := range up.Items {
				if err := w.Write(appeal.Appeal{Network: appeal.NetworkWeb, Kind: appeal.KindMessage,
					ExternalID: fmt.Sprint(i + 1), Text: "Обращение: " + it.Text}); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if up.Malformed {
				fmt.Fprintln(f, `{"network":"web","external_id":"x","text":"обрыв строки`)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			return func(cp source.Checkpoints) source.Source {
				s, err := replay.New(replay.Config{Path: path, Checkpoints: cp, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
		})
}
