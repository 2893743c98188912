package sourcetest_test

import (
	"testing"
	"time"

	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/sourcetest"
)

// An adapter's conformance test: start a fake upstream with the suite's
// items, and build the adapter against it with the checkpoints the suite
// passes. This is the whole test an integrator writes.
func ExampleRun() {
	conformance := func(t *testing.T) {
		sourcetest.Run(t, sourcetest.Features{Checkpointed: true, Malformed: true, Quiet: 200 * time.Millisecond},
			func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
				srv := startFakeNetwork(t, up) // an httptest server serving up.Items
				return func(cp source.Checkpoints) source.Source {
					return &fakeSource{url: srv.URL, client: srv.Client(), cp: cp, poll: 10 * time.Millisecond}
				}
			})
	}
	_ = conformance // in a _test.go file: func TestConformance(t *testing.T) { ... }
}
