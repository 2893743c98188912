package classify

import (
	"os"
	"testing"
	"time"
)

// Real data lives next to the repository, never in it.
const (
	kurskPath = "../../shared/data/kursk/train.jsonl"
	spbPath   = "../../shared/data/spb/dev.jsonl.gz"
)

// loadShared reads a data file from ../shared, skipping the test when it is
// absent (the data is not part of the repository).
func loadShared(tb testing.TB, path string) []Example {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Skipf("real data not available (%v); it lives in ../shared/data next to the repository", err)
	}
	defer f.Close()
	ex, err := ReadExamples(f, path)
	if err != nil {
		tb.Fatal(err)
	}
	return ex
}

// TestModelOnKursk trains on 80% of the Kursk appeals and checks the other
// 20% against floors a little under the measured quality, and against the
// unweighted baseline on the same split.
func TestModelOnKursk(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on 1,600 real appeals; skipped in -short mode")
	}
	all := loadShared(t, kurskPath)
	train, test := SplitExamples(all, 0.8, 1)
	m, err := Train(train, TrainConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r := Evaluate(m, test)
	base, err := Train(train, BaselineConfig())
	if err != nil {
		t.Fatal(err)
	}
	b := Evaluate(base, test)
	t.Logf("model    accuracy=%.4f macro_f1=%.4f weighted_f1=%.4f", r.Accuracy, r.MacroF1, r.WeightedF1)
	t.Logf("baseline accuracy=%.4f macro_f1=%.4f weighted_f1=%.4f", b.Accuracy, b.MacroF1, b.WeightedF1)
	if r.Accuracy < 0.80 || r.MacroF1 < 0.38 {
		t.Errorf("quality fell: accuracy %.4f (floor 0.80), macro-F1 %.4f (floor 0.38)", r.Accuracy, r.MacroF1)
	}
	if r.MacroF1 < b.MacroF1 {
		t.Errorf("macro-F1 %.4f below the unweighted baseline's %.4f", r.MacroF1, b.MacroF1)
	}
}

// TestAppealRecallOnRealData checks that real appeals (every message in
// both data sets is one) are recognised as appeals by the shipped signals.
func TestAppealRecallOnRealData(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the real data sets; skipped in -short mode")
	}
	rb := DefaultRubricator()
	for _, c := range []struct {
		path  string
		every int
		floor float64
	}{{kurskPath, 4, 0.92}, {spbPath, 40, 0.85}} {
		all := loadShared(t, c.path)
		n, hit := 0, 0
		for i := 0; i < len(all); i += c.every {
			n++
			if rb.Classify(all[i].Text).IsAppeal {
				hit++
			}
		}
		rate := float64(hit) / float64(n)
		t.Logf("%s: %d of %d recognised as appeals (%.3f)", c.path, hit, n, rate)
		if rate < c.floor {
			t.Errorf("%s: appeal recall %.3f below %.2f", c.path, rate, c.floor)
		}
	}
}

// TestMeasureRealData prints the quality of several configurations on both
// data sets. It is slow, so it only runs when asked:
//
//	CLASSIFY_MEASURE=1 go test -run TestMeasureRealData -v ./classify
func TestMeasureRealData(t *testing.T) {
	if os.Getenv("CLASSIFY_MEASURE") == "" {
		t.Skip("set CLASSIFY_MEASURE=1 to measure on the real data sets")
	}
	for _, path := range []string{kurskPath, spbPath} {
		all := loadShared(t, path)
		train, test := SplitExamples(all, 0.8, 1)
		for _, cfg := range []struct {
			name string
			c    TrainConfig
		}{
			{"baseline", BaselineConfig()},
			{"default", TrainConfig{}},
			{"balanced", TrainConfig{ClassWeights: BalancedWeights}},
			{"C1", TrainConfig{C: 1}},
			{"C0.25", TrainConfig{C: 0.25}},
		} {
			start := time.Now()
			m, err := Train(train, cfg.c)
			if err != nil {
				t.Fatal(err)
			}
			d := time.Since(start)
			r := Evaluate(m, test)
			t.Logf("%s %-9s acc=%.4f macro=%.4f weighted=%.4f temp=%.2f feats=%d train=%v", path, cfg.name, r.Accuracy, r.MacroF1, r.WeightedF1, m.temp, m.Features(), d)
		}
	}
}
