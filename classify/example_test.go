package classify_test

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/classify"
)

func ExampleNormalize() {
	fmt.Println(classify.Normalize("<p>Всё ещё нет&nbsp;воды 😡 https://vk.com/wall-1_2 ДОРOГА</p>"))
	// Output: все еще нет воды дорога
}

func ExampleTokenize() {
	fmt.Println(classify.Tokenize("Ул.Ленина, д.5 — нет воды!"))
	// Output: [ул ленина д 5 нет воды]
}

func ExampleStemCache() {
	cache := classify.NewStemCache(10_000) // share one per process
	fmt.Println(cache.Stem("дорогами"), cache.Stem("дороги"), cache.Stem("нет"))
	// Output: дорог дорог нет
}

// The default engine classifies with the shipped rubricator: no training
// needed.
func ExampleNew() {
	e, err := classify.New()
	if err != nil {
		panic(err)
	}
	r := e.Classify("Третий день нет горячей воды в доме, прорвало трубу в подвале!")
	fmt.Println(r.Top(), e.Rubricator().Title(r.Top()))
	fmt.Println("appeal:", r.IsAppeal, "urgent:", r.Urgent, r.UrgentReasons)

	r = e.Classify("Продам гараж недорого, звоните")
	fmt.Println("appeal:", r.IsAppeal)
	// Output:
	// housing.water Водоснабжение
	// appeal: true urgent: true [нет воды прорвало]
	// appeal: false
}

func ExampleEngine_Explain() {
	e, _ := classify.New()
	x := e.Explain("Когда уберут сугробы во дворе? Снег не чистят неделю")
	fmt.Println(x.Result.Top())
	for _, f := range x.Topics[0].Features {
		fmt.Println(f.Feature, f.Weight)
	}
	// Output:
	// snow
	// сугроб 3
	// снег 3
	// не чистят 3
	// чистить 2
}

func ExampleNewGazetteer() {
	g, err := classify.NewGazetteer([]classify.Municipality{
		{Name: "Скопинский район", Settlements: []string{"Захарово"}, Streets: []string{"улица Ленина"}},
	})
	if err != nil {
		panic(err)
	}
	e, _ := classify.New(classify.WithGazetteer(g))
	r := e.Classify("В Захарове на улице Ленина не горят фонари")
	for _, p := range r.Places {
		fmt.Println(p.Kind, p.Name, "→", p.Municipality)
	}
	// Output:
	// settlement Захарово → Скопинский район
	// street улица Ленина → Скопинский район
}

func ExampleResult_Apply() {
	e, _ := classify.New()
	a := appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "42", Text: "Стая бездомных собак у школы, просим отлов"}
	classify.ClassifyAppeal(e, &a) // or: e.Classify(a.Text).Apply(&a)
	fmt.Println(a.TopTopic(), a.Urgent)
	// Output: animals false
}

func trainingSet() []classify.Example {
	var ex []classify.Example
	for _, s := range []string{"яма на дороге", "разбит асфальт", "ремонт дороги", "выбоины на трассе"} {
		ex = append(ex, classify.Example{Text: s, Label: "roads"})
	}
	for _, s := range []string{"не вывозят мусор", "переполнены контейнеры", "свалка во дворе", "мусорные баки"} {
		ex = append(ex, classify.Example{Text: s, Label: "garbage"})
	}
	return ex
}

func ExampleTrain() {
	m, err := classify.Train(trainingSet(), classify.TrainConfig{})
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Classify("Когда отремонтируют дорогу? Сплошные ямы").Top())
	// Use the model for topics in an Engine that also detects appeals,
	// urgency and places.
	e, _ := classify.New(classify.WithModel(m))
	fmt.Println(e.Classify("Мусор не вывозят вторую неделю").Top())
	// Output:
	// roads
	// garbage
}

func ExampleLoad() {
	m, _ := classify.Train(trainingSet(), classify.TrainConfig{})
	var file bytes.Buffer
	if err := m.Save(&file); err != nil {
		panic(err)
	}
	loaded, err := classify.Load(&file)
	if err != nil {
		panic(err)
	}
	fmt.Println(loaded.Labels())

	_, err = classify.Load(strings.NewReader("not a model at all, just some text"))
	fmt.Println(err)
	// Output:
	// [garbage roads]
	// classify: not an appealkit model file: bad magic "not a mo"
}

func ExampleEvaluate() {
	m, _ := classify.Train(trainingSet(), classify.TrainConfig{})
	r := classify.Evaluate(m, []classify.Example{
		{Text: "ямы на дороге", Label: "roads"},
		{Text: "мусор у контейнеров", Label: "garbage"},
	})
	fmt.Printf("accuracy=%.2f macro_f1=%.2f\n", r.Accuracy, r.MacroF1)
	// Output: accuracy=1.00 macro_f1=1.00
}

func ExampleParseRubricator() {
	rb, err := classify.ParseRubricator(strings.NewReader(`
version: 1
topics:
  - code: roads
    title: Дороги
    keywords:
      3: [яма, "асфальт*"]
  - code: other
    title: Прочее
`), "my-rubricator.yaml")
	if err != nil {
		panic(err)
	}
	e, _ := classify.New(classify.WithRubricator(rb))
	fmt.Println(e.Classify("Асфальтовое покрытие в ямах").Top())
	// Output: roads
}

func ExampleParseGazetteer() {
	g, err := classify.ParseGazetteer(strings.NewReader(`
municipalities:
  - name: Скопинский район
    settlements: [Захарово, село Горлово]
  - name: Курск
    streets: [улица Ленина, проспект Победы]
`), "places.yaml")
	if err != nil {
		panic(err)
	}
	for _, p := range g.Find("Жители села Горлова просят отремонтировать дорогу") {
		fmt.Println(p.Name, "→", p.Municipality)
	}
	// Output: село Горлово → Скопинский район
}

func ExampleSplitExamples() {
	data, err := classify.ReadExamples(strings.NewReader(`{"text": "яма на дороге", "label": "roads"}
{"text": "разбит асфальт", "label": "roads"}
{"text": "не вывозят мусор", "label": "garbage"}
{"text": "свалка во дворе", "label": "garbage"}
`), "data.jsonl")
	if err != nil {
		panic(err)
	}
	train, test := classify.SplitExamples(data, 0.5, 1) // the same seed, the same split
	fmt.Println(len(train), len(test))
	// Output: 2 2
}

// Places out of the box: the country-wide gazetteer finds Russian cities
// with their municipality, region and time zone.
func ExampleNewCountryGazetteer() {
	g, err := classify.NewCountryGazetteer(classify.CountryOptions{Region: "Курская область"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range g.Find("В Льгове и в г. Железногорск нет воды") {
		fmt.Println(p.Name, "|", p.Municipality, "|", p.Region, "|", p.TimeZone)
	}
	// Output:
	// Льгов | город Льгов | Курская область | UTC+3
	// Железногорск | город Железногорск | Курская область | UTC+3
}
