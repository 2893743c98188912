package classify

import (
	"os"
	"testing"
	"time"
)

const (
	kurskPath = "../../shared/data/kursk/train.jsonl"
	spbPath   = "../../shared/data/spb/dev.jsonl.gz"
)

// loadShared reads a data file from /work/shared, skipping the test when it
// is absent (the data is not part of the repository).
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

func TestModelKurskMeasure(t *testing.T) {
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
			{"baseline", TrainConfig{C: 1, ClassWeights: NoClassWeights, NoCalibration: true}},
			{"default", TrainConfig{}},
			{"sqrt", TrainConfig{ClassWeights: SqrtBalancedWeights}},
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
			t.Logf("%s %-9s acc=%.4f macro=%.4f weighted=%.4f temp=%.2f feats=%d train=%v", path[len(path)-20:], cfg.name, r.Accuracy, r.MacroF1, r.WeightedF1, m.temp, m.Features(), d)
		}
	}
}
