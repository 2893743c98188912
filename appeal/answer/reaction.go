package answer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/appealkit/appealkit/appeal"
)

// Markers of the citizen's reaction, matched at word starts in lower-cased
// text with ё as е.
var (
	notSolvedMarkers = []string{
		"ничего не сделано", "ничего не сделали", "ничего не делается", "ничего не изменилось", "ничего не поменялось",
		"не сделано", "не сделали", "не решен", "не решена", "не решено", "не устранен", "не устранена", "не устранено",
		"не убрали", "не вывезли", "не отремонтировали", "не починили", "не приехал", "не приходил", "никто не приехал",
		"никто не пришел", "до сих пор", "по-прежнему", "по прежнему", "как была", "как был", "как было", "как и было",
		"опять", "снова", "неправда", "не соответствует действительности", "обман", "вранье", "отписка", "отписки",
	}
	thanksMarkers = []string{
		"спасибо", "благодар", "молодцы", "оперативно", "сделали", "убрали", "вывезли", "отремонтировали", "починили",
		"заработал", "дали свет", "дали воду", "все отлично", "все хорошо",
	}
)

// ClassifyReaction reads the citizen's next message after an answer:
// ReactionNotSolved when it says nothing was done («ничего не сделано»,
// «яма как была»), ReactionThanks for thanks or a confirmation that the
// problem is gone, and ReactionNewQuestion for anything else (a question,
// another problem). "Спасибо, но до сих пор не убрали" is not solved.
func ClassifyReaction(text string) appeal.Reaction {
	low := strings.ToLower(strings.ReplaceAll(text, "ё", "е"))
	if findAny(low, notSolvedMarkers) != "" {
		return appeal.ReactionNotSolved
	}
	if strings.Contains(low, "?") {
		return appeal.ReactionNewQuestion
	}
	if findAny(low, thanksMarkers) != "" {
		return appeal.ReactionThanks
	}
	return appeal.ReactionNewQuestion
}

// ErrNoAnswered: the message follows no answered appeal of its author.
var ErrNoAnswered = errors.New("answer: no answered appeal in this thread from this author")

// FindAnswered returns the appeal the message next is a reaction to: the
// latest appeal of the same network, author and thread (a reply to it, the
// same root post, or the same private dialogue) with a reply given before
// next was written, among the appeals written within Config.ReactionWindow
// before next.
func (w *Workflow) FindAnswered(ctx context.Context, next *appeal.Appeal) (appeal.Appeal, error) {
	if next.Author.ID == "" {
		return appeal.Appeal{}, fmt.Errorf("%w: the message has no author", ErrNoAnswered)
	}
	f := appeal.Filter{Network: next.Network,
		Statuses: []appeal.Status{appeal.StatusInProgress, appeal.StatusAnswered, appeal.StatusResolved}}
	if at := next.CreatedAt; !at.IsZero() {
		// Only appeals written within the window can be the one answered:
		// the store reads those, not every answered appeal ever.
		f.CreatedFrom = at.Add(-w.window)
	}
	cands, err := w.store.List(ctx, f)
	if err != nil {
		return appeal.Appeal{}, fmt.Errorf("answer: find answered appeal: %w", err)
	}
	var best *appeal.Appeal
	for i := range cands {
		c := &cands[i]
		r := c.LastReply()
		if c.ID == next.ID || r == nil || c.Author.ID != next.Author.ID || !sameThread(c, next) {
			continue
		}
		if !next.CreatedAt.IsZero() && r.At.After(next.CreatedAt) {
			continue
		}
		if best == nil || r.At.After(best.LastReply().At) {
			best = c
		}
	}
	if best == nil {
		return appeal.Appeal{}, ErrNoAnswered
	}
	return *best, nil
}

// sameThread: a reply to the appeal, a comment under the same post, or a
// private message in the same community's dialogue.
func sameThread(a, b *appeal.Appeal) bool {
	if a.Community.ID != b.Community.ID {
		return false
	}
	if a.Kind == appeal.KindMessage || b.Kind == appeal.KindMessage {
		return a.Kind == b.Kind
	}
	if b.Thread.ParentID == a.ExternalID || b.Thread.RootID == a.ExternalID {
		return true // a reply to the appeal itself
	}
	root := func(x *appeal.Appeal) string {
		if x.Thread.RootID != "" {
			return x.Thread.RootID
		}
		return x.ExternalID
	}
	return root(a) == root(b)
}

// React records the citizen's reaction in next to the last answer of the
// appeal id: the reply's Reaction and a history event (actor "citizen").
// Thanks count as satisfaction. «Ничего не сделано» reopens an answered
// or resolved appeal, which counts against its executor. A new question is
// only recorded; store next as an appeal of its own. It returns the
// appeal as stored and the reaction.
func (w *Workflow) React(ctx context.Context, id appeal.ID, next appeal.Appeal) (appeal.Appeal, appeal.Reaction, error) {
	r := ClassifyReaction(next.Text)
	for attempt := 0; ; attempt++ {
		a, err := w.react(ctx, id, r)
		if errors.Is(err, appeal.ErrConflict) && attempt < 10 {
			continue
		}
		if err != nil {
			return appeal.Appeal{}, r, fmt.Errorf("answer: reaction to %s: %w", id, err)
		}
		return a, r, nil
	}
}

var reactionRu = map[appeal.Reaction]string{
	appeal.ReactionThanks:      "благодарность",
	appeal.ReactionNotSolved:   "проблема не решена",
	appeal.ReactionNewQuestion: "новый вопрос",
}

// ReactionName returns the Russian name of a reaction.
func ReactionName(r appeal.Reaction) string {
	if n, ok := reactionRu[r]; ok {
		return n
	}
	return string(r)
}

func (w *Workflow) react(ctx context.Context, id appeal.ID, r appeal.Reaction) (appeal.Appeal, error) {
	a, err := w.store.Get(ctx, id)
	if err != nil {
		return appeal.Appeal{}, err
	}
	if len(a.Replies) == 0 {
		return appeal.Appeal{}, ErrNoAnswered
	}
	now := w.now()
	n := "реакция заявителя на ответ: " + ReactionName(r)
	if a.LastReply().Reaction == r {
		// Recorded already (a retry after a conflict, or the same reaction
		// again): only a reopening may be left to do.
		if r == appeal.ReactionNotSolved && a.Status.CanTransition(appeal.StatusReopened) {
			return w.store.Transition(ctx, id, appeal.Change{To: appeal.StatusReopened, Actor: "citizen", Note: n, At: now, ExpectedVersion: a.Version})
		}
		return a, nil
	}
	a, err = w.store.Update(ctx, id, a.Version, func(x *appeal.Appeal) error {
		x.Replies[len(x.Replies)-1].Reaction = r
		if r != appeal.ReactionNotSolved || !x.Status.CanTransition(appeal.StatusReopened) {
			event(x, now, "citizen", n)
		}
		return nil
	})
	if err != nil {
		return appeal.Appeal{}, err
	}
	if r == appeal.ReactionNotSolved && a.Status.CanTransition(appeal.StatusReopened) {
		return w.store.Transition(ctx, id, appeal.Change{To: appeal.StatusReopened, Actor: "citizen", Note: n, At: now, ExpectedVersion: a.Version})
	}
	return a, nil
}

// ReactionSink wraps the sink that takes new messages into the pipeline
// (source.Sink) so that the author's next message after an answer is read
// as a reaction first: thanks and «ничего не сделано» are recorded on the
// answered appeal (React) — kept even though a classifier would drop a
// «спасибо» as noise — and the message still goes on to next; a new
// question goes on as an appeal of its own. Messages that follow no answer
// pass straight through. onError, when not nil, hears about reactions that
// could not be recorded (the message still goes on).
func (w *Workflow) ReactionSink(next func(ctx context.Context, a appeal.Appeal) error, onError func(appeal.Appeal, error)) func(ctx context.Context, a appeal.Appeal) error {
	return func(ctx context.Context, a appeal.Appeal) error {
		if a.Author.ID != "" && a.Kind != appeal.KindPost {
			prior, err := w.FindAnswered(ctx, &a)
			switch {
			case err == nil:
				if _, _, err := w.React(ctx, prior.ID, a); err != nil && onError != nil {
					onError(a, err)
				}
			case !errors.Is(err, ErrNoAnswered) && onError != nil:
				onError(a, err)
			}
		}
		return next(ctx, a)
	}
}
