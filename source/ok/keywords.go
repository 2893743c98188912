package ok

import (
	"fmt"
	"strings"
	"unicode"
)

// keywords is Config.Keywords, each split into normalised words.
type keywords [][]string

func normWords(s string) []string {
	s = strings.ReplaceAll(strings.ToLower(s), "ё", "е")
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func parseKeywords(list []string) (keywords, error) {
	var out keywords
	for i, k := range list {
		w := normWords(k)
		if len(w) == 0 {
			return nil, fmt.Errorf("ok: Config.Keywords[%d] = %q has no letters or digits", i, k)
		}
		out = append(out, w)
	}
	return out, nil
}

// match reports whether text holds one of the keywords (always true when
// there are none): each keyword word starts a text word, in a row.
func (k keywords) match(text string) bool {
	if len(k) == 0 {
		return true
	}
	words := normWords(text)
	for _, kw := range k {
		for i := 0; i+len(kw) <= len(words); i++ {
			ok := true
			for j, w := range kw {
				if !strings.HasPrefix(words[i+j], w) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}
