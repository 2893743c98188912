package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/sourcetest"
)

// startPortal serves the suite's items the way the portal does, or broken
// JSON when asked to.
func startPortal(t *testing.T, up sourcetest.Upstream) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		if up.Malformed {
			fmt.Fprint(w, `{"items":[{"id":1,"text":"`+up.Items[0].Text)
			return
		}
		var items []portalItem
		for i, it := range up.Items {
			if id := int64(i + 1); id > after {
				items = append(items, portalItem{ID: id, Text: "Обращение: " + it.Text, Created: time.Date(2026, 1, 2, 10, i, 0, 0, time.UTC)})
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"items": items})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// This is the whole conformance test an integrator writes.
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Features{Checkpointed: true, Malformed: true},
		func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
			srv := startPortal(t, up)
			return func(cp source.Checkpoints) source.Source {
				return &portalSource{URL: srv.URL, Client: srv.Client(), Checkpoints: cp, Every: 10 * time.Millisecond}
			}
		})
}

type lines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRunClassifiesAndRoutes(t *testing.T) {
	t.Run("flags", func(t *testing.T) {
		testClassifiesAndRoutes(t, func(url string) []string {
			return []string{"-url", url, "-every", "10ms", "-checkpoints", filepath.Join(t.TempDir(), "cp.json")}
		})
	})
	// The same from a deployment file: the portal is a registered kind,
	// the store a SQLite file, the rules a file beside it.
	t.Run("deploy", func(t *testing.T) {
		testClassifiesAndRoutes(t, func(url string) []string {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rules.Region, 0o600); err != nil {
				t.Fatal(err)
			}
			deploy := filepath.Join(dir, "deploy.yaml")
			if err := os.WriteFile(deploy, []byte("store: {driver: sqlite, dsn: appeals.db}\nroute: {rules: rules.yaml}\nsources:\n  - {name: portal, kind: portal, url: \""+url+"\", every: 10ms}\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return []string{"-deploy", deploy}
		})
	})
}

func TestDeployErrorsPointAtTheFile(t *testing.T) {
	deploy := filepath.Join(t.TempDir(), "deploy.yaml")
	if err := os.WriteFile(deploy, []byte("sources:\n  - name: portal\n    kind: portal\n    every: 1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"-deploy", deploy}, &lines{}, &lines{})
	if err == nil || !strings.Contains(err.Error(), deploy+":2:5: sources[0].url: required") {
		t.Fatalf("want the missing url at its place: %v", err)
	}
}

func testClassifiesAndRoutes(t *testing.T, args func(url string) []string) {
	srv := startPortal(t, sourcetest.Upstream{Items: []sourcetest.Item{
		{Text: "яма на дороге у школы"},
		{Text: "в подъезде нет света уже второй день"},
	}})
	out := &lines{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args(srv.URL), out, &lines{})
	}()
	for deadline := time.Now().Add(5 * time.Second); strings.Count(out.String(), "\n") < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != 2 {
		t.Fatalf("printed %q", out.String())
	}
	// No district is named, so the regional body for the topic answers.
	want := map[string]struct{ topic, executor string }{
		"portal:1": {"roads", "roads-committee"},
		"portal:2": {"housing.electricity", "housing-inspection"},
	}
	for _, l := range got {
		var v struct {
			Outcome string
			Appeal  struct {
				ID, Status string
				Topics     []struct{ Code string }
				Assignment *struct{ Executor string }
			}
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		w, ok := want[v.Appeal.ID]
		if !ok {
			t.Errorf("unexpected appeal %s", l)
			continue
		}
		delete(want, v.Appeal.ID)
		if v.Outcome != "routed" || v.Appeal.Status != "routed" || len(v.Appeal.Topics) == 0 || v.Appeal.Topics[0].Code != w.topic ||
			v.Appeal.Assignment == nil || v.Appeal.Assignment.Executor != w.executor {
			t.Errorf("want %s routed to %s: %s", w.topic, w.executor, l)
		}
	}
	if len(want) != 0 {
		t.Errorf("not printed: %v", want)
	}
}

func TestBadArguments(t *testing.T) {
	if err := run(context.Background(), nil, &lines{}, &lines{}); err == nil {
		t.Fatal("missing -url accepted")
	}
	cp := filepath.Join(t.TempDir(), "cp.json")
	err := run(context.Background(), []string{"-url", "http://127.0.0.1:1", "-checkpoints", cp, "-rules", filepath.Join(t.TempDir(), "none.yaml")}, &lines{}, &lines{})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "-rules") {
		t.Fatalf("missing rules file: %v", err)
	}
	err = run(context.Background(), []string{"-url", "http://127.0.0.1:1", "-checkpoints", cp, "-gazetteer", filepath.Join(t.TempDir(), "none.yaml")}, &lines{}, &lines{})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "-gazetteer") {
		t.Fatalf("missing gazetteer file: %v", err)
	}
}
