package route_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/route"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, every
// failure must be a positioned rules error, and an engine it accepts must
// route without panicking and with an executor (or a rejection), with
// RouteExplain agreeing with Route.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile(regionFile); err == nil {
		f.Add(string(b))
	}
	f.Add(small)
	f.Add(rulesV1)
	f.Add("executors: [{id: a}]\nfallback: {executor: a}\nrules:\n  - {id: x, when: {keywords: [ё, \"\"]}, executor: a}\n")
	f.Add("calendars: {c: {hours: {daily: 00:00-24:00}, production: none}}\nexecutors: [{id: a, calendar: c}]\nfallback: {executor: a, respond_within: 1d}\n")
	f.Add("rules: [{id: a, rules: [{id: b, rules: [{id: c}]}]}]")
	f.Add("a: &x [*x, *x]\n")
	f.Add("{")
	f.Add("executors:\n\t- id: a\n")
	f.Add("rules:\n  - id: r\n\t\n  when:\n")
	f.Add("executors: [{id: a}]\nfallback: {executor: a}\nrules:\n  - {id: x, when: {hours: 23:00-01:00, days: [sun, mon-fri]}, executor: a, escalate: [{after: 1h, to: parent}]}\n")
	topics := []appeal.TopicScore{{Code: "housing.heating", Score: 0.9}, {Code: "roads", Score: 0.2}}
	now := time.Date(2025, 11, 1, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, src string) {
		e, err := route.Parse(strings.NewReader(src), "fuzz.yaml")
		if err != nil {
			if !errors.Is(err, route.ErrInvalidRules) {
				t.Fatalf("error is not a rules error: %v", err)
			}
			return
		}
		for _, a := range []*appeal.Appeal{
			{Text: "Нет отопления! ЗАПАХ ГАЗА в подъезде", Municipality: "Курский район", Urgent: true, Topics: topics},
			{Text: "", Topics: nil},
		} {
			d := e.Route(a, now)
			if !d.Reject && d.Executor == "" {
				t.Fatalf("no executor and not rejected: %+v", d)
			}
			x := e.RouteExplain(a, now)
			if x.Executor != d.Executor || x.RuleID != d.RuleID || x.Reject != d.Reject || !x.Deadline.Equal(d.Deadline) {
				t.Fatalf("Route and RouteExplain disagree: %+v vs %+v", d, x)
			}
			if as := d.Assignment(); as != nil {
				a.Assignment = as
				a.Status = appeal.StatusRouted
				_ = e.Overdue(now.Add(400*24*time.Hour), []appeal.Appeal{*a})
			}
		}
	})
}
