package classify

import (
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/kljensen/snowball/russian"
)

// DefaultStemCacheSize is the number of words a StemCache built with size 0
// remembers. Russian municipal text uses a few tens of thousands of distinct
// word forms; 200,000 entries cost roughly 20 MB at most.
const DefaultStemCacheSize = 200_000

// maxCachedWord is the longest token (in bytes) the cache stores; longer
// tokens are stemmed every time, so that junk cannot fill the memory.
const maxCachedWord = 64

const stemShards = 64

// StemCache stems Russian words with the Snowball algorithm and remembers the
// results. The raw stemmer costs microseconds a word; a cache hit costs tens
// of nanoseconds and takes no lock: each of the cache's 64 shards publishes
// an immutable map that readers load atomically, and new words wait in a
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
	shards   [stemShards]stemShard
}

// stemEntry is a cached stem with its feature hash, so that the model does
// not hash the same stem again for every message.
type stemEntry struct {
	stem string
	hash uint64 // unigramHash(stem)
}

type stemShard struct {
	read    atomic.Pointer[map[string]stemEntry] // published, never modified
	mu      sync.Mutex
	pending map[string]stemEntry // stemmed since the last publication
	_       [40]byte             // keep shards on separate cache lines
}

// NewStemCache returns a cache that holds at most about size words (0 means
// DefaultStemCacheSize; a negative size disables caching).
func NewStemCache(size int) *StemCache {
	if size == 0 {
		size = DefaultStemCacheSize
	}
	c := &StemCache{perShard: size / stemShards}
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
	sh := &c.shards[shardOf(word)]
	if m := sh.read.Load(); m != nil {
		if e, ok := (*m)[word]; ok {
			return e.stem
		}
	}
	sh.mu.Lock()
	e, ok := sh.pending[word]
	sh.mu.Unlock()
	if ok {
		return e.stem
	}
	s := stemWord(word)
	key := strings.Clone(word) // word may point into a large message
	if s == word {
		s = key
	}
	c.store(sh, key, stemEntry{s, unigramHash(s)})
	return s
}

// stemBytes is Stem for a token in a scratch buffer: a cache hit does not
// allocate. Short words and numbers are cached too, so that they need no
// string conversion either.
func (c *StemCache) stemBytes(word []byte) stemEntry {
	if c == nil || c.perShard <= 0 || len(word) > maxCachedWord {
		s := StemWord(string(word))
		return stemEntry{s, unigramHash(s)}
	}
	sh := &c.shards[shardOfBytes(word)]
	if m := sh.read.Load(); m != nil {
		if e, ok := (*m)[string(word)]; ok {
			return e
		}
	}
	sh.mu.Lock()
	e, ok := sh.pending[string(word)]
	sh.mu.Unlock()
	if ok {
		return e
	}
	key := string(word)
	s := StemWord(key)
	e = stemEntry{s, unigramHash(s)}
	c.store(sh, key, e)
	return e
}

// store adds a word to its shard's pending map and publishes the pending
// words when enough have gathered. Publishing copies the shard, so it is
// batched: at most once per len(published)/8 new words.
func (c *StemCache) store(sh *stemShard, key string, stem stemEntry) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.pending == nil {
		sh.pending = make(map[string]stemEntry)
	}
	sh.pending[key] = stem
	var old map[string]stemEntry
	if p := sh.read.Load(); p != nil {
		old = *p
	}
	if len(sh.pending) < min(c.batch, max(16, len(old)/8)) {
		return
	}
	next := sh.pending
	if len(old)+len(sh.pending) <= c.perShard-c.batch {
		next = make(map[string]stemEntry, len(old)+len(sh.pending))
		for k, v := range old {
			next[k] = v
		}
		for k, v := range sh.pending {
			next[k] = v
		}
	} // else: full; the older generation is dropped
	sh.read.Store(&next)
	sh.pending = make(map[string]stemEntry)
}

// Len returns the number of words the cache holds now.
func (c *StemCache) Len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		if p := sh.read.Load(); p != nil {
			n += len(*p)
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

// shardOf hashes a word to a shard (FNV-1a).
func shardOf(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h % stemShards
}

func shardOfBytes(s []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range s {
		h ^= uint32(c)
		h *= 16777619
	}
	return h % stemShards
}
