package learn_test

import (
	"strings"
	"testing"
	"time"

	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/route/learn"
)

func mapping() learn.Mapping {
	return learn.Mapping{
		Topics: map[string]string{"Водоснабжение": "housing.water", "Центральное отопление": "housing.heating"},
		Codes:  route.TopicCodes(),
	}
}

func TestReadAndCheck(t *testing.T) {
	recs, st, err := learn.Open("testdata/history.jsonl", mapping())
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 8 || st.WithExecutor != 7 || st.Unmapped["test"] != 1 || !st.HasMunicipality {
		t.Fatalf("stats %+v", st)
	}
	if recs[3].Topic != "housing.water" || recs[0].Topic != "roads" || recs[3].Municipality != "Северный" {
		t.Fatalf("mapping: %+v %+v", recs[0], recs[3])
	}
	e, err := route.ParseFile("testdata/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rep := learn.Check(e, recs, time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC))
	// Agree: 1, 2 (roads), 4, 5 (north-ja), 6 (health by alias), 8 (fallback
	// duty by name). Disagree: 3 (roads, history says the district).
	if rep.N != 7 || rep.Agree != 6 || rep.Known != 7 || rep.Fallback != 1 {
		t.Fatalf("report %+v", rep)
	}
	if len(rep.Confusions) != 1 || rep.Confusions[0].RuleID != "roads" || rep.Confusions[0].History != "Администрация Северного района" {
		t.Fatalf("confusions %+v", rep.Confusions)
	}
	if got := rep.Agreement(); got < 0.857 || got > 0.858 {
		t.Fatalf("agreement %v", got)
	}
}

func TestReadReportsBadLine(t *testing.T) {
	_, _, err := learn.Read(strings.NewReader("{\"text\": \"a\"}\n\nnot json\n"), "h.jsonl", learn.Mapping{})
	if err == nil || !strings.Contains(err.Error(), "h.jsonl:3") {
		t.Fatalf("got %v", err)
	}
}

func TestLearnAndSuggest(t *testing.T) {
	var recs []learn.Record
	for i := range 30 {
		ex := "Дорожный комитет"
		if i%10 == 0 {
			ex = "Администрация"
		}
		recs = append(recs, learn.Record{Text: "яма на дороге выбоина", Label: "roads", Topic: "roads", Executor: ex})
		recs = append(recs, learn.Record{Text: "нет отопления батареи холодные", Label: "heat", Topic: "housing.heating", District: "Северный", Municipality: "Северный", Executor: "ЖА"})
	}
	m := learn.Learn(recs)
	probe := learn.Record{Text: "холодные батареи", Label: "heat", District: "Северный"}
	if got := m.PredictTable(&probe); got != "ЖА" {
		t.Errorf("table: %s", got)
	}
	if got := m.PredictText(&learn.Record{Text: "выбоина на дороге"}); got != "Дорожный комитет" {
		t.Errorf("text: %s", got)
	}
	sugs := learn.Suggest(recs, 10, 0.6)
	if len(sugs) < 2 || sugs[0].Executor != "ЖА" || sugs[0].Support != 30 {
		t.Fatalf("suggestions %+v", sugs)
	}
	found := false
	for _, s := range sugs {
		if s.Topic == "roads" && s.Executor == "Дорожный комитет" && s.Support == 27 && s.Total == 30 {
			found = true
		}
	}
	if !found {
		t.Errorf("roads suggestion missing: %+v", sugs)
	}
	kws := m.Keywords(20, 0.9)
	if len(kws) == 0 || kws[0].Executor != "ЖА" {
		t.Errorf("keywords %+v", kws)
	}
	train, test := learn.Holdout(recs, 5)
	if len(train) != 48 || len(test) != 12 {
		t.Errorf("holdout %d/%d", len(train), len(test))
	}
	if acc := learn.Accuracy(test, learn.Learn(train).PredictTable); acc < 0.8 {
		t.Errorf("accuracy %v", acc)
	}
}

func TestStems(t *testing.T) {
	got := strings.Join(learn.Stems("Отопление ЁЛКИ, на 2 дня; водоснабжения"), " ")
	if got != "отопле елки дня водосн" {
		t.Errorf("stems %q", got)
	}
}

func TestNormalizeName(t *testing.T) {
	if a, b := learn.NormalizeName(`СПб ГКУ "Центр  комплексного благоустройства"`), learn.NormalizeName("спб гку «центр комплексного благоустройства»"); a != b {
		t.Errorf("%q != %q", a, b)
	}
}
