package classify

import (
	"sync"
)

// analysis is the scratch state of one classification: the normalized text,
// its tokens and their stems. It is pooled so that the hot path does not
// allocate.
type analysis struct {
	norm    []byte
	spans   []span
	stems   []string
	ents    []stemEntry // the stem cache's entry of each token (ents[i].stem == stems[i])
	probe   []tokenProbe
	feats   []uint64
	idx     []int32
	vals    []float32
	marg    []float64
	counter featCounter
	// rubricator scratch
	tscore []float64
	seen   []int32
	hits   []hit
}

// hit is the strongest term of one topic or signal at one token position.
type hit struct {
	group int32 // topic index, or -1-kind for signals
	pos   int32
	term  *term
}

var analysisPool = sync.Pool{New: func() any { return new(analysis) }}

func getAnalysis() *analysis { return analysisPool.Get().(*analysis) }

func putAnalysis(a *analysis) {
	if cap(a.norm) > 1<<16 { // do not keep buffers of huge messages
		return
	}
	analysisPool.Put(a)
}

// run normalizes, tokenizes and stems text into a.
func (a *analysis) run(text string, cache *StemCache) {
	b := textBuf{b: a.norm[:0], spans: a.spans[:0], tokStart: -1}
	normalizeTo(&b, text)
	a.norm, a.spans = b.b, b.spans
	a.ents = cache.stemTokens(a.ents[:0], a.norm, a.spans, &a.probe)
	a.stems = a.stems[:0]
	for i := range a.ents {
		a.stems = append(a.stems, a.ents[i].stem)
	}
}

// Stems normalizes and tokenizes text and returns the stems of its tokens in
// order, using cache (nil means no cache).
func Stems(text string, cache *StemCache) []string {
	a := getAnalysis()
	defer putAnalysis(a)
	a.run(text, cache)
	return append([]string(nil), a.stems...)
}

// Feature hashing. Unigram and bigram features are identified by 64-bit
// FNV-1a hashes of their stems, so the model needs no string vocabulary at
// classification time.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func unigramHash(s string) uint64 { return hashString(fnvOffset, s) }

// bigramHash combines the unigram hashes of two stems, order-sensitively,
// with a 64-bit finaliser (splitmix64) so bigrams spread like unigrams.
func bigramHash(ha, hb uint64) uint64 {
	h := ha*0x9e3779b97f4a7c15 ^ (hb + 0x632be59bd9b4e019)
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// isFeatureStem reports whether a stem takes part in model features: pure
// numbers (house numbers, dates) carry no topic and only spread the model.
func isFeatureStem(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return true
		}
	}
	return false
}

// featureConfig says which features a model extracts from stems.
type featureConfig struct {
	bigrams bool // stem bigrams besides unigrams
	prefix  int  // also the first prefix runes of longer stems (0: off)
}

// prefixOf returns the first n runes of s and whether s is longer.
func prefixOf(s string, n int) (string, bool) {
	count := 0
	for i := range s {
		if count == n {
			return s[:i], true
		}
		count++
	}
	return s, false
}

// prefixHash marks prefix features apart from unigrams.
func prefixHash(p string) uint64 { return hashString(fnvOffset^0x9e37, p) }

// featureSet enumerates the features of a stem sequence, calling fn with the
// hash and, when names is true, a readable name.
func featureSet(stems []string, fc featureConfig, names bool, fn func(h uint64, name string)) {
	prev := ""
	var prevHash uint64
	for _, s := range stems {
		if !isFeatureStem(s) {
			prev = ""
			continue
		}
		name := ""
		if names {
			name = s
		}
		h := unigramHash(s)
		fn(h, name)
		if fc.bigrams && prev != "" {
			if names {
				name = prev + " " + s
			}
			fn(bigramHash(prevHash, h), name)
		}
		prevHash = h
		if fc.prefix > 0 {
			if p, longer := prefixOf(s, fc.prefix); longer {
				if names {
					name = p + "…"
				}
				fn(prefixHash(p), name)
			}
		}
		prev = s
	}
}

// defaultPrefixRunes is the default length of stem-prefix features
// (TrainConfig.PrefixRunes). The stem cache precomputes prefixes of this
// length; a model with another length cuts its prefixes per message.
const defaultPrefixRunes = 5

// appendFeatures appends the feature hashes of the stems whose cache
// entries are ents to dst. It must agree with featureSet; it differs in
// taking the hashes the stem cache already computed.
func appendFeatures(dst []uint64, ents []stemEntry, fc featureConfig) []uint64 {
	havePrev := false
	var prevHash uint64
	for i := range ents {
		e := &ents[i]
		if !e.feature {
			havePrev = false
			continue
		}
		dst = append(dst, e.hash)
		if fc.bigrams && havePrev {
			dst = append(dst, bigramHash(prevHash, e.hash))
		}
		prevHash, havePrev = e.hash, true
		switch {
		case fc.prefix == defaultPrefixRunes:
			if e.long {
				dst = append(dst, e.prefix)
			}
		case fc.prefix > 0:
			if p, longer := prefixOf(e.stem, fc.prefix); longer {
				dst = append(dst, prefixHash(p))
			}
		}
	}
	return dst
}
