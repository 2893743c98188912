package report_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/appealkit/appealkit/appeal/report"
	"github.com/appealkit/appealkit/appeal/stats"
	"github.com/appealkit/appealkit/appeal/stats/statstest"
)

func ExampleWriteHTML() {
	appeals := statstest.Generate(statstest.Options{N: 500, Seed: 1})
	r := stats.FromSlice(appeals, stats.Config{Now: appeals[len(appeals)-1].CreatedAt})
	var page strings.Builder
	if err := report.WriteHTML(&page, r, report.Options{Title: "Неделя 12"}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.Contains(page.String(), "<svg"), strings.Contains(page.String(), "<script"))
	// Output: true false
}

func ExampleWriteCSV() {
	appeals := statstest.Generate(statstest.Options{N: 50, Seed: 1, Weeks: 1})
	r := stats.FromSlice(appeals, stats.Config{Now: appeals[len(appeals)-1].CreatedAt})
	if err := report.WriteCSV(os.Stdout, r, report.CSVOptions{}); err != nil {
		fmt.Println(err)
	}
}
