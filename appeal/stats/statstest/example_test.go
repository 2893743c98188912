package statstest_test

import (
	"fmt"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/stats"
	"github.com/appealkit/appealkit/appeal/stats/statstest"
)

// A synthetic month of appeals for a report demo or a benchmark: the same
// Options always give the same appeals, so figures computed from them can
// be asserted exactly.
func ExampleGenerate() {
	appeals := statstest.Generate(statstest.Options{N: 200, Seed: 1, Weeks: 4})
	first, last := appeals[0], appeals[len(appeals)-1]
	fmt.Println(len(appeals), first.CreatedAt.Format("2006-01-02"), "…", last.CreatedAt.Format("2006-01-02"))

	byStatus := map[appeal.Status]int{}
	for _, a := range appeals {
		byStatus[a.Status]++
	}
	fmt.Println(byStatus)

	r := stats.FromSlice(appeals, stats.Config{Now: last.CreatedAt})
	fmt.Println("per week:", r.WeekTotals)
	// Output:
	// 200 2026-01-05 … 2026-02-01
	// map[answered:79 rejected:2 reopened:12 resolved:98 routed:9]
	// per week: [50 50 50 50]
}
