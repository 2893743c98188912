package route

import (
	"fmt"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// Decision is where an appeal goes: who answers, with whom, by when.
//
// Its CoExecutors and Tags may share memory with the Engine: treat them as
// read-only (Assignment copies them).
type Decision struct {
	// Executor must answer; never empty unless Reject is set.
	Executor string
	// CoExecutors take part: the deciding rule's co-executors, then
	// executors of matching rules that said continue.
	CoExecutors []string
	// Deadline is when the answer is due; zero when no SLA applies.
	Deadline time.Time
	// Priority is the highest priority among the matching rules.
	Priority appeal.Priority
	// RuleID is the deciding rule, or "fallback".
	RuleID string
	// Tags are the tags of every matching rule.
	Tags []string
	// Reject marks spam or a non-appeal: the deciding rule said reject.
	Reject bool
	// Fallback is true when no rule decided and the fallback route took
	// the appeal.
	Fallback bool
	// Learnable is true when a learned model may choose the executor
	// instead: the fallback took the appeal, or the deciding rule says
	// "learned: true". An explicit rule is never overridden.
	Learnable bool
	// Learned is true when a learned model chose Executor (see
	// WithModel); Confidence is its calibrated confidence and Support how
	// many appeals of its history were like this one. RuleID stays the
	// rule that let the model decide.
	Learned    bool
	Confidence float64
	Support    int
	// Also lists the matching rules that said continue, in order.
	Also []string
	// Trace explains the decision rule by rule; only RouteExplain fills it.
	Trace []TraceStep
}

// TraceStep is one rule as the engine considered it.
type TraceStep struct {
	// RuleID is the rule's id.
	RuleID string
	// Path holds the ids of its enclosing rules, joined by "/".
	Path string
	// Line is where the rule starts in the rules file.
	Line int
	// Matched tells whether all of the rule's conditions held.
	Matched bool
	// Deciding marks the rule that chose the executor (or rejected).
	Deciding bool
	// Skipped marks rules after the deciding one, which were not checked.
	Skipped bool
	// Why lists the conditions that held, or the one that failed.
	Why string
}

// String formats a step as one line for an operator.
func (s TraceStep) String() string {
	mark := "  no "
	switch {
	case s.Skipped:
		mark = "  -- "
	case s.Deciding:
		mark = "==>  "
	case s.Matched:
		mark = "  +  "
	}
	id := s.RuleID
	if s.Path != "" {
		id = s.Path + "/" + s.RuleID
	}
	return fmt.Sprintf("%s%s (line %d): %s", mark, id, s.Line, s.Why)
}

// Explain formats the whole decision and its trace for an operator: the
// answer to "why did this go to the roads committee?".
func (d Decision) Explain() string {
	var b strings.Builder
	switch {
	case d.Reject:
		fmt.Fprintf(&b, "rejected by rule %s\n", d.RuleID)
	default:
		fmt.Fprintf(&b, "executor %s by rule %s", d.Executor, d.RuleID)
		if len(d.CoExecutors) > 0 {
			fmt.Fprintf(&b, ", co-executors %s", strings.Join(d.CoExecutors, ", "))
		}
		fmt.Fprintf(&b, ", priority %s", d.Priority)
		if !d.Deadline.IsZero() {
			fmt.Fprintf(&b, ", due %s", d.Deadline.Format("2006-01-02 15:04 MST"))
		}
		if len(d.Tags) > 0 {
			fmt.Fprintf(&b, ", tags %s", strings.Join(d.Tags, ", "))
		}
		b.WriteByte('\n')
	}
	for _, s := range d.Trace {
		b.WriteString(s.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Assignment turns the decision into what the store keeps. It returns nil
// for a rejected appeal, which has no executor and moves to
// appeal.StatusRejected instead.
func (d Decision) Assignment() *appeal.Assignment {
	if d.Reject {
		return nil
	}
	return &appeal.Assignment{
		Executor:    d.Executor,
		CoExecutors: cloneStrings(d.CoExecutors),
		Deadline:    d.Deadline,
		Priority:    d.Priority,
		RuleID:      d.RuleID,
		Tags:        cloneStrings(d.Tags),
	}
}

// Change returns the lifecycle step that records the decision: to routed
// with the assignment, or to rejected. actor names who routed (e.g.
// "pipeline"); the note names the rule.
func (d Decision) Change(actor string, at time.Time) appeal.Change {
	if d.Reject {
		return appeal.Change{To: appeal.StatusRejected, Actor: actor, At: at, Note: "rejected by rule " + d.RuleID}
	}
	return appeal.Change{To: appeal.StatusRouted, Actor: actor, At: at, Assignment: d.Assignment(), Note: "routed by rule " + d.RuleID}
}

func cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return append([]string(nil), s...)
}

// Route decides where an appeal goes. now is both the moment the deadline
// clock starts and the time that time-of-day conditions look at. Route
// never fails: an appeal no rule claims goes to the fallback route. It
// does not fill Trace (use RouteExplain) and allocates nothing unless
// rules with continue matched (their co-executors and tags are merged
// into new slices).
func (e *Engine) Route(a *appeal.Appeal, now time.Time) Decision {
	var d Decision
	e.decide(a, now, &d, false)
	return d
}

// RouteExplain is Route with a Trace: every rule in order, whether it
// matched and why. It considers every rule, so it is slower; use it for
// operators and audits, not the hot path.
func (e *Engine) RouteExplain(a *appeal.Appeal, now time.Time) Decision {
	var d Decision
	e.decide(a, now, &d, true)
	return d
}

func (e *Engine) decide(a *appeal.Appeal, now time.Time, d *Decision, explain bool) {
	if a == nil {
		a = &appeal.Appeal{} // nothing to match: the fallback decides
	}
	var cs candidates
	if explain {
		cs.all = true
		cs.total = int32(len(e.rules))
	} else {
		e.gather(a, &cs)
	}
	var folded foldedText
	folded.kx = e.keywords
	var deciding *rule
	var contBuf [8]*rule
	contMatched := contBuf[:0]
	last := int32(-1)
	for {
		o, ok := cs.pop(last)
		if !ok {
			break
		}
		last = o
		r := e.rules[o]
		var det *matchDetail
		if explain {
			det = &matchDetail{}
		}
		matched := r.cond.match(a, now, r.cal, &folded, det)
		if explain {
			why := strings.Join(det.why, "; ")
			if matched && why == "" {
				why = "no conditions: matches every appeal"
			}
			d.Trace = append(d.Trace, TraceStep{RuleID: r.id, Path: r.path, Line: r.line, Matched: matched, Why: why})
		}
		if !matched {
			continue
		}
		if r.cont {
			contMatched = append(contMatched, r)
			continue
		}
		deciding = r
		if explain {
			d.Trace[len(d.Trace)-1].Deciding = true
			// Show the remaining rules as not considered.
			for o2 := o + 1; o2 < int32(len(e.rules)); o2++ {
				r2 := e.rules[o2]
				d.Trace = append(d.Trace, TraceStep{RuleID: r2.id, Path: r2.path, Line: r2.line, Skipped: true, Why: "not considered: rule " + r.id + " decided"})
			}
		}
		break
	}
	folded.release()
	if deciding == nil {
		deciding = e.fallback
		d.Fallback = true
		if explain {
			d.Trace = append(d.Trace, TraceStep{RuleID: "fallback", Line: e.fallback.line, Matched: true, Deciding: true, Why: "no rule decided; fallback route"})
		}
	}
	d.RuleID = deciding.id
	d.Reject = deciding.reject
	d.Learnable = !d.Reject && (d.Fallback || deciding.learned)
	d.Priority = deciding.priority
	if !d.Reject {
		d.Executor = deciding.executor
		d.CoExecutors = deciding.co
		if deciding.hasSLA && !deciding.sla.IsZero() {
			d.Deadline = deciding.sla.After(now, e.calendarFor(a, deciding.cal))
		}
	}
	d.Tags = deciding.tags
	if len(contMatched) > 0 {
		e.mergeContinue(d, contMatched)
	}
}

// mergeContinue adds what matching continue rules contribute.
func (e *Engine) mergeContinue(d *Decision, rs []*rule) {
	co := append([]string(nil), d.CoExecutors...)
	tags := append([]string(nil), d.Tags...)
	for _, r := range rs {
		d.Also = append(d.Also, r.id)
		if r.ownPriority && r.priority.Rank() > d.Priority.Rank() {
			d.Priority = r.priority
		}
		tags = appendUnique(tags, r.tags...)
		if d.Reject {
			continue
		}
		if r.executor != "" && r.executor != d.Executor {
			co = appendUnique(co, r.executor)
		}
		for _, x := range r.co {
			if x != d.Executor {
				co = appendUnique(co, x)
			}
		}
	}
	d.CoExecutors, d.Tags = nilIfEmpty(co), nilIfEmpty(tags)
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// gather collects the index lists an appeal can match: its municipality
// and each of its topic codes with every parent code.
func (e *Engine) gather(a *appeal.Appeal, cs *candidates) {
	b := e.index.buckets
	cs.total = int32(len(e.rules))
	muns := [2]string{"", a.Municipality}
	nm := 1
	if a.Municipality != "" {
		nm = 2
	}
	for _, m := range muns[:nm] {
		cs.add(b[idxKey{m, ""}])
		for i, t := range a.Topics {
			code := t.Code
			for code != "" {
				if !seenTopic(a.Topics[:i], code) {
					cs.add(b[idxKey{m, code}])
				}
				p, ok := parentTopic(code)
				if !ok {
					break
				}
				code = p
			}
		}
	}
}

// seenTopic reports whether an earlier topic of the appeal already added
// code (itself or as a parent), so no list is merged twice.
func seenTopic(earlier []appeal.TopicScore, code string) bool {
	for _, t := range earlier {
		if topicUnder(t.Code, code) {
			return true
		}
	}
	return false
}
