package route

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/appealkit/appealkit/appeal"
)

// tri is an optional yes/no condition.
type tri int8

const (
	triAny tri = iota
	triYes
	triNo
)

func triOf(b bool) tri {
	if b {
		return triYes
	}
	return triNo
}

// clockWindow is a time-of-day range; From > To wraps midnight
// ("18:00-09:00" is the night).
type clockWindow struct{ From, To time.Duration }

func (w clockWindow) contains(d time.Duration) bool {
	if w.From <= w.To {
		return d >= w.From && d < w.To
	}
	return d >= w.From || d < w.To
}

// cond is the full condition of a flattened rule: its own "when" and every
// enclosing rule's, merged. A nil list means "any".
type cond struct {
	topics         []string
	minScore       float64
	municipalities []string
	networks       []string
	communities    []string
	kinds          []string
	official       tri
	urgent         tri
	keywordGroups  [][]string // AND of OR-groups, folded
	excludes       []string   // none of these, folded
	keywordIDs     [][]int32  // keywordGroups as ids of the engine's keywordIndex
	excludeIDs     []int32
	days           uint8 // weekday bit mask, 0 = any
	windows        []clockWindow
	working        tri
	never          string // why the merged conditions contradict, if they do
}

// matchDetail is filled only when explaining; nil on the fast path.
type matchDetail struct {
	why []string
}

func (m *matchDetail) add(format string, args ...any) {
	if m != nil {
		m.why = append(m.why, fmt.Sprintf(format, args...))
	}
}

func inList(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// match reports whether a satisfies c at now. On the fast path (det nil)
// it does not allocate. When det is set, it records why the rule matched,
// or the first condition that failed.
func (c *cond) match(a *appeal.Appeal, now time.Time, cal *Calendar, fb *foldedText, det *matchDetail) bool {
	if c.never != "" {
		if det != nil {
			det.add("can never match: %s", c.never)
		}
		return false
	}
	if c.municipalities != nil {
		if !inList(c.municipalities, a.Municipality) {
			if det != nil {
				det.add("municipality %q is not %s", a.Municipality, orList(c.municipalities))
			}
			return false
		}
		if det != nil {
			det.add("municipality %q", a.Municipality)
		}
	}
	if c.topics != nil || c.minScore > 0 {
		code, score, ok := c.matchTopic(a)
		if !ok {
			if det != nil {
				if det != nil {
					det.add("topics %s do not include %s%s", topicsString(a.Topics), orList(c.topics), scoreNote(c.minScore))
				}
			}
			return false
		}
		if det != nil {
			det.add("topic %s (score %.2f)%s", code, score, underNote(code, c.topics))
		}
	}
	if c.networks != nil {
		if !inList(c.networks, string(a.Network)) {
			if det != nil {
				det.add("network %q is not %s", a.Network, orList(c.networks))
			}
			return false
		}
		if det != nil {
			det.add("network %s", a.Network)
		}
	}
	if c.communities != nil {
		if !inList(c.communities, a.Community.ID) {
			if det != nil {
				det.add("community %q is not %s", a.Community.ID, orList(c.communities))
			}
			return false
		}
		if det != nil {
			det.add("community %s", a.Community.ID)
		}
	}
	if c.kinds != nil {
		if !inList(c.kinds, string(a.Kind)) {
			if det != nil {
				det.add("kind %q is not %s", a.Kind, orList(c.kinds))
			}
			return false
		}
		if det != nil {
			det.add("kind %s", a.Kind)
		}
	}
	if c.official != triAny {
		if triOf(a.Community.Official) != c.official {
			if det != nil {
				det.add("official page is %v, rule wants %v", a.Community.Official, c.official == triYes)
			}
			return false
		}
		if det != nil {
			det.add("official page %v", a.Community.Official)
		}
	}
	if c.urgent != triAny {
		if triOf(a.Urgent) != c.urgent {
			if det != nil {
				det.add("urgent is %v, rule wants %v", a.Urgent, c.urgent == triYes)
			}
			return false
		}
		if det != nil {
			det.add("urgent %v", a.Urgent)
		}
	}
	for gi, g := range c.keywordGroups {
		kw, ok := fb.find(a.Text, g, c.keywordIDs[gi])
		if !ok {
			if det != nil {
				det.add("text has none of the keywords %s", orList(g))
			}
			return false
		}
		if det != nil {
			det.add("text has keyword %q", kw)
		}
	}
	if len(c.excludes) > 0 {
		if kw, ok := fb.find(a.Text, c.excludes, c.excludeIDs); ok {
			if det != nil {
				det.add("text has excluded keyword %q", kw)
			}
			return false
		}
	}
	if c.days != 0 || len(c.windows) > 0 || c.working != triAny {
		local := now.In(cal.loc)
		if c.days != 0 && c.days&(1<<local.Weekday()) == 0 {
			if det != nil {
				det.add("%s is not one of the rule's days (calendar %s)", local.Weekday(), cal.name)
			}
			return false
		}
		if len(c.windows) > 0 {
			h, m, s := local.Clock()
			tod := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
			for _, w := range c.windows {
				if !w.contains(tod) {
					if det != nil {
						det.add("time %s is outside %s-%s (calendar %s)", clock(tod), clock(w.From), clock(w.To), cal.name)
					}
					return false
				}
			}
		}
		if c.working != triAny {
			in := cal.IsWorkingTime(now)
			if triOf(in) != c.working {
				if det != nil {
					det.add("working hours of calendar %s: %v, rule wants %v", cal.name, in, c.working == triYes)
				}
				return false
			}
		}
		if det != nil {
			det.add("time %s %s", local.Format("Mon 15:04"), cal.name)
		}
	}
	return true
}

// matchTopic finds the appeal topic that satisfies the rule's topics and
// minimum score. With no topics in the rule, the minimum applies to the
// top topic.
func (c *cond) matchTopic(a *appeal.Appeal) (string, float64, bool) {
	if c.topics == nil {
		best, code := -1.0, ""
		for _, t := range a.Topics {
			if t.Score > best {
				best, code = t.Score, t.Code
			}
		}
		return code, best, code != "" && best >= c.minScore
	}
	for _, t := range a.Topics {
		if t.Score < c.minScore {
			continue
		}
		for _, want := range c.topics {
			if topicUnder(t.Code, want) {
				return t.Code, t.Score, true
			}
		}
	}
	return "", 0, false
}

func orList(list []string) string {
	if len(list) == 1 {
		return fmt.Sprintf("%q", list[0])
	}
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "any of [" + strings.Join(q, ", ") + "]"
}

func topicsString(ts []appeal.TopicScore) string {
	if len(ts) == 0 {
		return "(none)"
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%s:%.2f", t.Code, t.Score)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func scoreNote(min float64) string {
	if min > 0 {
		return fmt.Sprintf(" with score ≥ %.2f", min)
	}
	return ""
}

func underNote(code string, topics []string) string {
	for _, t := range topics {
		if t != code && topicUnder(code, t) {
			return " under " + t
		}
	}
	return ""
}

// foldRune makes matching case-insensitive and treats ё as е.
func foldRune(r rune) rune {
	// Fast paths for ASCII and Cyrillic, which is nearly all appeal text.
	switch {
	case r < 0x80:
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	case r >= 0x410 && r <= 0x42F: // А..Я
		return r + 0x20
	case r >= 0x430 && r <= 0x44F: // а..я
		return r
	case r == 0x401 || r == 0x451: // Ё, ё
		return 'е'
	}
	r = unicode.ToLower(r)
	if r == 'ё' {
		return 'е'
	}
	return r
}

// foldString is foldRune over a string, with every run of characters that
// are not letters or digits made one space, trimmed at both ends.
func foldString(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.TrimFunc(s, func(r rune) bool { return !isWordRune(r) }) {
		if !isWordRune(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func isWordRune(r rune) bool {
	switch {
	case r < 0x80:
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	case r >= 0x400 && r <= 0x4FF: // Cyrillic block: letters, and marks that join words
		return true
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// findKeyword returns the first of the folded keywords that starts a word
// of text. A keyword is a stem: it may end inside a word ("подтоп" finds
// "подтопило"), but must begin at a word's start. It does not allocate.
func findKeyword(text string, keywords []string) (string, bool) {
	prevWord := false
	for i := 0; i < len(text); {
		r, size := decodeRune(text, i)
		w := isWordRune(r)
		if w && !prevWord {
			for _, kw := range keywords {
				if prefixFold(text[i:], kw) {
					return kw, true
				}
			}
		}
		prevWord = w
		i += size
	}
	return "", false
}

// prefixFold reports whether s starts with the folded keyword kw, where a
// space in kw matches any run of spaces or punctuation in s.
func prefixFold(s, kw string) bool {
	i := 0
	for _, k := range kw {
		if i >= len(s) {
			return false
		}
		r, size := decodeRune(s, i)
		if k == ' ' {
			if isWordRune(r) {
				return false
			}
			for i < len(s) {
				r, size = decodeRune(s, i)
				if isWordRune(r) {
					break
				}
				i += size
			}
			continue
		}
		if foldRune(r) != k {
			return false
		}
		i += size
	}
	return true
}

// decodeRune is utf8.DecodeRuneInString at s[i:] with fast paths for
// ASCII and two-byte sequences (Cyrillic).
func decodeRune(s string, i int) (rune, int) {
	b0 := s[i]
	if b0 < utf8.RuneSelf {
		return rune(b0), 1
	}
	if b0&0xE0 == 0xC0 && b0 >= 0xC2 && i+1 < len(s) && s[i+1]&0xC0 == 0x80 {
		return rune(b0&0x1F)<<6 | rune(s[i+1]&0x3F), 2
	}
	return utf8.DecodeRuneInString(s[i:])
}
