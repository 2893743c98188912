package classify

import (
	"fmt"
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
	terms      []term
	dedup      map[string]int32   // identical terms (same stems, kind, topic) → first
	byFirst    map[string][]int32 // first stem → terms
	byPrefix   map[string][]int32 // prefix → prefix terms
	prefixLens []int              // distinct prefix lengths in bytes
}

// add adds a term. Word forms that stem alike ("мусор", "мусора") are one
// term; the larger weight wins.
func (m *matcher) add(t term) {
	if m.byFirst == nil {
		m.byFirst = map[string][]int32{}
		m.byPrefix = map[string][]int32{}
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
		p := t.stems[0]
		m.byPrefix[p] = append(m.byPrefix[p], id)
		if !slices.Contains(m.prefixLens, len(p)) {
			m.prefixLens = append(m.prefixLens, len(p))
			slices.Sort(m.prefixLens)
		}
		return
	}
	m.byFirst[t.stems[0]] = append(m.byFirst[t.stems[0]], id)
}

// each calls fn for every occurrence of a term in stems, with the position
// of its first stem.
func (m *matcher) each(stems []string, fn func(id int32, pos int)) {
	for i, s := range stems {
		for _, id := range m.byFirst[s] {
			if m.matchesAt(&m.terms[id], stems, i) {
				fn(id, i)
			}
		}
		for _, n := range m.prefixLens {
			if n > len(s) {
				break
			}
			for _, id := range m.byPrefix[s[:n]] {
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
		if len(toks) != 1 {
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
