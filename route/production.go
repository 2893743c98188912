package route

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"maps"
	"strings"
	"sync"
	"time"
)

// dayKind is what a production calendar says about one date, as bit flags
// because a working Saturday may also be a shortened pre-holiday day.
type dayKind uint8

const (
	kindHoliday dayKind = 1 << iota // non-working public holiday
	kindOff                         // non-working by transfer
	kindWork                        // working by transfer (a weekend day)
	kindShort                       // one hour shorter (pre-holiday)
)

type prodDay struct {
	kind    dayKind
	worksAs time.Weekday // whose hours a working weekend day keeps
}

// Production is a production calendar (производственный календарь): public
// holidays, days moved by government decree and shortened pre-holiday days.
// A Production is immutable and safe for concurrent use.
//
// For a year it has data for (a "year" line or any date in it), the data is
// authoritative. For any other year it falls back to the statutory rules of
// the Labour Code: the fixed holidays of ст. 112 ТК РФ, a holiday on a
// weekend moves the day off to the next working day (except 1–8 January),
// and a working day right before a holiday is one hour shorter (ст. 95).
// Decreed transfers cannot be guessed, so load each new year's decree with
// ParseProduction and Production.With.
type Production struct {
	name  string
	days  map[int32]prodDay
	years map[int]bool
}

//go:embed production_ru.txt
var productionRU string

var russianFederal = sync.OnceValue(func() *Production {
	p, err := ParseProduction(strings.NewReader(productionRU), "production_ru.txt")
	if err != nil {
		panic("route: shipped production calendar is invalid: " + err.Error())
	}
	p.name = "ru"
	return p
})

// RussianFederal returns the federal production calendar of Russia with
// decreed data for 2025–2027 (2027 is an assumption until the decree is
// published: see production_ru.txt) and the statutory rules for other years.
func RussianFederal() *Production { return russianFederal() }

// Statutory returns a production calendar with no decreed data at all: only
// the Labour Code's fixed holidays and its automatic rules.
func Statutory() *Production {
	return &Production{name: "statutory", days: map[int32]prodDay{}, years: map[int]bool{}}
}

// Name is the name the calendar was parsed under.
func (p *Production) Name() string { return p.name }

// Years returns the years with decreed data, in ascending order.
func (p *Production) Years() []int {
	var out []int
	for y := range p.years {
		out = append(out, y)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// With returns a new Production with the years of extra replacing or adding
// to the years of p: a year present in extra is taken from extra entirely.
func (p *Production) With(extra *Production) *Production {
	out := &Production{name: p.name, days: maps.Clone(p.days), years: maps.Clone(p.years)}
	for k := range out.days {
		if extra.years[int(k/10000)] {
			delete(out.days, k)
		}
	}
	maps.Copy(out.days, extra.days)
	maps.Copy(out.years, extra.years)
	return out
}

func dateKey(y int, m time.Month, d int) int32 { return int32(y*10000 + int(m)*100 + d) }

// ParseProduction reads a production calendar from the plain format of
// production_ru.txt: blank lines and "#" comments are ignored; "year YYYY"
// declares a year as covered even when it has no special dates; every other
// line is "YYYY-MM-DD[..YYYY-MM-DD] kind [kind...] [as=mon..sun]" with kinds
// holiday, off, work and short. Errors are *RuleError with the line number.
func ParseProduction(r io.Reader, name string) (*Production, error) {
	p := &Production{name: name, days: map[int32]prodDay{}, years: map[int]bool{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	bad := func(format string, args ...any) error {
		return &RuleError{File: name, Line: line, Col: 1, Msg: fmt.Sprintf(format, args...)}
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		if f[0] == "year" {
			if len(f) != 2 {
				return nil, bad("want \"year YYYY\", got %q", strings.TrimSpace(text))
			}
			var y int
			if _, err := fmt.Sscanf(f[1], "%d", &y); err != nil || y < 1900 || y > 9999 {
				return nil, bad("bad year %q", f[1])
			}
			p.years[y] = true
			continue
		}
		from, to, ok := strings.Cut(f[0], "..")
		start, err := time.Parse(time.DateOnly, from)
		if err != nil {
			return nil, bad("bad date %q: want YYYY-MM-DD", from)
		}
		end := start
		if ok {
			if end, err = time.Parse(time.DateOnly, to); err != nil {
				return nil, bad("bad date %q: want YYYY-MM-DD", to)
			}
			if end.Before(start) || end.Sub(start) > 366*24*time.Hour {
				return nil, bad("bad range %q: the end must follow the start within a year", f[0])
			}
		}
		if len(f) < 2 {
			return nil, bad("date %s has no kind (holiday, off, work, short)", f[0])
		}
		var day prodDay
		day.worksAs = time.Monday
		for _, w := range f[1:] {
			switch {
			case w == "holiday":
				day.kind |= kindHoliday
			case w == "off":
				day.kind |= kindOff
			case w == "work":
				day.kind |= kindWork
			case w == "short":
				day.kind |= kindShort
			case strings.HasPrefix(w, "as="):
				wd, ok := parseWeekday(w[3:])
				if !ok {
					return nil, bad("bad weekday %q in %q: want mon..sun", w[3:], w)
				}
				day.worksAs = wd
			default:
				return nil, bad("unknown day kind %q: want holiday, off, work or short", w)
			}
		}
		if day.kind&(kindHoliday|kindOff) != 0 && day.kind&(kindWork|kindShort) != 0 {
			return nil, bad("date %s cannot be both non-working and working", f[0])
		}
		for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
			p.days[dateKey(d.Date())] = day
			p.years[d.Year()] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("route: reading production calendar %s: %w", name, err)
	}
	return p, nil
}

func parseWeekday(s string) (time.Weekday, bool) {
	switch strings.ToLower(s) {
	case "sun", "sunday", "вс":
		return time.Sunday, true
	case "mon", "monday", "пн":
		return time.Monday, true
	case "tue", "tuesday", "вт":
		return time.Tuesday, true
	case "wed", "wednesday", "ср":
		return time.Wednesday, true
	case "thu", "thursday", "чт":
		return time.Thursday, true
	case "fri", "friday", "пт":
		return time.Friday, true
	case "sat", "saturday", "сб":
		return time.Saturday, true
	}
	return 0, false
}

// statutoryHoliday reports the fixed non-working holidays of ст. 112 ТК РФ.
func statutoryHoliday(m time.Month, d int) bool {
	switch m {
	case time.January:
		return d <= 8
	case time.February:
		return d == 23
	case time.March:
		return d == 8
	case time.May:
		return d == 1 || d == 9
	case time.June:
		return d == 12
	case time.November:
		return d == 4
	}
	return false
}

// lookup says what the production calendar makes of a date; ok is false
// for an ordinary day that follows the weekly schedule.
func (p *Production) lookup(y int, m time.Month, d int) (prodDay, bool) {
	if p.years[y] {
		day, ok := p.days[dateKey(y, m, d)]
		return day, ok
	}
	if statutoryHoliday(m, d) {
		return prodDay{kind: kindHoliday}, true
	}
	t := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	wd := t.Weekday()
	if wd == time.Saturday || wd == time.Sunday {
		return prodDay{}, false
	}
	// ст. 112: a holiday (outside 1–8 January) on a weekend moves the day
	// off to the next working day.
	if wd == time.Monday {
		for back := 1; back <= 2; back++ {
			pt := t.AddDate(0, 0, -back)
			if pt.Month() != time.January && statutoryHoliday(pt.Month(), pt.Day()) {
				return prodDay{kind: kindOff}, true
			}
		}
	}
	next := t.AddDate(0, 0, 1)
	if statutoryHoliday(next.Month(), next.Day()) {
		return prodDay{kind: kindShort}, true
	}
	return prodDay{}, false
}
