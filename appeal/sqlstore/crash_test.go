package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/source/replay"
)

// crashChildEnv, when set to a directory, makes TestCrashRecovery act as
// the child process: it runs the pipeline over dir/appeals.jsonl into
// dir/appeals.db and exits.
const crashChildEnv = "APPEALKIT_CRASH_CHILD_DIR"

// crashHangEnv names an appeal (by external id) at which the child's router
// blocks, so that however the machine schedules the two processes, the
// child is still mid-stream when the parent kills it.
const crashHangEnv = "APPEALKIT_CRASH_HANG_AT"

const crashAppeals = 1000

var crashTopics = []string{"roads", "garbage", "housing.heating", "landscaping.lighting", ""}

// TestCrashRecovery runs the pipeline (replay source → classifier → router
// → SQLite store, checkpoints in the same database) in a child process,
// kills it with SIGKILL twice mid-stream, lets a third run finish, and
// checks that every appeal of the file is stored exactly once, routed
// exactly once, and that the checkpoint reached the end of the file.
func TestCrashRecovery(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		runCrashChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("crash test re-executes the test binary; skipped in -short mode")
	}
	dir := t.TempDir()
	jsonl := filepath.Join(dir, "appeals.jsonl")
	f, err := os.Create(jsonl)
	require.NoError(t, err)
	w := replay.NewWriter(f)
	base := time.Date(2026, 1, 12, 8, 0, 0, 0, time.UTC)
	for i := range crashAppeals {
		require.NoError(t, w.Write(appeal.Appeal{
			Network: appeal.NetworkTelegram, Kind: appeal.KindMessage, ExternalID: strconv.Itoa(i),
			Text:      "обращение " + strconv.Itoa(i) + " тема " + crashTopics[i%len(crashTopics)],
			CreatedAt: base.Add(time.Duration(i) * time.Second),
		}))
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	info, err := os.Stat(jsonl)
	require.NoError(t, err)

	dbPath := filepath.Join(dir, "appeals.db")
	// The parent watches progress through its own connection.
	watch, err := sql.Open("sqlite", sqliteDSN(dbPath))
	require.NoError(t, err)
	defer watch.Close()
	count := func() int {
		var n int
		if err := watch.QueryRow(`SELECT COUNT(*) FROM appeals`).Scan(&n); err != nil {
			return 0 // not migrated yet
		}
		return n
	}

	for round, killAt := range []int{crashAppeals / 4, crashAppeals * 3 / 5} {
		child, out := startCrashChild(t, dir, strconv.Itoa(killAt+crashAppeals/10))
		deadline := time.Now().Add(2 * time.Minute)
		for count() < killAt && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		require.NoError(t, child.Process.Signal(syscall.SIGKILL))
		_ = child.Wait()
		n := count()
		t.Logf("round %d: killed with %d of %d appeals stored", round+1, n, crashAppeals)
		require.GreaterOrEqual(t, n, killAt, "child made too little progress in 2 minutes; output:\n%s", out)
		require.Less(t, n, crashAppeals, "child finished before it was killed: the test proves nothing; make it slower")
		var unrouted int
		require.NoError(t, watch.QueryRow(`SELECT COUNT(*) FROM appeals WHERE status = 'new'`).Scan(&unrouted))
		t.Logf("round %d: %d appeals left stored but not yet routed by the kill", round+1, unrouted)
	}

	child, out := startCrashChild(t, dir, "")
	require.NoError(t, child.Wait(), "final run must finish; output:\n%s", out)

	ctx := context.Background()
	s, err := sqlstore.Open(ctx, watch)
	require.NoError(t, err)
	all, err := s.List(ctx, appeal.Filter{})
	require.NoError(t, err)
	require.Len(t, all, crashAppeals, "every appeal of the file is stored")
	for i, a := range all {
		require.Equal(t, appeal.ID("telegram:"+strconv.Itoa(i)), a.ID, "stored in order, none missing, none twice")
		want := appeal.StatusRouted
		if crashTopics[i%len(crashTopics)] == "" {
			want = appeal.StatusRejected
		}
		assert.Equal(t, want, a.Status, a.ID)
		assert.Len(t, a.History, 1, "routed exactly once: %s", a.ID)
		assert.Equal(t, int64(1), a.Version, "routed in the write that stored it: %s", a.ID)
	}
	var events int
	require.NoError(t, watch.QueryRow(`SELECT COUNT(*) FROM appeal_history`).Scan(&events))
	assert.Equal(t, crashAppeals, events, "one history event per appeal, no double transitions")
	cursor, err := s.Load(ctx, "crash")
	require.NoError(t, err)
	assert.Equal(t, strconv.FormatInt(info.Size(), 10), cursor, "the checkpoint reached the end of the file")
}

func startCrashChild(t *testing.T, dir, hangAt string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashRecovery$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashHangEnv+"="+hangAt)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	return cmd, &out
}

// runCrashChild is the child process: one pipeline run over the file,
// continuing from the saved checkpoint.
func runCrashChild(t *testing.T, dir string) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(dir, "appeals.db")))
	require.NoError(t, err)
	defer db.Close()
	store, err := sqlstore.Open(ctx, db)
	require.NoError(t, err)
	src, err := replay.New(replay.Config{Path: filepath.Join(dir, "appeals.jsonl"), Checkpoints: store, Key: "crash"})
	require.NoError(t, err)
	classifier := appealkit.AppealClassifierFunc(func(_ context.Context, a *appeal.Appeal) error {
		for _, code := range crashTopics {
			if code != "" && bytes.HasSuffix([]byte(a.Text), []byte(" "+code)) {
				a.Topics = []appeal.TopicScore{{Code: code, Score: 1}}
			}
		}
		return nil
	})
	hangAt := os.Getenv(crashHangEnv)
	router := appealkit.AppealRouterFunc(func(ctx context.Context, a *appeal.Appeal, now time.Time) (appeal.Change, error) {
		if a.ExternalID == hangAt {
			<-ctx.Done() // wait for SIGKILL
			return appeal.Change{}, ctx.Err()
		}
		if a.TopTopic() == "" {
			return appeal.Change{To: appeal.StatusRejected, Note: "no topic"}, nil
		}
		return appeal.Change{To: appeal.StatusRouted, Assignment: &appeal.Assignment{Executor: a.TopTopic() + "-dept", Deadline: now.Add(24 * time.Hour)}}, nil
	})
	p, err := appealkit.New(appealkit.Config{Store: store, Classifier: classifier, Router: router,
		Inputs: []appealkit.Input{{Name: "replay", Source: src}}})
	require.NoError(t, err)
	if err := p.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		t.Fatal(err)
	}
}
