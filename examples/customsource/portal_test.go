package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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

func TestRunPrintsAppeals(t *testing.T) {
	srv := startPortal(t, sourcetest.Upstream{Items: []sourcetest.Item{{Text: "яма-у-школы"}, {Text: "нет-света"}}})
	out := &lines{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-url", srv.URL, "-every", "10ms", "-checkpoints", filepath.Join(t.TempDir(), "cp.json")}, out, &lines{})
	}()
	for deadline := time.Now().Add(5 * time.Second); strings.Count(out.String(), "\n") < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Count(got, "\n") != 2 || !strings.Contains(got, `"id":"portal:1"`) || !strings.Contains(got, "нет-света") {
		t.Fatalf("printed %q", got)
	}
	if err := run(context.Background(), nil, out, &lines{}); err == nil {
		t.Fatal("missing -url accepted")
	}
}
