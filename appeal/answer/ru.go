package answer

import (
	"strconv"
	"time"

	"github.com/appealkit/appealkit/route"
)

var monthsGenitive = [...]string{"января", "февраля", "марта", "апреля", "мая", "июня",
	"июля", "августа", "сентября", "октября", "ноября", "декабря"}

// FormatDate writes t as Russian day and month in the genitive: «3
// декабря». The zero time gives "".
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.Itoa(t.Day()) + " " + monthsGenitive[t.Month()-1]
}

// FormatDateYear is FormatDate with the year: «3 декабря 2026 г.».
func FormatDateYear(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return FormatDate(t) + " " + strconv.Itoa(t.Year()) + " г."
}

// Plural returns n with the Russian form of the noun that agrees with it:
// Plural(1, "день", "дня", "дней") is «1 день», 2 → «2 дня», 5 → «5 дней»,
// 11 → «11 дней», 21 → «21 день».
func Plural(n int, one, few, many string) string {
	return strconv.Itoa(n) + " " + PluralWord(n, one, few, many)
}

// PluralWord is Plural without the number.
func PluralWord(n int, one, few, many string) string {
	if n < 0 {
		n = -n
	}
	switch d10, d100 := n%10, n%100; {
	case d100 >= 11 && d100 <= 14:
		return many
	case d10 == 1:
		return one
	case d10 >= 2 && d10 <= 4:
		return few
	}
	return many
}

// AddWorkingDays returns the date n working days after t in cal: the
// working days after t's own date are counted, so an appeal answered on
// Friday 27 November with 3 working days is due on Wednesday 2 December.
// The result is the end of that day (23:59:59 local time), so that "by 2
// December" includes the whole day. A nil calendar counts Monday to
// Friday.
func AddWorkingDays(cal *route.Calendar, t time.Time, n int) time.Time {
	loc := t.Location()
	if cal != nil {
		loc = cal.Location()
	}
	d := t.In(loc)
	d = time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, loc)
	for i := 0; i < n; {
		d = d.AddDate(0, 0, 1)
		if working(cal, d) {
			i++
		}
		if d.Sub(t) > 5*366*24*time.Hour {
			break // a calendar with no working days at all
		}
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, loc)
}

func working(cal *route.Calendar, d time.Time) bool {
	if cal != nil {
		return cal.IsWorkingDay(d)
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}
