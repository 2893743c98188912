package replay

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/adaptertest"
)

var quiet = slog.New(slog.DiscardHandler)

// memCheckpoints is a minimal source.Checkpoints for these tests.
type memCheckpoints struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *memCheckpoints) Load(_ context.Context, k string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k], nil
}

func (c *memCheckpoints) Save(_ context.Context, k, v string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	c.m[k] = v
	return nil
}

func sample(n int) []appeal.Appeal {
	out := make([]appeal.Appeal, n)
	for i := range out {
		out[i] = appeal.Appeal{
			Network:    appeal.NetworkVK,
			Kind:       appeal.KindComment,
			ExternalID: fmt.Sprintf("-1_%d", i+1),
			Text:       fmt.Sprintf("Яма на дороге №%d <b>&</b>", i+1),
			Author:     appeal.Author{ID: strconv.Itoa(100 + i), Name: "Иван"},
			CreatedAt:  time.Date(2026, 1, 2, 3, 4, i, 0, time.UTC),
		}
	}
	return out
}

func writeFile(t testing.TB, as []appeal.Appeal, gz bool) string {
	t.Helper()
	var buf bytes.Buffer
	var zw *gzip.Writer
	w := NewWriter(&buf)
	if gz {
		zw = gzip.NewWriter(&buf)
		w = NewWriter(zw)
	}
	for _, a := range as {
		if err := w.Write(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	name := "appeals.jsonl"
	if gz {
		name = "appeals.data" // detection is by magic bytes, not by name
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// gzipped returns s gzip-compressed.
func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.String()
}

func writeRaw(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "raw.jsonl")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func ids(as []appeal.Appeal) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ExternalID)
	}
	return out
}

func TestRunDeliversAllAndResumesExactlyAfterSinkFailure(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			want := sample(5)
			path := writeFile(t, want, gz)
			cp := &memCheckpoints{}
			s, err := New(Config{Logger: quiet, Path: path, Checkpoints: cp})
			if err != nil {
				t.Fatal(err)
			}
			c := &adaptertest.Sink{FailAt: 3}
			err = s.Run(context.Background(), c.Sink)
			if !errors.Is(err, adaptertest.ErrDown) {
				t.Fatalf("Run = %v, want the sink's error", err)
			}
			if !strings.Contains(err.Error(), "line 3") {
				t.Errorf("error %q does not name line 3", err)
			}
			if got := ids(c.Appeals()); strings.Join(got, ",") != "-1_1,-1_2" {
				t.Fatalf("first run delivered %v", got)
			}
			// Restart: continues at line 3, exactly.
			c2 := &adaptertest.Sink{}
			if err := s.Run(context.Background(), c2.Sink); err != nil {
				t.Fatal(err)
			}
			if got := ids(c2.Appeals()); strings.Join(got, ",") != "-1_3,-1_4,-1_5" {
				t.Fatalf("second run delivered %v", got)
			}
			if c2.Appeals()[0].ID != "vk:-1_3" || c2.Appeals()[0].Text != want[2].Text || !c2.Appeals()[0].CreatedAt.Equal(want[2].CreatedAt) {
				t.Errorf("round trip changed the appeal: %+v", c2.Appeals()[0])
			}
			// A third run has nothing left.
			c3 := &adaptertest.Sink{}
			if err := s.Run(context.Background(), c3.Sink); err != nil || len(c3.Appeals()) != 0 {
				t.Fatalf("third run: %v, %d delivered", err, len(c3.Appeals()))
			}
		})
	}
}

func TestCheckpointIsUncompressedOffset(t *testing.T) {
	as := sample(3)
	var plain bytes.Buffer
	w := NewWriter(&plain)
	for _, a := range as {
		_ = w.Write(a)
	}
	_ = w.Flush()
	path := writeFile(t, as, true)
	cp := &memCheckpoints{}
	s, _ := New(Config{Logger: quiet, Path: path, Checkpoints: cp, Key: "k"})
	if err := s.Run(context.Background(), (&adaptertest.Sink{}).Sink); err != nil {
		t.Fatal(err)
	}
	got, _ := cp.Load(context.Background(), "k")
	if got != strconv.Itoa(plain.Len()) {
		t.Fatalf("checkpoint = %s, want %d (uncompressed length)", got, plain.Len())
	}
}

func TestCheckpointEveryStillSavesOnReturn(t *testing.T) {
	path := writeFile(t, sample(5), false)
	cp := &memCheckpoints{}
	s, _ := New(Config{Logger: quiet, Path: path, Checkpoints: cp, CheckpointEvery: 100})
	c := &adaptertest.Sink{FailAt: 4}
	if err := s.Run(context.Background(), c.Sink); !errors.Is(err, adaptertest.ErrDown) {
		t.Fatal(err)
	}
	c2 := &adaptertest.Sink{}
	if err := s.Run(context.Background(), c2.Sink); err != nil {
		t.Fatal(err)
	}
	if got := ids(c2.Appeals()); strings.Join(got, ",") != "-1_4,-1_5" {
		t.Fatalf("resumed with %v", got)
	}
}

func TestBadLines(t *testing.T) {
	good := `{"network":"vk","external_id":"1","text":"ok"}`
	cases := []struct {
		name, line, field, msg string
	}{
		{"truncated JSON", `{"network":"vk","external_id":"2","text":"обрыв`, "", "truncated"},
		{"wrong type", `{"network":"vk","external_id":"2","text":5}`, "text", "want a string"},
		{"nested wrong type", `{"network":"vk","external_id":"2","geo":{"lat":"55.1","lon":36}}`, "geo.lat", "want a number"},
		{"bad time", `{"network":"vk","external_id":"2","created_at":"вчера"}`, "created_at", "parsing time"},
		{"bad nested time", `{"network":"vk","external_id":"2","history":[{"at":"2026-01-01T00:00:00Z","to":"new"},{"at":"noon","to":"routed"}]}`, "history.at", "parsing time"},
		{"unknown field", `{"network":"vk","external_id":"2","txt":"опечатка"}`, "txt", "unknown field"},
		{"missing external_id", `{"network":"vk","text":"нет id"}`, "external_id", "empty"},
		{"bad kind", `{"network":"vk","external_id":"2","kind":"tweet"}`, "kind", "unknown kind"},
		{"invalid UTF-8", "{\"network\":\"vk\",\"external_id\":\"2\",\"text\":\"\xff\xfe\"}", "", "invalid UTF-8"},
		{"not an object", `[1,2,3]`, "", "want an object"},
		{"trailing data", `{"network":"vk","external_id":"2"} {"x":1}`, "", "after the JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeRaw(t, good+"\n\n"+tc.line+"\n"+strings.Replace(good, `"1"`, `"3"`, 1)+"\n")
			cp := &memCheckpoints{}
			s, _ := New(Config{Logger: quiet, Path: path, Checkpoints: cp})
			c := &adaptertest.Sink{}
			err := s.Run(context.Background(), c.Sink)
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("Run = %v, want *LineError", err)
			}
			if !errors.Is(err, source.ErrMalformed) {
				t.Error("LineError does not match source.ErrMalformed")
			}
			if le.File != path || le.Line != 3 || le.Field != tc.field || !strings.Contains(le.Error(), tc.msg) {
				t.Errorf("got %+v (%q), want line 3 field %q containing %q", le, le.Error(), tc.field, tc.msg)
			}
			if len(c.Appeals()) != 1 {
				t.Fatalf("delivered %d before the bad line, want 1", len(c.Appeals()))
			}
			// The good line before was checkpointed: a fixed file would
			// continue at the bad line, not before it.
			off, _ := cp.Load(context.Background(), s.Key())
			if off != strconv.Itoa(len(good)+2) { // the good line and the blank one
				t.Errorf("checkpoint %s, want %d", off, len(good)+2)
			}

			// Skip mode reports it and goes on.
			var reported []*LineError
			s2, _ := New(Config{Logger: quiet, Path: path, SkipBadLines: true, OnBadLine: func(e *LineError) { reported = append(reported, e) }})
			c2 := &adaptertest.Sink{}
			if err := s2.Run(context.Background(), c2.Sink); err != nil {
				t.Fatal(err)
			}
			if len(c2.Appeals()) != 2 || len(reported) != 1 || reported[0].Line != 3 {
				t.Fatalf("skip mode: delivered %d, reported %v", len(c2.Appeals()), reported)
			}
		})
	}
}

func TestLineErrorAfterResumeNamesTheRightLine(t *testing.T) {
	for _, gz := range []bool{false, true} {
		lines := `{"network":"ok","external_id":"1"}` + "\n" + `{"network":"ok","external_id":"2"}` + "\n" + `{"network":"ok","external_id":3}` + "\n"
		data := lines
		if gz {
			data = gzipped(lines)
		}
		path := writeRaw(t, data)
		cp := &memCheckpoints{}
		off := strings.Index(lines, `{"network":"ok","external_id":"2"}`)
		_ = cp.Save(context.Background(), "k", strconv.Itoa(off))
		s, _ := New(Config{Logger: quiet, Path: path, Checkpoints: cp, Key: "k"})
		c := &adaptertest.Sink{}
		err := s.Run(context.Background(), c.Sink)
		var le *LineError
		if !errors.As(err, &le) || le.Line != 3 || le.Field != "external_id" {
			t.Fatalf("gzip=%v: %v (%+v)", gz, err, le)
		}
		if len(c.Appeals()) != 1 || c.Appeals()[0].ExternalID != "2" {
			t.Fatalf("gzip=%v: delivered %v", gz, ids(c.Appeals()))
		}
	}
}

func TestLongLine(t *testing.T) {
	long := `{"network":"vk","external_id":"2","text":"` + strings.Repeat("я", 200) + `"}`
	path := writeRaw(t, long+"\n"+`{"network":"vk","external_id":"3"}`)
	s, _ := New(Config{Logger: quiet, Path: path, MaxLineBytes: 100, SkipBadLines: true})
	c := &adaptertest.Sink{}
	var rep []*LineError
	s.cfg.OnBadLine = func(e *LineError) { rep = append(rep, e) }
	if err := s.Run(context.Background(), c.Sink); err != nil {
		t.Fatal(err)
	}
	if len(rep) != 1 || rep[0].Line != 1 || !strings.Contains(rep[0].Error(), "longer than 100 bytes") {
		t.Fatalf("reported %v", rep)
	}
	// The final line has no newline and still counts.
	if len(c.Appeals()) != 1 || c.Appeals()[0].ExternalID != "3" {
		t.Fatalf("delivered %v", ids(c.Appeals()))
	}
}

func TestBadCheckpoint(t *testing.T) {
	path := writeFile(t, sample(2), false)
	for _, tc := range []struct{ cur, msg string }{
		{"abc", "not a byte offset"},
		{"-5", "not a byte offset"},
		{"3", "not at the start of a line"},
		{"99999", "past the end"},
	} {
		cp := &memCheckpoints{}
		_ = cp.Save(context.Background(), "k", tc.cur)
		s, _ := New(Config{Logger: quiet, Path: path, Checkpoints: cp, Key: "k"})
		err := s.Run(context.Background(), (&adaptertest.Sink{}).Sink)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("checkpoint %s: %v, want %q", tc.cur, err, tc.msg)
		}
	}
	gzPath := writeFile(t, sample(2), true)
	cp := &memCheckpoints{}
	_ = cp.Save(context.Background(), "k", "99999")
	s, _ := New(Config{Logger: quiet, Path: gzPath, Checkpoints: cp, Key: "k"})
	if err := s.Run(context.Background(), (&adaptertest.Sink{}).Sink); err == nil || !strings.Contains(err.Error(), "past the end") {
		t.Errorf("gzip past end: %v", err)
	}
}

func TestTruncatedGzipKeepsWhatWasAccepted(t *testing.T) {
	full := writeFile(t, sample(200), true)
	data, _ := os.ReadFile(full)
	path := writeRaw(t, string(data[:len(data)*2/3]))
	cp := &memCheckpoints{}
	s, _ := New(Config{Logger: quiet, Path: path, Checkpoints: cp, Key: "k"})
	c := &adaptertest.Sink{}
	err := s.Run(context.Background(), c.Sink)
	if err == nil {
		t.Fatal("a truncated gzip file gave no error")
	}
	off, _ := cp.Load(context.Background(), "k")
	if len(c.Appeals()) == 0 || off == "" {
		t.Fatalf("nothing delivered/saved before the damage: %d, %q", len(c.Appeals()), off)
	}
	// Resuming from the checkpoint on the intact file delivers the rest
	// exactly once.
	s2, _ := New(Config{Logger: quiet, Path: full, Checkpoints: cp, Key: "k"})
	c2 := &adaptertest.Sink{}
	if err := s2.Run(context.Background(), c2.Sink); err != nil {
		t.Fatal(err)
	}
	if len(c.Appeals())+len(c2.Appeals()) != 200 || c2.Appeals()[0].ExternalID != fmt.Sprintf("-1_%d", len(c.Appeals())+1) {
		t.Fatalf("delivered %d + %d (next %s)", len(c.Appeals()), len(c2.Appeals()), c2.Appeals()[0].ExternalID)
	}
}

func TestCancelSavesAndReturnsPromptly(t *testing.T) {
	path := writeFile(t, sample(10), false)
	cp := &memCheckpoints{}
	s, _ := New(Config{Logger: quiet, Path: path, Checkpoints: cp, Key: "k", CheckpointEvery: 50})
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := s.Run(ctx, func(context.Context, appeal.Appeal) error {
		n++
		if n == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	c := &adaptertest.Sink{}
	if err := s.Run(context.Background(), c.Sink); err != nil {
		t.Fatal(err)
	}
	if len(c.Appeals()) != 8 {
		t.Fatalf("after cancel, resumed with %d, want 8", len(c.Appeals()))
	}
}

func TestConcurrentRunRefused(t *testing.T) {
	path := writeFile(t, sample(2), false)
	s, _ := New(Config{Logger: quiet, Path: path})
	// in is buffered: the sink's signal must not be lost when the test has
	// not reached <-in yet (an unbuffered non-blocking send was, and the
	// test hung).
	in, release := make(chan struct{}, 1), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.Run(context.Background(), func(context.Context, appeal.Appeal) error {
			select {
			case in <- struct{}{}:
			default:
			}
			<-release
			return nil
		})
	}()
	<-in
	if err := s.Run(context.Background(), (&adaptertest.Sink{}).Sink); !errors.Is(err, source.ErrAlreadyRunning) {
		t.Errorf("second Run = %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("empty path accepted")
	}
	if _, err := New(Config{Logger: quiet, Path: "x", MaxLineBytes: -1}); err == nil {
		t.Error("negative MaxLineBytes accepted")
	}
	s, _ := New(Config{Logger: quiet, Path: filepath.Join(t.TempDir(), "missing.jsonl")})
	if err := s.Run(context.Background(), (&adaptertest.Sink{}).Sink); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestWriterRefusesInvalid(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	err := w.Write(appeal.Appeal{Network: "vk"})
	var fe *appeal.FieldError
	if !errors.As(err, &fe) || fe.Field != "external_id" {
		t.Fatalf("Write = %v", err)
	}
	_ = w.Flush()
	if b.Len() != 0 {
		t.Fatalf("wrote %q", b.String())
	}
}

func BenchmarkRun(b *testing.B) {
	path := writeFile(b, sample(10000), false)
	st, _ := os.Stat(path)
	s, _ := New(Config{Logger: quiet, Path: path})
	b.ReportAllocs()
	b.SetBytes(st.Size())
	for b.Loop() {
		if err := s.Run(context.Background(), func(context.Context, appeal.Appeal) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "appeals/s")
}

func appendTo(t *testing.T, path, more string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(more); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestByteOrderMarkIsSkipped(t *testing.T) {
	content := "\xEF\xBB\xBF" + `{"network":"vk","external_id":"1"}` + "\n" + `{"network":"vk","external_id":"2"}` + "\n"
	for _, gz := range []bool{false, true} {
		data := content
		if gz {
			data = gzipped(content)
		}
		cp := &memCheckpoints{}
		s, _ := New(Config{Logger: quiet, Path: writeRaw(t, data), Checkpoints: cp, Key: "k"})
		c := &adaptertest.Sink{}
		if err := s.Run(context.Background(), c.Sink); err != nil {
			t.Fatalf("gzip=%v: %v", gz, err)
		}
		if got := ids(c.Appeals()); len(got) != 2 || got[0] != "1" {
			t.Fatalf("gzip=%v: delivered %v", gz, got)
		}
		if off, _ := cp.Load(context.Background(), "k"); off != strconv.Itoa(len(content)) {
			t.Errorf("gzip=%v: checkpoint %s, want %d (the BOM counts in the offset)", gz, off, len(content))
		}
	}
}

// A writer appends to the file between runs: the checkpoint must never stop
// inside a line that was not finished when it was read.
func TestGrowingFileResumesAtUnfinishedLine(t *testing.T) {
	const a, b, c = `{"network":"vk","external_id":"a"}`, `{"network":"vk","external_id":"b"}`, `{"network":"vk","external_id":"c"}`
	run := func(t *testing.T, path string, cp *memCheckpoints, skip bool) []string {
		t.Helper()
		s, _ := New(Config{Logger: quiet, Path: path, Checkpoints: cp, Key: "k", SkipBadLines: skip})
		col := &adaptertest.Sink{}
		if err := s.Run(context.Background(), col.Sink); err != nil {
			t.Fatal(err)
		}
		return ids(col.Appeals())
	}
	checkpoint := func(cp *memCheckpoints) string { v, _ := cp.Load(context.Background(), "k"); return v }

	t.Run("last line complete but without newline", func(t *testing.T) {
		path := writeRaw(t, a+"\n"+b)
		cp := &memCheckpoints{}
		if got := run(t, path, cp, false); fmt.Sprint(got) != "[a b]" {
			t.Fatalf("first run delivered %v", got)
		}
		if got := checkpoint(cp); got != strconv.Itoa(len(a)+1) {
			t.Fatalf("checkpoint %s moved into the unfinished line (want %d)", got, len(a)+1)
		}
		appendTo(t, path, "\n"+c+"\n")
		if got := run(t, path, cp, false); fmt.Sprint(got) != "[b c]" {
			t.Fatalf("after growth delivered %v, want b again (at least once) and c", got)
		}
		if got := checkpoint(cp); got != strconv.Itoa(len(a+b+c)+3) {
			t.Fatalf("checkpoint %s, want the end", got)
		}
	})
	for _, skip := range []bool{false, true} {
		t.Run(fmt.Sprintf("half-written line, SkipBadLines=%v", skip), func(t *testing.T) {
			half := len(b) / 2
			path := writeRaw(t, a+"\n"+b[:half])
			cp := &memCheckpoints{}
			if got := run(t, path, cp, skip); fmt.Sprint(got) != "[a]" {
				t.Fatalf("first run delivered %v", got)
			}
			if got := checkpoint(cp); got != strconv.Itoa(len(a)+1) {
				t.Fatalf("checkpoint %s, want the start of the half-written line %d", got, len(a)+1)
			}
			appendTo(t, path, b[half:]+"\n"+c+"\n")
			if got := run(t, path, cp, skip); fmt.Sprint(got) != "[b c]" {
				t.Fatalf("after the writer finished delivered %v", got)
			}
		})
	}
	t.Run("a broken last line is still reported once it ends", func(t *testing.T) {
		path := writeRaw(t, a+"\n"+`{"network":"vk","exter`)
		cp := &memCheckpoints{}
		run(t, path, cp, false)
		appendTo(t, path, "\n")
		s, _ := New(Config{Logger: quiet, Path: path, Checkpoints: cp, Key: "k"})
		var le *LineError
		if err := s.Run(context.Background(), (&adaptertest.Sink{}).Sink); !errors.As(err, &le) || le.Line != 2 {
			t.Fatalf("Run = %v, want a *LineError at line 2", err)
		}
	})
}
