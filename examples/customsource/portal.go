package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// portalSource is an adapter for a network appealkit does not ship: a city
// portal that lists citizens' messages at GET <URL>?after=<id> as
// {"items":[{"id":7,"text":"...","created":"2026-01-02T10:00:00Z"}]}, oldest
// first. The cursor is the last accepted id, saved only after the sink
// accepted the item.
type portalSource struct {
	URL         string
	Client      *http.Client
	Checkpoints source.Checkpoints
	Every       time.Duration // pause between polls
	guard       source.RunGuard
}

type portalItem struct {
	ID      int64     `json:"id"`
	Text    string    `json:"text"`
	Created time.Time `json:"created"`
}

func (s *portalSource) Run(ctx context.Context, sink source.Sink) error {
	release, err := s.guard.Enter() // a second concurrent Run gets ErrAlreadyRunning
	if err != nil {
		return err
	}
	defer release()
	after, err := s.Checkpoints.Load(ctx, "portal")
	if err != nil {
		return err
	}
	for {
		var items []portalItem
		err := source.Retry(ctx, source.Backoff{MaxAttempts: 5}, func(ctx context.Context) (err error) {
			items, err = s.fetch(ctx, after)
			return err
		})
		if ctx.Err() != nil {
			return nil
		} else if err != nil {
			return err // ErrAuth, ErrMalformed, or temporary faults that did not pass
		}
		for _, it := range items {
			a := appeal.Appeal{Network: "portal", Kind: appeal.KindMessage, ExternalID: strconv.FormatInt(it.ID, 10), Text: it.Text, CreatedAt: it.Created}
			if err := sink(ctx, a); err != nil {
				return fmt.Errorf("portal: item %d: %w", it.ID, err)
			}
			after = a.ExternalID
			if err := s.Checkpoints.Save(ctx, "portal", after); err != nil {
				return err
			}
		}
		if source.Sleep(ctx, s.Every) != nil {
			return nil
		}
	}
}

func (s *portalSource) fetch(ctx context.Context, after string) ([]portalItem, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"?after="+after, nil)
	if err != nil {
		return nil, err
	}
	res, err := s.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("portal: %w: %v", source.ErrTemporary, err)
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("portal: HTTP %d: %w", res.StatusCode, source.ErrAuth)
	case res.StatusCode >= 500:
		return nil, fmt.Errorf("portal: HTTP %d: %w", res.StatusCode, source.ErrTemporary)
	}
	var body struct{ Items []portalItem }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("portal: GET ?after=%s: %w: %v", after, source.ErrMalformed, err)
	}
	return body.Items, nil
}
