// Command answers runs the answer half of a ЦУР's work over the quickstart
// sample, with no token and no network:
//
//	quickstart appeals → classify → route → SQLite store
//	  → draft from a template (answers.yaml) → quality gate → approval
//	  → outbox → publisher → a stand-in VK API (httptest) and a stand-in
//	    portal (signed callback); Telegram and OK answers go back to the
//	    operator (no channel configured here)
//	  → the citizen's reaction → monthly ratings
//
// and prints each step.
//
//	go run ./examples/answers
//	go run ./examples/answers -now 2026-11-24T09:00:00+03:00 -show 3
package main

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
	_ "time/tzdata"

	_ "modernc.org/sqlite"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
	"github.com/appealkit/appealkit/appeal/answer/answertest"
	"github.com/appealkit/appealkit/appeal/report"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/appeal/stats"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/examples/internal/setup"
	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/source/replay"
	"github.com/appealkit/appealkit/source/vk"
)

//go:embed answers.yaml
var templatesFile []byte

func main() {
	setup.Main("answers", func(ctx context.Context) error { return run(ctx, os.Args[1:], os.Stdout) }, os.Interrupt)
}

type options struct {
	quickstart string
	now        time.Time
	show       int
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("answers", flag.ContinueOnError)
	var o options
	var now string
	fs.StringVar(&o.quickstart, "quickstart", "", "directory with the quickstart's sample.jsonl and gazetteer.yaml (default: examples/quickstart, found from the working directory)")
	fs.StringVar(&now, "now", "2026-11-24T09:00:00+03:00", "when the appeals are routed and answered, RFC 3339")
	fs.IntVar(&o.show, "show", 3, "how many appeals to show step by step")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	t, err := time.Parse(time.RFC3339, now)
	if err != nil {
		return o, fmt.Errorf("-now: %w", err)
	}
	o.now = t
	if o.quickstart == "" {
		for _, d := range []string{"examples/quickstart", "../quickstart"} {
			if _, err := os.Stat(filepath.Join(d, "sample.jsonl")); err == nil {
				o.quickstart = d
				break
			}
		}
		if o.quickstart == "" {
			return o, errors.New("cannot find examples/quickstart/sample.jsonl: run from the repository root or pass -quickstart")
		}
	}
	return o, nil
}

// clock is the demo's time: it starts at -now and moves forward as the
// story does.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "appealkit-answers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// 1. Intake, as in the quickstart.
	engine, err := route.Parse(bytes.NewReader(rules.Region), "examples/rules/region.yaml")
	if err != nil {
		return err
	}
	store, closeDB, err := openStore(ctx, filepath.Join(tmp, "appeals.db"))
	if err != nil {
		return err
	}
	defer closeDB()
	if err := intake(ctx, o, engine, store); err != nil {
		return err
	}
	routed, err := store.List(ctx, appeal.Filter{Statuses: []appeal.Status{appeal.StatusRouted}})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Приём: %d обращений направлены исполнителям (правила %q).\n", len(routed), engine.Name())

	// 2. The answer workflow: templates, gate, a moderator for ЖКХ.
	templates, err := answer.ParseTemplates(bytes.NewReader(templatesFile), "examples/answers/answers.yaml", engine.DefaultCalendar())
	if err != nil {
		return err
	}
	clk := &clock{t: o.now}
	w, err := answer.New(answer.Config{Store: store, Templates: templates, Rules: engine, Now: clk.Now,
		Policy: answer.Policy{Topics: []string{"housing"}}})
	if err != nil {
		return err
	}

	// 3. Where answers go: a VK-shaped API and a portal, both in-process.
	vkAPI := answertest.NewVK()
	defer vkAPI.Close()
	vkReplier, err := vk.NewReplier(vk.API{Token: vkAPI.Token, URL: vkAPI.URL(), HTTPClient: vkAPI.Server.Client(),
		RequestsPerSecond: 1000, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	secret := []byte("portal-shared-secret")
	portalSrv, portalGot := newPortal(secret)
	defer portalSrv.Close()
	portal, err := answer.NewPortalReplier(answer.PortalConfig{URL: portalSrv.URL, Secret: secret, Client: portalSrv.Client(), Now: clk.Now})
	if err != nil {
		return err
	}
	pub, err := answer.NewPublisher(answer.PublisherConfig{Store: store, Now: clk.Now, Channels: map[string]answer.Channel{
		"vk":  {Replier: vkReplier, Idempotent: true, IsPermanent: answer.OnlyTemporaryRetried},
		"web": {Replier: portal, Idempotent: true},
	}})
	if err != nil {
		return err
	}

	// 4. Every routed appeal gets an interim answer.
	fmt.Fprintln(out, "\n== Промежуточные ответы: шаблон → проверка → согласование")
	onReview, queued := 0, 0
	for i, a := range routed {
		show := i < o.show
		a, d, err := w.Draft(ctx, a.ID, appeal.AnswerInterim, "operator:ivanova", a.Version)
		if err != nil {
			return err
		}
		if show {
			fmt.Fprintf(out, "\n%s (%s, %s)\n  черновик по шаблону:\n%s\n", a.ID, topicTitle(a.TopTopic()), w.ExecutorName(a.Executor()), indent(d.Text, "    "))
		}
		a, err = w.Submit(ctx, a.ID, d.ID, "operator:ivanova", a.Version)
		var ge *answer.GateError
		if errors.As(err, &ge) {
			fmt.Fprintf(out, "  %s: не прошёл проверку: %v\n", a.ID, ge.Issues)
			continue
		}
		if err != nil {
			return err
		}
		if a.Drafts[0].State == appeal.AnswerOnReview {
			onReview++
			if show {
				fmt.Fprintln(out, "  проверка пройдена → на согласовании у модератора ЦУР (тема ЖКХ)")
			}
			if a, err = w.Approve(ctx, a.ID, d.ID, "moderator:petrov", a.Version); err != nil {
				return err
			}
			if show {
				fmt.Fprintln(out, "  модератор согласовал → в очереди на публикацию")
			}
		} else if show {
			fmt.Fprintln(out, "  проверка пройдена, согласование не требуется → в очереди на публикацию")
		}
		queued++
	}
	fmt.Fprintf(out, "\nВ очереди: %d ответов (%d прошли согласование).\n", queued, onReview)

	// 5. The gate at work on a hand-written final answer.
	first := routed[0]
	first, err = store.Get(ctx, first.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n== Проверка качества: оператор пишет окончательный ответ на %s сам\n", first.ID)
	bad := "Доводим до вашего сведения, что данное обращение рассмотрено, будут приняты меры в установленном порядке."
	first, d, err := w.Write(ctx, first.ID, appeal.AnswerFinal, bad, "operator:ivanova", first.Version)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  «%s»\n", bad)
	first, err = w.Submit(ctx, first.ID, d.ID, "operator:ivanova", first.Version)
	var ge *answer.GateError
	if !errors.As(err, &ge) {
		return fmt.Errorf("the gate let a formal answer through: %v", err)
	}
	for _, is := range ge.Issues {
		fmt.Fprintf(out, "  ✗ %s\n", is.Reason)
	}

	// 6. Publishing, with a crash: the first publisher dies right after VK
	// took its first answer, before the store recorded it.
	fmt.Fprintln(out, "\n== Публикация из очереди")
	clk.t = clk.t.Add(time.Minute)
	errCrash := errors.New("сбой процесса")
	crashing, err := answer.NewPublisher(answer.PublisherConfig{Store: store, Now: clk.Now, Batch: 1, Lease: 2 * time.Minute,
		Channels:  map[string]answer.Channel{"vk": {Replier: vkReplier, Idempotent: true}},
		AfterPost: func(appeal.OutboxMessage) error { return errCrash }})
	if err != nil {
		return err
	}
	if _, err := crashing.Drain(ctx); !errors.Is(err, errCrash) {
		return fmt.Errorf("the injected crash did not happen: %v", err)
	}
	fmt.Fprintf(out, "  публикатор упал после отправки первого ответа во ВКонтакте (комментариев там: %d), ответ остался в очереди\n", len(vkAPI.Posts()))
	clk.t = clk.t.Add(3 * time.Minute) // the crashed publisher's lease runs out
	var total answer.DrainResult
	for {
		res, err := pub.Drain(ctx)
		if err != nil {
			return err
		}
		total.Published += res.Published
		total.Retrying += res.Retrying
		total.Returned += res.Returned
		if res == (answer.DrainResult{}) {
			break
		}
	}
	posts := vkAPI.Posts()
	fmt.Fprintf(out, "  опубликовано: %d (ВКонтакте: %d от имени сообщества, портал: %d), возвращено оператору: %d\n",
		total.Published, len(posts), len(portalGot()), total.Returned)
	fmt.Fprintf(out, "  после сбоя: запросов к ВКонтакте %d, комментариев %d — повтор с тем же guid ВКонтакте отбросил\n", vkAPI.Calls(), len(posts))
	if len(posts) > 0 {
		p := posts[0]
		fmt.Fprintf(out, "  пример: %s owner_id=%s post_id=%s from_group=%s guid=%s…\n", p.Method, p.Params.Get("owner_id"),
			p.Params.Get("post_id"), p.Params.Get("from_group"), p.Params.Get("guid")[:8])
	}
	all, err := store.List(ctx, appeal.Filter{})
	if err != nil {
		return err
	}
	reasons := map[string]int{}
	for _, a := range all {
		for _, d := range a.Drafts {
			if d.State == appeal.AnswerReturned {
				reasons[string(a.Network)+": "+d.Comment]++
			}
		}
	}
	for _, r := range sortedKeys(reasons) {
		fmt.Fprintf(out, "  возвращено (%d) — %s\n", reasons[r], r)
	}

	// 7. The citizens react: thanks for one interim answer; a final
	// answer to another, which its author disputes.
	fmt.Fprintln(out, "\n== Реакция заявителей")
	var vkInProgress []appeal.Appeal
	for _, a := range all {
		if a.Network == appeal.NetworkVK && a.Kind == appeal.KindComment && a.Status == appeal.StatusInProgress {
			vkInProgress = append(vkInProgress, a)
		}
	}
	if len(vkInProgress) < 2 {
		return errors.New("fewer than two VK comments in progress to show reactions on")
	}
	clk.t = clk.t.Add(2 * time.Hour)
	disputed := vkInProgress[1]
	disputed, d, err = w.Draft(ctx, disputed.ID, appeal.AnswerFinal, "operator:ivanova", disputed.Version)
	if err != nil {
		return err
	}
	if _, err := w.Submit(ctx, disputed.ID, d.ID, "operator:ivanova", disputed.Version); err != nil {
		return err
	}
	if _, err := pub.Drain(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "  %s: окончательный ответ опубликован:\n%s\n", disputed.ID, indent(d.Text, "    "))
	clk.t = clk.t.Add(3 * time.Hour)
	for i, a := range vkInProgress[:2] {
		text := "Спасибо, что так быстро взялись!"
		if i == 1 {
			text = "Спасибо за ответ, но ничего не сделано, всё как было."
		}
		// The author answers under the official reply, in the same thread.
		next := appeal.Appeal{Network: a.Network, Kind: appeal.KindReply, ExternalID: a.ExternalID + "1", Text: text,
			Author: a.Author, Community: a.Community, Thread: appeal.Thread{ParentID: a.ExternalID, RootID: a.Thread.RootID}, CreatedAt: clk.Now()}
		prior, err := w.FindAnswered(ctx, &next)
		if err != nil {
			return err
		}
		got, r, err := w.React(ctx, prior.ID, next)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  %s: «%s» → %s; статус: %s\n", got.ID, text, answer.ReactionName(r), report.StatusName(got.Status))
	}

	// 8. Ratings.
	all, err = store.List(ctx, appeal.Filter{})
	if err != nil {
		return err
	}
	cal := engine.DefaultCalendar()
	rs := stats.Rate(all, stats.RatingConfig{Hours: stats.WorkingFunc(cal.WorkingBetween), Location: cal.Location(), Now: clk.Now()})
	fmt.Fprintf(out, "\n== Рейтинг исполнителей за месяц (ответ в течение %s рабочих часов; в рейтинге — от %d обращений)\n",
		fmt.Sprint(rs.Within.Hours()), rs.MinVolume)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  МЕСТО\tИСПОЛНИТЕЛЬ\tОБРАЩЕНИЙ\tВ СРОК\tМЕДИАНА ДО ОТВЕТА")
	for _, row := range rs.Executors {
		place := "вне рейтинга"
		if row.Ranked {
			place = fmt.Sprint(row.Rank)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", place, w.ExecutorName(row.Name), row.Volume, pct(row.AnsweredWithinShare, row.Due), hours(row.FirstAnswer))
	}
	return tw.Flush()
}

func openStore(ctx context.Context, path string) (*sqlstore.Store, func(), error) {
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
	if err != nil {
		return nil, nil, err
	}
	s, err := sqlstore.Open(ctx, db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return s, func() { db.Close() }, nil
}

func intake(ctx context.Context, o options, engine *route.Engine, store *sqlstore.Store) error {
	gz, err := os.ReadFile(filepath.Join(o.quickstart, "gazetteer.yaml"))
	if err != nil {
		return err
	}
	g, err := classify.ParseGazetteer(bytes.NewReader(gz), "gazetteer.yaml")
	if err != nil {
		return err
	}
	classifier, err := classify.New(classify.WithGazetteer(g))
	if err != nil {
		return err
	}
	src, err := replay.New(replay.Config{Path: filepath.Join(o.quickstart, "sample.jsonl"), Checkpoints: store, Key: "answers:sample",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	p, err := appealkit.New(appealkit.Config{
		Store:      store,
		Classifier: appealkit.Classify(classifier, appealkit.ClassifyOptions{}),
		Router:     appealkit.Route(engine, appealkit.RouteOptions{}),
		Inputs:     []appealkit.Input{{Name: "sample", Source: src}},
		Now:        func() time.Time { return o.now },
	})
	if err != nil {
		return err
	}
	return p.Run(ctx)
}

// newPortal is a stand-in for the region's portal: it checks the
// signature and keeps the answers by idempotency key.
func newPortal(secret []byte) (*httptest.Server, func() map[string]string) {
	got := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := answer.VerifyPortalCallback(secret, r.Header, body, time.Now(), 24*time.Hour*3650); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var a answer.PortalAnswer
		if err := json.Unmarshal(body, &a); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got[r.Header.Get(answer.PortalKeyHeader)] = a.Text
		fmt.Fprintf(w, `{"id":"portal-%s"}`, a.ExternalID)
	}))
	return srv, func() map[string]string { return got }
}

func topicTitle(code string) string {
	if t := classify.DefaultRubricator().Title(code); t != "" {
		return t
	}
	return "без темы"
}

func pct(share float64, of int) string {
	if of == 0 {
		return "нет данных"
	}
	return fmt.Sprintf("%.0f %%", 100*share)
}

func hours(r stats.Response) string {
	if r.Count == 0 {
		return "нет ответов"
	}
	return fmt.Sprintf("%.1f ч", r.P50.Hours())
}

func indent(s, pre string) string {
	return pre + strings.ReplaceAll(s, "\n", "\n"+pre)
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
