package learn

import (
	"sort"
	"time"

	"github.com/appealkit/appealkit/route"
)

// Resolver maps the names history uses for executors to executor ids of a
// rules file: by id, by full name or by alias, compared with NormalizeName.
type Resolver struct {
	ids map[string]string
}

// NewResolver indexes the executors of e.
func NewResolver(e *route.Engine) *Resolver {
	r := &Resolver{ids: map[string]string{}}
	for _, x := range e.Executors() {
		r.ids[NormalizeName(x.ID)] = x.ID
		if x.Name != "" {
			r.ids[NormalizeName(x.Name)] = x.ID
		}
		for _, a := range x.Aliases {
			r.ids[NormalizeName(a)] = x.ID
		}
	}
	return r
}

// Resolve returns the executor id for a historical name, or "" when the
// rules do not know that executor.
func (r *Resolver) Resolve(name string) string { return r.ids[NormalizeName(name)] }

// Confusion counts appeals one rule sent to Routed that history says
// History answered.
type Confusion struct {
	RuleID  string // the deciding rule
	Routed  string // executor id the rule chose, or "(rejected)"
	History string // who answered, as history names it
	Count   int    // how many appeals
}

// RuleStat is how one deciding rule fared.
type RuleStat struct {
	RuleID   string // the deciding rule, or "fallback"
	N, Agree int    // appeals it decided, and those agreeing with history
}

// Report compares the rules' decisions with who answered in history.
type Report struct {
	// N counts records with an executor; Agree those the rules send to
	// that same executor; AgreeAny those where it is the executor or a
	// co-executor.
	N, Agree, AgreeAny int
	// Known counts records whose historical executor the rules know.
	Known int
	// Fallback counts records no rule claimed; Rejected those a rule
	// rejected.
	Fallback, Rejected int
	// Confusions lists disagreements, most frequent first.
	Confusions []Confusion
	// Rules lists each deciding rule, most used first.
	Rules []RuleStat
}

// Agreement is Agree/N (0 for no records).
func (r Report) Agreement() float64 {
	if r.N == 0 {
		return 0
	}
	return float64(r.Agree) / float64(r.N)
}

// Check routes every record that names an executor with e at now and
// compares the decision with history.
func Check(e *route.Engine, recs []Record, now time.Time) Report {
	res := NewResolver(e)
	var rep Report
	conf := map[Confusion]int{}
	rules := map[string]*RuleStat{}
	for i := range recs {
		rec := &recs[i]
		if rec.Executor == "" {
			continue
		}
		rep.N++
		want := res.Resolve(rec.Executor)
		if want != "" {
			rep.Known++
		}
		d := e.Route(rec.Appeal(), now)
		rs := rules[d.RuleID]
		if rs == nil {
			rs = &RuleStat{RuleID: d.RuleID}
			rules[d.RuleID] = rs
		}
		rs.N++
		switch {
		case d.Reject:
			rep.Rejected++
		case d.Fallback:
			rep.Fallback++
		}
		if want != "" && !d.Reject && d.Executor == want {
			rep.Agree++
			rep.AgreeAny++
			rs.Agree++
			continue
		}
		if want != "" && !d.Reject {
			for _, c := range d.CoExecutors {
				if c == want {
					rep.AgreeAny++
					break
				}
			}
		}
		routed := d.Executor
		if d.Reject {
			routed = "(rejected)"
		}
		conf[Confusion{RuleID: d.RuleID, Routed: routed, History: rec.Executor}]++
	}
	for c, n := range conf {
		c.Count = n
		rep.Confusions = append(rep.Confusions, c)
	}
	sort.Slice(rep.Confusions, func(i, j int) bool {
		a, b := rep.Confusions[i], rep.Confusions[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.RuleID+a.Routed+a.History < b.RuleID+b.Routed+b.History
	})
	for _, rs := range rules {
		rep.Rules = append(rep.Rules, *rs)
	}
	sort.Slice(rep.Rules, func(i, j int) bool {
		if rep.Rules[i].N != rep.Rules[j].N {
			return rep.Rules[i].N > rep.Rules[j].N
		}
		return rep.Rules[i].RuleID < rep.Rules[j].RuleID
	})
	return rep
}
