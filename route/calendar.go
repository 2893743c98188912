package route

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Span is one stretch of working time within a day, as offsets from local
// midnight: {9h, 13h} is 09:00–13:00. To may be 24h (until midnight).
type Span struct {
	From, To time.Duration // offsets from local midnight, From < To ≤ 24h
}

// Week holds the working spans of each weekday, indexed by time.Weekday.
// A weekday with no spans is a day off.
type Week [7][]Span

// CalendarConfig describes a working-time calendar for NewCalendar.
type CalendarConfig struct {
	// Name identifies the calendar in rules and errors.
	Name string
	// Location is the calendar's time zone; working hours are local wall
	// clock. Russia spans eleven zones, so every calendar carries its own.
	// Nil means UTC.
	Location *time.Location
	// Week is the regular weekly schedule.
	Week Week
	// Production adds public holidays, transfers and shortened days; nil
	// means every date follows Week (a round-the-clock duty desk).
	Production *Production
	// PreHolidayCut is how much shorter a pre-holiday day is; zero means
	// one hour (ст. 95 ТК РФ).
	PreHolidayCut time.Duration
}

// Calendar counts working time: working hours of each weekday in one time
// zone, with holidays, transferred days and shortened pre-holiday days from
// a Production. A Calendar is immutable and safe for concurrent use; its
// methods do not allocate.
type Calendar struct {
	name  string
	loc   *time.Location
	week  Week
	prod  *Production
	cut   time.Duration
	daily time.Duration // working time of the longest weekday, the length of "1d"
}

// ErrNoWorkingTime is returned by NewCalendar for a schedule without any
// working hours: no deadline could ever be reached in it.
var ErrNoWorkingTime = errors.New("route: calendar has no working hours")

// NewCalendar checks c and builds a Calendar. Spans of a day must be
// ordered, non-overlapping and within 0..24h.
func NewCalendar(c CalendarConfig) (*Calendar, error) {
	cal := &Calendar{name: c.Name, loc: c.Location, prod: c.Production, cut: c.PreHolidayCut}
	if cal.loc == nil {
		cal.loc = time.UTC
	}
	if cal.cut <= 0 {
		cal.cut = time.Hour
	}
	for wd, spans := range c.Week {
		var total, prev time.Duration
		for i, s := range spans {
			if s.From < 0 || s.To > 24*time.Hour || s.From >= s.To {
				return nil, fmt.Errorf("route: calendar %q: %s span %d: %s–%s is not a range within a day", c.Name, time.Weekday(wd), i+1, clock(s.From), clock(s.To))
			}
			if s.From < prev {
				return nil, fmt.Errorf("route: calendar %q: %s span %d starts at %s, before the previous one ends", c.Name, time.Weekday(wd), i+1, clock(s.From))
			}
			prev = s.To
			total += s.To - s.From
		}
		cal.week[wd] = append([]Span(nil), spans...)
		cal.daily = max(cal.daily, total)
	}
	if cal.daily == 0 {
		return nil, fmt.Errorf("route: calendar %q: %w", c.Name, ErrNoWorkingTime)
	}
	return cal, nil
}

// OfficeWeek is the usual schedule of a Russian state body: Monday–Thursday
// 09:00–18:00, Friday 09:00–16:45, lunch 13:00–13:45 — 40 hours a week.
func OfficeWeek() Week {
	long := []Span{{9 * time.Hour, 13 * time.Hour}, {13*time.Hour + 45*time.Minute, 18 * time.Hour}}
	fri := []Span{{9 * time.Hour, 13 * time.Hour}, {13*time.Hour + 45*time.Minute, 16*time.Hour + 45*time.Minute}}
	var w Week
	for d := time.Monday; d <= time.Thursday; d++ {
		w[d] = long
	}
	w[time.Friday] = fri
	return w
}

// AroundTheClock is a schedule with every hour of every day working, for
// duty desks and calendar-time deadlines.
func AroundTheClock() Week {
	var w Week
	for d := range w {
		w[d] = []Span{{0, 24 * time.Hour}}
	}
	return w
}

// Name returns the calendar's name.
func (c *Calendar) Name() string { return c.name }

// In returns the calendar with the same hours and holidays kept in another
// time zone: an office in Krasnoyarsk works 9 to 18 Krasnoyarsk time. The
// receiver is unchanged; a nil loc returns it as is.
func (c *Calendar) In(loc *time.Location) *Calendar {
	if loc == nil || loc == c.loc {
		return c
	}
	cp := *c
	cp.loc = loc
	return &cp
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// DayLength is the working time of the longest weekday; a "1d" working
// duration means this much working time.
func (c *Calendar) DayLength() time.Duration { return c.daily }

// spans returns the working spans of a local date and how much the last of
// them is cut short.
func (c *Calendar) spans(y int, m time.Month, d int, wd time.Weekday) ([]Span, time.Duration) {
	if c.prod == nil {
		return c.week[wd], 0
	}
	day, special := c.prod.lookup(y, m, d)
	if !special {
		return c.week[wd], 0
	}
	if day.kind&(kindHoliday|kindOff) != 0 {
		return nil, 0
	}
	spans := c.week[wd]
	if day.kind&kindWork != 0 {
		spans = c.week[day.worksAs]
		if len(spans) == 0 {
			spans = c.week[time.Monday]
		}
	}
	if day.kind&kindShort != 0 {
		return spans, c.cut
	}
	return spans, 0
}

// daySpan yields the i-th span of a day with the pre-holiday cut applied to
// the end of the day; ok is false when the span was cut away entirely.
func daySpan(spans []Span, cut time.Duration, i int) (Span, bool) {
	s := spans[i]
	if cut == 0 {
		return s, true
	}
	// Remove cut from the end of the day, last span first.
	for j := len(spans) - 1; j > i && cut > 0; j-- {
		cut -= spans[j].To - spans[j].From
	}
	if cut <= 0 {
		return s, true
	}
	if s.To-cut <= s.From {
		return Span{}, false
	}
	s.To -= cut
	return s, true
}

// IsWorkingDay reports whether the local date of t has working hours.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	t = t.In(c.loc)
	y, m, d := t.Date()
	spans, _ := c.spans(y, m, d, t.Weekday())
	return len(spans) > 0
}

// IsWorkingTime reports whether t falls within working hours.
func (c *Calendar) IsWorkingTime(t time.Time) bool {
	t = t.In(c.loc)
	y, m, d := t.Date()
	spans, cut := c.spans(y, m, d, t.Weekday())
	for i := range spans {
		s, ok := daySpan(spans, cut, i)
		if !ok {
			continue
		}
		from := time.Date(y, m, d, 0, 0, 0, int(s.From), c.loc)
		to := time.Date(y, m, d, 0, 0, 0, int(s.To), c.loc)
		if !t.Before(from) && t.Before(to) {
			return true
		}
	}
	return false
}

// maxScanDays bounds every walk over days, so a calendar whose production
// data closes every day cannot loop forever.
const maxScanDays = 3 * 366

// AddWorking returns the moment when d of working time has passed after t:
// the deadline of a reply due within d working hours of t. Time outside
// working hours does not count, so an appeal received on Friday evening
// with 4 working hours is due at 13:00 on Monday (or later after a
// holiday). A result falling exactly at the end of a working span is that
// end ("by 18:00"). If no working time exists within three years, the
// result is t+d in calendar time.
func (c *Calendar) AddWorking(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	local := t.In(c.loc)
	y, m, dd := local.Date()
	left := d
	wd := local.Weekday()
	for range maxScanDays {
		spans, cut := c.spans(y, m, dd, wd)
		var day localDay
		if len(spans) > 0 {
			day = c.day(y, m, dd)
		}
		for i := range spans {
			s, ok := daySpan(spans, cut, i)
			if !ok {
				continue
			}
			to := day.at(s.To)
			if !to.After(local) {
				continue
			}
			from := day.at(s.From)
			if from.Before(local) {
				from = local
			}
			if avail := to.Sub(from); left <= avail {
				return from.Add(left)
			} else {
				left -= avail
			}
		}
		y, m, dd = nextDate(y, m, dd)
		wd = (wd + 1) % 7
	}
	return t.Add(d)
}

// localDay turns offsets from local midnight into instants for one date.
type localDay struct {
	y      int
	m      time.Month
	d      int
	loc    *time.Location
	mid    time.Time
	steady bool // no clock change that day: midnight plus offset is exact
}

func (c *Calendar) day(y int, m time.Month, d int) localDay {
	mid := time.Date(y, m, d, 0, 0, 0, 0, c.loc)
	_, o1 := mid.Zone()
	_, o2 := mid.Add(24 * time.Hour).Zone()
	return localDay{y: y, m: m, d: d, loc: c.loc, mid: mid, steady: o1 == o2}
}

// at returns the instant when the local wall clock shows off past
// midnight. On a day the clocks change, it goes through time.Date, which
// resolves wall-clock times exactly.
func (ld localDay) at(off time.Duration) time.Time {
	if ld.steady {
		return ld.mid.Add(off)
	}
	return time.Date(ld.y, ld.m, ld.d, 0, 0, 0, int(off), ld.loc)
}

// WorkingBetween returns the working time between a and b (zero when b is
// not after a), for measuring how long an executor took to answer.
func (c *Calendar) WorkingBetween(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	local := a.In(c.loc)
	y, m, dd := local.Date()
	var total time.Duration
	for range 40 * 366 {
		day := time.Date(y, m, dd, 0, 0, 0, 0, c.loc)
		if !day.Before(b) {
			break
		}
		spans, cut := c.spans(y, m, dd, day.Weekday())
		for i := range spans {
			s, ok := daySpan(spans, cut, i)
			if !ok {
				continue
			}
			from := time.Date(y, m, dd, 0, 0, 0, int(s.From), c.loc)
			to := time.Date(y, m, dd, 0, 0, 0, int(s.To), c.loc)
			if from.Before(a) {
				from = a
			}
			if to.After(b) {
				to = b
			}
			if to.After(from) {
				total += to.Sub(from)
			}
		}
		next := time.Date(y, m, dd+1, 0, 0, 0, 0, c.loc)
		y, m, dd = next.Date()
	}
	return total
}

// clock formats an offset from midnight as HH:MM.
func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// parseClock reads "HH:MM" (00:00..24:00) as an offset from midnight.
func parseClock(s string) (time.Duration, bool) {
	h, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(mm) != 2 || len(h) == 0 || len(h) > 2 {
		return 0, false
	}
	hi, err1 := strconv.Atoi(h)
	mi, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || hi < 0 || mi < 0 || mi > 59 || hi > 24 || (hi == 24 && mi != 0) {
		return 0, false
	}
	return time.Duration(hi)*time.Hour + time.Duration(mi)*time.Minute, true
}

// parseSpans reads "09:00-13:00, 13:45-18:00" (or "off").
func parseSpans(s string) ([]Span, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "" {
		return nil, nil
	}
	var out []Span
	for part := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		a, b, ok := strings.Cut(part, "-")
		if !ok {
			return nil, fmt.Errorf("bad hours %q: want HH:MM-HH:MM", part)
		}
		from, ok1 := parseClock(a)
		to, ok2 := parseClock(b)
		if !ok1 || !ok2 || from >= to {
			return nil, fmt.Errorf("bad hours %q: want HH:MM-HH:MM with the start before the end", part)
		}
		if len(out) > 0 && from < out[len(out)-1].To {
			return nil, fmt.Errorf("hours %q overlap or are out of order", part)
		}
		out = append(out, Span{from, to})
	}
	return out, nil
}

// nextDate returns the civil date after y-m-d without touching time zones.
func nextDate(y int, m time.Month, d int) (int, time.Month, int) {
	if d < 28 {
		return y, m, d + 1
	}
	t := time.Date(y, m, d+1, 12, 0, 0, 0, time.UTC)
	return t.Date()
}
