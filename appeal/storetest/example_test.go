package storetest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/storetest"
)

// The conformance test of a Store implementation is one call in a
// _test.go file; an Example cannot be given a *testing.T, so this one only
// shows the shape:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) appeal.Store { ... })
//	}
func ExampleRun() {
	conformance := func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) appeal.Store {
			s := appeal.NewMemoryStore() // yours: open an empty store
			// t.Cleanup(func() { s.Close() }) for stores that hold resources
			return s
		})
	}
	_ = conformance
}

// Sample gives a fully populated appeal — every field a store must keep —
// for a store's own tests and benchmarks; the external id makes it unique.
func ExampleSample() {
	ctx := context.Background()
	s := appeal.NewMemoryStore()
	for _, ext := range []string{"-1_10_c1", "-1_10_c2", "-1_10_c1"} {
		created, err := s.Put(ctx, storetest.Sample(ext))
		fmt.Println(appeal.NewID(appeal.NetworkVK, ext), created, err)
	}
	got, _ := s.Get(ctx, appeal.NewID(appeal.NetworkVK, "-1_10_c2"))
	fmt.Println(got.Status, got.Topics[0].Code, got.Place)
	// Output:
	// vk:-1_10_c1 true <nil>
	// vk:-1_10_c2 true <nil>
	// vk:-1_10_c1 false <nil>
	// new garbage улица Ленина
}
