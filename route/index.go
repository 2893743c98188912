package route

import (
	"fmt"
	"strings"
)

// idxKey files a rule under one municipality and one topic code; "" means
// the rule does not constrain that field.
type idxKey struct{ mun, topic string }

// index maps each key to the orders of the rules filed under it, ascending.
// A rule is filed under every (municipality, topic) pair it lists, so the
// rules an appeal can match are found by looking up its municipality and
// each of its topics with their parents, and merging a handful of short
// lists instead of scanning every rule.
type index struct {
	buckets map[idxKey][]int32
	n       int
}

func buildIndex(rules []*rule) index {
	ix := index{buckets: map[idxKey][]int32{}, n: len(rules)}
	for _, r := range rules {
		muns := r.cond.municipalities
		if muns == nil {
			muns = []string{""}
		}
		topics := r.cond.topics
		if topics == nil {
			topics = []string{""}
		}
		for _, m := range muns {
			for _, t := range topics {
				k := idxKey{m, t}
				b := ix.buckets[k]
				if len(b) == 0 || b[len(b)-1] != r.order {
					ix.buckets[k] = append(b, r.order)
				}
			}
		}
	}
	for k, b := range ix.buckets {
		ix.buckets[k] = b[:len(b):len(b)]
	}
	return ix
}

// maxBuckets bounds the lists merged for one appeal; an appeal with more
// topic codes than fit falls back to scanning every rule.
const maxBuckets = 32

// candidates is a fixed-size set of bucket lists, kept on the stack.
type candidates struct {
	lists [maxBuckets][]int32
	pos   [maxBuckets]int
	n     int
	all   bool
	next  int32 // for the full scan
	total int32
}

func (c *candidates) add(b []int32) {
	if len(b) == 0 || c.all {
		return
	}
	if c.n == maxBuckets {
		c.all = true
		return
	}
	c.lists[c.n] = b
	c.n++
}

// pop returns the next rule order in ascending order, skipping repeats.
func (c *candidates) pop(last int32) (int32, bool) {
	if c.all {
		if c.next >= c.total {
			return 0, false
		}
		c.next++
		return c.next - 1, true
	}
	best, bi := int32(-1), -1
	for i := 0; i < c.n; i++ {
		l := c.lists[i]
		p := c.pos[i]
		for p < len(l) && l[p] <= last {
			p++
		}
		c.pos[i] = p
		if p < len(l) && (bi < 0 || l[p] < best) {
			best, bi = l[p], i
		}
	}
	if bi < 0 {
		return 0, false
	}
	c.pos[bi]++
	return best, true
}

// checkReachable reports rules that can never be the deciding match
// because an earlier rule that stops matching accepts every appeal they
// accept. The check is conservative: it only reports certain shadowing.
//
// A rule E can shadow L only if E's municipalities include L's first one
// (or E has none) and one of E's topics is L's first topic or a parent of
// it (or E has none), so only the index lists for those keys are searched.
func (c *compiler) checkReachable(ix index) {
	rules := c.eng.rules
	for _, l := range rules {
		if l.cond.never != "" {
			c.errs = append(c.errs, &RuleError{File: c.file, Line: l.line, Col: l.col, Msg: fmt.Sprintf("rule %q can never match: %s", l.id, l.cond.never)})
			continue
		}
		muns := []string{""}
		if len(l.cond.municipalities) > 0 {
			muns = append(muns, l.cond.municipalities[0])
		}
		topics := []string{""}
		if len(l.cond.topics) > 0 {
			for code := l.cond.topics[0]; ; {
				topics = append(topics, code)
				p, ok := parentTopic(code)
				if !ok {
					break
				}
				code = p
			}
		}
		var shadow *rule
		for _, m := range muns {
			for _, t := range topics {
				for _, o := range ix.buckets[idxKey{m, t}] {
					if o >= l.order || shadow != nil && o >= shadow.order {
						break
					}
					e := rules[o]
					if e.cont || e.cond.never != "" {
						continue
					}
					if covers(&e.cond, &l.cond, e.cal == l.cal) {
						shadow = e
						break
					}
				}
			}
		}
		if shadow != nil {
			what := "matches every appeal it would match"
			if isCatchAll(&shadow.cond) {
				what = "matches every appeal"
			}
			c.errs = append(c.errs, &RuleError{File: c.file, Line: l.line, Col: l.col,
				Msg: fmt.Sprintf("rule %q is unreachable: rule %q at line %d %s and stops matching; move it below, narrow it, or give it continue: true", l.id, shadow.id, shadow.line, what)})
		}
	}
}

func isCatchAll(c *cond) bool {
	return c.topics == nil && c.minScore == 0 && c.municipalities == nil && c.networks == nil &&
		c.communities == nil && c.kinds == nil && c.official == triAny && c.urgent == triAny &&
		len(c.keywordGroups) == 0 && len(c.excludes) == 0 && c.days == 0 && len(c.windows) == 0 && c.working == triAny
}

// covers reports whether every appeal matching l also matches e.
func covers(e, l *cond, sameCal bool) bool {
	if e.topics != nil {
		if l.topics == nil {
			return false
		}
		for _, lt := range l.topics {
			ok := false
			for _, et := range e.topics {
				if topicUnder(lt, et) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
	}
	if e.minScore > l.minScore || (e.minScore > 0 && (e.topics == nil) != (l.topics == nil)) {
		return false
	}
	for _, p := range [][2][]string{
		{e.municipalities, l.municipalities}, {e.networks, l.networks},
		{e.communities, l.communities}, {e.kinds, l.kinds},
	} {
		if p[0] == nil {
			continue
		}
		if p[1] == nil {
			return false
		}
		for _, v := range p[1] {
			if !inList(p[0], v) {
				return false
			}
		}
	}
	for _, t := range [][2]tri{{e.official, l.official}, {e.urgent, l.urgent}} {
		if t[0] != triAny && t[0] != t[1] {
			return false
		}
	}
	for _, eg := range e.keywordGroups {
		implied := false
		for _, lg := range l.keywordGroups {
			if groupImplies(lg, eg) {
				implied = true
				break
			}
		}
		if !implied {
			return false
		}
	}
	for _, ex := range e.excludes {
		if !inList(l.excludes, ex) {
			return false
		}
	}
	if e.days != 0 && (l.days == 0 || l.days&^e.days != 0) {
		return false
	}
	for _, w := range e.windows {
		found := false
		for _, lw := range l.windows {
			if lw == w {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	if e.working != triAny && (e.working != l.working || !sameCal) {
		return false
	}
	if e.days != 0 || len(e.windows) > 0 {
		return sameCal
	}
	return true
}

// groupImplies: any keyword of lg found means some keyword of eg is found,
// because each keyword of lg starts with one of eg's.
func groupImplies(lg, eg []string) bool {
	for _, lk := range lg {
		ok := false
		for _, ek := range eg {
			if strings.HasPrefix(lk, ek) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
