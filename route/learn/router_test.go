package learn_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/route/learn"
)

// history builds appeals whose executor follows from words and district.
func history() []learn.Example {
	var out []learn.Example
	for i := range 60 {
		mun := []string{"Северный", "Южный"}[i%2]
		out = append(out,
			learn.Example{Appeal: &appeal.Appeal{Text: fmt.Sprintf("Яма на дороге, выбоина у дома %d", i), Topics: []appeal.TopicScore{{Code: "roads", Score: 1}}, Municipality: mun}, Executor: "roads"},
			learn.Example{Appeal: &appeal.Appeal{Text: "Холодные батареи, нет отопления в квартире", Topics: []appeal.TopicScore{{Code: "housing.heating", Score: 1}}, Municipality: mun}, Executor: "ja-" + mun},
			learn.Example{Appeal: &appeal.Appeal{Text: "Не вывозят мусор, контейнеры переполнены", Municipality: mun}, Executor: "eco"},
		)
	}
	return out
}

func TestTrainPredict(t *testing.T) {
	m, err := learn.Train(history(), learn.TrainConfig{})
	require.NoError(t, err)
	assert.Len(t, m.Labels(), 4)
	p := m.Predict(&appeal.Appeal{Text: "нет отопления, батареи холодные", Municipality: "Южный", Topics: []appeal.TopicScore{{Code: "housing.heating", Score: 0.8}}})
	assert.Equal(t, "ja-Южный", p.Executor)
	assert.Greater(t, p.Confidence, 0.5)
	assert.LessOrEqual(t, p.Confidence, 1.0)
	assert.Equal(t, 30, p.Support, "30 heating appeals from Южный")
	p = m.Predict(&appeal.Appeal{Text: "мусор не вывозят"})
	assert.Equal(t, "eco", p.Executor)
	assert.Equal(t, route.Prediction{}, m.Predict(nil))

	_, err = learn.Train(nil, learn.TrainConfig{})
	assert.ErrorIs(t, err, learn.ErrNoHistory)
}

func TestModelSaveLoad(t *testing.T) {
	m, err := learn.Train(history(), learn.TrainConfig{})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, m.Save(&buf))
	saved := buf.Bytes()
	m2, err := learn.LoadModel(bytes.NewReader(saved))
	require.NoError(t, err)
	for _, ex := range history() {
		assert.Equal(t, m.Predict(ex.Appeal), m2.Predict(ex.Appeal))
	}
	_, err = learn.LoadModel(bytes.NewReader([]byte("not a model")))
	assert.ErrorIs(t, err, learn.ErrNotModel)
	// Every truncation and a flipped byte anywhere: an error or a model
	// that still predicts without panicking.
	for n := 8; n < len(saved); n += max(1, len(saved)/30) {
		_, err := learn.LoadModel(bytes.NewReader(saved[:n]))
		assert.ErrorIs(t, err, learn.ErrCorruptModel, "truncated at %d", n)
	}
	for i := 8; i < len(saved); i += max(1, len(saved)/30) {
		b := bytes.Clone(saved)
		b[i] ^= 0xff
		if m3, err := learn.LoadModel(bytes.NewReader(b)); err == nil {
			m3.Predict(&appeal.Appeal{Text: "яма на дороге", Municipality: "Северный"})
		}
	}
}

// Rules and model together on the rules of testdata: the model decides
// only where the fallback would.
func TestWithModel(t *testing.T) {
	e, err := route.ParseFile("testdata/rules.yaml")
	require.NoError(t, err)
	var ex []learn.Example
	for range 20 {
		ex = append(ex, learn.Example{Appeal: &appeal.Appeal{Text: "врач не принимает в поликлинике"}, Executor: "health"})
	}
	m, err := learn.Train(ex, learn.TrainConfig{})
	require.NoError(t, err)
	r := route.WithModel(e, m, 0.5)
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	d := r.Route(&appeal.Appeal{Text: "в поликлинике не принимает врач"}, now)
	assert.True(t, d.Learned)
	assert.Equal(t, "health", d.Executor)
	// The roads rule is explicit: the model is not asked.
	d = r.Route(&appeal.Appeal{Text: "врач", Topics: []appeal.TopicScore{{Code: "roads", Score: 1}}}, now)
	assert.Equal(t, "roads", d.Executor)
	assert.False(t, d.Learned)
}

const (
	kurskHistory = "../../../shared/data/kursk/train.jsonl"
	spbHistory   = "../../../shared/data/spb/dev.jsonl.gz"
)

// BenchmarkLearnedRoute is the whole decision a pipeline makes with a
// model, over real appeals (outside the repository; skipped when absent):
// Kursk (long messages, the model reads up to 4 KiB) and St Petersburg
// (short portal messages; the model is trained on 8,000 of them to keep
// the benchmark's set-up short). Each appeal is first classified as the
// pipeline classifies it (classify.ClassifyAppeal with the default
// engine), which leaves the text's stems on it for the model.
//
//   - classify: the classification itself (normalise, stem, topics,
//     places), recording the stems; classify-without-stems: the same
//     through Classify and Apply, which record none (what recording costs);
//   - predict, route+model: the model alone and rules plus model, reading
//     the classifier's stems; predict-stemming, route+model-stemming: the
//     same with the appeal's Analysis removed, so the model stems the
//     text again (as before the classifier's stems were carried);
//   - rules: the rules alone;
//   - classify+predict: predict right after classify, as in the pipeline
//     (less classify, the model's cost on an appeal in the cache);
//   - classify+route: the end-to-end cost per appeal, classify then
//     route+model; classify+route-stemming: the same when the classifier
//     leaves no stems (Classify then Apply) and the model stems.
func BenchmarkLearnedRoute(b *testing.B) {
	for _, set := range realSets(b, 8000) {
		b.Run(set.name, func(b *testing.B) { benchRoute(b, set) })
	}
}

func benchRoute(b *testing.B, set realSet) {
	eng, err := classify.New()
	require.NoError(b, err)
	e, m := set.rules, set.model
	r := route.WithModel(e, m, 0.5)
	n := len(set.recs)
	fresh := make([]*appeal.Appeal, n)    // as the source delivers them
	analysed := make([]*appeal.Appeal, n) // classified, with the stems
	stemming := make([]*appeal.Appeal, n) // classified, without
	for i := range set.recs {
		fresh[i] = set.recs[i].Appeal()
		a := *fresh[i]
		classify.ClassifyAppeal(eng, &a) // warms the classifier's stem cache
		analysed[i] = &a
		c := a
		c.Analysis = nil
		stemming[i] = &c
		m.Predict(stemming[i]) // warm the model's stem cache, as a running pipeline has
	}
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	run := func(name string, op func(i int)) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for i := 0; b.Loop(); i++ {
				op(i % n)
			}
			reportCPU(b, cpu)
		})
	}
	var scratch appeal.Appeal
	run("classify", func(i int) {
		scratch = *fresh[i]
		classify.ClassifyAppeal(eng, &scratch)
	})
	run("classify-without-stems", func(i int) {
		scratch = *fresh[i]
		eng.Classify(scratch.Text).Apply(&scratch)
	})
	run("predict", func(i int) { m.Predict(analysed[i]) })
	run("predict-stemming", func(i int) { m.Predict(stemming[i]) })
	run("route+model", func(i int) { r.Route(analysed[i], now) })
	run("route+model-stemming", func(i int) { r.Route(stemming[i], now) })
	run("rules", func(i int) { e.Route(analysed[i], now) })
	// Predict right after classification, as in the pipeline: the appeal
	// is in the processor's cache, the model's tables compete with the
	// classifier's. Its cost is this less classify.
	run("classify+predict", func(i int) {
		scratch = *fresh[i]
		classify.ClassifyAppeal(eng, &scratch)
		m.Predict(&scratch)
	})
	run("classify+route", func(i int) {
		scratch = *fresh[i]
		classify.ClassifyAppeal(eng, &scratch)
		r.Route(&scratch, now)
	})
	run("classify+route-stemming", func(i int) {
		scratch = *fresh[i]
		eng.Classify(scratch.Text).Apply(&scratch)
		r.Route(&scratch, now)
	})
}

// Predict is safe for concurrent use and gives every goroutine the same
// answers.
func TestPredictConcurrent(t *testing.T) {
	m, err := learn.Train(history(), learn.TrainConfig{})
	require.NoError(t, err)
	ex := history()
	want := make([]route.Prediction, len(ex))
	for i, e := range ex {
		want[i] = m.Predict(e.Appeal)
	}
	done := make(chan bool)
	for g := range 4 {
		go func() {
			ok := true
			for r := range 50 {
				i := (g*31 + r*7) % len(ex)
				ok = ok && m.Predict(ex[i].Appeal) == want[i]
			}
			done <- ok
		}()
	}
	for range 4 {
		assert.True(t, <-done)
	}
}
