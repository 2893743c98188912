package learn

import (
	"math"
	"os"
	"slices"
	"testing"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/route"
)

// predictReference is Predict written plainly, from the model's stored
// tables (the feature table, offsets, idf and weights, quantised), with
// a map to count features: the reference the hot path's tricks must
// reproduce bit for bit.
func (m *Model) predictReference(a *appeal.Appeal) route.Prediction {
	if a == nil || len(m.labels) == 0 {
		return route.Prediction{}
	}
	s := &scratch{}
	sup := extractReference(s, a)
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
		for i := m.offs[f]; i < m.offs[f+1]; i++ {
			q := int16(math.Round(float64(m.w[i]) / m.wscale)) // the weight as the model quantises it
			z[m.cls[i]] += float64(q) * x
		}
	}
	best := 0
	for c, v := range z {
		if v > z[best] {
			best = c
		}
	}
	second := math.Inf(-1)
	for c, v := range z {
		if c != best && v > second {
			second = v
		}
	}
	// What follows the choice is Predict's own (prediction): it is not
	// what Predict does faster.
	return m.prediction(z, best, second, sup)
}

// extractReference is extract as first written: the context features one
// by one, then the text stemmed afresh.
func extractReference(s *scratch, a *appeal.Appeal) [3]uint64 {
	var sup [3]uint64
	s.feats = s.feats[:0]
	if a.Municipality != "" {
		h := nz(classify.HashString(tagMun, a.Municipality))
		s.feats = append(s.feats, h)
		sup[2] = h
	}
	top := a.TopTopic()
	for _, t := range a.Topics {
		s.feats = append(s.feats, nz(classify.HashString(tagTopic, t.Code)))
	}
	if top != "" {
		sup[1] = nz(classify.HashString(tagTopic, top))
		if a.Municipality != "" {
			h := nz(classify.HashString(classify.HashString(classify.HashString(tagCross, a.Municipality), "\x00"), top))
			s.feats = append(s.feats, h)
			sup[0] = h
		}
	}
	if a.Community.ID != "" {
		s.feats = append(s.feats, nz(classify.HashString(tagComm, a.Community.ID)))
	}
	if a.Network != "" {
		s.feats = append(s.feats, nz(classify.HashString(tagNet, string(a.Network))))
	}
	if a.Kind != "" {
		s.feats = append(s.feats, nz(classify.HashString(tagKind, string(a.Kind))))
	}
	if a.Place != "" {
		s.feats = append(s.feats, nz(classify.HashString(tagPlace, a.Place)))
	}
	var prev, mun uint64
	if a.Municipality != "" {
		mun = classify.HashString(tagMunWord, a.Municipality)
	}
	classify.VisitStems(head(a.Text, maxTextBytes), nil, func(stem string) {
		if !isWordStem(stem) {
			prev = 0
			return
		}
		h := classify.HashString(fnvOffset, stem)
		s.feats = append(s.feats, nz(h))
		if prev != 0 {
			s.feats = append(s.feats, nz(classify.MixHashes(prev, h)))
		}
		if mun != 0 {
			s.feats = append(s.feats, nz(classify.MixHashes(mun, h)))
		}
		prev = h
	})
	return sup
}

// extract derives exactly the reference's features, support keys
// included, with and without the classifier's stems, for appeals with and
// without topics (ties among them too), municipality and the rest.
func TestExtractMatchesReference(t *testing.T) {
	eng, err := classify.New()
	if err != nil {
		t.Fatal(err)
	}
	appeals := []*appeal.Appeal{
		{},
		{Text: "12 34, 5"},
		{Text: "Яма на дороге у дома 5 по ул. Ленина", Municipality: "Курский район", Network: "vk", Kind: "post", Place: "улица Ленина",
			Community: appeal.Community{ID: "-1"}, Topics: []appeal.TopicScore{{Code: "roads", Score: 0.4}, {Code: "roads.pits", Score: 0.6}, {Code: "other", Score: 0.6}}},
		{Text: "нет воды", Topics: []appeal.TopicScore{{Code: "", Score: 0.9}, {Code: "water", Score: 0.1}}, Municipality: "Северный"},
		{Text: "нет воды", Topics: []appeal.TopicScore{{Code: "water", Score: -2}}, Municipality: "Северный"},
	}
	check := func(i int, a *appeal.Appeal) {
		t.Helper()
		var s1, s2 scratch
		want := extractReference(&s1, a)
		got, _ := extract(&s2, a, nil)
		if got != want || !slices.Equal(s1.feats, s2.feats) {
			t.Errorf("appeal %d: features %x, support %x; want %x, %x", i, s2.feats, got, s1.feats, want)
		}
	}
	for i, a := range appeals {
		check(i, a)
		// Classified: other topics, and the classifier's stems.
		c := *a
		classify.ClassifyAppeal(eng, &c)
		if c.Analysis == nil {
			t.Fatalf("appeal %d: no analysis", i)
		}
		check(i, &c)
		// The classifier's stems with the appeal's own topics.
		a.Analysis = c.Analysis
		check(i, a)
	}
	for _, s := range []string{"", "Курский район", "x"} {
		a, b, c := hash3(tagMun, tagCross, tagMunWord, s)
		if a != classify.HashString(tagMun, s) || b != classify.HashString(tagCross, s) || c != classify.HashString(tagMunWord, s) {
			t.Errorf("hash3(%q) differs from HashString", s)
		}
	}
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
