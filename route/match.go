package route

import (
	"bytes"
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
	keywordBytes   [][][]byte // keywordGroups as bytes, for searching without conversion
	excludeBytes   [][]byte
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
		kw, ok := fb.find(a.Text, g, c.keywordBytes[gi])
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
		if kw, ok := fb.find(a.Text, c.excludes, c.excludeBytes); ok {
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

// foldedText is an appeal's text folded once per decision (lower case, ё as
// е, every run of non-word characters as one space) into a buffer on the
// caller's stack, so that each keyword is found with one fast substring
// search. Texts longer than the buffer are scanned rune by rune instead.
type foldedText struct {
	buf  [2048]byte
	n    int
	done bool
	fits bool
}

func (f *foldedText) fold(text string) {
	f.done = true
	n := 0
	space := true // drop leading separators
	buf := f.buf[:]
	for i := 0; i < len(text); {
		b := text[i]
		// Fast paths: ASCII, and two-byte Cyrillic (U+0400..U+045F), which
		// fold without decoding to runes.
		if b < utf8.RuneSelf {
			i++
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			if !('a' <= b && b <= 'z' || '0' <= b && b <= '9') {
				if !space {
					if n >= len(buf) {
						return
					}
					buf[n] = ' '
					n++
				}
				space = true
				continue
			}
			if n >= len(buf) {
				return
			}
			buf[n] = b
			n++
			space = false
			continue
		}
		if i+1 < len(text) && text[i+1]&0xC0 == 0x80 && (b == 0xD0 || b == 0xD1 && text[i+1] < 0xA0) {
			c := text[i+1]
			i += 2
			switch {
			case b == 0xD0 && c >= 0x90 && c <= 0x9F: // А..П → а..п
				c += 0x20
			case b == 0xD0 && c >= 0xA0 && c <= 0xAF: // Р..Я → р..я
				b, c = 0xD1, c-0x20
			case b == 0xD0 && c == 0x81, b == 0xD1 && c == 0x91: // Ё, ё → е
				b, c = 0xD0, 0xB5
			case b == 0xD0 && c < 0x90: // other capitals (Ѐ..Џ) → ѐ..џ
				b, c = 0xD1, c+0x10
			}
			if n+2 > len(buf) {
				return
			}
			buf[n], buf[n+1] = b, c
			n += 2
			space = false
			continue
		}
		r, size := decodeRune(text, i)
		i += size
		if !isWordRune(r) {
			if !space {
				if n >= len(buf) {
					return
				}
				buf[n] = ' '
				n++
			}
			space = true
			continue
		}
		space = false
		r = foldRune(r)
		if n+utf8.RuneLen(r) > len(buf) {
			return
		}
		n += utf8.EncodeRune(buf[n:], r)
	}
	f.n, f.fits = n, true
}

// prepare fills the byte forms of the keywords once the conditions are
// final.
func (c *cond) prepare() {
	c.keywordBytes = make([][][]byte, len(c.keywordGroups))
	for i, g := range c.keywordGroups {
		c.keywordBytes[i] = toBytes(g)
	}
	c.excludeBytes = toBytes(c.excludes)
}

func toBytes(list []string) [][]byte {
	out := make([][]byte, len(list))
	for i, s := range list {
		out[i] = []byte(s)
	}
	return out
}

// find returns the first keyword that starts a word of text; kwb holds
// the same keywords as bytes.
func (f *foldedText) find(text string, keywords []string, kwb [][]byte) (string, bool) {
	if f == nil {
		return findKeyword(text, keywords)
	}
	if !f.done {
		f.fold(text)
	}
	if !f.fits {
		return findKeyword(text, keywords)
	}
	hay := f.buf[:f.n]
	for k, kw := range kwb {
		for off := 0; off < len(hay); {
			i := bytes.Index(hay[off:], kw)
			if i < 0 {
				break
			}
			if at := off + i; at == 0 || hay[at-1] == ' ' {
				return keywords[k], true
			}
			off += i + 1
		}
	}
	return "", false
}
