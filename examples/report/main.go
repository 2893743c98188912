// Command report writes the weekly report a regional centre sends to the
// governor: a self-contained HTML page (tables and inline SVG charts — topics
// by week, districts, response times, seasonality, ranked executors, the
// largest incidents, the monthly ratings of executors and districts) and CSV
// exports for spreadsheets.
//
//	go run ./examples/report                      # over a generated sample
//	go run ./examples/report -db appeals.db       # over a SQLite store made by appeal/sqlstore
//	go run ./examples/report -sample examples/quickstart/sample.jsonl
//
// Output goes to -out (default ./report-out): report.html, weeks.csv
// (municipality × topic × week) and executors.csv.
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/incident"
	"github.com/appealkit/appealkit/appeal/report"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/appeal/stats"
	"github.com/appealkit/appealkit/appeal/stats/statstest"
	"github.com/appealkit/appealkit/examples/internal/setup"
	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
)

func main() {
	setup.Main("report", func(ctx context.Context) error { return run(ctx, os.Args[1:], os.Stdout) }, os.Interrupt)
}

type options struct {
	db, sample, out, title, tz, now, hours string
	n                                      int
	seed                                   uint64
	excel                                  bool
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.StringVar(&o.db, "db", "", "SQLite database made by appeal/sqlstore (default: a generated sample)")
	fs.StringVar(&o.sample, "sample", "", "JSONL file of appeal.Appeal, one a line, instead of -db")
	fs.StringVar(&o.out, "out", "report-out", "directory to write report.html, weeks.csv and executors.csv to")
	fs.StringVar(&o.title, "title", "", "page title")
	fs.StringVar(&o.tz, "tz", "Europe/Moscow", "time zone weeks and months start in")
	fs.StringVar(&o.now, "now", "", "RFC 3339 instant to measure overdue at (default: now, or the end of the generated sample)")
	fs.StringVar(&o.hours, "hours", "office", "response times in: office (a state body's week with the Russian production calendar) or clock (every hour counts)")
	fs.IntVar(&o.n, "n", 5000, "appeals to generate when neither -db nor -sample is given")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated sample")
	fs.BoolVar(&o.excel, "excel", false, "write CSV for Russian-locale Excel (';' separator, UTF-8 BOM)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.db != "" && o.sample != "" {
		return errors.New("give -db or -sample, not both")
	}
	loc, err := location(o.tz)
	if err != nil {
		return err
	}
	var now time.Time
	if o.now != "" {
		if now, err = time.Parse(time.RFC3339, o.now); err != nil {
			return fmt.Errorf("-now: %w", err)
		}
	}

	appeals, source, err := load(ctx, &o, now)
	if err != nil {
		return err
	}
	if now.IsZero() {
		now = time.Now()
		if o.db == "" && o.sample == "" && len(appeals) > 0 {
			// A generated sample is observed at its end, so the report
			// does not depend on the day it is run.
			now = appeals[len(appeals)-1].CreatedAt
		}
	}

	hours, err := workingHours(o.hours, loc)
	if err != nil {
		return err
	}
	// One pass for the figures, one grouping for the incidents.
	r := stats.FromSlice(appeals, stats.Config{Now: now, Location: loc, Hours: hours})
	incs, _, err := incident.Group(appeals, incident.Config{})
	if err != nil {
		return err
	}

	// Executors by their Russian names: the example region's rules name
	// those a store made by the quickstart holds.
	region, err := route.Parse(bytes.NewReader(rules.Region), "examples/rules/region.yaml")
	if err != nil {
		return err
	}
	names := report.ExecutorNamesFrom(region)

	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	csvOpts := report.CSVOptions{}
	if o.excel {
		csvOpts = report.CSVOptions{Comma: ';', BOM: true}
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"report.html", func(w io.Writer) error {
			note := "рабочие часы, производственный календарь"
			if o.hours == "clock" {
				note = "астрономические часы"
			}
			return report.WriteHTML(w, r, report.Options{Title: o.title, Incidents: incs, HoursNote: note,
				ExecutorNames: names, Ratings: stats.Rate(appeals, stats.RatingConfig{Now: now, Location: loc, Hours: hours})})
		}},
		{"weeks.csv", func(w io.Writer) error { return report.WriteCSV(w, r, csvOpts) }},
		{"executors.csv", func(w io.Writer) error { return report.WriteExecutorsCSV(w, r, csvOpts) }},
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(o.out, f.name), f.write); err != nil {
			return err
		}
	}

	multi := 0
	for _, inc := range incs {
		if len(inc.Members) > 1 {
			multi++
		}
	}
	fmt.Fprintf(stdout, "source: %s\n", source)
	fmt.Fprintf(stdout, "appeals %d, weeks %d, answered %d, on time %s%%, overdue %d, response p50/p90/p99 %s/%s/%s h (%s), «отписки» %s%%\n",
		r.Total, len(r.Weeks), r.Answered, report.Percent(r.OnTimeShare), r.Overdue,
		report.Hours(r.Response.P50), report.Hours(r.Response.P90), report.Hours(r.Response.P99), o.hours, report.Percent(r.FormalShare))
	fmt.Fprintf(stdout, "incidents: %d, of them %d joining two or more appeals\n", len(incs), multi)
	for _, f := range files {
		fmt.Fprintln(stdout, "wrote", filepath.Join(o.out, f.name))
	}
	return nil
}

// workingHours picks how response times are measured. The office calendar
// is route's: Monday–Friday office hours with the federal holidays and
// transfers, in the report's time zone.
func workingHours(name string, loc *time.Location) (stats.WorkingHours, error) {
	switch name {
	case "clock":
		return stats.CalendarTime{}, nil
	case "office":
		cal, err := route.NewCalendar(route.CalendarConfig{Name: "office", Location: loc, Week: route.OfficeWeek(), Production: route.RussianFederal()})
		if err != nil {
			return nil, err
		}
		return stats.WorkingFunc(cal.WorkingBetween), nil
	}
	return nil, fmt.Errorf("-hours: %q is neither office nor clock", name)
}

// location loads a zone, falling back to fixed Moscow time where the system
// has no zone database.
func location(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err == nil {
		return loc, nil
	}
	if name == "Europe/Moscow" {
		return time.FixedZone("MSK", 3*3600), nil
	}
	return nil, fmt.Errorf("-tz: %w", err)
}

func load(ctx context.Context, o *options, now time.Time) ([]appeal.Appeal, string, error) {
	switch {
	case o.db != "":
		list, err := fromDB(ctx, o.db)
		return list, "SQLite store " + o.db, err
	case o.sample != "":
		list, err := fromJSONL(o.sample)
		return list, "sample " + o.sample, err
	}
	return statstest.Generate(statstest.Options{N: o.n, Seed: o.seed, Now: now}), fmt.Sprintf("generated sample (n=%d, seed=%d)", o.n, o.seed), nil
}

// fromDB reads every appeal of a store made by appeal/sqlstore, page by
// page. It opens the file read-only: a missing path is an error instead of a
// new empty database, and an empty or foreign file is refused, not
// migrated.
func fromDB(ctx context.Context, path string) ([]appeal.Appeal, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("-db: %w", err)
	}
	db, err := sql.Open("sqlite", sqlstore.SQLiteReadOnlyDSN(path))
	if err != nil {
		return nil, fmt.Errorf("-db %s: %w", path, err)
	}
	defer db.Close()
	st, err := sqlstore.Open(ctx, db, sqlstore.WithDialect(sqlstore.SQLite), sqlstore.WithReadOnly())
	if err != nil {
		return nil, fmt.Errorf("-db %s: %w", path, err)
	}
	defer st.Close()
	out, err := appeal.Collect(appeal.Scan(ctx, st, appeal.Filter{}))
	if err != nil {
		return nil, fmt.Errorf("-db %s: %w", path, err)
	}
	return out, nil
}

// fromJSONL reads appeals one JSON object a line; errors name the line.
func fromJSONL(path string) ([]appeal.Appeal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-sample: %w", err)
	}
	defer f.Close()
	var out []appeal.Appeal
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var a appeal.Appeal
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if err := a.Normalize(); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// writeFile writes through a temporary file and renames it, so a reader
// never sees half a report.
func writeFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	if err := write(w); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
