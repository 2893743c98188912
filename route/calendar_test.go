package route

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// eightHour is Monday–Friday 09:00–13:00, 14:00–18:00: 40 hours a week, the
// schedule the official yearly norms of working hours assume.
func eightHour(t testing.TB, loc *time.Location, p *Production) *Calendar {
	t.Helper()
	day := []Span{{9 * time.Hour, 13 * time.Hour}, {14 * time.Hour, 18 * time.Hour}}
	var w Week
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = day
	}
	c, err := NewCalendar(CalendarConfig{Name: "8h", Location: loc, Week: w, Production: p})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The official norms: 247 working days and 1972 hours at 40 h/week in each
// of 2025 and 2026 (and in 2027 under the 2021-pattern assumption).
func TestRussianYearNorms(t *testing.T) {
	cal := eightHour(t, moscow, RussianFederal())
	for _, year := range []int{2025, 2026, 2027} {
		days := 0
		for d := time.Date(year, 1, 1, 12, 0, 0, 0, moscow); d.Year() == year; d = d.AddDate(0, 0, 1) {
			if cal.IsWorkingDay(d) {
				days++
			}
		}
		hours := cal.WorkingBetween(time.Date(year, 1, 1, 0, 0, 0, 0, moscow), time.Date(year+1, 1, 1, 0, 0, 0, 0, moscow))
		if days != 247 || hours != 1972*time.Hour {
			t.Errorf("%d: %d working days, %v; want 247 days, 1972h", year, days, hours)
		}
	}
}

func TestRussian2025Days(t *testing.T) {
	cal := eightHour(t, moscow, RussianFederal())
	off := []string{"2025-01-01", "2025-01-08", "2025-05-02", "2025-05-08", "2025-06-13", "2025-11-03", "2025-11-04", "2025-12-31", "2026-01-09", "2026-03-09", "2026-05-11", "2026-12-31"}
	work := []string{"2025-01-09", "2025-02-24", "2025-03-10", "2025-11-01", "2025-12-30", "2026-01-12"}
	for _, s := range off {
		d, _ := time.ParseInLocation(time.DateOnly, s, moscow)
		if cal.IsWorkingDay(d) {
			t.Errorf("%s should be a day off", s)
		}
	}
	for _, s := range work {
		d, _ := time.ParseInLocation(time.DateOnly, s, moscow)
		if !cal.IsWorkingDay(d) {
			t.Errorf("%s should be a working day", s)
		}
	}
}

func at(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAddWorking(t *testing.T) {
	cal := eightHour(t, moscow, RussianFederal())
	cases := []struct {
		name, start string
		d           time.Duration
		want        string
	}{
		{"within the morning", "2025-03-03 09:30", 2 * time.Hour, "2025-03-03 11:30"},
		{"over lunch", "2025-03-03 12:00", 2 * time.Hour, "2025-03-03 15:00"},
		{"ends exactly at closing", "2025-03-03 16:00", 2 * time.Hour, "2025-03-03 18:00"},
		{"overnight", "2025-03-03 17:00", 4 * time.Hour, "2025-03-04 12:00"},
		{"received at night", "2025-03-03 23:00", time.Hour, "2025-03-04 10:00"},
		{"over the weekend", "2025-12-26 17:00", 4 * time.Hour, "2025-12-29 12:00"},
		{"over the new year holidays", "2025-12-30 17:00", 4 * time.Hour, "2026-01-12 12:00"},
		{"shortened pre-holiday day then May holidays", "2025-04-30 16:00", 2 * time.Hour, "2025-05-05 10:00"},
		{"working Saturday, shortened, then Nov 3-4", "2025-11-01 10:00", 8 * time.Hour, "2025-11-05 11:00"},
		{"zero", "2025-03-03 23:00", 0, "2025-03-03 23:00"},
		// Mar 7 is shortened (pre-holiday) and Mar 10 works: Mar 8 moved to Jun 13.
		{"a week of work", "2025-03-03 09:00", 40 * time.Hour, "2025-03-10 10:00"},
		{"a normal week", "2025-03-17 09:00", 40 * time.Hour, "2025-03-21 18:00"},
	}
	for _, c := range cases {
		got := cal.AddWorking(at(t, moscow, c.start), c.d)
		if want := at(t, moscow, c.want); !got.Equal(want) {
			t.Errorf("%s: %s + %v = %s, want %s", c.name, c.start, c.d, got.In(moscow).Format("2006-01-02 15:04 Mon"), c.want)
		}
		// WorkingBetween is the inverse of AddWorking.
		if back := cal.WorkingBetween(at(t, moscow, c.start), got); back != c.d {
			t.Errorf("%s: WorkingBetween = %v, want %v", c.name, back, c.d)
		}
	}
}

func TestCalendarTimeZone(t *testing.T) {
	vlad, err := time.LoadLocation("Asia/Vladivostok")
	if err != nil {
		t.Skipf("no tz database: %v", err)
	}
	cal := eightHour(t, vlad, RussianFederal())
	// 09:00 in Moscow is 16:00 in Vladivostok: two hours left that day.
	start := at(t, moscow, "2025-03-03 09:00")
	got := cal.AddWorking(start, 4*time.Hour)
	if want := at(t, vlad, "2025-03-04 11:00"); !got.Equal(want) {
		t.Errorf("got %s, want %s", got.In(vlad), want)
	}
	if cal.IsWorkingTime(at(t, moscow, "2025-03-03 12:00")) { // 19:00 in Vladivostok
		t.Error("19:00 local should be outside working hours")
	}
}

func TestStatutoryYears(t *testing.T) {
	cal := eightHour(t, moscow, RussianFederal())
	check := func(date string, working bool) {
		t.Helper()
		d, _ := time.ParseInLocation(time.DateOnly, date, moscow)
		if cal.IsWorkingDay(d) != working {
			t.Errorf("%s (%s): working=%v, want %v", date, d.Weekday(), !working, working)
		}
	}
	check("2030-01-08", false) // New Year holidays
	check("2030-06-12", false) // Wednesday holiday
	check("2029-11-04", false) // Sunday
	check("2029-11-05", false) // Monday: the day off moves (ст. 112)
	check("2029-11-06", true)
	check("2028-01-10", true) // January holidays on a weekend do not move by statute
	// Pre-holiday day in a statutory year is one hour shorter.
	got := cal.WorkingBetween(at(t, moscow, "2030-06-11 00:00"), at(t, moscow, "2030-06-12 00:00"))
	if got != 7*time.Hour {
		t.Errorf("2030-06-11 has %v of work, want 7h", got)
	}
}

func TestParseProductionAndWith(t *testing.T) {
	extra, err := ParseProduction(strings.NewReader(`
# a decree for 2028, invented for the test
year 2028
2028-01-01..2028-01-08 holiday
2028-01-10 off        # moved from Sat Jan 1
2028-03-04 work short as=fri
`), "extra.txt")
	if err != nil {
		t.Fatal(err)
	}
	p := RussianFederal().With(extra)
	if got := p.Years(); len(got) != 4 || got[3] != 2028 {
		t.Errorf("years %v", got)
	}
	cal := eightHour(t, moscow, p)
	if cal.IsWorkingDay(at(t, moscow, "2028-01-10 12:00")) {
		t.Error("2028-01-10 should be off after loading the extra year")
	}
	if got := cal.WorkingBetween(at(t, moscow, "2028-03-04 00:00"), at(t, moscow, "2028-03-05 00:00")); got != 7*time.Hour {
		t.Errorf("working Saturday 2028-03-04: %v, want 7h", got)
	}
	// 2025 still comes from the shipped data.
	if cal.IsWorkingDay(at(t, moscow, "2025-05-08 12:00")) {
		t.Error("2025-05-08 should stay off")
	}
	for _, bad := range []struct{ text, want string }{
		{"2025-13-01 holiday", "bad date"},
		{"2025-01-01", "no kind"},
		{"2025-01-01 party", "unknown day kind"},
		{"2025-01-01 holiday work", "both"},
		{"2025-01-05..2025-01-01 off", "bad range"},
		{"year abc", "bad year"},
		{"2025-11-01 work as=funday", "bad weekday"},
	} {
		_, err := ParseProduction(strings.NewReader("# c\n"+bad.text+"\n"), "x.txt")
		var re *RuleError
		if !errors.As(err, &re) || re.Line != 2 || !strings.Contains(re.Msg, bad.want) {
			t.Errorf("%q: got %v, want a line-2 error about %q", bad.text, err, bad.want)
		}
	}
}

func TestNewCalendarErrors(t *testing.T) {
	if _, err := NewCalendar(CalendarConfig{Name: "empty"}); !errors.Is(err, ErrNoWorkingTime) {
		t.Errorf("empty week: %v", err)
	}
	var w Week
	w[time.Monday] = []Span{{10 * time.Hour, 9 * time.Hour}}
	if _, err := NewCalendar(CalendarConfig{Name: "bad", Week: w}); err == nil {
		t.Error("backwards span accepted")
	}
	w[time.Monday] = []Span{{9 * time.Hour, 13 * time.Hour}, {12 * time.Hour, 14 * time.Hour}}
	if _, err := NewCalendar(CalendarConfig{Name: "overlap", Week: w}); err == nil {
		t.Error("overlapping spans accepted")
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]Duration{
		"4h":           {D: 4 * time.Hour},
		"1h30m":        {D: 90 * time.Minute},
		"3d":           {Days: 3},
		"24h calendar": {D: 24 * time.Hour, CalendarTime: true},
		"2d working":   {Days: 2},
		"0":            {},
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("%q: %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "4", "h", "4x", "4h soon", "4h calendar extra", "-4h", "99999999h"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Across a clock change, working time is still exact: a round-the-clock
// calendar adds real hours, and office hours stay at their wall-clock times.
func TestAddWorkingAcrossClockChange(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no tz database: %v", err)
	}
	duty, err := NewCalendar(CalendarConfig{Name: "duty", Location: berlin, Week: AroundTheClock()})
	if err != nil {
		t.Fatal(err)
	}
	for _, start := range []time.Time{
		time.Date(2025, 3, 29, 12, 0, 0, 0, berlin),  // spring forward on Mar 30
		time.Date(2025, 10, 25, 12, 0, 0, 0, berlin), // fall back on Oct 26
	} {
		for _, d := range []time.Duration{time.Hour, 13 * time.Hour, 24 * time.Hour, 50 * time.Hour} {
			if got, want := duty.AddWorking(start, d), start.Add(d); !got.Equal(want) {
				t.Errorf("%s + %v: %s, want %s", start, d, got, want)
			}
		}
	}
	office := eightHour(t, berlin, nil)
	got := office.AddWorking(time.Date(2025, 3, 28, 17, 0, 0, 0, berlin), 2*time.Hour)
	if want := time.Date(2025, 3, 31, 10, 0, 0, 0, berlin); !got.Equal(want) {
		t.Errorf("office over the clock change: %s, want %s", got, want)
	}
	// On the clock-change day itself office hours keep their wall-clock times.
	var w Week
	w[time.Sunday] = []Span{{9 * time.Hour, 18 * time.Hour}}
	sun, _ := NewCalendar(CalendarConfig{Name: "sun", Location: berlin, Week: w})
	got = sun.AddWorking(time.Date(2025, 3, 30, 0, 30, 0, 0, berlin), time.Hour)
	if want := time.Date(2025, 3, 30, 10, 0, 0, 0, berlin); !got.Equal(want) {
		t.Errorf("Sunday of the change: %s, want %s", got, want)
	}
}
