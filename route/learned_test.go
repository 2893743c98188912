package route_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/route"
)

// fixedModel predicts one executor with one confidence, whatever the appeal.
type fixedModel route.Prediction

func (m fixedModel) Predict(*appeal.Appeal) route.Prediction { return route.Prediction(m) }

const learnedRules = `
calendars:
  office: {timezone: Europe/Moscow, production: none, hours: {mon-fri: 09:00-18:00}}
  duty: {timezone: Europe/Moscow, production: none, hours: {daily: 00:00-24:00}}
executors:
  - {id: duty, calendar: duty}
  - {id: roads}
  - {id: north-admin, municipality: Северный}
  - {id: north-ja, municipality: Северный, calendar: duty}
defaults: {calendar: office}
fallback: {executor: duty, respond_within: 4h}
rules:
  - id: spam
    when: {keywords: [казино]}
    reject: true
  - id: roads
    when: {topics: [roads]}
    executor: roads
  - id: north
    when: {municipality: Северный}
    executor: north-admin
    learned: true
    respond_within: 8h
    rules:
      - id: north-heating
        when: {topics: [housing.heating]}
        executor: north-ja
        learned: false
`

func TestLearnedRouter(t *testing.T) {
	e, err := route.Parse(strings.NewReader(learnedRules), "learned.yaml")
	require.NoError(t, err)
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC) // Monday 13:00 in Moscow
	confident := fixedModel{Executor: "north-ja", Confidence: 0.97, Support: 412}

	// A wrong but confident model does not override an explicit rule.
	r := route.WithModel(e, confident, 0.9)
	roads := &appeal.Appeal{Text: "яма", Topics: []appeal.TopicScore{{Code: "roads", Score: 0.9}}, Municipality: "Северный"}
	d := r.RouteExplain(roads, now)
	assert.Equal(t, "roads", d.Executor)
	assert.False(t, d.Learned)
	assert.False(t, d.Learnable)
	assert.Contains(t, d.Trace[len(d.Trace)-1].Why, "not asked: rule roads is explicit")
	// Nor a nested rule that says learned: false under a learned one.
	heat := &appeal.Appeal{Topics: []appeal.TopicScore{{Code: "housing.heating", Score: 0.9}}, Municipality: "Северный"}
	d = route.WithModel(e, fixedModel{Executor: "roads", Confidence: 1}, 0.5).Route(heat, now)
	assert.Equal(t, "north-ja", d.Executor)
	assert.False(t, d.Learned)
	// Nor a rejection.
	d = r.Route(&appeal.Appeal{Text: "казино", Municipality: "Северный"}, now)
	assert.True(t, d.Reject)

	// Where the rule says learned: true, the confident model decides, and
	// the trace says so; the deadline follows the new executor's calendar.
	other := &appeal.Appeal{Text: "холодно в подъезде", Municipality: "Северный"}
	d = r.RouteExplain(other, now)
	require.True(t, d.Learned, d.Explain())
	assert.Equal(t, "north-ja", d.Executor)
	assert.Equal(t, "north", d.RuleID)
	assert.InDelta(t, 0.97, d.Confidence, 1e-9)
	assert.Equal(t, 412, d.Support)
	last := d.Trace[len(d.Trace)-1]
	assert.True(t, last.Deciding)
	assert.Contains(t, last.Why, "learned: 0.97, history of 412 similar appeals")
	assert.True(t, now.Add(8*time.Hour).Equal(d.Deadline), "8h in the round-the-clock duty calendar of north-ja, got %v", d.Deadline)
	for _, s := range d.Trace[:len(d.Trace)-1] {
		assert.False(t, s.Deciding)
	}

	// Below the threshold the rule keeps it.
	d = route.WithModel(e, fixedModel{Executor: "north-ja", Confidence: 0.6}, 0.9).RouteExplain(other, now)
	assert.False(t, d.Learned)
	assert.Equal(t, "north-admin", d.Executor)
	assert.Contains(t, d.Trace[len(d.Trace)-1].Why, "below the threshold 0.90")

	// Per-rule thresholds: a rule that is rarely right yields more easily.
	d = route.WithModel(e, fixedModel{Executor: "north-ja", Confidence: 0.6}, 0.9).WithRuleThresholds(map[string]float64{"north": 0.3}).Route(other, now)
	assert.True(t, d.Learned)
	assert.Equal(t, "north-ja", d.Executor)

	// An executor the rules do not declare is never chosen.
	d = route.WithModel(e, fixedModel{Executor: "Комитет X", Confidence: 1}, 0.5).Route(other, now)
	assert.False(t, d.Learned)
	assert.Equal(t, "north-admin", d.Executor)

	// The fallback is learnable.
	d = r.Route(&appeal.Appeal{Text: "вопрос"}, now)
	assert.True(t, d.Fallback)
	assert.True(t, d.Learned)
	assert.Equal(t, "north-ja", d.Executor)

	// No model: the rules alone.
	d = route.WithModel(e, nil, 0).Route(other, now)
	assert.Equal(t, "north-admin", d.Executor)
	assert.Equal(t, route.DefaultLearnedThreshold, route.WithModel(e, nil, 0).Threshold())
}

func TestLearnedRejectRuleRefused(t *testing.T) {
	_, err := route.Parse(strings.NewReader("executors: [{id: a}]\nfallback: {executor: a}\nrules:\n  - id: r\n    when: {keywords: [x]}\n    reject: true\n    learned: true\n"), "r.yaml")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "r.yaml:7")
}

// zoneRules: 8 working hours on a Moscow office calendar.
const zoneRules = `
calendars:
  office: {timezone: Europe/Moscow, production: none, hours: {mon-fri: 09:00-18:00}}
executors: [{id: a}]
defaults: {calendar: office, respond_within: 8h}
fallback: {executor: a}
rules: []
`

// Deadlines run on the clock of the appeal's place.
func TestPlaceZone(t *testing.T) {
	e, err := route.Parse(strings.NewReader(zoneRules), "z.yaml")
	require.NoError(t, err)
	now := time.Date(2025, 3, 3, 6, 0, 0, 0, time.UTC) // Monday: 09:00 in Moscow, 13:00 in Krasnoyarsk
	a := &appeal.Appeal{Municipality: "город Красноярск"}
	assert.True(t, time.Date(2025, 3, 3, 14, 0, 0, 0, time.UTC).Equal(e.Route(a, now).Deadline), "Moscow: 09:00+8h = 17:00 MSK")
	krsk := time.FixedZone("UTC+7", 7*3600)
	ez := e.WithPlaceZone(func(a *appeal.Appeal) *time.Location {
		if a.Municipality == "город Красноярск" {
			return krsk
		}
		return nil
	})
	// 13:00 local: 5h on Monday, 3h on Tuesday: 12:00 local = 05:00 UTC.
	assert.True(t, time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC).Equal(ez.Route(a, now).Deadline), "%v", ez.Route(a, now).Deadline)
	// Other places keep the calendar's zone.
	assert.True(t, time.Date(2025, 3, 3, 14, 0, 0, 0, time.UTC).Equal(ez.Route(&appeal.Appeal{}, now).Deadline))

	// Escalation steps count on the same clock as the deadline: 2 working
	// hours after Tuesday 12:00 in Krasnoyarsk is 14:00 there (07:00 UTC);
	// on Moscow's clock the deadline (08:00 MSK) would be before opening,
	// and the step would fall at 11:00 MSK (08:00 UTC).
	e2, err := route.Parse(strings.NewReader(strings.Replace(zoneRules, "rules: []", "rules:\n  - {id: all, executor: a, escalate: [{after: 2h, to: a}]}", 1)), "z.yaml")
	require.NoError(t, err)
	zoned := e2.WithPlaceZone(func(*appeal.Appeal) *time.Location { return krsk })
	d := zoned.Route(a, now)
	a.Status, a.Assignment = appeal.StatusRouted, &appeal.Assignment{Executor: d.Executor, RuleID: d.RuleID, Deadline: d.Deadline}
	late := time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)
	steps := zoned.Escalations(a, late)
	require.Len(t, steps, 1)
	assert.True(t, time.Date(2025, 3, 4, 7, 0, 0, 0, time.UTC).Equal(steps[0].DueAt), "%v", steps[0].DueAt)
	steps = e2.Escalations(a, late)
	require.Len(t, steps, 1)
	assert.True(t, time.Date(2025, 3, 4, 8, 0, 0, 0, time.UTC).Equal(steps[0].DueAt), "%v", steps[0].DueAt)
}

// A Reloader keeps the place zone across reloads and swaps.
func TestReloaderPlaceZone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "z.yaml")
	require.NoError(t, os.WriteFile(path, []byte(zoneRules), 0o600))
	r, err := route.OpenReloader(path)
	require.NoError(t, err)
	krsk := time.FixedZone("UTC+7", 7*3600)
	r.SetPlaceZone(func(*appeal.Appeal) *time.Location { return krsk })
	now := time.Date(2025, 3, 3, 6, 0, 0, 0, time.UTC)
	local := time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC) // as in TestPlaceZone
	moscow := time.Date(2025, 3, 3, 14, 0, 0, 0, time.UTC)
	a := &appeal.Appeal{}
	assert.True(t, local.Equal(r.Route(a, now).Deadline))
	require.NoError(t, r.Reload(path))
	assert.True(t, local.Equal(r.Route(a, now).Deadline), "a reload keeps the zone")
	e, err := route.Parse(strings.NewReader(zoneRules), "z.yaml")
	require.NoError(t, err)
	r.Swap(e)
	assert.True(t, local.Equal(r.Route(a, now).Deadline), "a swap keeps the zone")
	r.SetPlaceZone(nil)
	assert.True(t, moscow.Equal(r.Route(a, now).Deadline))
}
