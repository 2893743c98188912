package stats

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ReplyCheck is the verdict of CheckReply on one executor's answer.
type ReplyCheck struct {
	// Score in [0,1]: 0.45 for a concrete action, 0.30 for a date or term,
	// 0.25 for a responsible person or body; halved when the answer is
	// built on template phrases and names no action.
	Score float64
	// Action, Date and Responsible say which of the three was found.
	Action, Date, Responsible bool
	// Templates lists the template phrases found, as they appear in
	// templatePhrases (lower case).
	Templates []string
	// Formal is Score < DefaultFormalBelow: an «отписка».
	Formal bool
	// Reasons explain the score in words an operator can act on.
	Reasons []string
}

// Weights of the three things a real answer has.
const (
	weightAction      = 0.45
	weightDate        = 0.30
	weightResponsible = 0.25
)

// actionStems start words that name a concrete thing done or to be done.
// "рассмотр", "направл", "принят" are deliberately absent: they describe
// paperwork, not work.
var actionStems = []string{
	"устран", "выполн", "отремонт", "ремонт", "произвед", "провед", "убран", "убер", "убор",
	"вывез", "вывоз", "замен", "установ", "восстанов", "очищ", "очист", "демонтир", "демонтаж",
	"покраш", "окраш", "покрас", "покос", "скош", "подсып", "посыпа", "обработ", "засып", "заделан",
	"задела", "заделк", "ликвидир", "починен", "почин", "заасфальт", "асфальтир", "вырубл",
	"спилен", "спил", "обрез", "удален", "удал", "смонтир", "монтаж", "отрегулир", "промыт",
	"прочищ", "прочист", "откачан", "откача", "нанесен", "предписан", "протокол", "штраф",
	"оштраф", "запланир", "включен", "закупл", "заменят", "отремонтир", "выезд", "выехал",
	"осмотрен", "обследован", "подключ", "возобновл", "наладк", "налаж", "завезен", "вывешен",
}

// notAction are words an action stem would wrongly catch.
var notAction = []string{"установленн", "удаленн", "проведени", "выполнени", "включенн"}

var months = []string{
	"январ", "феврал", "март", "апрел", "мая", "май", "июн", "июл", "август", "сентябр",
	"октябр", "ноябр", "декабр",
}

// responsibleStems start words that name who does the work.
var responsibleStems = []string{
	"ответственн", "мастер", "инженер", "начальник", "директор", "прораб", "подрядч",
	"бригад", "специалист", "руководител", "заместител", "исполнител", "диспетчер", "тел",
	"контактн",
}

// orgForms are legal forms and usual abbreviations of the bodies that do
// the work.
var orgForms = map[string]bool{
	"ооо": true, "ао": true, "пао": true, "зао": true, "гуп": true, "гбу": true, "гку": true,
	"мку": true, "мбу": true, "муп": true, "жкс": true, "гупрэп": true, "ип": true, "тсж": true,
}

// templatePhrases are the stock phrases of formal non-answers.
var templatePhrases = []string{
	"обращение рассмотрено",
	"обращение рассмотрен",
	"для рассмотрения",
	"на рассмотрение",
	"для принятия мер",
	"будет рассмотрено",
	"будет рассмотрен",
	"в установленном порядке",
	"в установленные сроки",
	"в установленный срок",
	"в рамках компетенции",
	"в пределах компетенции",
	"к сведению",
	"на контроль",
	"на контроле",
	"приняты меры",
	"меры приняты",
	"будут приняты",
	"приняты необходимые меры",
	"по мере финансирования",
	"при наличии финансирования",
	"в порядке очередности",
	"информация передана",
	"переадресован",
	"перенаправлен",
	"в соответствии с действующим законодательством",
	"прорабатывается",
}

// CheckReply scores an executor's answer for the three things a real answer
// names — a concrete action, a date or term, a responsible person or body —
// and flags template-like non-answers («отписки») such as "ваше обращение
// рассмотрено", "направлено в … для рассмотрения", "будет рассмотрено в
// установленном порядке" that carry none of them. It is pure and safe for
// concurrent use.
func CheckReply(text string) ReplyCheck {
	var c ReplyCheck
	var buf [64]string
	toks := tokens(text, buf[:0])
	for i, t := range toks {
		prev := ""
		if i > 0 {
			prev = toks[i-1]
		}
		next := ""
		if i+1 < len(toks) {
			next = toks[i+1]
		}
		if !c.Action && prev != "не" && prev != "невозможно" && actionIdx.match(t) && !hasAnyPrefix(t, notAction) {
			c.Action = true
		}
		if !c.Date && isDateAt(t, prev, next) {
			c.Date = true
		}
		if !c.Responsible && (orgForms[t] || responsibleIdx.match(t) || isPhone(t)) {
			c.Responsible = true
		}
		for _, p := range templateIdx[t] {
			if phraseAt(toks[i:], p) && !slices.Contains(c.Templates, p.text) {
				c.Templates = append(c.Templates, p.text)
			}
		}
	}
	if !c.Responsible && hasInitials(text) {
		c.Responsible = true
	}
	if c.Action {
		c.Score += weightAction
	} else {
		c.Reasons = append(c.Reasons, "no concrete action (what was or will be done)")
	}
	if c.Date {
		c.Score += weightDate
	} else {
		c.Reasons = append(c.Reasons, "no date or term")
	}
	if c.Responsible {
		c.Score += weightResponsible
	} else {
		c.Reasons = append(c.Reasons, "no responsible person or body")
	}
	if len(c.Templates) > 0 && (!c.Action || !c.Date) {
		c.Score /= 2
		for _, p := range c.Templates {
			c.Reasons = append(c.Reasons, "template phrase «"+p+"»")
		}
	}
	c.Score = float64(int(c.Score*100+0.5)) / 100
	c.Formal = c.Score < DefaultFormalBelow
	return c
}

// prefixIndex finds whether a word starts with one of many stems by looking
// only at the stems that share its first two letters.
type prefixIndex map[string][]string

func newPrefixIndex(stems []string) prefixIndex {
	idx := prefixIndex{}
	for _, s := range stems {
		k := firstRunes(s, 2)
		idx[k] = append(idx[k], s)
	}
	return idx
}

func (idx prefixIndex) match(t string) bool {
	return hasAnyPrefix(t, idx[firstRunes(t, 2)])
}

func firstRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

var (
	actionIdx      = newPrefixIndex(actionStems)
	responsibleIdx = newPrefixIndex(responsibleStems)
	templateIdx    = newPhraseIndex(templatePhrases)
)

// phrase is a template phrase as words; its last word matches as a prefix,
// so "рассмотрен" covers рассмотрено, рассмотрена, рассмотрены.
type phrase struct {
	text  string
	words []string
}

func newPhraseIndex(phrases []string) map[string][]phrase {
	idx := map[string][]phrase{}
	for _, p := range phrases {
		w := strings.Fields(p)
		idx[w[0]] = append(idx[w[0]], phrase{text: p, words: w})
	}
	return idx
}

func phraseAt(toks []string, p phrase) bool {
	if len(toks) < len(p.words) {
		return false
	}
	last := len(p.words) - 1
	for i, w := range p.words {
		if i == last && len(p.words) > 1 || len(p.words) == 1 {
			if !strings.HasPrefix(toks[i], w) {
				return false
			}
		} else if toks[i] != w {
			return false
		}
	}
	return true
}

// tokens lower-cases text, folds ё to е and splits it into words: runs of
// letters and digits, keeping a dot or dash between digits (so "15.05.2026"
// and "8-812-123-45-67" stay whole). It appends to dst.
func tokens(text string, dst []string) []string {
	b := make([]byte, 0, len(text))
	var spanBuf [64][2]int
	spans := spanBuf[:0]
	start := -1
	var prev rune
	for i, r := range text {
		lr := lower(r)
		keep := isWordRune(lr)
		if !keep && (r == '.' || r == '-') && start >= 0 && unicode.IsDigit(prev) {
			nr, _ := utf8.DecodeRuneInString(text[i+1:])
			keep = unicode.IsDigit(nr)
		}
		prev = r
		if keep {
			if start < 0 {
				start = len(b)
			}
			b = utf8.AppendRune(b, lr)
		} else if start >= 0 {
			spans = append(spans, [2]int{start, len(b)})
			start = -1
		}
	}
	if start >= 0 {
		spans = append(spans, [2]int{start, len(b)})
	}
	// One conversion, then every token is a substring of it.
	s := string(b)
	for _, sp := range spans {
		dst = append(dst, s[sp[0]:sp[1]])
	}
	return dst
}

// isWordRune is unicode.IsLetter || unicode.IsDigit with a fast path for
// the lower-case Russian and ASCII letters answers are written in.
func isWordRune(r rune) bool {
	switch {
	case r >= 'а' && r <= 'я', r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return true
	case r < 0x80:
		return false
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// lower folds ASCII and Russian capitals fast and ё to е.
func lower(r rune) rune {
	switch {
	case r >= 'A' && r <= 'Z':
		return r + 32
	case r >= 'А' && r <= 'Я':
		return r + 32
	case r == 'Ё' || r == 'ё':
		return 'е'
	case r < 0x80 || (r >= 'а' && r <= 'я'):
		return r
	}
	return unicode.ToLower(r)
}

func hasAnyPrefix(t string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDateAt recognises a date or a term at token t: 15.05, 15.05.2026,
// "15 мая", "в мае", "до конца месяца", "в течение 3 дней", "2026 год",
// "во II квартале", "завтра".
func isDateAt(t, prev, next string) bool {
	switch t {
	case "завтра", "послезавтра", "сегодня", "квартал", "квартале", "квартала", "неделе", "недели":
		return t != "недели" || prev == "течение" || prev == "конца"
	case "конца":
		return prev == "до" || prev == "к"
	case "течение":
		return allDigits(next) || hasAnyPrefix(next, []string{"дн", "сут", "час", "недел", "месяц", "год", "рабоч", "календар"})
	}
	if parts := strings.Split(t, "."); len(parts) >= 2 && len(parts) <= 3 {
		ok := true
		for _, p := range parts {
			if !allDigits(p) || len(p) > 4 {
				ok = false
			}
		}
		if ok && len(parts[0]) <= 2 && len(parts[1]) <= 2 {
			return true
		}
	}
	if allDigits(t) {
		if hasAnyPrefix(next, months) {
			return true
		}
		if len(t) == 4 && (t >= "2000" && t <= "2099") && (next == "г" || strings.HasPrefix(next, "год")) {
			return true
		}
		return false
	}
	if hasAnyPrefix(t, months) && (prev == "в" || prev == "до" || prev == "к" || prev == "конца" || prev == "начале" || prev == "середине") {
		return true
	}
	return false
}

// isPhone recognises a phone number token: 7+ digits with optional dashes.
func isPhone(t string) bool {
	digits := 0
	for i := 0; i < len(t); i++ {
		switch {
		case t[i] >= '0' && t[i] <= '9':
			digits++
		case t[i] == '-':
		default:
			return false
		}
	}
	return digits >= 7 && strings.Contains(t, "-") || digits == 11 || digits == 10
}

// hasInitials finds "И.И. Иванов" or "Иванов И.И." in the original text.
func hasInitials(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.Is(unicode.Cyrillic, r) && unicode.IsUpper(r) {
			j := i + n
			if j < len(s) && s[j] == '.' {
				k := j + 1
				for k < len(s) && s[k] == ' ' {
					k++
				}
				r2, n2 := utf8.DecodeRuneInString(s[k:])
				if unicode.Is(unicode.Cyrillic, r2) && unicode.IsUpper(r2) && k+n2 < len(s) && s[k+n2] == '.' {
					// the rune before must not be a letter (start of a word)
					if i == 0 {
						return true
					}
					pr, _ := utf8.DecodeLastRuneInString(s[:i])
					if !unicode.IsLetter(pr) {
						return true
					}
				}
			}
		}
		i += n
	}
	return false
}
