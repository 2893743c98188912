package stats_test

import (
	"context"
	"fmt"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/stats"
)

func ExampleCheckReply() {
	c := stats.CheckReply("Ваше обращение направлено в администрацию района для рассмотрения.")
	fmt.Println(c.Formal, c.Score)
	for _, r := range c.Reasons {
		fmt.Println("-", r)
	}
	c = stats.CheckReply("Яма заделана 12.03.2026 силами ГБУ «Автодор».")
	fmt.Println(c.Formal, c.Score)
	// Output:
	// true 0
	// - no concrete action (what was or will be done)
	// - no date or term
	// - no responsible person or body
	// - template phrase «для рассмотрения»
	// false 1
}

func ExampleFromSlice() {
	mon := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	appeals := []appeal.Appeal{
		{ID: "vk:1", CreatedAt: mon, Municipality: "Невский", Topics: []appeal.TopicScore{{Code: "roads", Score: 1}},
			Assignment: &appeal.Assignment{Executor: "ГБУ Автодор", Deadline: mon.Add(24 * time.Hour)},
			Replies:    []appeal.Reply{{Text: "Яма заделана 02.03.2026, мастер Петров П.П.", At: mon.Add(3 * time.Hour)}},
			Status:     appeal.StatusAnswered},
		{ID: "vk:2", CreatedAt: mon.Add(time.Hour), Municipality: "Невский", Topics: []appeal.TopicScore{{Code: "roads", Score: 1}},
			Assignment: &appeal.Assignment{Executor: "ГБУ Автодор", Deadline: mon.Add(25 * time.Hour)},
			Status:     appeal.StatusRouted},
	}
	r := stats.FromSlice(appeals, stats.Config{Now: mon.Add(48 * time.Hour)})
	fmt.Println("total:", r.Total, "top:", r.Topics[0].Name, "p50:", r.Response.P50, "overdue:", r.Overdue)
	e := r.Executors[0]
	fmt.Printf("%s: on time %d of %d\n", e.Executor, e.OnTime, e.WithDeadline)
	// Output:
	// total: 2 top: roads p50: 3h0m0s overdue: 1
	// ГБУ Автодор: on time 1 of 2
}

func ExampleFromStore() {
	ctx := context.Background()
	st := appeal.NewMemoryStore()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i, muni := range []string{"Невский", "Невский", "Кировский"} {
		_, _ = st.Put(ctx, appeal.Appeal{Network: "vk", ExternalID: fmt.Sprint(i), Text: "…", CreatedAt: at.Add(time.Duration(i) * time.Hour),
			Municipality: muni, Topics: []appeal.TopicScore{{Code: "snow", Score: 1}}})
	}
	r, err := stats.FromStore(ctx, st, appeal.Filter{Municipality: "Невский"}, stats.Config{Now: at})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Total, r.Topics[0].Name, r.Weeks[0].Format("2006-01-02"))
	// Output: 2 snow 2026-03-02
}

// A Collector takes appeals one at a time, as they stream in, and keeps
// only aggregates.
func ExampleNew() {
	monday := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := stats.New(stats.Config{Now: monday.Add(14 * 24 * time.Hour), Hours: stats.WorkingFunc(func(from, to time.Time) time.Duration {
		return to.Sub(from) / 3 // e.g. an 8-hour working day
	})})
	for i := range 6 {
		a := appeal.Appeal{ID: appeal.ID(fmt.Sprint("vk:", i)), CreatedAt: monday.Add(time.Duration(i) * 48 * time.Hour),
			Topics:  []appeal.TopicScore{{Code: "garbage", Score: 1}},
			Replies: []appeal.Reply{{Text: "Мусор вывезен", At: monday.Add(time.Duration(i)*48*time.Hour + 6*time.Hour)}}}
		c.Add(&a)
	}
	r := c.Report()
	for i, w := range r.Weeks {
		fmt.Println(w.Format("2006-01-02"), r.WeekTotals[i])
	}
	fmt.Println("p50:", r.Response.P50)
	// Output:
	// 2026-03-02 4
	// 2026-03-09 2
	// p50: 2h0m0s
}
