package web

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
)

// maxQueueRows caps one queue page; narrow the filters to see the rest.
const maxQueueRows = 300

// Status filter values beyond the single statuses. The queue's default
// ("") is the open work, as filterOpen; every appeal, handled ones
// included, is a choice (filterAll), since it reads all of them.
const (
	filterOpen    = "open"    // still owes the citizen an answer
	filterOverdue = "overdue" // owes it past the deadline
	filterAll     = "all"     // every status
)

// awaitingStatuses are the statuses that still owe an answer.
var awaitingStatuses = func() (out []appeal.Status) {
	for _, st := range appeal.AllStatuses() {
		if st.AwaitsAnswer() {
			out = append(out, st)
		}
	}
	return out
}()

type queueRow struct {
	A        appeal.Appeal
	Excerpt  string
	Deadline string
	Left     string
	Overdue  bool
	Open     bool
}

type option struct{ Value, Label string }

type queueData struct {
	Rows      []queueRow
	Shown     int
	Total     int
	Truncated bool
	Counts    counts
	// Filters as chosen.
	Municipality, Topic, Executor, Network, Status string
	// Options of each filter, from the appeals the user may see.
	Municipalities, Topics, Executors, Networks, Statuses []option
	FixedExecutor                                         string
	// RefreshMillis is the counts' refresh period for the script.
	RefreshMillis int64
	// Answer filters by the state of a draft answer (on review, returned,
	// approved) on the listed appeals; OnReview and Returned count the
	// drafts in those states on the open work the user may see.
	Answer             string
	AnswerStates       []option
	OnReview, Returned int
}

// counts are the figures a centre keeps on its screens.
type counts struct {
	Open    int `json:"open"`
	Overdue int `json:"overdue"`
	Handled int `json:"handled"`
	Total   int `json:"total"`
}

// countsJSON serves the live counts for the queue's refresh script.
func (s *Server) countsJSON(q *req) {
	c, err := s.countsFor(q.r.Context(), q.user, s.now())
	if err != nil {
		s.fail(q, err)
		return
	}
	q.w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(q.w).Encode(c)
}

// countsFor is the figures over the appeals u may see, counted by the
// store (appeal.Count: three COUNT queries on the SQL stores) instead of
// read: every open queue asks for them every RefreshEvery. Handled is
// everything that no longer awaits an answer.
func (s *Server) countsFor(ctx context.Context, u *User, now time.Time) (counts, error) {
	f, ok := visibleFilter(u, appeal.Filter{})
	if !ok {
		return counts{}, nil
	}
	var c counts
	var err error
	open := f
	open.Statuses = awaitingStatuses
	if c.Open, err = appeal.Count(ctx, s.cfg.Store, open); err != nil {
		return counts{}, err
	}
	overdue := f
	overdue.OverdueAt = now
	if c.Overdue, err = appeal.Count(ctx, s.cfg.Store, overdue); err != nil {
		return counts{}, err
	}
	return s.withTotal(ctx, u, c)
}

// countsOfWork is the open and overdue figures of the open work as read.
func countsOfWork(work []appeal.Appeal, now time.Time) counts {
	c := counts{Open: len(work)}
	for i := range work {
		if work[i].Overdue(now) {
			c.Overdue++
		}
	}
	return c
}

// withTotal adds to c the total the store counts for u, and what of it is
// handled (no longer awaiting an answer).
func (s *Server) withTotal(ctx context.Context, u *User, c counts) (counts, error) {
	f, ok := visibleFilter(u, appeal.Filter{})
	if !ok {
		return c, nil
	}
	total, err := appeal.Count(ctx, s.cfg.Store, f)
	if err != nil {
		return counts{}, err
	}
	c.Total, c.Handled = total, total-c.Open
	return c, nil
}

func (s *Server) queue(q *req) {
	ctx := q.r.Context()
	now := s.now()
	v := q.r.URL.Query()
	d := queueData{Municipality: v.Get("municipality"), Topic: v.Get("topic"), Executor: v.Get("executor"),
		Network: v.Get("network"), Status: v.Get("status"), RefreshMillis: s.cfg.RefreshEvery.Milliseconds()}
	if q.user.Role == RoleOperator {
		d.FixedExecutor = s.executorName(q.user.Executor)
	}
	// The open work: the figures, the filters' choices and the drafts to
	// count come from it, and it is the default view. Only a view that
	// asks for more (handled appeals) reads more.
	work, err := s.visible(ctx, q.user, appeal.Filter{Statuses: awaitingStatuses})
	if err != nil {
		s.fail(q, err)
		return
	}
	if d.Counts, err = s.withTotal(ctx, q.user, countsOfWork(work, now)); err != nil {
		s.fail(q, err)
		return
	}
	s.fillOptions(&d, work)
	list := work
	if !d.openWork() {
		if list, err = s.visible(ctx, q.user, d.filter(now)); err != nil {
			s.fail(q, err)
			return
		}
	}
	if s.cfg.Answers != nil {
		d.Answer = v.Get("answer")
		for _, st := range []appeal.AnswerState{appeal.AnswerOnReview, appeal.AnswerReturned, appeal.AnswerApproved} {
			d.AnswerStates = append(d.AnswerStates, option{string(st), answer.StateName(st)})
		}
		// Drafts wait for review or rework on appeals that still owe
		// an answer.
		for i := range work {
			for _, dr := range work[i].Drafts {
				switch dr.State {
				case appeal.AnswerOnReview:
					d.OnReview++
				case appeal.AnswerReturned:
					d.Returned++
				}
			}
		}
	}

	// Sort and cut first, then compute the working time left only for
	// the rows shown: that is the costly part of a row.
	var match []*appeal.Appeal
	for i := range list {
		if d.matches(&list[i], now) && (d.Answer == "" || hasDraft(&list[i], appeal.AnswerState(d.Answer))) {
			match = append(match, &list[i])
		}
	}
	d.Total = len(match)
	sort.SliceStable(match, func(i, j int) bool {
		a, b := match[i], match[j]
		if oa, ob := a.Status.AwaitsAnswer(), b.Status.AwaitsAnswer(); oa != ob {
			return oa
		}
		da, db := a.Deadline(), b.Deadline()
		if da.IsZero() != db.IsZero() {
			return db.IsZero()
		}
		if !da.Equal(db) {
			return da.Before(db)
		}
		return appeal.Less(a, b)
	})
	if len(match) > maxQueueRows {
		match, d.Truncated = match[:maxQueueRows], true
	}
	d.Rows = make([]queueRow, 0, len(match))
	for _, a := range match {
		d.Rows = append(d.Rows, s.row(a, now))
	}
	d.Shown = len(d.Rows)
	p := page{Title: "Очередь обращений", User: q.user, CSRF: q.sess.csrf, Flash: s.sessions.takeFlash(q.sess),
		Nav: "queue", Refresh: true, Data: d}
	s.render(q.w, q.r, http.StatusOK, "queue", p)
}

// matches applies the queue's filters, the same ones appeal.Filter has,
// plus "open" and "overdue".
func (d *queueData) matches(a *appeal.Appeal, now time.Time) bool {
	switch {
	case d.Municipality != "" && a.Municipality != d.Municipality:
		return false
	case d.Topic != "" && !a.MatchesTopic(d.Topic):
		return false
	case d.Executor != "" && a.Executor() != d.Executor:
		return false
	case d.Network != "" && string(a.Network) != d.Network:
		return false
	}
	switch d.Status {
	case filterAll:
		return true
	case "", filterOpen:
		return a.Status.AwaitsAnswer()
	case filterOverdue:
		return a.Overdue(now)
	}
	return string(a.Status) == d.Status
}

// filter is matches as a store filter, so that the store reads only the
// appeals the queue shows.
func (d *queueData) filter(now time.Time) appeal.Filter {
	f := appeal.Filter{Municipality: d.Municipality, Topic: d.Topic, Executor: d.Executor, Network: appeal.Network(d.Network)}
	switch d.Status {
	case filterAll:
	case "", filterOpen:
		f.Statuses = awaitingStatuses
	case filterOverdue:
		f.OverdueAt = now
	default:
		f.Statuses = []appeal.Status{appeal.Status(d.Status)}
	}
	return f
}

// openWork reports whether the view is the open work unfiltered (the
// default), which the queue has read already.
func (d *queueData) openWork() bool {
	return d.Municipality == "" && d.Topic == "" && d.Executor == "" && d.Network == "" && (d.Status == "" || d.Status == filterOpen)
}

// hasDraft reports whether a has a draft answer in state.
func hasDraft(a *appeal.Appeal, state appeal.AnswerState) bool {
	for _, dr := range a.Drafts {
		if dr.State == state {
			return true
		}
	}
	return false
}

func (s *Server) row(a *appeal.Appeal, now time.Time) queueRow {
	r := queueRow{A: *a, Excerpt: excerpt(a.Text, 160), Open: a.Status.AwaitsAnswer()}
	r.Deadline = s.fmtDeadline(a.Deadline(), "02.01 15:04")
	r.Left, r.Overdue = s.timeLeft(a, now)
	return r
}

// timeLeft says how much working time is left to answer, in the calendar of
// the executor's deadlines, or by how much the deadline is missed.
func (s *Server) timeLeft(a *appeal.Appeal, now time.Time) (string, bool) {
	d := a.Deadline()
	switch {
	case !a.Status.AwaitsAnswer():
		return "—", false
	case d.IsZero():
		return "без срока", false
	}
	cal := s.calendar(a.Executor())
	if now.Before(d) {
		return workingLeft(cal.WorkingBetween(now, d)), false
	}
	late := cal.WorkingBetween(d, now)
	if late < time.Minute {
		return "просрочено", true
	}
	return "просрочено на " + workingLeft(late), true
}

// fillOptions offers, in each filter, the values the open work has, and
// the value chosen (which a view of handled appeals may have alone).
func (s *Server) fillOptions(d *queueData, all []appeal.Appeal) {
	munis, topics, execs, nets := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	chosen := func(set map[string]bool, v string) {
		if v != "" {
			set[v] = true
		}
	}
	chosen(munis, d.Municipality)
	chosen(topics, d.Topic)
	chosen(execs, d.Executor)
	chosen(nets, d.Network)
	for i := range all {
		a := &all[i]
		if a.Municipality != "" {
			munis[a.Municipality] = true
		}
		for _, t := range a.Topics {
			topics[t.Code] = true
		}
		if e := a.Executor(); e != "" {
			execs[e] = true
		}
		nets[string(a.Network)] = true
	}
	d.Municipalities = sortedOptions(munis, func(v string) string { return v })
	d.Topics = sortedOptions(topics, topicLabel)
	d.Executors = sortedOptions(execs, s.executorName)
	d.Networks = sortedOptions(nets, func(v string) string { return networkLabel(appeal.Network(v)) })
	d.Statuses = []option{{"", "ожидают ответа"}, {filterOverdue, "просрочены"}, {filterAll, "все"}}
	for _, st := range appeal.AllStatuses() {
		d.Statuses = append(d.Statuses, option{string(st), statusLabel(st)})
	}
}

func sortedOptions(set map[string]bool, label func(string) string) []option {
	out := make([]option, 0, len(set))
	for v := range set {
		out = append(out, option{v, label(v)})
	}
	slices.SortFunc(out, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	return out
}
