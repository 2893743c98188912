package classify

import (
	"slices"
	"sync"
	"unicode/utf8"
)

// MaxAnalysedBytes is how much of a text classification reads: the first
// 128 KiB (about 16,000 Russian words), cut at the last space before the
// limit. Every message a network delivers fits whole — a VK post is at most
// 16,384 characters (32 KiB in Cyrillic), a Telegram message 4,096, and
// source/webhook refuses texts over 20,000 characters — so the cap only
// touches texts no citizen writes (a pasted document, a replayed dump, an
// attack), and it keeps the time and memory of one classification bounded
// whatever the input. Up to the cap the cost is linear in the length.
const MaxAnalysedBytes = 128 << 10

// analysedPart returns the part of text that is analysed (see
// MaxAnalysedBytes).
func analysedPart(text string) string {
	if len(text) <= MaxAnalysedBytes {
		return text
	}
	cut := MaxAnalysedBytes
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	// Do not leave half a word at the end: back up to a space, unless
	// there is none near (then the rune boundary will do).
	for i := cut; i > cut-256 && i > 0; i-- {
		if c := text[i]; c == ' ' || c == '\n' || c == '\t' || c == '\r' {
			return text[:i]
		}
	}
	return text[:cut]
}

// analysis is the scratch state of one classification: the normalized text,
// its tokens and their stems. It is pooled so that the hot path does not
// allocate.
type analysis struct {
	pre     prepass // markup and entity passes
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
	seen   []uint64 // bit set over the rubricator's term ids
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
	// Texts are cut at MaxAnalysedBytes, so the buffers are bounded and
	// are kept whatever the message's size: a long message that got fresh
	// buffers every time cost several MiB of allocation and garbage
	// collection per call, which made a 10,000-word message 26 times
	// dearer than a 1,000-word one.
	if cap(a.norm) > 4*MaxAnalysedBytes { // cannot happen; never keep more
		return
	}
	analysisPool.Put(a)
}

// run normalizes, tokenizes and stems text (its first MaxAnalysedBytes)
// into a. The buffers are sized for the text up front, so that a long
// message does not grow them by doubling, copying pointers each time.
func (a *analysis) run(text string, cache *StemCache) {
	text = analysedPart(text)
	b := textBuf{b: a.norm[:0], spans: slices.Grow(a.spans[:0], len(text)/6+1), tokStart: -1, pre: &a.pre}
	normalizeTo(&b, text)
	a.norm, a.spans = b.b, b.spans
	n := len(a.spans)
	a.ents = cache.stemTokens(slices.Grow(a.ents[:0], n), a.norm, a.spans, &a.probe)
	a.stems = slices.Grow(a.stems[:0], n)
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

// VisitStems normalizes and tokenizes text and calls fn with the stem of
// each token in order, using cache (nil means no cache). Unlike Stems it
// allocates nothing once the cache knows the words, which suits a hot path
// such as a learned router; fn must not keep the analysis alive beyond the
// call (the stems themselves are ordinary strings and may be kept).
func VisitStems(text string, cache *StemCache, fn func(stem string)) {
	a := getAnalysis()
	defer putAnalysis(a)
	a.run(text, cache)
	for _, s := range a.stems {
		fn(s)
	}
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

// FNVOffset is the initial value of HashString's 64-bit FNV-1a hash.
const FNVOffset = fnvOffset

// HashString continues the 64-bit FNV-1a hash h (start with FNVOffset) over
// the bytes of s: the hash classify gives a stem feature. route/learn
// hashes its features with it and MixHashes, so both agree on what a stem
// is and saved models stay valid across processes.
func HashString(h uint64, s string) uint64 { return hashString(h, s) }

// MixHashes combines two hashes order-sensitively with a 64-bit finaliser
// (splitmix64), the way bigram features are formed from their stems'.
func MixHashes(a, b uint64) uint64 { return bigramHash(a, b) }

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
