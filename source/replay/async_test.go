package replay

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// writeAppeals writes appeals as a replay file and returns its path and
// the offset after each line.
func writeAppeals(t *testing.T, as []appeal.Appeal) (string, []int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "appeals.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var ends []int64
	cw := &countingWriter{w: f}
	w := NewWriter(cw)
	for _, a := range as {
		if err := w.Write(a); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		ends = append(ends, cw.n)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, ends
}

type countingWriter struct {
	w interface{ Write([]byte) (int, error) }
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// asyncStore answers appeals from another goroutine, out of order within
// each batch of 50, refusing one chosen appeal; it records the most
// appeals it held at once.
type asyncStore struct {
	refuse  appeal.ID
	mu      sync.Mutex
	held    []func()
	maxHeld int
	got     map[appeal.ID]bool
}

func (s *asyncStore) sink(_ context.Context, a appeal.Appeal, done func(error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		s.got = map[appeal.ID]bool{}
	}
	var err error
	if a.ID == s.refuse {
		err = errors.New("refused by the test")
	} else {
		s.got[a.ID] = true
	}
	s.held = append(s.held, func() { done(err) })
	s.maxHeld = max(s.maxHeld, len(s.held))
	if len(s.held) == 50 {
		held := s.held
		s.held = nil
		go func() {
			for i := len(held) - 1; i >= 0; i-- { // newest first
				held[i]()
			}
		}()
	}
	return nil
}

// flushLoop answers what is held once nothing new arrived for a while (the
// tail of the file, fewer than a batch), until ctx ends.
func (s *asyncStore) flushLoop(ctx context.Context) {
	last, idle := -1, 0
	for ctx.Err() == nil {
		time.Sleep(time.Millisecond)
		s.mu.Lock()
		if len(s.held) != last {
			last, idle = len(s.held), 0
			s.mu.Unlock()
			continue
		}
		if idle++; idle < 20 || len(s.held) == 0 {
			s.mu.Unlock()
			continue
		}
		held := s.held
		s.held, last = nil, 0
		s.mu.Unlock()
		for _, f := range held {
			f()
		}
	}
}

func TestRunAsyncKeepsManyInFlightAndCheckpointsOnlyTheStoredPrefix(t *testing.T) {
	as := sample(500)
	path, ends := writeAppeals(t, as)
	cp := &memCheckpoints{}
	s, err := New(Config{Logger: quiet, Path: path, Checkpoints: cp, Window: 100})
	if err != nil {
		t.Fatal(err)
	}
	st := &asyncStore{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go st.flushLoop(ctx)
	if err := s.RunAsync(context.Background(), st.sink); err != nil {
		t.Fatal(err)
	}
	if st.maxHeld < 2 {
		t.Errorf("at most %d appeal was in flight, want many", st.maxHeld)
	}
	if len(st.got) != 500 {
		t.Errorf("delivered %d, want 500", len(st.got))
	}
	off, _ := cp.Load(ctx, s.Key())
	if off != strconv.FormatInt(ends[len(ends)-1], 10) {
		t.Errorf("checkpoint %s, want the end %d", off, ends[len(ends)-1])
	}
}

func TestRunAsyncStopsAtARefusalAndResumesThere(t *testing.T) {
	as := sample(300)
	path, ends := writeAppeals(t, as)
	cp := &memCheckpoints{}
	s, err := New(Config{Logger: quiet, Path: path, Checkpoints: cp, Window: 64})
	if err != nil {
		t.Fatal(err)
	}
	bad := as[172]
	if err := bad.Normalize(); err != nil {
		t.Fatal(err)
	}
	st := &asyncStore{refuse: bad.ID}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go st.flushLoop(ctx)
	err = s.RunAsync(context.Background(), st.sink)
	if err == nil || !strings.Contains(err.Error(), "line 173") || !strings.Contains(err.Error(), string(bad.ID)) {
		t.Fatalf("RunAsync = %v, want the refusal naming line 173 and %s", err, bad.ID)
	}
	var re *source.RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("%v is not a *source.RefusedError", err)
	}
	off, _ := cp.Load(ctx, s.Key())
	if off != strconv.FormatInt(ends[171], 10) {
		t.Errorf("checkpoint %s, want %d: just before the refused line, though later ones were accepted", off, ends[171])
	}

	// The next run starts at the refused line.
	var first appeal.ID
	s2, _ := New(Config{Logger: quiet, Path: path, Checkpoints: cp})
	if err := s2.Run(context.Background(), func(_ context.Context, a appeal.Appeal) error {
		if first == "" {
			first = a.ID
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if first != bad.ID {
		t.Errorf("resumed at %s, want %s", first, bad.ID)
	}
}
