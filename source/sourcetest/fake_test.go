package sourcetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/sourcetest"
)

// The fake network: GET /items?after=N answers {"items":[{"id":..,"text":..}]}
// with the items whose id is above N. It is the smallest upstream a real
// adapter could poll, and fakeSource is the smallest adapter that polls it
// correctly. Its flaws (the broken field) let the suite show that it fails
// adapters that break the contract.

type fakeItem struct {
	ID   int    `json:"id"`
	Text string `json:"text"`
}

func startFakeNetwork(t *testing.T, up sourcetest.Upstream) *httptest.Server {
	t.Helper()
	items := make([]fakeItem, len(up.Items))
	for i, it := range up.Items {
		items[i] = fakeItem{ID: i + 1, Text: "complaint: " + it.Text}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		after, err := strconv.Atoi(r.URL.Query().Get("after"))
		if err != nil {
			http.Error(w, "bad after", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if up.Malformed {
			fmt.Fprint(w, `{"items":[{"id":1,"text":"trunc`)
			return
		}
		var out []fakeItem
		for _, it := range items {
			if it.ID > after {
				out = append(out, it)
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"items": out})
	}))
	t.Cleanup(srv.Close)
	return srv
}

type fakeSource struct {
	url    string
	client *http.Client
	cp     source.Checkpoints
	poll   time.Duration
	broken string
	finite bool // stop when the upstream has nothing more, like a file

	guard source.RunGuard
}

const fakeKey = "fake"

func (s *fakeSource) Run(ctx context.Context, sink source.Sink) error {
	if s.broken != "noguard" {
		release, err := s.guard.Enter()
		if err != nil {
			return err
		}
		defer release()
	}
	if s.broken == "leak" {
		go func() { select {} }()
	}
	cursor, err := s.cp.Load(ctx, fakeKey)
	if err != nil {
		return err
	}
	after, _ := strconv.Atoi(cursor)
	if s.broken == "noresume" {
		after = 0
	}
	for {
		items, err := s.fetch(ctx, after)
		switch {
		case errors.Is(err, source.ErrMalformed) && s.broken == "swallow":
			// broken: pretend nothing came
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for _, it := range items {
			a := appeal.Appeal{Network: "fake", Kind: appeal.KindPost, ExternalID: strconv.Itoa(it.ID), Text: it.Text}
			if s.broken == "lose" {
				// broken: moves the cursor before the sink accepted, and
				// ignores the sink's refusal.
				after = it.ID
				_ = s.cp.Save(ctx, fakeKey, strconv.Itoa(after))
				_ = sink(ctx, a)
				continue
			}
			if err := sink(ctx, a); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("fake: item %d: %w", it.ID, err)
			}
			after = it.ID
			if err := s.cp.Save(ctx, fakeKey, strconv.Itoa(after)); err != nil {
				return err
			}
		}
		if s.finite && len(items) == 0 {
			return nil
		}
		if s.broken == "slowcancel" {
			time.Sleep(5 * time.Second)
			if ctx.Err() != nil {
				return nil
			}
			continue
		}
		if err := source.Sleep(ctx, s.poll); err != nil {
			return nil
		}
	}
}

func (s *fakeSource) fetch(ctx context.Context, after int) ([]fakeItem, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/items?after="+strconv.Itoa(after), nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fake: %w: %v", source.ErrTemporary, err)
	}
	defer resp.Body.Close()
	var body struct {
		Items []fakeItem `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("fake: %w: GET /items?after=%d: %v", source.ErrMalformed, after, err)
	}
	return body.Items, nil
}

func fakeConstructor(broken string) sourcetest.Constructor {
	return func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
		srv := startFakeNetwork(t, up)
		return func(cp source.Checkpoints) source.Source {
			return &fakeSource{url: srv.URL, client: srv.Client(), cp: cp, poll: 10 * time.Millisecond, broken: broken}
		}
	}
}

func finiteFakeConstructor() sourcetest.Constructor {
	return func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
		srv := startFakeNetwork(t, up)
		return func(cp source.Checkpoints) source.Source {
			return &fakeSource{url: srv.URL, client: srv.Client(), cp: cp, poll: 10 * time.Millisecond, finite: true}
		}
	}
}
