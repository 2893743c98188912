package learn_test

import (
	"fmt"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/route/learn"
)

// Check how many historical appeals the rules would send elsewhere.
func ExampleCheck() {
	e, err := route.ParseFile("testdata/rules.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	recs, _, err := learn.Open("testdata/history.jsonl", learn.Mapping{
		Topics: map[string]string{"Водоснабжение": "housing.water", "Центральное отопление": "housing.heating"},
		Codes:  route.TopicCodes(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep := learn.Check(e, recs, time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC))
	fmt.Printf("agree=%.4f n=%d\n", rep.Agreement(), rep.N)
	for _, c := range rep.Confusions {
		fmt.Printf("%d× rule %s sent to %s, history: %s\n", c.Count, c.RuleID, c.Routed, c.History)
	}
	// Output:
	// agree=0.8571 n=7
	// 1× rule roads sent to roads, history: Администрация Северного района
}

// Train a learned router on history and let it decide the appeals the
// rules leave to their fallback.
func ExampleTrain() {
	var history []learn.Example
	for range 20 {
		history = append(history,
			learn.Example{Appeal: &appeal.Appeal{Text: "врач не принимает в поликлинике"}, Executor: "health"},
			learn.Example{Appeal: &appeal.Appeal{Text: "яма на дороге, разбитый асфальт"}, Executor: "roads"})
	}
	m, err := learn.Train(history, learn.TrainConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := route.ParseFile("testdata/rules.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	r := route.WithModel(e, m, 0.6)
	d := r.Route(&appeal.Appeal{Text: "в поликлинике нет врача"}, time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC))
	fmt.Println(d.Executor, d.Learned, d.Confidence > 0.6)
	// Output: health true true
}
