package classify

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// termKind says what a matched term is evidence of.
type termKind uint8

const (
	kindTopic  termKind = iota // a topic keyword
	kindAppeal                 // the message asks or complains
	kindNoise                  // advertising, greetings, thanks, news
	kindUrgent                 // an emergency
)

// term is one keyword or phrase of a rubricator, stemmed.
type term struct {
	text   string   // as written in the file
	stems  []string // the stems a match must show, in order
	prefix bool     // single stem matched as a prefix ("мусор*")
	weight float64
	kind   termKind
	topic  int32 // for kindTopic
}

// phraseGap is how many other tokens may stand between neighbouring words
// of a phrase: "нет воды" also matches "нет горячей воды".
const phraseGap = 1

// matcher finds terms in a stem sequence. It is immutable after building and
// safe for concurrent use.
type matcher struct {
	terms    []term
	dedup    map[string]int32   // identical terms (same stems, kind, topic) → first
	byFirst  map[uint64][]int32 // unigramHash(first stem) → terms
	byPrefix map[uint64][]int32 // first two letters of a prefix → prefix terms
	// The same two maps flattened by freeze for lookups without the
	// overhead of Go maps: each is one probe into one array.
	first, prefix idTable
}

// freeze builds the lookup tables; call it once all terms are added.
func (m *matcher) freeze() {
	m.first = newIDTable(m.byFirst)
	m.prefix = newIDTable(m.byPrefix)
}

// idTable maps uint64 keys to lists of term ids with open addressing.
type idTable struct {
	slots []idSlot
	shift uint
	ids   []int32
}

type idSlot struct {
	key      uint64 // key + 1; 0 marks an empty slot
	start, n int32  // the key's ids are ids[start : start+n]
}

func newIDTable(m map[uint64][]int32) idTable {
	size := 8
	for size < 2*len(m) {
		size <<= 1
	}
	t := idTable{slots: make([]idSlot, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	keys := make([]uint64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // reproducible layout
	for _, k := range keys {
		s := t.home(k)
		for t.slots[s].key != 0 {
			s = (s + 1) & (len(t.slots) - 1)
		}
		t.slots[s] = idSlot{key: k + 1, start: int32(len(t.ids)), n: int32(len(m[k]))}
		t.ids = append(t.ids, m[k]...)
	}
	return t
}

func (t *idTable) home(k uint64) int { return int(((k + 1) * 0x9e3779b97f4a7c15) >> t.shift) }

// get returns the ids stored under k, or nil.
func (t *idTable) get(k uint64) []int32 {
	if len(t.slots) == 0 {
		return nil
	}
	mask := len(t.slots) - 1
	for s := t.home(k); ; s = (s + 1) & mask {
		switch sl := &t.slots[s]; sl.key {
		case k + 1:
			return t.ids[sl.start : sl.start+sl.n]
		case 0:
			return nil
		}
	}
}

// twoRunes packs the bytes of the first two runes of s into a key (0 if s
// has fewer than two), so that one lookup per stem finds the few prefix
// terms that can match it.
func twoRunes(s string) uint64 {
	if len(s) >= 4 && s[0]&0xfe == 0xd0 && s[2]&0xfe == 0xd0 { // two Cyrillic letters
		return uint64(s[0])<<24 | uint64(s[1])<<16 | uint64(s[2])<<8 | uint64(s[3]) | 4<<56
	}
	n := 0
	for i := range s {
		if n == 2 {
			s = s[:i]
			break
		}
		n++
	}
	if n < 2 || len(s) > 8 {
		return 0
	}
	var k uint64
	for i := 0; i < len(s); i++ {
		k = k<<8 | uint64(s[i])
	}
	return k | uint64(len(s))<<56
}

// add adds a term. Word forms that stem alike ("мусор", "мусора") are one
// term; the larger weight wins.
func (m *matcher) add(t term) {
	if m.byFirst == nil {
		m.byFirst = map[uint64][]int32{}
		m.byPrefix = map[uint64][]int32{}
		m.dedup = map[string]int32{}
	}
	key := fmt.Sprintf("%d/%d/%v/%s", t.kind, t.topic, t.prefix, strings.Join(t.stems, " "))
	if id, ok := m.dedup[key]; ok {
		m.terms[id].weight = max(m.terms[id].weight, t.weight)
		return
	}
	id := int32(len(m.terms))
	m.dedup[key] = id
	m.terms = append(m.terms, t)
	if t.prefix {
		k := twoRunes(t.stems[0])
		m.byPrefix[k] = append(m.byPrefix[k], id)
		return
	}
	h := unigramHash(t.stems[0])
	m.byFirst[h] = append(m.byFirst[h], id)
}

// each calls fn for every occurrence of a term in stems (whose unigram
// hashes are uhash), with the position of its first stem. Lookups go by the
// hashes the stem cache already holds, and prefix terms by a stem's first
// two letters: two map lookups a stem.
func (m *matcher) each(stems []string, uhash []uint64, fn func(id int32, pos int)) {
	for i, s := range stems {
		for _, id := range m.first.get(uhash[i]) {
			t := &m.terms[id]
			if t.stems[0] == s && m.matchesAt(t, stems, i) {
				fn(id, i)
			}
		}
		if len(m.prefix.ids) == 0 {
			continue
		}
		for _, id := range m.prefix.get(twoRunes(s)) {
			if strings.HasPrefix(s, m.terms[id].stems[0]) {
				fn(id, i)
			}
		}
	}
}

// matchesAt reports whether phrase t starts at stems[i] (whose first stem
// already matched), allowing phraseGap tokens between its words.
func (m *matcher) matchesAt(t *term, stems []string, i int) bool {
	pos := i
	for _, want := range t.stems[1:] {
		found := false
		for p := pos + 1; p <= pos+1+phraseGap && p < len(stems); p++ {
			if stems[p] == want {
				pos, found = p, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// compileTerm normalizes and stems a term as written in a rubricator file.
// It returns false when nothing of it is left.
func compileTerm(text string, cache *StemCache) (stems []string, prefix bool, ok bool) {
	t := strings.TrimSpace(text)
	if strings.HasSuffix(t, "*") {
		prefix = true
		t = strings.TrimSuffix(t, "*")
	}
	toks := Tokenize(t)
	if len(toks) == 0 {
		return nil, false, false
	}
	if prefix {
		if len(toks) != 1 || twoRunes(toks[0]) == 0 {
			return nil, false, false
		}
		// A prefix is matched against stems, which never end in the
		// inflection the writer may have typed: keep it as written.
		return []string{toks[0]}, true, true
	}
	for _, tok := range toks {
		stems = append(stems, cache.Stem(tok))
	}
	return stems, false, true
}
