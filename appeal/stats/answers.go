package stats

import (
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// LoopFigures are the answer loop's figures (see package appeal/answer):
// the time to the first answer (interim or final) and the time to
// resolution counted apart, the promises of a resolution date kept, and the
// citizens' satisfaction read from their reactions.
type LoopFigures struct {
	// FirstAnswer is creation → first reply of any kind, in working hours
	// of the Config's WorkingHours.
	FirstAnswer Response
	// Resolution is creation → resolution: the first move to resolved,
	// else the first final answer.
	Resolution Response
	// PromisesMade counts appeals with a promised date (appeal.Promised)
	// that is due: resolved, or the date has passed. PromisesKept counts
	// those resolved by the date; PromiseKeptShare is their share.
	PromisesMade, PromisesKept int
	PromiseKeptShare           float64
	// Reacted counts appeals whose citizen reacted to an answer; Satisfied
	// those whose last reaction was thanks; NotSolved those who said
	// nothing was done. SatisfactionShare is Satisfied / Reacted.
	Reacted, Satisfied, NotSolved int
	SatisfactionShare             float64
}

type loopAcc struct {
	first, resolution                         []time.Duration
	promised, kept, reacted, thanks, unsolved int
}

// ResolvedAt returns when the appeal was resolved: the first move to
// resolved in its history, else the first final answer; zero when neither.
func ResolvedAt(a *appeal.Appeal) time.Time {
	for _, ev := range a.History {
		if ev.To == appeal.StatusResolved && ev.From != appeal.StatusResolved {
			return ev.At
		}
	}
	for _, r := range a.Replies {
		if r.Kind == appeal.AnswerFinal {
			return r.At
		}
	}
	return time.Time{}
}

// FirstReplyAt returns the time of the earliest reply, or zero.
func FirstReplyAt(a *appeal.Appeal) time.Time {
	var first time.Time
	for _, r := range a.Replies {
		if !r.At.IsZero() && (first.IsZero() || r.At.Before(first)) {
			first = r.At
		}
	}
	return first
}

// lastReaction is the reaction to the latest reply that has one.
func lastReaction(a *appeal.Appeal) appeal.Reaction {
	for i := len(a.Replies) - 1; i >= 0; i-- {
		if r := a.Replies[i].Reaction; r != "" {
			return r
		}
	}
	return ""
}

func (l *loopAcc) add(a *appeal.Appeal, created, now time.Time, hours WorkingHours) {
	first := FirstReplyAt(a)
	resolved := ResolvedAt(a)
	if !created.IsZero() {
		if !first.IsZero() {
			l.first = append(l.first, hours.WorkingDuration(created, first))
		}
		if !resolved.IsZero() {
			l.resolution = append(l.resolution, hours.WorkingDuration(created, resolved))
		}
	}
	if p := a.Promised; !p.IsZero() {
		switch {
		case !resolved.IsZero():
			l.promised++
			if !resolved.After(p) {
				l.kept++
			}
		case now.After(p):
			l.promised++ // broken: past the date, not resolved
		}
	}
	switch lastReaction(a) {
	case appeal.ReactionThanks:
		l.reacted++
		l.thanks++
	case appeal.ReactionNotSolved:
		l.reacted++
		l.unsolved++
	case appeal.ReactionNewQuestion:
		l.reacted++
	}
}

func (l *loopAcc) figures() LoopFigures {
	return LoopFigures{
		FirstAnswer:       percentiles(append([]time.Duration(nil), l.first...)),
		Resolution:        percentiles(append([]time.Duration(nil), l.resolution...)),
		PromisesMade:      l.promised,
		PromisesKept:      l.kept,
		PromiseKeptShare:  share(l.kept, l.promised),
		Reacted:           l.reacted,
		Satisfied:         l.thanks,
		NotSolved:         l.unsolved,
		SatisfactionShare: share(l.thanks, l.reacted),
	}
}
