package source_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// Checkpoints survive a restart: open the same file again and the cursor is
// there.
func ExampleOpenFileCheckpoints() {
	dir, _ := os.MkdirTemp("", "cp")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "checkpoints.json")
	ctx := context.Background()

	cp, err := source.OpenFileCheckpoints(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = cp.Save(ctx, "vk:-1", `{"last_post":42}`)

	again, _ := source.OpenFileCheckpoints(path)
	cursor, _ := again.Load(ctx, "vk:-1")
	fmt.Println(cursor)
	// Output: {"last_post":42}
}

// Retry retries temporary failures and rate limits with backoff, and gives
// up at once on anything else.
func ExampleRetry() {
	calls := 0
	err := source.Retry(context.Background(), source.Backoff{Initial: time.Millisecond}, func(ctx context.Context) error {
		calls++
		switch calls {
		case 1:
			return fmt.Errorf("HTTP 502: %w", source.ErrTemporary)
		case 2:
			return &source.RateLimitError{Wait: 5 * time.Millisecond}
		}
		return nil
	})
	fmt.Println(calls, err)

	err = source.Retry(context.Background(), source.Backoff{}, func(ctx context.Context) error {
		return fmt.Errorf("vk: error 5: %w", source.ErrAuth)
	})
	fmt.Println(errors.Is(err, source.ErrAuth))
	// Output:
	// 3 <nil>
	// true
}

// A Dedup window drops what was seen recently.
func ExampleDedup() {
	d := source.NewDedup(1000)
	for _, id := range []string{"-1_10", "-1_11", "-1_10"} {
		fmt.Println(id, d.Seen(id))
	}
	// Output:
	// -1_10 false
	// -1_11 false
	// -1_10 true
}

// RunGuard makes a second concurrent Run fail with ErrAlreadyRunning.
func ExampleRunGuard() {
	var g source.RunGuard
	release, _ := g.Enter()
	_, err := g.Enter()
	fmt.Println(err)
	release()
	// Output: source: already running
}

// One limiter per token: VK allows a user token 3 requests a second.
func ExampleNewLimiter() {
	lim := source.NewLimiter(3)
	ctx := context.Background()
	start := time.Now()
	for range 4 {
		if err := source.Wait(ctx, lim); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(time.Since(start) >= 900*time.Millisecond) // the 4th call waited for its slot
	// Output: true
}

// Log appeals through AppealAttr: id, network, kind and community, never the
// text or the author in clear.
func ExampleAppealAttr() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "author" {
				return slog.Attr{} // drop the time, and the per-process pseudonym, to keep the output stable
			}
			return a
		},
	}))
	a := appeal.Appeal{
		ID: "vk:-218900_3412", Network: appeal.NetworkVK, Kind: appeal.KindPost, ExternalID: "-218900_3412",
		Text:      "Нет воды, звоните +7 912 345-67-89",
		Author:    appeal.Author{ID: "55501", Name: "Иван Петров"},
		Community: appeal.Community{ID: "-218900"},
	}
	logger.Warn("sink refused", source.AppealAttr("appeal", a))
	// Output: level=WARN msg="sink refused" appeal.id=vk:-218900_3412 appeal.network=vk appeal.kind=post appeal.community=-218900 appeal.text_len=34
}

// StoreEdits applies a citizen's edit to the stored appeal: the new text,
// a history event quoting the old one, and (WithEditHook) whatever is
// derived from the text, recomputed in the same Store.Update.
func ExampleStoreEdits() {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	a := appeal.Appeal{Network: appeal.NetworkVK, Kind: appeal.KindComment, ExternalID: "-1_2_c3", Text: "Не горят фонари"}
	_ = a.Normalize()
	_, _ = store.Put(ctx, a)

	edits := source.StoreEdits(store, source.WithEditHook(func(_ context.Context, a *appeal.Appeal) error {
		a.Urgent = strings.Contains(a.Text, "дети") // stands in for a classifier
		return nil
	}))
	a.Text = "Не горят фонари у школы, дети ходят в темноте"
	if err := edits(ctx, source.Edit{Appeal: a, EditedAt: time.Date(2026, 1, 1, 9, 5, 0, 0, time.UTC)}); err != nil {
		fmt.Println(err)
		return
	}
	got, _ := store.Get(ctx, a.ID)
	fmt.Println(got.Version, got.Urgent, got.Text)
	fmt.Println(got.History[0].Actor, got.History[0].Note)
	// Output:
	// 2 true Не горят фонари у школы, дети ходят в темноте
	// vk text edited by the author; previous text: Не горят фонари
}

// A source with many appeals in flight: the Window sends through an
// AsyncSink (a pipeline's, here one that stores in the background) and the
// source saves only the cursor below which everything is stored.
func ExampleWindow() {
	ctx := context.Background()
	stored := make(chan func(error), 16)
	go func() { // the "store": answers appeals as it writes them
		for done := range stored {
			done(nil)
		}
	}()
	sink := source.AsyncSink(func(_ context.Context, _ appeal.Appeal, done func(error)) error {
		stored <- done
		return nil
	})
	w := source.NewWindow(sink, 8)
	cp := source.NewMemoryCheckpoints()
	for i := 1; i <= 100; i++ {
		a := appeal.Appeal{Network: appeal.NetworkVK, ExternalID: fmt.Sprint(i)}
		if err := w.Send(ctx, a, fmt.Sprint(i)); err != nil {
			fmt.Println("stopped:", err)
			return
		}
		if cur, ok := w.Committed(); ok && i%25 == 0 {
			_ = cp.Save(ctx, "example", cur) // never ahead of what is stored
		}
	}
	if err := w.Wait(ctx); err != nil {
		fmt.Println("stopped:", err)
		return
	}
	cur, _ := w.Committed()
	_ = cp.Save(ctx, "example", cur)
	close(stored)
	fmt.Println(cp.Snapshot()["example"])
	// Output: 100
}
