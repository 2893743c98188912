package route_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/route"
)

const rulesV1 = `
executors: [{id: duty}, {id: roads}, {id: roads2}]
fallback: {executor: duty}
rules:
  - {id: roads, when: {topics: [roads]}, executor: roads}
`

func TestRouterReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(path, []byte(rulesV1), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := route.OpenReloader(path)
	if err != nil {
		t.Fatal(err)
	}
	a := &appeal.Appeal{Topics: []appeal.TopicScore{{Code: "roads", Score: 1}}}
	if got := r.Route(a, monday10).Executor; got != "roads" {
		t.Fatalf("v1: %s", got)
	}

	// A bad file keeps the rules in force and says why.
	if err := os.WriteFile(path, []byte("executors: [{id: duty}]\nfallback: {executor: nobody}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = r.Reload(path)
	var re *route.RuleError
	if !errors.As(err, &re) || re.Line != 2 {
		t.Fatalf("bad reload: %v", err)
	}
	if got := r.Route(a, monday10).Executor; got != "roads" {
		t.Fatalf("bad file replaced the rules: %s", got)
	}
	if r.LastError() == nil {
		t.Fatal("LastError lost the failure")
	}

	// A good file swaps in.
	v2 := []byte(rulesV1[:len(rulesV1)-len("executor: roads}\n")] + "executor: roads2}\n")
	if err := os.WriteFile(path, v2, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(path); err != nil {
		t.Fatal(err)
	}
	if got := r.Route(a, monday10).Executor; got != "roads2" {
		t.Fatalf("v2: %s", got)
	}
}

func TestRouterWatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(path, []byte(rulesV1), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := route.OpenReloader(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	reports := make(chan error, 16)
	done := make(chan error, 1)
	go func() { done <- r.Watch(ctx, path, 5*time.Millisecond, func(err error) { reports <- err }) }()

	// Route concurrently while the file changes under the router.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	a := &appeal.Appeal{Topics: []appeal.TopicScore{{Code: "roads", Score: 1}}}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if ex := r.Route(a, monday10).Executor; ex != "roads" && ex != "roads2" {
					t.Errorf("routed to %q mid-reload", ex)
					return
				}
			}
		}()
	}

	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		// Make the change visible even on file systems with coarse mtimes.
		future := time.Now().Add(time.Duration(len(s)) * time.Second)
		if err := os.Chtimes(path, future, future); err != nil {
			t.Fatal(err)
		}
	}
	wait := func() error {
		t.Helper()
		select {
		case err := <-reports:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("no reload reported")
			return nil
		}
	}
	write("rules: [")
	if err := wait(); err == nil {
		t.Fatal("broken file reported as loaded")
	}
	write(rulesV1 + "  - {id: r2, when: {topics: [snow]}, executor: roads2}\n")
	if err := wait(); err != nil {
		t.Fatalf("good file: %v", err)
	}
	if n := len(r.Engine().Rules()); n != 2 {
		t.Fatalf("new rules not in force: %d rules", n)
	}
	close(stop)
	wg.Wait()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch returned %v", err)
	}
}
