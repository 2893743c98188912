package vk_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/sourcetest"
	"github.com/appealkit/appealkit/source/vk"
)

var searchNow = time.Unix(1700000000, 0)

func TestSearchConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Features{Checkpointed: true, Malformed: true},
		func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
			f := newFakeVK(t)
			for i, it := range up.Items {
				// Two posts per second, so the cursor must tell apart
				// posts of the same second.
				f.addFound(-(10 + i%3), 100+i, 200+i, int(searchNow.Unix())-100+i/2, "Курск: яма "+it.Text)
			}
			f.addFound(-1, 1, 2, int(searchNow.Unix())-50, "Москва: не про нас") // not matched
			f.malformed = up.Malformed
			return func(cp source.Checkpoints) source.Source {
				s, err := vk.NewSearch(vk.SearchConfig{
					API: f.api(), Query: "Курск", Checkpoints: cp, PollInterval: 10 * time.Millisecond,
					PageSize: 2, Now: func() time.Time { return searchNow },
				})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
		})
}

func TestSearchPagesAndResumes(t *testing.T) {
	f := newFakeVK(t)
	for i := range 7 {
		f.addFound(-5, 10+i, 300, int(searchNow.Unix())-60+i, fmt.Sprintf("Курск пост %d", i))
	}
	f.addFound(-5, 1, 300, int(searchNow.Unix())-48*3600, "Курск, позавчера") // before Lookback
	cp := source.NewMemoryCheckpoints()
	s, err := vk.NewSearch(vk.SearchConfig{API: f.api(), Query: "курск", Checkpoints: cp, PageSize: 3, MaxPages: 10, PollInterval: time.Hour, Now: func() time.Time { return searchNow }})
	if err != nil {
		t.Fatal(err)
	}
	var c collect
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, c.sink) }()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && f.count("newsfeed.search") < 3 {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(c.got) != 7 {
		t.Fatalf("got %d posts, want the 7 in the last day (3 pages of 3)", len(c.got))
	}
	for i, a := range c.got {
		if want := fmt.Sprintf("-5_%d", 10+i); a.ExternalID != want || a.Community.ID != "-5" {
			t.Errorf("post %d = %s, want %s oldest first", i, a.ExternalID, want)
		}
	}
	if n := f.count("newsfeed.search"); n != 3 {
		t.Errorf("%d requests, want 3 pages", n)
	}
	saved, _ := cp.Load(context.Background(), "vk:search:курск")
	if want := fmt.Sprintf(`{"t":%d,"ids":["-5_16"]}`, searchNow.Unix()-54); saved != want {
		t.Errorf("checkpoint %s, want %s", saved, want)
	}
}
