package stats

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
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
	"записан", // «вы записаны к кардиологу на 2 декабря»
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
func CheckReply(text string) ReplyCheck { return checkReply(text, true, nil) }

// scratch is reusable memory for checkReply; a Collector keeps one (under
// its lock) so counting «отписки» does not allocate per answer.
type scratch struct {
	buf  []byte
	toks []string
}

// replyScore is CheckReply's score without the explanation, for counting.
func replyScore(text string, sc *scratch) float64 { return checkReply(text, false, sc).Score }

func checkReply(text string, explain bool, sc *scratch) ReplyCheck {
	var c ReplyCheck
	templates := 0
	var toks []string
	if sc != nil {
		toks, sc.buf = tokensInto(text, sc.buf[:0], sc.toks[:0])
		sc.toks = toks
	} else {
		var buf [64]string
		toks, _ = tokensInto(text, nil, buf[:0])
	}
	for i, t := range toks {
		prev := ""
		if i > 0 {
			prev = toks[i-1]
		}
		next := ""
		if i+1 < len(toks) {
			next = toks[i+1]
		}
		// One lookup by the first two letters finds the stems that could
		// start t; one by the whole word finds org forms and phrases.
		stems := stemIdx[firstRunes(t, 2)]
		if !c.Action && prev != "не" && prev != "невозможно" && hasAnyPrefix(t, stems.action) && !hasAnyPrefix(t, notAction) {
			c.Action = true
		}
		if !c.Date && isDateAt(t, prev, next) {
			c.Date = true
		}
		w := wordIdx[t]
		if !c.Responsible && (w.org || hasAnyPrefix(t, stems.responsible) || isPhone(t)) {
			c.Responsible = true
		}
		for _, p := range w.phrases {
			if phraseAt(toks[i:], p) {
				templates++
				if explain && !slices.Contains(c.Templates, p.text) {
					c.Templates = append(c.Templates, p.text)
				}
			}
		}
	}
	if !c.Responsible && hasInitials(text) {
		c.Responsible = true
	}
	if c.Action {
		c.Score += weightAction
	} else if explain {
		c.Reasons = append(c.Reasons, "no concrete action (what was or will be done)")
	}
	if c.Date {
		c.Score += weightDate
	} else if explain {
		c.Reasons = append(c.Reasons, "no date or term")
	}
	if c.Responsible {
		c.Score += weightResponsible
	} else if explain {
		c.Reasons = append(c.Reasons, "no responsible person or body")
	}
	if templates > 0 && (!c.Action || !c.Date) {
		c.Score /= 2
		for _, p := range c.Templates {
			c.Reasons = append(c.Reasons, "template phrase «"+p+"»")
		}
	}
	c.Score = float64(int(c.Score*100+0.5)) / 100
	c.Formal = c.Score < DefaultFormalBelow
	return c
}

// stemSet holds the stems that start with one pair of letters.
type stemSet struct {
	action, responsible []string
}

// wordInfo is what an exact word can be: an organisation form, or the first
// word of template phrases.
type wordInfo struct {
	org     bool
	phrases []phrase
}

func newStemIndex() map[string]stemSet {
	idx := map[string]stemSet{}
	for _, s := range actionStems {
		k := firstRunes(s, 2)
		e := idx[k]
		e.action = append(e.action, s)
		idx[k] = e
	}
	for _, s := range responsibleStems {
		k := firstRunes(s, 2)
		e := idx[k]
		e.responsible = append(e.responsible, s)
		idx[k] = e
	}
	return idx
}

func newWordIndex() map[string]wordInfo {
	idx := map[string]wordInfo{}
	for w := range orgForms {
		e := idx[w]
		e.org = true
		idx[w] = e
	}
	for _, p := range templatePhrases {
		ws := strings.Fields(p)
		e := idx[ws[0]]
		e.phrases = append(e.phrases, phrase{text: p, words: ws})
		idx[ws[0]] = e
	}
	return idx
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

// Indexes built once from the word lists above; read-only after.
var (
	stemIdx = newStemIndex()
	wordIdx = newWordIndex()
)

// phrase is a template phrase as words; its last word matches as a prefix,
// so "рассмотрен" covers рассмотрено, рассмотрена, рассмотрены.
type phrase struct {
	text  string
	words []string
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
// and "8-812-123-45-67" stay whole). It appends to dst. Russian and ASCII
// letters take a byte-level fast path: answers are mostly that.
func tokens(text string, dst []string) []string {
	dst, _ = tokensInto(text, nil, dst)
	return dst
}

// tokensInto is tokens with a reusable byte buffer, returned grown.
func tokensInto(text string, b []byte, dst []string) ([]string, []byte) {
	if cap(b) < len(text) {
		b = make([]byte, 0, len(text)+len(text)/4)
	}
	var spanBuf [64][2]int
	spans := spanBuf[:0]
	start := -1
	prevDigit := false
	for i := 0; i < len(text); {
		c := text[i]
		n, word, digit := 1, false, false
		var l0, l1 byte // the lower-cased rune, one or two bytes
		switch {
		case c >= 'a' && c <= 'z':
			l0, word = c, true
		case c >= '0' && c <= '9':
			l0, word, digit = c, true, true
		case c >= 'A' && c <= 'Z':
			l0, word = c+32, true
		case c < 0x80:
		case c == 0xD0 && i+1 < len(text):
			c1 := text[i+1]
			n, word = 2, true
			switch {
			case c1 >= 0x90 && c1 <= 0x9F: // А–П
				l0, l1 = 0xD0, c1+0x20
			case c1 >= 0xA0 && c1 <= 0xAF: // Р–Я
				l0, l1 = 0xD1, c1-0x20
			case c1 >= 0xB0 && c1 <= 0xBF: // а–п
				l0, l1 = 0xD0, c1
			case c1 == 0x81: // Ё
				l0, l1 = 0xD0, 0xB5
			default:
				n, word = 0, false
			}
		case c == 0xD1 && i+1 < len(text):
			c1 := text[i+1]
			n, word = 2, true
			switch {
			case c1 >= 0x80 && c1 <= 0x8F: // р–я
				l0, l1 = 0xD1, c1
			case c1 == 0x91: // ё
				l0, l1 = 0xD0, 0xB5
			default:
				n, word = 0, false
			}
		default:
			n = 0
		}
		if n == 0 { // any other rune: the general path
			r, size := utf8.DecodeRuneInString(text[i:])
			lr := lower(r)
			if isWordRune(lr) {
				if start < 0 {
					start = len(b)
				}
				b = utf8.AppendRune(b, lr)
			} else if start >= 0 {
				spans = append(spans, [2]int{start, len(b)})
				start = -1
			}
			prevDigit = false
			i += size
			continue
		}
		if !word && (c == '.' || c == '-') && start >= 0 && prevDigit && i+1 < len(text) && text[i+1] >= '0' && text[i+1] <= '9' {
			word, l0 = true, c
		}
		if word {
			if start < 0 {
				start = len(b)
			}
			b = append(b, l0)
			if l1 != 0 {
				b = append(b, l1)
			}
		} else if start >= 0 {
			spans = append(spans, [2]int{start, len(b)})
			start = -1
		}
		prevDigit = digit
		i += n
	}
	if start >= 0 {
		spans = append(spans, [2]int{start, len(b)})
	}
	// Every token is a substring of one string that shares b's memory: no
	// copy, no allocation per answer (a million unique answers otherwise
	// cost a million allocations and the GC cycles they trigger). That is
	// safe because b is only written again by the next tokensInto call with
	// the same buffer, and checkReply, the one caller that reuses a buffer,
	// drops the tokens before then; a nil b gets a fresh buffer nobody
	// reuses.
	s := unsafe.String(unsafe.SliceData(b), len(b))
	for _, sp := range spans {
		dst = append(dst, s[sp[0]:sp[1]])
	}
	return dst, b
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
	if isNumericDate(t) {
		return true
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

// isNumericDate recognises dd.mm and dd.mm.yy(yy).
func isNumericDate(t string) bool {
	d1, rest, ok := strings.Cut(t, ".")
	if !ok || len(d1) > 2 || !allDigits(d1) {
		return false
	}
	m, y, hasYear := strings.Cut(rest, ".")
	if len(m) > 2 || !allDigits(m) {
		return false
	}
	return !hasYear || (len(y) == 2 || len(y) == 4) && allDigits(y)
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

// hasInitials finds "И.И. Иванов" or "Иванов И.И." in the original text:
// a capital Cyrillic letter starting a word, a dot, optional spaces, another
// capital and a dot. It looks only at dots, so it is cheap on long texts.
func hasInitials(s string) bool {
	for i := 2; i < len(s); i++ {
		if s[i] != '.' || !isCyrCapitalAt(s, i-2) {
			continue
		}
		if i >= 3 {
			pr, _ := utf8.DecodeLastRuneInString(s[:i-2])
			if unicode.IsLetter(pr) {
				continue
			}
		}
		k := i + 1
		for k < len(s) && s[k] == ' ' {
			k++
		}
		if k+2 < len(s) && isCyrCapitalAt(s, k) && s[k+2] == '.' {
			return true
		}
	}
	return false
}

// isCyrCapitalAt reports whether s[i:] starts with А–Я or Ё.
func isCyrCapitalAt(s string, i int) bool {
	if i < 0 || i+1 >= len(s) || s[i] != 0xD0 {
		return false
	}
	c := s[i+1]
	return c >= 0x90 && c <= 0xAF || c == 0x81
}
