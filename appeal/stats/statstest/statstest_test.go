package statstest_test

import (
	"reflect"
	"testing"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/stats/statstest"
)

func TestGenerateIsDeterministicAndValid(t *testing.T) {
	a := statstest.Generate(statstest.Options{N: 500, Seed: 9})
	b := statstest.Generate(statstest.Options{N: 500, Seed: 9})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same options gave different data")
	}
	if c := statstest.Generate(statstest.Options{N: 500, Seed: 10}); reflect.DeepEqual(a, c) {
		t.Fatal("another seed gave the same data")
	}
	for i := range a {
		x := a[i]
		if err := x.Normalize(); err != nil {
			t.Fatalf("appeal %d: %v", i, err)
		}
		if i > 0 && appeal.Less(&a[i], &a[i-1]) {
			t.Fatalf("appeal %d out of order", i)
		}
		// The history must be a legal walk through the lifecycle.
		st := appeal.StatusNew
		for _, ev := range x.History {
			if ev.From != st || !st.CanTransition(ev.To) {
				t.Fatalf("appeal %d: illegal step %s → %s from %s", i, ev.From, ev.To, st)
			}
			st = ev.To
		}
		if st != x.Status {
			t.Fatalf("appeal %d: history ends in %s, status %s", i, st, x.Status)
		}
	}
}
