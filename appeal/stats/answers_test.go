package stats_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/stats"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC) // a Monday

// loopAppeal: created at t0+day, first answer after first, resolved after
// resolve (0: not resolved), promised after promise (0: none).
func loopAppeal(id, muni, exec string, day int, first, resolve, promise time.Duration, reply string, r appeal.Reaction) appeal.Appeal {
	c := t0.AddDate(0, 0, day)
	a := appeal.Appeal{ID: appeal.ID("vk:" + id), Network: "vk", ExternalID: id, CreatedAt: c, Municipality: muni,
		Assignment: &appeal.Assignment{Executor: exec}, Status: appeal.StatusRouted}
	if first > 0 {
		a.Replies = append(a.Replies, appeal.Reply{Text: reply, At: c.Add(first), Kind: appeal.AnswerInterim, Reaction: r})
		a.Status = appeal.StatusInProgress
	}
	if resolve > 0 {
		a.History = append(a.History, appeal.Event{At: c.Add(resolve), From: appeal.StatusAnswered, To: appeal.StatusResolved})
		a.Status = appeal.StatusResolved
	}
	if promise > 0 {
		a.Promised = c.Add(promise)
	}
	return a
}

const goodReply = "Яму заделали 5 ноября, работы выполнил подрядчик ООО «Дорстрой»."
const formalReply = "Ваше обращение рассмотрено, меры приняты."

func sample() []appeal.Appeal {
	h := time.Hour
	return []appeal.Appeal{
		loopAppeal("1", "Курский район", "roads", 0, 2*h, 48*h, 72*h, goodReply, appeal.ReactionThanks),
		loopAppeal("2", "Курский район", "roads", 1, 6*h, 100*h, 72*h, goodReply, appeal.ReactionNotSolved),
		loopAppeal("3", "Курский район", "roads", 2, 20*h, 0, 0, formalReply, ""),
		loopAppeal("4", "Льговский район", "lgov", 3, 1*h, 10*h, 0, goodReply, appeal.ReactionThanks),
		loopAppeal("5", "Льговский район", "lgov", 3, 3*h, 0, 24*h, goodReply, ""),
		loopAppeal("6", "Железногорский район", "zhel", 4, 0, 0, 0, "", ""),
	}
}

func TestLoopFigures(t *testing.T) {
	r := stats.FromSlice(sample(), stats.Config{Now: t0.AddDate(0, 0, 30)})
	l := r.Loop
	assert.Equal(t, 5, l.FirstAnswer.Count)
	assert.Equal(t, 3*time.Hour, l.FirstAnswer.P50)
	assert.Equal(t, 3, l.Resolution.Count)
	assert.Equal(t, 48*time.Hour, l.Resolution.P50)
	// Promises: 1 kept (48h ≤ 72h), 2 broken (100h > 72h), 5 broken (not
	// resolved, date passed).
	assert.Equal(t, 3, l.PromisesMade)
	assert.Equal(t, 1, l.PromisesKept)
	assert.InDelta(t, 1.0/3, l.PromiseKeptShare, 1e-9)
	assert.Equal(t, 3, l.Reacted)
	assert.Equal(t, 2, l.Satisfied)
	assert.Equal(t, 1, l.NotSolved)
	for _, e := range r.Executors {
		if e.Executor == "lgov" {
			assert.Equal(t, 2, e.Loop.FirstAnswer.Count)
			assert.Equal(t, 1, e.Loop.Satisfied)
		}
	}
}

func TestRatings(t *testing.T) {
	rs := stats.Rate(sample(), stats.RatingConfig{Now: t0.AddDate(0, 0, 30)})
	assert.Equal(t, 8*time.Hour, rs.Within)
	require.Len(t, rs.Executors, 3)
	// lgov: 2 of 2 within 8h; roads: 2 of 3; zhel: 1 appeal, not ranked.
	lg, rd, zh := rs.Executors[0], rs.Executors[1], rs.Executors[2]
	assert.Equal(t, "lgov", lg.Name)
	assert.Equal(t, 1, lg.Rank)
	assert.Equal(t, 1.0, lg.AnsweredWithinShare)
	assert.Equal(t, "roads", rd.Name)
	assert.Equal(t, 2, rd.Rank)
	assert.InDelta(t, 2.0/3, rd.AnsweredWithinShare, 1e-9)
	assert.InDelta(t, 1.0/3, rd.FormalShare, 1e-9)
	assert.Equal(t, 6*time.Hour, rd.FirstAnswer.P50)
	assert.Equal(t, 100*time.Hour, rd.Resolution.P90)
	assert.InDelta(t, 0.5, rd.SatisfactionShare, 1e-9)
	assert.Equal(t, "zhel", zh.Name)
	assert.False(t, zh.Ranked)
	assert.Zero(t, zh.Rank)
	assert.Equal(t, 1, zh.Due, "unanswered past the window counts as late")
	assert.Equal(t, 0, zh.AnsweredWithin)
	require.Len(t, rs.Municipalities, 3)
	assert.Equal(t, "Льговский район", rs.Municipalities[0].Name)

	// A reopened appeal counts against its executor.
	s := sample()
	s[0].History = append(s[0].History, appeal.Event{At: t0.AddDate(0, 0, 5), From: appeal.StatusResolved, To: appeal.StatusReopened})
	rs = stats.Rate(s, stats.RatingConfig{Now: t0.AddDate(0, 0, 30)})
	for _, e := range rs.Executors {
		if e.Name == "roads" {
			assert.Equal(t, 1, e.Reopened)
		}
	}
}

func ExampleRate() {
	h := time.Hour
	appeals := []appeal.Appeal{
		loopAppeal("1", "Курский район", "roads", 0, 2*h, 48*h, 0, goodReply, appeal.ReactionThanks),
		loopAppeal("2", "Курский район", "roads", 1, 12*h, 0, 0, goodReply, ""),
	}
	rs := stats.Rate(appeals, stats.RatingConfig{Now: t0.AddDate(0, 1, 0)})
	for _, row := range rs.Executors {
		fmt.Printf("%s %s: %d appeals, %.0f%% within 8 h, median first answer %s, rank %d\n",
			row.Month.Format("2006-01"), row.Name, row.Volume, 100*row.AnsweredWithinShare, row.FirstAnswer.P50, row.Rank)
	}
	// Output: 2026-11 roads: 2 appeals, 50% within 8 h, median first answer 2h0m0s, rank 1
}
