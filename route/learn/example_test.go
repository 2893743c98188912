package learn_test

import (
	"fmt"
	"time"

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
