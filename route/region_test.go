package route_test

import (
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // the rules name IANA zones; keep the tests independent of the host

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/route"
)

// regionFile is the example rules file quickstart loads; these tests keep
// it valid and doing what its comments say.
const regionFile = "../examples/rules/region.yaml"

func loadRegion(t testing.TB) *route.Engine {
	t.Helper()
	e, err := route.ParseFile(regionFile)
	if err != nil {
		t.Fatalf("region rules: %v", err)
	}
	return e
}

var regionMunicipalities = []string{"Курский район", "Железногорский район", "Льговский район"}

func TestRegionDistricts(t *testing.T) {
	e := loadRegion(t)
	admins := map[string]string{}
	for _, x := range e.Executors() {
		if x.Municipality != "" {
			admins[x.Municipality] = x.ID
		}
	}
	for _, m := range regionMunicipalities {
		if admins[m] == "" {
			t.Fatalf("no executor serves %q", m)
		}
		for topic, co := range map[string]string{"roads": "roads-committee", "snow": "roads-committee", "housing.water": "housing-committee", "landscaping.yards": "", "other": ""} {
			d := e.Route(&appeal.Appeal{Municipality: m, Topics: []appeal.TopicScore{{Code: topic, Score: 0.8}}}, monday10)
			if d.Executor != admins[m] || d.Fallback {
				t.Errorf("%s/%s: %s by %s, want the district administration %s", m, topic, d.Executor, d.RuleID, admins[m])
			}
			if co != "" && !slices.Contains(d.CoExecutors, co) {
				t.Errorf("%s/%s: co-executors %v lack %s", m, topic, d.CoExecutors, co)
			}
		}
		// Regional competence wins over the district.
		if d := e.Route(&appeal.Appeal{Municipality: m, Topics: []appeal.TopicScore{{Code: "healthcare", Score: 0.8}}}, monday10); d.Executor != "health-committee" {
			t.Errorf("%s/healthcare: %s", m, d.Executor)
		}
	}
}

func TestRegionEveryTopicIsRouted(t *testing.T) {
	e := loadRegion(t)
	// Without a municipality, only municipal matters (yards, lighting,
	// trees, playgrounds) and "other" go to the duty operator, who finds
	// the municipality.
	toDuty := map[string]bool{"landscaping": true, "landscaping.yards": true, "landscaping.lighting": true,
		"landscaping.trees": true, "landscaping.playgrounds": true, "other": true}
	for _, code := range route.TopicCodes() {
		d := e.Route(&appeal.Appeal{Topics: []appeal.TopicScore{{Code: code, Score: 0.9}}}, monday10)
		if d.Executor == "" || d.Deadline.IsZero() {
			t.Errorf("%s: no executor or deadline: %+v", code, d)
		}
		if d.Fallback != toDuty[code] {
			t.Errorf("%s: fallback=%v (rule %s, executor %s)", code, d.Fallback, d.RuleID, d.Executor)
		}
	}
}

func TestRegionEmergencies(t *testing.T) {
	e := loadRegion(t)
	msk := time.FixedZone("MSK", 3*3600)
	saturdayNight := time.Date(2025, 12, 6, 23, 0, 0, 0, msk)
	d := e.Route(&appeal.Appeal{Text: "В подъезде сильно пахнет газом!", Municipality: "Льговский район", Urgent: true}, saturdayNight)
	if d.Executor != "safety-committee" || d.Priority != appeal.PriorityCritical || !d.Deadline.Equal(saturdayNight.Add(time.Hour)) {
		t.Errorf("gas leak: %+v", d)
	}
	if !slices.Contains(d.Tags, "urgent") || !slices.Contains(d.Tags, "after-hours") || !slices.Contains(d.CoExecutors, "cur-duty") {
		t.Errorf("gas leak watchers: tags %v co %v", d.Tags, d.CoExecutors)
	}
	d = e.Route(&appeal.Appeal{Text: "Нет отопления, батареи ледяные", Municipality: "Курский район", Urgent: true,
		Topics: []appeal.TopicScore{{Code: "housing.heating", Score: 0.9}}}, saturdayNight)
	if d.RuleID != "no-heating-night" || !d.Deadline.Equal(saturdayNight.Add(2*time.Hour)) {
		t.Errorf("heating at night: %+v", d)
	}
	// The same on Monday morning is the district's, due in a working day.
	monday := time.Date(2025, 12, 8, 10, 0, 0, 0, msk)
	d = e.Route(&appeal.Appeal{Text: "Нет отопления", Municipality: "Курский район", Urgent: true,
		Topics: []appeal.TopicScore{{Code: "housing.heating", Score: 0.9}}}, monday)
	if d.RuleID != "kursky-housing" || !d.Deadline.Equal(time.Date(2025, 12, 9, 10, 0, 0, 0, msk)) {
		t.Errorf("heating on Monday: %s due %s", d.RuleID, d.Deadline.In(msk))
	}
}

func TestRegionSpam(t *testing.T) {
	e := loadRegion(t)
	if d := e.Route(&appeal.Appeal{Text: "Лучшее онлайн-КАЗИНО, бонус за регистрацию"}, monday10); !d.Reject {
		t.Errorf("spam not rejected: %+v", d)
	}
	if d := e.Route(&appeal.Appeal{Text: "Помогите, возле школы открыли казино"}, monday10); d.Reject {
		t.Errorf("a complaint about a casino was rejected")
	}
}

func TestRegionEscalation(t *testing.T) {
	e := loadRegion(t)
	msk := time.FixedZone("MSK", 3*3600)
	received := time.Date(2025, 12, 1, 10, 0, 0, 0, msk) // Monday
	a := appeal.Appeal{ID: "vk:-1_1", Status: appeal.StatusRouted, Municipality: "Льговский район",
		Topics: []appeal.TopicScore{{Code: "roads", Score: 0.9}}}
	a.Assignment = e.Route(&a, received).Assignment()
	if want := time.Date(2025, 12, 2, 10, 0, 0, 0, msk); !a.Assignment.Deadline.Equal(want) {
		t.Fatalf("deadline %s", a.Assignment.Deadline.In(msk))
	}
	// Tuesday 16:00: 4 working hours past 10:00 (lunch excluded) have passed.
	steps := e.Overdue(time.Date(2025, 12, 2, 16, 0, 0, 0, msk), []appeal.Appeal{a})
	if len(steps) != 1 || steps[0].To != "region-admin" || steps[0].Reassign {
		t.Fatalf("step 1: %+v", steps)
	}
	steps[0].Apply(a.Assignment)
	// Wednesday noon: a working day late, the centre's head takes over.
	steps = e.Overdue(time.Date(2025, 12, 3, 12, 0, 0, 0, msk), []appeal.Appeal{a})
	if len(steps) != 1 || steps[0].Step != 2 || steps[0].To != "cur-head" || !steps[0].Reassign {
		t.Fatalf("step 2: %+v", steps)
	}
	steps[0].Apply(a.Assignment)
	if a.Assignment.Executor != "cur-head" || !slices.Contains(a.Assignment.CoExecutors, "lgovsky-admin") || a.Assignment.Escalations != 2 {
		t.Fatalf("after step 2: %+v", a.Assignment)
	}
}
