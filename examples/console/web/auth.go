package web

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Role is what a signed-in person may do in the console.
type Role string

// Roles of the console.
const (
	// RoleOperator works for one executor: sees and answers only the
	// appeals assigned to it (as executor or co-executor).
	RoleOperator Role = "operator"
	// RoleModerator is the ЦУР moderator: sees every appeal, reassigns,
	// rejects, merges, approves or returns answers, publishes, reads reports.
	RoleModerator Role = "moderator"
	// RoleAnalyst reads the reports and ratings, never an appeal.
	RoleAnalyst Role = "analyst"
)

// Valid reports whether r is one of the console's roles.
func (r Role) Valid() bool {
	return r == RoleOperator || r == RoleModerator || r == RoleAnalyst
}

// Label is the role's Russian name.
func (r Role) Label() string {
	switch r {
	case RoleOperator:
		return "оператор исполнителя"
	case RoleModerator:
		return "модератор ЦУР"
	case RoleAnalyst:
		return "аналитик"
	}
	return string(r)
}

// User is one person who may sign in.
type User struct {
	Login string
	// Name is shown in the header and written to appeal history.
	Name string
	Role Role
	// Executor is the executor id an operator works for; empty for the
	// other roles.
	Executor string
	// Hash is the bcrypt hash of the password.
	Hash []byte
}

// Actor is how the user is written into an appeal's history: the name for
// people to read and the login, which is unique, for the audit.
func (u *User) Actor() string { return u.Name + " (" + u.Login + ")" }

// SeesAppeals reports whether the role may see appeals at all.
func (u *User) SeesAppeals() bool { return u.Role == RoleOperator || u.Role == RoleModerator }

// ReadsReports reports whether the role may read reports and ratings.
func (u *User) ReadsReports() bool { return u.Role == RoleModerator || u.Role == RoleAnalyst }

// Moderates reports whether the user is a ЦУР moderator.
func (u *User) Moderates() bool { return u.Role == RoleModerator }

// Users is the set of people who may sign in. It is read-only once built
// and safe for concurrent use.
type Users struct {
	byLogin map[string]*User
	order   []string
	dummy   []byte // a hash to compare against for unknown logins
}

// ErrUsers matches every error of the users file.
var ErrUsers = errors.New("console: bad users file")

// NewUsers returns an empty set; add people with Add.
func NewUsers() *Users {
	dummy, _ := bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.MinCost)
	return &Users{byLogin: map[string]*User{}, dummy: dummy}
}

// Add adds a user with a password in clear, hashing it with cost
// (bcrypt.DefaultCost when 0).
func (us *Users) Add(u User, password string, cost int) error {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	if password == "" {
		return fmt.Errorf("%w: user %q has an empty password", ErrUsers, u.Login)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return fmt.Errorf("%w: user %q: %w", ErrUsers, u.Login, err)
	}
	u.Hash = h
	return us.addHashed(u)
}

func (us *Users) addHashed(u User) error {
	switch {
	case u.Login == "" || strings.ContainsAny(u.Login, " :\t"):
		return fmt.Errorf("%w: login %q must be non-empty without spaces or colons", ErrUsers, u.Login)
	case !u.Role.Valid():
		return fmt.Errorf("%w: user %q: role %q is not operator, moderator or analyst", ErrUsers, u.Login, u.Role)
	case u.Role == RoleOperator && u.Executor == "":
		return fmt.Errorf("%w: user %q: an operator needs an executor", ErrUsers, u.Login)
	case u.Role != RoleOperator && u.Executor != "":
		return fmt.Errorf("%w: user %q: only an operator works for an executor", ErrUsers, u.Login)
	case us.byLogin[u.Login] != nil:
		return fmt.Errorf("%w: user %q is listed twice", ErrUsers, u.Login)
	}
	if u.Name == "" {
		u.Name = u.Login
	}
	us.byLogin[u.Login] = &u
	us.order = append(us.order, u.Login)
	return nil
}

// ParseUsers reads a users file, one person a line:
//
//	login:role:executor:password-or-bcrypt-hash:Name shown in the console
//
// role is operator, moderator or analyst; executor is empty except for
// operators; a password starting with "$2" is taken as a bcrypt hash,
// anything else is hashed with cost. Blank lines and lines starting with
// # are skipped. Errors name the file and line.
func ParseUsers(r io.Reader, name string, cost int) (*Users, error) {
	us := NewUsers()
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.SplitN(text, ":", 5)
		if len(f) < 4 {
			return nil, fmt.Errorf("%w: %s:%d: want login:role:executor:password[:name], got %d fields", ErrUsers, name, line, len(f))
		}
		u := User{Login: f[0], Role: Role(f[1]), Executor: f[2]}
		if len(f) == 5 {
			u.Name = strings.TrimSpace(f[4])
		}
		var err error
		if strings.HasPrefix(f[3], "$2") {
			if _, cerr := bcrypt.Cost([]byte(f[3])); cerr != nil {
				return nil, fmt.Errorf("%w: %s:%d: password hash: %w", ErrUsers, name, line, cerr)
			}
			u.Hash = []byte(f[3])
			err = us.addHashed(u)
		} else {
			err = us.Add(u, f[3], cost)
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(us.order) == 0 {
		return nil, fmt.Errorf("%w: %s lists nobody", ErrUsers, name)
	}
	return us, nil
}

// List returns the users in the order they were added.
func (us *Users) List() []User {
	out := make([]User, 0, len(us.order))
	for _, l := range us.order {
		out = append(out, *us.byLogin[l])
	}
	return out
}

// Authenticate returns the user when login and password match. It takes
// about as long for an unknown login as for a wrong password, so the answer
// time does not tell which logins exist.
func (us *Users) Authenticate(login, password string) (*User, bool) {
	u := us.byLogin[login]
	if u == nil {
		_ = bcrypt.CompareHashAndPassword(us.dummy, []byte(password))
		return nil, false
	}
	if bcrypt.CompareHashAndPassword(u.Hash, []byte(password)) != nil {
		return nil, false
	}
	return u, true
}

// session is one signed-in browser.
type session struct {
	user    *User
	csrf    string
	expires time.Time
	flash   string
}

// sessions keeps sessions in memory: a restart signs everyone out, which is
// what an example can afford.
type sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	ttl time.Duration
	now func() time.Time
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{m: map[string]*session{}, ttl: ttl, now: now}
}

// randomToken returns 32 random bytes, base64url-encoded.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("console: crypto/rand failed: " + err.Error()) // rand.Read never fails on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *sessions) create(u *User) (token string, sess *session) {
	token = randomToken()
	sess = &session{user: u, csrf: randomToken(), expires: s.now().Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.m { // sweep the expired, so the map does not grow without bound
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	s.m[token] = sess
	return token, sess
}

// get returns the live session of token and extends it (sliding expiry).
func (s *sessions) get(token string) (*session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.m[token]
	if sess == nil {
		return nil, false
	}
	if s.now().After(sess.expires) {
		delete(s.m, token)
		return nil, false
	}
	sess.expires = s.now().Add(s.ttl)
	return sess, true
}

func (s *sessions) delete(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, token)
}

// takeFlash returns and clears the session's one-shot message.
func (s *sessions) takeFlash(sess *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := sess.flash
	sess.flash = ""
	return f
}

func (s *sessions) setFlash(sess *session, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess.flash = msg
}

// Cookie names. The session cookie is the only credential; the login CSRF
// cookie ties the sign-in form to the browser that loaded it.
const (
	sessionCookie   = "console_session"
	loginCSRFCookie = "console_login_csrf"
	csrfField       = "csrf"
)

// cookie builds a cookie with the console's security attributes: HttpOnly
// (no script reads it), SameSite=Strict (no other site's page sends it),
// Secure when the request came over TLS or the console is told it sits
// behind a TLS proxy.
func (s *Server) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || s.cfg.SecureCookies,
	}
}

// tokensEqual compares two tokens in constant time.
func tokensEqual(a, b string) bool {
	return a != "" && len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// Sign-in throttling: after maxFailures wrong passwords for one login
// within lockout, that login is refused for the rest of lockout, so a
// password cannot be guessed at the speed of bcrypt.
const (
	maxFailures = 5
	lockout     = 5 * time.Minute
)

// throttle counts failed sign-ins per login. Logins that do not exist are
// counted too, so the answer does not tell which exist.
type throttle struct {
	mu       sync.Mutex
	failures map[string][]time.Time
	now      func() time.Time
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{failures: map[string][]time.Time{}, now: now}
}

// recent drops failures older than lockout and returns those left.
func (t *throttle) recent(login string) []time.Time {
	cut := t.now().Add(-lockout)
	f := t.failures[login]
	i := 0
	for i < len(f) && f[i].Before(cut) {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(t.failures, login)
	} else {
		t.failures[login] = f
	}
	return f
}

// locked reports whether login must wait.
func (t *throttle) locked(login string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.recent(login)) >= maxFailures
}

func (t *throttle) fail(login string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.failures) > 100000 { // a flood of made-up logins: forget them rather than grow
		clear(t.failures)
	}
	t.failures[login] = append(t.recent(login), t.now())
}

func (t *throttle) succeed(login string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, login)
}
