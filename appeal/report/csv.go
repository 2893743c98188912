package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/appealkit/appealkit/appeal/stats"
)

// CSVOptions tune the CSV exports. The zero value writes plain RFC 4180 CSV
// with commas.
type CSVOptions struct {
	// Comma is the field separator; 0 means ','. Russian-locale Excel
	// expects ';'.
	Comma rune
	// BOM starts the file with a UTF-8 byte-order mark, which Excel needs
	// to read Cyrillic correctly.
	BOM bool
}

func (o CSVOptions) writer(w io.Writer) (*csv.Writer, error) {
	if o.BOM {
		if _, err := io.WriteString(w, "\uFEFF"); err != nil {
			return nil, fmt.Errorf("report: write CSV: %w", err)
		}
	}
	cw := csv.NewWriter(w)
	if o.Comma != 0 {
		cw.Comma = o.Comma
	}
	return cw, nil
}

// WriteCSV writes the municipality × topic × week counts, one row a cell,
// with the cell's share of the week's appeals and its change from the week
// before, then the same for the topic over all municipalities:
//
//	week,municipality,topic,count,share_of_week,previous_week,change,topic_week_count,topic_week_share,topic_week_change
//
// previous_week and the changes are empty in the first week.
func WriteCSV(w io.Writer, r *stats.Report, opts CSVOptions) error {
	cw, err := opts.writer(w)
	if err != nil {
		return err
	}
	type key struct {
		topic string
		week  int64
	}
	tws := make(map[key]stats.TopicWeek, len(r.TopicWeeks))
	for _, tw := range r.TopicWeeks {
		tws[key{tw.Topic, tw.Week.Unix()}] = tw
	}
	rows := [][]string{{"week", "municipality", "topic", "count", "share_of_week", "previous_week", "change",
		"topic_week_count", "topic_week_share", "topic_week_change"}}
	for _, c := range r.Cells {
		tw := tws[key{c.Topic, c.Week.Unix()}]
		prev, change, twChange := "", "", ""
		if c.HasPrevious {
			prev, change = strconv.Itoa(c.Previous), strconv.Itoa(c.Change)
		}
		if tw.HasPrevious {
			twChange = strconv.Itoa(tw.Change)
		}
		rows = append(rows, []string{
			c.Week.Format(time.DateOnly), c.Municipality, c.Topic, strconv.Itoa(c.Count),
			strconv.FormatFloat(c.Share, 'f', 4, 64), prev, change,
			strconv.Itoa(tw.Count), strconv.FormatFloat(tw.Share, 'f', 4, 64), twChange,
		})
	}
	return flush(cw, rows)
}

// WriteExecutorsCSV writes the executors' figures, best ranked first.
// Durations are in hours.
func WriteExecutorsCSV(w io.Writer, r *stats.Report, opts CSVOptions) error {
	cw, err := opts.writer(w)
	if err != nil {
		return err
	}
	rows := [][]string{{"rank", "executor", "assigned", "answered", "due", "on_time", "on_time_share", "overdue",
		"reopened", "formal", "formal_share", "p50_hours", "p90_hours", "p99_hours"}}
	for _, e := range r.Executors {
		rows = append(rows, []string{
			strconv.Itoa(e.Rank), e.Executor, strconv.Itoa(e.Assigned), strconv.Itoa(e.Answered),
			strconv.Itoa(e.WithDeadline), strconv.Itoa(e.OnTime), strconv.FormatFloat(e.OnTimeShare, 'f', 4, 64),
			strconv.Itoa(e.Overdue), strconv.Itoa(e.Reopened), strconv.Itoa(e.Formal),
			strconv.FormatFloat(e.FormalShare, 'f', 4, 64),
			hours(e.Response.P50), hours(e.Response.P90), hours(e.Response.P99),
		})
	}
	return flush(cw, rows)
}

func hours(d time.Duration) string { return strconv.FormatFloat(d.Hours(), 'f', 2, 64) }

func flush(cw *csv.Writer, rows [][]string) error {
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("report: write CSV: %w", err)
	}
	return nil
}
