package appeal_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// An appeal goes into a store once, however often a source delivers it, and
// moves through the lifecycle under optimistic concurrency.
func Example() {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	a := appeal.Appeal{
		Network:    appeal.NetworkVK,
		Kind:       appeal.KindComment,
		ExternalID: "-46_1001_c7",
		Text:       "Третий день не вывозят мусор на улице Ленина",
		CreatedAt:  time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
	}
	created, _ := store.Put(ctx, a)
	again, _ := store.Put(ctx, a) // a redelivery changes nothing
	fmt.Println("created:", created, "again:", again)

	id := appeal.NewID(a.Network, a.ExternalID)
	cur, _ := store.Get(ctx, id)
	routed, err := store.Transition(ctx, id, appeal.Change{
		To: appeal.StatusRouted, Actor: "pipeline",
		Assignment:      &appeal.Assignment{Executor: "eco-kursk", Deadline: a.CreatedAt.Add(4 * time.Hour), Priority: appeal.PriorityNormal},
		ExpectedVersion: cur.Version,
	})
	fmt.Println(routed.Status, routed.Executor(), routed.Version, err)

	// A second operator who read the old version is refused.
	_, err = store.Transition(ctx, id, appeal.Change{To: appeal.StatusInProgress, ExpectedVersion: cur.Version})
	fmt.Println(errors.Is(err, appeal.ErrConflict))

	// The lifecycle forbids skipping to resolved.
	_, err = store.Transition(ctx, id, appeal.Change{To: appeal.StatusResolved, ExpectedVersion: routed.Version})
	fmt.Println(err)
	// Output:
	// created: true again: false
	// routed eco-kursk 2 <nil>
	// true
	// appeal vk:-46_1001_c7: illegal transition routed → resolved (allowed from routed: [routed in_progress answered rejected])
}

// Redacted strips what 152-ФЗ protects before an appeal leaves the library.
func ExampleAppeal_Redacted() {
	// A private message to a Telegram bot: the chat id in its id is the
	// sender's user id.
	a := appeal.Appeal{
		Network: appeal.NetworkTelegram, ExternalID: "123456_5", Kind: appeal.KindMessage,
		Author: appeal.Author{ID: "123456", Name: "Мария"},
		Text:   "Нет воды с утра, мой номер 8 912 345-67-89",
	}
	a.ID = appeal.NewID(a.Network, a.ExternalID)
	// The key is the deployment's secret (from its secret store); without
	// one, Redacted uses a random key of this process.
	key := []byte("a secret of the region's deployment")
	r := a.RedactedWith(appeal.RedactOptions{Key: key})
	fmt.Println(r.Author.Name == "", r.Author.ID != a.Author.ID)
	fmt.Println(strings.Contains(string(r.ID), "123456"))
	fmt.Println(r.Text)
	// Output:
	// true true
	// false
	// Нет воды с утра, мой номер [телефон]
}

func ExampleMemoryStore_List() {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	now := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	for i, exec := range []string{"roads", "roads", "gkh"} {
		a := appeal.Appeal{Network: appeal.NetworkOK, ExternalID: fmt.Sprint(i), Text: "…", CreatedAt: now.Add(time.Duration(-10+i) * time.Hour)}
		_, _ = store.Put(ctx, a)
		_, _ = store.Transition(ctx, appeal.NewID(a.Network, a.ExternalID), appeal.Change{
			To: appeal.StatusRouted, ExpectedVersion: 1,
			Assignment: &appeal.Assignment{Executor: exec, Deadline: a.CreatedAt.Add(8 * time.Hour)},
		})
	}
	overdue, _ := store.List(ctx, appeal.Filter{Executor: "roads", OverdueAt: now})
	for _, a := range overdue {
		fmt.Println(a.ID, a.Deadline().Format(time.Kitchen))
	}
	// Output:
	// ok:0 4:00PM
	// ok:1 5:00PM
}

// A batch with a bad appeal stores the good ones and names the bad one; the
// caller dead-letters it and moves on.
func ExampleBatchStore() {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	batch := []appeal.Appeal{
		{Network: appeal.NetworkVK, ExternalID: "1", Text: "Яма на дороге"},
		{Network: appeal.NetworkVK, ExternalID: "2", Text: "битый текст \xff"},
		{Network: appeal.NetworkVK, ExternalID: "3", Text: "Нет света"},
	}
	created, err := store.PutBatch(ctx, batch, appeal.Checkpoint{Key: "vk", Cursor: "ts=3"})
	fmt.Println(created)
	var be *appeal.BatchError
	if errors.As(err, &be) {
		for _, it := range be.Items {
			_ = store.PutDeadLetter(ctx, appeal.DeadLetter{ID: it.ID, Input: "vk", Appeal: batch[it.Index], Reason: it.Err.Error()})
			fmt.Println("refused:", it.ID, it.Err)
		}
	}
	// Output:
	// [true false true]
	// refused: vk:2 appeal: field text: is not valid UTF-8 at byte offset 22
}

// Scan reads appeals one at a time, whatever the store, without holding them
// all in memory.
func ExampleScan() {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	for i := range 3 {
		_, _ = store.Put(ctx, appeal.Appeal{Network: appeal.NetworkWeb, ExternalID: fmt.Sprint(i), Text: "…"})
	}
	for a, err := range appeal.Scan(ctx, store, appeal.Filter{Network: appeal.NetworkWeb}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(a.ID)
	}
	// Output:
	// web:0
	// web:1
	// web:2
}

// Count gives a screen its figures without reading the appeals (one COUNT
// query on the SQL stores); Involves is what an executor's staff see: the
// appeals it executes or co-executes.
func ExampleCount() {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for i, as := range []*appeal.Assignment{
		{Executor: "roads", Deadline: at.Add(4 * time.Hour)},
		{Executor: "gkh", CoExecutors: []string{"roads"}, Deadline: at.Add(30 * time.Hour)},
		{Executor: "gkh", Deadline: at.Add(2 * time.Hour)},
	} {
		_, _ = store.Put(ctx, appeal.Appeal{Network: appeal.NetworkWeb, ExternalID: fmt.Sprint(i), Text: "…",
			Status: appeal.StatusRouted, Assignment: as, CreatedAt: at})
	}
	roads, _ := appeal.Count(ctx, store, appeal.Filter{Involves: "roads"})
	overdue, _ := appeal.Count(ctx, store, appeal.Filter{Involves: "roads", OverdueAt: at.Add(5 * time.Hour)})
	fmt.Println("roads is on", roads, "appeals,", overdue, "overdue")
	// Output:
	// roads is on 2 appeals, 1 overdue
}

// Retain pseudonymises the authors of appeals closed longer than the period
// and keeps what statistics need.
func ExampleRetain() {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	created := time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)
	a := appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "7", CreatedAt: created, Text: "Звоните 8 912 345-67-89",
		Author: appeal.Author{ID: "12345", Name: "Иван Петров"}, Topics: []appeal.TopicScore{{Code: "roads", Score: 0.9}}}
	_, _ = store.Put(ctx, a)
	_, _ = store.Transition(ctx, "vk:7", appeal.Change{To: appeal.StatusRejected, At: created.Add(time.Hour), ExpectedVersion: 1})

	rep, err := appeal.Retain(ctx, store, appeal.RetentionPolicy{
		ClosedFor: 365 * 24 * time.Hour,
		Now:       time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
		Redact:    appeal.RedactOptions{Key: []byte("the deployment's secret key")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	got, _ := store.Get(ctx, "vk:7")
	fmt.Println(rep.Pseudonymised, got.Author.Name == "", got.Author.ID != "12345", got.Author.Pseudonymous)
	fmt.Println(got.Text, got.Topics[0].Code, got.Status)
	// Output:
	// 1 true true true
	// Звоните [телефон] roads rejected
}

// RedactText masks phone numbers and e-mails before a text is shown or
// logged; Appeal.Redacted does it to the whole appeal.
func ExampleRedactText() {
	fmt.Println(appeal.RedactText("Яма у дома 5, звоните +7 912 345-67-89"))
	// Output: Яма у дома 5, звоните [телефон]
}
