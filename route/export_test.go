package route

// KeywordMismatch returns the first keyword of e's rules that the one
// pass over text and the rune-by-rune search of the raw text disagree on.
func KeywordMismatch(e *Engine, text string) (kw string, onePass, runeByRune, bad bool) {
	f := foldedText{kx: e.keywords}
	f.scan(text)
	defer f.release()
	bits := f.bits()
	for id, w := range e.keywords.words {
		got := bits[id>>6]&(1<<(id&63)) != 0
		if _, want := findKeyword(text, e.keywords.words[id:id+1]); got != want {
			return w, got, want, true
		}
	}
	return "", false, false, false
}
