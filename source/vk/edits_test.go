package vk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/vk"
)

// testdata/longpoll_edits.json: a new comment, then its wall_reply_edit
// (the address added), the community's own edit of its answer (not an
// appeal), board_post_edit and photo_comment_edit of comments stored before
// monitoring began, and a deletion (ignored).
func loadEditEvents(t *testing.T) []json.RawMessage {
	t.Helper()
	data, err := os.ReadFile("testdata/longpoll_edits.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx lpFixture
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Updates) != 6 {
		t.Fatalf("fixture has %d updates, want 6", len(fx.Updates))
	}
	return fx.Updates
}

const (
	editedComment = "vk:-218900_3500_c3520"
	ownAnswer     = "vk:-218900_3500_c3521"
	editedBoard   = "vk:-218900_t40123_c61"
	editedPhoto   = "vk:-218900_p457239200_c78"
)

var errRefused = errors.New("store refused the edit")

// gatedEdits is source.StoreEdits(store) that refuses while fail is set and
// counts its calls.
type gatedEdits struct {
	apply source.EditSink
	fail  atomic.Bool
	calls atomic.Int64
}

func (g *gatedEdits) sink(ctx context.Context, e source.Edit) error {
	g.calls.Add(1)
	if g.fail.Load() {
		return errRefused
	}
	return g.apply(ctx, e)
}

func putSink(store appeal.Store) source.Sink {
	return func(ctx context.Context, a appeal.Appeal) error { _, err := store.Put(ctx, a); return err }
}

// waitFor polls cond until it holds or 5 seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func checkpointIs(cp source.Checkpoints, want string) func() bool {
	return func() bool { ts, _ := cp.Load(context.Background(), "vk:longpoll:218900"); return ts == want }
}

func checkEditedComment(t *testing.T, store appeal.Store) {
	t.Helper()
	a, err := store.Get(context.Background(), editedComment)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.Text, "Дзержинского") || a.Version != 2 || len(a.History) != 1 {
		t.Fatalf("edited comment: text %q, version %d, history %+v; want the new text in version 2 with one event", a.Text, a.Version, a.History)
	}
	if ev := a.History[0]; ev.Actor != "vk" || ev.Note != source.EditNotePrefix+"Третий день нет горячей воды" || ev.At.IsZero() {
		t.Errorf("history event %+v", ev)
	}
	if r := a.Redacted(); strings.Contains(r.Text, "51-22-33") {
		t.Errorf("redacted text still shows the phone: %q", r.Text)
	}
}

func TestLongPollDeliversEditsAfterTheyAreAccepted(t *testing.T) {
	evs := loadEditEvents(t)
	f := newFakeVK(t)
	f.addEvent(evs[0])
	store := appeal.NewMemoryStore()
	cp := source.NewMemoryCheckpoints()
	edits := &gatedEdits{apply: source.StoreEdits(store)}
	newLP := func() *vk.LongPoll {
		lp, err := vk.NewLongPoll(vk.LongPollConfig{API: f.api(), GroupID: 218900, Name: "Администрация Курска", Official: true,
			Checkpoints: cp, Wait: 1, Edits: edits.sink})
		if err != nil {
			t.Fatal(err)
		}
		return lp
	}
	run := func(lp *vk.LongPoll) (cancel func(), done chan error) {
		ctx, cancel := context.WithCancel(context.Background())
		done = make(chan error, 1)
		go func() { done <- lp.Run(ctx, putSink(store)) }()
		return cancel, done
	}

	// The comment arrives and its event is checkpointed (event k has ts k+1).
	cancel, done := run(newLP())
	waitFor(t, "the comment and ts 2", checkpointIs(cp, "2"))
	// The edits arrive while the store refuses edits: Run stops with the
	// error and the ts stays before them.
	edits.fail.Store(true)
	for _, ev := range evs[1:] {
		f.addEvent(ev)
	}
	select {
	case err := <-done:
		if !errors.Is(err, errRefused) || !strings.Contains(err.Error(), editedComment) {
			t.Fatalf("Run ended with %v, want the refused edit of %s", err, editedComment)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run went on past a refused edit")
	}
	cancel()
	if !checkpointIs(cp, "2")() {
		t.Fatal("the ts moved past a refused edit")
	}
	if a, _ := store.Get(context.Background(), editedComment); a.Version != 1 {
		t.Fatalf("refused edit changed the appeal to version %d", a.Version)
	}

	// After a restart the edits come again and are applied.
	edits.fail.Store(false)
	cancel, done = run(newLP())
	waitFor(t, "every event checkpointed", checkpointIs(cp, "7"))
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkEditedComment(t, store)
	if _, err := store.Get(context.Background(), ownAnswer); !errors.Is(err, appeal.ErrNotFound) {
		t.Errorf("the community's edit of its own answer was stored: %v", err)
	}
	for id, text := range map[appeal.ID]string{editedBoard: "у дома 3 яма", editedPhoto: "Советская 40"} {
		a, err := store.Get(context.Background(), id)
		if err != nil || !strings.Contains(a.Text, text) || a.Kind != appeal.KindComment || a.Version != 1 ||
			a.Community.ID != "-218900" || !a.Community.Official {
			t.Errorf("%s, edited before it was ever seen, stored as %+v, %v", id, a, err)
		}
	}
	// One refused call, then the three edits of citizens' comments.
	if n := edits.calls.Load(); n != 4 {
		t.Errorf("Edits called %d times, want 4", n)
	}
}

func TestLongPollWithoutEditsSkipsThem(t *testing.T) {
	f := newFakeVK(t)
	for _, ev := range loadEditEvents(t) {
		f.addEvent(ev)
	}
	cp := source.NewMemoryCheckpoints()
	lp, err := vk.NewLongPoll(vk.LongPollConfig{API: f.api(), GroupID: 218900, Checkpoints: cp, Wait: 1})
	if err != nil {
		t.Fatal(err)
	}
	var c collect
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- lp.Run(ctx, c.sink) }()
	waitFor(t, "every event checkpointed", checkpointIs(cp, "7"))
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(c.got) != 1 || c.got[0].ID != editedComment || c.got[0].Text != "Третий день нет горячей воды" {
		t.Fatalf("sink got %d appeals (%+v); want only the new comment, edits not passed off as new appeals", len(c.got), c.got)
	}
}

func TestCallbackDeliversEdits(t *testing.T) {
	evs := loadEditEvents(t)
	store := appeal.NewMemoryStore()
	edits := &gatedEdits{apply: source.StoreEdits(store)}
	var appeals atomic.Int64
	h, err := vk.NewCallbackHandler(vk.CallbackConfig{GroupID: 218900, Official: true, Confirmation: "x", Logger: discard, Edits: edits.sink},
		func(ctx context.Context, a appeal.Appeal) error { appeals.Add(1); return putSink(store)(ctx, a) })
	if err != nil {
		t.Fatal(err)
	}
	post := func(body []byte) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/vk/callback", bytes.NewReader(body)))
		return rec
	}
	if rec := post(evs[0]); rec.Body.String() != "ok" {
		t.Fatalf("new comment: %d %q", rec.Code, rec.Body)
	}
	// Refused: not "ok", so VK delivers the edit again.
	edits.fail.Store(true)
	if rec := post(evs[1]); rec.Code != http.StatusInternalServerError {
		t.Fatalf("refused edit: %d %q, want 500", rec.Code, rec.Body)
	}
	if a, _ := store.Get(context.Background(), editedComment); a.Version != 1 {
		t.Fatalf("refused edit changed the appeal to version %d", a.Version)
	}
	edits.fail.Store(false)
	for _, ev := range evs[1:] {
		if rec := post(ev); rec.Code != 200 || rec.Body.String() != "ok" {
			t.Fatalf("event: %d %q", rec.Code, rec.Body)
		}
	}
	checkEditedComment(t, store)
	if _, err := store.Get(context.Background(), editedBoard); err != nil {
		t.Errorf("board_post_edit: %v", err)
	}
	if _, err := store.Get(context.Background(), editedPhoto); err != nil {
		t.Errorf("photo_comment_edit: %v", err)
	}
	if n := edits.calls.Load(); n != 4 {
		t.Errorf("Edits called %d times, want 4 (one refused, three edits; the community's own edit is not one)", n)
	}
	// A redelivered edit (same event_id) reaches Edits once.
	if rec := post(evs[1]); rec.Body.String() != "ok" || edits.calls.Load() != 4 {
		t.Errorf("redelivered edit: %q, Edits called %d times", rec.Body, edits.calls.Load())
	}
	if n := appeals.Load(); n != 1 {
		t.Errorf("sink got %d appeals, want 1: edits are not new appeals", n)
	}

	// Without event_id, two different edits of one comment both land.
	for i, text := range []string{"Нет горячей воды, Дзержинского 14, кв. 7", "Нет горячей воды, Дзержинского 14, кв. 8"} {
		var m map[string]any
		_ = json.Unmarshal(evs[1], &m)
		delete(m, "event_id")
		m["object"].(map[string]any)["text"] = text
		body, _ := json.Marshal(m)
		if rec := post(body); rec.Body.String() != "ok" {
			t.Fatalf("edit %d without event_id: %d %q", i, rec.Code, rec.Body)
		}
	}
	if a, _ := store.Get(context.Background(), editedComment); !strings.HasSuffix(a.Text, "кв. 8") || len(a.History) != 3 {
		t.Errorf("edits without event_id: text %q, %d events; want the last text and 3 events", a.Text, len(a.History))
	}

	// A mistyped edit is refused as malformed, naming the event type.
	bad := `{"type":"wall_reply_edit","group_id":218900,"event_id":"bad1","object":{"id":"3520","post_id":3500}}`
	if rec := post([]byte(bad)); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "wall_reply_edit") {
		t.Errorf("mistyped edit: %d %q, want 400 naming wall_reply_edit", rec.Code, rec.Body)
	}
}

func TestCallbackWithoutEditsSkipsThem(t *testing.T) {
	evs := loadEditEvents(t)
	var c collect
	h, err := vk.NewCallbackHandler(vk.CallbackConfig{GroupID: 218900, Confirmation: "x", Logger: discard}, c.sink)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(ev)))
		if rec.Body.String() != "ok" {
			t.Fatalf("%d %q", rec.Code, rec.Body)
		}
	}
	if len(c.got) != 1 || c.got[0].ID != editedComment {
		t.Fatalf("sink got %d appeals, want only the new comment", len(c.got))
	}
}
