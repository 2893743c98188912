package web

import (
	"bytes"
	"net/http"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/incident"
	"github.com/appealkit/appealkit/appeal/report"
	"github.com/appealkit/appealkit/appeal/stats"
)

type reportsData struct {
	R    *stats.Report
	From time.Time
	To   time.Time
	// Statuses in lifecycle order with their counts.
	Statuses []statusCount
	// Incidents joining two or more appeals.
	Incidents int
	// Month is the latest month rated; Executors and Municipalities are
	// its rating rows, as centres publish them.
	Month                     time.Time
	Within                    time.Duration
	MinVolume                 int
	Executors, Municipalities []stats.RatingRow
}

type statusCount struct {
	Status appeal.Status
	Count  int
}

// statsConfig measures response times in the working hours of the rules'
// default calendar, in the region's time zone.
func (s *Server) statsConfig() stats.Config {
	cal := s.cfg.Engine.DefaultCalendar()
	return stats.Config{Now: s.now(), Location: s.loc, Hours: stats.WorkingFunc(cal.WorkingBetween)}
}

// rate gives the monthly ratings as centres publish them, in the working
// hours of the rules' default calendar.
func (s *Server) rate(all []appeal.Appeal) *stats.Ratings {
	cal := s.cfg.Engine.DefaultCalendar()
	return stats.Rate(all, stats.RatingConfig{Hours: stats.WorkingFunc(cal.WorkingBetween), Location: s.loc, Now: s.now()})
}

func (s *Server) collect(q *req) (*stats.Report, []appeal.Appeal, error) {
	all, err := s.cfg.Store.List(q.r.Context(), appeal.Filter{})
	if err != nil {
		return nil, nil, err
	}
	return stats.FromSlice(all, s.statsConfig()), all, nil
}

func (s *Server) reports(q *req) {
	r, all, err := s.collect(q)
	if err != nil {
		s.fail(q, err)
		return
	}
	d := reportsData{R: r, From: r.First, To: r.Last}
	for _, st := range appeal.AllStatuses() {
		if n := r.Statuses[st]; n > 0 {
			d.Statuses = append(d.Statuses, statusCount{st, n})
		}
	}
	for _, inc := range storedIncidents(all) {
		if len(inc.Members) > 1 {
			d.Incidents++
		}
	}
	rt := s.rate(all)
	d.Within, d.MinVolume = rt.Within, rt.MinVolume
	for _, row := range append(rt.Executors, rt.Municipalities...) {
		if row.Month.After(d.Month) {
			d.Month = row.Month
		}
	}
	for _, row := range rt.Executors {
		// Appeals never routed (rejected as noise) have no executor to rate.
		if row.Month.Equal(d.Month) && row.Name != stats.NoExecutor {
			d.Executors = append(d.Executors, row)
		}
	}
	for _, row := range rt.Municipalities {
		if row.Month.Equal(d.Month) {
			d.Municipalities = append(d.Municipalities, row)
		}
	}
	s.show(q, "reports", "Отчёты и рейтинги", "reports", d)
}

// weekly serves appeal/report's self-contained page as it is mailed to the
// governor's office.
func (s *Server) weekly(q *req) {
	r, all, err := s.collect(q)
	if err != nil {
		s.fail(q, err)
		return
	}
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, r, report.Options{Title: "Еженедельный отчёт по обращениям граждан", Incidents: storedIncidents(all),
		ExecutorNames: report.ExecutorNamesFrom(s.cfg.Engine), Ratings: s.rate(all),
		HoursNote: "рабочие часы, производственный календарь"}); err != nil {
		s.fail(q, err)
		return
	}
	// The report carries its own inline styles: allow them for this page only.
	q.w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'")
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = buf.WriteTo(q.w)
}

func (s *Server) executorsCSV(q *req) {
	r, _, err := s.collect(q)
	if err != nil {
		s.fail(q, err)
		return
	}
	var buf bytes.Buffer
	if err := report.WriteExecutorsCSV(&buf, r, report.CSVOptions{Comma: ';', BOM: true}); err != nil {
		s.fail(q, err)
		return
	}
	q.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	q.w.Header().Set("Content-Disposition", `attachment; filename="executors.csv"`)
	q.w.WriteHeader(http.StatusOK)
	_, _ = buf.WriteTo(q.w)
}

// storedIncidents are the incidents recorded in the store (appeals merged
// by moderators), as appeal/report shows them. The report counts what
// people decided, not what the grouper would suggest.
func storedIncidents(all []appeal.Appeal) []incident.Incident {
	byID := map[string]*incident.Incident{}
	var order []string
	statuses := map[string][]appeal.Status{}
	for i := range all {
		a := &all[i]
		if a.IncidentID == "" {
			continue
		}
		inc := byID[a.IncidentID]
		if inc == nil {
			inc = &incident.Incident{ID: a.IncidentID, First: a.CreatedAt, Last: a.CreatedAt}
			byID[a.IncidentID] = inc
			order = append(order, a.IncidentID)
		}
		inc.Members = append(inc.Members, a.ID)
		statuses[a.IncidentID] = append(statuses[a.IncidentID], a.Status)
		if inc.Topic == "" {
			inc.Topic = a.TopTopic()
		}
		if inc.Municipality == "" {
			inc.Municipality = a.Municipality
		}
		if inc.Place == "" {
			inc.Place = a.Place
		}
		if a.CreatedAt.Before(inc.First) {
			inc.First = a.CreatedAt
		}
		if a.CreatedAt.After(inc.Last) {
			inc.Last = a.CreatedAt
		}
	}
	out := make([]incident.Incident, 0, len(order))
	for _, id := range order {
		inc := byID[id]
		inc.Status = incident.StatusOf(statuses[id]...)
		out = append(out, *inc)
	}
	return out
}
