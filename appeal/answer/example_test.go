package answer_test

import (
	"context"
	"fmt"
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
