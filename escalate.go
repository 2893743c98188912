package appealkit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/route"
)

// Escalator says which escalation steps are due for an appeal;
// *route.Engine has it (with a *route.Reloader, pass r.Engine()).
type Escalator interface {
	Escalations(a *appeal.Appeal, now time.Time) []route.Escalation
}

// escalatePage is how many overdue appeals Escalate reads at a time.
const escalatePage = 500

// Escalate applies every escalation step due at now to the overdue appeals in
// store and returns the steps it applied, for notifying the executors brought
// in. Each step is stored with Store.Update (the assignment changes, a history
// event says who was brought in and why) under optimistic concurrency, and a
// step already applied is never applied twice, so running Escalate from a
// ticker in several replicas at once is safe.
//
// It goes on past an appeal it cannot update and returns those errors
// joined, together with the steps it did apply.
func Escalate(ctx context.Context, store appeal.Store, esc Escalator, now time.Time) ([]route.Escalation, error) {
	var applied []route.Escalation
	var errs []error
	f := appeal.Filter{OverdueAt: now, Limit: escalatePage}
	for {
		page, err := store.List(ctx, f)
		if err != nil {
			return applied, errors.Join(append(errs, fmt.Errorf("escalate: list overdue: %w", err))...)
		}
		for i := range page {
			steps, err := escalateOne(ctx, store, esc, page[i], now)
			applied = append(applied, steps...)
			if err != nil {
				if ctx.Err() != nil {
					return applied, errors.Join(append(errs, err)...)
				}
				errs = append(errs, err)
			}
		}
		if len(page) < escalatePage {
			return applied, errors.Join(errs...)
		}
		last := page[len(page)-1]
		f.AfterCreated, f.AfterID = last.CreatedAt, last.ID
	}
}

// escalateOne applies the due steps to one appeal, re-reading it when
// another writer got there first.
func escalateOne(ctx context.Context, store appeal.Store, esc Escalator, a appeal.Appeal, now time.Time) ([]route.Escalation, error) {
	const attempts = 3
	id := a.ID
	for try := 1; ; try++ {
		// Most overdue appeals have no step due yet: skip them without a
		// write, which would bump their version for nothing.
		if len(esc.Escalations(&a, now)) == 0 {
			return nil, nil
		}
		var steps []route.Escalation
		_, err := store.Update(ctx, id, a.Version, func(x *appeal.Appeal) error {
			steps = steps[:0]
			if x.Assignment == nil {
				return nil
			}
			for _, st := range esc.Escalations(x, now) {
				if !st.Apply(x.Assignment) {
					continue
				}
				steps = append(steps, st)
				how := "joins as co-executor"
				if st.Reassign {
					how = "takes over"
				}
				x.History = append(x.History, appeal.Event{
					At: now, Actor: "escalation", From: x.Status, To: x.Status,
					Note: fmt.Sprintf("escalation step %d of rule %s: %s %s (was %s, due %s)", st.Step, st.RuleID, st.To, how, st.From, st.DueAt.Format(time.RFC3339)),
				})
			}
			return nil
		})
		switch {
		case err == nil:
			return steps, nil
		case errors.Is(err, appeal.ErrConflict) && try < attempts:
			if a, err = store.Get(ctx, id); err != nil {
				return nil, fmt.Errorf("escalate %s: %w", id, err)
			}
		default:
			return nil, fmt.Errorf("escalate %s: %w", id, err)
		}
	}
}
