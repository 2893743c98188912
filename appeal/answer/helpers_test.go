package answer_test

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/appeal/storetest"
	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
)

// stores lists the stores the workflow and publisher tests run on.
var stores = []struct {
	name string
	open func(t testing.TB) storetest.OutboxStore
}{
	{"memory", func(testing.TB) storetest.OutboxStore { return appeal.NewMemoryStore() }},
	{"sqlite", func(t testing.TB) storetest.OutboxStore {
		db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "a.db")))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		s, err := sqlstore.Open(context.Background(), db)
		require.NoError(t, err)
		return s
	}},
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testRules(t testing.TB) *route.Engine {
	t.Helper()
	e, err := route.Parse(bytes.NewReader(rules.Region), "region.yaml")
	require.NoError(t, err)
	return e
}

func testTemplates(t testing.TB) *answer.Templates {
	t.Helper()
	tm, err := answer.ParseTemplatesFile(filepath.Join("testdata", "answers.yaml"), nil)
	require.NoError(t, err)
	return tm
}

// routed stores a VK appeal and routes it to executor.
func routed(t testing.TB, s appeal.Store, ext, text, topic, executor string) appeal.Appeal {
	t.Helper()
	ctx := context.Background()
	a := appeal.Appeal{Network: appeal.NetworkVK, Kind: appeal.KindComment, ExternalID: ext, Text: text,
		Author:    appeal.Author{ID: "u1"},
		Community: appeal.Community{ID: "-100", Official: true}, Thread: appeal.Thread{RootID: "-100_4000", ParentID: "-100_4000"},
		CreatedAt: time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC), Place: "Беседино", Municipality: "Курский район",
		Topics: []appeal.TopicScore{{Code: topic, Score: 0.9}}}
	if ext[len(ext)-1] == 'M' { // a private message
		a.Kind = appeal.KindMessage
	}
	_, err := s.Put(ctx, a)
	require.NoError(t, err)
	id := appeal.NewID(a.Network, a.ExternalID)
	got, err := s.Transition(ctx, id, appeal.Change{To: appeal.StatusRouted, Actor: "pipeline",
		Assignment: &appeal.Assignment{Executor: executor, Deadline: a.CreatedAt.Add(8 * time.Hour)}, ExpectedVersion: 1})
	require.NoError(t, err)
	return got
}
