package report_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal/incident"
	"github.com/appealkit/appealkit/appeal/report"
	"github.com/appealkit/appealkit/appeal/stats"
	"github.com/appealkit/appealkit/appeal/stats/statstest"
)

// chromium finds a headless-capable Chromium, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not installed: the rendering test needs it (Debian: apt-get install -y chromium)")
	return ""
}

// runChromium renders file headless with everything that could reach the
// network switched off; extra adds --screenshot or --dump-dom.
func runChromium(t *testing.T, bin, dir, file string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars", "--user-data-dir=" + filepath.Join(dir, "profile"),
		"--window-size=1024,2600"}
	args = append(args, extra...)
	args = append(args, "file://"+file)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, tail(stderr.String(), 2000))
	}
	return stdout.Bytes()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func TestReportRendersInChromium(t *testing.T) {
	bin := chromium(t)
	data := statstest.Generate(statstest.Options{N: 3000, Seed: 11})
	r := stats.FromSlice(data, stats.Config{Now: data[len(data)-1].CreatedAt})
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	incs, _, err := incident.Group(data, incident.Config{})
	if err != nil {
		t.Fatal(err)
	}
	multi := 0
	for _, inc := range incs {
		if len(inc.Members) > 1 {
			multi++
		}
	}
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, r, report.Options{Incidents: incs}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	dom := string(runChromium(t, bin, dir, file, "--dump-dom"))
	if !strings.Contains(dom, `id="kpi-total"`) {
		t.Fatalf("dumped DOM lacks the report: %s", tail(dom, 500))
	}
	// Headline figures as the browser shows them.
	want := map[string]string{
		"total":     strconv.Itoa(r.Total),
		"answered":  strconv.Itoa(r.Answered),
		"p50":       report.Hours(r.Response.P50),
		"p90":       report.Hours(r.Response.P90),
		"p99":       report.Hours(r.Response.P99),
		"ontime":    report.Percent(r.OnTimeShare),
		"overdue":   strconv.Itoa(r.Overdue),
		"reopened":  report.Percent(r.ReopenedShare),
		"formal":    report.Percent(r.FormalShare),
		"incidents": strconv.Itoa(multi),
	}
	for id, w := range want {
		re := regexp.MustCompile(`id="kpi-` + id + `".*?<span class="value"[^>]*>([^<]*)</span>`)
		m := re.FindStringSubmatch(dom)
		if m == nil || m[1] != w {
			t.Errorf("kpi %s in page = %v, computed %s", id, m, w)
		}
	}
	// Every district bar carries the computed count.
	for _, m := range r.Municipalities {
		bar := fmt.Sprintf(`data-series="%s" data-value="%d"`, m.Name, m.Count)
		if !strings.Contains(dom, bar) {
			t.Errorf("district bar %q missing", bar)
		}
	}
	// Topic table: total and share per row in the rendered table.
	rowRe := regexp.MustCompile(`<tr><td data-value="([a-z_.]+)">[^<]*</td><td class="n" data-value="(\d+)">(\d+)</td><td class="n" data-value="[^"]*">([\d.]+)</td>`)
	rows := rowRe.FindAllStringSubmatch(section(dom, "table-topics"), -1)
	if len(rows) != len(r.Topics) {
		t.Fatalf("topic table has %d rows, report %d topics", len(rows), len(r.Topics))
	}
	for i, row := range rows {
		c := r.Topics[i]
		if row[1] != c.Name || row[3] != strconv.Itoa(c.Count) || row[4] != report.Percent(c.Share) {
			t.Errorf("topic row %d = %q, computed %+v", i, row[1:], c)
		}
	}
	// Topic-by-week bars add up to the week totals.
	sums := map[string]int{}
	for _, m := range regexp.MustCompile(`data-week="([\d-]+)" data-series="[^"]*" data-value="(\d+)"`).FindAllStringSubmatch(dom, -1) {
		n, _ := strconv.Atoi(m[2])
		sums[m[1]] += n
	}
	for i, w := range r.Weeks {
		if got := sums[w.Format("2006-01-02")]; got != r.WeekTotals[i] {
			t.Errorf("week %s bars sum to %d, computed %d", w.Format("2006-01-02"), got, r.WeekTotals[i])
		}
	}

	shot := filepath.Join(dir, "shot.png")
	runChromium(t, bin, dir, file, "--screenshot="+shot)
	checkScreenshot(t, shot)
	if out := os.Getenv("APPEALKIT_REPORT_SHOT"); out != "" {
		b, _ := os.ReadFile(shot)
		_ = os.WriteFile(out, b, 0o644)
	}
}

// section returns the HTML of the table with id, for matching inside it.
func section(dom, id string) string {
	i := strings.Index(dom, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(dom[i:], "</table>")
	if j < 0 {
		return dom[i:]
	}
	return dom[i : i+j]
}

// checkScreenshot decodes the PNG and requires real drawing: plenty of
// non-white pixels and several colours (the charts' palette).
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot does not decode as PNG: %v", err)
	}
	b := img.Bounds()
	if b.Dx() < 800 || b.Dy() < 800 {
		t.Fatalf("screenshot is %v", b)
	}
	nonWhite, colours := 0, map[[3]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0xF000 || g < 0xF000 || bl < 0xF000 {
				nonWhite++
			}
			if len(colours) < 1000 {
				colours[[3]uint32{r >> 12, g >> 12, bl >> 12}] = true
			}
		}
	}
	total := (b.Dx() / 2) * (b.Dy() / 2)
	if share := float64(nonWhite) / float64(total); share < 0.03 {
		t.Errorf("screenshot is nearly blank: %.1f%% non-white", 100*share)
	}
	if len(colours) < 8 {
		t.Errorf("screenshot has only %d colours; charts missing?", len(colours))
	}
}
