package pgtest_test

import (
	"context"
	"testing"

	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/appeal/sqlstore/pgtest"
)

// A test that needs a database outage: freeze the server, see the store
// give up at its deadline, thaw it.
func Example() {
	outage := func(t *testing.T) {
		srv := pgtest.New(t) // skipped without PostgreSQL binaries
		store, err := sqlstore.Open(context.Background(), srv.OpenDB())
		if err != nil {
			t.Fatal(err)
		}
		srv.Freeze()
		defer srv.Thaw()
		_ = store // a Put with a deadline now returns appeal.ErrUnavailable or the deadline
		srv.Thaw()
		srv.Stop()  // pg_ctl stop -m fast
		srv.Start() // and back
	}
	_ = outage
}

func TestFreezeAndThaw(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server")
	}
	srv := pgtest.New(t)
	db := srv.OpenDB()
	if n := srv.Freeze(); n < 2 {
		t.Fatalf("froze %d processes, want the postmaster and its children", n)
	}
	srv.Thaw()
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if srv.PIDs() != nil {
		t.Fatal("PIDs after Stop")
	}
	srv.Start()
	// The pool's old connections died with the server: the first call may
	// meet one of them.
	var err error
	for range 3 {
		if err = db.PingContext(context.Background()); err == nil {
			return
		}
	}
	t.Fatal(err)
}
