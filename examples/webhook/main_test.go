package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appealkit/appealkit/source/webhook"
)

type syncBuffer struct {
	mu    sync.Mutex
	lines []string
	part  string
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.part + string(p)
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			break
		}
		b.lines = append(b.lines, s[:i])
		s = s[i+1:]
	}
	b.part = s
	return len(p), nil
}

func (b *syncBuffer) Lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.lines...)
}

func TestIntakeEndToEnd(t *testing.T) {
	secret := "s3cret"
	out, errOut := &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(k string) string {
			if k == "WEBHOOK_SECRET" {
				return secret
			}
			return ""
		}, out, errOut)
	}()
	var url string
	for deadline := time.Now().Add(5 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, l := range errOut.Lines() {
			if rest, ok := strings.CutPrefix(l, "listening on "); ok {
				url = rest
			}
		}
	}
	if url == "" {
		t.Fatalf("no listening line: %q", errOut.Lines())
	}
	send := func(body, sig string) (int, map[string]any) {
		t.Helper()
		for {
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if sig != "" {
				req.Header.Set(webhook.DefaultSignatureHeader, sig)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var rep map[string]any
			_ = json.NewDecoder(res.Body).Decode(&rep)
			res.Body.Close()
			if res.StatusCode == http.StatusServiceUnavailable && rep["accepted"] == float64(0) && strings.Contains(rep["error"].(string), "not running") {
				time.Sleep(10 * time.Millisecond) // the pipeline is starting
				continue
			}
			return res.StatusCode, rep
		}
	}
	batch := `[{"external_id":"f-1","text":"Не вывозят мусор","author":{"id":"u1","name":"Мария Иванова"}},{"external_id":"f-2","text":"Яма у школы"}]`
	if code, rep := send(batch, webhook.Sign([]byte(secret), []byte(batch))); code != http.StatusAccepted || rep["accepted"] != float64(2) {
		t.Fatalf("batch: %d %v", code, rep)
	}
	if code, _ := send(batch, webhook.Sign([]byte("wrong"), []byte(batch))); code != http.StatusUnauthorized {
		t.Errorf("bad signature: %d", code)
	}
	bad := `{"external_id":"f-3","text":"x","created_at":"вчера"}`
	code, rep := send(bad, webhook.Sign([]byte(secret), []byte(bad)))
	if code != http.StatusBadRequest || rep["field"] != "created_at" {
		t.Errorf("bad field: %d %v", code, rep)
	}
	res, err := http.Get(strings.TrimSuffix(url, "/appeals") + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Errorf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lines := out.Lines()
	if len(lines) != 2 {
		t.Fatalf("printed %q", lines)
	}
	if !strings.Contains(lines[0], `"outcome":"stored"`) || !strings.Contains(lines[0], `"id":"web:f-1"`) || strings.Contains(lines[0], "Мария") {
		t.Errorf("line %s", lines[0])
	}
}

func TestBadFlags(t *testing.T) {
	if err := run(context.Background(), []string{"-addr", "not an address"}, func(string) string { return "" }, &syncBuffer{}, &syncBuffer{}); err == nil {
		t.Fatal("bad address accepted")
	}
	if err := run(context.Background(), []string{"-max-body", "-5"}, func(string) string { return "" }, &syncBuffer{}, &syncBuffer{}); err == nil {
		t.Fatal("negative body limit accepted")
	}
}
