package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
)

// Nasty is one input of the poison table: an appeal built from Sample, and
// the field Put must refuse ("" when it must be accepted and kept exactly).
type Nasty struct {
	Name      string
	Mutate    func(a *appeal.Appeal)
	BadField  string
	FieldPart string // a substring of the *FieldError's Msg
}

// NastyInputs is the table every store must accept or refuse alike, so that
// SQLite, PostgreSQL and memory agree on what one bad appeal is.
func NastyInputs() []Nasty {
	long := func(n int) string { return strings.Repeat("ж", n/2) } // 2 bytes a letter
	return []Nasty{
		{"NULInText", func(a *appeal.Appeal) { a.Text = "мусор\x00не вывозят" }, "text", "NUL"},
		{"InvalidUTF8InAuthorName", func(a *appeal.Appeal) { a.Author.Name = "Иван\xff\xfe" }, "author.name", "UTF-8"},
		{"NULInTopicCode", func(a *appeal.Appeal) { a.Topics[0].Code = "garb\x00age" }, "topics[0].code", "NUL"},
		{"InvalidUTF8InHistoryNote", func(a *appeal.Appeal) {
			a.History = []appeal.Event{{At: base, From: appeal.StatusNew, To: appeal.StatusRejected, Note: "\xc3\x28"}}
			a.Status = appeal.StatusRejected
		}, "history[0].note", "UTF-8"},
		{"NULInExternalID", func(a *appeal.Appeal) { a.ExternalID = "1\x002" }, "external_id", "NUL"},
		{"MunicipalityTooLong", func(a *appeal.Appeal) { a.Municipality = long(appeal.MaxKeyLen + 2) }, "municipality", "bytes"},
		{"ExternalIDTooLong", func(a *appeal.Appeal) { a.ExternalID = strings.Repeat("9", appeal.MaxExternalIDLen+1) }, "external_id", "bytes"},
		{"ExecutorTooLong", func(a *appeal.Appeal) {
			a.Status = appeal.StatusRouted
			a.Assignment = &appeal.Assignment{Executor: strings.Repeat("x", appeal.MaxKeyLen+1)}
		}, "assignment.executor", "bytes"},
		{"NaNScore", func(a *appeal.Appeal) { a.Topics[1].Score = math.NaN() }, "topics[1].score", "not a number"},
		{"GeoOutOfRange", func(a *appeal.Appeal) { a.Geo = &appeal.GeoPoint{Lat: 91, Lon: 36} }, "geo", "coordinate"},
		{"YearTenThousand", func(a *appeal.Appeal) { a.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "created_at", "year"},

		// Accepted, and kept byte for byte.
		{"KeysAtTheirLimits", func(a *appeal.Appeal) {
			a.Municipality = long(appeal.MaxKeyLen)
			a.ExternalID = strings.Repeat("7", appeal.MaxExternalIDLen)
			a.Topics[0].Code = strings.Repeat("t", appeal.MaxKeyLen)
		}, "", ""},
		{"EmojiAndRareScripts", func(a *appeal.Appeal) {
			a.Text = "Яма 🕳️🚗 на дороге, ‮RTL‬, U+2028\u2028, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"
			a.Author.Name = "Ёлкина Ӕ 👩‍👩‍👧"
		}, "", ""},
		{"SQLAndLikeMetacharacters", func(a *appeal.Appeal) {
			a.Text = `'); DROP TABLE appeals; -- \ % _ "`
			a.Municipality = `O'Brien % _ \`
			a.Topics[0].Code = `roads_%\`
		}, "", ""},
		{"LongText", func(a *appeal.Appeal) {
			a.Text = strings.Repeat("Очень длинное обращение. ", 40_000)
		}, "", ""},
		{"EscapedNULIsText", func(a *appeal.Appeal) { a.Text = `\u0000 and \x00 written out` }, "", ""},
	}
}

// testNastyInputs puts every entry of NastyInputs and checks the verdict.
func testNastyInputs(t *testing.T, s appeal.Store) {
	ctx := context.Background()
	for i, n := range NastyInputs() {
		t.Run(n.Name, func(t *testing.T) {
			a := Sample(fmt.Sprintf("nasty%d", i))
			n.Mutate(&a)
			created, err := s.Put(ctx, a)
			if n.BadField != "" {
				require.Error(t, err)
				assert.False(t, created)
				var fe *appeal.FieldError
				require.ErrorAs(t, err, &fe, "a refusal names the field: %v", err)
				assert.Equal(t, n.BadField, fe.Field)
				assert.Contains(t, fe.Msg, n.FieldPart)
				assert.ErrorIs(t, err, appeal.ErrInvalid)
				return
			}
			require.NoError(t, err)
			require.True(t, created)
			got, err := s.Get(ctx, appeal.NewID(a.Network, a.ExternalID))
			require.NoError(t, err)
			want := a.Clone()
			require.NoError(t, want.Normalize())
			want.Version = 1
			assertSame(t, want, got)
			assert.Equal(t, want.Text, got.Text)
		})
	}
}

// testUpdateRefusesNasty: the validation holds on Update and Transition too.
func testUpdateRefusesNasty(t *testing.T, s appeal.Store) {
	ctx := context.Background()
	a := put(t, s, Sample("upd-nasty"))
	_, err := s.Update(ctx, a.ID, a.Version, func(c *appeal.Appeal) error {
		c.Text = "новый\x00текст"
		return nil
	})
	var fe *appeal.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "text", fe.Field)
	c := route(a.Version, "roads\xff")
	_, err = s.Transition(ctx, a.ID, c)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "assignment.executor", fe.Field)
	got, err := s.Get(ctx, a.ID)
	require.NoError(t, err)
	assertSame(t, a, got)
}

// testBatchSkipsBad: a BatchStore stores the good appeals of a batch that
// holds bad ones and names the bad ones by index.
func testBatchSkipsBad(t *testing.T, s appeal.Store) {
	bs, ok := s.(appeal.BatchStore)
	if !ok {
		t.Skip("not an appeal.BatchStore")
	}
	ctx := context.Background()
	good1, good2 := routed(Sample("batch-good1")), Sample("batch-good2")
	bad := Sample("batch-bad")
	bad.Text = "\x00"
	invalid := Sample("")
	batch := []appeal.Appeal{good1, bad, good2, invalid, good1}
	created, err := bs.PutBatch(ctx, batch, appeal.Checkpoint{Key: "storetest", Cursor: "after-batch"})
	var be *appeal.BatchError
	require.ErrorAs(t, err, &be)
	assert.ErrorIs(t, err, appeal.ErrInvalid)
	require.Len(t, be.Items, 2)
	assert.Equal(t, 1, be.Items[0].Index)
	assert.Equal(t, 3, be.Items[1].Index)
	assert.Nil(t, be.Err(0))
	assert.NotNil(t, be.Err(1))
	assert.Equal(t, []bool{true, false, true, false, false}, created)
	got, err := s.Get(ctx, "vk:batch-good1")
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusRouted, got.Status, "an appeal routed in memory is stored routed, in one write")
	require.Len(t, got.History, 1)
	assert.Equal(t, int64(1), got.Version)
	_, err = s.Get(ctx, "vk:batch-good2")
	require.NoError(t, err)
	_, err = s.Get(ctx, "vk:batch-bad")
	assert.ErrorIs(t, err, appeal.ErrNotFound)

	if cp, ok := s.(interface {
		Load(context.Context, string) (string, error)
	}); ok {
		c, err := cp.Load(ctx, "storetest")
		require.NoError(t, err)
		assert.Empty(t, c, "a checkpoint is not saved past refused appeals")
		_, err = bs.PutBatch(ctx, []appeal.Appeal{Sample("batch-good3")}, appeal.Checkpoint{Key: "storetest", Cursor: "after-batch"})
		require.NoError(t, err)
		c, err = cp.Load(ctx, "storetest")
		require.NoError(t, err)
		assert.Equal(t, "after-batch", c, "the checkpoint is saved with a clean batch")
	}
}

// routed returns a as the pipeline's single write stores it: routed in
// memory, with its history event.
func routed(a appeal.Appeal) appeal.Appeal {
	if err := a.Normalize(); err != nil {
		panic(err)
	}
	if err := a.Apply(route(0, "roads-kursk")); err != nil {
		panic(err)
	}
	return a
}

// hideScan hides a store's own Scan, so appeal.Scan pages through List.
type hideScan struct{ appeal.Store }

func testScan(t *testing.T, s appeal.Store) {
	ctx := context.Background()
	const n = 23
	for i := range n {
		a := Sample(fmt.Sprintf("scan%02d", i))
		a.CreatedAt = base.Add(time.Duration(i%5) * time.Minute) // ties broken by ID
		put(t, s, a)
	}
	all, err := s.List(ctx, appeal.Filter{})
	require.NoError(t, err)
	require.Len(t, all, n)
	for _, st := range []appeal.Store{s, hideScan{s}} {
		got, err := appeal.Collect(appeal.Scan(ctx, st, appeal.Filter{}))
		require.NoError(t, err)
		assert.Equal(t, exts(all), exts(got))
		got, err = appeal.Collect(appeal.Scan(ctx, st, appeal.Filter{Limit: 7}))
		require.NoError(t, err)
		assert.Equal(t, exts(all[:7]), exts(got))
	}
	// The fallback pages with Limit and the After cursor.
	pages := 0
	paged := appeal.ScanByPages(ctx, appeal.Filter{}, 4, func(ctx context.Context, f appeal.Filter) ([]appeal.Appeal, error) {
		pages++
		return s.List(ctx, f)
	})
	got, err := appeal.Collect(paged)
	require.NoError(t, err)
	assert.Equal(t, exts(all), exts(got))
	assert.Equal(t, 6, pages, "23 appeals in pages of 4")

	// Breaking out early stops the scan.
	seen := 0
	for _, err := range appeal.Scan(ctx, s, appeal.Filter{}) {
		require.NoError(t, err)
		seen++
		if seen == 3 {
			break
		}
	}
	assert.Equal(t, 3, seen)

	// A cancelled context ends the scan with its error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	var last error
	for _, err := range appeal.Scan(cctx, s, appeal.Filter{}) {
		last = err
	}
	assert.ErrorIs(t, last, context.Canceled)
}

// testTopicCase: topic filters compare bytes, case included, on every store.
func testTopicCase(t *testing.T, s appeal.Store) {
	ctx := context.Background()
	a := Sample("topic-case")
	a.Topics = []appeal.TopicScore{{Code: "Housing.heating", Score: 0.9}, {Code: "roads_x", Score: 0.5}}
	put(t, s, a)
	for _, tc := range []struct {
		topic string
		match bool
	}{
		{"Housing", true}, {"Housing.heating", true}, {"housing", false}, {"HOUSING", false},
		{"housing.heating", false}, {"Housing.", false}, {"roads_x", true}, {"roadsxx", false}, {"roads%", false},
	} {
		got, err := s.List(ctx, appeal.Filter{Topic: tc.topic})
		require.NoError(t, err)
		assert.Equal(t, tc.match, len(got) == 1, "topic filter %q", tc.topic)
	}
}

// testRetention: Retain pseudonymises closed appeals past the period and
// nothing else, keeps what statistics read, and is idempotent.
func testRetention(t *testing.T, s appeal.Store) {
	ctx := context.Background()
	now := base.Add(400 * 24 * time.Hour)
	closeAt := func(ext string, status appeal.Status, at time.Time) appeal.Appeal {
		a := Sample(ext)
		a.Text = "Звоните +7 (912) 345-67-89, пишите ivan@example.ru — мусор не вывозят"
		stored := put(t, s, a)
		c := route(stored.Version, "eco-kursk")
		c.Note = "позвонить 89123456789"
		stored, err := s.Transition(ctx, stored.ID, c)
		require.NoError(t, err)
		if status == appeal.StatusRejected {
			stored, err = s.Transition(ctx, stored.ID, appeal.Change{To: appeal.StatusRejected, At: at, ExpectedVersion: stored.Version})
			require.NoError(t, err)
			return stored
		}
		stored, err = s.Transition(ctx, stored.ID, appeal.Change{To: appeal.StatusAnswered, At: at.Add(-time.Hour),
			Reply: &appeal.Reply{Text: "Иван Петрович, вывезли; вопросы по 8 (4712) 51-22-33", At: at.Add(-time.Hour)}, ExpectedVersion: stored.Version})
		require.NoError(t, err)
		if status == appeal.StatusResolved {
			stored, err = s.Transition(ctx, stored.ID, appeal.Change{To: appeal.StatusResolved, At: at, ExpectedVersion: stored.Version})
			require.NoError(t, err)
		}
		return stored
	}
	old := closeAt("ret-old", appeal.StatusResolved, now.Add(-100*24*time.Hour))
	rejected := closeAt("ret-rejected", appeal.StatusRejected, now.Add(-91*24*time.Hour))
	recent := closeAt("ret-recent", appeal.StatusResolved, now.Add(-10*24*time.Hour))
	open := closeAt("ret-open", appeal.StatusAnswered, now.Add(-200*24*time.Hour))

	key := appeal.RedactOptions{Key: []byte("storetest deployment key")}
	p := appeal.RetentionPolicy{ClosedFor: 90 * 24 * time.Hour, Now: now, Redact: key}
	rep, err := appeal.Retain(ctx, s, p)
	require.NoError(t, err)
	assert.Equal(t, appeal.RetentionReport{Closed: 2, Pseudonymised: 2}, rep)

	for _, before := range []appeal.Appeal{old, rejected} {
		got, err := s.Get(ctx, before.ID)
		require.NoError(t, err)
		assert.True(t, got.Author.Pseudonymous)
		assert.Empty(t, got.Author.Name)
		assert.Empty(t, got.Author.ProfileURL)
		assert.NotEmpty(t, got.Author.ID)
		assert.NotEqual(t, before.Author.ID, got.Author.ID)
		assert.Empty(t, got.URL)
		assert.Empty(t, got.Attachments[0].URL)
		assert.Equal(t, before.Attachments[0].Type, got.Attachments[0].Type)
		for _, text := range []string{got.Text, got.History[0].Note} {
			assert.NotContains(t, text, "345-67-89")
			assert.NotContains(t, text, "89123456789")
			assert.NotContains(t, text, "ivan@example.ru")
		}
		for _, r := range got.Replies {
			assert.NotContains(t, r.Text, "51-22-33")
		}
		// What statistics read is untouched.
		assert.Equal(t, before.Status, got.Status)
		assert.Equal(t, before.Topics, got.Topics)
		assert.Equal(t, before.Municipality, got.Municipality)
		assert.Equal(t, before.Executor(), got.Executor())
		assert.True(t, before.CreatedAt.Equal(got.CreatedAt))
		require.Len(t, got.History, len(before.History))
		for i := range got.History {
			assert.Equal(t, before.History[i].To, got.History[i].To)
			assert.True(t, before.History[i].At.Equal(got.History[i].At))
		}
		assert.Equal(t, before.Version+1, got.Version)
		list, err := s.List(ctx, appeal.Filter{Topic: "garbage", Executor: "eco-kursk", Statuses: []appeal.Status{before.Status}})
		require.NoError(t, err)
		assert.Contains(t, exts(list), before.ExternalID, "indexes still find it")
	}
	for _, untouched := range []appeal.Appeal{recent, open} {
		got, err := s.Get(ctx, untouched.ID)
		require.NoError(t, err)
		assertSame(t, untouched, got)
	}
	// Two authors stay two pseudonyms; the same author, one.
	a, _ := s.Get(ctx, old.ID)
	b, _ := s.Get(ctx, rejected.ID)
	assert.NotEqual(t, a.Author.ID, b.Author.ID)

	rep, err = appeal.Retain(ctx, s, p)
	require.NoError(t, err)
	assert.Equal(t, appeal.RetentionReport{Closed: 2, Pseudonymised: 0}, rep, "idempotent")
	again, err := s.Get(ctx, old.ID)
	require.NoError(t, err)
	assertSame(t, a, again)

	_, err = appeal.Retain(ctx, s, appeal.RetentionPolicy{Redact: key})
	assert.Error(t, err, "a policy without a period is refused")
	_, err = appeal.Retain(ctx, s, appeal.RetentionPolicy{ClosedFor: time.Hour})
	assert.ErrorContains(t, err, "Key", "a policy without a pseudonym key is refused")

	// DropText removes the texts too.
	gone := closeAt("ret-drop", appeal.StatusResolved, now.Add(-100*24*time.Hour))
	_, err = appeal.Retain(ctx, s, appeal.RetentionPolicy{ClosedFor: 90 * 24 * time.Hour, Now: now, Redact: key, DropText: true})
	require.NoError(t, err)
	got, err := s.Get(ctx, gone.ID)
	require.NoError(t, err)
	assert.Empty(t, got.Text)
	assert.Empty(t, got.Replies[0].Text)
}

// testUpdateMayOnlyMaskNotes: Update may mask personal data in an existing
// history note and nothing else.
func testUpdateMayOnlyMaskNotes(t *testing.T, s appeal.Store) {
	ctx := context.Background()
	a := put(t, s, Sample("notes"))
	c := route(a.Version, "roads-kursk")
	c.Note = "звонил 89123456789"
	a, err := s.Transition(ctx, a.ID, c)
	require.NoError(t, err)
	_, err = s.Update(ctx, a.ID, a.Version, func(x *appeal.Appeal) error {
		x.History[0].Note = "переписано"
		return nil
	})
	assert.ErrorIs(t, err, appeal.ErrInvalid)
	got, err := s.Update(ctx, a.ID, a.Version, func(x *appeal.Appeal) error {
		x.History[0].Note = appeal.RedactText(x.History[0].Note)
		return nil
	})
	require.NoError(t, err)
	again, err := s.Get(ctx, a.ID)
	require.NoError(t, err)
	assertSame(t, got, again)
	assert.Equal(t, "звонил [телефон]", again.History[0].Note)
}

// testDeadLetters: a DeadLetterStore keeps refused appeals, poison
// included, once each.
func testDeadLetters(t *testing.T, s appeal.Store) {
	ds, ok := s.(appeal.DeadLetterStore)
	if !ok {
		t.Skip("not an appeal.DeadLetterStore")
	}
	ctx := context.Background()
	poison := Sample("dead1")
	poison.Text = "яд\x00\xff"
	poison.Topics[0].Score = math.Inf(1)
	_, err := s.Put(ctx, poison)
	require.Error(t, err)
	d := appeal.DeadLetter{ID: "vk:dead1", Input: "vk-wall", Appeal: poison, Reason: err.Error(), At: base}
	require.NoError(t, ds.PutDeadLetter(ctx, d))
	require.NoError(t, ds.PutDeadLetter(ctx, d), "twice is harmless")
	noID := appeal.DeadLetter{Input: "web\x00form", Appeal: appeal.Appeal{Text: "без сети"}, Reason: "network is empty", At: base.Add(time.Second)}
	require.NoError(t, ds.PutDeadLetter(ctx, noID))
	got, err := ds.DeadLetters(ctx, 0)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, appeal.ID("vk:dead1"), got[0].ID)
	assert.Equal(t, "vk-wall", got[0].Input)
	assert.Equal(t, d.Reason, got[0].Reason)
	assert.True(t, base.Equal(got[0].At))
	assert.Equal(t, poison.ExternalID, got[0].Appeal.ExternalID)
	assert.True(t, strings.HasPrefix(got[0].Appeal.Text, "яд"))
	assert.Equal(t, "без сети", got[1].Appeal.Text)
	one, err := ds.DeadLetters(ctx, 1)
	require.NoError(t, err)
	assert.Len(t, one, 1)
}

// testPutHonoursDeadline: a Put under an expired deadline returns its error
// and stores nothing.
func testPutHonoursDeadline(t *testing.T, s appeal.Store) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := s.Put(ctx, Sample("late"))
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
	_, err = s.Get(context.Background(), "vk:late")
	assert.ErrorIs(t, err, appeal.ErrNotFound)
}
