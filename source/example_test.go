package source_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

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

// RedactText masks phone numbers and e-mails before anything is logged.
func ExampleRedactText() {
	fmt.Println(source.RedactText("Яма у дома 5, звоните +7 912 345-67-89"))
	// Output: Яма у дома 5, звоните [телефон]
}
