package answer

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/stats"
	"github.com/appealkit/appealkit/classify"
)

// Check names one test of the quality gate.
type Check string

// The gate's checks.
const (
	// CheckFormal: an «отписка», a formal answer with no action, date or
	// responsible person (stats.CheckReply). Final answers only: an
	// interim answer promises, it does not report.
	CheckFormal Check = "formal"
	// CheckRude: rude or dismissive words towards the citizen.
	CheckRude Check = "rude"
	// CheckBureaucratic: officialese a citizen has to translate
	// («доводим до вашего сведения», «в рамках реализации»).
	CheckBureaucratic Check = "bureaucratic"
	// CheckPersonalData: a phone, e-mail or home address (with a flat
	// number) that is not in the appeal and not an allowed official
	// contact: someone else's personal data, published.
	CheckPersonalData Check = "personal_data"
	// CheckOffTopic: the answer shares no word with the appeal or its
	// topic: probably meant for another appeal.
	CheckOffTopic Check = "off_topic"
	// CheckEmptyPromise: promises something («будет сделано», «в
	// ближайшее время») without a date.
	CheckEmptyPromise Check = "empty_promise"
)

// AllChecks lists the gate's checks in the order they run.
func AllChecks() []Check {
	return []Check{CheckFormal, CheckRude, CheckBureaucratic, CheckPersonalData, CheckOffTopic, CheckEmptyPromise}
}

// Issue is one finding of the gate, with a reason in Russian that tells
// the operator what to change.
type Issue struct {
	Check  Check
	Reason string
}

// GateError is returned by Workflow.Submit when the gate finds issues; the
// draft stays editable with the issues recorded.
type GateError struct {
	AppealID appeal.ID
	DraftID  string
	Issues   []Issue
}

// Error lists the issues in Russian.
func (e *GateError) Error() string {
	r := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		r[i] = is.Reason
	}
	return fmt.Sprintf("answer: appeal %s, draft %s: не прошёл проверку: %s", e.AppealID, e.DraftID, strings.Join(r, "; "))
}

// GateConfig configures NewGate.
type GateConfig struct {
	// AllowedContacts are phones and e-mails an answer may name: the ЦУР
	// hotline, executors' public contacts. Workflow adds the contacts of
	// the executors in the rules file.
	AllowedContacts []string
	// Disabled turns checks off.
	Disabled []Check
	// Stems is the stem cache to share with a classifier (nil: a private
	// one).
	Stems *classify.StemCache
}

// Gate checks an answer before it is published. It is safe for concurrent
// use.
type Gate struct {
	allowed  map[string]bool
	disabled map[Check]bool
	stems    *classify.StemCache
}

// NewGate returns a gate.
func NewGate(cfg GateConfig) *Gate {
	g := &Gate{allowed: map[string]bool{}, disabled: map[Check]bool{}, stems: cfg.Stems}
	for _, c := range cfg.AllowedContacts {
		g.allowed[contactKey(c)] = true
	}
	for _, c := range cfg.Disabled {
		g.disabled[c] = true
	}
	if g.stems == nil {
		g.stems = classify.NewStemCache(4096)
	}
	return g
}

// withContacts returns a copy of g that also allows cs.
func (g *Gate) withContacts(cs []string) *Gate {
	if len(cs) == 0 {
		return g
	}
	c := *g
	c.allowed = make(map[string]bool, len(g.allowed)+len(cs))
	for k := range g.allowed {
		c.allowed[k] = true
	}
	for _, s := range cs {
		c.allowed[contactKey(s)] = true
	}
	return &c
}

// Check runs every enabled check of text as an answer of the given kind to
// a, and returns the issues found (nil: fit to publish).
func (g *Gate) Check(a *appeal.Appeal, kind appeal.AnswerKind, text string) []Issue {
	var out []Issue
	add := func(c Check, reason string) {
		if !g.disabled[c] {
			out = append(out, Issue{Check: c, Reason: reason})
		}
	}
	low := strings.ToLower(strings.ReplaceAll(text, "ё", "е"))
	rc := stats.CheckReply(text)
	// A concrete date with no stock phrase is information, not an
	// «отписка», even when the checker finds no action verb it knows
	// («талон оставлен на 3 декабря»).
	if kind != appeal.AnswerInterim && rc.Formal && !(rc.Date && len(rc.Templates) == 0) {
		add(CheckFormal, formalReason(rc))
	}
	if w := findAny(low, rudeMarkers); w != "" {
		add(CheckRude, "Грубость или пренебрежение: «"+w+"». Перепишите вежливо, без оценок заявителя.")
	}
	if ws := findAll(low, bureaucratMarkers); len(ws) >= 2 || (len(ws) == 1 && len([]rune(text)) < 160) {
		add(CheckBureaucratic, "Канцелярит: «"+strings.Join(ws, "», «")+"». Скажите то же простыми словами.")
	}
	if pd := g.othersPersonalData(a.Text, text); len(pd) > 0 {
		add(CheckPersonalData, "Чужие персональные данные в ответе: "+strings.Join(pd, ", ")+". Уберите их: ответ публикуется открыто.")
	}
	if !g.disabled[CheckOffTopic] && !g.mentionsSubject(a, text) {
		add(CheckOffTopic, "Ответ не упоминает предмет обращения. Проверьте, что он написан на это обращение, и назовите проблему.")
	}
	if w := findAny(low, promiseMarkers); w != "" && !rc.Date && !hasDate(low) {
		add(CheckEmptyPromise, "Обещание без срока: «"+w+"». Укажите дату, к которой это будет сделано.")
	}
	return out
}

func formalReason(rc stats.ReplyCheck) string {
	var miss []string
	if !rc.Action {
		miss = append(miss, "что сделано или будет сделано")
	}
	if !rc.Date {
		miss = append(miss, "срок")
	}
	if !rc.Responsible {
		miss = append(miss, "кто отвечает")
	}
	s := "Похоже на отписку: не сказано " + strings.Join(miss, ", ")
	if len(rc.Templates) > 0 {
		s += "; шаблонные фразы «" + strings.Join(rc.Templates, "», «") + "»"
	}
	return s + "."
}

// Markers are matched as word prefixes in lower-cased text with ё as е.
var rudeMarkers = []string{
	"дурак", "идиот", "тупо", "тупой", "тупая", "бред", "чушь", "ерунд", "заткн", "отстаньте", "не ваше дело", "не ваша забота",
	"сами виноваты", "сами виновата", "сам виноват", "сама виновата", "нечего жаловаться", "хватит жаловаться",
	"хватит писать", "не пишите сюда", "не надо писать", "ваши проблемы", "это ваши проблемы", "ваша проблема",
	"нам некогда", "надоели", "надоело", "научитесь", "смешно", "не смешите", "без вас знаем",
	"кляуз", "жалобщик", "скандалист", "не выдумывайте", "выдумываете", "не морочьте", "делать нечего",
	"делать вам нечего", "вам делать нечего", "вам заняться нечем", "заняться нечем",
	"читать не умеете", "разуйте глаза", "не истерите", "истерик",
}

var bureaucratMarkers = []string{
	"доводим до вашего сведения", "доводим до сведения", "в рамках реализации", "на основании вышеизложенного",
	"вышеуказанн", "вышеизложенн", "нижеследующ", "в целях обеспечения", "в целях реализации", "в соответствии с действующим",
	"согласно действующему", "в установленном порядке", "осуществляется", "осуществлен", "данное обращение",
	"данному обращению", "данный вопрос", "данного вопроса", "по данному вопросу", "в части касающейся", "в адрес",
	"в пределах компетенции", "в рамках компетенции", "ввиду", "вследствие", "нецелесообразн", "не представляется возможным",
	"проработка вопроса", "прорабатывается", "информируем", "сообщаем следующее",
}

var promiseMarkers = []string{
	"в ближайшее время", "в кратчайшие сроки", "в скором времени", "в ближайшем будущем", "по возможности",
	"обязательно сделаем", "обязательно устраним", "будет сделано", "будет устранен", "будут устранен",
	"будет выполнен", "будут выполнен", "будет отремонтирован", "будут отремонтирован", "будет вывезен", "будет убран",
	"будет восстановлен", "будет заменен", "будут заменен", "будет установлен", "будут установлен",
	"планируется", "запланирован", "постараемся", "сделаем", "устраним", "отремонтируем", "вывезем", "уберем", "решим",
	"займемся", "в дальнейшем", "скоро", "позже", "позднее", "включат в план", "будет включен в план", "обязательно", "будет исправлен", "будут исправлен",
	"заменят", "починят", "уберут", "вывезут", "отремонтируют", "сделают", "устранят", "восстановят", "установят",
}

// findAny returns the first marker found in low at a word start, or "".
func findAny(low string, markers []string) string {
	for _, m := range markers {
		if wordAt(low, m) {
			return m
		}
	}
	return ""
}

func findAll(low string, markers []string) []string {
	var out []string
	for _, m := range markers {
		if wordAt(low, m) {
			out = append(out, m)
		}
	}
	return out
}

// wordAt reports whether m occurs in s starting at a word boundary.
func wordAt(s, m string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], m)
		if j < 0 {
			return false
		}
		j += i
		if j == 0 || !isLetterByteBefore(s, j) {
			return true
		}
		i = j + 1
	}
}

func isLetterByteBefore(s string, j int) bool {
	c, size := utf8.DecodeLastRuneInString(s[:j])
	if size == 0 {
		return false
	}
	return c == '-' || c >= 'a' && c <= 'z' || c >= 'а' && c <= 'я' || c == 'ё' || c >= '0' && c <= '9'
}

var dateRE = regexp.MustCompile(`\b\d{1,2}\.\d{1,2}(\.\d{2,4})?\b|\d{1,2}\s+(январ|феврал|март|апрел|ма[яй]|июн|июл|август|сентябр|октябр|ноябр|декабр)|(до|к|в течение)\s+\d+|до конца|в течение (дня|недели|месяца|суток)|сегодня|завтра|на этой неделе|на следующей неделе`)

func hasDate(low string) bool { return dateRE.MatchString(low) }

// Personal data: phones and e-mails as appeal.PersonalData finds them,
// and home addresses with a flat number.
var flatRE = regexp.MustCompile(`(?i)(?:кв\.?|квартир[аеуы])\s*№?\s*\d+`)

func (g *Gate) othersPersonalData(appealText, answer string) []string {
	if g.disabled[CheckPersonalData] {
		return nil
	}
	own := map[string]bool{}
	for _, s := range appeal.PersonalData(appealText) {
		own[contactKey(s)] = true
	}
	var out []string
	for _, s := range appeal.PersonalData(answer) {
		k := contactKey(s)
		if own[k] || g.allowed[k] {
			continue
		}
		if strings.Contains(s, "@") {
			out = append(out, "адрес эл. почты")
		} else {
			out = append(out, "телефон")
		}
	}
	lowAppeal := strings.ToLower(appealText)
	for _, m := range flatRE.FindAllString(answer, -1) {
		if !strings.Contains(lowAppeal, strings.ToLower(m)) && !strings.Contains(strings.ReplaceAll(lowAppeal, " ", ""), strings.ReplaceAll(strings.ToLower(m), " ", "")) {
			out = append(out, "домашний адрес («"+m+"»)")
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// contactKey makes phones comparable whatever their spelling (the last ten
// digits) and e-mails case-insensitive.
func contactKey(s string) string {
	if strings.Contains(s, "@") {
		return strings.ToLower(strings.TrimSpace(s))
	}
	var d []byte
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			d = append(d, s[i])
		}
	}
	if len(d) > 10 {
		d = d[len(d)-10:]
	}
	return string(d)
}

// Words common to any answer or appeal, which say nothing about the
// subject (stems).
var genericStems = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`здравствуйте добрый день спасибо благодарим обращение обращения обращению ваше ваш ваша вашего
		уважаемый уважаемая администрация администрации района город города области жители житель вопрос вопросу
		ответ ответа информация сообщаем сообщение принято работу работа работы срок сроки решения решение
		исполнитель исполнителем будет будут было были этот этого очень также который которая которые может можно
		нужно надо просьба прошу просим связи случае проблема проблемы проблему сделано сделать сделают сделаем
		улица улице улицы дом доме дома двор дворе`) {
		m[classify.StemWord(w)] = true
	}
	return m
}()

// mentionsSubject reports whether the answer shares a content stem with
// the appeal's text, place or topic title. An appeal with no content
// words (only a photo) passes.
func (g *Gate) mentionsSubject(a *appeal.Appeal, text string) bool {
	subject := map[string]bool{}
	addStems := func(s string) {
		for _, st := range classify.Stems(s, g.stems) {
			// Numbers count when they can name something (house 12, route
			// №12); single digits are too common to.
			if len([]rune(st)) >= 3 && !genericStems[st] && !isNumber(st) || isNumber(st) && len(st) >= 2 {
				subject[st] = true
			}
		}
	}
	addStems(a.Text)
	addStems(a.Place)
	if a.Municipality != "" && a.Municipality != a.Place {
		addStems(a.Municipality)
	}
	for _, t := range a.Topics {
		addStems(topicTitle(t.Code))
	}
	if len(subject) == 0 {
		return true
	}
	for _, st := range classify.Stems(text, g.stems) {
		if subject[st] {
			return true
		}
	}
	// No shared word, but the answer may name the subject in the topic's
	// own vocabulary (a bus appeal answered about the route and the
	// carrier): the rubricator puts such an answer in the same topic.
	if len(a.Topics) == 0 {
		return false
	}
	for _, t := range classify.DefaultRubricator().Classify(text).Topics {
		for _, at := range a.Topics {
			if t.Code != classify.OtherTopic && sameLine(t.Code, at.Code) {
				return true
			}
		}
	}
	return false
}

// sameLine reports whether one topic is the other or its ancestor:
// "housing" and "housing.water" are one subject, "landscaping.lighting"
// and "landscaping.playgrounds" are not.
func sameLine(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+".") || strings.HasPrefix(b, a+".")
}

func isNumber(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
