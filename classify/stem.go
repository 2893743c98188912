package classify

import (
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/kljensen/snowball/russian"
)

// DefaultStemCacheSize is the number of words a StemCache built with size 0
// remembers. Russian municipal text uses a few tens of thousands of distinct
// word forms; 200,000 entries cost roughly 25 MB at most.
const DefaultStemCacheSize = 200_000

// maxCachedWord is the longest token (in bytes) the cache stores; longer
// tokens are stemmed every time, so that junk cannot fill the memory.
const maxCachedWord = 64

const stemShards = 1 << shardBits

// The low shardBits bits of a word's hash choose its shard, the bits above
// them its slot in the shard's table, and the high 32 bits are the
// fingerprint kept in the slot.
const shardBits = 6

// StemCache stems Russian words with the Snowball algorithm and remembers the
// results. The raw stemmer costs microseconds a word; a cache hit costs tens
// of nanoseconds and takes no lock: each of the cache's 64 shards publishes
// an immutable table that readers load atomically, and new words wait in a
// small locked map until they are merged into the next published one.
//
// Memory is bounded: a cache holds at most the size it was made with. When a
// shard is full, its older words are dropped as a whole and only the recent
// ones kept (the working set of a stream of messages refills quickly).
//
// A StemCache is safe for concurrent use. Share one between classifiers that
// run in the same process.
type StemCache struct {
	perShard int // most words one shard holds
	batch    int // most words waiting to be published in one shard
	seed     maphash.Seed
	shards   [stemShards]stemShard
}

// stemEntry is a cached stem with everything the classifiers derive from
// the stem alone, so that no message pays for it again: the model's feature
// hashes, the rubricator's prefix-term key and whether the stem is a feature
// at all. Per message this leaves only lookups.
type stemEntry struct {
	stem    string
	hash    uint64 // unigramHash(stem)
	prefix  uint64 // prefixHash of the first defaultPrefixRunes letters, when long
	two     uint64 // twoRunes(stem): the key of the prefix terms that can match it
	feature bool   // isFeatureStem(stem)
	long    bool   // the stem has more than defaultPrefixRunes letters
}

// newStemEntry derives a cache entry from a stem.
func newStemEntry(stem string) stemEntry {
	e := stemEntry{stem: stem, hash: unigramHash(stem), two: twoRunes(stem), feature: isFeatureStem(stem)}
	if p, longer := prefixOf(stem, defaultPrefixRunes); longer {
		e.prefix, e.long = prefixHash(p), true
	}
	return e
}

type stemShard struct {
	read    atomic.Pointer[wordTable] // published, never modified
	mu      sync.Mutex
	pending map[string]stemEntry // stemmed since the last publication
	// pendingHits counts lookups answered from pending since then.
	pendingHits int
	_           [32]byte // keep shards on separate cache lines
}

// wordTable is a shard's published words: open addressing with linear
// probing over a flat slot array, each slot holding a fingerprint of the
// word's hash beside the index of its entry. A lookup hashes the word once,
// reads one slot and, when the fingerprint agrees, one entry and the word's
// bytes. A Go map with string keys cost more per hit (its hashing and group
// matching), and with 30 lookups a message it was a fifth of a
// classification.
type wordTable struct {
	slots []uint64 // hash>>32 << 32 | index into words + 1; 0 = empty
	words []wordEntry
}

type wordEntry struct {
	word string
	stemEntry
}

// newWordTable returns a table with room for n words at most half full.
func newWordTable(n int) *wordTable {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	return &wordTable{slots: make([]uint64, size), words: make([]wordEntry, 0, n)}
}

func (t *wordTable) home(h uint64) int { return int(h>>shardBits) & (len(t.slots) - 1) }

// lookup returns the entry of word, whose hash is h, in t. It takes the
// word as a string (Stem) or as bytes (stemBytes) without converting it.
func lookup[W string | []byte](t *wordTable, word W, h uint64) (*stemEntry, bool) {
	mask := len(t.slots) - 1
	fp := h >> 32 << 32
	for s := t.home(h); ; s = (s + 1) & mask {
		sl := t.slots[s]
		if sl == 0 {
			return nil, false
		}
		if sl&^0xffffffff == fp {
			if w := &t.words[uint32(sl)-1]; w.word == string(word) {
				return &w.stemEntry, true
			}
		}
	}
}

// put adds or replaces a word; the table must have room.
func (t *wordTable) put(word string, h uint64, e stemEntry) {
	mask := len(t.slots) - 1
	fp := h >> 32 << 32
	for s := t.home(h); ; s = (s + 1) & mask {
		sl := t.slots[s]
		if sl == 0 {
			t.words = append(t.words, wordEntry{word, e})
			t.slots[s] = fp | uint64(len(t.words))
			return
		}
		if sl&^0xffffffff == fp && t.words[uint32(sl)-1].word == word {
			t.words[uint32(sl)-1].stemEntry = e
			return
		}
	}
}

// NewStemCache returns a cache that holds at most about size words (0 means
// DefaultStemCacheSize; a negative size disables caching).
func NewStemCache(size int) *StemCache {
	if size == 0 {
		size = DefaultStemCacheSize
	}
	c := &StemCache{perShard: size / stemShards, seed: maphash.MakeSeed()}
	if size > 0 && c.perShard == 0 {
		c.perShard = 1
	}
	c.batch = max(1, c.perShard/4)
	return c
}

// Stem returns the Snowball stem of a lower-case word. Numbers, words of one
// or two letters and Snowball's stop words ("не", "нет", "без") are returned
// as they are, which keeps negations visible to the classifier.
func (c *StemCache) Stem(word string) string {
	if !needsStem(word) {
		return word
	}
	if c == nil || c.perShard <= 0 || len(word) > maxCachedWord {
		return stemWord(word)
	}
	h := maphash.String(c.seed, word)
	sh := &c.shards[h%stemShards]
	if t := sh.read.Load(); t != nil {
		if e, ok := lookup(t, word, h); ok {
			return e.stem
		}
	}
	sh.mu.Lock()
	e, ok := sh.pending[word]
	if ok {
		c.pendingHitLocked(sh)
	}
	sh.mu.Unlock()
	if ok {
		return e.stem
	}
	key := strings.Clone(word) // word may point into a large message
	s := c.stem(key)
	c.store(sh, key, h, newStemEntry(s))
	return s
}

// stem stems a word the cache is about to keep under key. A stem that
// begins the word (nearly all: Snowball removes endings) shares the key's
// memory, which saves memory and puts the stem's bytes in the cache line
// the lookup has just read.
func (c *StemCache) stem(key string) string {
	s := StemWord(key)
	if strings.HasPrefix(key, s) {
		return key[:len(s)]
	}
	return s
}

// stemBytes is Stem for a token in a scratch buffer: a cache hit does not
// allocate. Short words and numbers are cached too, so that they need no
// string conversion either.
func (c *StemCache) stemBytes(word []byte) stemEntry {
	if c == nil || c.perShard <= 0 || len(word) > maxCachedWord {
		return newStemEntry(StemWord(string(word)))
	}
	h := maphash.Bytes(c.seed, word)
	sh := &c.shards[h%stemShards]
	if t := sh.read.Load(); t != nil {
		if e, ok := lookup(t, word, h); ok {
			return *e
		}
	}
	sh.mu.Lock()
	e, ok := sh.pending[string(word)]
	if ok {
		c.pendingHitLocked(sh)
	}
	sh.mu.Unlock()
	if ok {
		return e
	}
	key := string(word)
	e = newStemEntry(c.stem(key))
	c.store(sh, key, h, e)
	return e
}

// tokenProbe is a token's hash and the first slot of its shard's table,
// read ahead of the token's lookup (see stemTokens).
type tokenProbe struct {
	table *wordTable
	slot  uint64
}

// stemTokens appends to ents the cache entries of the tokens of norm that
// spans delimit. It reads the first table slot of every token of a block
// before it looks any of them up: the reads do not depend on each other,
// so the processor overlaps their cache misses instead of waiting on each
// in turn. Blocks are small (stemBlock tokens) so that the slots read ahead
// are still in the processor's cache when they are used: read ahead for a
// whole long message, they were evicted again before use, and a 10,000-word
// message cost twice as much per word as a short one. probe is scratch
// memory.
func (c *StemCache) stemTokens(ents []stemEntry, norm []byte, spans []span, probe *[]tokenProbe) []stemEntry {
	if c == nil || c.perShard <= 0 {
		for _, sp := range spans {
			ents = append(ents, c.stemBytes(norm[sp.start:sp.end]))
		}
		return ents
	}
	ps := slices.Grow((*probe)[:0], min(len(spans), stemBlock))
	for len(spans) > 0 {
		block := spans[:min(len(spans), stemBlock)]
		spans = spans[len(block):]
		ps = ps[:0]
		for _, sp := range block {
			var p tokenProbe
			if w := norm[sp.start:sp.end]; len(w) <= maxCachedWord {
				h := maphash.Bytes(c.seed, w)
				if t := c.shards[h%stemShards].read.Load(); t != nil {
					if sl := t.slots[t.home(h)]; sl&^0xffffffff == h>>32<<32 {
						p = tokenProbe{t, sl}
					}
				}
			}
			ps = append(ps, p)
		}
		for i, sp := range block {
			w := norm[sp.start:sp.end]
			// The likely case: the word sits in its home slot.
			if p := ps[i]; p.table != nil && p.slot != 0 {
				if we := &p.table.words[uint32(p.slot)-1]; we.word == string(w) {
					ents = append(ents, we.stemEntry)
					continue
				}
			}
			ents = append(ents, c.stemBytes(w))
		}
	}
	clear(ps) // do not keep old tables alive
	*probe = ps
	return ents
}

// stemBlock is how many tokens stemTokens reads ahead at a time.
const stemBlock = 256

// store adds a word (whose hash is h) to its shard's pending map and
// publishes the pending words when enough have gathered. Publishing copies
// the shard, so it is batched: at most once per len(published)/8 new words.
func (c *StemCache) store(sh *stemShard, key string, h uint64, stem stemEntry) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.pending == nil {
		sh.pending = make(map[string]stemEntry)
	}
	sh.pending[key] = stem
	if len(sh.pending)+sh.pendingHits >= c.publishAt(sh) {
		c.publishLocked(sh)
	}
}

// pendingHitLocked counts a lookup that found its word only in the pending
// map. Such words recur; without this they could wait in the locked map
// for as long as no new words arrive, every lookup of theirs taking the
// lock. Counting hits towards the batch publishes them after as many
// locked lookups as a publication is worth.
func (c *StemCache) pendingHitLocked(sh *stemShard) {
	sh.pendingHits++
	if len(sh.pending)+sh.pendingHits >= c.publishAt(sh) {
		c.publishLocked(sh)
	}
}

// publishAt is how many pending words (and hits on them) make a shard
// worth copying.
func (c *StemCache) publishAt(sh *stemShard) int {
	n := 0
	if t := sh.read.Load(); t != nil {
		n = len(t.words)
	}
	return min(c.batch, max(16, n/8))
}

// publishLocked merges the pending words into a new published table.
func (c *StemCache) publishLocked(sh *stemShard) {
	var old []wordEntry
	if t := sh.read.Load(); t != nil {
		old = t.words
	}
	if len(old)+len(sh.pending) > c.perShard-c.batch {
		old = nil // full: the older generation is dropped
	}
	next := newWordTable(len(old) + len(sh.pending))
	for i := range old {
		next.put(old[i].word, maphash.String(c.seed, old[i].word), old[i].stemEntry)
	}
	for k, v := range sh.pending {
		next.put(k, maphash.String(c.seed, k), v)
	}
	sh.read.Store(next)
	sh.pending = make(map[string]stemEntry)
	sh.pendingHits = 0
}

// Len returns the number of words the cache holds now.
func (c *StemCache) Len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		if t := sh.read.Load(); t != nil {
			n += len(t.words)
		}
		n += len(sh.pending)
		sh.mu.Unlock()
	}
	return n
}

// StemWord stems one lower-case word without any cache: the naive path,
// kept for comparison and for one-off use.
func StemWord(word string) string {
	if !needsStem(word) {
		return word
	}
	return stemWord(word)
}

func stemWord(word string) string {
	return russian.Stem(word, false)
}

// needsStem reports whether the stemmer could change word: it has at least
// three letters and is not a number.
func needsStem(word string) bool {
	if len(word) < 3 || utf8.RuneCountInString(word) < 3 {
		return false
	}
	for i := 0; i < len(word); i++ {
		if word[i] < '0' || word[i] > '9' {
			return true
		}
	}
	return false
}
