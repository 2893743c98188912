package route_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/route"
)

const exampleRules = `
version: 1
calendars:
  office:
    timezone: Europe/Moscow          # working hours are local wall clock
    hours:
      mon-thu: 09:00-13:00, 13:45-18:00
      fri: 09:00-13:00, 13:45-16:45
executors:
  - {id: duty, name: Дежурный оператор ЦУР}
  - {id: roads, name: Комитет дорожного хозяйства, parent: deputy}
  - {id: deputy, name: Заместитель главы по ЖКХ}
  - {id: kursky, name: Администрация Курского района, municipality: Курский район}
fallback:
  executor: duty
  respond_within: 4h calendar        # wall-clock hours: the desk works round the clock
defaults:
  respond_within: 8h                 # working hours of the office calendar
  escalate:
    - {after: 4h, to: parent}
rules:
  - id: spam
    when: {keywords: [казино]}
    reject: true
  - id: kursky
    when: {municipality: Курский район}
    executor: kursky
    rules:
      - id: kursky-roads
        when: {topics: [roads]}
        co_executors: [roads]
  - id: roads
    when: {topics: [roads]}
    executor: roads
`

// A pothole reported on Friday evening is due by the end of Monday's
// eight working hours.
func ExampleEngine_Route() {
	e, err := route.Parse(strings.NewReader(exampleRules), "rules.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	msk := time.FixedZone("MSK", 3*60*60)
	a := &appeal.Appeal{Text: "Яма на въезде в посёлок", Topics: []appeal.TopicScore{{Code: "roads", Score: 0.92}}}
	d := e.Route(a, time.Date(2025, 3, 7, 19, 30, 0, 0, msk))
	fmt.Println(d.Executor, d.RuleID, d.Deadline.In(msk).Format("Mon 2006-01-02 15:04"))

	a.Municipality = "Курский район"
	d = e.Route(a, time.Date(2025, 3, 7, 19, 30, 0, 0, msk))
	fmt.Println(d.Executor, d.CoExecutors, d.RuleID)
	// Output:
	// roads roads Mon 2025-03-10 17:45
	// kursky [roads] kursky-roads
}

// RouteExplain answers an operator's "why did this go there?".
func ExampleEngine_RouteExplain() {
	e, _ := route.Parse(strings.NewReader(exampleRules), "rules.yaml")
	a := &appeal.Appeal{Text: "Яма", Municipality: "Льговский район", Topics: []appeal.TopicScore{{Code: "roads", Score: 0.9}}}
	d := e.RouteExplain(a, time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC))
	for _, s := range d.Trace {
		fmt.Println(s)
	}
	// Output:
	//   no spam (line 22): text has none of the keywords "казино"
	//   no kursky/kursky-roads (line 29): municipality "Льговский район" is not "Курский район"
	//   no kursky (line 25): municipality "Льговский район" is not "Курский район"
	// ==>  roads (line 32): topic roads (score 0.90)
}

// Rule errors carry the file, line and column.
func ExampleParse_error() {
	_, err := route.Parse(strings.NewReader(`
executors: [{id: duty}, {id: roads}]
fallback: {executor: duty}
rules:
  - {id: roads, when: {topics: [roads]}, executor: road}
`), "rules.yaml")
	fmt.Println(err)
	// Output:
	// rules.yaml:5:52: rule "roads": executor: unknown executor "road" (did you mean "roads"?)
}

// Deadlines in working time skip nights, weekends, holidays and the hour
// taken from pre-holiday days.
func ExampleCalendar_AddWorking() {
	msk := time.FixedZone("MSK", 3*60*60)
	cal, _ := route.NewCalendar(route.CalendarConfig{
		Name: "office", Location: msk, Week: route.OfficeWeek(), Production: route.RussianFederal(),
	})
	// 30 December 2025, 17:00: one hour left that day, then the New Year
	// holidays (31 December 2025 – 11 January 2026).
	due := cal.AddWorking(time.Date(2025, 12, 30, 17, 0, 0, 0, msk), 4*time.Hour)
	fmt.Println(due.Format("Mon 2006-01-02 15:04"))
	// Output: Mon 2026-01-12 12:00
}

// A decree for a new year loads from a plain file.
func ExampleParseProduction() {
	extra, err := route.ParseProduction(strings.NewReader(`
year 2028
2028-01-01..2028-01-08 holiday
2028-01-10 off          # transferred from Saturday 1 January
2028-02-23 holiday
2028-03-08 holiday
`), "ru-2028.txt")
	if err != nil {
		fmt.Println(err)
		return
	}
	p := route.RussianFederal().With(extra)
	fmt.Println(p.Years())
	// Output: [2025 2026 2027 2028]
}

// Escalation steps come due once; applying them is idempotent.
func ExampleEngine_Overdue() {
	e, _ := route.Parse(strings.NewReader(exampleRules), "rules.yaml")
	msk := time.FixedZone("MSK", 3*60*60)
	a := appeal.Appeal{ID: "vk:-1_7", Status: appeal.StatusRouted, Topics: []appeal.TopicScore{{Code: "roads", Score: 1}}}
	a.Assignment = e.Route(&a, time.Date(2025, 3, 3, 9, 0, 0, 0, msk)).Assignment() // due 17:45
	for _, x := range e.Overdue(time.Date(2025, 3, 4, 15, 0, 0, 0, msk), []appeal.Appeal{a}) {
		fmt.Println(x.AppealID, "step", x.Step, x.From, "→", x.To, "due", x.DueAt.In(msk).Format("15:04"), x.Apply(a.Assignment))
	}
	fmt.Println(len(e.Overdue(time.Date(2025, 3, 4, 15, 0, 0, 0, msk), []appeal.Appeal{a})))
	// Output:
	// vk:-1_7 step 1 roads → deputy due 12:45 true
	// 0
}

// A Reloader reloads the rules file when it changes; a bad file keeps the
// rules in force.
func ExampleReloader_Watch() {
	dir, _ := os.MkdirTemp("", "rules")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "rules.yaml")
	_ = os.WriteFile(path, []byte(exampleRules), 0o600)
	r, err := route.OpenReloader(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports := make(chan error, 1)
	go r.Watch(ctx, path, 10*time.Millisecond, func(err error) { reports <- err })

	_ = os.WriteFile(path, []byte("rules: [oops"), 0o600)
	later := time.Now().Add(time.Hour)
	_ = os.Chtimes(path, later, later)
	fmt.Println("reload failed:", <-reports != nil, "- rules in force:", len(r.Engine().Rules()))
	// Output: reload failed: true - rules in force: 4
}

// The pipeline stores a decision as one lifecycle step.
func ExampleDecision_Change() {
	ctx := context.Background()
	e, _ := route.Parse(strings.NewReader(exampleRules), "rules.yaml")
	store := appeal.NewMemoryStore()
	a := appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_42", Text: "Яма на дороге",
		Topics: []appeal.TopicScore{{Code: "roads", Score: 0.9}}}
	if _, err := store.Put(ctx, a); err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.FixedZone("MSK", 3*60*60))
	change := e.Route(&a, now).Change("pipeline", now)
	change.ExpectedVersion = 1
	stored, err := store.Transition(ctx, appeal.NewID(a.Network, a.ExternalID), change)
	fmt.Println(stored.Status, stored.Executor(), stored.Assignment.RuleID, stored.Deadline().Format("15:04"), err)
	// Output: routed roads roads 09:45 <nil>
}
