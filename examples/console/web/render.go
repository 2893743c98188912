package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
	"github.com/appealkit/appealkit/appeal/report"
)

// page is what every template gets.
type page struct {
	Title string
	User  *User
	CSRF  string
	Flash string
	// Nav names the menu item to highlight.
	Nav string
	// Refresh adds the counts' auto-refresh script.
	Refresh bool
	Data    any
}

var pageNames = []string{"login", "queue", "card", "answer", "reports", "error"}

func (s *Server) parseTemplates() error {
	funcs := template.FuncMap{
		"status":   statusLabel,
		"network":  networkLabel,
		"kind":     kindLabel,
		"topic":    topicLabel,
		"priority": priorityLabel,
		"executor": s.executorName,
		"when":     s.fmtTime,
		"path":     appealPath,
		"percent":  report.Percent,
		"hours":    report.Hours,
		"excerpt":  excerpt,
		"why":      whyRU,
		"actor":    actorLabel,
		"capfirst": capFirst,
		"date":     answer.FormatDateYear,
		"reaction": answer.ReactionName,
		"month":    monthName,
		"workhours": func(d time.Duration) string {
			return workingLeft(d) + " рабочего времени"
		},
		"note": noteLabel,
		"role": func(r Role) string { return r.Label() },
	}
	s.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/answer_section.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("console: template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return nil
}

// render executes a page into a buffer first, so that a template error
// gives a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("console: render", "page", name, "err", err)
		http.Error(w, "Внутренняя ошибка отображения.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// show renders a page for a signed-in user.
func (s *Server) show(q *req, name, title, nav string, data any) {
	s.render(q.w, q.r, http.StatusOK, name, page{Title: title, User: q.user, CSRF: q.sess.csrf,
		Flash: s.sessions.takeFlash(q.sess), Nav: nav, Data: data})
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, q *req, status int, msg string) {
	p := page{Title: "Ошибка", Data: msg}
	if q != nil {
		p.User, p.CSRF = q.user, q.sess.csrf
	}
	s.render(w, r, status, "error", p)
}

func (s *Server) fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(s.loc).Format("02.01.2006 15:04")
}

// fmtDeadline prints a deadline in the appeal's own time, as routing set it
// (the place's zone with route.WithPlaceZone): a Kaliningrad appeal due at
// 18:00 there reads 18:00, with its UTC offset when that differs from the
// console's zone, so an operator is never misled about the hour.
func (s *Server) fmtDeadline(t time.Time, layout string) string {
	if t.IsZero() {
		return "—"
	}
	out := t.Format(layout)
	_, own := t.Zone()
	if _, console := t.In(s.loc).Zone(); own != console {
		out += t.Format(" (UTC-07:00)")
	}
	return out
}

// statusLabel is the status in Russian, as appeal/report names it.
func statusLabel(st appeal.Status) string { return report.StatusName(st) }

func networkLabel(n appeal.Network) string {
	switch n {
	case appeal.NetworkVK:
		return "ВКонтакте"
	case appeal.NetworkOK:
		return "Одноклассники"
	case appeal.NetworkTelegram:
		return "Telegram"
	case appeal.NetworkInstagram:
		return "Instagram"
	case appeal.NetworkWeb:
		return "сайт"
	case "max":
		return "MAX"
	case "email":
		return "эл. почта"
	}
	return string(n)
}

func kindLabel(k appeal.Kind) string {
	switch k {
	case appeal.KindPost:
		return "пост"
	case appeal.KindComment:
		return "комментарий"
	case appeal.KindReply:
		return "ответ в ветке"
	case appeal.KindMessage:
		return "личное сообщение"
	}
	return string(k)
}

func priorityLabel(p appeal.Priority) string {
	switch p {
	case appeal.PriorityLow:
		return "низкий"
	case appeal.PriorityNormal:
		return "обычный"
	case appeal.PriorityHigh:
		return "высокий"
	case appeal.PriorityCritical:
		return "критический"
	}
	return string(p)
}

var topicLabels = report.TopicLabels()

// topicLabel names a topic in Russian; a subtopic without its own name
// borrows its parent's.
func topicLabel(code string) string {
	if code == "" {
		return "без темы"
	}
	if l, ok := topicLabels[code]; ok {
		return l
	}
	if i := strings.LastIndexByte(code, '.'); i > 0 {
		if l, ok := topicLabels[code[:i]]; ok {
			return l + " (" + code[i+1:] + ")"
		}
	}
	return code
}

// excerpt cuts s to about n letters at a word boundary.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

func pathEscape(s string) string { return url.PathEscape(s) }

// workingLeft formats a working-time span as operators read it: «5 ч 20 мин».
func workingLeft(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%d мин", m)
	case m == 0:
		return fmt.Sprintf("%d ч", h)
	}
	return fmt.Sprintf("%d ч %02d мин", h, m)
}

// actorLabel names who acted in the history; the pipeline is «система».
func actorLabel(a string) string {
	switch a {
	case "":
		return "—"
	case "pipeline":
		return "система"
	case "citizen":
		return "гражданин"
	case "publisher":
		return "публикация"
	}
	return a
}

// noteLabel puts the pipeline's notes into Russian; people's notes stay.
func noteLabel(n string) string {
	if r, ok := strings.CutPrefix(n, "rule "); ok {
		return "правило " + r
	}
	return n
}

// capFirst upper-cases the first letter: «промежуточный» heads a line as
// «Промежуточный».
func capFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return strings.ToUpper(string(r)) + s[n:]
}

var months = [...]string{"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь"}

// monthName is «ноябрь 2026».
func monthName(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return months[t.Month()-1] + " " + strconv.Itoa(t.Year())
}
