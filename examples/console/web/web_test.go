package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
	"github.com/appealkit/appealkit/appeal/answer/answertest"
	"github.com/appealkit/appealkit/examples/console/web"
	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/source/vk"
)

// Monday 23 November 2026, 12:00 Moscow time: inside working hours.
var now = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// fixture appeals: each text carries a marker, so that a page that shows an
// appeal it must not can be caught by the marker alone.
type fixtureAppeal struct {
	id              appeal.ID
	marker          string
	executor        string
	co              []string
	status          appeal.Status
	deadlineInHours int
}

var fixtures = []fixtureAppeal{
	{id: "vk:-100_1_c1", marker: "МЕТКА-КУРСК", executor: "kursky-admin", co: []string{"roads-committee"}, status: appeal.StatusRouted, deadlineInHours: -3},
	{id: "vk:-102_2_c2", marker: "МЕТКА-ЛЬГОВ", executor: "lgovsky-admin", co: []string{"housing-committee"}, status: appeal.StatusRouted, deadlineInHours: 5},
	{id: "ok:3_3", marker: "МЕТКА-ИНСПЕКЦИЯ", executor: "housing-inspection", status: appeal.StatusRouted, deadlineInHours: 20},
	{id: "vk:-100_1_c4", marker: "МЕТКА-КУРСК-ВЕТКА", executor: "roads-committee", status: appeal.StatusRouted, deadlineInHours: 30},
}

type env struct {
	store storeWithOutbox
	srv   *httptest.Server
	vk    *answertest.VK
	pw    map[string]string
}

func newEnv(t *testing.T, tls bool) *env {
	t.Helper()
	ctx := context.Background()
	store := appeal.NewMemoryStore()
	texts := map[appeal.ID]string{
		"vk:-100_1_c1": "Здравствуйте! На улице Садовой в Беседино огромная яма на дороге прямо у остановки, вчера пробил колесо. Когда отремонтируют асфальт? МЕТКА-КУРСК",
		"vk:-102_2_c2": "В Льгове нет горячей воды третий день. МЕТКА-ЛЬГОВ",
		"ok:3_3":       "Управляющая компания не убирает подъезд. МЕТКА-ИНСПЕКЦИЯ",
		"vk:-100_1_c4": "Яма на дороге на улице Садовой в Беседино у остановки, пробил колесо. МЕТКА-КУРСК-ВЕТКА",
	}
	munis := map[appeal.ID]string{"vk:-100_1_c1": "Курский район", "vk:-102_2_c2": "Льговский район", "ok:3_3": "Курский район", "vk:-100_1_c4": "Курский район"}
	topics := map[appeal.ID]string{"vk:-100_1_c1": "roads", "vk:-102_2_c2": "housing.water", "ok:3_3": "housing.management", "vk:-100_1_c4": "roads"}
	for i, f := range fixtures {
		net, ext, _ := f.id.Split()
		a := appeal.Appeal{Network: net, ExternalID: ext, Kind: appeal.KindComment, Text: texts[f.id],
			Author: appeal.Author{ID: "u" + ext, Name: "Гражданин"}, Community: appeal.Community{ID: "-100", Name: "Администрация"},
			CreatedAt: now.Add(-time.Duration(10-i) * time.Hour), Municipality: munis[f.id],
			Topics: []appeal.TopicScore{{Code: topics[f.id], Score: 0.9}}}
		if net == appeal.NetworkVK && strings.HasPrefix(ext, "-100_1_") {
			a.Thread = appeal.Thread{RootID: "-100_1"}
			a.Place = "Беседино"
		}
		_, err := store.Put(ctx, a)
		require.NoError(t, err)
		_, err = store.Transition(ctx, f.id, appeal.Change{To: appeal.StatusRouted, Actor: "pipeline", At: a.CreatedAt,
			Assignment:      &appeal.Assignment{Executor: f.executor, CoExecutors: f.co, Deadline: now.Add(time.Duration(f.deadlineInHours) * time.Hour)},
			ExpectedVersion: 1})
		require.NoError(t, err)
	}
	return newEnvWith(t, store, tls)
}

// newEnvWith serves the console over store, with the example rules, the
// answer loop publishing to a stand-in VK, and four users.
// storeWithOutbox is what the console needs of a store: appeals and the
// answer outbox (appeal.MemoryStore and sqlstore.Store are both).
type storeWithOutbox interface {
	appeal.Store
	appeal.Outbox
}

func newEnvWith(t testing.TB, store storeWithOutbox, tls bool) *env {
	engine, err := route.Parse(bytes.NewReader(rules.Region), "region.yaml")
	require.NoError(t, err)
	users := web.NewUsers()
	pw := map[string]string{"moderator": "m-secret", "analyst": "a-secret", "kursky": "k-secret", "housing": "h-secret"}
	for _, u := range []web.User{
		{Login: "moderator", Name: "Модератор", Role: web.RoleModerator},
		{Login: "analyst", Name: "Аналитик", Role: web.RoleAnalyst},
		{Login: "kursky", Name: "Оператор Курского района", Role: web.RoleOperator, Executor: "kursky-admin"},
		{Login: "housing", Name: "Оператор ЖКХ", Role: web.RoleOperator, Executor: "housing-committee"},
	} {
		require.NoError(t, users.Add(u, pw[u.Login], bcrypt.MinCost))
	}

	tmplFile, err := os.ReadFile("../answers.yaml")
	require.NoError(t, err)
	tmpl, err := answer.ParseTemplates(bytes.NewReader(tmplFile), "answers.yaml", engine.DefaultCalendar())
	require.NoError(t, err)
	clock := func() time.Time { return now }
	policy := answer.Policy{All: true}
	wf, err := answer.New(answer.Config{Store: store, Templates: tmpl, Rules: engine, Policy: policy, Now: clock})
	require.NoError(t, err)
	standIn := answertest.NewVK()
	t.Cleanup(standIn.Close)
	replier, err := vk.NewReplier(vk.API{Token: standIn.Token, TokenKind: vk.GroupToken, URL: standIn.URL()})
	require.NoError(t, err)
	pub, err := answer.NewPublisher(answer.PublisherConfig{Store: store, Now: clock,
		Channels: map[string]answer.Channel{"vk": {Replier: replier, Idempotent: true}}})
	require.NoError(t, err)

	s, err := web.New(web.Config{Store: store, Engine: engine, Users: users, Now: clock,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Answers: &web.Answers{Workflow: wf, Publisher: pub, Policy: policy, Outbox: store}})
	require.NoError(t, err)
	e := &env{store: store, vk: standIn, pw: pw}
	if tls {
		e.srv = httptest.NewTLSServer(s)
	} else {
		e.srv = httptest.NewServer(s)
	}
	t.Cleanup(e.srv.Close)
	return e
}

// client is one browser: a cookie jar, no redirects followed.
type client struct {
	t    testing.TB
	e    *env
	http *http.Client
	csrf string
}

func (e *env) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	// A client of its own: srv.Client() returns one shared client.
	hc := &http.Client{Transport: e.srv.Client().Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &client{t: t, e: e, http: hc}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	resp, err := c.http.Get(c.e.srv.URL + path)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfRe.FindStringSubmatch(string(b)); m != nil {
		c.csrf = m[1]
	}
	return resp.StatusCode, string(b)
}

func (c *client) postRaw(path string, form url.Values) *http.Response {
	c.t.Helper()
	resp, err := c.http.PostForm(c.e.srv.URL+path, form)
	require.NoError(c.t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// post sends a form with the session's CSRF token.
func (c *client) post(path string, form url.Values) *http.Response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", c.csrf)
	return c.postRaw(path, form)
}

func (c *client) login(login string) {
	c.t.Helper()
	code, _ := c.get("/login")
	require.Equal(c.t, http.StatusOK, code)
	resp := c.post("/login", url.Values{"login": {login}, "password": {c.e.pw[login]}})
	require.Equal(c.t, http.StatusSeeOther, resp.StatusCode, "sign-in of %s", login)
	c.get("/") // picks up the session's CSRF token from the page it lands on
	if login == "analyst" {
		c.get("/reports")
	} else {
		c.get("/queue")
	}
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSignInCookiesAreHttpOnlyStrictAndSecureOverTLS(t *testing.T) {
	for _, tls := range []bool{false, true} {
		e := newEnv(t, tls)
		c := e.client(t)
		code, _ := c.get("/login")
		require.Equal(t, http.StatusOK, code)
		resp := c.post("/login", url.Values{"login": {"kursky"}, "password": {"k-secret"}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		sc := cookieNamed(resp, "console_session")
		require.NotNil(t, sc, "session cookie set")
		assert.True(t, sc.HttpOnly, "HttpOnly")
		assert.Equal(t, http.SameSiteStrictMode, sc.SameSite)
		assert.Equal(t, tls, sc.Secure, "Secure exactly when served over TLS (tls=%v)", tls)
		assert.GreaterOrEqual(t, len(sc.Value), 40, "a long random token")

		// A second sign-in gets a new token, and the old one is dead.
		c2 := e.client(t)
		c2.get("/login")
		resp2 := c2.post("/login", url.Values{"login": {"kursky"}, "password": {"k-secret"}})
		assert.NotEqual(t, sc.Value, cookieNamed(resp2, "console_session").Value)

		// Sign-out kills the session on the server, not only in the browser.
		c.get("/queue")
		out := c.post("/logout", nil)
		assert.Equal(t, http.StatusSeeOther, out.StatusCode)
		replay := e.client(t)
		u, _ := url.Parse(e.srv.URL)
		replay.http.Jar.SetCookies(u, []*http.Cookie{{Name: "console_session", Value: sc.Value}})
		code, _ = replay.get("/queue")
		assert.Equal(t, http.StatusSeeOther, code, "a signed-out token is refused")
	}
}

func TestSignInRefusesWrongPasswordAndMissingCSRF(t *testing.T) {
	e := newEnv(t, false)
	c := e.client(t)
	c.get("/login")
	resp := c.post("/login", url.Values{"login": {"kursky"}, "password": {"wrong"}})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Nil(t, cookieNamed(resp, "console_session"))
	c.get("/login") // each sign-in form carries a fresh token
	resp = c.post("/login", url.Values{"login": {"nobody"}, "password": {"k-secret"}})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// A sign-in form posted from elsewhere has no token matching the cookie.
	other := e.client(t)
	resp = other.postRaw("/login", url.Values{"login": {"kursky"}, "password": {"k-secret"}, "csrf": {"forged"}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Nil(t, cookieNamed(resp, "console_session"))
}

// Five wrong passwords lock the login for a while, even against the right
// password; other logins are not affected.
func TestSignInIsThrottled(t *testing.T) {
	e := newEnv(t, false)
	c := e.client(t)
	for range 5 {
		c.get("/login")
		resp := c.post("/login", url.Values{"login": {"kursky"}, "password": {"guess"}})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	c.get("/login")
	resp := c.post("/login", url.Values{"login": {"kursky"}, "password": {"k-secret"}})
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Nil(t, cookieNamed(resp, "console_session"))
	other := e.client(t)
	other.login("housing")
}

func TestPagesNeedSignIn(t *testing.T) {
	e := newEnv(t, false)
	c := e.client(t)
	for _, p := range []string{"/", "/queue", "/appeals/vk:-100_1_c1", "/appeals/vk:-100_1_c1/answer", "/reports", "/reports/weekly", "/reports/executors.csv"} {
		code, body := c.get(p)
		assert.Equal(t, http.StatusSeeOther, code, p)
		assert.NotContains(t, body, "МЕТКА", p)
	}
	code, body := c.get("/counts")
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.NotContains(t, body, "open")
	resp := c.postRaw("/appeals/vk:-100_1_c1/reject", url.Values{"note": {"спам"}, "version": {"2"}})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	a, _ := e.store.Get(context.Background(), "vk:-100_1_c1")
	assert.Equal(t, appeal.StatusRouted, a.Status)
}

// Every POST of the console refuses a form without the session's token,
// and changes nothing.
func TestEveryPostNeedsTheSessionsCSRFToken(t *testing.T) {
	e := newEnv(t, false)
	mod := e.client(t)
	mod.login("moderator")
	other := e.client(t)
	other.login("kursky")

	id := "vk:-100_1_c1"
	posts := map[string]url.Values{
		"/logout":                              {},
		"/appeals/" + id + "/reassign":         {"executor": {"roads-committee"}, "version": {"2"}},
		"/appeals/" + id + "/reject":           {"note": {"спам"}, "version": {"2"}},
		"/appeals/" + id + "/merge":            {"with": {"vk:-100_1_c4"}},
		"/appeals/" + id + "/answer/new":       {"kind": {"interim"}, "version": {"2"}},
		"/appeals/" + id + "/answer/1/save":    {"text": {"x"}, "submit": {"1"}, "version": {"2"}},
		"/appeals/" + id + "/answer/1/approve": {"version": {"2"}},
		"/appeals/" + id + "/answer/1/return":  {"comment": {"x"}, "version": {"2"}},
		"/appeals/" + id + "/answer/publish":   {},
	}
	// The forged token differs from the real one in its first character
	// (a fixed "x" would equal it whenever the real one starts with "x").
	forged := "x" + mod.csrf[1:]
	if mod.csrf[0] == 'x' {
		forged = "y" + mod.csrf[1:]
	}
	for path, form := range posts {
		for name, token := range map[string]string{"none": "", "another session's": other.csrf, "forged": forged} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if token != "" {
				f.Set("csrf", token)
			}
			resp := mod.postRaw(path, f)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s with %s token", path, name)
		}
	}
	a, err := e.store.Get(context.Background(), appeal.ID(id))
	require.NoError(t, err)
	assert.Equal(t, int64(2), a.Version, "nothing was written")
	code, _ := mod.get("/queue")
	assert.Equal(t, http.StatusOK, code, "the session survived the forged logout")
}

// visibleTo says which fixtures each user may see.
var visibleTo = map[string][]appeal.ID{
	"moderator": {"vk:-100_1_c1", "vk:-102_2_c2", "ok:3_3", "vk:-100_1_c4"},
	"kursky":    {"vk:-100_1_c1"},
	"housing":   {"vk:-102_2_c2"},
	"analyst":   nil,
}

// No page shows an appeal to a role that may not see it: every route that
// shows appeals, for every user and every appeal, is checked for the
// markers and IDs of the appeals the user may not see.
func TestNoAppealVisibleToARoleThatMayNotSeeIt(t *testing.T) {
	e := newEnv(t, false)
	for login, allowed := range visibleTo {
		c := e.client(t)
		c.login(login)
		may := map[appeal.ID]bool{}
		for _, id := range allowed {
			may[id] = true
		}
		var pages []string
		pages = append(pages, "/queue", "/queue?status=open", "/queue?answer=on_review", "/queue?answer=returned", "/queue?executor=housing-inspection", "/queue?network=ok", "/reports", "/reports/weekly", "/reports/executors.csv")
		for _, f := range fixtures {
			pages = append(pages, "/appeals/"+string(f.id), "/appeals/"+string(f.id)+"/answer")
		}
		for _, p := range pages {
			code, body := c.get(p)
			for _, f := range fixtures {
				if may[f.id] {
					continue
				}
				// Markers nest (МЕТКА-КУРСК in МЕТКА-КУРСК-ВЕТКА): look for whole markers.
				re := regexp.MustCompile(regexp.QuoteMeta(f.marker) + `([^-А-Я]|$)`)
				assert.False(t, re.MatchString(body), "%s sees %s on %s (HTTP %d)", login, f.marker, p, code)
				assert.NotContains(t, body, `data-id="`+string(f.id)+`"`, "%s sees %s on %s", login, f.id, p)
				assert.NotContains(t, body, `/appeals/`+string(f.id)+`"`, "%s gets a link to %s on %s", login, f.id, p)
			}
			switch {
			case strings.HasPrefix(p, "/appeals/"):
				id := appeal.ID(strings.TrimSuffix(strings.TrimPrefix(p, "/appeals/"), "/answer"))
				if may[id] {
					assert.Equal(t, http.StatusOK, code, "%s %s", login, p)
				} else if login == "analyst" {
					assert.Equal(t, http.StatusForbidden, code, "%s %s", login, p)
				} else {
					assert.Equal(t, http.StatusNotFound, code, "%s %s: same answer as for an id that does not exist", login, p)
				}
			case strings.HasPrefix(p, "/queue"):
				if login == "analyst" {
					assert.Equal(t, http.StatusForbidden, code, "%s %s", login, p)
				} else {
					assert.Equal(t, http.StatusOK, code, "%s %s", login, p)
				}
			case strings.HasPrefix(p, "/reports"):
				if login == "kursky" || login == "housing" {
					assert.Equal(t, http.StatusForbidden, code, "%s %s: reports are for the centre", login, p)
				} else {
					assert.Equal(t, http.StatusOK, code, "%s %s", login, p)
				}
			}
		}
		// The queue lists exactly the appeals the user may see.
		if login != "analyst" {
			_, body := c.get("/queue")
			got := regexp.MustCompile(`data-id="([^"]+)"`).FindAllStringSubmatch(body, -1)
			var ids []appeal.ID
			for _, m := range got {
				ids = append(ids, appeal.ID(m[1]))
			}
			assert.ElementsMatch(t, allowed, ids, "queue of %s", login)

			code, body := c.get("/counts")
			require.Equal(t, http.StatusOK, code)
			var counts struct{ Open, Overdue, Handled, Total int }
			require.NoError(t, json.Unmarshal([]byte(body), &counts))
			assert.Equal(t, len(allowed), counts.Open+counts.Handled, "counts of %s cover only what it sees", login)
			// The store counts them (appeal.Count); each figure is what
			// the appeals themselves say.
			open, overdue := 0, 0
			for _, id := range allowed {
				a, err := e.store.Get(context.Background(), id)
				require.NoError(t, err)
				if a.Status.AwaitsAnswer() {
					open++
				}
				if a.Overdue(now) {
					overdue++
				}
			}
			assert.Equal(t, len(allowed), counts.Total, login)
			assert.Equal(t, open, counts.Open, login)
			assert.Equal(t, overdue, counts.Overdue, login)
		} else {
			code, _ := c.get("/counts")
			assert.Equal(t, http.StatusForbidden, code)
		}
	}
}

// Each filter of the queue keeps exactly the appeals it names, and the rows
// come by deadline, the overdue one first.
func TestQueueFiltersAndOrder(t *testing.T) {
	e := newEnv(t, false)
	mod := e.client(t)
	mod.login("moderator")
	ids := func(path string) []string {
		code, body := mod.get(path)
		require.Equal(t, http.StatusOK, code, path)
		var out []string
		for _, m := range regexp.MustCompile(`data-id="([^"]+)"`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	assert.Equal(t, []string{"vk:-100_1_c1", "vk:-102_2_c2", "ok:3_3", "vk:-100_1_c4"}, ids("/queue"), "by deadline")
	assert.Equal(t, []string{"ok:3_3"}, ids("/queue?network=ok"))
	assert.Equal(t, []string{"vk:-102_2_c2"}, ids("/queue?executor=lgovsky-admin"))
	assert.Equal(t, []string{"vk:-102_2_c2"}, ids("/queue?municipality="+url.QueryEscape("Льговский район")))
	assert.Equal(t, []string{"vk:-102_2_c2", "ok:3_3"}, ids("/queue?topic=housing"), "a topic covers its subtopics")
	assert.Equal(t, []string{"vk:-100_1_c1"}, ids("/queue?status=overdue"))
	assert.Empty(t, ids("/queue?status=answered"))
	assert.Equal(t, []string{"vk:-100_1_c4"}, ids("/queue?topic=roads&network=vk&status=open&municipality="+url.QueryEscape("Курский район")+"&executor=roads-committee"))
	_, body := mod.get("/queue")
	assert.Regexp(t, `<tr class="overdue" data-id="vk:-100_1_c1">`, body, "the overdue row is marked")
	assert.Contains(t, body, "просрочено на 3 ч")

	// A handled appeal leaves the default view (the open work) and is in
	// "all" and under its own status, open ones first; the filter's
	// choice stays offered though no open appeal has it.
	a, err := e.store.Get(context.Background(), "ok:3_3")
	require.NoError(t, err)
	_, err = e.store.Transition(context.Background(), a.ID, appeal.Change{To: appeal.StatusRejected, Actor: "moderator", Note: "спам", At: now, ExpectedVersion: a.Version})
	require.NoError(t, err)
	assert.Equal(t, []string{"vk:-100_1_c1", "vk:-102_2_c2", "vk:-100_1_c4"}, ids("/queue"))
	assert.Equal(t, []string{"vk:-100_1_c1", "vk:-102_2_c2", "vk:-100_1_c4", "ok:3_3"}, ids("/queue?status=all"))
	assert.Equal(t, []string{"ok:3_3"}, ids("/queue?status=rejected"))
	assert.Equal(t, []string{"ok:3_3"}, ids("/queue?status=all&executor=housing-inspection"))
	_, body = mod.get("/queue?status=all&executor=housing-inspection")
	assert.Regexp(t, `<option value="housing-inspection" selected>`, body)
	assert.Regexp(t, `<option value="all" selected>все</option>`, body)
	code, body := mod.get("/counts")
	require.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"open":3,"overdue":1,"handled":1,"total":4}`, body)
	_, body = mod.get("/queue")
	assert.Contains(t, body, `data-open="3" data-overdue="1" data-handled="1"`, "the page's figures are the refresh's")
}

// A card shows the other messages under the same post, and none of
// another post's.
func TestCardShowsItsThread(t *testing.T) {
	e := newEnv(t, false)
	mod := e.client(t)
	mod.login("moderator")
	thread := func(id string) string {
		code, body := mod.get("/appeals/" + id)
		require.Equal(t, http.StatusOK, code, id)
		_, section, _ := strings.Cut(body, `<ul class="thread">`)
		section, _, _ = strings.Cut(section, "</ul>")
		return section
	}
	assert.Contains(t, thread("vk:-100_1_c1"), "/appeals/vk:-100_1_c4", "c1 and c4 hang under -100_1")
	assert.NotContains(t, thread("vk:-100_1_c1"), "/appeals/vk:-100_1_c1", "not itself")
	assert.Contains(t, thread("vk:-100_1_c4"), "/appeals/vk:-100_1_c1")
	assert.Empty(t, thread("vk:-102_2_c2"), "a message alone in its thread")
}

// An operator may not act on another executor's appeal, even with a valid
// token, and no one but a moderator reassigns, rejects, merges or approves.
func TestActionsNeedTheRightRole(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	op := e.client(t)
	op.login("kursky")
	for _, p := range []string{"/appeals/vk:-100_1_c1/reassign", "/appeals/vk:-100_1_c1/reject", "/appeals/vk:-100_1_c1/merge"} {
		resp := op.post(p, url.Values{"executor": {"kursky-admin"}, "note": {"x"}, "version": {"2"}, "with": {"vk:-100_1_c4"}})
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, p)
	}
	// Another executor's appeal: 404, as if it did not exist.
	resp := op.post("/appeals/vk:-102_2_c2/answer/new", url.Values{"kind": {"interim"}, "version": {"2"}})
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	a, _ := e.store.Get(ctx, "vk:-102_2_c2")
	assert.Empty(t, a.Drafts)

	an := e.client(t)
	an.login("analyst")
	resp = an.post("/appeals/vk:-100_1_c1/answer/new", url.Values{"kind": {"interim"}, "version": {"2"}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestModeratorReassignsRejectsAndMerges(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	mod := e.client(t)
	mod.login("moderator")

	resp := mod.post("/appeals/vk:-100_1_c1/reassign", url.Values{"executor": {"roads-committee"}, "note": {"дорога региональная"}, "version": {"2"}})
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	a, _ := e.store.Get(ctx, "vk:-100_1_c1")
	assert.Equal(t, "roads-committee", a.Executor())
	assert.NotContains(t, a.Assignment.CoExecutors, "roads-committee")
	last := a.History[len(a.History)-1]
	assert.Equal(t, "Модератор (moderator)", last.Actor, "who did it, with the unique login")
	assert.Contains(t, last.Note, "Комитет транспорта и автомобильных дорог Курской области")
	assert.Contains(t, last.Note, "дорога региональная")
	// The deadline runs on: reassigning does not give the new executor more time.
	assert.True(t, a.Deadline().Equal(now.Add(-3*time.Hour)))
	_, body := mod.get("/appeals/vk:-100_1_c1")
	assert.Contains(t, body, "Обращение передано")

	// A stale form (version 2, the appeal is at 3 now) is refused with a message.
	resp = mod.post("/appeals/vk:-100_1_c1/reject", url.Values{"note": {"спам"}, "version": {"2"}})
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, body = mod.get("/appeals/vk:-100_1_c1")
	assert.Contains(t, body, "Обращение успели изменить")
	a, _ = e.store.Get(ctx, "vk:-100_1_c1")
	assert.Equal(t, appeal.StatusRouted, a.Status)

	// The grouper marks the complaint about the same street as the same problem.
	_, body = mod.get("/appeals/vk:-100_1_c1")
	assert.Regexp(t, `<option value="vk:-100_1_c4">★ `, body)
	assert.NotContains(t, body, `<option value="ok:3_3">`, "another topic is no candidate")

	resp = mod.post("/appeals/vk:-100_1_c1/merge", url.Values{"with": {"vk:-100_1_c4"}})
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	a, _ = e.store.Get(ctx, "vk:-100_1_c1")
	b, _ := e.store.Get(ctx, "vk:-100_1_c4")
	require.NotEmpty(t, a.IncidentID)
	assert.Equal(t, a.IncidentID, b.IncidentID)
	assert.Contains(t, a.History[len(a.History)-1].Note, "инцидент")
	_, body = mod.get("/appeals/vk:-100_1_c1")
	assert.Contains(t, body, "Входит в инцидент")
	_, body = mod.get("/reports")
	assert.Regexp(t, `<b>1</b><span>инцидентов`, body, "the report counts the merged incident")

	resp = mod.post("/appeals/ok:3_3/reject", url.Values{"note": {"не обращение"}, "version": {"2"}})
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	c, _ := e.store.Get(ctx, "ok:3_3")
	assert.Equal(t, appeal.StatusRejected, c.Status)
	assert.Contains(t, c.History[len(c.History)-1].Note, "не обращение")
}

// The answer loop over HTTP: the operator drafts from the template and
// submits, may not approve; the moderator returns it, the operator fixes
// it, the moderator approves and publishes to the stand-in VK; the store,
// the page and the network agree.
func TestAnswerThroughApprovalToPublication(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	id := "vk:-100_1_c1"
	op := e.client(t)
	op.login("kursky")
	mod := e.client(t)
	mod.login("moderator")
	form := func(c *client, extra url.Values) url.Values {
		a, err := e.store.Get(ctx, appeal.ID(id))
		require.NoError(t, err)
		c.get("/appeals/" + id + "/answer")
		extra.Set("version", itoa(a.Version))
		return extra
	}

	resp := op.post("/appeals/"+id+"/answer/new", form(op, url.Values{"kind": {"interim"}}))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	a, _ := e.store.Get(ctx, appeal.ID(id))
	require.Len(t, a.Drafts, 1)
	assert.Contains(t, a.Drafts[0].Text, "Администрация Курского района")
	assert.Contains(t, a.Drafts[0].Text, "декабря")

	// A text the gate refuses stays a draft, with the reason on the page.
	resp = op.post("/appeals/"+id+"/answer/1/save", form(op, url.Values{"text": {"Ваше обращение рассмотрено, будут приняты меры в установленном порядке."}, "submit": {"1"}}))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, body := op.get("/appeals/" + id + "/answer")
	assert.Contains(t, body, "Проверка качества нашла замечания")
	assert.Contains(t, body, `class="issues"`)
	a, _ = e.store.Get(ctx, appeal.ID(id))
	assert.Equal(t, appeal.AnswerDraft, a.Drafts[0].State)

	good := "Здравствуйте! Яму на улице Садовой в Беседино заделают до 4 декабря: Администрация Курского района направила дорожную бригаду."
	resp = op.post("/appeals/"+id+"/answer/1/save", form(op, url.Values{"text": {good}, "submit": {"1"}}))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	a, _ = e.store.Get(ctx, appeal.ID(id))
	require.Equal(t, appeal.AnswerOnReview, a.Drafts[0].State, "issues: %v", a.Drafts[0].Issues)

	resp = op.post("/appeals/"+id+"/answer/1/approve", form(op, url.Values{}))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "an operator does not approve")

	// The moderator finds it in the review queue; another executor's operator does not.
	_, body = mod.get("/queue?answer=on_review")
	assert.Contains(t, body, `data-id="`+id+`"`)
	assert.Contains(t, body, `На согласовании: <b>1</b>`)
	assert.Equal(t, 1, strings.Count(body, `data-id="`), "only the appeal with a draft on review")
	housing := e.client(t)
	housing.login("housing")
	_, body = housing.get("/queue?answer=on_review")
	assert.NotContains(t, body, `data-id="`+id+`"`)
	assert.Contains(t, body, `На согласовании: <b>0</b>`)

	resp = mod.post("/appeals/"+id+"/answer/1/return", form(mod, url.Values{"comment": {"Укажите, кто отвечает за ремонт."}}))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, body = op.get("/appeals/" + id + "/answer")
	assert.Contains(t, body, "Укажите, кто отвечает за ремонт.")
	resp = op.post("/appeals/"+id+"/answer/1/save", form(op, url.Values{"text": {good + " Ответственный — глава администрации."}, "submit": {"1"}}))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	resp = mod.post("/appeals/"+id+"/answer/1/approve", form(mod, url.Values{}))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	pending, err := e.store.Pending(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1)

	resp = mod.post("/appeals/"+id+"/answer/publish", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, body = mod.get("/appeals/" + id + "/answer")
	assert.Contains(t, body, "Ответ опубликован.")
	assert.Contains(t, body, `data-state="published"`)

	a, _ = e.store.Get(ctx, appeal.ID(id))
	assert.Equal(t, appeal.AnswerPublished, a.Drafts[0].State)
	assert.Equal(t, appeal.StatusInProgress, a.Status, "an interim answer puts the appeal in progress")
	require.Len(t, a.Replies, 1)
	posts := e.vk.Posts()
	require.Len(t, posts, 1)
	assert.Equal(t, "wall.createComment", posts[0].Method)
	assert.Equal(t, a.Replies[0].Text, posts[0].Params.Get("message"))
	assert.Contains(t, body, a.Replies[0].ExternalID, "the page shows the id the network gave")
	pending, _ = e.store.Pending(ctx)
	assert.Empty(t, pending)

	// A published answer is not edited: the refusal comes back to the
	// answer page with a reason, and nothing changes.
	resp = op.post("/appeals/"+id+"/answer/1/save", form(op, url.Values{"text": {"Другой текст"}}))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/appeals/"+id+"/answer", resp.Header.Get("Location"))
	_, body = op.get("/appeals/" + id + "/answer")
	assert.Contains(t, body, "этот шаг невозможен")
	after, _ := e.store.Get(ctx, appeal.ID(id))
	assert.Equal(t, a.Version, after.Version)
}

func TestUsersFileErrorsNameFileAndLine(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("op-secret"), bcrypt.MinCost)
	require.NoError(t, err)
	good := "# demo\nmod:moderator::secret:Модератор ЦУР\n\nop:operator:kursky-admin:" + string(hash) + "\n"
	us, err := web.ParseUsers(strings.NewReader(good), "users.txt", bcrypt.MinCost)
	require.NoError(t, err)
	assert.Len(t, us.List(), 2)
	u, ok := us.Authenticate("op", "op-secret")
	require.True(t, ok, "a bcrypt hash in the file is taken as it is")
	assert.Equal(t, "kursky-admin", u.Executor)
	_, ok = us.Authenticate("op", string(hash))
	assert.False(t, ok)

	for _, tc := range []struct{ text, want string }{
		{"a:moderator::pw\nb:boss::pw\n", "users.txt:2"},
		{"a:operator::pw\n", "needs an executor"},
		{"a:analyst:kursky-admin:pw\n", "only an operator"},
		{"a:analyst::pw\na:analyst::pw\n", "listed twice"},
		{"a:analyst\n", "users.txt:1"},
		{"# nobody\n", "lists nobody"},
		{"a:analyst::x\nb:analyst::$2a$99$broken\n", "users.txt:2"},
	} {
		_, err := web.ParseUsers(strings.NewReader(tc.text), "users.txt", bcrypt.MinCost)
		require.Error(t, err, tc.text)
		assert.ErrorIs(t, err, web.ErrUsers)
		assert.Contains(t, err.Error(), tc.want, tc.text)
	}
	u, ok = us.Authenticate("mod", "secret")
	require.True(t, ok)
	assert.Equal(t, "Модератор ЦУР", u.Name)
	assert.NotContains(t, string(u.Hash), "secret")
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, false)
	resp, err := e.srv.Client().Get(e.srv.URL + "/login")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'")
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Empty(t, resp.Header.Get("Strict-Transport-Security"), "no HSTS over plain HTTP")

	resp, err = e.srv.Client().Get(e.srv.URL + "/no/such/page")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, string(body), "Такой страницы нет.")

	tls := newEnv(t, true)
	resp, err = tls.srv.Client().Get(tls.srv.URL + "/login")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Contains(t, resp.Header.Get("Strict-Transport-Security"), "max-age=")
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
