// Package storetest is the conformance suite for appeal.Store
// implementations. Every store, the shipped ones and yours, should pass it:
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) appeal.Store { return newEmptyStore(t) })
//	}
//
// newStore must return an empty store for each call; the suite runs its
// subtests in sequence and uses t.Cleanup-free stores, so close or drop
// whatever you open in newStore with t.Cleanup. Times in the suite have
// microsecond precision (what PostgreSQL keeps).
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
)

// Run runs every conformance test against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) appeal.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s appeal.Store)
	}{
		{"PutGetRoundTrip", testPutGet},
		{"PutIsIdempotent", testPutIdempotent},
		{"PutRejectsInvalid", testPutInvalid},
		{"GetMissing", testGetMissing},
		{"EmptyIDSaysNormalize", testEmptyID},
		{"TransitionAppliesAndVersions", testTransition},
		{"TransitionStaleVersion", testTransitionConflict},
		{"TransitionIllegal", testTransitionIllegal},
		{"TransitionMissing", testTransitionMissing},
		{"UpdateFields", testUpdate},
		{"UpdateGuardsLifecycle", testUpdateGuards},
		{"ListFilters", testListFilters},
		{"ListPaging", testListPaging},
		{"ConcurrentPutsOnce", testConcurrentPuts},
		{"ConcurrentTransitionsOneWins", testConcurrentTransitions},
		{"CancelledContext", testCancelled},
		{"PutHonoursDeadline", testPutHonoursDeadline},
		{"NastyInputsAcceptedOrRefusedAlike", testNastyInputs},
		{"UpdateAndTransitionValidate", testUpdateRefusesNasty},
		{"UpdateMayOnlyMaskNotes", testUpdateMayOnlyMaskNotes},
		{"BatchStoresGoodSkipsBad", testBatchSkipsBad},
		{"ScanStreamsInListOrder", testScan},
		{"TopicFilterIsCaseSensitive", testTopicCase},
		{"RetentionPseudonymisesClosed", testRetention},
		{"DeadLetters", testDeadLetters},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// base is the moment the suite's appeals were written; microsecond precision
// and UTC, so every backend can keep it exactly.
var base = time.Date(2026, 2, 3, 9, 30, 0, 123456000, time.UTC)

// Sample returns a fully populated appeal with a given external id, for
// suites and benchmarks.
func Sample(ext string) appeal.Appeal {
	return appeal.Appeal{
		Network:    appeal.NetworkVK,
		Kind:       appeal.KindComment,
		ExternalID: ext,
		URL:        "https://vk.com/wall-1_" + ext,
		Text:       "Во дворе дома 5 по улице Ленина третью неделю не вывозят мусор",
		Author:     appeal.Author{ID: "id" + ext, Name: "Иван Петров", ProfileURL: "https://vk.com/id" + ext},
		Community:  appeal.Community{ID: "-1", Name: "Администрация района", Official: true},
		Thread:     appeal.Thread{ParentID: "-1_10", RootID: "-1_10"},
		CreatedAt:  base,
		ReceivedAt: base.Add(2 * time.Second),
		Geo:        &appeal.GeoPoint{Lat: 51.7304, Lon: 36.1926},
		Attachments: []appeal.Attachment{
			{Type: "photo", URL: "https://sun9.userapi.com/x.jpg"},
		},
		Topics:       []appeal.TopicScore{{Code: "garbage", Score: 0.91}, {Code: "landscaping.yards", Score: 0.4}},
		Municipality: "Курский район",
		Place:        "улица Ленина",
		Promised:     base.Add(72 * time.Hour),
		Drafts: []appeal.Draft{{ID: "1", Kind: appeal.AnswerInterim, Text: "Принято в работу, срок — до 6 февраля",
			State: appeal.AnswerReturned, Executor: "adm", Promised: base.Add(72 * time.Hour), Comment: "укажите исполнителя",
			Issues: []string{"нет исполнителя"}, CreatedAt: base, UpdatedAt: base.Add(time.Minute)}},
	}
}

func put(t *testing.T, s appeal.Store, a appeal.Appeal) appeal.Appeal {
	t.Helper()
	created, err := s.Put(context.Background(), a)
	require.NoError(t, err)
	require.True(t, created, "first Put of %s must report created", a.ExternalID)
	got, err := s.Get(context.Background(), appeal.NewID(a.Network, a.ExternalID))
	require.NoError(t, err)
	return got
}

// assertSame compares two appeals by their JSON encoding, which is exact for
// every field and does not depend on the time.Location a backend returns.
func assertSame(t *testing.T, want, got appeal.Appeal) {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	assert.JSONEq(t, string(w), string(g))
}

func testPutGet(t *testing.T, s appeal.Store) {
	a := Sample("100")
	// The classifier's cache rides on the appeal into Put; no store keeps
	// it (it is derived, and the SQL stores have nowhere to put it).
	a.Analysis = &appeal.TextAnalysis{Text: a.Text, StemHashes: []uint64{1, 0, 2}}
	got := put(t, s, a)
	assert.Nil(t, got.Analysis, "a store must not keep Analysis")
	want := a.Clone()
	require.NoError(t, want.Normalize())
	want.Version = 1
	assertSame(t, want, got)
	assert.Equal(t, appeal.StatusNew, got.Status)
	assert.Equal(t, appeal.ID("vk:100"), got.ID)
}

func testPutIdempotent(t *testing.T, s appeal.Store) {
	ctx := context.Background()
	first := put(t, s, Sample("200"))
	again := Sample("200")
	again.Text = "изменённый текст"
	created, err := s.Put(ctx, again)
	require.NoError(t, err)
	assert.False(t, created, "second Put of the same ID must report already had it")
	got, err := s.Get(ctx, first.ID)
	require.NoError(t, err)
	assertSame(t, first, got)
}

func testPutInvalid(t *testing.T, s appeal.Store) {
	a := Sample("")
	_, err := s.Put(context.Background(), a)
	require.Error(t, err)
	assert.ErrorIs(t, err, appeal.ErrInvalid)
	var fe *appeal.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "external_id", fe.Field)

	b := Sample("300")
	b.Status = "bogus"
	_, err = s.Put(context.Background(), b)
	assert.ErrorIs(t, err, appeal.ErrInvalid)
}

func testGetMissing(t *testing.T, s appeal.Store) {
	_, err := s.Get(context.Background(), "vk:nope")
	assert.ErrorIs(t, err, appeal.ErrNotFound)
}

// testEmptyID: an appeal Put without Normalize leaves the caller's ID
// empty; using that ID must fail with an error that says what to do,
// not a bare "not found".
func testEmptyID(t *testing.T, s appeal.Store) {
	ctx := context.Background()
	a := Sample("empty-id")
	a.ID = ""
	_, err := s.Put(ctx, a)
	require.NoError(t, err)
	require.Empty(t, a.ID, "Put takes a copy")
	_, err = s.Get(ctx, a.ID)
	assert.ErrorIs(t, err, appeal.ErrInvalid)
	assert.ErrorContains(t, err, "Normalize")
	_, err = s.Transition(ctx, a.ID, route(1, "roads"))
	assert.ErrorIs(t, err, appeal.ErrInvalid)
	assert.ErrorContains(t, err, "Normalize")
	_, err = s.Update(ctx, a.ID, 1, func(*appeal.Appeal) error { return nil })
	assert.ErrorIs(t, err, appeal.ErrInvalid)
}

func route(version int64, executor string) appeal.Change {
	return appeal.Change{
		To: appeal.StatusRouted, Actor: "pipeline", Note: "rule roads-1", At: base.Add(time.Minute),
		Assignment: &appeal.Assignment{
			Executor: executor, CoExecutors: []string{"centre"}, Deadline: base.Add(4 * time.Hour),
			Priority: appeal.PriorityHigh, RuleID: "roads-1", Tags: []string{"season:winter"},
		},
		ExpectedVersion: version,
	}
}

func testTransition(t *testing.T, s appeal.Store) {
	ctx := context.Background()
	a := put(t, s, Sample("400"))
	routed, err := s.Transition(ctx, a.ID, route(a.Version, "roads-committee"))
	require.NoError(t, err)
	assert.Equal(t, int64(2), routed.Version)
	assert.Equal(t, appeal.StatusRouted, routed.Status)
	require.Len(t, routed.History, 1)
	assert.Equal(t, appeal.Event{At: base.Add(time.Minute), Actor: "pipeline", From: appeal.StatusNew, To: appeal.StatusRouted, Note: "rule roads-1"}, routed.History[0])

	answered, err := s.Transition(ctx, a.ID, appeal.Change{
		To: appeal.StatusAnswered, Actor: "roads-committee", At: base.Add(2 * time.Hour),
		Reply:           &appeal.Reply{Text: "Яму засыплют до 10 февраля, ответственный Сидоров", By: "roads-committee", ExternalID: "-1_11"},
		ExpectedVersion: routed.Version,
	})
	require.NoError(t, err)
	assert.Equal(t, int64(3), answered.Version)
	require.Len(t, answered.Replies, 1)
	assert.Equal(t, base.Add(2*time.Hour), answered.Replies[0].At.UTC())

	got, err := s.Get(ctx, a.ID)
	require.NoError(t, err)
	assertSame(t, answered, got)
	assert.Len(t, got.History, 2)
}

func testTransitionConflict(t *testing.T, s appeal.Store) {
	ctx := context.Background()
	a := put(t, s, Sample("500"))
	_, err := s.Transition(ctx, a.ID, route(a.Version, "first"))
	require.NoError(t, err)
	_, err = s.Transition(ctx, a.ID, route(a.Version, "second"))
	require.Error(t, err)
	assert.ErrorIs(t, err, appeal.ErrConflict)
	got, err := s.Get(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, "first", got.Executor())
	assert.Equal(t, int64(2), got.Version)
}

func testTransitionIllegal(t *testing.T, s appeal.Store) {
	ctx := context.Background()
	a := put(t, s, Sample("600"))
	_, err := s.Transition(ctx, a.ID, appeal.Change{To: appeal.StatusResolved, ExpectedVersion: a.Version})
	require.Error(t, err)
	assert.ErrorIs(t, err, appeal.ErrIllegalTransition)
	var te *appeal.TransitionError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, appeal.StatusNew, te.From)
	assert.Equal(t, appeal.StatusResolved, te.To)
	got, err := s.Get(ctx, a.ID)
	require.NoError(t, err)
	assertSame(t, a, got)
}

func testTransitionMissing(t *testing.T, s appeal.Store) {
	_, err := s.Transition(context.Background(), "vk:missing", route(1, "x"))
	assert.ErrorIs(t, err, appeal.ErrNotFound)
}

func testUpdate(t *testing.T, s appeal.Store) {
	ctx := context.Background()
	a := put(t, s, Sample("700"))
	upd, err := s.Update(ctx, a.ID, a.Version, func(x *appeal.Appeal) error {
		x.Text = "исправленный текст: не горит фонарь"
		x.Topics = []appeal.TopicScore{{Code: "landscaping.lighting", Score: 0.8}}
		x.IncidentID = "inc-1"
		x.History = append(x.History, appeal.Event{At: base.Add(time.Hour), Actor: "telegram", To: x.Status, Note: "edited"})
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, int64(2), upd.Version)
	got, err := s.Get(ctx, a.ID)
	require.NoError(t, err)
	assertSame(t, upd, got)
	assert.Equal(t, "inc-1", got.IncidentID)
	assert.True(t, got.HasTopic("landscaping.lighting"))
	assert.False(t, got.HasTopic("garbage"), "topics are replaced, not merged")

	// The topic filter must see the new topics.
	list, err := s.List(ctx, appeal.Filter{Topic: "landscaping.lighting"})
	require.NoError(t, err)
	require.Len(t, list, 1)

	// A mutate error aborts and stores nothing.
	boom := errors.New("boom")
	_, err = s.Update(ctx, a.ID, upd.Version, func(x *appeal.Appeal) error { x.Text = "x"; return boom })
	assert.ErrorIs(t, err, boom)
	_, err = s.Update(ctx, a.ID, a.Version, func(x *appeal.Appeal) error { return nil })
	assert.ErrorIs(t, err, appeal.ErrConflict)
	got2, err := s.Get(ctx, a.ID)
	require.NoError(t, err)
	assertSame(t, got, got2)
}

func testUpdateGuards(t *testing.T, s appeal.Store) {
	ctx := context.Background()
	a := put(t, s, Sample("800"))
	for name, mutate := range map[string]func(*appeal.Appeal){
		"status":  func(x *appeal.Appeal) { x.Status = appeal.StatusResolved },
		"id":      func(x *appeal.Appeal) { x.ID = "vk:other" },
		"version": func(x *appeal.Appeal) { x.Version = 99 },
	} {
		_, err := s.Update(ctx, a.ID, a.Version, func(x *appeal.Appeal) error { mutate(x); return nil })
		assert.ErrorIs(t, err, appeal.ErrInvalid, name)
	}
	got, err := s.Get(ctx, a.ID)
	require.NoError(t, err)
	assertSame(t, a, got)
}

// seed stores a small, varied population and returns it by external id.
func seed(t *testing.T, s appeal.Store) map[string]appeal.Appeal {
	ctx := context.Background()
	type spec struct {
		ext, muni, topic, executor string
		net                        appeal.Network
		hours                      int // CreatedAt offset
		deadline                   int // hours after base; 0 = no assignment
		answered                   bool
	}
	specs := []spec{
		{"s1", "Курский район", "roads", "roads-kursk", appeal.NetworkVK, 0, 4, false},
		{"s2", "Курский район", "garbage", "eco-kursk", appeal.NetworkVK, 1, 30, false},
		{"s3", "Льговский район", "roads", "roads-lgov", appeal.NetworkTelegram, 2, 5, true},
		{"s4", "Льговский район", "housing.heating", "gkh-lgov", appeal.NetworkOK, 3, 6, false},
		{"s5", "Курский район", "roads", "roads-kursk", appeal.NetworkVK, 4, 0, false},
		{"s6", "Железногорский район", "healthcare", "health", appeal.NetworkWeb, 5, 48, false},
	}
	out := map[string]appeal.Appeal{}
	for _, sp := range specs {
		a := Sample(sp.ext)
		a.Network = sp.net
		a.Municipality = sp.muni
		a.Topics = []appeal.TopicScore{{Code: sp.topic, Score: 0.9}}
		a.CreatedAt = base.Add(time.Duration(sp.hours) * time.Hour)
		switch sp.ext { // s1 is a post, s2 a comment under it; the others comment on -1_10
		case "s1":
			a.Thread = appeal.Thread{}
		case "s2":
			a.Thread = appeal.Thread{ParentID: "s1", RootID: "s1"}
		}
		switch sp.ext {
		case "s1", "s4":
			a.IncidentID = "inc-1"
		case "s3":
			a.IncidentID = "inc-2"
		}
		stored := put(t, s, a)
		if sp.deadline > 0 {
			c := route(stored.Version, sp.executor)
			if sp.ext == "s2" { // roads-kursk helps eco-kursk with it
				c.Assignment.CoExecutors = append(c.Assignment.CoExecutors, "roads-kursk")
			}
			c.Assignment.Deadline = base.Add(time.Duration(sp.deadline) * time.Hour)
			var err error
			stored, err = s.Transition(ctx, stored.ID, c)
			require.NoError(t, err)
			if sp.answered {
				stored, err = s.Transition(ctx, stored.ID, appeal.Change{To: appeal.StatusAnswered, At: base.Add(3 * time.Hour),
					Reply: &appeal.Reply{Text: "сделано"}, ExpectedVersion: stored.Version})
				require.NoError(t, err)
			}
		}
		out[sp.ext] = stored
	}
	return out
}

func exts(list []appeal.Appeal) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.ExternalID
	}
	return out
}

func testListFilters(t *testing.T, s appeal.Store) {
	ctx := context.Background()
	seed(t, s)
	cases := []struct {
		name string
		f    appeal.Filter
		want []string
	}{
		{"all in order", appeal.Filter{}, []string{"s1", "s2", "s3", "s4", "s5", "s6"}},
		{"status new", appeal.Filter{Statuses: []appeal.Status{appeal.StatusNew}}, []string{"s5"}},
		{"status routed or answered", appeal.Filter{Statuses: []appeal.Status{appeal.StatusRouted, appeal.StatusAnswered}}, []string{"s1", "s2", "s3", "s4", "s6"}},
		{"municipality", appeal.Filter{Municipality: "Льговский район"}, []string{"s3", "s4"}},
		{"topic", appeal.Filter{Topic: "roads"}, []string{"s1", "s3", "s5"}},
		{"parent topic matches subtopics", appeal.Filter{Topic: "housing"}, []string{"s4"}},
		{"a code prefix is not a parent", appeal.Filter{Topic: "housing.heat"}, []string{}},
		{"LIKE wildcards are literal", appeal.Filter{Topic: "housing_heating"}, []string{}},
		{"executor", appeal.Filter{Executor: "roads-kursk"}, []string{"s1"}},
		{"network", appeal.Filter{Network: appeal.NetworkVK}, []string{"s1", "s2", "s5"}},
		{"time range", appeal.Filter{CreatedFrom: base.Add(time.Hour), CreatedTo: base.Add(4 * time.Hour)}, []string{"s2", "s3", "s4"}},
		// At base+10h: s1 (4h) and s4 (6h) are overdue; s3 answered, s2 and s6 not yet due, s5 has no deadline.
		{"overdue", appeal.Filter{OverdueAt: base.Add(10 * time.Hour)}, []string{"s1", "s4"}},
		{"overdue for executor", appeal.Filter{OverdueAt: base.Add(10 * time.Hour), Executor: "gkh-lgov"}, []string{"s4"}},
		{"combined none", appeal.Filter{Municipality: "Курский район", Topic: "healthcare"}, []string{}},
		{"limit", appeal.Filter{Limit: 2}, []string{"s1", "s2"}},
		// Every routed appeal has "centre" as a co-executor; s2 also
		// "roads-kursk", which is s1's executor.
		{"involves as executor or co-executor", appeal.Filter{Involves: "roads-kursk"}, []string{"s1", "s2"}},
		{"involves as executor only", appeal.Filter{Involves: "gkh-lgov"}, []string{"s4"}},
		{"involves as co-executor only", appeal.Filter{Involves: "centre", Municipality: "Льговский район"}, []string{"s3", "s4"}},
		{"involves nobody", appeal.Filter{Involves: "roads"}, []string{}},
		{"involves and overdue", appeal.Filter{Involves: "roads-kursk", OverdueAt: base.Add(10 * time.Hour)}, []string{"s1"}},
		{"involves, limited", appeal.Filter{Involves: "centre", Limit: 3}, []string{"s1", "s2", "s3"}},
		{"incident", appeal.Filter{Incident: "inc-1"}, []string{"s1", "s4"}},
		{"incident and municipality", appeal.Filter{Incident: "inc-1", Municipality: "Льговский район"}, []string{"s4"}},
		{"no such incident", appeal.Filter{Incident: "inc-3"}, []string{}},
		{"a thread: the post and its comment", appeal.Filter{Network: appeal.NetworkVK, ThreadRoot: "s1"}, []string{"s1", "s2"}},
		{"another post's comments", appeal.Filter{Network: appeal.NetworkVK, ThreadRoot: "-1_10"}, []string{"s5"}},
		{"thread root across networks", appeal.Filter{ThreadRoot: "-1_10"}, []string{"s3", "s4", "s5", "s6"}},
	}
	for _, tc := range cases {
		got, err := s.List(ctx, tc.f)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, exts(got), tc.name)
		// Count (the store's own when it is a Counter) agrees with List.
		n, err := appeal.Count(ctx, s, tc.f)
		require.NoError(t, err, tc.name)
		assert.Equal(t, len(tc.want), n, "count: %s", tc.name)
	}
}

func testListPaging(t *testing.T, s appeal.Store) {
	ctx := context.Background()
	// Same CreatedAt for all: order falls back to ID.
	for i := range 7 {
		put(t, s, Sample(fmt.Sprintf("p%d", i)))
	}
	var seen []string
	f := appeal.Filter{Limit: 3}
	for range 10 {
		page, err := s.List(ctx, f)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		seen = append(seen, exts(page)...)
		last := page[len(page)-1]
		f.AfterCreated, f.AfterID = last.CreatedAt, last.ID
	}
	assert.Equal(t, []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6"}, seen)
}

func testConcurrentPuts(t *testing.T, s appeal.Store) {
	const writers, ids = 8, 40
	var created atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers*ids)
	for w := range writers {
		wg.Go(func() {
			for i := range ids {
				// Writers overlap: every id is offered by every writer.
				n := (i + w*7) % ids
				ok, err := s.Put(context.Background(), Sample(fmt.Sprintf("c%d", n)))
				if err != nil {
					errs <- err
					return
				}
				if ok {
					created.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, int64(ids), created.Load(), "each appeal must be created exactly once")
	all, err := s.List(context.Background(), appeal.Filter{})
	require.NoError(t, err)
	assert.Len(t, all, ids)
}

func testConcurrentTransitions(t *testing.T, s appeal.Store) {
	a := put(t, s, Sample("race"))
	const operators = 8
	var wins, conflicts atomic.Int64
	var wg sync.WaitGroup
	for i := range operators {
		wg.Go(func() {
			_, err := s.Transition(context.Background(), a.ID, route(a.Version, fmt.Sprintf("op%d", i)))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, appeal.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), wins.Load(), "exactly one operator may move the appeal")
	assert.Equal(t, int64(operators-1), conflicts.Load())
	got, err := s.Get(context.Background(), a.ID)
	require.NoError(t, err)
	assert.Len(t, got.History, 1)
	assert.Equal(t, int64(2), got.Version)
}

func testCancelled(t *testing.T, s appeal.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Put(ctx, Sample("cancelled"))
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = s.Get(context.Background(), "vk:cancelled")
	assert.ErrorIs(t, err, appeal.ErrNotFound, "a cancelled Put must store nothing")
}
