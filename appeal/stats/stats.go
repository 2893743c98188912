// Package stats computes the figures a regional centre reports every week:
// appeal counts by municipality × topic × week with shares and week-over-week
// change, top topics, seasonality, response-time percentiles in working
// hours, the share answered within the deadline per executor, overdue and
// reopened appeals, a ranking of executors, and the share of answers that are
// «отписки» (formal answers with no action, date or responsible person; see
// CheckReply).
//
//	appeals, err := store.List(ctx, appeal.Filter{})
//	if err != nil {
//		return err
//	}
//	r := stats.FromSlice(appeals, stats.Config{Now: time.Now(), Location: moscow,
//		Hours: stats.WorkingFunc(calendar.WorkingBetween)}) // response times in working hours
//	fmt.Println(r.Total, r.OnTimeShare, r.Response)
//	err = report.WriteHTML(w, r, report.Options{Title: "Неделя 47"}) // appeal/report renders it
//	ratings := stats.Rate(appeals, stats.RatingConfig{})              // per executor and municipality
//
// A Collector takes appeals one at a time (from a slice, a Store page by
// page, or a stream) and keeps only aggregates, so one pass over any number of
// appeals is enough; only the response times themselves are kept, to give
// exact percentiles.
package stats

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// WorkingHours measures how much working time lies between two instants.
// route.Calendar (a production calendar with holidays and shortened days)
// satisfies it; CalendarTime is the plain wall-clock default.
// Implementations must be safe for concurrent use.
type WorkingHours interface {
	WorkingDuration(from, to time.Time) time.Duration
}

// CalendarTime counts every hour as a working hour: WorkingDuration is
// to − from, never negative.
type CalendarTime struct{}

// WorkingDuration returns to − from, or 0 when to is before from.
func (CalendarTime) WorkingDuration(from, to time.Time) time.Duration {
	if to.Before(from) {
		return 0
	}
	return to.Sub(from)
}

// Labels used for appeals that lack a field, so they are still counted.
const (
	// NoTopic is the topic of an unclassified appeal.
	NoTopic = "other"
	// NoMunicipality is the municipality of an appeal with none resolved.
	NoMunicipality = "—"
	// NoExecutor is the executor of an appeal that was never routed.
	NoExecutor = "—"
)

// Config tunes a Collector. The zero value works: calendar time, UTC weeks,
// "now" taken when the Collector is created, replies checked for «отписки».
type Config struct {
	// Now is the instant "overdue now" is measured at. Zero means time.Now()
	// when New is called; set it for reproducible reports.
	Now time.Time
	// Hours measures response times; nil means CalendarTime.
	Hours WorkingHours
	// Location decides where weeks (starting on Monday) and months begin;
	// nil means UTC. Regional reports usually want the region's zone.
	Location *time.Location
	// SkipReplyCheck turns off the «отписка» check of answers (it costs a
	// scan of every reply text).
	SkipReplyCheck bool
	// FormalBelow is the CheckReply score under which an answer counts as an
	// «отписка»; 0 means DefaultFormalBelow.
	FormalBelow float64
}

// DefaultFormalBelow is the default score threshold of an «отписка».
const DefaultFormalBelow = 0.45

type cellKey struct {
	municipality, topic string
	week                int64 // Unix seconds of the week start
}

type topicWeekKey struct {
	topic string
	week  int64
}

type execAcc struct {
	assigned, answered, withDeadline, onTime, overdue, formal, checked, reopened int
	durations                                                                    []time.Duration
	loop                                                                         loopAcc
}

// Collector aggregates appeals in a single pass. It is safe for concurrent
// use; Add from many goroutines is serialised.
type Collector struct {
	mu    sync.Mutex
	cfg   Config
	now   time.Time
	hours WorkingHours
	loc   *time.Location

	total        int
	cells        map[cellKey]int
	topicWeeks   map[topicWeekKey]int
	weeks        map[int64]int
	topics       map[string]int
	munis        map[string]int
	months       map[int64]int // Unix seconds of the month start
	calMonths    [12]int
	statuses     map[appeal.Status]int
	execs        map[string]*execAcc
	durations    []time.Duration
	overdue      int
	reopened     int
	answered     int
	formal       int
	checked      int
	withDeadline int
	onTime       int
	loop         loopAcc
	first, last  time.Time
	// verdicts caches CheckReply by reply text: executors answer with
	// the same stock texts over and over, and «отписки» most of all.
	verdicts map[string]bool
	scratch  scratch
}

// maxVerdicts bounds the verdict cache; past it, texts are checked anew.
const maxVerdicts = 1 << 14

// New returns an empty Collector.
func New(cfg Config) *Collector {
	c := &Collector{
		cfg:        cfg,
		now:        cfg.Now,
		hours:      cfg.Hours,
		loc:        cfg.Location,
		cells:      make(map[cellKey]int),
		topicWeeks: make(map[topicWeekKey]int),
		weeks:      make(map[int64]int),
		topics:     make(map[string]int),
		munis:      make(map[string]int),
		months:     make(map[int64]int),
		statuses:   make(map[appeal.Status]int),
		execs:      make(map[string]*execAcc),
		verdicts:   make(map[string]bool),
	}
	if c.now.IsZero() {
		c.now = time.Now()
	}
	if c.hours == nil {
		c.hours = CalendarTime{}
	}
	if c.loc == nil {
		c.loc = time.UTC
	}
	if c.cfg.FormalBelow == 0 {
		c.cfg.FormalBelow = DefaultFormalBelow
	}
	return c
}

// WeekStart returns midnight of the Monday that begins the week of t in loc.
func WeekStart(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
	y, m, d := t.Date()
	return time.Date(y, m, d-wd, 0, 0, 0, 0, loc)
}

// Add counts one appeal. Appeals without CreatedAt fall back to ReceivedAt;
// with neither they are counted in totals but not in weeks or months.
func (c *Collector) Add(a *appeal.Appeal) {
	c.mu.Lock()
	c.add(a)
	c.mu.Unlock()
}

// AddAll counts every appeal of s.
func (c *Collector) AddAll(s []appeal.Appeal) {
	c.mu.Lock()
	for i := range s {
		c.add(&s[i])
	}
	c.mu.Unlock()
}

func (c *Collector) add(a *appeal.Appeal) {
	c.total++
	topic := a.TopTopic()
	if topic == "" {
		topic = NoTopic
	}
	muni := a.Municipality
	if muni == "" {
		muni = NoMunicipality
	}
	c.topics[topic]++
	c.munis[muni]++
	c.statuses[a.Status]++

	created := a.CreatedAt
	if created.IsZero() {
		created = a.ReceivedAt
	}
	if !created.IsZero() {
		if c.first.IsZero() || created.Before(c.first) {
			c.first = created
		}
		if created.After(c.last) {
			c.last = created
		}
		lt := created.In(c.loc)
		w := WeekStart(lt, c.loc).Unix()
		c.cells[cellKey{muni, topic, w}]++
		c.topicWeeks[topicWeekKey{topic, w}]++
		c.weeks[w]++
		y, m, _ := lt.Date()
		c.months[time.Date(y, m, 1, 0, 0, 0, 0, c.loc).Unix()]++
		c.calMonths[m-1]++
	}

	execName := a.Executor()
	if execName == "" {
		execName = NoExecutor
	}
	e := c.execs[execName]
	if e == nil {
		e = &execAcc{}
		c.execs[execName] = e
	}
	if a.Assignment != nil {
		e.assigned++
	}
	if wasReopened(a) {
		c.reopened++
		e.reopened++
	}
	if a.Overdue(c.now) {
		c.overdue++
		e.overdue++
	}
	c.loop.add(a, created, c.now, c.hours)
	e.loop.add(a, created, c.now, c.hours)
	if len(a.Replies) > 0 {
		first := a.Replies[0].At
		for _, r := range a.Replies[1:] {
			if r.At.Before(first) {
				first = r.At
			}
		}
		c.answered++
		e.answered++
		if !created.IsZero() && !first.IsZero() {
			d := c.hours.WorkingDuration(created, first)
			c.durations = append(c.durations, d)
			e.durations = append(e.durations, d)
		}
		if dl := a.Deadline(); !dl.IsZero() && !first.IsZero() {
			c.withDeadline++
			e.withDeadline++
			if !first.After(dl) {
				c.onTime++
				e.onTime++
			}
		}
		if !c.cfg.SkipReplyCheck {
			// The last answer is the one the citizen was left with.
			last := a.Replies[len(a.Replies)-1]
			c.checked++
			e.checked++
			if c.isFormal(last.Text) {
				c.formal++
				e.formal++
			}
		}
	} else if dl := a.Deadline(); !dl.IsZero() && c.now.After(dl) {
		// Due and never answered: it counts against the executor's
		// on-time share even if its status no longer awaits an answer.
		c.withDeadline++
		e.withDeadline++
	}
}

func (c *Collector) isFormal(text string) bool {
	if f, ok := c.verdicts[text]; ok {
		return f
	}
	f := replyScore(text, &c.scratch) < c.cfg.FormalBelow
	if len(c.verdicts) < maxVerdicts {
		c.verdicts[text] = f
	}
	return f
}

func wasReopened(a *appeal.Appeal) bool {
	if a.Status == appeal.StatusReopened {
		return true
	}
	for _, ev := range a.History {
		if ev.To == appeal.StatusReopened {
			return true
		}
	}
	return false
}

// Report returns the figures for everything added so far. The Collector
// stays usable; later Adds do not change a returned Report.
func (c *Collector) Report() *Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &Report{
		Now:      c.now,
		Location: c.loc,
		Total:    c.total,
		First:    c.first,
		Last:     c.last,
		Overdue:  c.overdue,
		Reopened: c.reopened,
		Answered: c.answered,
		Formal:   c.formal,
		Checked:  c.checked,
		Statuses: make(map[appeal.Status]int, len(c.statuses)),
	}
	for s, n := range c.statuses {
		r.Statuses[s] = n
	}
	r.ReopenedShare = share(c.reopened, c.total)
	r.FormalShare = share(c.formal, c.checked)
	r.OnTimeShare = share(c.onTime, c.withDeadline)

	for w := range c.weeks {
		r.Weeks = append(r.Weeks, time.Unix(w, 0).In(c.loc))
	}
	slices.SortFunc(r.Weeks, func(a, b time.Time) int { return a.Compare(b) })
	r.WeekTotals = make([]int, len(r.Weeks))
	weekIdx := make(map[int64]int, len(r.Weeks))
	for i, w := range r.Weeks {
		weekIdx[w.Unix()] = i
		r.WeekTotals[i] = c.weeks[w.Unix()]
	}

	for k, n := range c.cells {
		cell := Cell{Municipality: k.municipality, Topic: k.topic, Week: time.Unix(k.week, 0).In(c.loc), Count: n}
		i := weekIdx[k.week]
		cell.Share = share(n, r.WeekTotals[i])
		if i > 0 {
			cell.HasPrevious = true
			cell.Previous = c.cells[cellKey{k.municipality, k.topic, r.Weeks[i-1].Unix()}]
			cell.Change = n - cell.Previous
		}
		r.Cells = append(r.Cells, cell)
	}
	slices.SortFunc(r.Cells, func(a, b Cell) int {
		return cmp.Or(a.Week.Compare(b.Week), cmp.Compare(a.Municipality, b.Municipality), cmp.Compare(a.Topic, b.Topic))
	})

	for k, n := range c.topicWeeks {
		tw := TopicWeek{Topic: k.topic, Week: time.Unix(k.week, 0).In(c.loc), Count: n}
		i := weekIdx[k.week]
		tw.Share = share(n, r.WeekTotals[i])
		if i > 0 {
			tw.HasPrevious = true
			prev := c.topicWeeks[topicWeekKey{k.topic, r.Weeks[i-1].Unix()}]
			tw.Previous = prev
			tw.Change = n - prev
			if prev > 0 {
				tw.ChangePct = 100 * float64(n-prev) / float64(prev)
			} else {
				tw.ChangePct = math.Inf(1)
			}
		}
		r.TopicWeeks = append(r.TopicWeeks, tw)
	}
	slices.SortFunc(r.TopicWeeks, func(a, b TopicWeek) int {
		return cmp.Or(a.Week.Compare(b.Week), cmp.Compare(b.Count, a.Count), cmp.Compare(a.Topic, b.Topic))
	})

	r.Topics = counted(c.topics, c.total)
	r.Municipalities = counted(c.munis, c.total)

	for m, n := range c.months {
		r.Months = append(r.Months, MonthCount{Month: time.Unix(m, 0).In(c.loc), Count: n})
	}
	slices.SortFunc(r.Months, func(a, b MonthCount) int { return a.Month.Compare(b.Month) })
	r.Seasonality = c.calMonths

	r.Response = percentiles(c.durations)
	r.Loop = c.loop.figures()

	for name, e := range c.execs {
		es := ExecutorStats{
			Executor:     name,
			Assigned:     e.assigned,
			Answered:     e.answered,
			WithDeadline: e.withDeadline,
			OnTime:       e.onTime,
			OnTimeShare:  share(e.onTime, e.withDeadline),
			Overdue:      e.overdue,
			Reopened:     e.reopened,
			Formal:       e.formal,
			FormalShare:  share(e.formal, e.checked),
			Response:     percentiles(e.durations),
			Loop:         e.loop.figures(),
		}
		r.Executors = append(r.Executors, es)
	}
	slices.SortFunc(r.Executors, compareExecutors)
	for i := range r.Executors {
		r.Executors[i].Rank = i + 1
	}
	return r
}

// compareExecutors ranks executors: the higher on-time share first, then
// fewer overdue, fewer «отписки», faster median answer, more answers, name.
// Executors with nothing due yet rank after those measured.
func compareExecutors(a, b ExecutorStats) int {
	am, bm := a.WithDeadline > 0, b.WithDeadline > 0
	if am != bm {
		if am {
			return -1
		}
		return 1
	}
	return cmp.Or(
		cmp.Compare(b.OnTimeShare, a.OnTimeShare),
		cmp.Compare(a.Overdue, b.Overdue),
		cmp.Compare(a.FormalShare, b.FormalShare),
		cmp.Compare(a.Response.P50, b.Response.P50),
		cmp.Compare(b.Answered, a.Answered),
		cmp.Compare(a.Executor, b.Executor),
	)
}

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

func counted(m map[string]int, total int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{Name: k, Count: n, Share: share(n, total)})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name)) })
	return out
}

// ResponseBuckets are the upper bounds of the response-time histogram in
// Response.Buckets; the last bucket is open-ended.
var responseBuckets = []time.Duration{time.Hour, 4 * time.Hour, 8 * time.Hour, 24 * time.Hour, 48 * time.Hour, 72 * time.Hour, 7 * 24 * time.Hour}

// ResponseBucketBounds returns the upper bounds of the response-time
// histogram buckets (a fresh slice); Response.Buckets has one more, open,
// bucket after the last bound.
func ResponseBucketBounds() []time.Duration { return slices.Clone(responseBuckets) }

// percentiles sorts d in place and reads the nearest-rank percentiles.
func percentiles(d []time.Duration) Response {
	r := Response{Count: len(d), Buckets: make([]int, len(responseBuckets)+1)}
	if len(d) == 0 {
		return r
	}
	slices.Sort(d)
	r.P50, r.P90, r.P99 = nearestRank(d, 50), nearestRank(d, 90), nearestRank(d, 99)
	r.Max = d[len(d)-1]
	var sum time.Duration
	b := 0
	for _, x := range d {
		sum += x
		for b < len(responseBuckets) && x > responseBuckets[b] {
			b++
		}
		r.Buckets[b]++
	}
	r.Mean = sum / time.Duration(len(d))
	return r
}

// nearestRank is the smallest value with at least p% of sorted d at or below.
func nearestRank(d []time.Duration, p int) time.Duration {
	i := (p*len(d)+99)/100 - 1
	return d[max(i, 0)]
}

// FromSlice is a one-shot Collector over s.
func FromSlice(s []appeal.Appeal, cfg Config) *Report {
	c := New(cfg)
	c.AddAll(s)
	return c.Report()
}

// DefaultPageSize is how many appeals FromStore asks the store for at once.
const DefaultPageSize = 1000

// FromStore reads the appeals that match f from st page by page (keeping at
// most one page in memory besides the aggregates) and reports on them.
// f.Limit, when set, caps the total read; paging fields of f are used as the
// starting point.
func FromStore(ctx context.Context, st appeal.Store, f appeal.Filter, cfg Config) (*Report, error) {
	c := New(cfg)
	limit := f.Limit
	read := 0
	for {
		page := f
		page.Limit = DefaultPageSize
		if limit > 0 {
			page.Limit = min(page.Limit, limit-read)
		}
		list, err := st.List(ctx, page)
		if err != nil {
			return nil, fmt.Errorf("stats: list appeals after %q: %w", f.AfterID, err)
		}
		c.AddAll(list)
		read += len(list)
		if len(list) < page.Limit || (limit > 0 && read >= limit) {
			break
		}
		lastA := list[len(list)-1]
		f.AfterCreated, f.AfterID = lastA.CreatedAt, lastA.ID
	}
	return c.Report(), nil
}

// WorkingFunc adapts a function to WorkingHours, so a production calendar
// with a differently named method plugs in directly:
//
//	stats.Config{Hours: stats.WorkingFunc(cal.WorkingBetween)}
type WorkingFunc func(from, to time.Time) time.Duration

// WorkingDuration calls f.
func (f WorkingFunc) WorkingDuration(from, to time.Time) time.Duration { return f(from, to) }
