package classify

import (
	"bytes"
	"compress/gzip"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// fixedClassifier answers from a table, to test the metrics exactly.
type fixedClassifier map[string]string

func (f fixedClassifier) Classify(text string) Result {
	if c, ok := f[text]; ok {
		return Result{Topics: []Topic{{Code: c, Score: 1}}}
	}
	return Result{}
}

func TestEvaluateMetrics(t *testing.T) {
	// true: a a a b b c ; predicted: a a b b c c
	ex := []Example{{"1", "a"}, {"2", "a"}, {"3", "a"}, {"4", "b"}, {"5", "b"}, {"6", "c"}}
	c := fixedClassifier{"1": "a", "2": "a", "3": "b", "4": "b", "5": "c", "6": "c"}
	r := Evaluate(c, ex)
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9 }
	// a: P=1 R=2/3 F=0.8; b: P=1/2 R=1/2 F=0.5; c: P=1/2 R=1 F=2/3.
	if !near(r.Accuracy, 4.0/6) || !near(r.MacroF1, (0.8+0.5+2.0/3)/3) || !near(r.WeightedF1, (3*0.8+2*0.5+2.0/3)/6) {
		t.Fatalf("acc %v macro %v weighted %v", r.Accuracy, r.MacroF1, r.WeightedF1)
	}
	if !slices.Equal(r.Labels, []string{"a", "b", "c"}) || r.Confusion[0][1] != 1 || r.Confusion[1][2] != 1 || r.Confusion[2][2] != 1 {
		t.Fatalf("confusion %v %v", r.Labels, r.Confusion)
	}
	if r.Classes[1].Label != "b" || !near(r.Classes[1].Precision, 0.5) || r.Classes[1].Support != 2 {
		t.Fatalf("class b: %+v", r.Classes[1])
	}
	if !strings.Contains(r.String(), "accuracy=0.6667 macro_f1=0.6556") {
		t.Fatalf("table:\n%s", r)
	}
	// A classifier that says nothing is wrong everywhere, not a crash.
	r = Evaluate(fixedClassifier{}, ex)
	if r.Accuracy != 0 || r.MacroF1 != 0 || !slices.Contains(r.Labels, "") {
		t.Fatalf("empty predictions: %+v", r)
	}
	if r := Evaluate(c, nil); r.Examples != 0 || r.Accuracy != 0 {
		t.Fatalf("no examples: %+v", r)
	}
}

func TestReadExamples(t *testing.T) {
	src := `{"id": "1", "text": "<p>Яма</p>", "label": "roads", "topic": "x"}

{"text": "Мусор", "label": "garbage"}
`
	ex, err := ReadExamples(strings.NewReader(src), "a.jsonl")
	if err != nil || len(ex) != 2 || ex[1].Label != "garbage" {
		t.Fatalf("%v %+v", err, ex)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(src))
	zw.Close()
	if ex, err := ReadExamples(&gz, "a.jsonl.gz"); err != nil || len(ex) != 2 {
		t.Fatalf("gzip: %v %+v", err, ex)
	}
	for _, c := range []struct{ src, msg string }{
		{"{\"text\":\"a\",\"label\":\"x\"}\n{\"text\": \"b\"}\n", `a.jsonl:2: field "label" is missing`},
		{"{\"text\":\"a\",\"label\":\"x\"}\n\nnot json\n", "a.jsonl:3: not a JSON object"},
		{"\x1f\x8bgarbage", "bad gzip header"},
	} {
		_, err := ReadExamples(strings.NewReader(c.src), "a.jsonl")
		var de *DataError
		if !errors.Is(err, ErrBadData) || !errors.As(err, &de) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("got %v, want a DataError mentioning %q", err, c.msg)
		}
	}
}

func TestSplitExamples(t *testing.T) {
	data := synthExamples(500, 5, 9)
	data = append(data, Example{"редкий", "rare"}, Example{"редкий два", "rare"})
	tr1, te1 := SplitExamples(data, 0.8, 1)
	tr2, te2 := SplitExamples(data, 0.8, 1)
	if !slices.Equal(tr1, tr2) || !slices.Equal(te1, te2) {
		t.Fatal("the same seed gave different splits")
	}
	if len(tr1)+len(te1) != len(data) || len(te1) < 90 || len(te1) > 110 {
		t.Fatalf("split sizes %d/%d", len(tr1), len(te1))
	}
	count := func(ex []Example, l string) int {
		n := 0
		for _, e := range ex {
			if e.Label == l {
				n++
			}
		}
		return n
	}
	if count(tr1, "rare") != 1 || count(te1, "rare") != 1 {
		t.Fatal("a label with two examples must land on both sides")
	}
	tr3, _ := SplitExamples(data, 0.8, 2)
	if slices.Equal(tr1, tr3) {
		t.Fatal("another seed gave the same split")
	}
}
