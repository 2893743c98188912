package route

import (
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// Escalation is one escalation step that has come due for an appeal.
type Escalation struct {
	// AppealID is the appeal to escalate.
	AppealID appeal.ID
	// Step is 1-based; once applied, Assignment.Escalations == Step.
	Step int
	// RuleID is the rule whose steps these are ("fallback" or
	// "defaults" when the appeal's rule is gone after a reload).
	RuleID string
	// From is the executor responsible before the step; To the one
	// brought in.
	From, To string
	// Reassign makes To the responsible executor; otherwise To joins as a
	// co-executor.
	Reassign bool
	// DueAt is when the step came due.
	DueAt time.Time
}

// Apply records the step on the assignment. It is idempotent: applying a
// step that the assignment already counts changes nothing and returns
// false, so a retried or duplicated escalation run is harmless.
func (x Escalation) Apply(as *appeal.Assignment) bool {
	if as == nil || as.Escalations >= x.Step {
		return false
	}
	if x.Reassign {
		if as.Executor != x.To {
			as.CoExecutors = appendUnique(removeString(as.CoExecutors, x.To), as.Executor)
		}
		as.Executor = x.To
	} else if x.To != as.Executor {
		as.CoExecutors = appendUnique(append([]string(nil), as.CoExecutors...), x.To)
	}
	as.Escalations = x.Step
	return true
}

func removeString(s []string, v string) []string {
	out := make([]string, 0, len(s))
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// Escalations returns the steps due for one appeal at now that its
// assignment has not yet applied (Assignment.Escalations counts those), in
// order. Appeals that are answered, resolved or rejected, or have no
// deadline, have none. Steps come from the rule that routed the appeal
// (Assignment.RuleID); when the rules were reloaded and that rule is gone,
// from the fallback route.
func (e *Engine) Escalations(a *appeal.Appeal, now time.Time) []Escalation {
	as := a.Assignment
	if as == nil || as.Deadline.IsZero() || !a.Status.AwaitsAnswer() || !now.After(as.Deadline) {
		return nil
	}
	r, ok := e.byID[as.RuleID]
	if !ok {
		r = e.fallback
	}
	var out []Escalation
	from := as.Executor
	base := r.executor
	if base == "" {
		base = as.Executor
	}
	level := 0
	for i, st := range r.escalate {
		to := st.To
		if to == "parent" {
			level++
			to = e.ancestor(base, level)
			if to == "" {
				to = e.fallback.executor
			}
		}
		due := st.After.After(as.Deadline, e.calendarFor(a, r.cal)) // on the clock of the appeal's place, as its deadline
		if i < as.Escalations {
			if st.Reassign {
				from = to
			}
			continue
		}
		if now.Before(due) {
			break
		}
		out = append(out, Escalation{AppealID: a.ID, Step: i + 1, RuleID: r.id, From: from, To: to, Reassign: st.Reassign, DueAt: due})
		if st.Reassign {
			from = to
		}
	}
	return out
}

// ancestor walks level parents up from id; "" when the chain is shorter.
func (e *Engine) ancestor(id string, level int) string {
	cur := id
	for range level {
		x, ok := e.executors[cur]
		if !ok || x.Parent == "" {
			return ""
		}
		cur = x.Parent
	}
	return cur
}

// Overdue returns the escalation steps due at now across appeals (for
// example those listed with appeal.Filter{OverdueAt: now}). Apply each to
// its appeal's assignment and store it; running Overdue again then yields
// nothing new for those steps.
func (e *Engine) Overdue(now time.Time, appeals []appeal.Appeal) []Escalation {
	var out []Escalation
	for i := range appeals {
		out = append(out, e.Escalations(&appeals[i], now)...)
	}
	return out
}
