// Command quickstart runs the appealkit pipeline over a bundled sample of
// realistic appeals, with no token and no network, and prints a table of
// what happened to each and a summary.
//
//	go run ./examples/quickstart
package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

//go:embed sample.jsonl
var sample []byte

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	appeals, err := loadSample(bytes.NewReader(sample), "sample.jsonl")
	if err != nil {
		return err
	}
	store := appeal.NewMemoryStore()
	now := time.Now()
	fmt.Fprintln(out, "NOTE: placeholder keyword classifier and router until classify and route land.")
	for _, a := range appeals {
		placeholderClassify(&a)
		if _, err := store.Put(ctx, a); err != nil {
			return fmt.Errorf("store %s: %w", a.ExternalID, err)
		}
		id := appeal.NewID(a.Network, a.ExternalID)
		change := appeal.Change{To: appeal.StatusRouted, Actor: "quickstart", ExpectedVersion: 1, At: now,
			Assignment: &appeal.Assignment{Executor: "duty-operator", Deadline: now.Add(24 * time.Hour), Priority: appeal.PriorityNormal}}
		if a.TopTopic() == "" {
			change = appeal.Change{To: appeal.StatusRejected, Actor: "quickstart", Note: "not an appeal", ExpectedVersion: 1, At: now}
		}
		if _, err := store.Transition(ctx, id, change); err != nil {
			return fmt.Errorf("route %s: %w", id, err)
		}
	}
	stored, err := store.List(ctx, appeal.Filter{})
	if err != nil {
		return err
	}
	printTable(out, stored)
	return nil
}

// loadSample reads JSONL appeals; errors name the line.
func loadSample(r io.Reader, name string) ([]appeal.Appeal, error) {
	var out []appeal.Appeal
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var a appeal.Appeal
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if err := a.Normalize(); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		out = append(out, a)
	}
	return out, sc.Err()
}

var placeholderTopics = map[string]string{"дорог": "roads", "мусор": "garbage", "отоплен": "housing.heating", "вод": "housing.water"}

func placeholderClassify(a *appeal.Appeal) {
	text := strings.ToLower(a.Text)
	for stem, code := range placeholderTopics {
		if strings.Contains(text, stem) {
			a.Topics = append(a.Topics, appeal.TopicScore{Code: code, Score: 0.5})
		}
	}
}

func printTable(out io.Writer, list []appeal.Appeal) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNETWORK\tTOPIC\tMUNICIPALITY\tEXECUTOR\tDEADLINE\tSTATUS")
	byTopic, byMuni := map[string]int{}, map[string]int{}
	for _, a := range list {
		deadline := "-"
		if d := a.Deadline(); !d.IsZero() {
			deadline = d.Format("02.01 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Network, dash(a.TopTopic()), dash(a.Municipality), dash(a.Executor()), deadline, a.Status)
		byTopic[dash(a.TopTopic())]++
		byMuni[dash(a.Municipality)]++
	}
	tw.Flush()
	fmt.Fprintf(out, "\n%d appeals\n", len(list))
	printCounts(out, "by topic", byTopic)
	printCounts(out, "by municipality", byMuni)
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
		fmt.Fprintf(out, "  %-28s %d\n", k, m[k])
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
