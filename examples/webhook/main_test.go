package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
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

// waitFor polls until cond holds or 5s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// intake is a running example program.
type intake struct {
	url         string
	secret      string
	out, errOut *syncBuffer
	stop        func() error
}

func startIntake(t *testing.T, secret string, args ...string) *intake {
	t.Helper()
	in := &intake{secret: secret, out: &syncBuffer{}, errOut: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), func(k string) string {
			if k == "WEBHOOK_SECRET" {
				return secret
			}
			return ""
		}, in.out, in.errOut)
	}()
	var once sync.Once
	var runErr error
	in.stop = func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() { _ = in.stop() })
	waitFor(t, "the listening line", func() bool {
		for _, l := range in.errOut.Lines() {
			if rest, ok := strings.CutPrefix(l, "listening on "); ok {
				in.url = rest
				return true
			}
		}
		return false
	})
	return in
}

// send posts body signed with sig ("" for none), waiting while the pipeline
// starts.
func (in *intake) send(t *testing.T, body, sig string) (int, map[string]any) {
	t.Helper()
	for {
		req, _ := http.NewRequest(http.MethodPost, in.url, strings.NewReader(body))
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

// post sends signed appeals and waits until the program printed them.
func (in *intake) post(t *testing.T, body string, n int) []printed {
	t.Helper()
	before := len(in.out.Lines())
	if code, rep := in.send(t, body, webhook.Sign([]byte(in.secret), []byte(body))); code != http.StatusAccepted {
		t.Fatalf("POST %s: %d %v", body, code, rep)
	}
	waitFor(t, "printed lines", func() bool { return len(in.out.Lines()) >= before+n })
	return parseLines(t, in.out.Lines()[before:])
}

// printed is what the tests read from a printed line.
type printed struct {
	raw     string
	Outcome string
	Appeal  struct {
		ID, Text, Status, Municipality string
		Topics                         []struct {
			Code  string
			Score float64
		}
		Assignment *struct {
			Executor    string
			CoExecutors []string `json:"co_executors"`
			RuleID      string   `json:"rule_id"`
			Deadline    time.Time
		}
	}
}

func (p printed) topic() string {
	if len(p.Appeal.Topics) == 0 {
		return ""
	}
	return p.Appeal.Topics[0].Code
}

func (p printed) executor() string {
	if p.Appeal.Assignment == nil {
		return ""
	}
	return p.Appeal.Assignment.Executor
}

func parseLines(t *testing.T, lines []string) []printed {
	t.Helper()
	var out []printed
	for _, l := range lines {
		p := printed{raw: l}
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		out = append(out, p)
	}
	return out
}

func TestIntakeClassifiesAndRoutes(t *testing.T) {
	in := startIntake(t, "s3cret")
	batch := `[{"external_id":"f-1","text":"Не вывозят мусор","author":{"id":"u1","name":"Мария Иванова"}},{"external_id":"f-2","text":"Яма на дороге у школы"}]`
	if code, _ := in.send(t, batch, webhook.Sign([]byte("wrong"), []byte(batch))); code != http.StatusUnauthorized {
		t.Errorf("bad signature: %d", code)
	}
	bad := `{"external_id":"f-3","text":"x","created_at":"вчера"}`
	if code, rep := in.send(t, bad, webhook.Sign([]byte(in.secret), []byte(bad))); code != http.StatusBadRequest || rep["field"] != "created_at" {
		t.Errorf("bad field: %d %v", code, rep)
	}
	got := in.post(t, batch, 2)
	res, err := http.Get(strings.TrimSuffix(in.url, "/appeals") + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(in.out.Lines()); n != 2 {
		t.Fatalf("printed %d lines, want 2 (the rejected requests store nothing): %q", n, in.out.Lines())
	}
	byID := map[string]printed{}
	for _, p := range got {
		byID[p.Appeal.ID] = p
	}
	// No district is named, so the regional body for the topic answers.
	for id, want := range map[string]struct{ topic, executor, rule string }{
		"web:f-1": {"garbage", "housing-inspection", "housing"},
		"web:f-2": {"roads", "roads-committee", "roads"},
	} {
		p, ok := byID[id]
		if !ok {
			t.Errorf("%s not printed: %q", id, in.out.Lines())
			continue
		}
		if p.Outcome != "routed" || p.Appeal.Status != "routed" || p.topic() != want.topic || p.executor() != want.executor ||
			p.Appeal.Assignment.RuleID != want.rule || p.Appeal.Assignment.Deadline.IsZero() {
			t.Errorf("%s: outcome %s, status %s, topic %q, executor %q, want %s → %s by rule %s, with a deadline: %s",
				id, p.Outcome, p.Appeal.Status, p.topic(), p.executor(), want.topic, want.executor, want.rule, p.raw)
		}
	}
	if strings.Contains(byID["web:f-1"].raw, "Мария") {
		t.Errorf("author printed in clear: %s", byID["web:f-1"].raw)
	}
}

func TestGazetteerRoutesToTheDistrict(t *testing.T) {
	in := startIntake(t, "s3cret", "-gazetteer", filepath.Join("testdata", "gazetteer.yaml"))
	got := in.post(t, `{"external_id":"f-9","text":"В Беседино третью неделю не вывозят мусор"}`, 1)
	p := got[0]
	if p.Appeal.Municipality != "Курский район" || p.topic() != "garbage" || p.executor() != "kursky-admin" {
		t.Fatalf("municipality %q, topic %q, executor %q; want Курский район, garbage, kursky-admin: %s",
			p.Appeal.Municipality, p.topic(), p.executor(), p.raw)
	}
}

func TestRulesFileIsReloaded(t *testing.T) {
	const from = "executor: housing-inspection     # management companies answer to the inspection"
	if !bytes.Contains(rules.Region, []byte(from)) {
		t.Fatalf("examples/rules/region.yaml has no line %q to change", from)
	}
	path := filepath.Join(t.TempDir(), "region.yaml")
	if err := os.WriteFile(path, rules.Region, 0o600); err != nil {
		t.Fatal(err)
	}
	in := startIntake(t, "s3cret", "-rules", path, "-rules-every", "10ms")
	if p := in.post(t, `{"external_id":"r-1","text":"Не вывозят мусор"}`, 1)[0]; p.executor() != "housing-inspection" {
		t.Fatalf("before the edit: executor %q: %s", p.executor(), p.raw)
	}

	// A broken file is reported and leaves the rules in force.
	if err := os.WriteFile(path, []byte("version: 1\nrules:\n  - id: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reload error", func() bool { return strings.Contains(strings.Join(in.errOut.Lines(), "\n"), "rules not reloaded") })
	if p := in.post(t, `{"external_id":"r-2","text":"Не вывозят мусор"}`, 1)[0]; p.executor() != "housing-inspection" {
		t.Fatalf("after a bad file: executor %q: %s", p.executor(), p.raw)
	}

	edited := bytes.Replace(rules.Region, []byte(from), []byte("executor: region-admin"), 1)
	if err := os.WriteFile(path, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reload", func() bool { return strings.Contains(strings.Join(in.errOut.Lines(), "\n"), "rules reloaded") })
	if p := in.post(t, `{"external_id":"r-3","text":"Не вывозят мусор"}`, 1)[0]; p.executor() != "region-admin" {
		t.Fatalf("after the edit: executor %q: %s", p.executor(), p.raw)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
}

func TestBadFlags(t *testing.T) {
	noEnv := func(string) string { return "" }
	if err := run(context.Background(), []string{"-addr", "not an address"}, noEnv, &syncBuffer{}, &syncBuffer{}); err == nil {
		t.Fatal("bad address accepted")
	}
	if err := run(context.Background(), []string{"-max-body", "-5"}, noEnv, &syncBuffer{}, &syncBuffer{}); err == nil {
		t.Fatal("negative body limit accepted")
	}
	err := run(context.Background(), []string{"-rules", filepath.Join(t.TempDir(), "none.yaml")}, noEnv, &syncBuffer{}, &syncBuffer{})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "-rules") {
		t.Fatalf("missing rules file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\nrules:\n  - id: x\n    executor: nobody\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"-rules", bad}, noEnv, &syncBuffer{}, &syncBuffer{})
	if !errors.Is(err, route.ErrInvalidRules) || !strings.Contains(err.Error(), `bad.yaml:4:15: rule "x": executor: unknown executor "nobody"`) {
		t.Fatalf("bad rules file: %v, want an error naming bad.yaml, line 4 and the unknown executor", err)
	}
	err = run(context.Background(), []string{"-gazetteer", filepath.Join("testdata", "bad-gazetteer.yaml")}, noEnv, &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "bad-gazetteer.yaml") {
		t.Fatalf("bad gazetteer: %v", err)
	}
}

// The same intake from a deployment file: a SQLite store, the rules beside
// it, the web form as a source of kind webhook whose secret the file names.
func TestDeploymentFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rules.Region, 0o600); err != nil {
		t.Fatal(err)
	}
	deploy := filepath.Join(dir, "deploy.yaml")
	if err := os.WriteFile(deploy, []byte("store: {driver: sqlite, dsn: appeals.db}\nroute: {rules: rules.yaml}\nsources:\n  - {name: form, kind: webhook, secret_env: WEBHOOK_SECRET}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := startIntake(t, "s3cret", "-deploy", deploy)
	got := in.post(t, `{"external_id":"f-1","text":"Яма на дороге у школы"}`, 1)
	if got[0].Appeal.ID != "web:f-1" || got[0].executor() != "roads-committee" {
		t.Errorf("want web:f-1 routed to roads-committee: %s", got[0].raw)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "appeals.db")); err != nil {
		t.Errorf("the store is not the file's: %v", err)
	}

	// Without the secret the file names: an error at its line, naming it.
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-deploy", deploy}, func(string) string { return "" }, &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), deploy+":4:45: sources[0].secret_env: environment variable WEBHOOK_SECRET is not set") {
		t.Fatalf("missing secret: %v", err)
	}
}
