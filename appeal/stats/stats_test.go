package stats_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/stats"
	"github.com/appealkit/appealkit/appeal/stats/statstest"
)

var mon = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday

func mk(id, muni, topic string, created time.Time) appeal.Appeal {
	return appeal.Appeal{ID: appeal.NewID("vk", id), Network: "vk", ExternalID: id, Text: "t", CreatedAt: created,
		Municipality: muni, Topics: []appeal.TopicScore{{Code: topic, Score: 1}}, Status: appeal.StatusNew}
}

func answered(a appeal.Appeal, exec string, deadline, at time.Time, text string) appeal.Appeal {
	a.Assignment = &appeal.Assignment{Executor: exec, Deadline: deadline}
	a.Replies = []appeal.Reply{{Text: text, By: exec, At: at}}
	a.Status = appeal.StatusAnswered
	a.History = []appeal.Event{{At: a.CreatedAt, From: appeal.StatusNew, To: appeal.StatusRouted}, {At: at, From: appeal.StatusRouted, To: appeal.StatusAnswered}}
	return a
}

const good = "Яма заделана 03.03.2026, ответственный мастер Петров П.П."

// handSet is small enough to count by hand.
func handSet() []appeal.Appeal {
	d := 24 * time.Hour
	a1 := answered(mk("1", "A", "roads", mon), "E1", mon.Add(d), mon.Add(2*time.Hour), good)
	a2 := answered(mk("2", "A", "roads", mon.Add(time.Hour)), "E1", mon.Add(d), mon.Add(30*time.Hour), "Ваше обращение рассмотрено.")
	a3 := answered(mk("3", "B", "garbage", mon.Add(2*d)), "E2", mon.Add(3*d), mon.Add(2*d+4*time.Hour), good)
	a3.History = append(a3.History, appeal.Event{At: mon.Add(3 * d), From: appeal.StatusAnswered, To: appeal.StatusReopened})
	a3.Status = appeal.StatusReopened
	// next week
	a4 := mk("4", "A", "roads", mon.Add(7*d))
	a4.Assignment = &appeal.Assignment{Executor: "E2", Deadline: mon.Add(8 * d)}
	a4.Status = appeal.StatusRouted
	a5 := mk("5", "A", "roads", mon.Add(8*d))
	a6 := answered(mk("6", "B", "snow", mon.Add(9*d)), "E1", mon.Add(10*d), mon.Add(9*d+8*time.Hour), good)
	a7 := mk("7", "", "", mon.Add(9*d))
	return []appeal.Appeal{a1, a2, a3, a4, a5, a6, a7}
}

func TestReportByHand(t *testing.T) {
	now := mon.Add(20 * 24 * time.Hour)
	r := stats.FromSlice(handSet(), stats.Config{Now: now})
	if r.Total != 7 {
		t.Fatalf("Total = %d", r.Total)
	}
	if len(r.Weeks) != 2 || !r.Weeks[0].Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("Weeks = %v", r.Weeks)
	}
	if r.WeekTotals[0] != 3 || r.WeekTotals[1] != 4 {
		t.Errorf("WeekTotals = %v", r.WeekTotals)
	}
	// roads: week1 = 2, week2 = 2 (a4, a5)
	var roads2 *stats.TopicWeek
	for i := range r.TopicWeeks {
		if r.TopicWeeks[i].Topic == "roads" && r.TopicWeeks[i].Week.Equal(r.Weeks[1]) {
			roads2 = &r.TopicWeeks[i]
		}
	}
	if roads2 == nil || roads2.Count != 2 || roads2.Previous != 2 || roads2.Change != 0 || roads2.Share != 0.5 || !roads2.HasPrevious {
		t.Errorf("roads week 2 = %+v", roads2)
	}
	for _, tw := range r.TopicWeeks {
		if tw.Topic == "snow" && (tw.Previous != 0 || !math.IsInf(tw.ChangePct, 1)) {
			t.Errorf("snow week 2 = %+v", tw)
		}
	}
	if r.Topics[0].Name != "roads" || r.Topics[0].Count != 4 {
		t.Errorf("top topic = %+v", r.Topics[0])
	}
	cellA := 0
	for _, c := range r.Cells {
		if c.Municipality == "A" && c.Topic == "roads" && c.Week.Equal(r.Weeks[0]) {
			cellA = c.Count
			if c.HasPrevious || c.Share != 2.0/3 {
				t.Errorf("cell A×roads×week1 = %+v", c)
			}
		}
		// week 2: A×roads has a4, a5 (2), after 2 the week before.
		if c.Municipality == "A" && c.Topic == "roads" && c.Week.Equal(r.Weeks[1]) && (c.Count != 2 || c.Previous != 2 || c.Change != 0 || c.Share != 0.5) {
			t.Errorf("cell A×roads×week2 = %+v", c)
		}
		// week 2: B×snow is new (a6), B had garbage only the week before.
		if c.Municipality == "B" && c.Topic == "snow" && (!c.HasPrevious || c.Previous != 0 || c.Change != 1) {
			t.Errorf("cell B×snow = %+v", c)
		}
		if c.Municipality == "" || c.Topic == "" {
			t.Errorf("empty label in cell %+v", c)
		}
	}
	if cellA != 2 {
		t.Errorf("cell A×roads×week1 = %d, want 2", cellA)
	}
	if r.Seasonality[2] != 7 || r.Months[0].Count != 7 {
		t.Errorf("seasonality = %v months = %v", r.Seasonality, r.Months)
	}
	// Response times: 2h, 29h, 4h, 8h → p50 = 4h (nearest rank 2 of 4), p90 = p99 = 29h.
	if r.Response.Count != 4 || r.Response.P50 != 4*time.Hour || r.Response.P90 != 29*time.Hour || r.Response.P99 != 29*time.Hour {
		t.Errorf("Response = %+v", r.Response)
	}
	if r.Overdue != 2 { // a4, and a3: reopened, so it awaits an answer again past its deadline
		t.Errorf("Overdue = %d", r.Overdue)
	}
	if r.Reopened != 1 || math.Abs(r.ReopenedShare-1.0/7) > 1e-12 {
		t.Errorf("Reopened = %d %v", r.Reopened, r.ReopenedShare)
	}
	if r.Checked != 4 || r.Formal != 1 {
		t.Errorf("Checked/Formal = %d/%d", r.Checked, r.Formal)
	}
	// E1: a1 on time, a2 late, a6 on time → 2/3. E2: a3 on time, a4 overdue → 1/2.
	byName := map[string]stats.ExecutorStats{}
	for _, e := range r.Executors {
		byName[e.Executor] = e
	}
	e1, e2 := byName["E1"], byName["E2"]
	if e1.WithDeadline != 3 || e1.OnTime != 2 || e1.Formal != 1 || e1.Rank != 1 {
		t.Errorf("E1 = %+v", e1)
	}
	if e2.WithDeadline != 2 || e2.OnTime != 1 || e2.Overdue != 2 || e2.Rank != 2 {
		t.Errorf("E2 = %+v", e2)
	}
	if r.OnTimeShare != 3.0/5 {
		t.Errorf("OnTimeShare = %v", r.OnTimeShare)
	}
}

type halfHours struct{}

func (halfHours) WorkingDuration(from, to time.Time) time.Duration { return to.Sub(from) / 2 }

func TestWorkingHoursInterfaceUsed(t *testing.T) {
	r := stats.FromSlice(handSet(), stats.Config{Now: mon, Hours: halfHours{}})
	if r.Response.P50 != 2*time.Hour {
		t.Errorf("P50 with half hours = %v, want 2h", r.Response.P50)
	}
}

func TestLocationMovesWeekBoundary(t *testing.T) {
	// Sunday 22:00 UTC is Monday 01:00 in Moscow (UTC+3).
	sun := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	msk := time.FixedZone("MSK", 3*3600)
	a := []appeal.Appeal{mk("1", "A", "roads", sun)}
	if w := stats.FromSlice(a, stats.Config{Now: sun}).Weeks[0]; w.Day() != 23 {
		t.Errorf("UTC week = %v", w)
	}
	if w := stats.FromSlice(a, stats.Config{Now: sun, Location: msk}).Weeks[0]; w.Day() != 2 {
		t.Errorf("MSK week = %v", w)
	}
}

func TestFromStoreMatchesFromSlice(t *testing.T) {
	data := statstest.Generate(statstest.Options{N: 2500, Seed: 7})
	st := &sliceStore{data: data}
	cfg := stats.Config{Now: data[len(data)-1].CreatedAt}
	got, err := stats.FromStore(context.Background(), st, appeal.Filter{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := stats.FromSlice(data, cfg)
	if got.Total != want.Total || got.Response.P50 != want.Response.P50 || got.Response.P99 != want.Response.P99 || got.Overdue != want.Overdue || len(got.Cells) != len(want.Cells) {
		t.Errorf("FromStore differs: %d/%d cells %d/%d", got.Total, want.Total, len(got.Cells), len(want.Cells))
	}
	if st.calls != 3 {
		t.Errorf("pages = %d, want 3", st.calls)
	}
	limited, err := stats.FromStore(context.Background(), st, appeal.Filter{Limit: 1500}, cfg)
	if err != nil || limited.Total != 1500 {
		t.Errorf("limited Total = %d, %v", limited.Total, err)
	}
}

func TestFromStoreWrapsError(t *testing.T) {
	_, err := stats.FromStore(context.Background(), &sliceStore{err: context.Canceled}, appeal.Filter{}, stats.Config{})
	if err == nil || !errorsIs(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestCollectorConcurrentAdd(t *testing.T) {
	data := statstest.Generate(statstest.Options{N: 400, Seed: 3})
	c := stats.New(stats.Config{Now: data[0].CreatedAt})
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func(g int) {
			for i := g; i < len(data); i += 4 {
				c.Add(&data[i])
			}
			done <- struct{}{}
		}(g)
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	if got := c.Report().Total; got != 400 {
		t.Errorf("Total = %d", got)
	}
}
