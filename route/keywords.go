package route

import (
	"encoding/binary"
	"sync"
	"unicode/utf8"
)

// keywordIndex holds every distinct folded keyword of an engine's rules
// (keywords and exclude_keywords alike), numbered, and files them by a
// hash of their first eight bytes (or four, for keywords of four to seven
// bytes), so that one pass over the word starts of an appeal's folded
// text finds every keyword it holds: at each word start only the
// keywords in two buckets, nearly always none, are compared. It is built
// once with the engine and only read afterwards, so goroutines share it.
type keywordIndex struct {
	words  []string // folded keywords by id
	head8  kwTable  // keywords of eight bytes or more, by their first eight
	head4  kwTable  // keywords of four to seven bytes, by their first four
	short  []kwCand // keywords under four bytes, compared at every word start
	long   []int32  // keywords longer than maxKeywordBytes, searched in the raw text
	maxLen int      // the longest keyword the pass compares
	// bitsets lends bitsets to decisions when there are more keywords
	// than the one on the stack holds; nil otherwise.
	bitsets *sync.Pool
}

// kwTable files keywords by a hash of their first bytes (key = the
// little-endian word of them).
type kwTable struct {
	buckets []kwBucket // len is a power of two
	shift   uint       // 64 - log2(len(buckets))
	cands   []kwCand   // the keywords of every bucket, concatenated
}

// kwBucket is cands[from:to].
type kwBucket struct{ from, to int32 }

// kwCand is a keyword as the pass compares it: its first (up to) eight
// bytes as a little-endian word with the mask of the bytes they fill,
// then the rest.
type kwCand struct {
	head, mask uint64
	tail       string
	id, n      int32 // n: the keyword's length in bytes
}

func (t *kwTable) lookup(key uint64) []kwCand {
	b := t.buckets[(key*0x9E3779B97F4A7C15)>>t.shift]
	return t.cands[b.from:b.to]
}

// newTable files cands under key(c.head), with about four buckets a keyword.
func newTable(cands []kwCand, key uint64) kwTable {
	size, bits := 1, uint(0)
	for size < 4*len(cands) {
		size, bits = size*2, bits+1
	}
	t := kwTable{buckets: make([]kwBucket, size), shift: 64 - bits}
	byBucket := make([][]kwCand, size)
	for _, c := range cands {
		h := (c.head & key * 0x9E3779B97F4A7C15) >> t.shift
		byBucket[h] = append(byBucket[h], c)
	}
	for h, cs := range byBucket {
		from := int32(len(t.cands))
		t.cands = append(t.cands, cs...)
		t.buckets[h] = kwBucket{from, int32(len(t.cands))}
	}
	return t
}

const (
	// foldChunk is how many folded bytes a decision holds on its stack;
	// a longer text is folded and searched chunk by chunk.
	foldChunk = 512
	// maxKeywordBytes bounds the keywords the chunked pass compares: a
	// chunk carries that many bytes of the previous one over. Longer
	// keywords (a phrase of over 100 Cyrillic letters) are searched in
	// the raw text instead.
	maxKeywordBytes = foldChunk / 2
	// stackKeywords is how many keywords the bitset on the stack holds.
	stackKeywords = 512
)

// buildKeywords numbers the keywords of rules, records the numbers in
// each rule's condition and indexes them.
func buildKeywords(rules []*rule) *keywordIndex {
	kx := &keywordIndex{}
	byWord := map[string]int32{}
	idsOf := func(list []string) []int32 {
		out := make([]int32, len(list))
		for i, w := range list {
			id, ok := byWord[w]
			if !ok {
				id = int32(len(kx.words))
				byWord[w] = id
				kx.words = append(kx.words, w)
			}
			out[i] = id
		}
		return out
	}
	for _, r := range rules {
		c := &r.cond
		c.keywordIDs = make([][]int32, len(c.keywordGroups))
		for i, g := range c.keywordGroups {
			c.keywordIDs[i] = idsOf(g)
		}
		c.excludeIDs = idsOf(c.excludes)
	}
	var by8, by4 []kwCand
	for id, w := range kx.words {
		if len(w) > maxKeywordBytes {
			kx.long = append(kx.long, int32(id))
			continue
		}
		kx.maxLen = max(kx.maxLen, len(w))
		var head [8]byte
		m := copy(head[:], w)
		c := kwCand{
			head: binary.LittleEndian.Uint64(head[:]),
			mask: ^uint64(0) >> (64 - 8*m),
			tail: w[m:],
			id:   int32(id),
			n:    int32(len(w)),
		}
		switch {
		case len(w) >= 8:
			by8 = append(by8, c)
		case len(w) >= 4:
			by4 = append(by4, c)
		default:
			kx.short = append(kx.short, c)
		}
	}
	kx.head8, kx.head4 = newTable(by8, ^uint64(0)), newTable(by4, 0xFFFFFFFF)
	if n := len(kx.words); n > stackKeywords {
		kx.bitsets = &sync.Pool{New: func() any {
			b := make([]uint64, (n+63)/64)
			return &b
		}}
	}
	return kx
}

// foldedText is what one decision knows about an appeal's text: which of
// the engine's keywords it holds, found by one pass over the text when the
// first rule with keywords asks.
type foldedText struct {
	kx    *keywordIndex
	done  bool
	small [stackKeywords / 64]uint64
	big   *[]uint64 // from kx.bitsets when the engine has more keywords than small holds
}

// bits is the set of keyword ids found in the text.
func (f *foldedText) bits() []uint64 {
	if f.big != nil {
		return *f.big
	}
	return f.small[:]
}

// release returns a borrowed bitset.
func (f *foldedText) release() {
	if f.big != nil {
		f.kx.bitsets.Put(f.big)
		f.big = nil
	}
}

// find returns the first of keywords (whose ids are ids) that the text
// holds, in the list's order: the trace names it.
func (f *foldedText) find(text string, keywords []string, ids []int32) (string, bool) {
	if !f.done {
		f.scan(text)
	}
	bits := f.bits()
	for i, id := range ids {
		if bits[id>>6]&(1<<(id&63)) != 0 {
			return keywords[i], true
		}
	}
	return "", false
}

// foldBuf is one chunk of folded text: lower case, ё as е, every run of
// non-word characters one space, leading ones dropped. It lives on the
// stack of the one scan that needs it.
type foldBuf struct {
	// text has eight bytes to spare, so that a word's first eight bytes
	// load as one word wherever it starts.
	text [foldChunk + 8]byte
	// starts holds where the words of text begin: a word takes a byte
	// and a space at least, so there are at most half as many.
	starts [foldChunk / 2]uint16
}

// scan finds every keyword of the index in text. A keyword is a stem: it
// must begin at a word's start and may end inside a word ("подтоп" finds
// "подтопило"); a space in it matches any run of separators, which the
// folded text holds as one space, so a keyword is found byte for byte.
// A text of any length is folded and searched a chunk at a time.
func (f *foldedText) scan(text string) {
	f.done = true
	kx := f.kx
	if kx == nil || len(kx.words) == 0 {
		return
	}
	if kx.bitsets != nil {
		f.big = kx.bitsets.Get().(*[]uint64)
		clear(*f.big)
	}
	bits := f.bits()
	if kx.maxLen > 0 {
		var fb foldBuf
		n, ns, st := 0, 0, foldState{space: true}
		for {
			n, ns, st = fb.fold(n, ns, text, st)
			limit := n
			more := st.in < len(text)
			if more {
				// A keyword starting later may run past this chunk.
				limit = n - kx.maxLen
			}
			done := kx.mark(&fb, n, ns, limit, bits)
			if !more {
				break
			}
			// Carry the unsearched tail to the front.
			n = copy(fb.text[:], fb.text[limit:n])
			ns = copy(fb.starts[:], fb.starts[done:ns])
			for k := range fb.starts[:ns] {
				fb.starts[k] -= uint16(limit)
			}
		}
	}
	for _, id := range kx.long {
		if _, ok := findKeyword(text, kx.words[id:id+1]); ok {
			bits[id>>6] |= 1 << (id & 63)
		}
	}
}

// foldState is where a chunked fold stands in the text.
type foldState struct {
	in    int  // the next byte of the text to fold
	space bool // the last byte written was a separator, or none was written yet
}

// asciiFold maps an ASCII byte to its folded form, 0 for a separator.
var asciiFold = func() (t [utf8.RuneSelf]byte) {
	for b := range t {
		if isWordRune(rune(b)) {
			t[b] = byte(foldRune(rune(b)))
		}
	}
	return t
}()

// cyrillicFold maps a two-byte letter U+0400..U+045F, indexed by the low
// bit of its first byte (0xD0 or 0xD1) and its second byte, to its folded
// bytes; zero where the second byte is no continuation byte, or is one of
// 0xA0..0xBF after 0xD1 (other letters, folded the slow way).
var cyrillicFold = func() (t [512][2]byte) {
	for r := rune(0x400); r < 0x460; r++ {
		var in, out [2]byte
		utf8.EncodeRune(in[:], r)
		utf8.EncodeRune(out[:], foldRune(r))
		t[uint(in[0]&1)<<8|uint(in[1])] = out
	}
	return t
}()

// lowerCyrillic4 reports whether the eight bytes of x (little-endian)
// are four letters а..я: 0xD0 0xB0..0xBF (а..п) or 0xD1 0x80..0x8F
// (р..я), which fold to themselves. Each 16-bit lane holds a lead byte
// (low) and a continuation byte (high); the continuation's high nibble
// must be 0xB for lead 0xD0 and 0x8 for lead 0xD1, i.e. 0xB - 3·(lead&1).
func lowerCyrillic4(x uint64) bool {
	const leads, lead = 0x00FE00FE00FE00FE, 0x00D000D000D000D0
	const nibbles, nibbleD0 = 0xF000F000F000F000, 0xB000B000B000B000
	return x&leads == lead && x&nibbles == nibbleD0-(x&0x0001000100010001)*0x3000
}

// fold folds text from st.in into the chunk from byte n, until the text
// ends or the chunk has no room for another character, noting where each
// word begins in starts (from ns). It returns the new n, ns and state.
func (fb *foldBuf) fold(n, ns int, text string, st foldState) (int, int, foldState) {
	const room = foldChunk - utf8.UTFMax
	buf, starts := &fb.text, &fb.starts
	i, space := st.in, st.space
	for i < len(text) && n <= room {
		b := text[i]
		// Fast paths: two-byte Cyrillic (U+0400..U+045F) and ASCII, which
		// fold by table without decoding to runes.
		if b&0xFE == 0xD0 && i+1 < len(text) {
			if o := cyrillicFold[uint(b&1)<<8|uint(text[i+1])]; o[0] != 0 {
				if space {
					starts[ns] = uint16(n)
					ns++
					space = false
				}
				buf[n], buf[n+1] = o[0], o[1]
				n, i = n+2, i+2
				// The rest of a Cyrillic word, without the checks above: four
				// lower-case letters а..я at a time, which stay as they are,
				// then two letters of any case, then one.
				for i+8 <= len(text) && n+8 <= room {
					t := text[i : i+8]
					x := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
						uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
					if !lowerCyrillic4(x) {
						break
					}
					binary.LittleEndian.PutUint64(buf[n:], x)
					n, i = n+8, i+8
				}
				for i+3 < len(text) && n <= room-2 {
					b0, b1 := text[i], text[i+2]
					if (b0^0xD0)&0xFE|(b1^0xD0)&0xFE != 0 {
						break
					}
					o0 := cyrillicFold[uint(b0&1)<<8|uint(text[i+1])]
					o1 := cyrillicFold[uint(b1&1)<<8|uint(text[i+3])]
					if o0[0] == 0 || o1[0] == 0 {
						break
					}
					buf[n], buf[n+1], buf[n+2], buf[n+3] = o0[0], o0[1], o1[0], o1[1]
					n, i = n+4, i+4
				}
				for i+1 < len(text) && n <= room {
					b = text[i]
					if b&0xFE != 0xD0 {
						break
					}
					o = cyrillicFold[uint(b&1)<<8|uint(text[i+1])]
					if o[0] == 0 {
						break
					}
					buf[n], buf[n+1] = o[0], o[1]
					n, i = n+2, i+2
				}
				continue
			}
		}
		if b < utf8.RuneSelf {
			i++
			if v := asciiFold[b]; v != 0 {
				if space {
					starts[ns] = uint16(n)
					ns++
					space = false
				}
				buf[n] = v
				n++
				continue
			}
			if !space {
				buf[n] = ' '
				n++
				space = true
			}
			continue
		}
		r, size := decodeRune(text, i)
		i += size
		if !isWordRune(r) {
			if !space {
				buf[n] = ' '
				n++
				space = true
			}
			continue
		}
		if space {
			starts[ns] = uint16(n)
			ns++
			space = false
		}
		n += utf8.EncodeRune(buf[n:], foldRune(r))
	}
	return n, ns, foldState{in: i, space: space}
}

// mark sets the bit of every keyword that begins at one of the first ns
// word starts of fb's first n bytes that lie before limit, and returns
// how many starts it looked at.
func (kx *keywordIndex) mark(fb *foldBuf, n, ns, limit int, bits []uint64) int {
	for k, p16 := range fb.starts[:ns] {
		p := int(p16)
		if p >= limit {
			return k
		}
		room := n - p
		word := binary.LittleEndian.Uint64(fb.text[p:])
		if room >= 8 {
			for _, c := range kx.head8.lookup(word) {
				if word == c.head && int(c.n) <= room && string(fb.text[p+8:p+int(c.n)]) == c.tail {
					bits[c.id>>6] |= 1 << (c.id & 63)
				}
			}
		}
		if room >= 4 && len(kx.head4.cands) > 0 {
			for _, c := range kx.head4.lookup(word & 0xFFFFFFFF) {
				if word&c.mask == c.head && int(c.n) <= room {
					bits[c.id>>6] |= 1 << (c.id & 63)
				}
			}
		}
		for _, c := range kx.short {
			if word&c.mask == c.head && int(c.n) <= room {
				bits[c.id>>6] |= 1 << (c.id & 63)
			}
		}
	}
	return ns
}
