package learn_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/route/learn"
)

// maxCachedText is route/learn's maxTextBytes: the model reads an appeal's
// text up to it, and the classifier's stems serve it only for texts that
// short (a longer text's head is another text).
const maxCachedText = 4096

// realSet is a data set of ../shared/data with the model trained on it,
// loaded once per test binary.
type realSet struct {
	name  string
	rules *route.Engine
	model *learn.Model
	recs  []learn.Record
}

// realSets trains a model on each real data set that is present (the first
// trainOn records of it) and returns all its records.
func realSets(tb testing.TB, trainOn int) []realSet {
	tb.Helper()
	var out []realSet
	for _, ds := range []struct{ name, history, rules string }{
		{"kursk", kurskHistory, "../../examples/rules/region.yaml"},
		{"spb", spbHistory, "../../examples/rules/spb.yaml"},
	} {
		if _, err := os.Stat(ds.history); err != nil {
			continue
		}
		e, err := route.ParseFile(ds.rules)
		require.NoError(tb, err)
		recs, _, err := learn.Open(ds.history, learn.Mapping{Codes: route.TopicCodes()})
		require.NoError(tb, err)
		m, err := learn.Train(learn.Examples(recs[:min(len(recs), trainOn)], learn.NewResolver(e)), learn.TrainConfig{})
		require.NoError(tb, err)
		out = append(out, realSet{ds.name, e, m, recs})
	}
	if len(out) == 0 {
		tb.Skip("no data in ../shared/data")
	}
	return out
}

// Every real appeal, classified as the pipeline classifies it (which
// leaves the text's stems on the appeal), gets exactly the prediction it
// gets when the model stems the text itself.
func TestPredictWithClassifierStemsIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("classifies every appeal of the real data sets")
	}
	eng, err := classify.New()
	require.NoError(t, err)
	for _, set := range realSets(t, 4000) {
		t.Run(set.name, func(t *testing.T) {
			used, differ := 0, 0
			for i := range set.recs {
				a := set.recs[i].Appeal()
				classify.ClassifyAppeal(eng, a)
				require.NotNil(t, a.Analysis, "line %d: the classifier left no stems", set.recs[i].Line)
				if len(a.Text) <= maxCachedText {
					used++
				}
				plain := *a
				plain.Analysis = nil
				if got, want := set.model.Predict(a), set.model.Predict(&plain); got != want {
					differ++
					assert.Equal(t, want, got, "line %d", set.recs[i].Line)
				}
			}
			assert.Zero(t, differ)
			// Most texts are short enough for the cache to be used at all,
			// so the comparison above is not vacuous.
			assert.Greater(t, used, len(set.recs)*9/10)
			t.Logf("%d appeals, %d predicted from the classifier's stems, %d differ", len(set.recs), used, differ)
		})
	}
}

// A cache left from another text (the text was edited after it was
// classified) is ignored: the prediction is the one for the new text.
func TestPredictIgnoresStaleAnalysis(t *testing.T) {
	m, err := learn.Train(history(), learn.TrainConfig{})
	require.NoError(t, err)
	eng, err := classify.New()
	require.NoError(t, err)
	a := &appeal.Appeal{Text: "Холодные батареи, нет отопления в квартире", Municipality: "Северный"}
	classify.ClassifyAppeal(eng, a)
	require.NotNil(t, a.Analysis)
	heating := m.Predict(a)

	a.Text = "Не вывозят мусор, контейнеры переполнены"
	fresh := *a
	fresh.Analysis = nil
	want := m.Predict(&fresh)
	assert.Equal(t, want, m.Predict(a), "a stale analysis must not change the decision")
	assert.Equal(t, "eco", want.Executor)
	assert.NotEqual(t, heating.Executor, want.Executor, "the texts are routed apart, so a stale cache would show")

	// A forged analysis of another text is no better than a stale one.
	other := &appeal.Appeal{Text: "Холодные батареи, нет отопления в квартире"}
	classify.ClassifyAppeal(eng, other)
	a.Analysis = other.Analysis
	assert.Equal(t, want, m.Predict(a))
}

// A text longer than the model reads: the model's head of it is another
// text than the classifier's, so the model stems it itself.
func TestPredictLongTextIgnoresAnalysis(t *testing.T) {
	m, err := learn.Train(history(), learn.TrainConfig{})
	require.NoError(t, err)
	eng, err := classify.New()
	require.NoError(t, err)
	text := "Не вывозят мусор, контейнеры переполнены. "
	for len(text) <= maxCachedText {
		text += "Холодные батареи, нет отопления в квартире. "
	}
	a := &appeal.Appeal{Text: text, Municipality: "Южный"}
	classify.ClassifyAppeal(eng, a)
	require.NotNil(t, a.Analysis)
	plain := *a
	plain.Analysis = nil
	assert.Equal(t, m.Predict(&plain), m.Predict(a))
	// Even an analysis that claims the head of the text is checked, not
	// trusted: a wrong one would change the decision.
	a.Analysis = &appeal.TextAnalysis{Text: text, StemHashes: []uint64{classify.HashString(classify.FNVOffset, "мусор")}}
	assert.Equal(t, m.Predict(&plain), m.Predict(a))
}

// The route engine with a model gives the same decisions with and without
// the classifier's stems.
func TestWithModelUsesAnalysis(t *testing.T) {
	e, err := route.ParseFile("testdata/rules.yaml")
	require.NoError(t, err)
	var ex []learn.Example
	for range 20 {
		ex = append(ex, learn.Example{Appeal: &appeal.Appeal{Text: "врач не принимает в поликлинике"}, Executor: "health"})
	}
	m, err := learn.Train(ex, learn.TrainConfig{})
	require.NoError(t, err)
	eng, err := classify.New()
	require.NoError(t, err)
	r := route.WithModel(e, m, 0.5)
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	a := &appeal.Appeal{Text: "в поликлинике не принимает врач"}
	classify.ClassifyAppeal(eng, a)
	require.NotNil(t, a.Analysis)
	plain := *a
	plain.Analysis = nil
	assert.Equal(t, r.Route(&plain, now), r.Route(a, now))
}
