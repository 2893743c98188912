// Package web is the console's HTTP side: sign-in and roles, the queue,
// the appeal card with its actions, answering and the reports, rendered on
// the server with html/template. It is part of the console example, not a
// library: copy it and change what your centre needs.
//
// Every page that shows an appeal asks Server.canSee, the one place that
// decides who may see what: an operator sees the appeals of its executor
// (as executor or co-executor), a moderator every appeal, an analyst none.
package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/route"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the console works with.
type Config struct {
	// Store keeps the appeals. Required.
	Store appeal.Store
	// Engine is the routing rules in force: executors' names, calendars
	// for time left, and RouteExplain for «почему сюда». Required.
	Engine *route.Engine
	// Users may sign in. Required.
	Users *Users
	// Now is the clock (default time.Now).
	Now func() time.Time
	// SessionTTL is how long an idle session lives (default 8h).
	SessionTTL time.Duration
	// SecureCookies marks cookies Secure even on plain HTTP requests: set
	// it when a TLS proxy sits in front of the console. Requests that come
	// over TLS get Secure cookies anyway.
	SecureCookies bool
	// Logger receives errors; nil means slog.Default(). It never receives
	// appeal texts or authors.
	Logger *slog.Logger
	// Answers runs the answer loop; nil hides the answering screens.
	Answers *Answers
	// RefreshEvery is how often the queue's counts refresh themselves in
	// the browser (default 15s).
	RefreshEvery time.Duration
}

// Server is the console. It is an http.Handler, safe for concurrent use.
type Server struct {
	cfg      Config
	mux      *http.ServeMux
	pages    map[string]*template.Template
	sessions *sessions
	throttle *throttle
	log      *slog.Logger
	loc      *time.Location
}

// New checks cfg and builds the console.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("console: Config.Store is required")
	case cfg.Engine == nil:
		return nil, errors.New("console: Config.Engine is required")
	case cfg.Users == nil:
		return nil, errors.New("console: Config.Users is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefreshEvery <= 0 {
		cfg.RefreshEvery = 15 * time.Second
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), sessions: newSessions(cfg.SessionTTL, cfg.Now), throttle: newThrottle(cfg.Now),
		log: cfg.Logger, loc: cfg.Engine.DefaultCalendar().Location()}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /login", s.loginForm)
	s.mux.HandleFunc("POST /login", s.login)
	s.mux.HandleFunc("POST /logout", s.authed(nil, s.logout))
	s.mux.HandleFunc("GET /{$}", s.authed(nil, s.home))

	s.mux.HandleFunc("GET /queue", s.authed((*User).SeesAppeals, s.queue))
	s.mux.HandleFunc("GET /counts", s.authed((*User).SeesAppeals, s.countsJSON))
	s.mux.HandleFunc("GET /appeals/{id}", s.authed((*User).SeesAppeals, s.card))
	s.mux.HandleFunc("POST /appeals/{id}/reassign", s.authed((*User).Moderates, s.reassign))
	s.mux.HandleFunc("POST /appeals/{id}/reject", s.authed((*User).Moderates, s.reject))
	s.mux.HandleFunc("POST /appeals/{id}/merge", s.authed((*User).Moderates, s.merge))
	s.answerRoutes()

	s.mux.HandleFunc("GET /reports", s.authed((*User).ReadsReports, s.reports))
	s.mux.HandleFunc("GET /reports/weekly", s.authed((*User).ReadsReports, s.weekly))
	s.mux.HandleFunc("GET /reports/executors.csv", s.authed((*User).ReadsReports, s.executorsCSV))
}

// ServeHTTP implements http.Handler, with the headers every answer carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if !strings.HasPrefix(r.URL.Path, "/static/") {
		h.Set("Cache-Control", "no-store")
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		// An unknown page, or a known one with the wrong method: answered
		// in Russian like every other page.
		s.errorPage(w, r, nil, http.StatusNotFound, "Такой страницы нет.")
		return
	}
	s.mux.ServeHTTP(w, r)
}

// req is one authenticated request.
type req struct {
	w    http.ResponseWriter
	r    *http.Request
	sess *session
	user *User
	tok  string
}

// authed wraps a handler that needs a signed-in user who passes allow (nil:
// any user). A POST must carry the session's CSRF token.
func (s *Server) authed(allow func(*User) bool, h func(*req)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		var sess *session
		ok := false
		if err == nil {
			sess, ok = s.sessions.get(c.Value)
		}
		if !ok {
			if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, ".json") && r.URL.Path != "/counts" {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			s.errorPage(w, r, nil, http.StatusUnauthorized, "Войдите в систему.")
			return
		}
		q := &req{w: w, r: r, sess: sess, user: sess.user, tok: c.Value}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil {
				s.errorPage(w, r, q, http.StatusBadRequest, "Форма не прочитана: слишком большая или испорчена.")
				return
			}
			if !tokensEqual(r.PostFormValue(csrfField), sess.csrf) {
				s.errorPage(w, r, q, http.StatusForbidden, "Форма устарела или пришла не со страницы консоли (нет CSRF-токена). Обновите страницу и повторите.")
				return
			}
		}
		if allow != nil && !allow(sess.user) {
			s.errorPage(w, r, q, http.StatusForbidden, "Нет доступа: вашей роли эта страница не положена.")
			return
		}
		h(q)
	}
}

func (s *Server) home(q *req) {
	if q.user.SeesAppeals() {
		http.Redirect(q.w, q.r, "/queue", http.StatusSeeOther)
		return
	}
	http.Redirect(q.w, q.r, "/reports", http.StatusSeeOther)
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if _, ok := s.sessions.get(c.Value); ok {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
	}
	s.renderLogin(w, r, http.StatusOK, "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	tok := randomToken()
	http.SetCookie(w, s.cookie(r, loginCSRFCookie, tok, 600))
	s.render(w, r, status, "login", page{Title: "Вход", CSRF: tok, Flash: msg})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, "Форма входа испорчена.")
		return
	}
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || !tokensEqual(r.PostFormValue(csrfField), c.Value) {
		s.renderLogin(w, r, http.StatusForbidden, "Форма входа устарела. Введите логин и пароль ещё раз.")
		return
	}
	login := r.PostFormValue("login")
	if s.throttle.locked(login) {
		s.renderLogin(w, r, http.StatusTooManyRequests, "Слишком много неудачных попыток входа. Подождите несколько минут.")
		return
	}
	u, ok := s.cfg.Users.Authenticate(login, r.PostFormValue("password"))
	if !ok {
		s.throttle.fail(login)
		s.log.Warn("console: sign-in failed") // no login in the log: it may be a mistyped password
		s.renderLogin(w, r, http.StatusUnauthorized, "Неверный логин или пароль.")
		return
	}
	s.throttle.succeed(login)
	// A fresh token at every sign-in: a token planted before it is useless.
	if old, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.delete(old.Value)
	}
	tok, _ := s.sessions.create(u)
	http.SetCookie(w, s.cookie(r, sessionCookie, tok, 0))
	http.SetCookie(w, s.cookie(r, loginCSRFCookie, "", -1))
	s.log.Info("console: signed in", "login", u.Login, "role", u.Role)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(q *req) {
	s.sessions.delete(q.tok)
	http.SetCookie(q.w, s.cookie(q.r, sessionCookie, "", -1))
	http.Redirect(q.w, q.r, "/login", http.StatusSeeOther)
}

// canSee is the one rule of who sees which appeal.
func (s *Server) canSee(u *User, a *appeal.Appeal) bool {
	switch u.Role {
	case RoleModerator:
		return true
	case RoleOperator:
		return a.Involves(u.Executor)
	}
	return false
}

// visibleFilter narrows f to what u may see (canSee as a filter, so that
// the store reads only those appeals); false when u sees none of them.
func visibleFilter(u *User, f appeal.Filter) (appeal.Filter, bool) {
	switch u.Role {
	case RoleModerator:
		return f, true
	case RoleOperator:
		if f.Executor != "" && f.Executor != u.Executor {
			return f, false
		}
		f.Involves = u.Executor
		return f, true
	}
	return f, false
}

// visible lists the appeals of f the user may see.
func (s *Server) visible(ctx context.Context, u *User, f appeal.Filter) ([]appeal.Appeal, error) {
	f, ok := visibleFilter(u, f)
	if !ok {
		return nil, nil
	}
	list, err := s.cfg.Store.List(ctx, f)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for i := range list {
		if s.canSee(u, &list[i]) { // in case the store ignores Involves
			out = append(out, list[i])
		}
	}
	return out, nil
}

// appealFor loads the appeal of the request's {id}, answering 404 both when
// it does not exist and when the user may not see it, so that the answer
// does not tell which ids exist.
func (s *Server) appealFor(q *req) (appeal.Appeal, bool) {
	id := appeal.ID(q.r.PathValue("id"))
	a, err := s.cfg.Store.Get(q.r.Context(), id)
	if err == nil && s.canSee(q.user, &a) {
		return a, true
	}
	if err != nil && !errors.Is(err, appeal.ErrNotFound) {
		s.fail(q, err)
		return a, false
	}
	s.errorPage(q.w, q.r, q, http.StatusNotFound, "Обращение не найдено или недоступно вашей роли.")
	return a, false
}

// fail answers a store or template error without details.
func (s *Server) fail(q *req, err error) {
	s.log.Error("console: request failed", "path", q.r.URL.Path, "err", err)
	s.errorPage(q.w, q.r, q, http.StatusInternalServerError, "Внутренняя ошибка. Повторите позже.")
}

// back redirects to the appeal's card with a one-shot message.
func (s *Server) back(q *req, id appeal.ID, suffix, msg string) {
	if msg != "" {
		s.sessions.setFlash(q.sess, msg)
	}
	http.Redirect(q.w, q.r, appealPath(id)+suffix, http.StatusSeeOther)
}

// changeFailed turns a store error of an action into a message for the
// operator, or a 500 when it is not the operator's to fix.
func (s *Server) changeFailed(q *req, id appeal.ID, suffix string, err error) {
	switch {
	case errors.Is(err, appeal.ErrConflict):
		s.back(q, id, suffix, "Обращение успели изменить: проверьте его состояние и повторите действие.")
	case errors.Is(err, appeal.ErrIllegalTransition):
		s.back(q, id, suffix, "В текущем статусе это действие невозможно.")
	case errors.Is(err, appeal.ErrInvalid):
		s.back(q, id, suffix, "Действие отклонено: "+err.Error())
	default:
		s.fail(q, err)
	}
}

func appealPath(id appeal.ID) string {
	return "/appeals/" + pathEscape(string(id))
}

// now is the console's clock.
func (s *Server) now() time.Time { return s.cfg.Now() }

func (s *Server) executorName(id string) string {
	if id == "" || id == "—" { // stats labels the unrouted "—"
		return "без исполнителя"
	}
	if e, ok := s.cfg.Engine.Executor(id); ok && e.Name != "" {
		return e.Name
	}
	return id
}

// calendar is the working-time calendar of an executor's deadlines.
func (s *Server) calendar(executor string) *route.Calendar {
	if e, ok := s.cfg.Engine.Executor(executor); ok && e.Calendar != "" {
		if c, ok := s.cfg.Engine.Calendar(e.Calendar); ok {
			return c
		}
	}
	return s.cfg.Engine.DefaultCalendar()
}
