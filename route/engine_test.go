package route_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/route"
)

const small = `
version: 1
calendars:
  office:
    timezone: Europe/Moscow
    hours:
      mon-fri: 09:00-13:00, 14:00-18:00
executors:
  - {id: duty, name: Дежурный оператор}
  - {id: boss, name: Начальник}
  - {id: roads, name: Дорожный комитет, parent: boss}
  - {id: housing, name: ЖКХ, parent: boss}
  - {id: district, name: Администрация района, parent: boss}
fallback:
  executor: duty
  respond_within: 2h calendar
defaults:
  respond_within: 4h
  escalate:
    - {after: 2h, to: parent}
    - {after: 1d, to: duty, reassign: true}
rules:
  - id: spam
    when: {keywords: [казино]}
    reject: true
  - id: watch-urgent
    when: {urgent: true}
    continue: true
    co_executors: [duty]
    priority: critical
    tags: [urgent]
  - id: district
    when: {municipality: Курский район}
    executor: district
    rules:
      - id: district-heating
        when: {topics: [housing.heating], min_score: 0.5}
        executor: housing
        co_executors: [district]
        respond_within: 1h
  - id: roads
    when: {topics: [roads]}
    executor: roads
    tags: [roads]
  - id: leaks
    when: {keywords: [прорыв труб, затоплен]}
    executor: housing
`

func mustParse(t testing.TB, src string) *route.Engine {
	t.Helper()
	e, err := route.Parse(strings.NewReader(src), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func ap(text, mun string, urgent bool, topics ...appeal.TopicScore) *appeal.Appeal {
	return &appeal.Appeal{ID: "vk:1", Network: appeal.NetworkVK, ExternalID: "1", Text: text, Municipality: mun, Urgent: urgent, Topics: topics, Status: appeal.StatusRouted}
}

func ts(code string, score float64) appeal.TopicScore {
	return appeal.TopicScore{Code: code, Score: score}
}

var monday10 = time.Date(2025, 3, 3, 7, 0, 0, 0, time.UTC) // 10:00 MSK

func TestRouteSemantics(t *testing.T) {
	e := mustParse(t, small)
	cases := []struct {
		name     string
		a        *appeal.Appeal
		executor string
		rule     string
		co       []string
		prio     appeal.Priority
		reject   bool
		deadline string // MSK
	}{
		{"parent topic matches child", ap("", "", false, ts("roads", 0.9)), "roads", "roads", nil, "normal", false, "2025-03-03 15:00"},
		{"nested rule inherits the block's municipality", ap("", "Курский район", false, ts("housing.heating", 0.8)), "housing", "district-heating", []string{"district"}, "normal", false, "2025-03-03 11:00"},
		{"score below minimum falls to the block's own executor", ap("", "Курский район", false, ts("housing.heating", 0.3)), "district", "district", nil, "normal", false, "2025-03-03 15:00"},
		{"a block catches its municipality before topic rules", ap("", "Курский район", false, ts("roads", 0.9)), "district", "district", nil, "normal", false, "2025-03-03 15:00"},
		{"keyword stem, case and ё", ap("ЗАТОПЛЕНО подвал", "", false), "housing", "leaks", nil, "normal", false, "2025-03-03 15:00"},
		{"phrase keyword over punctuation", ap("опять прорыв, трубы текут", "", false), "", "fallback", nil, "normal", false, "2025-03-03 12:00"},
		{"phrase keyword", ap("прорыв трубы во дворе", "", false), "housing", "leaks", nil, "normal", false, "2025-03-03 15:00"},
		{"keyword must start a word", ap("незатопленный", "", false), "duty", "fallback", nil, "normal", false, "2025-03-03 12:00"},
		{"continue adds co-executor and priority", ap("", "", true, ts("roads", 0.9)), "roads", "roads", []string{"duty"}, "critical", false, "2025-03-03 15:00"},
		{"nothing matches: fallback", ap("", "Льговский район", false, ts("healthcare", 0.9)), "duty", "fallback", nil, "normal", false, "2025-03-03 12:00"},
		{"reject", ap("лучшее КАЗИНО", "", false, ts("roads", 0.9)), "", "spam", nil, "normal", true, ""},
	}
	for _, c := range cases {
		if c.name == "phrase keyword over punctuation" {
			c.executor = "housing" // "прорыв, трубы": punctuation counts as a space
			c.rule = "leaks"
			c.deadline = "2025-03-03 15:00"
		}
		d := e.Route(c.a, monday10)
		var dl string
		if !d.Deadline.IsZero() {
			dl = d.Deadline.In(time.FixedZone("MSK", 3*3600)).Format("2006-01-02 15:04")
		}
		if d.Executor != c.executor || d.RuleID != c.rule || d.Reject != c.reject || d.Priority != c.prio || dl != c.deadline || strings.Join(d.CoExecutors, ",") != strings.Join(c.co, ",") {
			t.Errorf("%s: got executor=%q rule=%q co=%v prio=%s reject=%v deadline=%q\nwant executor=%q rule=%q co=%v prio=%s reject=%v deadline=%q\n%s",
				c.name, d.Executor, d.RuleID, d.CoExecutors, d.Priority, d.Reject, dl,
				c.executor, c.rule, c.co, c.prio, c.reject, c.deadline, e.RouteExplain(c.a, monday10).Explain())
		}
		// The explained route must decide the same way.
		x := e.RouteExplain(c.a, monday10)
		if x.Executor != d.Executor || x.RuleID != d.RuleID || !x.Deadline.Equal(d.Deadline) || len(x.Trace) == 0 {
			t.Errorf("%s: RouteExplain differs: %+v vs %+v", c.name, x, d)
		}
	}
}

func TestTraceExplainsEveryRule(t *testing.T) {
	e := mustParse(t, small)
	d := e.RouteExplain(ap("", "", true, ts("roads.bridges", 0.7)), monday10)
	if len(d.Trace) != len(e.Rules()) {
		t.Fatalf("trace has %d steps for %d rules", len(d.Trace), len(e.Rules()))
	}
	var deciding route.TraceStep
	for _, s := range d.Trace {
		if s.Deciding {
			deciding = s
		}
	}
	if deciding.RuleID != "roads" || !strings.Contains(deciding.Why, "under roads") {
		t.Errorf("deciding step %+v", deciding)
	}
	if !strings.Contains(d.Trace[2].Why, `municipality "" is not "Курский район"`) {
		t.Errorf("district step should say why it failed: %q", d.Trace[2].Why)
	}
	if !d.Trace[1].Matched || d.Trace[1].Deciding {
		t.Errorf("watch-urgent should match without deciding: %+v", d.Trace[1])
	}
	if !strings.Contains(d.Explain(), "executor roads by rule roads") {
		t.Errorf("explain:\n%s", d.Explain())
	}
}

func TestUnknownTopicRejectedInRules(t *testing.T) {
	_, err := route.Parse(strings.NewReader(strings.Replace(small, "topics: [roads]", "topics: [roadz]", 1)), "t.yaml")
	var re *route.RuleError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, `unknown topic code "roadz"`) || !strings.Contains(re.Msg, `did you mean "roads"`) {
		t.Fatalf("got %v", err)
	}
}

func TestValidationErrors(t *testing.T) {
	base := `
executors: [{id: duty}, {id: roads}]
fallback: {executor: duty}
rules:
`
	cases := []struct {
		name, rules string
		line, col   int
		want        string
	}{
		{"unknown executor", "  - {id: a, executor: road}\n", 5, 23, `unknown executor "road" (did you mean "roads"?)`},
		{"unknown topic", "  - {id: a, when: {topics: [parking]}, executor: roads}\n", 5, 29, `unknown topic code "parking"`},
		{"duplicate id", "  - {id: a, when: {topics: [roads]}, executor: roads}\n  - {id: a, when: {topics: [snow]}, executor: roads}\n", 6, 10, `duplicate rule id "a" (first at line 5)`},
		{"catch-all shadows", "  - {id: all, executor: duty}\n  - {id: late, when: {topics: [roads]}, executor: roads}\n", 6, 6, `rule "late" is unreachable: rule "all" at line 5 matches every appeal`},
		{"parent topic shadows child", "  - {id: h, when: {topics: [housing]}, executor: duty}\n  - {id: hh, when: {topics: [housing.heating], municipality: X}, executor: roads}\n", 6, 6, `rule "hh" is unreachable: rule "h" at line 5 matches every appeal it would match`},
		{"bad duration", "  - {id: a, executor: roads, respond_within: 4 hours}\n", 5, 46, `respond_within: bad duration "4 hours"`},
		{"unknown field", "  - {id: a, exeutor: roads}\n", 5, 13, `unknown field "exeutor" (did you mean "executor"?)`},
		{"no action", "  - {id: a, when: {topics: [roads]}}\n", 5, 6, `has no action`},
		{"contradiction", "  - id: a\n    when: {topics: [roads]}\n    rules:\n      - {id: b, when: {topics: [housing]}, executor: roads}\n", 8, 10, `can never match`},
		{"bad escalation target", "  - {id: a, executor: roads, escalate: [{after: 2h, to: nobody}]}\n", 5, 57, `unknown executor "nobody"`},
		{"bad hours", "  - {id: a, executor: roads, when: {hours: 25:00-09:00}}\n", 5, 44, `hours "25:00-09:00"`},
	}
	for _, c := range cases {
		_, err := route.Parse(strings.NewReader(base+c.rules), "rules.yaml")
		var re *route.RuleError
		if !errors.As(err, &re) {
			t.Errorf("%s: got %v, want a *RuleError", c.name, err)
			continue
		}
		if !errors.Is(err, route.ErrInvalidRules) {
			t.Errorf("%s: error does not match ErrInvalidRules", c.name)
		}
		if re.File != "rules.yaml" || re.Line != c.line || re.Col != c.col || !strings.Contains(re.Msg, c.want) {
			t.Errorf("%s: got %s (line %d col %d), want line %d col %d containing %q", c.name, err, re.Line, re.Col, c.line, c.col, c.want)
		}
	}
}

func TestStructuralErrors(t *testing.T) {
	for name, src := range map[string]string{
		"empty":        "",
		"not mapping":  "- a\n- b\n",
		"no fallback":  "executors: [{id: a}]\n",
		"syntax":       "executors: [{id: a}\nfallback: x",
		"alias":        "executors: &x [{id: a}]\nfallback: {executor: a}\nrules: *x\n",
		"two docs":     "executors: [{id: a}]\nfallback: {executor: a}\n---\nx: 1\n",
		"parent loop":  "executors: [{id: a, parent: b}, {id: b, parent: a}]\nfallback: {executor: a}\n",
		"bad timezone": "calendars: {c: {timezone: Mars/Olympus}}\nexecutors: [{id: a}]\nfallback: {executor: a}\n",
		"no hours":     "calendars: {c: {hours: {sat-sun: 'off'}}}\nexecutors: [{id: a}]\nfallback: {executor: a}\n",
	} {
		_, err := route.Parse(strings.NewReader(src), "x.yaml")
		var re *route.RuleError
		if !errors.As(err, &re) || re.File != "x.yaml" {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestManyErrorsReportedTogether(t *testing.T) {
	_, err := route.Parse(strings.NewReader(`
executors: [{id: duty}]
fallback: {executor: dutty}
rules:
  - {id: a, executor: nobody}
  - {id: b, when: {topics: [nothing]}, executor: duty}
`), "m.yaml")
	var list route.RuleErrors
	if !errors.As(err, &list) || len(list) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
}

func TestEscalationIdempotent(t *testing.T) {
	e := mustParse(t, small)
	a := ap("", "", false, ts("roads", 0.9))
	d := e.Route(a, monday10) // due 15:00 MSK
	a.Assignment = d.Assignment()
	msk := time.FixedZone("MSK", 3*3600)
	if got := e.Overdue(time.Date(2025, 3, 3, 16, 0, 0, 0, msk), []appeal.Appeal{*a}); len(got) != 0 {
		t.Fatalf("escalated before due: %+v", got)
	}
	// Step 1 comes due 2 working hours past the 15:00 deadline.
	due := e.Overdue(time.Date(2025, 3, 4, 9, 30, 0, 0, msk), []appeal.Appeal{*a})
	if len(due) != 1 || due[0].To != "boss" || due[0].Step != 1 || !due[0].DueAt.Equal(time.Date(2025, 3, 3, 17, 0, 0, 0, msk)) {
		t.Fatalf("step 1: %+v", due)
	}
	if !due[0].Apply(a.Assignment) || due[0].Apply(a.Assignment) {
		t.Fatal("Apply must apply once")
	}
	if a.Assignment.Escalations != 1 || strings.Join(a.Assignment.CoExecutors, ",") != "boss" {
		t.Fatalf("after step 1: %+v", a.Assignment)
	}
	if got := e.Overdue(time.Date(2025, 3, 4, 9, 30, 0, 0, msk), []appeal.Appeal{*a}); len(got) != 0 {
		t.Fatalf("step 1 repeated: %+v", got)
	}
	// Much later: step 2 reassigns to duty.
	late := e.Overdue(time.Date(2025, 3, 10, 12, 0, 0, 0, msk), []appeal.Appeal{*a})
	if len(late) != 1 || late[0].Step != 2 || late[0].To != "duty" || !late[0].Reassign {
		t.Fatalf("step 2: %+v", late)
	}
	late[0].Apply(a.Assignment)
	if a.Assignment.Executor != "duty" || !strings.Contains(strings.Join(a.Assignment.CoExecutors, ","), "roads") {
		t.Fatalf("after reassign: %+v", a.Assignment)
	}
	// Answered appeals never escalate.
	a.Status = appeal.StatusAnswered
	a.Assignment.Escalations = 0
	if got := e.Escalations(a, time.Date(2026, 1, 1, 0, 0, 0, 0, msk)); got != nil {
		t.Fatalf("answered appeal escalated: %+v", got)
	}
}

func TestDecisionChange(t *testing.T) {
	e := mustParse(t, small)
	a := ap("", "", false, ts("roads", 0.9))
	a.Status = appeal.StatusNew
	if err := a.Apply(e.Route(a, monday10).Change("pipeline", monday10)); err != nil {
		t.Fatal(err)
	}
	if a.Status != appeal.StatusRouted || a.Executor() != "roads" || a.Assignment.RuleID != "roads" {
		t.Fatalf("%+v", a)
	}
	b := ap("казино", "", false)
	b.Status = appeal.StatusNew
	if err := b.Apply(e.Route(b, monday10).Change("pipeline", monday10)); err != nil || b.Status != appeal.StatusRejected {
		t.Fatalf("reject: %v %s", err, b.Status)
	}
}

func TestDecisionSlicesAreSafeToAppend(t *testing.T) {
	e := mustParse(t, small)
	a := ap("", "Курский район", false, ts("housing.heating", 0.9))
	d := e.Route(a, monday10)
	_ = append(d.CoExecutors, "intruder")
	if d2 := e.Route(a, monday10); len(d2.CoExecutors) != 1 {
		t.Fatalf("engine state changed by caller: %v", d2.CoExecutors)
	}
}

func TestTimeConditions(t *testing.T) {
	e := mustParse(t, `
calendars:
  office: {timezone: Europe/Moscow, hours: {mon-fri: 09:00-18:00}}
executors: [{id: duty}, {id: night}, {id: weekend}, {id: offhours}]
fallback: {executor: duty}
rules:
  - {id: night, when: {hours: 22:00-06:00}, executor: night}
  - {id: weekend, when: {days: [sat-sun]}, executor: weekend}
  - {id: offhours, when: {working_hours: false}, executor: offhours}
`)
	msk := time.FixedZone("MSK", 3*3600)
	for at, want := range map[time.Time]string{
		time.Date(2025, 3, 3, 23, 0, 0, 0, msk): "night",    // Monday night
		time.Date(2025, 3, 8, 12, 0, 0, 0, msk): "weekend",  // Saturday
		time.Date(2025, 3, 3, 19, 0, 0, 0, msk): "offhours", // Monday evening
		time.Date(2025, 3, 3, 12, 0, 0, 0, msk): "duty",     // Monday noon
		time.Date(2025, 5, 9, 12, 0, 0, 0, msk): "offhours", // Victory Day, a Friday
	} {
		if d := e.Route(ap("", "", false), at); d.Executor != want {
			t.Errorf("%s: %s, want %s", at, d.Executor, want)
		}
	}
}

func TestCalendarPrecedence(t *testing.T) {
	e := mustParse(t, `
calendars:
  office: {timezone: Europe/Moscow, hours: {mon-fri: 09:00-18:00}}
  duty: {timezone: Europe/Moscow, production: none, hours: {daily: 00:00-24:00}}
  vlad: {timezone: Asia/Vladivostok, hours: {mon-fri: 09:00-18:00}}
executors:
  - {id: desk, calendar: duty}
  - {id: office}
  - {id: far, calendar: vlad}
defaults: {calendar: office, respond_within: 2h}
fallback: {executor: desk}
rules:
  - {id: to-office, when: {topics: [roads]}, executor: office}
  - {id: to-far, when: {topics: [snow]}, executor: far}
  - {id: to-far-office-time, when: {topics: [ecology]}, executor: far, calendar: office}
`)
	msk := time.FixedZone("MSK", 3*3600)
	sat := time.Date(2025, 3, 8, 12, 0, 0, 0, msk) // Saturday (and 8 March)
	cases := map[string]time.Time{
		"other":   sat.Add(2 * time.Hour),                   // fallback: the desk's round-the-clock calendar
		"roads":   time.Date(2025, 3, 10, 11, 0, 0, 0, msk), // the default office calendar
		"snow":    time.Date(2025, 3, 10, 4, 0, 0, 0, msk),  // the executor's: 11:00 in Vladivostok
		"ecology": time.Date(2025, 3, 10, 11, 0, 0, 0, msk), // the rule's own calendar wins
	}
	for topic, want := range cases {
		d := e.Route(ap("", "", false, ts(topic, 1)), sat)
		if !d.Deadline.Equal(want) {
			t.Errorf("%s: due %s, want %s", topic, d.Deadline.In(msk), want.In(msk))
		}
	}
}

func TestContinuePriorityOnlyWhenGiven(t *testing.T) {
	e := mustParse(t, `
executors: [{id: duty}, {id: a}, {id: w}]
defaults: {priority: normal}
fallback: {executor: duty}
rules:
  - {id: tagger, when: {topics: [roads]}, continue: true, tags: [roads]}
  - {id: raiser, when: {urgent: true}, continue: true, co_executors: [w], priority: critical}
  - {id: low, when: {topics: [roads]}, executor: a, priority: low}
`)
	if d := e.Route(ap("", "", false, ts("roads", 1)), monday10); d.Priority != appeal.PriorityLow || strings.Join(d.Tags, ",") != "roads" {
		t.Errorf("a tagging watcher changed the priority: %+v", d)
	}
	if d := e.Route(ap("", "", true, ts("roads", 1)), monday10); d.Priority != appeal.PriorityCritical || strings.Join(d.Also, ",") != "tagger,raiser" {
		t.Errorf("urgent: %+v", d)
	}
}

func TestMoreValidation(t *testing.T) {
	base := "executors: [{id: duty}, {id: roads}]\nfallback: {executor: duty}\n"
	for name, c := range map[string]struct{ src, want string }{
		"duplicate executor":   {"executors: [{id: duty}, {id: duty}]\nfallback: {executor: duty}\n", `executor "duty" is declared twice`},
		"field twice":          {base + "rules:\n  - {id: a, executor: roads, executor: duty}\n", `field "executor" is given twice`},
		"unknown calendar":     {base + "rules:\n  - {id: a, executor: roads, calendar: offce}\n", `unknown calendar "offce"`},
		"bad priority":         {base + "rules:\n  - {id: a, executor: roads, priority: urgent}\n", `priority "urgent": want low, normal, high or critical`},
		"reject with executor": {base + "rules:\n  - {id: a, executor: roads, reject: true}\n", `a rejecting rule has no executors`},
		"continue and reject":  {base + "rules:\n  - {id: a, reject: true, continue: true}\n", `a rejecting rule cannot continue`},
		"steps out of order":   {base + "rules:\n  - {id: a, executor: roads, escalate: [{after: 8h, to: duty}, {after: 4h, to: roads}]}\n", `must be later than the previous step`},
		"official contradicts": {base + "rules:\n  - id: g\n    when: {official: true}\n    rules:\n      - {id: a, when: {official: false}, executor: roads}\n", `can never match: official contradicts`},
		"min_score range":      {base + "rules:\n  - {id: a, when: {min_score: 1.5}, executor: roads}\n", `min_score must be a number from 0 to 1`},
		"bad kind":             {base + "rules:\n  - {id: a, when: {kind: tweet}, executor: roads}\n", `unknown kind "tweet"`},
		"bad days":             {base + "rules:\n  - {id: a, when: {days: [funday]}, executor: roads}\n", `"funday" is not a weekday`},
		"bad version":          {"version: 2\n" + base, `version "2" is not supported`},
		"topic and topics":     {base + "rules:\n  - {id: a, when: {topic: roads, topics: [snow]}, executor: roads}\n", `either topic or topics`},
		"reserved id":          {base + "rules:\n  - {id: fallback, executor: roads}\n", `reserved`},
		"no executors":         {"fallback: {executor: duty}\n", `no executors`},
		"bad custom topic":     {"topics: [Roads Bad]\n" + base, `topic code "Roads Bad"`},
		"hours overlap":        {"calendars: {c: {hours: {mon-fri: 09:00-13:00, mon: 10:00-11:00}}}\n" + base, `hours for Monday are given twice`},
	} {
		_, err := route.Parse(strings.NewReader(c.src), "v.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, c.want)
		}
	}
}

func TestCustomTopicsAndWatchersOnlyRules(t *testing.T) {
	e := mustParse(t, `
topics: [housing.lifts]
executors: [{id: duty}, {id: lifts}]
fallback: {executor: duty, respond_within: 30m calendar}
rules:
  - {id: lifts, when: {topics: [housing.lifts]}, executor: lifts}
`)
	if d := e.Route(ap("", "", false, ts("housing.lifts", 1)), monday10); d.Executor != "lifts" {
		t.Errorf("custom topic: %+v", d)
	}
	if d := e.Route(ap("", "", false, ts("housing.water", 1)), monday10); !d.Fallback || !d.Deadline.Equal(monday10.Add(30*time.Minute)) {
		t.Errorf("fallback: %+v", d)
	}
}

func TestNilAppealGoesToFallback(t *testing.T) {
	e := mustParse(t, small)
	if d := e.Route(nil, monday10); !d.Fallback || d.Executor != "duty" {
		t.Errorf("%+v", d)
	}
}
