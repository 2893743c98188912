package incident

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/russian"
)

// stemmer turns words into Snowball stems and caches them: appeals repeat a
// small vocabulary, and stemming is the costly part of shingling.
type stemmer struct {
	cache map[string]string
}

func (s *stemmer) stem(w string) string {
	if st, ok := s.cache[w]; ok {
		return st
	}
	st := russian.Stem(w, false)
	if len(s.cache) < 1<<18 {
		s.cache[w] = st
	}
	return st
}

// words lower-cases text, folds ё to е, maps Latin look-alikes inside
// Cyrillic words to Cyrillic, drops HTML tags and returns the words (runs of
// letters and digits, with an inner dash kept: "пр-т", "1-й"), each with
// whether it was capitalised and whether a comma or colon follows it — what
// the address parser needs.
func words(text string) []addrToken {
	buf := make([]byte, 0, len(text))
	type span struct {
		start, end int
		upper      bool
		comma      bool
		mixed      bool
	}
	spans := make([]span, 0, len(text)/6)
	start, upper, cyr, lat := -1, false, 0, 0
	inTag := false
	end := func() {
		if start >= 0 {
			spans = append(spans, span{start: start, end: len(buf), upper: upper, mixed: cyr > 0 && lat > 0})
			start, cyr, lat = -1, 0, 0
		}
	}
	for i, r := range text {
		switch {
		case r == '<' && !inTag && i+1 < len(text) && (text[i+1] == '/' || text[i+1] == '!' || text[i+1] >= 'a' && text[i+1] <= 'z' || text[i+1] >= 'A' && text[i+1] <= 'Z'):
			// an HTML tag; a bare "<" as in "t < 18" is punctuation
			inTag = true
			end()
			continue
		case r == '>' && inTag:
			inTag = false
			continue
		case inTag:
			continue
		}
		isWord := isLetterDigit(r) || r > 0x7f && (unicode.IsLetter(r) || unicode.IsDigit(r))
		if !isWord && r == '-' && start >= 0 && i+1 < len(text) {
			nr, _ := utf8.DecodeRuneInString(text[i+1:])
			isWord = isLetterDigit(nr)
		}
		if !isWord {
			end()
			if (r == ',' || r == ':') && len(spans) > 0 && spans[len(spans)-1].end == len(buf) {
				spans[len(spans)-1].comma = true
			}
			if r != ' ' && r != '.' && r != ',' && r != ':' && len(spans) > 0 {
				// another mark ends the "comma follows" window
				buf = append(buf, 0)
			}
			continue
		}
		if start < 0 {
			start = len(buf)
			upper = r >= 'А' && r <= 'Я' || r == 'Ё' || r >= 'A' && r <= 'Z'
		}
		lr := lowerRune(r)
		if lr >= 'а' && lr <= 'я' {
			cyr++
		} else if lr >= 'a' && lr <= 'z' {
			lat++
		}
		buf = utf8.AppendRune(buf, lr)
	}
	end()
	all := string(buf)
	out := make([]addrToken, len(spans))
	for i, sp := range spans {
		w := all[sp.start:sp.end]
		if sp.mixed {
			w = fixLookalikes(w)
		}
		out[i] = addrToken{w: w, upper: sp.upper, comma: sp.comma}
	}
	return out
}

// lowerRune folds ASCII and Russian capitals fast, and ё to е.
func lowerRune(r rune) rune {
	switch {
	case r >= 'A' && r <= 'Z', r >= 'А' && r <= 'Я':
		return r + 32
	case r == 'Ё' || r == 'ё':
		return 'е'
	case r < 0x80 || r >= 'а' && r <= 'я':
		return r
	}
	return unicode.ToLower(r)
}

var lookalikes = strings.NewReplacer("a", "а", "e", "е", "o", "о", "p", "р", "c", "с", "x", "х", "y", "у", "k", "к", "m", "м", "t", "т", "b", "в", "h", "н")

func fixLookalikes(w string) string { return lookalikes.Replace(w) }

// features returns the sorted, de-duplicated hashes of the text's stem
// shingles: runs of k consecutive content stems (stop words and one-letter
// words dropped). With k > 1 single stems are included too, so short texts
// still have features.
func (s *stemmer) features(toks []addrToken, k int) []uint64 {
	stems := make([]string, 0, len(toks))
	for _, t := range toks {
		w := t.w
		// Numbers (house, flat, entrance numbers, dates) and the words
		// of an address are left to the place comparison: in the text they
		// would make every two appeals about one house look alike.
		if len([]rune(w)) < 2 || hasDigit(w) || streetTypes[w] || houseWords[w] || russian.IsStopWord(w) || isMask(w) {
			continue
		}
		stems = append(stems, s.stem(w))
	}
	out := make([]uint64, 0, len(stems)*k)
	for n := 1; n <= k; n++ {
		if n != 1 && n != k {
			continue
		}
		for i := 0; i+n <= len(stems); i++ {
			h := fnvOffset
			for j := i; j < i+n; j++ {
				h = fnvString(h, stems[j])
				h = fnvByte(h, 0)
			}
			out = append(out, mix(fnvByte(h, byte(n))))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func hasDigit(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] >= '0' && w[i] <= '9' {
			return true
		}
	}
	return false
}

func isDigits(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}

// isMask recognises the XXX runs portals put in place of personal data.
func isMask(w string) bool {
	return strings.Trim(w, "xх") == ""
}

// jaccard is |a ∩ b| / |a ∪ b| of two sorted sets.
func jaccard(a, b []uint64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	i, j, inter := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// FNV-1a, fixed so that features and LSH buckets are the same in every
// process: grouping must be reproducible.
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func fnvByte(h uint64, b byte) uint64 {
	h ^= uint64(b)
	return h * fnvPrime
}

// mix is the splitmix64 finaliser: FNV's low bits are weak.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
