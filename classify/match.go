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
	hashes []uint64 // unigramHash of each stem, to reject a mismatch without comparing strings
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
	byFirst  map[string][]int32 // first stem → terms (not prefix terms)
	byPrefix map[uint64][]int32 // first two letters of a prefix → prefix terms
	// The same two maps flattened by freeze for lookups without the
	// overhead of Go maps: each is one probe into one array.
	first  stemIDTable
	prefix idTable
}

// freeze builds the lookup tables; call it once all terms are added.
func (m *matcher) freeze() {
	m.first = newStemIDTable(m.byFirst)
	m.prefix = newIDTable(m.byPrefix)
}

// stemIDTable maps a stem to the ids of the terms that start with it, with
// open addressing by the stem's unigram hash (which the stem cache holds).
// A slot keeps the stem itself, so one string comparison confirms a stem
// however many terms start with it ("нет" starts many phrases).
type stemIDTable struct {
	slots []stemIDSlot
	shift uint
	ids   []int32
}

type stemIDSlot struct {
	stem     string
	hash     uint64 // unigramHash(stem)
	start, n int32  // the stem's ids are ids[start : start+n]; n == 0 marks an empty slot
}

func newStemIDTable(m map[string][]int32) stemIDTable {
	size := 8
	for size < 2*len(m) {
		size <<= 1
	}
	t := stemIDTable{slots: make([]stemIDSlot, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	stems := make([]string, 0, len(m))
	for s := range m {
		stems = append(stems, s)
	}
	slices.Sort(stems) // reproducible layout
	for _, stem := range stems {
		h := unigramHash(stem)
		s := t.home(h)
		for t.slots[s].n != 0 {
			s = (s + 1) & (len(t.slots) - 1)
		}
		t.slots[s] = stemIDSlot{stem: stem, hash: h, start: int32(len(t.ids)), n: int32(len(m[stem]))}
		t.ids = append(t.ids, m[stem]...)
	}
	return t
}

func (t *stemIDTable) home(h uint64) int { return int((h * 0x9e3779b97f4a7c15) >> t.shift) }

// get returns the ids of the terms whose first stem is stem, whose unigram
// hash is h, or nil.
func (t *stemIDTable) get(stem string, h uint64) []int32 {
	if len(t.slots) == 0 {
		return nil
	}
	mask := len(t.slots) - 1
	for s := t.home(h); ; s = (s + 1) & mask {
		sl := &t.slots[s]
		if sl.n == 0 {
			return nil
		}
		if sl.hash == h && sl.stem == stem {
			return t.ids[sl.start : sl.start+sl.n]
		}
	}
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
		m.byFirst = map[string][]int32{}
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
	t.hashes = make([]uint64, len(t.stems))
	for i, st := range t.stems {
		t.hashes[i] = unigramHash(st)
	}
	m.terms = append(m.terms, t)
	if t.prefix {
		k := twoRunes(t.stems[0])
		m.byPrefix[k] = append(m.byPrefix[k], id)
		return
	}
	m.byFirst[t.stems[0]] = append(m.byFirst[t.stems[0]], id)
}

// each calls fn for every occurrence of a term in a text whose tokens' stem
// cache entries are ents, with the position of its first stem. Lookups go by the
// unigram hash and the two-letter key the stem cache already holds: two
// probes into small flat tables a stem, and string comparisons only for
// the stem found and the few prefix terms that can match.
func (m *matcher) each(ents []stemEntry, fn func(id int32, pos int)) {
	var present stemBits
	for i := range ents {
		present.add(ents[i].hash)
	}
	for i := range ents {
		e := &ents[i]
		for _, id := range m.first.get(e.stem, e.hash) {
			if t := &m.terms[id]; present.hasAll(t.hashes[1:]) && m.matchesAt(t, ents, i) {
				fn(id, i)
			}
		}
		if len(m.prefix.ids) == 0 {
			continue
		}
		for _, id := range m.prefix.get(e.two) {
			if strings.HasPrefix(e.stem, m.terms[id].stems[0]) {
				fn(id, i)
			}
		}
	}
}

// stemBits is a set of stems by 8 bits of their hashes: a phrase one of
// whose words is missing from a text is rejected without a search (most
// phrases whose first word occurs).
type stemBits [4]uint64

func (b *stemBits) add(h uint64) { b[h>>62] |= 1 << (h >> 56 & 63) }

// hasAll reports whether every hash may be in the set.
func (b *stemBits) hasAll(hs []uint64) bool {
	for _, h := range hs {
		if b[h>>62]&(1<<(h>>56&63)) == 0 {
			return false
		}
	}
	return true
}

// matchesAt reports whether phrase t starts at the stem of ents[i] (whose
// first stem already matched), allowing phraseGap tokens between its words.
func (m *matcher) matchesAt(t *term, ents []stemEntry, i int) bool {
	pos := i
	for k, want := range t.stems[1:] {
		found := false
		for p := pos + 1; p <= pos+1+phraseGap && p < len(ents); p++ {
			if ents[p].hash == t.hashes[k+1] && ents[p].stem == want {
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
