package answer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
)

func TestApprovalFlow(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			l := newLoop(t, st.open, answer.Policy{Executors: []string{"roads-committee"}})
			a := routed(t, l.store, "-100_4000_c9100", "Огромная яма на дороге у остановки на улице Садовой", "roads", "roads-committee")

			a, d, err := l.w.Draft(ctx, a.ID, appeal.AnswerInterim, "operator-1", a.Version)
			require.NoError(t, err)
			assert.Contains(t, d.Text, "Комитет транспорта и автомобильных дорог Курской области", "the executor by its Russian name")
			// 24 Nov 2026 (Tue) + 10 working days in the office calendar = 8 Dec.
			assert.Contains(t, d.Text, "до 8 декабря (10 рабочих дней)")
			assert.Equal(t, "2026-12-08", d.Promised.Format("2006-01-02"))

			// A stale version is refused, as for transitions.
			_, err = l.w.Submit(ctx, a.ID, d.ID, "operator-1", a.Version-1)
			require.ErrorIs(t, err, appeal.ErrConflict)

			a, err = l.w.Submit(ctx, a.ID, d.ID, "operator-1", a.Version)
			require.NoError(t, err)
			assert.Equal(t, appeal.AnswerOnReview, a.Drafts[0].State, "the policy asks a moderator")

			_, err = l.w.Return(ctx, a.ID, d.ID, "moderator", "", a.Version)
			require.Error(t, err, "a return needs a comment")
			a, err = l.w.Return(ctx, a.ID, d.ID, "moderator", "Укажите остановку", a.Version)
			require.NoError(t, err)
			assert.Equal(t, appeal.AnswerReturned, a.Drafts[0].State)
			assert.Equal(t, "Укажите остановку", a.Drafts[0].Comment)
			_, err = l.w.Approve(ctx, a.ID, d.ID, "moderator", a.Version)
			require.ErrorIs(t, err, answer.ErrState, "a returned draft is not approved")

			a, err = l.w.Edit(ctx, a.ID, d.ID, d.Text+" Остановка «Школа».", "operator-1", a.Version)
			require.NoError(t, err)
			a, err = l.w.Submit(ctx, a.ID, d.ID, "operator-1", a.Version)
			require.NoError(t, err)
			a, err = l.w.Approve(ctx, a.ID, d.ID, "moderator", a.Version)
			require.NoError(t, err)
			assert.Equal(t, appeal.AnswerApproved, a.Drafts[0].State)
			pending, err := l.store.Pending(ctx)
			require.NoError(t, err)
			require.Len(t, pending, 1, "approved and queued in one write")
			assert.Contains(t, pending[0].Text, "Остановка «Школа»")

			// The history names every step and its actor.
			var steps []string
			for _, e := range a.History[1:] {
				steps = append(steps, e.Actor+": "+e.Note)
			}
			assert.Equal(t, []string{
				"operator-1: ответ 1 (промежуточный): черновик",
				"operator-1: ответ 1 (промежуточный): черновик → на согласовании",
				"moderator: ответ 1 (промежуточный): на согласовании → возвращён: Укажите остановку",
				"operator-1: ответ 1 (промежуточный): возвращён → черновик: текст изменён",
				"operator-1: ответ 1 (промежуточный): черновик → на согласовании",
				"moderator: ответ 1 (промежуточный): на согласовании → согласован, в очереди на публикацию",
			}, steps)
		})
	}
}

func TestSubmitStopsAtTheGate(t *testing.T) {
	ctx := context.Background()
	l := newLoop(t, stores[0].open, answer.Policy{})
	a := routed(t, l.store, "-100_4000_c9101", "Во дворе дома 12 по улице Ленина не вывозят мусор", "garbage", "kursky-admin")
	a, d, err := l.w.Write(ctx, a.ID, appeal.AnswerFinal, "Ваше обращение рассмотрено, будут приняты меры.", "operator-1", a.Version)
	require.NoError(t, err)
	a, err = l.w.Submit(ctx, a.ID, d.ID, "operator-1", a.Version)
	var ge *answer.GateError
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, appeal.AnswerDraft, a.Drafts[0].State)
	assert.NotEmpty(t, a.Drafts[0].Issues, "the reasons are kept on the draft")
	assert.Contains(t, err.Error(), "отписк")
	pending, err := l.store.Pending(ctx)
	require.NoError(t, err)
	assert.Empty(t, pending)

	// Fixed, it passes and goes straight to the outbox (no approval needed).
	a, err = l.w.Edit(ctx, a.ID, d.ID, "Мусор во дворе дома 12 на улице Ленина вывезен 24 ноября, ответственный — ООО «Экотранс».", "operator-1", a.Version)
	require.NoError(t, err)
	a, err = l.w.Submit(ctx, a.ID, d.ID, "operator-1", a.Version)
	require.NoError(t, err)
	assert.Equal(t, appeal.AnswerApproved, a.Drafts[0].State)
	assert.Empty(t, a.Drafts[0].Issues)
}

func TestDraftNeedsRoutedAppeal(t *testing.T) {
	ctx := context.Background()
	l := newLoop(t, stores[0].open, answer.Policy{})
	_, err := l.store.Put(ctx, appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_1", Text: "яма"})
	require.NoError(t, err)
	_, _, err = l.w.Draft(ctx, "vk:-1_1", appeal.AnswerInterim, "op", 1)
	require.ErrorIs(t, err, answer.ErrState)
}

func TestPolicy(t *testing.T) {
	a := &appeal.Appeal{Network: appeal.NetworkTelegram, Topics: []appeal.TopicScore{{Code: "housing.heating"}},
		Assignment: &appeal.Assignment{Executor: "adm"}}
	d := &appeal.Draft{Kind: appeal.AnswerFinal, Executor: "adm"}
	assert.False(t, answer.Policy{}.NeedsApproval(a, d))
	assert.True(t, answer.Policy{All: true}.NeedsApproval(a, d))
	assert.True(t, answer.Policy{Executors: []string{"adm"}}.NeedsApproval(a, d))
	assert.False(t, answer.Policy{Executors: []string{"other"}}.NeedsApproval(a, d))
	assert.True(t, answer.Policy{Topics: []string{"housing"}}.NeedsApproval(a, d))
	assert.False(t, answer.Policy{Topics: []string{"roads"}}.NeedsApproval(a, d))
	assert.True(t, answer.Policy{Networks: []appeal.Network{appeal.NetworkTelegram}}.NeedsApproval(a, d))
	assert.True(t, answer.Policy{Kinds: []appeal.AnswerKind{appeal.AnswerFinal}}.NeedsApproval(a, d))
}

func TestTemplateErrorsNameFileAndLine(t *testing.T) {
	for name, tc := range map[string]struct {
		src  string
		line int
		msg  string
	}{
		"unknown function": {"templates:\n  - topic: roads\n    kind: final\n    text: |\n      Здравствуйте!\n      Срок — {{datum .Promised}}.\n", 6, "datum"},
		"unknown field":    {"templates:\n  - topic: roads\n    kind: final\n    text: |\n      Здравствуйте, {{.Name}}!\n", 5, "Name"},
		"one-line text":    {"templates:\n  - topic: roads\n    kind: final\n    text: \"Срок {{.Promised\"\n", 4, "unclosed"},
		"bad kind":         {"templates:\n  - topic: roads\n    kind: finall\n    text: x\n", 2, "finall"},
		"unknown key":      {"templates:\n  - topic: roads\n    kind: final\n    txt: x\n", 4, "txt"},
		"duplicate":        {"templates:\n  - {topic: roads, kind: final, text: a}\n  - {topic: roads, kind: final, text: b}\n", 3, "line 2"},
		"bad yaml":         {"templates:\n  - topic: [roads\n", 1, "did not find"},
		"tab":              {"templates:\n  - topic: roads\n\t kind: final\n", 3, "a tab character in the indentation"},
		"dedented key":     {"templates:\n  - topic: roads\n    kind: final\n  text: x\n", 4, `"text:" is indented 2 spaces`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := answer.ParseTemplates(strings.NewReader(tc.src), "answers.yaml", nil)
			require.Error(t, err)
			var te *answer.TemplateError
			require.ErrorAs(t, err, &te)
			assert.ErrorIs(t, err, answer.ErrBadTemplates)
			assert.Equal(t, "answers.yaml", te.File)
			assert.Equal(t, tc.line, te.Line, "%v", err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "answers.yaml:"), err.Error())
		})
	}
}

func TestRussianDatesAndWorkingDays(t *testing.T) {
	assert.Equal(t, "3 декабря", answer.FormatDate(time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)))
	assert.Equal(t, "1 мая 2027 г.", answer.FormatDateYear(time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC)))
	assert.Equal(t, "", answer.FormatDate(time.Time{}))
	for n, want := range map[int]string{0: "0 дней", 1: "1 день", 2: "2 дня", 4: "4 дня", 5: "5 дней", 11: "11 дней",
		12: "12 дней", 14: "14 дней", 21: "21 день", 101: "101 день", 111: "111 дней", 112: "112 дней", 122: "122 дня"} {
		assert.Equal(t, want, answer.Plural(n, "день", "дня", "дней"))
	}
	cal, ok := testRules(t).Calendar("office")
	require.True(t, ok)
	// Friday 27 Nov 2026 + 3 working days: Mon 30, Tue 1, Wed 2 December.
	fri := time.Date(2026, 11, 27, 15, 0, 0, 0, cal.Location())
	assert.Equal(t, "2026-12-02", answer.AddWorkingDays(cal, fri, 3).Format("2006-01-02"))
	// Over the New Year holidays (1–8 January are not working days).
	dec30 := time.Date(2026, 12, 30, 10, 0, 0, 0, cal.Location())
	got := answer.AddWorkingDays(cal, dec30, 2)
	assert.True(t, got.After(time.Date(2027, 1, 8, 23, 0, 0, 0, cal.Location())), "got %s", got)
	// Without a calendar: Monday to Friday.
	assert.Equal(t, "2026-12-02", answer.AddWorkingDays(nil, fri, 3).Format("2006-01-02"))
}

func TestReaction(t *testing.T) {
	for text, want := range map[string]appeal.Reaction{
		"Спасибо большое, яму заделали!":          appeal.ReactionThanks,
		"Благодарю за оперативность":              appeal.ReactionThanks,
		"Ничего не сделано, яма как была":         appeal.ReactionNotSolved,
		"Спасибо, но мусор до сих пор не вывезли": appeal.ReactionNotSolved,
		"Никто не приехал, батареи холодные":      appeal.ReactionNotSolved,
		"А когда отремонтируют тротуар у школы?":  appeal.ReactionNewQuestion,
		"Ещё у нас во дворе нет освещения":        appeal.ReactionNewQuestion,
		"Опять то же самое, снова сломали":        appeal.ReactionNotSolved,
	} {
		assert.Equal(t, want, answer.ClassifyReaction(text), text)
	}
}

func TestReactReopensAndCountsThanks(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			l := newLoop(t, st.open, answer.Policy{})
			a := routed(t, l.store, "-100_4000_c9200", "Яма на дороге на улице Садовой", "roads", "roads-committee")
			a, d, err := l.w.Write(ctx, a.ID, appeal.AnswerFinal, "Яму на улице Садовой заделали 25 ноября, работы выполнил ООО «Дорстрой».", "op", a.Version)
			require.NoError(t, err)
			_, err = l.w.Submit(ctx, a.ID, d.ID, "op", a.Version)
			require.NoError(t, err)
			res, err := l.publisher(t, nil, nil).Drain(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, res.Published)
			l.clock.Advance(time.Hour)

			next := appeal.Appeal{ID: "vk:-100_4000_c9300", Network: appeal.NetworkVK, Kind: appeal.KindComment, ExternalID: "-100_4000_c9300",
				Text: "Ничего не сделано, яма как была", Author: appeal.Author{ID: "u1"}, Community: appeal.Community{ID: "-100"},
				Thread: appeal.Thread{RootID: "-100_4000"}, CreatedAt: l.clock.Now()}
			found, err := l.w.FindAnswered(ctx, &next)
			require.NoError(t, err)
			assert.Equal(t, a.ID, found.ID)
			other := next
			other.Author.ID = "u2"
			_, err = l.w.FindAnswered(ctx, &other)
			require.ErrorIs(t, err, answer.ErrNoAnswered, "another author's message is not a reaction")

			got, r, err := l.w.React(ctx, found.ID, next)
			require.NoError(t, err)
			assert.Equal(t, appeal.ReactionNotSolved, r)
			assert.Equal(t, appeal.StatusReopened, got.Status)
			assert.Equal(t, appeal.ReactionNotSolved, got.Replies[0].Reaction)
			last := got.History[len(got.History)-1]
			assert.Equal(t, "citizen", last.Actor)
			assert.Equal(t, appeal.StatusReopened, last.To)
		})
	}
	ctx := context.Background()
	l := newLoop(t, stores[0].open, answer.Policy{})
	a := routed(t, l.store, "-100_4000_c9201", "Яма на дороге на улице Садовой", "roads", "roads-committee")
	_, err := l.store.Transition(ctx, a.ID, appeal.Change{To: appeal.StatusAnswered, Reply: &appeal.Reply{Text: "Заделали"}, ExpectedVersion: a.Version})
	require.NoError(t, err)
	got, r, err := l.w.React(ctx, a.ID, appeal.Appeal{Text: "Спасибо, всё сделали!"})
	require.NoError(t, err)
	assert.Equal(t, appeal.ReactionThanks, r)
	assert.Equal(t, appeal.StatusAnswered, got.Status)
	assert.Equal(t, appeal.ReactionThanks, got.Replies[0].Reaction, "thanks are kept")
	_, _, err = l.w.React(ctx, "vk:missing", appeal.Appeal{Text: "спасибо"})
	assert.True(t, errors.Is(err, appeal.ErrNotFound))
}

func TestReactionSink(t *testing.T) {
	ctx := context.Background()
	l := newLoop(t, stores[0].open, answer.Policy{})
	a := l.approved(t, "-100_4000_c9400")
	_, err := l.publisher(t, nil, nil).Drain(ctx)
	require.NoError(t, err)
	l.clock.Advance(time.Hour)
	var passed []appeal.ID
	sink := l.w.ReactionSink(func(_ context.Context, x appeal.Appeal) error {
		passed = append(passed, appeal.NewID(x.Network, x.ExternalID))
		return nil
	}, func(_ appeal.Appeal, err error) { t.Errorf("reaction: %v", err) })
	thanks := appeal.Appeal{Network: appeal.NetworkVK, Kind: appeal.KindReply, ExternalID: "-100_4000_c9401", Text: "Спасибо!",
		Author: appeal.Author{ID: "u1"}, Community: appeal.Community{ID: "-100"}, Thread: appeal.Thread{ParentID: "-100_4000_c9400", RootID: "-100_4000"},
		CreatedAt: l.clock.Now()}
	require.NoError(t, sink(ctx, thanks))
	stranger := thanks
	stranger.ExternalID, stranger.Author.ID = "-100_4000_c9402", "u9"
	require.NoError(t, sink(ctx, stranger))
	assert.Equal(t, []appeal.ID{"vk:-100_4000_c9401", "vk:-100_4000_c9402"}, passed, "every message goes on")
	got, err := l.store.Get(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, appeal.ReactionThanks, got.Replies[0].Reaction, "the thanks are kept on the answered appeal")
}

func TestQueue(t *testing.T) {
	ctx := context.Background()
	l := newLoop(t, stores[1].open, answer.Policy{Topics: []string{"housing"}})
	h := routed(t, l.store, "-100_4000_c9900", "Нет отопления в доме 7 на улице Мира", "housing.heating", "housing-committee")
	r := routed(t, l.store, "-100_4000_c9901", "Яма на дороге на улице Садовой", "roads", "roads-committee")
	for _, a := range []appeal.Appeal{h, r} {
		a, d, err := l.w.Draft(ctx, a.ID, appeal.AnswerInterim, "op", a.Version)
		require.NoError(t, err)
		_, err = l.w.Submit(ctx, a.ID, d.ID, "op", a.Version)
		require.NoError(t, err)
	}
	q, err := l.w.Queue(ctx, appeal.AnswerOnReview, appeal.Filter{})
	require.NoError(t, err)
	require.Len(t, q, 1, "only the ЖКХ answer waits for a moderator")
	assert.Equal(t, h.ID, q[0].Appeal.ID)
	assert.Equal(t, appeal.AnswerOnReview, q[0].Draft.State)
	q, err = l.w.Queue(ctx, appeal.AnswerApproved, appeal.Filter{Executor: "roads-committee"})
	require.NoError(t, err)
	require.Len(t, q, 1)
	assert.Equal(t, r.ID, q[0].Appeal.ID)
}

func TestDraftWithoutTemplate(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	tm, err := answer.ParseTemplates(strings.NewReader("templates:\n  - {topic: roads, kind: final, text: \"Дорогу отремонтировали {{date .Now}}.\"}\n"), "a.yaml", nil)
	require.NoError(t, err)
	w, err := answer.New(answer.Config{Store: store, Templates: tm})
	require.NoError(t, err)
	a := routed(t, store, "-1_1_c1", "Яма во дворе", "landscaping.yards", "adm")
	_, _, err = w.Draft(ctx, a.ID, appeal.AnswerFinal, "op", a.Version)
	require.ErrorIs(t, err, answer.ErrNoTemplate, "no template for the topic and no \"*\"")
	_, _, err = w.Draft(ctx, a.ID, "other", "op", a.Version)
	var fe *appeal.FieldError
	require.ErrorAs(t, err, &fe)
	_, err = answer.New(answer.Config{Store: noOutbox{store}})
	require.ErrorIs(t, err, answer.ErrNoOutbox)
}

// noOutbox hides the memory store's outbox.
type noOutbox struct{ appeal.Store }

func TestFindAnsweredWindow(t *testing.T) {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	a := routed(t, store, "-100_4000_c9950", "Яма на дороге", "roads", "roads-committee")
	_, err := store.Transition(ctx, a.ID, appeal.Change{To: appeal.StatusAnswered, Reply: &appeal.Reply{Text: "Заделали", At: a.CreatedAt.Add(time.Hour)}, ExpectedVersion: a.Version})
	require.NoError(t, err)
	next := appeal.Appeal{Network: appeal.NetworkVK, Kind: appeal.KindReply, ExternalID: "-100_4000_c9951", Text: "спасибо",
		Author: appeal.Author{ID: "u1"}, Community: appeal.Community{ID: "-100"}, Thread: appeal.Thread{ParentID: "-100_4000_c9950"},
		CreatedAt: a.CreatedAt.Add(72 * time.Hour)}
	w, err := answer.New(answer.Config{Store: store})
	require.NoError(t, err)
	_, err = w.FindAnswered(ctx, &next)
	require.NoError(t, err, "within the default window")
	w, err = answer.New(answer.Config{Store: store, ReactionWindow: 24 * time.Hour})
	require.NoError(t, err)
	_, err = w.FindAnswered(ctx, &next)
	require.ErrorIs(t, err, answer.ErrNoAnswered, "the appeal was written before the window")
}
