package classify

import (
	"html"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Normalize turns the raw text of a social-network message into the form the
// classifier works on:
//
//   - HTML tags are removed (block tags become spaces) and entities decoded,
//     because appeals exported from portals carry <p>, <br> and &nbsp;;
//   - URLs, @mentions and VK-style mentions ([id123|Name]) are dropped: they
//     carry personal data and no topic;
//   - emoji, pictographs and other symbols, control and format characters and
//     invalid UTF-8 are dropped;
//   - letters are lower-cased and ё becomes е (the Snowball stemmer does not
//     fold it, so "всё" and "все" would otherwise stem apart);
//   - Latin look-alike letters inside Cyrillic words are folded to Cyrillic
//     ("дорoга" with a Latin o becomes "дорога"), a common typo and a common
//     trick to dodge keyword filters;
//   - runs of white space collapse to one space.
//
// Punctuation is kept (a question mark says something about an appeal).
// The result is always valid UTF-8. Normalize is safe for concurrent use.
func Normalize(text string) string {
	return string(appendNormalized(nil, text))
}

// appendNormalized appends the normalized form of text to dst.
func appendNormalized(dst []byte, text string) []byte {
	b := &textBuf{b: dst}
	normalizeTo(b, text)
	return b.b
}

// textBuf is a reusable output buffer (strings.Builder cannot be reset
// without losing its memory).
type textBuf struct{ b []byte }

func (t *textBuf) Len() int         { return len(t.b) }
func (t *textBuf) AddByte(c byte)   { t.b = append(t.b, c) }
func (t *textBuf) WriteRune(r rune) { t.b = utf8.AppendRune(t.b, r) }
func (t *textBuf) Grow(n int)       { t.b = slices.Grow(t.b, n) }
func (t *textBuf) Truncate(n int)   { t.b = t.b[:n] }
func (t *textBuf) HasSuffix(s string) bool {
	return len(t.b) >= len(s) && string(t.b[len(t.b)-len(s):]) == s
}

// normalizeTo writes the normalized form of text to b.
func normalizeTo(b *textBuf, text string) {
	if strings.IndexByte(text, '<') >= 0 || strings.IndexByte(text, '[') >= 0 {
		text = stripMarkup(text)
	}
	if strings.IndexByte(text, '&') >= 0 {
		text = html.UnescapeString(text)
	}
	b.Grow(len(text))
	base := b.Len()
	pendingSpace := false
	for len(text) > 0 {
		// Skip white space between chunks.
		r, size := utf8.DecodeRuneInString(text)
		if isSpace(r) {
			text = text[size:]
			if b.Len() > base {
				pendingSpace = true
			}
			continue
		}
		// A chunk runs to the next white space.
		end := len(text)
		for i, r := range text {
			if isSpace(r) {
				end = i
				break
			}
		}
		chunk := text[:end]
		text = text[end:]
		if dropChunk(chunk) {
			continue
		}
		before := b.Len()
		if pendingSpace {
			b.AddByte(' ')
		}
		if !writeChunk(b, chunk) {
			// Nothing but dropped characters: undo the separator.
			b.Truncate(before)
			continue
		}
		pendingSpace = false
	}
}

func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || r >= '\t' && r <= '\r'
	}
	if r < 0x1680 { // no white space between U+00A0 and U+1680
		return r == 0x85 || r == 0xa0
	}
	return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff'
}

// The helpers below answer for ASCII and the Russian alphabet without the
// unicode tables, which dominate the cost of normalisation otherwise.

func isCyrillic(r rune) bool { return r >= 0x400 && r <= 0x4ff }

func isLetter(r rune) bool {
	switch {
	case r < utf8.RuneSelf:
		return r|0x20 >= 'a' && r|0x20 <= 'z'
	case r >= 'А' && r <= 'я', r == 'ё', r == 'Ё':
		return true
	}
	return unicode.IsLetter(r)
}

func toLower(r rune) rune {
	switch {
	case r < utf8.RuneSelf:
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	case r >= 'а' && r <= 'я':
		return r
	case r >= 'А' && r <= 'Я':
		return r + 'а' - 'А'
	}
	return unicode.ToLower(r)
}

// asciiKeep says which ASCII characters survive: letters, digits,
// punctuation and + = < > $.
var asciiKeep = func() (t [utf8.RuneSelf]bool) {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		t[r] = unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsPunct(r) || strings.ContainsRune("+=<>$", r)
	}
	return t
}()

// dropChunk reports whether a white-space delimited chunk is a URL or a
// mention and must be dropped whole.
func dropChunk(c string) bool {
	if c[0] == '@' && len(c) > 1 {
		return true
	}
	if strings.Contains(c, "://") {
		return true
	}
	// "www.site.ru", possibly after opening punctuation: "(www.site.ru)".
	i := strings.IndexAny(c, "wW")
	return i >= 0 && i <= 2 && hasPrefixFold(c[i:], "www.")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// writeChunk writes one chunk rune by rune and reports whether it wrote
// anything.
func writeChunk(b *textBuf, c string) bool {
	fold := false
	runEnd := -1 // end of the current run of letters
	wrote := false
	var prev rune = -1
	for i, r := range c {
		if i >= runEnd && isLetter(r) {
			// A new word: fold look-alikes if it mixes scripts.
			runEnd = i + letterRunLen(c[i:])
			fold = shouldFoldLatin(c[i:runEnd])
		}
		switch {
		case r == '\u0306' && prev == 'и' && b.HasSuffix("и"): // и + combining breve = й
			b.Truncate(b.Len() - len("и"))
			b.WriteRune('й')
			prev = 'й'
			continue
		case r == '\u0308' && prev == 'е': // е + combining diaeresis = ё → е
			continue
		case r == utf8.RuneError:
			continue
		}
		if !keepRune(r) {
			continue
		}
		r = toLower(r)
		if fold {
			if c, ok := latinLookalike(r); ok {
				r = c
			}
		}
		if r == 'ё' {
			r = 'е'
		}
		b.WriteRune(r)
		prev = r
		wrote = true
	}
	return wrote
}

// keepRune reports whether r survives normalisation: letters, digits,
// punctuation and a few symbols (№, %, +, =) do; emoji, pictographs,
// modifiers, marks and control or format characters do not.
func keepRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiKeep[r]
	}
	switch {
	case r >= 'А' && r <= 'я':
		return true
	case unicode.IsLetter(r), unicode.IsDigit(r):
		return true
	case unicode.IsPunct(r):
		return true
	case r == '№', r == '%', r == '+', r == '=', r == '<', r == '>', r == '$', r == '₽':
		return true
	}
	return false
}

// letterRunLen returns the byte length of the run of letters (and
// combining marks) at the start of s.
func letterRunLen(s string) int {
	for i, r := range s {
		if !isLetter(r) && !unicode.Is(unicode.Mn, r) {
			return i
		}
	}
	return len(s)
}

// shouldFoldLatin reports whether a word mixes Cyrillic letters with Latin
// letters that all have a Cyrillic look-alike, the sign of a typo or of
// filter dodging rather than of a real Latin word.
func shouldFoldLatin(c string) bool {
	hasCyr, hasLat := false, false
	for _, r := range c {
		switch {
		case isCyrillic(r):
			hasCyr = true
		case r < utf8.RuneSelf && isLetter(r):
			if _, ok := latinLookalike(toLower(r)); !ok {
				return false
			}
			hasLat = true
		}
	}
	return hasCyr && hasLat
}

// latinLookalike maps a lower-case Latin letter to the Cyrillic letter it
// looks like (in either case).
func latinLookalike(r rune) (rune, bool) {
	switch r {
	case 'a':
		return 'а', true
	case 'b':
		return 'в', true // as in upper-case В
	case 'c':
		return 'с', true
	case 'e':
		return 'е', true
	case 'h':
		return 'н', true // as in upper-case Н
	case 'k':
		return 'к', true
	case 'm':
		return 'м', true
	case 'o':
		return 'о', true
	case 'p':
		return 'р', true
	case 't':
		return 'т', true
	case 'x':
		return 'х', true
	case 'y':
		return 'у', true
	}
	return 0, false
}

// stripMarkup removes HTML tags and VK-style mentions ("[id123|Name]",
// "[club45|Group]"), replacing each with a space.
func stripMarkup(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c == '<' && i+1 < len(s) && isTagStart(s[i+1]) {
			if j := strings.IndexByte(s[i:], '>'); j > 0 {
				b.WriteByte(' ')
				i += j + 1
				continue
			}
		}
		if c == '[' {
			if j := vkMentionEnd(s[i:]); j > 0 {
				b.WriteByte(' ')
				i += j
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

func isTagStart(c byte) bool {
	return c == '/' || c == '!' || c == '?' || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// vkMentionEnd returns the length of a VK mention at the start of s, or 0.
func vkMentionEnd(s string) int {
	rest := s[1:]
	var ok bool
	for _, p := range []string{"id", "club", "public", "event"} {
		if strings.HasPrefix(rest, p) {
			rest, ok = rest[len(p):], true
			break
		}
	}
	if !ok {
		return 0
	}
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n == 0 || n >= len(rest) || rest[n] != '|' {
		return 0
	}
	j := strings.IndexByte(rest, ']')
	if j < 0 || j > 200 {
		return 0
	}
	return len(s) - len(rest) + j + 1
}

// Tokenize normalizes text and splits it into tokens: maximal runs of letters
// and digits. Punctuation separates tokens and is not returned.
func Tokenize(text string) []string {
	return appendTokens(nil, Normalize(text))
}

// appendTokens appends the tokens of already normalized text to dst. The
// tokens share memory with norm.
func appendTokens(dst []string, norm string) []string {
	for _, sp := range appendTokenSpans(nil, []byte(norm)) {
		dst = append(dst, norm[sp.start:sp.end])
	}
	return dst
}

// span is a token's byte range in a normalized buffer.
type span struct{ start, end int32 }

// appendTokenSpans appends the byte ranges of the tokens of normalized text.
func appendTokenSpans(dst []span, norm []byte) []span {
	start := -1
	for i := 0; i < len(norm); {
		c := norm[i]
		var r rune
		size := 1
		if c < utf8.RuneSelf {
			r = rune(c)
		} else {
			r, size = utf8.DecodeRune(norm[i:])
		}
		if isTokenRune(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			dst = append(dst, span{int32(start), int32(i)})
			start = -1
		}
		i += size
	}
	if start >= 0 {
		dst = append(dst, span{int32(start), int32(len(norm))})
	}
	return dst
}

func isTokenRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z'
	}
	if r >= 'а' && r <= 'я' {
		return true
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}
