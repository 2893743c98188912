package report_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/report"
	"github.com/appealkit/appealkit/appeal/stats"
	"github.com/appealkit/appealkit/appeal/stats/statstest"
)

func sample(t testing.TB) *stats.Report {
	data := statstest.Generate(statstest.Options{N: 800, Seed: 5})
	return stats.FromSlice(data, stats.Config{Now: data[len(data)-1].CreatedAt})
}

func TestHTMLSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteHTML(&b, sample(t), report.Options{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script", "<link", "src=", "@import", "url(", "http://", "https://"} {
		// xmlns on inline SVG is a name, not a fetch.
		if strings.Contains(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("page contains %q: it must not load anything", bad)
		}
	}
	for _, id := range []string{"chart-topics-weeks", "chart-districts", "chart-response", "chart-months", "table-executors", "table-matrix"} {
		if !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("page lacks %s", id)
		}
	}
}

func TestHTMLEscapesNames(t *testing.T) {
	a := appeal.Appeal{ID: "vk:1", CreatedAt: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Municipality: `<script>alert(1)</script>`,
		Assignment: &appeal.Assignment{Executor: `ООО "Рога & копыта"`}}
	r := stats.FromSlice([]appeal.Appeal{a}, stats.Config{Now: a.CreatedAt})
	var b bytes.Buffer
	if err := report.WriteHTML(&b, r, report.Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>") {
		t.Error("municipality name injected a script")
	}
	if !strings.Contains(b.String(), "&lt;script&gt;") {
		t.Error("escaped municipality name missing")
	}
}

func TestCSVCellsAddUp(t *testing.T) {
	r := sample(t)
	var b bytes.Buffer
	if err := report.WriteCSV(&b, r, report.CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != "week,municipality,topic,count,share_of_week,previous_week,change,topic_week_count,topic_week_share,topic_week_change" {
		t.Errorf("header = %s", got)
	}
	sum := 0
	for _, row := range rows[1:] {
		n, err := strconv.Atoi(row[3])
		if err != nil {
			t.Fatalf("row %q: %v", row, err)
		}
		sum += n
	}
	if sum != r.Total || len(rows)-1 != len(r.Cells) {
		t.Errorf("CSV sums to %d over %d rows, report %d over %d cells", sum, len(rows)-1, r.Total, len(r.Cells))
	}
}

func TestExecutorsCSVExcel(t *testing.T) {
	r := sample(t)
	var b bytes.Buffer
	if err := report.WriteExecutorsCSV(&b, r, report.CSVOptions{Comma: ';', BOM: true}); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if !strings.HasPrefix(s, "\uFEFFrank;executor;") {
		t.Errorf("no BOM or wrong separator: %q", s[:min(len(s), 40)])
	}
	if lines := strings.Count(s, "\n"); lines != len(r.Executors)+1 {
		t.Errorf("%d lines for %d executors", lines, len(r.Executors))
	}
}

type failWriter struct{}

var errDisk = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errDisk }

func TestWriteErrorsSurface(t *testing.T) {
	r := sample(t)
	if err := report.WriteCSV(failWriter{}, r, report.CSVOptions{}); !errors.Is(err, errDisk) {
		t.Errorf("WriteCSV error = %v", err)
	}
	if err := report.WriteHTML(failWriter{}, r, report.Options{}); !errors.Is(err, errDisk) {
		t.Errorf("WriteHTML error = %v", err)
	}
}

func TestHandBuiltReport(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteHTML(&b, &stats.Report{Total: 3}, report.Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `data-value="3">3</span>`) {
		t.Error("total missing")
	}
	if err := report.WriteHTML(&b, nil, report.Options{}); err == nil {
		t.Error("nil report accepted")
	}
}
