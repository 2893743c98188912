package report_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/appealkit/appealkit/appeal/report"
	"github.com/appealkit/appealkit/appeal/stats"
	"github.com/appealkit/appealkit/appeal/stats/statstest"
)

// A self-contained page (inline SVG charts, no scripts) for a weekly
// summary, written from a stats.Report.
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

// One row per week × municipality × topic, with the week's share and the
// change from the week before: the table behind the HTML report's charts,
// for a spreadsheet or another tool.
func ExampleWriteCSV() {
	appeals := statstest.Generate(statstest.Options{N: 8, Seed: 1, Weeks: 2})
	r := stats.FromSlice(appeals, stats.Config{Now: appeals[len(appeals)-1].CreatedAt})
	if err := report.WriteCSV(os.Stdout, r, report.CSVOptions{}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// week,municipality,topic,count,share_of_week,previous_week,change,topic_week_count,topic_week_share,topic_week_change
	// 2026-01-05,Адмиралтейский,roads,1,0.2500,,,4,1.0000,
	// 2026-01-05,Василеостровский,roads,1,0.2500,,,4,1.0000,
	// 2026-01-05,Красногвардейский,roads,1,0.2500,,,4,1.0000,
	// 2026-01-05,Московский,roads,1,0.2500,,,4,1.0000,
	// 2026-01-12,Адмиралтейский,snow,1,0.2500,0,1,1,0.2500,1
	// 2026-01-12,Московский,roads,2,0.5000,1,1,2,0.5000,-2
	// 2026-01-12,Невский,healthcare,1,0.2500,0,1,1,0.2500,1
}
