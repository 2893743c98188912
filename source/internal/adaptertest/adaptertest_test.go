package adaptertest

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

type blockingSource struct{ calls atomic.Int32 }

func (s *blockingSource) Run(ctx context.Context, sink source.Sink) error {
	s.calls.Add(1)
	if err := sink(ctx, appeal.Appeal{}); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

func TestRunUntil(t *testing.T) {
	var got atomic.Int32
	sink := func(context.Context, appeal.Appeal) error { got.Add(1); return nil }
	require.NoError(t, RunUntil(t, &blockingSource{}, sink, func() bool { return got.Load() == 1 }))
	refusing := func(context.Context, appeal.Appeal) error { return fmt.Errorf("refused") }
	assert.EqualError(t, RunUntil(t, &blockingSource{}, refusing, func() bool { return false }), "refused")
}

func TestHookServer(t *testing.T) {
	url, set := HookServer(t)
	res, err := http.Post(url, "application/json", nil)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	set(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	res, err = http.Post(url, "application/json", nil)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
}

// cleanups stands in for a test's t in the example.
type cleanups []func()

func (c *cleanups) Helper()          {}
func (c *cleanups) Cleanup(f func()) { *c = append(*c, f) }

func ExampleHookServer() {
	var t cleanups // in a test: the test's own t
	defer func() {
		for i := len(t) - 1; i >= 0; i-- {
			t[i]()
		}
	}()
	url, set := HookServer(&t)
	set(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	res, err := http.Get(url)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	fmt.Println(res.StatusCode)
	// Output: 200
}

func TestSinkFailsAtAndRecords(t *testing.T) {
	s := &Sink{FailAt: 2}
	require.NoError(t, s.Sink(context.Background(), appeal.Appeal{ExternalID: "1"}))
	assert.ErrorIs(t, s.Sink(context.Background(), appeal.Appeal{ExternalID: "2"}), ErrDown)
	require.NoError(t, s.Sink(context.Background(), appeal.Appeal{ExternalID: "3"}))
	require.NoError(t, s.Edit(context.Background(), source.Edit{}))
	a, e := s.Counts()
	assert.Equal(t, 2, a)
	assert.Equal(t, 1, e)
	got, edits := s.Snapshot()
	assert.Equal(t, "3", got[1].ExternalID)
	assert.Len(t, edits, 1)
	assert.Len(t, s.Appeals(), 2)
}
