package route

import (
	"fmt"
	"slices"
)

// LintWarning is something legal but suspicious in a rules file: two rules
// that claim the same appeals for different executors, or an executor no
// rule sends anything to (in a file without "learned: true" rules). Errors (unknown executors, unreachable rules)
// are refused by Parse already.
type LintWarning struct {
	// Line is where the later rule (or the executor) is declared.
	Line int
	// Msg says what is suspicious.
	Msg string
}

// String formats the warning as "line N: message".
func (w LintWarning) String() string { return fmt.Sprintf("line %d: %s", w.Line, w.Msg) }

// Lint lists overlapping rules and unused executors, in file order.
func (e *Engine) Lint() []LintWarning {
	var out []LintWarning
	used := map[string]bool{e.fallback.executor: true}
	learned := false
	for _, r := range e.rules {
		learned = learned || r.learned
		used[r.executor] = true
		for _, c := range r.co {
			used[c] = true
		}
		for _, s := range r.escalate {
			used[s.To] = true
		}
	}
	for i, l := range e.rules {
		if !l.terminal() || l.reject || len(l.cond.topics) == 0 || len(l.cond.keywordGroups) > 0 {
			continue
		}
		for _, r := range e.rules[:i] {
			if !r.terminal() || r.reject || r.executor == l.executor || len(r.cond.topics) == 0 || len(r.cond.keywordGroups) > 0 {
				continue
			}
			t, ok := sharedTopic(r.cond.topics, l.cond.topics)
			if !ok || !listsMeet(r.cond.municipalities, l.cond.municipalities) ||
				!listsMeet(r.cond.networks, l.cond.networks) || !listsMeet(r.cond.kinds, l.cond.kinds) {
				continue
			}
			out = append(out, LintWarning{Line: l.line, Msg: fmt.Sprintf(
				"rule %q overlaps rule %q (line %d) on topic %s: both claim such appeals, %q decides them for %s, not %s",
				l.id, r.id, r.line, t, r.id, r.executor, l.executor)})
			break
		}
	}
	for _, id := range e.execOrder {
		x := e.executors[id]
		// With learned rules, a model may route to any executor.
		if !used[id] && !learned && !e.isParent(id) {
			out = append(out, LintWarning{Line: x.Line, Msg: fmt.Sprintf("executor %q gets no appeals: no rule, fallback or escalation names it", id)})
		}
	}
	slices.SortStableFunc(out, func(a, b LintWarning) int { return a.Line - b.Line })
	return out
}

func (e *Engine) isParent(id string) bool {
	for _, x := range e.executors {
		if x.Parent == id {
			return true
		}
	}
	return false
}

// sharedTopic returns a topic both lists match (one under the other).
func sharedTopic(a, b []string) (string, bool) {
	for _, x := range a {
		for _, y := range b {
			if topicUnder(y, x) {
				return y, true
			}
			if topicUnder(x, y) {
				return x, true
			}
		}
	}
	return "", false
}

// listsMeet reports whether one appeal can satisfy both conditions: either
// is unrestricted (nil) or they share a value.
func listsMeet(a, b []string) bool {
	if a == nil || b == nil {
		return true
	}
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
