package source_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

func TestMemoryCheckpoints(t *testing.T) {
	ctx := context.Background()
	var c source.MemoryCheckpoints // zero value usable
	if got, err := c.Load(ctx, "k"); err != nil || got != "" {
		t.Fatalf("Load of unsaved key = %q, %v; want \"\", nil", got, err)
	}
	if err := c.Save(ctx, "k", "v1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Load(ctx, "k"); got != "v1" {
		t.Fatalf("Load = %q, want v1", got)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Save(cctx, "k", "v2"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Save with cancelled ctx = %v, want context.Canceled", err)
	}
	if got, _ := c.Load(ctx, "k"); got != "v1" {
		t.Fatalf("cancelled Save changed the cursor to %q", got)
	}
}

func TestFileCheckpointsPersistAndReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cp.json")
	c, err := source.OpenFileCheckpoints(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Save(ctx, fmt.Sprintf("key%02d", i), fmt.Sprint(i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := c.Save(ctx, "key03", "updated"); err != nil {
		t.Fatal(err)
	}

	re, err := source.OpenFileCheckpoints(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		want := fmt.Sprint(i)
		if i == 3 {
			want = "updated"
		}
		got, err := re.Load(ctx, fmt.Sprintf("key%02d", i))
		if err != nil || got != want {
			t.Errorf("reopened key%02d = %q, %v; want %q", i, got, err, want)
		}
	}
	// No temporary files are left next to the checkpoint file.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only cp.json", names)
	}
}

func TestSaveAll(t *testing.T) {
	ctx := context.Background()
	file, err := source.OpenFileCheckpoints(filepath.Join(t.TempDir(), "cp.json"))
	if err != nil {
		t.Fatal(err)
	}
	batch := map[string]string{"a": "1", "b": "2"}
	for name, cp := range map[string]source.Checkpoints{"memory": source.NewMemoryCheckpoints(), "file": file, "plain": plainCheckpoints{source.NewMemoryCheckpoints()}} {
		if err := source.SaveAll(ctx, cp, batch); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for k, v := range batch {
			if got, _ := cp.Load(ctx, k); got != v {
				t.Errorf("%s: %s = %q, want %q", name, k, got, v)
			}
		}
	}
	re, err := source.OpenFileCheckpoints(file.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := re.Load(ctx, "b"); got != "2" {
		t.Errorf("batch not durable: b = %q", got)
	}
}

// plainCheckpoints hides the BatchSaver capability.
type plainCheckpoints struct{ source.Checkpoints }

func TestFileCheckpointsMalformedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.json")
	if err := os.WriteFile(path, []byte(`{"a": 1`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := source.OpenFileCheckpoints(path)
	if !errors.Is(err, source.ErrMalformed) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v; want ErrMalformed naming %s", err, path)
	}
}

func TestFileCheckpointsFailedSaveKeepsOldCursor(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "sub")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	c, err := source.OpenFileCheckpoints(filepath.Join(dir, "cp.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx, "k", "old"); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx, "k", "new"); err == nil {
		t.Fatal("Save into a removed directory succeeded")
	}
	if got, _ := c.Load(ctx, "k"); got != "old" {
		t.Fatalf("after a failed Save, Load = %q, want old", got)
	}
}

func TestRetry(t *testing.T) {
	ctx := context.Background()
	fast := source.Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond}

	t.Run("temporary then success", func(t *testing.T) {
		calls := 0
		err := source.Retry(ctx, fast, func(context.Context) error {
			calls++
			if calls < 3 {
				return fmt.Errorf("upstream 502: %w", source.ErrTemporary)
			}
			return nil
		})
		if err != nil || calls != 3 {
			t.Fatalf("err = %v after %d calls; want nil after 3", err, calls)
		}
	})
	t.Run("final error is not retried", func(t *testing.T) {
		calls := 0
		err := source.Retry(ctx, fast, func(context.Context) error {
			calls++
			return fmt.Errorf("token: %w", source.ErrAuth)
		})
		if !errors.Is(err, source.ErrAuth) || calls != 1 {
			t.Fatalf("err = %v after %d calls; want ErrAuth after 1", err, calls)
		}
	})
	t.Run("max attempts", func(t *testing.T) {
		calls := 0
		b := fast
		b.MaxAttempts = 4
		err := source.Retry(ctx, b, func(context.Context) error {
			calls++
			return source.ErrTemporary
		})
		if !errors.Is(err, source.ErrTemporary) || calls != 4 {
			t.Fatalf("err = %v after %d calls; want ErrTemporary after 4", err, calls)
		}
	})
	t.Run("honours the wait hint", func(t *testing.T) {
		calls := 0
		start := time.Now()
		err := source.Retry(ctx, fast, func(context.Context) error {
			calls++
			if calls == 1 {
				return &source.RateLimitError{Wait: 60 * time.Millisecond}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el < 60*time.Millisecond {
			t.Fatalf("retried after %v, before the 60ms the server asked for", el)
		}
	})
	t.Run("cancel during the wait", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := source.Retry(cctx, source.Backoff{Initial: time.Hour}, func(context.Context) error {
			return source.ErrTemporary
		})
		if !errors.Is(err, context.DeadlineExceeded) || source.Retryable(err) {
			t.Fatalf("err = %v; want DeadlineExceeded and not retryable", err)
		}
		if el := time.Since(start); el > time.Second {
			t.Fatalf("Retry returned %v after the deadline", el)
		}
	})
}

func TestBackoffDelayGrowsAndCaps(t *testing.T) {
	b := source.Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: 0.1}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 10: time.Second} {
		got := b.Delay(attempt)
		lo, hi := time.Duration(float64(want)*0.9), time.Duration(float64(want)*1.1)
		if got < lo || got > hi {
			t.Errorf("Delay(%d) = %v, want %v ±10%%", attempt, got, want)
		}
	}
}

func TestLimiterSpacesCalls(t *testing.T) {
	lim := source.NewLimiter(50) // one call every 20ms
	ctx := context.Background()
	start := time.Now()
	for range 6 {
		if err := source.Wait(ctx, lim); err != nil {
			t.Fatal(err)
		}
	}
	// The first call is free; five more need at least 5×20ms.
	if el := time.Since(start); el < 90*time.Millisecond {
		t.Fatalf("6 calls at 50/s took %v, want ≥ 100ms", el)
	}
	if err := source.Wait(ctx, nil); err != nil {
		t.Fatalf("nil limiter: %v", err)
	}
}

func TestDedupWindow(t *testing.T) {
	d := source.NewDedup(3)
	for _, id := range []string{"a", "b", "c"} {
		if d.Seen(id) {
			t.Fatalf("%s reported seen on first sight", id)
		}
	}
	if !d.Seen("a") { // a is now the most recent
		t.Fatal("a not reported as repeat")
	}
	d.Seen("d") // evicts b, the least recent
	if d.Len() != 3 {
		t.Fatalf("Len = %d, want 3", d.Len())
	}
	if d.Seen("b") {
		t.Fatal("b should have been evicted")
	}
	d.Forget("d")
	if d.Seen("d") {
		t.Fatal("forgotten d reported as repeat")
	}
}

func TestRunGuard(t *testing.T) {
	var g source.RunGuard
	release, err := g.Enter()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Enter(); !errors.Is(err, source.ErrAlreadyRunning) {
		t.Fatalf("second Enter = %v, want ErrAlreadyRunning", err)
	}
	release()
	release() // idempotent
	r2, err := g.Enter()
	if err != nil {
		t.Fatalf("Enter after release: %v", err)
	}
	r2()
}

func TestRedaction(t *testing.T) {
	for in, want := range map[string]string{
		"звоните +7 (912) 345-67-89 вечером": "звоните [телефон] вечером",
		"тел 89123456789":                 "тел [телефон]",
		"8 912 345 67 89, спросить Ивана": "[телефон], спросить Ивана",
		"диспетчер 345-67-89":             "диспетчер [телефон]",
		"пишите ivan.petrov@mail.ru":      "пишите [email]",
		"дом 12, кв 45, 2023 год":         "дом 12, кв 45, 2023 год",
	} {
		if got := appeal.RedactText(in); got != want {
			t.Errorf("RedactText(%q) = %q, want %q", in, got, want)
		}
	}
	a := appeal.Appeal{
		Network: appeal.NetworkVK, ExternalID: "-1_2", Text: "мой номер +79123456789",
		Author: appeal.Author{ID: "12345", Name: "Иван Петров", ProfileURL: "https://vk.com/id12345"},
	}
	r := a.Redacted()
	if r.Author.Name != "" || r.Author.ProfileURL != "" || strings.Contains(r.Author.ID, "12345") || !strings.HasPrefix(r.Author.ID, "anon-") {
		t.Errorf("redacted author = %+v", r.Author)
	}
	if strings.Contains(r.Text, "9123456789") {
		t.Errorf("redacted text still has the phone: %q", r.Text)
	}
	if a.Author.Name != "Иван Петров" {
		t.Error("Redacted changed its argument")
	}
	if appeal.Pseudonym(nil, "12345") != appeal.Pseudonym(nil, "12345") || appeal.Pseudonym(nil, "12345") == appeal.Pseudonym(nil, "12346") {
		t.Error("pseudonym is not stable, or not distinct")
	}

	var buf strings.Builder
	logger := slogTextLogger(&buf)
	logger.Info("got", source.AppealAttr("appeal", a))
	if out := buf.String(); strings.Contains(out, "Иван") || strings.Contains(out, "12345") || strings.Contains(out, "9123456789") || !strings.Contains(out, "-1_2") {
		t.Errorf("log line leaks personal data or lost the id: %s", out)
	}
	buf.Reset()
	msg := appeal.Appeal{ID: "vk:-1_m12345_7", Network: appeal.NetworkVK, Kind: appeal.KindMessage, ExternalID: "-1_m12345_7", Text: "x"}
	logger.Info("got", source.AppealAttr("appeal", msg))
	if out := buf.String(); strings.Contains(out, "12345") {
		t.Errorf("a message's id (which embeds the sender) is logged in clear: %s", out)
	}
}
