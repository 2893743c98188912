package source_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

func storedComplaint(t *testing.T, store appeal.Store, ext, text string) appeal.Appeal {
	t.Helper()
	a := appeal.Appeal{Network: appeal.NetworkVK, Kind: appeal.KindComment, ExternalID: ext, Text: text,
		CreatedAt: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	if err := a.Normalize(); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestStoreEditsAppliesTheNewText(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	orig := storedComplaint(t, store, "-1_2_c3", "Не горят фонари, звоните +7 912 345-67-89")
	var hooked []string
	apply := source.StoreEdits(store, source.WithEditHook(func(_ context.Context, a *appeal.Appeal) error {
		hooked = append(hooked, a.Text)
		a.Topics = []appeal.TopicScore{{Code: "landscaping.lighting", Score: 0.9}}
		return nil
	}))
	editedAt := time.Date(2026, 1, 1, 9, 5, 0, 0, time.UTC)
	e := orig
	e.Text = "Не горят фонари у дома 5 по ул. Ленина"
	if err := apply(ctx, source.Edit{Appeal: e, EditedAt: editedAt}); err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(ctx, orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != e.Text || got.Version != 2 || len(got.History) != 1 {
		t.Fatalf("text %q, version %d, history %+v; want the new text in version 2 with one event", got.Text, got.Version, got.History)
	}
	// The hook ran inside the same Update: its topics are in version 2.
	if len(hooked) != 1 || hooked[0] != e.Text || got.TopTopic() != "landscaping.lighting" {
		t.Errorf("hook saw %q, topic %q", hooked, got.TopTopic())
	}
	ev := got.History[0]
	if !ev.At.Equal(editedAt) || ev.Actor != "vk" || ev.From != appeal.StatusNew || ev.To != appeal.StatusNew ||
		ev.Note != source.EditNotePrefix+orig.Text {
		t.Errorf("history event %+v", ev)
	}
	// The previous text is quoted in the note; Redacted masks its phone.
	if r := got.Redacted(); strings.Contains(r.History[0].Note, "345-67-89") || !strings.Contains(r.History[0].Note, "[телефон]") {
		t.Errorf("redacted note %q still shows the phone", r.History[0].Note)
	}

	// A redelivery of the same edit changes nothing and runs no hook.
	if err := apply(ctx, source.Edit{Appeal: e, EditedAt: editedAt.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if again, _ := store.Get(ctx, orig.ID); again.Version != 2 || len(hooked) != 1 {
		t.Errorf("redelivered edit: version %d, hook ran %d times", again.Version, len(hooked))
	}
}

func TestStoreEditsStoresAnUnknownAppeal(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	hooks := 0
	apply := source.StoreEdits(store, source.WithEditHook(func(_ context.Context, a *appeal.Appeal) error {
		hooks++
		a.Urgent = true
		return nil
	}))
	// Not normalized: StoreEdits derives the ID itself.
	e := appeal.Appeal{Network: appeal.NetworkVK, Kind: appeal.KindComment, ExternalID: "-1_2_c9", Text: "Прорвало трубу у дома 3",
		CreatedAt: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	if err := apply(ctx, source.Edit{Appeal: e}); err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(ctx, "vk:-1_2_c9")
	if err != nil {
		t.Fatalf("edit of an appeal never stored was not stored: %v", err)
	}
	if got.Text != e.Text || got.Version != 1 || len(got.History) != 0 || !got.Urgent || hooks != 1 {
		t.Errorf("stored %+v after %d hooks; want the edited text, version 1, the hook's urgency", got, hooks)
	}

	// An appeal without an external id is refused, naming the field.
	bad := appeal.Appeal{Network: appeal.NetworkVK, Text: "x"}
	err = apply(ctx, source.Edit{Appeal: bad})
	var fe *appeal.FieldError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "edit of vk:") {
		t.Errorf("edit without an external id: %v, want an *appeal.FieldError naming the edit", err)
	}
}

func TestStoreEditsZeroTimeUsesTheClock(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	orig := storedComplaint(t, store, "-1_2_c4", "Яма")
	now := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	apply := source.StoreEdits(store, source.WithEditClock(func() time.Time { return now }))
	e := orig
	e.Text = "Яма у школы №7"
	if err := apply(ctx, source.Edit{Appeal: e}); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Get(ctx, orig.ID); len(got.History) != 1 || !got.History[0].At.Equal(now) {
		t.Errorf("history %+v, want the event at %v", got.History, now)
	}
}

func TestStoreEditsHookErrorLeavesTheAppeal(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	orig := storedComplaint(t, store, "-1_2_c5", "Старый текст")
	boom := errors.New("classifier down")
	apply := source.StoreEdits(store, source.WithEditHook(func(context.Context, *appeal.Appeal) error { return boom }))
	e := orig
	e.Text = "Новый текст"
	if err := apply(ctx, source.Edit{Appeal: e}); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the hook's error", err)
	}
	if got, _ := store.Get(ctx, orig.ID); got.Text != orig.Text || got.Version != 1 {
		t.Errorf("a failed hook changed the appeal: %q v%d", got.Text, got.Version)
	}
	// Nor is an unknown appeal stored when the hook fails.
	fresh := appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_2_c6", Text: "Новое"}
	if err := apply(ctx, source.Edit{Appeal: fresh}); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the hook's error", err)
	}
	if _, err := store.Get(ctx, "vk:-1_2_c6"); !errors.Is(err, appeal.ErrNotFound) {
		t.Errorf("appeal stored although the hook failed: %v", err)
	}
}

// racingStore changes the appeal behind StoreEdits' back before each of the
// first n Updates, as an operator working on it at the same moment would.
type racingStore struct {
	appeal.Store
	n       atomic.Int64
	updates atomic.Int64
}

func (s *racingStore) Update(ctx context.Context, id appeal.ID, v int64, mutate func(*appeal.Appeal) error) (appeal.Appeal, error) {
	s.updates.Add(1)
	if s.n.Add(-1) >= 0 {
		if _, err := s.Store.Update(ctx, id, v, func(a *appeal.Appeal) error { a.Municipality = "Курск"; return nil }); err != nil {
			return appeal.Appeal{}, err
		}
	}
	return s.Store.Update(ctx, id, v, mutate)
}

func TestStoreEditsRetriesConflicts(t *testing.T) {
	ctx := context.Background()
	store := &racingStore{Store: appeal.NewMemoryStore()}
	orig := storedComplaint(t, store.Store, "-1_2_c7", "Нет воды")
	store.n.Store(2)
	e := orig
	e.Text = "Нет воды в доме 12 по ул. Мира"
	if err := source.StoreEdits(store)(ctx, source.Edit{Appeal: e}); err != nil {
		t.Fatal(err)
	}
	got, _ := store.Get(ctx, orig.ID)
	if got.Text != e.Text || got.Municipality != "Курск" || got.Version != 4 || store.updates.Load() != 3 {
		t.Errorf("after two lost races: text %q, municipality %q, version %d, %d updates; want both changes kept, version 4, 3 updates",
			got.Text, got.Municipality, got.Version, store.updates.Load())
	}

	// Racing on every attempt: give up with ErrConflict.
	store.n.Store(100)
	e.Text = "Нет воды в доме 12, кв. 4"
	err := source.StoreEdits(store, source.WithEditAttempts(3))(ctx, source.Edit{Appeal: e})
	if !errors.Is(err, appeal.ErrConflict) || !strings.Contains(err.Error(), "3 attempts") {
		t.Errorf("got %v, want appeal.ErrConflict after 3 attempts", err)
	}
}

// failingStore fails Get, as a database that is down would.
type failingStore struct{ appeal.Store }

var errDown = errors.New("database is down")

func (failingStore) Get(context.Context, appeal.ID) (appeal.Appeal, error) {
	return appeal.Appeal{}, errDown
}

func TestStoreEditsStoreErrorIsReturned(t *testing.T) {
	e := appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_2_c8", Text: "x"}
	err := source.StoreEdits(failingStore{appeal.NewMemoryStore()})(context.Background(), source.Edit{Appeal: e})
	if !errors.Is(err, errDown) || !strings.Contains(err.Error(), "vk:-1_2_c8") {
		t.Errorf("got %v, want the store's error naming the appeal", err)
	}
}

// Concurrent edits of one appeal all land, each once, in some order.
func TestStoreEditsConcurrent(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	orig := storedComplaint(t, store, "-1_2_c10", "Не убран снег")
	apply := source.StoreEdits(store, source.WithEditAttempts(20))
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			e := orig
			e.Text = fmt.Sprintf("Не убран снег во дворе дома %d", i)
			errs <- apply(ctx, source.Edit{Appeal: e})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := store.Get(ctx, orig.ID)
	if len(got.History) != n || got.Version != n+1 {
		t.Errorf("history %d events, version %d; want %d and %d", len(got.History), got.Version, n, n+1)
	}
}

// BenchmarkStoreEdits applies one edit to each of b.N stored appeals (the
// Get, the Update with its history event); "redelivery" is the same edit
// again, which only reads.
func BenchmarkStoreEdits(b *testing.B) {
	ctx := context.Background()
	setup := func(b *testing.B) (appeal.Store, []appeal.Appeal) {
		store := appeal.NewMemoryStore()
		edits := make([]appeal.Appeal, b.N)
		for i := range edits {
			a := appeal.Appeal{Network: appeal.NetworkVK, ExternalID: fmt.Sprintf("-1_2_c%d", i), Text: "Яма на дороге"}
			if err := a.Normalize(); err != nil {
				b.Fatal(err)
			}
			if _, err := store.Put(ctx, a); err != nil {
				b.Fatal(err)
			}
			a.Text = "Яма на дороге у дома 5 по ул. Ленина"
			edits[i] = a
		}
		return store, edits
	}
	b.Run("apply", func(b *testing.B) {
		store, edits := setup(b)
		apply := source.StoreEdits(store)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if err := apply(ctx, source.Edit{Appeal: edits[i]}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("redelivery", func(b *testing.B) {
		store, edits := setup(b)
		apply := source.StoreEdits(store)
		for i := range b.N {
			if err := apply(ctx, source.Edit{Appeal: edits[i]}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if err := apply(ctx, source.Edit{Appeal: edits[i]}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestStoreEditsDeletionKeepsTheTextAndIsRecordedOnce(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	orig := storedComplaint(t, store, "-1_2_c9", "Яма на дороге у школы")
	apply := source.StoreEdits(store)
	del := source.Edit{Appeal: appeal.Appeal{Network: orig.Network, Kind: orig.Kind, ExternalID: orig.ExternalID},
		EditedAt: time.Date(2026, 1, 2, 8, 0, 0, 0, time.UTC), Deleted: true}
	for range 2 { // a redelivered deletion changes nothing more
		if err := apply(ctx, del); err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.Get(ctx, orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != orig.Text || len(got.History) != 1 || got.History[0].Note != source.DeletedNote || !got.History[0].At.Equal(del.EditedAt) {
		t.Fatalf("text %q, history %+v; want the original text and one deletion event", got.Text, got.History)
	}
	// A deletion of an appeal never stored stores nothing.
	never := del
	never.Appeal.ExternalID = "-1_2_c10"
	if err := apply(ctx, never); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(ctx, appeal.NewID(orig.Network, "-1_2_c10")); !errors.Is(err, appeal.ErrNotFound) {
		t.Errorf("deletion of an unknown appeal: Get = %v; want ErrNotFound", err)
	}
}
