package answer_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
)

// echoReplier stands in for a network's source.Replier.
type echoReplier struct{}

func (echoReplier) Reply(_ context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	return appeal.Reply{ExternalID: to.ExternalID + "_answer", Text: text}, nil
}

const exampleTemplates = `
templates:
  - topic: roads
    kind: interim
    promise_days: 7
    text: |
      Здравствуйте! Обращение о дороге{{with .Place}} ({{.}}){{end}} принято в работу.
      Исполнитель — {{.Executor}}. Срок решения — до {{date .Promised}}.
`

func Example() {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	_, _ = store.Put(ctx, appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_10_c20", Kind: appeal.KindComment,
		Text: "Яма на дороге на улице Садовой", Place: "Беседино", Topics: []appeal.TopicScore{{Code: "roads", Score: 1}}})
	a, _ := store.Transition(ctx, "vk:-1_10_c20", appeal.Change{To: appeal.StatusRouted,
		Assignment: &appeal.Assignment{Executor: "roads"}, ExpectedVersion: 1})

	tmpl, err := answer.ParseTemplates(strings.NewReader(exampleTemplates), "answers.yaml", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	now := func() time.Time { return time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) }
	w, _ := answer.New(answer.Config{Store: store, Templates: tmpl, Now: now,
		Policy: answer.Policy{Topics: []string{"roads"}}})

	a, d, _ := w.Draft(ctx, a.ID, appeal.AnswerInterim, "operator", a.Version)
	fmt.Println(d.Text)
	a, _ = w.Submit(ctx, a.ID, d.ID, "operator", a.Version)
	a, _ = w.Approve(ctx, a.ID, d.ID, "moderator", a.Version)

	p, _ := answer.NewPublisher(answer.PublisherConfig{Store: store, Now: now,
		Channels: map[string]answer.Channel{"vk": {Replier: echoReplier{}, Idempotent: true}}})
	res, _ := p.Drain(ctx)
	a, _ = store.Get(ctx, a.ID)
	fmt.Println(res.Published, a.Status, answer.FormatDate(a.Promised))
	// Output:
	// Здравствуйте! Обращение о дороге (Беседино) принято в работу.
	// Исполнитель — roads. Срок решения — до 3 декабря.
	// 1 in_progress 3 декабря
}

func ExamplePlural() {
	for _, n := range []int{1, 2, 5, 11, 21, 22, 25} {
		fmt.Println(answer.Plural(n, "день", "дня", "дней"))
	}
	// Output:
	// 1 день
	// 2 дня
	// 5 дней
	// 11 дней
	// 21 день
	// 22 дня
	// 25 дней
}

func ExampleGate_Check() {
	g := answer.NewGate(answer.GateConfig{})
	a := &appeal.Appeal{Text: "Во дворе дома 5 не вывозят мусор уже неделю"}
	for _, is := range g.Check(a, appeal.AnswerFinal, "Ваше обращение рассмотрено, будут приняты меры в установленном порядке.") {
		fmt.Println(is.Check)
	}
	// Output:
	// formal
	// bureaucratic
	// off_topic
}

func ExampleClassifyReaction() {
	fmt.Println(answer.ClassifyReaction("Спасибо, яму заделали!"))
	fmt.Println(answer.ClassifyReaction("Ничего не сделано, яма как была"))
	fmt.Println(answer.ClassifyReaction("А когда отремонтируют двор?"))
	// Output:
	// thanks
	// not_solved
	// new_question
}

func ExampleParseTemplates() {
	const file = `
templates:
  - topic: "*"
    kind: interim
    promise_days: 5
    text: |
      Обращение принято в работу. Срок — до {{date .Promised}}
      ({{plural .PromiseDays "рабочий день" "рабочих дня" "рабочих дней"}}).
      Исполнитель — {{.Executor}}.
  - topic: roads
    kind: final
    text: "Дорогу отремонтировали {{date .Now}}, {{.Executorr}}."
`
	_, err := answer.ParseTemplates(strings.NewReader(file), "answers.yaml", nil)
	fmt.Println(err)
	// Output: answers.yaml:12: template: executing "roads/final" at <.Executorr>: can't evaluate field Executorr in type answer.Data
}

func ExampleFormatDate() {
	fmt.Println(answer.FormatDate(time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)))
	fmt.Println(answer.FormatDateYear(time.Date(2027, 1, 11, 0, 0, 0, 0, time.UTC)))
	// Output:
	// 3 декабря
	// 11 января 2027 г.
}

func ExampleAddWorkingDays() {
	fri := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	// Without a route.Calendar: Monday to Friday.
	fmt.Println(answer.FormatDate(answer.AddWorkingDays(nil, fri, 3)))
	// Output: 2 декабря
}

func ExampleVerifyPortalCallback() {
	var got http.Header
	var body []byte
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r.Header.Clone(), must(io.ReadAll(r.Body))
	}))
	defer portal.Close()
	secret := []byte("shared-secret")
	r, _ := answer.NewPortalReplier(answer.PortalConfig{URL: portal.URL, Secret: secret})
	_, err := r.Reply(context.Background(), appeal.Appeal{ID: "web:form-1", ExternalID: "form-1"}, "Яму заделали 25 ноября.")
	fmt.Println(err)
	fmt.Println(answer.VerifyPortalCallback(secret, got, body, time.Now(), 5*time.Minute))
	fmt.Println(answer.VerifyPortalCallback([]byte("guess"), got, body, time.Now(), 5*time.Minute) != nil)
	// Output:
	// <nil>
	// <nil>
	// true
}

func must[T any](v T, _ error) T { return v }

func ExampleWorkflow_ReactionSink() {
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	_, _ = store.Put(ctx, appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_10_c20", Kind: appeal.KindComment,
		Text: "Яма у остановки", Author: appeal.Author{ID: "u1"}, Community: appeal.Community{ID: "-1"}})
	a, _ := store.Transition(ctx, "vk:-1_10_c20", appeal.Change{To: appeal.StatusRouted,
		Assignment: &appeal.Assignment{Executor: "roads"}, ExpectedVersion: 1})
	_, _ = store.Transition(ctx, a.ID, appeal.Change{To: appeal.StatusAnswered,
		Reply: &appeal.Reply{Text: "Яму заделали 25 ноября."}, ExpectedVersion: a.Version})

	w, _ := answer.New(answer.Config{Store: store})
	intake := func(context.Context, appeal.Appeal) error { return nil } // the pipeline's sink
	sink := w.ReactionSink(intake, nil)
	_ = sink(ctx, appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_10_c21", Kind: appeal.KindReply,
		Text: "Спасибо, заделали!", Author: appeal.Author{ID: "u1"}, Community: appeal.Community{ID: "-1"},
		Thread: appeal.Thread{ParentID: "-1_10_c20"}})
	got, _ := store.Get(ctx, a.ID)
	fmt.Println(got.Replies[0].Reaction)
	// Output: thanks
}
