package classify

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// briefCodes are the topic codes every part of appealkit shares.
var briefCodes = []string{"roads", "housing", "housing.heating", "housing.water", "housing.electricity",
	"housing.sewerage", "housing.gas", "housing.building", "housing.management", "landscaping",
	"landscaping.yards", "landscaping.lighting", "landscaping.trees", "landscaping.playgrounds", "garbage",
	"snow", "healthcare", "education", "social", "transport", "ecology", "animals", "safety",
	"culture_sport", "trade", "construction", "communications", "other"}

func TestDefaultRubricatorCodes(t *testing.T) {
	rb := DefaultRubricator()
	var codes []string
	for _, tp := range rb.Topics() {
		codes = append(codes, tp.Code)
		if tp.Title == "" {
			t.Errorf("%s has no title", tp.Code)
		}
		if i := strings.LastIndexByte(tp.Code, '.'); i > 0 && tp.Parent != tp.Code[:i] {
			t.Errorf("%s: parent %q", tp.Code, tp.Parent)
		}
	}
	if !slices.Equal(codes, briefCodes) {
		t.Fatalf("codes\n%v\nwant\n%v", codes, briefCodes)
	}
	if rb.Title("housing.heating") != "Отопление" || rb.Title("nope") != "" {
		t.Fatal("Title lookup")
	}
}

// Messages written for this test in the style of real appeals; each must land
// on its topic out of the box.
func TestDefaultRubricatorTopics(t *testing.T) {
	cases := []struct{ text, want string }{
		{"На улице Советской огромные ямы, асфальт разбит, невозможно проехать", "roads"},
		{"Когда отремонтируют тротуар вдоль школы? Дети ходят по проезжей части", "roads"},
		{"В квартире +14, батареи чуть теплые, управляющая компания говорит что котельная работает", "housing.heating"},
		{"Третий день нет холодной воды в доме 12, водоканал не отвечает", "housing.water"},
		{"После каждого ветра сидим без света, РЭС не реагирует", "housing.electricity"},
		{"Во дворе течет канализация, вонь стоит невыносимая, колодец переполнен", "housing.sewerage"},
		{"Когда проведут газ в нашу деревню? Газификацию обещают пятый год", "housing.gas"},
		{"Протекает крыша, в подъезде на пятом этаже плесень по стенам", "housing.building"},
		{"УК берет деньги за содержание, а заявки не выполняет", "housing.management"},
		{"Просим благоустроить сквер у дома культуры: нет ни одной лавочки и урны", "landscaping"},
		{"Во дворе дома разбитая дворовая территория, машины ставят на газоны", "landscaping.yards"},
		{"На нашей улице не горят фонари, вечером кромешная тьма", "landscaping.lighting"},
		{"Аварийный тополь у подъезда может упасть, просим спилить", "landscaping.trees"},
		{"Детская площадка сломана: качели оторваны, горка ржавая", "landscaping.playgrounds"},
		{"Контейнеры переполнены, мусор не вывозят уже неделю, региональный оператор молчит", "garbage"},
		{"Дорогу к деревне занесло снегом, трактор не приезжал, сугробы по пояс", "snow"},
		{"В поликлинике невозможно записаться к терапевту, талонов нет", "healthcare"},
		{"Нет мест в детском саду, очередь не двигается второй год", "education"},
		{"Многодетной семье отказали в пособии, соцзащита не объясняет почему", "social"},
		{"Автобус номер 5 не ходит по расписанию, люди часами ждут на остановке", "transport"},
		{"Завод по ночам выбрасывает дым, нечем дышать, в реке мертвая рыба", "ecology"},
		{"Стая бездомных собак у школы кидается на детей, нужен отлов", "animals"},
		{"Во дворе каждую ночь пьяные компании, драки, участковый не приходит", "safety"},
		{"Сельский клуб закрыт, молодежи негде заниматься спортом, нет секций", "culture_sport"},
		{"В магазине продают просроченные продукты, ценники не совпадают", "trade"},
		{"Наш дом признан аварийным пять лет назад, а расселения так и нет", "construction"},
		{"В селе нет мобильной связи и интернета, вышку так и не поставили", "communications"},
		{"Сорваны отливы на окнах второго этажа, кровельное покрытие в трещинах", "housing.building"},
		{"Просим организовать отлов собак возле рынка", "animals"}, // "отлов" and "отлив" share a stem
		{"Скоро зима, а полотенцесушитель холодный и ГВС еле теплая", "housing.water"},
		{"Вторую неделю не горит свет в парадной на пятом этаже", "housing.building"},
		{"Добрый вечер всем", "other"},
	}
	rb := DefaultRubricator()
	wrong := 0
	for _, c := range cases {
		r := rb.Classify(c.text)
		if r.Top() != c.want {
			wrong++
			t.Errorf("%q: top %v, want %s", c.text, r.Topics, c.want)
		}
	}
	t.Logf("%d/%d right", len(cases)-wrong, len(cases))
}

func TestAppealVersusNoise(t *testing.T) {
	appeals := []string{
		"Когда уберут мусор во дворе? Контейнеры переполнены уже неделю!",
		"Помогите пожалуйста, уже месяц не вывозят ТКО",
		"Почему на улице Ленина до сих пор не отремонтирована дорога?",
		"В доме нет горячей воды третий день",
		"Прошу принять меры к соседям, шумят по ночам",
		"Администрация, сколько можно ждать освещения на нашей улице?",
		"Мусор на газонах",
		"Граффити на фасаде",
		"Убрать незаконную рекламу с фасада дома",
		"Спасибо за ответ, но яма так и не заделана",
	}
	noise := []string{
		"Продам гараж, недорого, звоните",
		"С днем рождения, Иван!",
		"Спасибо администрации за новую детскую площадку!",
		"Поздравляем всех с Новым годом!",
		"Подписывайтесь на наш канал, розыгрыш призов каждую неделю",
		"Уважаемые жители! Сообщаем, что 12 мая состоится субботник",
		"👍👍👍",
		"Доброе утро всем! Хорошего дня",
		"Новости района: открылась новая библиотека",
		"Требуется продавец в магазин, звоните",
		"Администрация района информирует: опубликован график отключений горячей воды",
	}
	rb := DefaultRubricator()
	for _, s := range appeals {
		if r := rb.Classify(s); !r.IsAppeal {
			t.Errorf("appeal %q scored %.2f", s, r.AppealScore)
		}
	}
	for _, s := range noise {
		if r := rb.Classify(s); r.IsAppeal {
			t.Errorf("noise %q scored %.2f", s, r.AppealScore)
		}
	}
}

func TestUrgency(t *testing.T) {
	rb := DefaultRubricator()
	urgent := map[string]string{
		"Прорвало трубу в подвале, заливает квартиры":          "прорвало",
		"Нет отопления во всем доме, на улице минус 20":        "нет отопления",
		"В подъезде сильно пахнет газом":                       "пахнет газом",
		"Оборвался провод, лежит на тротуаре под напряжением":  "оборвался провод",
		"Стена дома треснула, есть угроза обрушения":           "угроза обрушения",
		"Третий день нет горячей воды, дети не могут помыться": "нет воды",
	}
	for text, reason := range urgent {
		r := rb.Classify(text)
		if !r.Urgent || !slices.Contains(r.UrgentReasons, reason) {
			t.Errorf("%q: urgent=%v reasons=%q, want %q", text, r.Urgent, r.UrgentReasons, reason)
		}
	}
	for _, text := range []string{
		"Не горит фонарь у дома 5",
		"Просим покрасить лавочки в сквере",
		"Когда будет ремонт дороги на улице Мира?",
	} {
		if r := rb.Classify(text); r.Urgent {
			t.Errorf("%q marked urgent: %q", text, r.UrgentReasons)
		}
	}
}

func TestParseRubricatorErrors(t *testing.T) {
	cases := []struct{ name, src, msg string }{
		{"unknown field", "version: 1\ntopics:\n  - code: a\n    title: A\n    colour: red\n", "colour"},
		{"duplicate", "version: 1\ntopics:\n  - code: a\n    title: A\n  - code: a\n    title: B\n", `:5: topic "a" defined twice`},
		{"orphan child", "version: 1\ntopics:\n  - code: a.b\n    title: AB\n", `:3: topic "a.b": parent "a"`},
		{"bad code", "version: 1\ntopics:\n  - code: Дороги\n    title: A\n", ":3: topic code"},
		{"no title", "version: 1\ntopics:\n  - code: a\n", `:3: topic "a" has no title`},
		{"bad weight", "version: 1\ntopics:\n  - code: a\n    title: A\n    keywords:\n      -1: [яма]\n", ":6: weight -1"},
		{"empty term", "version: 1\ntopics:\n  - code: a\n    title: A\n    keywords:\n      1: [яма, \"!!!\"]\n", `:6: term "!!!" has no words`},
		{"phrase prefix", "version: 1\ntopics:\n  - code: a\n    title: A\n    keywords:\n      1: [\"две части*\"]\n", "a * prefix must be one word"},
		{"one-letter prefix", "version: 1\ntopics:\n  - code: a\n    title: A\n    keywords:\n      1: [\"м*\"]\n", "at least two letters"},
		{"version", "version: 2\ntopics: []\n", "version 2"},
		{"weight not a number", "version: 1\ntopics:\n  - code: a\n    title: A\n    keywords:\n      many: [яма]\n", `:6: weight "many" is not a number`},
		{"empty", "", "empty file"},
		{"not yaml", "version: [1\n", "test.yaml"},
	}
	for _, c := range cases {
		_, err := ParseRubricator(strings.NewReader(c.src), "test.yaml")
		if !errors.Is(err, ErrBadRubricator) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got %v, want ErrBadRubricator mentioning %q", c.name, err, c.msg)
		}
	}
}

func TestCustomRubricator(t *testing.T) {
	src := `version: 1
topics:
  - code: roads
    title: Дороги
    keywords:
      3: [яма, "асфальт*"]
  - code: other
    title: Прочее
signals:
  urgent: [провал]
`
	rb, err := ParseRubricator(strings.NewReader(src), "custom.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := rb.Classify("Провал асфальтового покрытия, ямы")
	if r.Top() != "roads" || !r.Urgent {
		t.Fatalf("got %+v", r)
	}
	x := rb.Explain("Асфальтовое покрытие, ямы")
	if len(x.Topics) == 0 || len(x.Topics[0].Features) != 2 {
		t.Fatalf("explain: %+v", x.Topics)
	}
	if r := rb.Classify("ничего такого"); r.Top() != OtherTopic || r.Topics[0].Score != 1 {
		t.Fatalf("no keyword: %v", r.Topics)
	}
}

// Snowball cuts some words to stems that common words share ("порыв" and
// "пор", "стая" and "ста"); such words are only used in phrases.
func TestNoStemCollisions(t *testing.T) {
	rb := DefaultRubricator()
	cases := []struct{ text, notTopic string }{
		{"До сих пор не отремонтировали дорогу", "housing.water"},
		{"На собрании было более ста человек", "animals"},
		{"Приём физических лиц по вторникам", "education"},
		{"Скоро откроют новую дорогу", "healthcare"},
		{"Каждый день проводят ремонт во дворе", "housing.electricity"},
		{"Для своих жителей администрация ничего не делает", "social"},
	}
	for _, c := range cases {
		for _, tp := range rb.Classify(c.text).Topics {
			if tp.Code == c.notTopic {
				t.Errorf("%q scored %s: %v", c.text, c.notTopic, rb.Explain(c.text).Topics)
			}
		}
	}
}
