package web

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/incident"
	"github.com/appealkit/appealkit/route"
)

type cardData struct {
	A        appeal.Appeal
	Deadline string
	Left     string
	Overdue  bool
	// Thread holds the other messages of the same thread the user may see.
	Thread []appeal.Appeal
	// Why is the routing decision replayed with its trace.
	Why        route.Decision
	RoutedAt   time.Time
	WhyChanged bool
	NotMatched int
	// Incident members other than this appeal, and the incident's status.
	Members        []appeal.Appeal
	IncidentStatus appeal.Status
	// Candidates to merge with; Similar marks those the grouper joins.
	Candidates []candidate
	Executors  []route.Executor
	CanReject  bool
	CanAnswer  bool
	Answer     *answerView
}

type candidate struct {
	A       appeal.Appeal
	Similar bool
}

// mergeWindow is how far apart in time merge candidates may be written.
const mergeWindow = 7 * 24 * time.Hour

func (s *Server) card(q *req) {
	a, ok := s.appealFor(q)
	if !ok {
		return
	}
	ctx := q.r.Context()
	now := s.now()
	d := cardData{A: a, Deadline: s.fmtDeadline(a.Deadline(), "02.01.2006 15:04"), CanReject: a.Status.CanTransition(appeal.StatusRejected)}
	d.Left, d.Overdue = s.timeLeft(&a, now)

	d.Why, d.RoutedAt, d.WhyChanged = s.replayDecision(&a)
	for _, st := range d.Why.Trace {
		if !st.Matched && !st.Skipped {
			d.NotMatched++
		}
	}

	same, err := s.visible(ctx, q.user, appeal.Filter{Network: a.Network, ThreadRoot: a.ThreadRoot()})
	if err != nil {
		s.fail(q, err)
		return
	}
	for _, x := range same {
		if x.ID != a.ID && x.ThreadRoot() == a.ThreadRoot() { // in case the store ignores ThreadRoot
			d.Thread = append(d.Thread, x)
		}
	}

	if q.user.Moderates() || a.IncidentID != "" {
		if err := s.incidentOf(q, &d); err != nil {
			s.fail(q, err)
			return
		}
	}
	if q.user.Moderates() {
		d.Executors = s.cfg.Engine.Executors()
	}
	if s.cfg.Answers != nil {
		d.CanAnswer = true
		v, err := s.answerViewOf(q, &a)
		if err != nil {
			s.fail(q, err)
			return
		}
		d.Answer = v
	}
	s.show(q, "card", "Обращение "+string(a.ID), "queue", &d)
}

// incidentOf fills the incident's members and, for a moderator, the
// appeals it could be merged with: same municipality and topic, written
// within a week, with the ones incident.Group would join marked.
func (s *Server) incidentOf(q *req, d *cardData) error {
	ctx := q.r.Context()
	a := &d.A
	var statuses []appeal.Status
	if a.IncidentID != "" {
		linked, err := s.visible(ctx, q.user, appeal.Filter{Incident: a.IncidentID})
		if err != nil {
			return err
		}
		statuses = append(statuses, a.Status)
		for _, x := range linked {
			if x.IncidentID == a.IncidentID && x.ID != a.ID {
				d.Members = append(d.Members, x)
				statuses = append(statuses, x.Status)
			}
		}
		d.IncidentStatus = incident.StatusOf(statuses...)
	}
	if !q.user.Moderates() || a.TopTopic() == "" {
		return nil
	}
	near, err := s.visible(ctx, q.user, appeal.Filter{Municipality: a.Municipality, Topic: topicRoot(a.TopTopic()),
		CreatedFrom: a.CreatedAt.Add(-mergeWindow), CreatedTo: a.CreatedAt.Add(mergeWindow)})
	if err != nil {
		return err
	}
	group := []appeal.Appeal{*a}
	for _, x := range near {
		if x.ID == a.ID || (a.IncidentID != "" && x.IncidentID == a.IncidentID) || x.Status == appeal.StatusRejected {
			continue
		}
		group = append(group, x)
	}
	if len(group) == 1 {
		return nil
	}
	// Unweighted: inverse document frequency over a handful of candidates
	// would weigh the very words they share down to nothing.
	_, of, err := incident.Group(group, incident.Config{Unweighted: true})
	if err != nil {
		return err
	}
	for _, x := range group[1:] {
		d.Candidates = append(d.Candidates, candidate{A: x, Similar: of[x.ID] == of[a.ID]})
	}
	// The ones the grouper joins first, so the form's default is the likely one.
	slices.SortStableFunc(d.Candidates, func(x, y candidate) int {
		switch {
		case x.Similar == y.Similar:
			return 0
		case x.Similar:
			return -1
		}
		return 1
	})
	if len(d.Candidates) > 10 {
		d.Candidates = d.Candidates[:10]
	}
	return nil
}

// topicRoot is the top-level topic of a code: "housing" of "housing.heating".
func topicRoot(code string) string {
	if i := strings.IndexByte(code, '.'); i > 0 {
		return code[:i]
	}
	return code
}

// versioned loads the appeal of an action and the version its form was
// rendered with, which the action must still find (optimistic concurrency:
// a form rendered before someone else's change is refused).
func (s *Server) versioned(q *req, suffix string) (appeal.Appeal, int64, bool) {
	a, ok := s.appealFor(q)
	if !ok {
		return a, 0, false
	}
	v, err := strconv.ParseInt(q.r.PostFormValue("version"), 10, 64)
	if err != nil || v <= 0 {
		s.back(q, a.ID, suffix, "Форма без версии обращения: обновите страницу.")
		return a, 0, false
	}
	return a, v, true
}

func (s *Server) reassign(q *req) {
	a, ver, ok := s.versioned(q, "")
	if !ok {
		return
	}
	to := q.r.PostFormValue("executor")
	if _, ok := s.cfg.Engine.Executor(to); !ok {
		s.back(q, a.ID, "", "Такого исполнителя нет в правилах маршрутизации.")
		return
	}
	if to == a.Executor() {
		s.back(q, a.ID, "", "Обращение уже у этого исполнителя.")
		return
	}
	as := appeal.Assignment{}
	if a.Assignment != nil {
		as = *a.Assignment
		as.CoExecutors = slicesWithout(as.CoExecutors, to)
	}
	as.Executor = to
	note := "переназначено: " + s.executorName(a.Executor()) + " → " + s.executorName(to)
	if c := strings.TrimSpace(q.r.PostFormValue("note")); c != "" {
		note += "; " + c
	}
	_, err := s.cfg.Store.Transition(q.r.Context(), a.ID, appeal.Change{To: appeal.StatusRouted, Actor: q.user.Actor(),
		Note: note, At: s.now(), Assignment: &as, ExpectedVersion: ver})
	if err != nil {
		s.changeFailed(q, a.ID, "", err)
		return
	}
	s.back(q, a.ID, "", "Обращение передано: "+s.executorName(to)+".")
}

func slicesWithout(s []string, v string) []string {
	out := make([]string, 0, len(s))
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

func (s *Server) reject(q *req) {
	a, ver, ok := s.versioned(q, "")
	if !ok {
		return
	}
	reason := strings.TrimSpace(q.r.PostFormValue("note"))
	if reason == "" {
		s.back(q, a.ID, "", "Укажите причину отклонения.")
		return
	}
	_, err := s.cfg.Store.Transition(q.r.Context(), a.ID, appeal.Change{To: appeal.StatusRejected, Actor: q.user.Actor(),
		Note: "отклонено: " + reason, At: s.now(), ExpectedVersion: ver})
	if err != nil {
		s.changeFailed(q, a.ID, "", err)
		return
	}
	s.back(q, a.ID, "", "Обращение отклонено.")
}

// merge joins the appeal and another into one incident: the other's
// incident if it has one, else this one's, else a new one named after the
// other. Each appeal is written once, with the incident and a history note.
func (s *Server) merge(q *req) {
	a, ok := s.appealFor(q)
	if !ok {
		return
	}
	otherID := appeal.ID(q.r.PostFormValue("with"))
	other, err := s.cfg.Store.Get(q.r.Context(), otherID)
	if err != nil || !s.canSee(q.user, &other) || other.ID == a.ID {
		s.back(q, a.ID, "", "Второе обращение не найдено.")
		return
	}
	inc := other.IncidentID
	if inc == "" {
		inc = a.IncidentID
	}
	if inc == "" {
		inc = "inc:" + string(other.ID)
	}
	for _, id := range []appeal.ID{other.ID, a.ID} {
		if err := s.link(q, id, inc); err != nil {
			s.changeFailed(q, a.ID, "", err)
			return
		}
	}
	s.back(q, a.ID, "", "Обращения объединены в инцидент.")
}

// link records the incident on one appeal with a history note, re-reading
// on a version conflict (the other writer's change is kept).
func (s *Server) link(q *req, id appeal.ID, inc string) error {
	var err error
	for try := 0; try < 3; try++ {
		var a appeal.Appeal
		if a, err = s.cfg.Store.Get(q.r.Context(), id); err != nil {
			return err
		}
		if a.IncidentID == inc {
			return nil
		}
		_, err = s.cfg.Store.Update(q.r.Context(), id, a.Version, func(x *appeal.Appeal) error {
			x.IncidentID = inc
			x.History = append(x.History, appeal.Event{At: s.now(), Actor: q.user.Actor(), From: x.Status, To: x.Status,
				Note: "объединено в инцидент " + inc})
			return nil
		})
		if !errors.Is(err, appeal.ErrConflict) {
			return err
		}
	}
	return err
}

// Matched-condition phrases of route's trace, in Russian. Phrases not
// listed stay as the engine wrote them.
var (
	reMunicipality = regexp.MustCompile(`^municipality "(.*)"$`)
	reTopic        = regexp.MustCompile(`^topic (\S+) \(score ([0-9.]+)\)(.*)$`)
	reNetwork      = regexp.MustCompile(`^network (\S+)$`)
	reCommunity    = regexp.MustCompile(`^community (\S+)$`)
	reKind         = regexp.MustCompile(`^kind (\S+)$`)
	reKeyword      = regexp.MustCompile(`^text has keyword "(.*)"$`)
	reTime         = regexp.MustCompile(`^time (.*)$`)
)

// whyRU renders the conditions a matched rule met, in Russian.
func whyRU(why string) string {
	parts := strings.Split(why, "; ")
	for i, p := range parts {
		switch {
		case p == "official page true":
			parts[i] = "госпаблик"
		case p == "official page false":
			parts[i] = "не госпаблик"
		case p == "urgent true":
			parts[i] = "срочное"
		case p == "urgent false":
			parts[i] = "не срочное"
		case reMunicipality.MatchString(p):
			parts[i] = "муниципалитет «" + reMunicipality.FindStringSubmatch(p)[1] + "»"
		case reTopic.MatchString(p):
			m := reTopic.FindStringSubmatch(p)
			parts[i] = "тема «" + topicLabel(m[1]) + "» (оценка " + m[2] + ")"
		case reNetwork.MatchString(p):
			parts[i] = "сеть " + networkLabel(appeal.Network(reNetwork.FindStringSubmatch(p)[1]))
		case reCommunity.MatchString(p):
			parts[i] = "сообщество " + reCommunity.FindStringSubmatch(p)[1]
		case reKind.MatchString(p):
			parts[i] = "вид: " + kindLabel(appeal.Kind(reKind.FindStringSubmatch(p)[1]))
		case reKeyword.MatchString(p):
			parts[i] = "в тексте есть «" + reKeyword.FindStringSubmatch(p)[1] + "»"
		case reTime.MatchString(p):
			parts[i] = "время " + reTime.FindStringSubmatch(p)[1]
		}
	}
	return strings.Join(parts, "; ")
}

// replayDecision replays the routing of a: at the moment the pipeline
// recorded it, or at the appeal's creation (a backfill routes as of then),
// whichever gives the assignment in force. Changed says that neither does:
// the rules or the appeal changed since, or a person reassigned it.
func (s *Server) replayDecision(a *appeal.Appeal) (d route.Decision, at time.Time, changed bool) {
	var cands []time.Time
	for _, e := range a.History {
		if e.To == appeal.StatusRouted && e.Actor != "" {
			cands = append(cands, e.At)
			break
		}
	}
	if !a.CreatedAt.IsZero() {
		cands = append(cands, a.CreatedAt)
	}
	if len(cands) == 0 {
		cands = append(cands, s.now())
	}
	for _, t := range cands {
		d = s.cfg.Engine.RouteExplain(a, t)
		if d.Executor == a.Executor() && d.Deadline.Equal(a.Deadline()) {
			return d, t, false
		}
	}
	return s.cfg.Engine.RouteExplain(a, cands[0]), cands[0], true
}
