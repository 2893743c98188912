package classify

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/appealkit/appealkit/appeal"
)

func TestEngineDefault(t *testing.T) {
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	r := e.Classify("<p>Прорвало трубу, третий день нет воды в доме!</p>")
	if r.Top() != "housing.water" || !r.IsAppeal || !r.Urgent || len(r.Places) != 0 {
		t.Fatalf("got %+v", r)
	}
}

func TestEngineOptions(t *testing.T) {
	for _, o := range []Option{WithModel(nil), WithRubricator(nil), WithTopK(0), WithStemCache(nil), WithAppealThreshold(2)} {
		if _, err := New(o); err == nil {
			t.Error("a bad option was accepted")
		}
	}
	e, err := New(WithTopK(1), WithAppealThreshold(0.99))
	if err != nil {
		t.Fatal(err)
	}
	r := e.Classify("Ямы на дороге, невозможно проехать")
	if len(r.Topics) != 1 {
		t.Fatalf("top-1: %v", r.Topics)
	}
	if r.IsAppeal {
		t.Fatalf("threshold 0.99 passed a score of %.2f", r.AppealScore)
	}
}

func TestEngineWithModelAndGazetteer(t *testing.T) {
	m, _ := trainSynth(t, 600)
	g := testGazetteer(t)
	e, err := New(WithModel(m), WithGazetteer(g), WithStemCache(NewStemCache(1000)))
	if err != nil {
		t.Fatal(err)
	}
	text := "В Захарове стая бездомных собак нападает на детей, просим отлов"
	r := e.Classify(text)
	if r.Top() != "animals" || !r.IsAppeal || r.Municipality() != "Скопинский район" {
		t.Fatalf("got %+v", r)
	}
	x := e.Explain(text)
	if x.Result.Top() != r.Top() || len(x.Topics) != len(r.Topics) || len(x.Topics[0].Features) == 0 {
		t.Fatalf("explain: %+v", x)
	}
	if len(x.Appeal) == 0 || x.Appeal[0].Weight <= 0 {
		t.Fatalf("appeal evidence: %+v", x.Appeal)
	}

	a := appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "1", Text: text, Municipality: "kept?"}
	res := ClassifyAppeal(e, &a)
	if a.TopTopic() != "animals" || a.Municipality != "Скопинский район" || a.Place != "Захарово" || len(a.Topics) == 0 || len(a.Topics) > len(res.Topics) {
		t.Fatalf("applied: topics %v municipality %q place %q", a.Topics, a.Municipality, a.Place)
	}
}

// A bare Model in a pipeline must not turn every message into noise.
func TestModelJudgesAppeals(t *testing.T) {
	m, _ := trainSynth(t, 300)
	if r := m.Classify("Прорвало трубу, третий день нет воды, помогите!"); !r.IsAppeal || !r.Urgent {
		t.Fatalf("appeal: %+v", r)
	}
	if r := m.Classify("Продам гараж, недорого, звоните"); r.IsAppeal {
		t.Fatalf("advert: %+v", r)
	}
}

func TestResultApplyKeepsKnownFields(t *testing.T) {
	a := appeal.Appeal{Municipality: "Курск", Place: "ул. Ленина", Urgent: true, Topics: []appeal.TopicScore{{Code: "roads", Score: 1}}}
	Result{}.Apply(&a)
	if a.Municipality != "Курск" || a.Place != "ул. Ленина" || !a.Urgent || a.TopTopic() != "roads" {
		t.Fatalf("empty result erased fields: %+v", a)
	}
	shared := a.Topics
	Result{Topics: []Topic{{"garbage", 0.7}}}.Apply(&a)
	if shared[0].Code != "roads" {
		t.Fatal("Apply wrote into the appeal's old Topics array")
	}
}

func TestEngineConcurrent(t *testing.T) {
	m, test := trainSynth(t, 600)
	rub, _ := New(WithGazetteer(testGazetteer(t)))
	mod, _ := New(WithModel(m))
	texts := []string{"В Захарове нет воды", "Ямы на проспекте Победы", "Продам гараж", strings.Repeat("мусор во дворе ", 20)}
	want := map[string]Result{}
	for _, s := range texts {
		want[s] = rub.Classify(s)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				s := texts[(i+g)%len(texts)]
				if got := rub.Classify(s); got.Top() != want[s].Top() || got.Municipality() != want[s].Municipality() {
					t.Errorf("concurrent result differs for %q", s)
					return
				}
				mod.Classify(test[i%len(test)].Text)
				m.Classify(test[i%len(test)].Text)
			}
		}()
	}
	wg.Wait()
}

// ClassifyAppeal leaves on the appeal the stems of its text as a learned
// router derives them from VisitStems: each word's hash, 0 for a number,
// for every classifier of the package; a foreign classifier leaves none.
func TestClassifyAppealRecordsStems(t *testing.T) {
	text := "Во дворе дома 5 по ул. Ленина 3-й день не вывозят мусор, 12 контейнеров переполнены!"
	var want []uint64
	VisitStems(text, nil, func(stem string) {
		if isFeatureStem(stem) {
			want = append(want, HashString(FNVOffset, stem))
		} else {
			want = append(want, 0)
		}
	})
	if !slices.Contains(want, 0) {
		t.Fatal("the text must hold a number, to test breaks")
	}
	e, _ := New()
	m, _ := trainSynth(t, 300)
	for _, c := range []Classifier{e, m, DefaultRubricator()} {
		a := appeal.Appeal{Text: text}
		ClassifyAppeal(c, &a)
		if a.Analysis.For(text) == nil || !slices.Equal(a.Analysis.StemHashes, want) {
			t.Fatalf("%T: analysis %+v, want hashes %v", c, a.Analysis, want)
		}
	}
	a := appeal.Appeal{Text: text}
	if err := e.ClassifyAppeal(context.Background(), &a); err != nil || a.Analysis.For(text) == nil {
		t.Fatalf("Engine.ClassifyAppeal: %v, analysis %+v", err, a.Analysis)
	}
	a = appeal.Appeal{Text: text}
	ClassifyAppeal(foreignClassifier{}, &a)
	if a.Analysis != nil {
		t.Fatalf("a classifier that did not stem the text left %+v", a.Analysis)
	}
}

type foreignClassifier struct{}

func (foreignClassifier) Classify(string) Result { return Result{IsAppeal: true} }
