package classify

import (
	"html"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
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
	b := &textBuf{b: dst, tokStart: -1}
	normalizeTo(b, text)
	return b.b
}

// textBuf is a reusable output buffer (strings.Builder cannot be reset
// without losing its memory) that also records where tokens (runs of
// letters and digits) start and end, so that tokenising costs no second
// pass.
type textBuf struct {
	b        []byte
	spans    []span
	tokStart int // -1 outside a token
	// pre, when set, holds the buffers of the markup and entity passes,
	// reused from message to message (see analysis).
	pre *prepass
}

// prepass holds what stripMarkup and unescape write: the text after tags
// and mentions are gone, and after entities are decoded.
type prepass struct{ strip, unescaped []byte }

// view returns b as a string without copying. The caller must not change b
// while the string is in use; normalizeTo reads it only while it runs and
// keeps nothing of it.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// span is a token's byte range in a normalized buffer.
type span struct{ start, end int32 }

func (t *textBuf) endToken() {
	if t.tokStart >= 0 {
		t.spans = append(t.spans, span{int32(t.tokStart), int32(len(t.b))})
		t.tokStart = -1
	}
}

func (t *textBuf) Len() int         { return len(t.b) }
func (t *textBuf) AddByte(c byte)   { t.b = append(t.b, c) }
func (t *textBuf) WriteRune(r rune) { t.b = utf8.AppendRune(t.b, r) }
func (t *textBuf) Grow(n int)       { t.b = slices.Grow(t.b, n) }
func (t *textBuf) Truncate(n int)   { t.b = t.b[:n] }
func (t *textBuf) HasSuffix(s string) bool {
	return len(t.b) >= len(s) && string(t.b[len(t.b)-len(s):]) == s
}

// normalizeTo writes the normalized form of text to b. It decodes every
// rune once: this is the hot path of classification.
func normalizeTo(b *textBuf, text string) {
	pre := b.pre
	if pre == nil {
		pre = new(prepass)
	}
	// Both passes write into reused buffers: on a long message, copies of
	// the whole text made afresh each time were most of its allocation.
	if strings.IndexByte(text, '<') >= 0 || strings.IndexByte(text, '[') >= 0 {
		pre.strip = stripMarkupTo(pre.strip[:0], text)
		text = view(pre.strip)
	}
	if strings.IndexByte(text, '&') >= 0 {
		pre.unescaped = unescapeTo(pre.unescaped[:0], text)
		text = view(pre.unescaped)
	}
	// Only a chunk holding '@', 'w', 'W' or (in a text with a URL) ':' can
	// be a mention or a URL that dropChunk drops whole; the others are
	// written without that check. Deciding this per chunk, not per text,
	// keeps a long text (which nearly always holds one of them somewhere)
	// from paying for the check on every chunk.
	mayURL := strings.Contains(text, "://")
	triggers := "@wW"
	if mayURL {
		triggers = "@wW:"
	}
	var next dropCues
	next.reset(text, triggers)
	b.Grow(len(text))
	base := b.Len()
	pendingSpace := false
	for i := 0; i < len(text); {
		// White space: ASCII and Cyrillic bytes answer without decoding.
		space, size := false, 1
		switch c := text[i]; {
		case c < utf8.RuneSelf:
			space = c == ' ' || c >= '\t' && c <= '\r'
		case c != 0xd0 && c != 0xd1: // not Cyrillic: maybe a Unicode space
			var r rune
			r, size = utf8.DecodeRuneInString(text[i:])
			space = isSpace(r)
		}
		if space {
			i += size
			if b.Len() > base {
				pendingSpace = true
			}
			continue
		}
		// The chunk of non-space characters at i is written first; when
		// it turns out to hold a cue of a URL or mention and dropChunk
		// says so, it is taken back.
		before, spans := b.Len(), len(b.spans)
		if pendingSpace {
			b.AddByte(' ')
		}
		start := i
		end, wrote := writeChunk(b, text, i)
		i = end
		if next.within(text, start, end) && dropChunk(text[start:end], mayURL) {
			b.Truncate(before)
			b.spans = b.spans[:spans]
			continue
		}
		if !wrote {
			// Nothing but dropped characters: undo the separator.
			b.Truncate(before)
			continue
		}
		pendingSpace = false
	}
}

// decodeRune decodes the rune at s[i], with fast paths for ASCII and the
// two-byte Cyrillic block.
func decodeRune(s string, i int) (rune, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	if (c == 0xd0 || c == 0xd1) && i+1 < len(s) && s[i+1]&0xc0 == 0x80 {
		return rune(c&0x1f)<<6 | rune(s[i+1]&0x3f), 2
	}
	return utf8.DecodeRuneInString(s[i:])
}

// dropCues finds the bytes that may make a chunk droppable (see
// dropChunk): for each cue byte the position of its next occurrence, found
// with IndexByte and searched again only once passed, so that a text is
// scanned once per cue byte in all.
type dropCues struct {
	cues string
	at   [4]int // next position of cues[k]; len(text) when none
}

func (d *dropCues) reset(text, cues string) {
	d.cues = cues
	for k := range len(cues) {
		d.at[k] = indexFrom(text, cues[k], 0)
	}
}

// within reports whether text[start:end] holds a cue byte.
func (d *dropCues) within(text string, start, end int) bool {
	found := false
	for k := range len(d.cues) {
		if d.at[k] < start {
			d.at[k] = indexFrom(text, d.cues[k], start)
		}
		if d.at[k] < end {
			found = true
		}
	}
	return found
}

// indexFrom returns the index of the first c in s[from:], or len(s).
func indexFrom(s string, c byte, from int) int {
	if j := strings.IndexByte(s[from:], c); j >= 0 {
		return from + j
	}
	return len(s)
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
// mention and must be dropped whole. mayURL says whether the text the chunk
// comes from contains "://" at all.
func dropChunk(c string, mayURL bool) bool {
	if c[0] == '@' && len(c) > 1 {
		return true
	}
	if mayURL && strings.Contains(c, "://") {
		return true
	}
	// "www.site.ru", possibly after opening punctuation: "(www.site.ru)".
	for i := 0; i < 3 && i < len(c); i++ {
		if c[i]|0x20 == 'w' {
			return hasPrefixFold(c[i:], "www.")
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// writeChunk writes the chunk of non-space characters at c[i:] rune by rune
// and returns where it ends (at white space or the end of c) and whether it
// wrote anything. Letters are written as they come; a word that turns out
// to mix Cyrillic with Latin look-alikes is folded afterwards (rare).
//
// In invalid UTF-8 the byte after a stray 0xD0 or 0xD1 lead byte is
// stepped over with it (read as a two-byte letter), so that byte never
// ends the chunk.
func writeChunk(b *textBuf, c string, i int) (end int, wrote bool) {
	skip := -1     // the byte a stray Cyrillic lead byte steps over, if any
	runStart := -1 // where the current word starts in b
	var hasCyr, hasLat, allLookalike bool
	endRun := func() {
		if runStart >= 0 && hasCyr && hasLat && allLookalike {
			foldRun(b, runStart)
		}
		runStart = -1
	}
	var prev rune = -1
	for i < len(c) {
		// Fast path: Russian letters other than ё and Ё, most of any
		// message, are lower-cased pair by pair and continue the current
		// word and token.
		if c[i] == 0xd0 || c[i] == 0xd1 {
			if j, out := appendRussian(b.b, c, i); j > i {
				if runStart < 0 {
					runStart, hasCyr, hasLat, allLookalike = b.Len(), false, false, true
				}
				hasCyr = true
				if b.tokStart < 0 {
					b.tokStart = b.Len()
				}
				b.b = out
				prev = rune(out[len(out)-2]&0x1f)<<6 | rune(out[len(out)-1]&0x3f)
				i, wrote = j, true
				continue
			}
		}
		// Fast path: ASCII, as the general path below would treat it.
		if ch := c[i]; ch < utf8.RuneSelf {
			if (ch == ' ' || ch >= '\t' && ch <= '\r') && i != skip {
				break
			}
			i++
			if !asciiKeep[ch] {
				continue
			}
			if ch >= 'A' && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			switch {
			case ch >= 'a' && ch <= 'z':
				if runStart < 0 {
					runStart, hasCyr, hasLat, allLookalike = b.Len(), false, false, true
				}
				hasLat = true
				if _, ok := latinLookalike(rune(ch)); !ok {
					allLookalike = false
				}
				if b.tokStart < 0 {
					b.tokStart = b.Len()
				}
			case ch >= '0' && ch <= '9':
				endRun()
				if b.tokStart < 0 {
					b.tokStart = b.Len()
				}
			default:
				endRun()
				b.endToken()
			}
			b.b = append(b.b, ch)
			prev, wrote = rune(ch), true
			continue
		}
		r, size := decodeRune(c, i)
		if i != skip {
			if isSpace(r) {
				break
			}
			if size == 1 && (c[i] == 0xd0 || c[i] == 0xd1) {
				skip = i + 1
			}
		}
		i += size
		switch {
		case r == '\u0306' && prev == 'и': // и + combining breve = й
			b.Truncate(b.Len() - len("и"))
			b.WriteRune('й')
			prev = 'й'
			continue
		case r == '\u0308' && prev == 'е': // е + combining diaeresis = ё → е
			continue
		case r == utf8.RuneError || !keepRune(r):
			continue
		}
		r = toLower(r)
		if isLetter(r) {
			if runStart < 0 {
				runStart, hasCyr, hasLat, allLookalike = b.Len(), false, false, true
			}
			switch {
			case isCyrillic(r):
				hasCyr = true
			case r < utf8.RuneSelf:
				hasLat = true
				if _, ok := latinLookalike(r); !ok {
					allLookalike = false
				}
			}
		} else {
			endRun()
		}
		if r == 'ё' {
			r = 'е'
		}
		if isTokenRune(r) {
			if b.tokStart < 0 {
				b.tokStart = b.Len()
			}
		} else {
			b.endToken()
		}
		b.WriteRune(r)
		prev = r
		wrote = true
	}
	endRun()
	b.endToken()
	return i, wrote
}

// appendRussian appends the run of Russian letters other than ё and Ё at
// s[i:] to dst, lower-cased, and returns where the run ends. The letters
// are two bytes each in UTF-8: а-п D0 B0-BF, р-я D1 80-8F, А-П D0 90-9F,
// Р-Я D0 A0-AF. Lower-case stretches are copied whole.
func appendRussian(dst []byte, s string, i int) (int, []byte) {
	for {
		n := lowerRussianLen(s[i:])
		dst = append(dst, s[i:i+n]...)
		i += n
		if i+1 >= len(s) {
			return i, dst
		}
		switch c0, c1 := s[i], s[i+1]; {
		case c0 == 0xd0 && c1-0x90 < 16: // А-П → а-п
			dst = append(dst, 0xd0, c1+(0xb0-0x90))
		case c0 == 0xd0 && c1-0xa0 < 16: // Р-Я → р-я
			dst = append(dst, 0xd1, c1-(0xa0-0x80))
		default:
			return i, dst
		}
		i += 2
	}
}

// lowerRussianLen returns the length in bytes of the run of lower-case
// Russian letters а-я (not ё) that t begins with.
func lowerRussianLen(t string) int {
	n := 0
	for ; n < len(t)-1; n += 2 {
		// A letter's two bytes as one number (written so that the compiler
		// loads them at once and drops the bounds checks), less that of а:
		// а-п are 0x00-0x0F, р-я 0xD0-0xDF. One test of both ranges by
		// the high digit: two tests would be taken or not at random,
		// letter by letter, which the processor cannot predict.
		const lowerHigh = 1<<0x0 | 1<<0xd // the high digits of а-п and р-я
		u := (uint16(t[n])<<8 | uint16(t[n+1])) - 0xd0b0
		if u >= 0x100 || lowerHigh>>(u>>4)&1 == 0 {
			break
		}
	}
	return n
}

// foldRun rewrites the word at b[start:] with Latin look-alikes replaced by
// their Cyrillic twins.
func foldRun(b *textBuf, start int) {
	word := string(b.b[start:])
	b.Truncate(start)
	for _, r := range word {
		if c, ok := latinLookalike(r); ok {
			r = c
		}
		b.WriteRune(r)
	}
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
func stripMarkup(s string) string { return string(stripMarkupTo(nil, s)) }

// stripMarkupTo appends s without its tags and mentions to dst. It is
// linear in len(s): once no '>' follows, a '<' is not searched again.
func stripMarkupTo(dst []byte, s string) []byte {
	dst = slices.Grow(dst, len(s))
	noClose := false // no '>' after this point
	for i := 0; i < len(s); {
		c := s[i]
		if c == '<' && !noClose && i+1 < len(s) && isTagStart(s[i+1]) {
			j := strings.IndexByte(s[i:], '>')
			if j > 0 {
				dst = append(dst, ' ')
				i += j + 1
				continue
			}
			noClose = true
		}
		if c == '[' {
			if j := vkMentionEnd(s[i:]); j > 0 {
				dst = append(dst, ' ')
				i += j
				continue
			}
		}
		dst = append(dst, c)
		i++
	}
	return dst
}

// unescapeTo appends s with its HTML entities decoded to dst: what
// html.UnescapeString returns, without a copy of the whole text. Each
// entity is decoded on its own (the common ones without allocating).
func unescapeTo(dst []byte, s string) []byte {
	dst = slices.Grow(dst, len(s))
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		s = s[i:]
		n := 1 // the entity: '&', letters, digits or '#', and ';' if there
		for n < len(s) && n < 40 && (isASCIIAlnum(s[n]) || s[n] == '#') {
			n++
		}
		if n < len(s) && s[n] == ';' {
			n++
		}
		switch ent := s[:n]; ent {
		case "&quot;":
			dst = append(dst, '"')
		case "&amp;":
			dst = append(dst, '&')
		case "&lt;":
			dst = append(dst, '<')
		case "&gt;":
			dst = append(dst, '>')
		case "&#39;":
			dst = append(dst, '\'')
		case "&nbsp;":
			dst = append(dst, "\u00a0"...)
		case "&laquo;":
			dst = append(dst, "«"...)
		case "&raquo;":
			dst = append(dst, "»"...)
		case "&mdash;":
			dst = append(dst, "—"...)
		case "&ndash;":
			dst = append(dst, "–"...)
		default:
			dst = append(dst, html.UnescapeString(ent)...)
		}
		s = s[n:]
	}
}

func isASCIIAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z'
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
	j := strings.IndexByte(rest[:min(len(rest), 201)], ']') // bounded: linear in the text
	if j < 0 {
		return 0
	}
	return len(s) - len(rest) + j + 1
}

// Tokenize normalizes text and splits it into tokens: maximal runs of letters
// and digits. Punctuation separates tokens and is not returned.
func Tokenize(text string) []string {
	b := &textBuf{tokStart: -1}
	normalizeTo(b, text)
	norm := string(b.b)
	out := make([]string, len(b.spans))
	for i, sp := range b.spans {
		out[i] = norm[sp.start:sp.end]
	}
	return out
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
