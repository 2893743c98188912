// Command quickstart runs the whole appealkit pipeline over a bundled sample
// of 46 realistic appeals, with no token and no network:
//
//	replay source → classify (shipped rubricator + gazetteer) → route (example
//	region rules, working-hours deadlines) → SQLite store
//
// and prints a table of what happened to each appeal, a summary, and why one
// appeal went where it went.
//
//	go run ./examples/quickstart                 # SQLite in a temp dir, removed at exit
//	go run ./examples/quickstart -db appeals.db  # keep the database
//	go run ./examples/quickstart -sample ../shared/data/spb/dev.jsonl.gz -db spb.db
//
// -sample takes appeals as JSONL (plain or gzip, as source/replay reads
// them) or a city portal export (id, created, text per line, like the St
// Petersburg sample), converted to appeals first. The summary says how many
// appeals were stored and how fast.
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"text/tabwriter"
	"time"
	_ "time/tzdata" // the rules name Europe/Moscow; hosts without a tz database still work

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/examples/internal/setup"
	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/source/replay"
)

//go:embed sample.jsonl
var sample []byte

//go:embed gazetteer.yaml
var gazetteer []byte

func main() {
	setup.Main("quickstart", func(ctx context.Context) error { return run(ctx, os.Args[1:], os.Stdout) }, os.Interrupt)
}

type options struct {
	db, sample, rules, gazetteer string
	cpuprofile, pg               string
	inputs                       int
	now                          time.Time
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	var o options
	var now string
	fs.StringVar(&o.db, "db", "", "SQLite database file to keep the appeals in (default: a temp file removed at exit)")
	fs.StringVar(&o.sample, "sample", "", "JSONL file of appeals to run (default: the bundled sample)")
	fs.StringVar(&o.rules, "rules", "", "routing rules file (default: examples/rules/region.yaml, embedded)")
	fs.StringVar(&o.gazetteer, "gazetteer", "", "gazetteer file for place extraction (default: the bundled one)")
	fs.StringVar(&o.pg, "pg", "", "PostgreSQL DSN to keep the appeals in instead of SQLite")
	fs.IntVar(&o.inputs, "inputs", 1, "split the sample across this many replay inputs run at once")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the pipeline run to this file")
	fs.StringVar(&now, "now", "", "routing time, RFC 3339 (default: the current time)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.inputs < 1 {
		return o, fmt.Errorf("-inputs %d: must be at least 1", o.inputs)
	}
	o.now = time.Now()
	if now != "" {
		t, err := time.Parse(time.RFC3339, now)
		if err != nil {
			return o, fmt.Errorf("-now: %w", err)
		}
		o.now = t
	}
	return o, nil
}

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "appealkit-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	classifier, err := newClassifier(o.gazetteer)
	if err != nil {
		return err
	}
	engine, err := newEngine(o.rules)
	if err != nil {
		return err
	}
	store, closeStore, err := openStore(ctx, o, tmp)
	if err != nil {
		return err
	}
	defer closeStore()

	samplePath := o.sample
	if samplePath == "" {
		samplePath = filepath.Join(tmp, "sample.jsonl")
		if err := os.WriteFile(samplePath, sample, 0o600); err != nil {
			return err
		}
	} else if portal, err := isPortalExport(samplePath); err != nil {
		return err
	} else if portal {
		converted := filepath.Join(tmp, "portal.jsonl")
		n, err := convertPortal(samplePath, converted)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: портальная выгрузка, %s сообщений переведены в обращения\n", filepath.Base(samplePath), groupDigits(n))
		samplePath = converted
	}
	paths := []string{samplePath}
	if o.inputs > 1 {
		if paths, err = splitLines(samplePath, o.inputs, tmp); err != nil {
			return err
		}
	}

	stopProfile := func() {}
	if o.cpuprofile != "" {
		if stopProfile, err = startCPUProfile(o.cpuprofile); err != nil {
			return err
		}
	}
	tally, elapsed, err := ingest(ctx, store, classifier, engine, paths, o.now)
	stopProfile()
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}

	// Streamed, so that a backfill of millions is summarised in bounded
	// memory.
	stored, err := collect(ctx, store)
	if err != nil {
		return err
	}
	loc := engine.DefaultCalendar().Location()
	if already := stored.total - tally.stored; already > 0 {
		// The same database again: the checkpoint says the sample was
		// read, and nothing is stored twice. Say so, rather than print
		// the earlier run's table as if it were this one's.
		fmt.Fprintf(out, "appealkit quickstart: %d new, %d already stored\n", tally.stored, already)
		if tally.stored == 0 {
			fmt.Fprintln(out, "This database already holds the sample: the replay resumed from its saved checkpoint and stored nothing twice. Give -db a new file to route the sample again.")
			tally.print(out, elapsed)
			return nil
		}
	}
	fmt.Fprintf(out, "appealkit quickstart: %d appeals from %s, classified by the shipped rubricator, routed by %q rules at %s\n\n",
		stored.total, filepath.Base(samplePath), engine.Name(), o.now.In(loc).Format("Mon 02.01.2006 15:04 MST"))
	printTable(out, stored)
	printSummary(out, stored)
	tally.print(out, elapsed)
	return explainOne(out, engine, stored, o.now)
}

// openStore opens the SQLite file of -db (or one in tmp), or PostgreSQL
// with -pg.
func openStore(ctx context.Context, o options, tmp string) (*sqlstore.Store, func(), error) {
	driver, dsn, where := "sqlite", "", o.db
	if o.pg != "" {
		driver, dsn, where = "pgx", o.pg, "PostgreSQL"
	} else {
		if where == "" {
			where = filepath.Join(tmp, "appeals.db")
		}
		dsn = sqlstore.SQLiteDSN(where)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, nil, err
	}
	store, err := sqlstore.Open(ctx, db)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("open store %s: %w", where, err)
	}
	return store, func() { db.Close() }, nil
}

// ingest runs the pipeline with one replay input per path until every
// input reached its end, and returns what it did and how long it took.
// The store doubles as the checkpoint store: run twice on one database and
// the second run replays nothing.
func ingest(ctx context.Context, store *sqlstore.Store, classifier *classify.Engine, engine *route.Engine, paths []string, now time.Time) (*tally, time.Duration, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var inputs []appealkit.Input
	for i, path := range paths {
		name, key := "sample", "quickstart:sample"
		if len(paths) > 1 {
			name, key = fmt.Sprintf("sample-%d", i+1), fmt.Sprintf("quickstart:sample:%d/%d", i+1, len(paths))
		}
		src, err := replay.New(replay.Config{Path: path, Checkpoints: store, Key: key, Logger: quiet})
		if err != nil {
			return nil, 0, err
		}
		inputs = append(inputs, appealkit.Input{Name: name, Source: src})
	}
	t := &tally{}
	p, err := appealkit.New(appealkit.Config{
		Store:      store,
		Classifier: appealkit.Classify(classifier, appealkit.ClassifyOptions{}),
		Router:     appealkit.Route(engine, appealkit.RouteOptions{}),
		Inputs:     inputs,
		Now:        func() time.Time { return now },
		Hooks:      appealkit.Hooks{Processed: t.add},
	})
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	err = p.Run(ctx)
	return t, time.Since(start), err
}

// splitLines deals the lines of an appeal file round-robin into n files in
// dir, for n inputs.
func splitLines(path string, n int, dir string) ([]string, error) {
	r, closeFn, err := openMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	paths := make([]string, n)
	files := make([]*os.File, n)
	writers := make([]*bufio.Writer, n)
	for i := range n {
		paths[i] = filepath.Join(dir, fmt.Sprintf("part-%d.jsonl", i+1))
		if files[i], err = os.Create(paths[i]); err != nil {
			return nil, err
		}
		defer files[i].Close()
		writers[i] = bufio.NewWriter(files[i])
	}
	br := bufio.NewReaderSize(r, 1<<16)
	for i := 0; ; i++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if _, werr := writers[i%n].Write(line); werr != nil {
				return nil, werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	for i := range n {
		if err := writers[i].Flush(); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// startCPUProfile profiles the CPU into path until the returned function is
// called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func newClassifier(path string) (*classify.Engine, error) {
	data, name := gazetteer, "gazetteer.yaml"
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, err
		}
		name = path
	}
	g, err := classify.ParseGazetteer(bytes.NewReader(data), name)
	if err != nil {
		return nil, err
	}
	return classify.New(classify.WithGazetteer(g))
}

func newEngine(path string) (*route.Engine, error) {
	if path != "" {
		return route.ParseFile(path)
	}
	return route.Parse(bytes.NewReader(rules.Region), "examples/rules/region.yaml")
}

// maxTableRows caps the table: a backfill of thousands is summarised, not
// listed.
const maxTableRows = 60

// overview is what the quickstart prints about the stored appeals, read in
// one pass.
type overview struct {
	total                     int
	first                     []appeal.Appeal // the first maxTableRows, for the table
	byTopic, byMuni, byStatus map[string]int
	explain                   *appeal.Appeal // the first urgent routed one, else the first routed
}

func collect(ctx context.Context, store appeal.Store) (*overview, error) {
	ov := &overview{byTopic: map[string]int{}, byMuni: map[string]int{}, byStatus: map[string]int{}}
	for a, err := range appeal.Scan(ctx, store, appeal.Filter{}) {
		if err != nil {
			return nil, err
		}
		ov.total++
		if len(ov.first) < maxTableRows {
			ov.first = append(ov.first, a)
		}
		ov.byStatus[string(a.Status)]++
		if a.Status == appeal.StatusRejected {
			continue
		}
		ov.byTopic[dash(a.TopTopic())]++
		ov.byMuni[dash(a.Municipality)]++
		if a.Status == appeal.StatusRouted && (ov.explain == nil || a.Urgent && !ov.explain.Urgent) {
			ov.explain = &a
		}
	}
	return ov, nil
}

func printTable(out io.Writer, ov *overview) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNETWORK\tTOPIC\tMUNICIPALITY\tEXECUTOR\tDEADLINE\tSTATUS")
	for _, a := range ov.first {
		deadline := "-"
		if d := a.Deadline(); !d.IsZero() {
			deadline = d.Format("02.01 15:04") // in the appeal's own time zone, as routing set it
		}
		status := string(a.Status)
		if a.Urgent {
			status += " (urgent)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Network, dash(a.TopTopic()), dash(a.Municipality), dash(a.Executor()), deadline, status)
	}
	if more := ov.total - len(ov.first); more > 0 {
		fmt.Fprintf(tw, "… ещё %s\n", groupDigits(more))
	}
	tw.Flush()
}

func printSummary(out io.Writer, ov *overview) {
	fmt.Fprintf(out, "\nSummary: %d appeals", ov.total)
	for _, s := range appeal.AllStatuses() {
		if n := ov.byStatus[string(s)]; n > 0 {
			fmt.Fprintf(out, ", %d %s", n, s)
		}
	}
	fmt.Fprintln(out)
	printCounts(out, "By topic (rejected left out)", ov.byTopic)
	printCounts(out, "By municipality (rejected left out)", ov.byMuni)
}

func printCounts(out io.Writer, title string, m map[string]int) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	fmt.Fprintf(out, "\n%s:\n", title)
	for _, k := range keys {
		fmt.Fprintf(out, "  %-26s %3d\n", k, m[k])
	}
}

// explainOne shows the routing trace of the first urgent appeal (or, in a
// file without one, the first routed one): the answer to an operator's
// "why did this go there?".
func explainOne(out io.Writer, e *route.Engine, ov *overview, now time.Time) error {
	if ov.explain == nil {
		return nil
	}
	d := e.RouteExplain(ov.explain, now)
	fmt.Fprintf(out, "\nWhy %s went to %s:\n%s", ov.explain.ID, d.Executor, d.Explain())
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
