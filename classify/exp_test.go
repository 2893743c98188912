package classify

import (
	"os"
	"testing"
)

func TestExp(t *testing.T) {
	if os.Getenv("CLASSIFY_EXP") == "" {
		t.Skip()
	}
	path, seeds := kurskPath, []uint64{1, 2, 3, 4, 5}
	if os.Getenv("CLASSIFY_EXP") == "spb" {
		path, seeds = spbPath, []uint64{1}
	}
	all := loadShared(t, path)
	cfgs := []struct {
		name string
		c    TrainConfig
	}{
		{"default", TrainConfig{NoCalibration: true}},
		{"mindf2", TrainConfig{MinDF: 2, NoCalibration: true}},
		{"mindf3", TrainConfig{MinDF: 3, NoCalibration: true}},
	}
	for _, cfg := range cfgs {
		var acc, mac, w float64
		feats := 0
		for _, s := range seeds {
			train, test := SplitExamples(all, 0.8, s)
			m, _ := Train(train, cfg.c)
			r := Evaluate(m, test)
			acc += r.Accuracy
			mac += r.MacroF1
			w += r.WeightedF1
			feats = m.Features()
		}
		n := float64(len(seeds))
		t.Logf("%-10s acc=%.4f macro=%.4f weighted=%.4f feats=%d", cfg.name, acc/n, mac/n, w/n, feats)
	}
}
