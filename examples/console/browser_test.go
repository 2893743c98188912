package main

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/report"
	"github.com/appealkit/appealkit/appeal/stats"
)

// chromiumPath finds a headless-capable Chromium. Without one the browser
// test skips, except under CI (CI=true), where it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not installed, and CI=true: the console's browser test must run (Debian: apt-get install -y chromium)")
	}
	t.Skip("chromium not installed: the console's browser test needs it (Debian: apt-get install -y chromium)")
	return ""
}

// artefacts is where screenshots go: $APPEALKIT_ARTEFACTS, else a temp dir.
func artefacts(t *testing.T) string {
	dir := os.Getenv("APPEALKIT_ARTEFACTS")
	if dir == "" {
		return t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// browser is one headless Chromium tab.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, steps...))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(b.t, err, "text of %s", sel)
	return strings.TrimSpace(s)
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`))
	require.NoError(b.t, err)
	return n
}

// shot saves a full-page PNG at the current viewport width.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err)
	require.NoError(b.t, os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o644))
}

func (b *browser) signIn(login, password string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), login),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`.login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.who .name`)))
}

func (b *browser) signOut() {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(`.who button`)), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)))
}

// click presses a button and waits for the page it leads to.
func (b *browser) click(sel, waitFor string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(sel)), chromedp.WaitVisible(chromedp.CSS(waitFor)))
}

// The console in a real browser: an operator signs in, finds the appeal in
// the queue, answers it from the template and sends it for approval; the
// moderator approves and publishes it to the stand-in VK; the citizen's
// thanks come through the live pipeline; the analyst reads the report. At
// every step the page is checked against the store, and the main screens
// are saved at 1366×768 and at a phone's width.
func TestConsoleInBrowser(t *testing.T) {
	bin := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	o, err := parseFlags([]string{"-db", filepath.Join(t.TempDir(), "console.db"), "-demo-password", "demo-pass",
		"-bcrypt-cost", "4", "-publish-every", "1h", "-refresh-every", "300ms"})
	require.NoError(t, err)
	c, err := start(ctx, o, io.Discard)
	require.NoError(t, err)
	defer c.Close()
	srv := httptest.NewServer(c.Handler)
	defer srv.Close()

	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 768))
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(alloc)
	defer cancelTab()
	b := &browser{t: t, ctx: tab, base: srv.URL, dir: artefacts(t)}
	desktop := chromedp.EmulateViewport(1366, 768)
	phone := chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2))
	b.do(desktop)

	const id = appeal.ID("vk:-100_4000_c9000") // the pothole in Беседино: Администрация Курского района
	stored := func() appeal.Appeal {
		a, err := c.Store.Get(ctx, id)
		require.NoError(t, err)
		return a
	}

	// The operator's queue: exactly the appeals of its executor, counts as in the store.
	b.signIn("kursky", "demo-pass")
	b.do(chromedp.WaitVisible(chromedp.CSS(`table.queue`)))
	all, err := c.Store.List(ctx, appeal.Filter{})
	require.NoError(t, err)
	var mine, open, overdue int
	now := time.Now()
	for _, a := range all {
		if a.Executor() == "kursky-admin" || (a.Assignment != nil && contains(a.Assignment.CoExecutors, "kursky-admin")) {
			mine++
			if a.Status.AwaitsAnswer() {
				open++
				if a.Overdue(now) {
					overdue++
				}
			}
		}
	}
	require.Positive(t, mine)
	assert.Equal(t, mine, b.count(`table.queue tbody tr`), "one row per appeal of the operator's executor")
	assert.Equal(t, strconv.Itoa(open), b.text(`[data-count=open]`))
	assert.Equal(t, strconv.Itoa(overdue), b.text(`[data-count=overdue]`))
	assert.Equal(t, overdue, b.count(`table.queue tr.overdue`), "overdue rows are marked")
	b.shot("queue-desktop")
	noSideScroll(t, b)

	// A new appeal for the district arrives while the queue is open: the
	// counts follow without a reload.
	require.NoError(t, c.Intake(ctx, appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-100_4100_c9900", Kind: appeal.KindComment,
		Text: "В Беседино на улице Садовой огромная яма на дороге, машины бьют колёса", Author: appeal.Author{ID: "u7000", Name: "Пётр"},
		Community: appeal.Community{ID: "-100", Name: "Администрация Курского района", Official: true}, CreatedAt: time.Now()}))
	fresh, err := c.Store.Get(ctx, appeal.NewID(appeal.NetworkVK, "-100_4100_c9900"))
	require.NoError(t, err)
	require.Equal(t, "kursky-admin", fresh.Executor())
	_, err = chromedp.Run(b.ctx, chromedp.Poll[bool](`document.querySelector('[data-count=open]').textContent === `+strconv.Quote(strconv.Itoa(open+1)),
		chromedp.WithPollingTimeout(5*time.Second)))
	require.NoError(t, err, "the open count refreshes itself")

	// The card: where it came from and why it went here.
	b.click(`tr[data-id="`+string(id)+`"] td.text a`, `#appeal-text`)
	a := stored()
	assert.Equal(t, a.Text, b.text(`#appeal-text`))
	assert.Equal(t, "Администрация Курского района", b.text(`#executor`))
	assert.Contains(t, b.text(`.why .trace li.deciding`), a.Assignment.RuleID)
	b.shot("card-desktop")

	// The answer: a draft from the template, no warnings, sent for approval.
	b.click(`.answer-summary a.button`, `section.answer.new`)
	b.click(`section.answer.new button[type=submit]`, `section.answer[data-state=draft] textarea`)
	draft := stored().Drafts[0]
	value, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(`section.answer[data-state=draft] textarea`)))
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(draft.Text), strings.TrimSpace(value), "the draft on the page is the draft in the store")
	assert.Equal(t, 1, b.count(`.gate-ok`), "the template's text passes the quality gate")
	b.shot("answer-draft-desktop")

	// An «отписка» does not pass the gate: the reasons are on the page and in the store.
	b.do(chromedp.SetValue(chromedp.CSS(`section.answer[data-state=draft] textarea`), "Ваше обращение рассмотрено, будут приняты меры в установленном порядке."))
	b.click(`section.answer[data-state=draft] button[name=submit]`, `section.answer[data-state=draft] ul.issues`)
	stopped := stored().Drafts[0]
	assert.Equal(t, appeal.AnswerDraft, stopped.State)
	require.NotEmpty(t, stopped.Issues)
	assert.Equal(t, len(stopped.Issues), b.count(`section.answer[data-state=draft] ul.issues li`))
	assert.Contains(t, b.text(`.flash`), "замечания")
	b.shot("answer-gate-desktop")

	b.do(chromedp.SetValue(chromedp.CSS(`section.answer[data-state=draft] textarea`), draft.Text))
	b.click(`section.answer[data-state=draft] button[name=submit]`, `section.answer[data-state=on_review]`)
	assert.Equal(t, appeal.AnswerOnReview, stored().Drafts[0].State)
	assert.Zero(t, b.count(`.review form`), "an operator sees no approve button")
	b.signOut()

	// The moderator finds the answer in the review queue, merges the
	// appeal with a similar one into an incident, approves and publishes.
	b.signIn("moderator", "demo-pass")
	assert.Equal(t, "1", b.text(`.count.pending b`))
	b.click(`a.count.pending`, `table.queue`)
	assert.Equal(t, 1, b.count(`table.queue tbody tr`), "one answer on review")
	b.click(`tr[data-id="`+string(id)+`"] td.text a`, `#appeal-text`)
	if b.count(`.incident form`) == 1 {
		// The complaint about the same pothole that came in while the queue
		// was open is starred as the same problem and offered first.
		with, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(`.incident select[name=with]`)))
		require.NoError(t, err)
		assert.Equal(t, string(fresh.ID), with)
		first, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.CSS(`.incident select[name=with] option`)))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(first, "★"), "starred by the grouper: %q", first)
		b.click(`.incident form button`, `.incident p b`)
		other, err := c.Store.Get(ctx, appeal.ID(with))
		require.NoError(t, err)
		require.NotEmpty(t, stored().IncidentID)
		assert.Equal(t, stored().IncidentID, other.IncidentID, "both appeals joined one incident")
		assert.Equal(t, stored().IncidentID, b.text(`.incident p b`))
		b.shot("card-moderator-desktop")
	} else {
		t.Error("the card offers no appeal to merge with: the sample has another road complaint in Курский район")
	}
	b.click(`.answer-summary a.button`, `section.answer[data-state=on_review]`)
	b.shot("answer-review-desktop")
	b.click(`.review form[action$="/approve"] button`, `section.answer[data-state=approved]`)
	assert.Equal(t, appeal.AnswerApproved, stored().Drafts[0].State)
	b.click(`form[action$="/answer/publish"] button`, `section.answer[data-state=published]`)
	a = stored()
	require.Len(t, a.Replies, 1)
	assert.Equal(t, appeal.AnswerPublished, a.Drafts[0].State)
	assert.Equal(t, appeal.StatusInProgress, a.Status)
	assert.Equal(t, "в работе", b.text(`h1 .status`))
	assert.Equal(t, a.Replies[0].Text, b.text(`section.answer[data-state=published] blockquote.answer-text`))
	posts := c.StandIn.Posts()
	require.Len(t, posts, 1, "posted once to the stand-in VK")
	assert.Equal(t, a.Replies[0].Text, posts[0].Params.Get("message"))
	assert.Contains(t, b.text(`.published`), a.Replies[0].ExternalID)
	b.shot("answer-published-desktop")

	// The citizen's thanks arrive in the thread through the live pipeline.
	require.NoError(t, c.Intake(ctx, appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-100_4000_c9100", Kind: appeal.KindReply,
		Text: "Спасибо большое, яму заделали!", Author: a.Author, Community: a.Community,
		Thread: appeal.Thread{ParentID: a.ExternalID, RootID: a.ExternalID}, CreatedAt: time.Now()}))
	require.Eventually(t, func() bool { r := stored().Replies; return len(r) == 1 && r[0].Reaction != "" }, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, appeal.ReactionThanks, stored().Replies[0].Reaction)
	b.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`.reaction`)))
	assert.Equal(t, "благодарность", b.text(`.reaction`))

	// Phone width: the same screens must still work.
	b.do(phone)
	b.shot("answer-phone")
	noSideScroll(t, b)
	b.do(chromedp.Navigate(b.base+"/queue"), chromedp.WaitVisible(chromedp.CSS(`table.queue`)))
	b.shot("queue-phone")
	noSideScroll(t, b)
	b.do(chromedp.Navigate(b.base+"/appeals/"+string(id)), chromedp.WaitVisible(chromedp.CSS(`#appeal-text`)))
	b.shot("card-phone")
	noSideScroll(t, b)
	b.do(desktop)
	b.signOut()

	// The analyst: the report agrees with appeal/stats over the store, and
	// the queue is closed to it.
	b.signIn("analyst", "demo-pass")
	b.do(chromedp.WaitVisible(chromedp.CSS(`table.ratings.overall`)))
	all, err = c.Store.List(ctx, appeal.Filter{})
	require.NoError(t, err)
	r := stats.FromSlice(all, stats.Config{})
	assert.Equal(t, strconv.Itoa(r.Total), b.text(`.tile.total b`))
	assert.Equal(t, strconv.Itoa(r.Answered), b.text(`.tile.answered b`))
	assert.Equal(t, len(r.Executors), b.count(`table.ratings.overall tbody tr`))
	require.Equal(t, 1, r.Loop.Reacted, "the citizen's thanks count")
	assert.Equal(t, report.Percent(r.Loop.SatisfactionShare)+" %", b.text(`.tile.satisfaction b`))
	assert.Positive(t, b.count(`table.ratings.monthly tbody tr`), "the month's ratings")
	assert.Equal(t, "1", b.text(`.tile.incidents b`), "the incident the moderator recorded")
	b.shot("report-desktop")
	b.do(chromedp.Navigate(b.base+"/reports/weekly"), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	b.shot("weekly-desktop")
	b.do(chromedp.Navigate(b.base+"/reports"), chromedp.WaitVisible(chromedp.CSS(`table.ratings.overall`)), phone)
	b.shot("report-phone")
	noSideScroll(t, b)
	b.do(desktop, chromedp.Navigate(b.base+"/queue"), chromedp.WaitVisible(chromedp.CSS(`.error`)))
	assert.Zero(t, b.count(`table.queue`))
	t.Logf("screenshots in %s", b.dir)
}

// noSideScroll checks that the page fits the viewport's width.
func noSideScroll(t *testing.T, b *browser) {
	t.Helper()
	w, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
	require.NoError(t, err)
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	assert.LessOrEqual(t, w, 1, "%s scrolls sideways", loc)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
