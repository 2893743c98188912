package learn

import (
	"math"
	"os"
	"testing"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/route"
)

// predictReference is Predict written plainly, from the model's stored
// tables (the feature table, offsets, idf and the quantised weights), with
// a map to count features: the reference the hot path's tricks must
// reproduce bit for bit.
func (m *Model) predictReference(a *appeal.Appeal) route.Prediction {
	if a == nil || len(m.labels) == 0 {
		return route.Prediction{}
	}
	s := &scratch{}
	a2 := *a
	a2.Analysis = nil // the reference stems the text itself
	sup, _ := extract(s, &a2, nil)
	s.feats = append(s.feats, tagBias|1)
	k := len(m.labels)
	z := make([]float64, k)
	for c := range z {
		z[c] = float64(m.bias[c])
	}
	mask := uint64(len(m.slots) - 1)
	pos := map[int32]int{}
	var list []int32 // features in the order first seen
	var tf []float64
	for _, h := range s.feats {
		if len(list) == maxMessageFeatures {
			break
		}
		si := classify.MixHashes(h, 0) & mask
		for m.slots[si] != h && m.slots[si] != 0 {
			si = (si + 1) & mask
		}
		if m.slots[si] == 0 {
			continue
		}
		f := m.index[si]
		if j, ok := pos[f]; ok {
			tf[j]++
			continue
		}
		pos[f] = len(list)
		list = append(list, f)
		tf = append(tf, 1)
	}
	vals := make([]float32, len(list))
	norm := 0.0
	for j, f := range list {
		if v := m.idf[f]; v != 0 {
			x := (1 + math.Log(tf[j])) * float64(v)
			vals[j] = float32(x)
			norm += x * x
		} else {
			vals[j] = m.ctx
		}
	}
	inv := 0.0
	if norm > 0 {
		inv = 1 / math.Sqrt(norm)
	}
	for j, f := range list {
		x := float64(vals[j]) * m.wscale
		if m.idf[f] != 0 {
			x *= inv
		}
		for _, e := range m.cw[m.offs[f]:m.offs[f+1]] {
			z[e.c] += float64(e.w) * x
		}
	}
	best := 0
	for c, v := range z {
		if v > z[best] {
			best = c
		}
	}
	mx, second := z[best], math.Inf(-1)
	for c, v := range z {
		if c != best && v > second {
			second = v
		}
	}
	cut := second - 40*m.temp
	others := 0.0
	for c, v := range z {
		if c != best && v >= cut {
			others += math.Exp((v - mx) / m.temp)
		}
	}
	margin := 1000.0
	if others > 0 {
		margin = min(-math.Log(others), 1000)
	}
	p := route.Prediction{Executor: m.labels[best], Confidence: m.calibrate(1 / (1 + others)), Margin: margin, Support: int(m.counts[best])}
	for _, h := range sup {
		if h == 0 {
			continue
		}
		if n, ok := m.support[supKey(h, best)]; ok {
			p.Support = int(n)
			break
		}
	}
	return p
}

// Predict gives exactly the reference's prediction, with and without the
// classifier's stems, on every appeal of the real data sets (outside the
// repository; skipped when absent), and on the synthetic history.
func TestPredictMatchesReference(t *testing.T) {
	eng, err := classify.New()
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, m *Model, appeals []*appeal.Appeal) {
		t.Helper()
		differ := 0
		for i, a := range appeals {
			want := m.predictReference(a)
			plain := *a
			plain.Analysis = nil
			if got := m.Predict(&plain); got != want {
				differ++
				if differ < 5 {
					t.Errorf("appeal %d: got %+v, want %+v", i, got, want)
				}
			}
			classify.ClassifyAppeal(eng, a)
			want = m.predictReference(a)
			if got := m.Predict(a); got != want {
				differ++
				if differ < 5 {
					t.Errorf("appeal %d classified: got %+v, want %+v", i, got, want)
				}
			}
		}
		if differ > 0 {
			t.Errorf("%d of %d predictions differ", differ, 2*len(appeals))
		}
	}
	t.Run("synthetic", func(t *testing.T) {
		var ex []Example
		for i := range 60 {
			mun := []string{"Северный", "Южный"}[i%2]
			ex = append(ex,
				Example{Appeal: &appeal.Appeal{Text: "Яма на дороге, выбоина у дома 5", Topics: []appeal.TopicScore{{Code: "roads", Score: 1}}, Municipality: mun}, Executor: "roads"},
				Example{Appeal: &appeal.Appeal{Text: "Холодные батареи, нет отопления, нет отопления", Municipality: mun}, Executor: "ja-" + mun},
				Example{Appeal: &appeal.Appeal{Text: "Не вывозят мусор", Municipality: mun}, Executor: "eco"},
			)
		}
		m, err := Train(ex, TrainConfig{})
		if err != nil {
			t.Fatal(err)
		}
		var appeals []*appeal.Appeal
		for _, e := range ex {
			c := *e.Appeal
			appeals = append(appeals, &c)
		}
		appeals = append(appeals, &appeal.Appeal{}, &appeal.Appeal{Text: "12 34"})
		check(t, m, appeals)
	})
	if testing.Short() {
		return
	}
	for _, ds := range []struct{ name, history, rules string }{
		{"kursk", "../../../shared/data/kursk/train.jsonl", "../../examples/rules/region.yaml"},
		{"spb", "../../../shared/data/spb/dev.jsonl.gz", "../../examples/rules/spb.yaml"},
	} {
		t.Run(ds.name, func(t *testing.T) {
			if _, err := os.Stat(ds.history); err != nil {
				t.Skipf("no data: %v", err)
			}
			e, err := route.ParseFile(ds.rules)
			if err != nil {
				t.Fatal(err)
			}
			recs, _, err := Open(ds.history, Mapping{Codes: route.TopicCodes()})
			if err != nil {
				t.Fatal(err)
			}
			m, err := Train(Examples(recs[:min(len(recs), 4000)], NewResolver(e)), TrainConfig{})
			if err != nil {
				t.Fatal(err)
			}
			appeals := make([]*appeal.Appeal, len(recs))
			for i := range recs {
				appeals[i] = recs[i].Appeal()
			}
			check(t, m, appeals)
		})
	}
}
