package classify

import (
	"math/rand/v2"
	"strings"
)

// synthClasses are topic vocabularies for synthetic training data: real
// Russian words, so the stemmer does real work, written for these tests.
var synthClasses = map[string][]string{
	"roads":      {"яма", "дорога", "асфальт", "выбоина", "тротуар", "обочина", "колея", "ремонт", "покрытие", "проехать"},
	"heating":    {"отопление", "батарея", "холодно", "котельная", "радиатор", "теплосеть", "температура", "мерзнем", "стояк", "тепло"},
	"garbage":    {"мусор", "контейнер", "свалка", "вывоз", "отходы", "баки", "площадка", "мусоровоз", "пакеты", "оператор"},
	"animals":    {"собаки", "стая", "бездомные", "отлов", "приют", "кошки", "лают", "нападают", "бродячие", "укусила"},
	"transport":  {"автобус", "маршрут", "остановка", "расписание", "водитель", "маршрутка", "рейс", "пассажиры", "интервал", "проезд"},
	"healthcare": {"поликлиника", "врач", "запись", "талон", "больница", "скорая", "лекарства", "терапевт", "прием", "очередь"},
}

// synthCommon are words every class shares.
var synthCommon = []string{"жители", "просим", "помогите", "улица", "дом", "уже", "месяц", "администрация", "когда",
	"почему", "никто", "не", "реагирует", "нашей", "деревне", "пожалуйста", "срочно", "проблема", "года", "сделать"}

// synthExamples makes n labelled messages of about words words: a third of
// the words come from the class vocabulary, the rest from the common pool.
// Class sizes are unequal on purpose (the first class is the largest).
func synthExamples(n, words int, seed uint64) []Example {
	rng := rand.New(rand.NewPCG(seed, 7))
	labels := []string{"roads", "heating", "garbage", "animals", "transport", "healthcare"}
	share := []float64{0.4, 0.2, 0.15, 0.05, 0.12, 0.08}
	out := make([]Example, 0, n)
	var b strings.Builder
	for range n {
		x, c := rng.Float64(), 0
		for c < len(share)-1 && x > share[c] {
			x -= share[c]
			c++
		}
		b.Reset()
		for w := range words {
			if w > 0 {
				b.WriteByte(' ')
			}
			if rng.IntN(3) == 0 {
				v := synthClasses[labels[c]]
				b.WriteString(v[rng.IntN(len(v))])
			} else {
				b.WriteString(synthCommon[rng.IntN(len(synthCommon))])
			}
		}
		out = append(out, Example{Text: b.String(), Label: labels[c]})
	}
	return out
}
