package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
)

// Open a SQLite store, keep an appeal, route it and find it overdue.
func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sqlstore-example")
	defer os.RemoveAll(dir)

	// WAL lets readers work beside the writer; busy_timeout makes other
	// processes wait for the lock instead of failing.
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "appeals.db")))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	store, err := sqlstore.Open(ctx, db) // dialect detected, schema migrated
	if err != nil {
		fmt.Println(err)
		return
	}

	at := time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC)
	a := appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_77", Text: "На Ленина, 5 нет отопления", CreatedAt: at}
	created, _ := store.Put(ctx, a)
	again, _ := store.Put(ctx, a) // a redelivery changes nothing
	fmt.Println("created:", created, "again:", again)

	routed, err := store.Transition(ctx, "vk:-1_77", appeal.Change{
		To: appeal.StatusRouted, Actor: "pipeline", At: at, ExpectedVersion: 1,
		Assignment: &appeal.Assignment{Executor: "gkh-kursk", Deadline: at.Add(24 * time.Hour)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(routed.Status, "version", routed.Version)

	overdue, _ := store.List(ctx, appeal.Filter{Executor: "gkh-kursk", OverdueAt: at.Add(48 * time.Hour)})
	for _, o := range overdue {
		fmt.Println("overdue:", o.ID, o.Deadline().Format(time.DateTime))
	}
	// Output:
	// created: true again: false
	// routed version 2
	// overdue: vk:-1_77 2026-02-03 09:00:00
}

// PutBatch stores many appeals in few transactions: the way to import or
// backfill quickly.
func ExampleStore_PutBatch() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sqlstore-example")
	defer os.RemoveAll(dir)
	db, _ := sql.Open("sqlite", "file:"+filepath.Join(dir, "appeals.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	defer db.Close()
	store, err := sqlstore.Open(ctx, db, sqlstore.WithMaxBatch(1000))
	if err != nil {
		fmt.Println(err)
		return
	}
	batch := []appeal.Appeal{
		{Network: appeal.NetworkWeb, ExternalID: "f1", Text: "Яма на дороге"},
		{Network: appeal.NetworkWeb, ExternalID: "f2", Text: "Не горит фонарь"},
		{Network: appeal.NetworkWeb, ExternalID: "f1", Text: "Яма на дороге"}, // the same appeal again
	}
	created, err := store.PutBatch(ctx, batch)
	fmt.Println(created, err)
	// Output:
	// [true true false] <nil>
}

// A Store is also a source.Checkpoints: sources keep their cursors in the
// same database as the appeals.
func ExampleStore_Save() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sqlstore-example")
	defer os.RemoveAll(dir)
	db, _ := sql.Open("sqlite", "file:"+filepath.Join(dir, "appeals.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	defer db.Close()
	store, err := sqlstore.Open(ctx, db)
	if err != nil {
		fmt.Println(err)
		return
	}
	before, _ := store.Load(ctx, "vk:wall-1")
	_ = store.Save(ctx, "vk:wall-1", "offset=120")
	after, _ := store.Load(ctx, "vk:wall-1")
	fmt.Printf("%q %q\n", before, after)
	// Output:
	// "" "offset=120"
}

// The pipeline's write path: a batch of appeals already routed in memory,
// each stored in one write, with the source's checkpoint in the same
// transaction.
func ExampleStore_PutBatch_routed() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sqlstore-batch")
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "appeals.db")))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	store, err := sqlstore.Open(ctx, db)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	at := time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC)
	var batch []appeal.Appeal
	for i := range 3 {
		a := appeal.Appeal{Network: appeal.NetworkTelegram, ExternalID: fmt.Sprint(100 + i), Text: "Не убран снег", CreatedAt: at}
		_ = a.Normalize()
		_ = a.Apply(appeal.Change{To: appeal.StatusRouted, Actor: "pipeline", At: at,
			Assignment: &appeal.Assignment{Executor: "roads", Deadline: at.Add(72 * time.Hour)}})
		batch = append(batch, a)
	}
	created, err := store.PutBatch(ctx, batch, appeal.Checkpoint{Key: "telegram", Cursor: "update_id=103"})
	fmt.Println(created, err)
	cursor, _ := store.Load(ctx, "telegram")
	got, _ := store.Get(ctx, "telegram:101")
	fmt.Println(cursor, got.Status, got.Executor(), got.Version)
	// Output:
	// [true true true] <nil>
	// update_id=103 routed roads 1
}
