package incident

import (
	"strings"
)

// streetTypes maps the words and abbreviations for a street's kind to one
// canonical form. Kinds are kept out of the address key (people write
// "Садовая" for "ул. Садовая"), but they tell where a street name is.
var streetTypes = map[string]bool{
	"ул": true, "улица": true, "улице": true, "улицы": true, "улицу": true,
	"пр": true, "пр-т": true, "прт": true, "просп": true, "проспект": true, "проспекта": true, "проспекте": true, "пркт": true,
	"пер": true, "переулок": true, "переулка": true, "переулке": true,
	"наб": true, "набережная": true, "набережной": true,
	"ш": true, "шоссе": true, "бул": true, "б-р": true, "бульвар": true, "бульвара": true, "бульваре": true,
	"пл": true, "площадь": true, "площади": true, "проезд": true, "проезда": true, "проезде": true,
	"линия": true, "линии": true, "дорога": true, "дороги": true, "дороге": true, "аллея": true, "аллеи": true,
	"тупик": true, "мкр": true, "микрорайон": true,
}

// abbreviations are the short street kinds, which only ever precede a name.
var abbreviations = map[string]bool{"ул": true, "пр": true, "пр-т": true, "прт": true, "просп": true, "пркт": true, "пер": true, "наб": true, "ш": true, "бул": true, "б-р": true, "пл": true, "мкр": true}

// houseAhead reports whether a house number starts toks (after "д."/"дом").
func houseAhead(toks []addrToken) bool {
	for j := 0; j < len(toks) && j < 2; j++ {
		if houseWords[toks[j].w] {
			continue
		}
		_, ok := houseNumber(toks[j].w)
		return ok
	}
	return false
}

// houseWords introduce a house number.
var houseWords = map[string]bool{"д": true, "дом": true, "дома": true, "доме": true, "домом": true, "домов": true, "здание": true, "здания": true}

// addrToken is one word of the original text with what the address parser
// needs to know about it.
type addrToken struct {
	w     string // lower case
	upper bool   // started with a capital letter
	comma bool   // a comma or colon follows it
}

func isLetterDigit(r rune) bool {
	return r >= 'а' && r <= 'я' || r >= 'А' && r <= 'Я' || r == 'ё' || r == 'Ё' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// houseNumber recognises "5", "5а", "5к2", "12/3" (split as "12","3"), "46-а".
func houseNumber(w string) (string, bool) {
	i := 0
	for i < len(w) && w[i] >= '0' && w[i] <= '9' {
		i++
	}
	if i == 0 || i > 4 {
		return "", false
	}
	rest := strings.TrimPrefix(w[i:], "-")
	switch {
	case rest == "":
		return w[:i], true
	case len([]rune(rest)) == 1:
		return w[:i] + rest, true
	case strings.HasPrefix(rest, "к") && isDigits(rest[len("к"):]):
		return w[:i] + rest, true
	}
	return "", false
}

// isOrdinal recognises "1-й", "7-я", "2-ой" in street names.
func isOrdinal(w string) bool {
	i := 0
	for i < len(w) && w[i] >= '0' && w[i] <= '9' {
		i++
	}
	return i > 0 && strings.HasPrefix(w[i:], "-")
}

// ExtractAddress finds a street address in free Russian text and returns a
// normalised key "stem-of-street-name house" ("садов 5", "наук 44",
// "1 рабфаковск 6"), or just the street stem when no house number follows,
// or "" when the text names no street. It is a heuristic for texts that
// carry no structured address; a gazetteer-resolved appeal.Place is better
// when there is one.
func ExtractAddress(text string) string {
	var st stemmer
	st.cache = map[string]string{}
	return st.address(words(text))
}

func (s *stemmer) address(toks []addrToken) string {
	best := ""
	for i, t := range toks {
		if !streetTypes[t.w] {
			continue
		}
		// The name is a capitalised neighbour: after the kind ("ул.
		// Садовая") or before it ("Суворовского проспекта").
		name, ord, end := "", "", i
		if i+1 < len(toks) && isOrdinal(toks[i+1].w) && i+2 < len(toks) {
			ord, name, end = strings.SplitN(toks[i+1].w, "-", 2)[0], toks[i+2].w, i+2
		} else if i+1 < len(toks) && toks[i+1].upper && len([]rune(toks[i+1].w)) > 2 && !streetTypes[toks[i+1].w] && !houseWords[toks[i+1].w] && !t.comma {
			name, end = toks[i+1].w, i+1
		} else if i > 0 && (toks[i-1].upper || isAdjective(toks[i-1].w)) && !toks[i-1].comma && !houseWords[toks[i-1].w] && len([]rune(toks[i-1].w)) > 2 {
			name = toks[i-1].w
			if i > 1 && isOrdinal(toks[i-2].w) {
				ord = strings.SplitN(toks[i-2].w, "-", 2)[0]
			}
		} else if i+1 < len(toks) && !streetTypes[toks[i+1].w] && !houseWords[toks[i+1].w] && !t.comma && len([]rune(toks[i+1].w)) > 2 && !isDigits(toks[i+1].w) &&
			(abbreviations[t.w] || i+2 < len(toks) && houseAhead(toks[i+2:])) {
			// A name in lower case counts only after an abbreviation
			// ("ул. садовая") or before a house number: "на улице
			// темно" names no street.
			name, end = toks[i+1].w, i+1
		}
		if name == "" || isDigits(name) {
			continue
		}
		key := s.stem(name)
		if ord != "" {
			key = ord + " " + key
		}
		// The house: "д. 5", "дом 5" or a bare number right after.
		house := ""
		for j := end + 1; j < len(toks) && j <= end+3; j++ {
			w := toks[j].w
			if houseWords[w] {
				continue
			}
			if h, ok := houseNumber(w); ok {
				house = h
			}
			break
		}
		if house != "" {
			return key + " " + house
		}
		if best == "" {
			best = key
		}
	}
	return best
}

// isAdjective is a crude test for the adjectival street names written in
// lower case ("по невскому проспекту", "пискаревского проспекта").
func isAdjective(w string) bool {
	for _, end := range []string{"ский", "ского", "скому", "ском", "ская", "ской", "скую", "цкий", "цкого", "цкая", "цкой", "ный", "ного", "ному", "ная", "ной", "ную", "ий", "ого", "ая", "ой", "ый"} {
		if strings.HasSuffix(w, end) {
			return true
		}
	}
	return false
}
