package appealkit_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
)

func regionEngine(t testing.TB) *route.Engine {
	t.Helper()
	e, err := route.Parse(bytes.NewReader(rules.Region), "region.yaml")
	require.NoError(t, err)
	return e
}

func TestClassifyKeepsOnlyMeaningfulTopics(t *testing.T) {
	c, err := classify.New()
	require.NoError(t, err)
	stage := appealkit.Classify(c, appealkit.ClassifyOptions{})
	a := appeal.Appeal{Text: "Третью неделю не вывозят мусор с контейнерной площадки, баки переполнены, крысы бегают"}
	require.NoError(t, stage.ClassifyAppeal(context.Background(), &a))
	assert.Equal(t, "garbage", a.TopTopic())
	for _, tp := range a.Topics {
		if tp.Code != "garbage" {
			assert.GreaterOrEqual(t, tp.Score, appealkit.DefaultMinTopicScore, tp.Code)
		}
	}
	assert.False(t, a.Noise)

	all := appealkit.Classify(c, appealkit.ClassifyOptions{MinTopicScore: -1})
	b := appeal.Appeal{Text: a.Text}
	require.NoError(t, all.ClassifyAppeal(context.Background(), &b))
	assert.GreaterOrEqual(t, len(b.Topics), len(a.Topics))

	thanks := appeal.Appeal{Text: "Спасибо большое администрации за новую детскую площадку! Дети в восторге"}
	require.NoError(t, stage.ClassifyAppeal(context.Background(), &thanks))
	assert.True(t, thanks.Noise, "thanks are not an appeal")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, stage.ClassifyAppeal(ctx, &appeal.Appeal{Text: "x"}), context.Canceled)
}

func TestRouteAdapter(t *testing.T) {
	r := appealkit.Route(regionEngine(t), appealkit.RouteOptions{})
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) // Monday 12:00 in Moscow
	ctx := context.Background()

	pothole := appeal.Appeal{Text: "яма", Municipality: "Курский район", Topics: []appeal.TopicScore{{Code: "roads", Score: 0.9}}}
	d, err := r.RouteAppeal(ctx, &pothole, now)
	require.NoError(t, err)
	require.NotNil(t, d.Assignment)
	assert.Equal(t, appeal.StatusRouted, d.To)
	assert.Equal(t, "kursky-admin", d.Assignment.Executor)
	assert.Equal(t, "kursky-roads", d.Assignment.RuleID)
	assert.Equal(t, "rule kursky-roads", d.Note)
	assert.True(t, now.Add(24*time.Hour).Equal(d.Assignment.Deadline), "one working day from Monday noon, got %s", d.Assignment.Deadline)

	noise := appeal.Appeal{Text: "С праздником!", Noise: true}
	d, err = r.RouteAppeal(ctx, &noise, now)
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusRejected, d.To)
	assert.Nil(t, d.Assignment)

	kept, err := appealkit.Route(regionEngine(t), appealkit.RouteOptions{KeepNoise: true}).RouteAppeal(ctx, &noise, now)
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusRouted, kept.To)
	assert.Equal(t, "cur-duty", kept.Assignment.Executor, "the fallback takes what no rule claims")

	spam := appeal.Appeal{Text: "Быстрый заработок в интернете, пишите в личку"}
	d, err = r.RouteAppeal(ctx, &spam, now)
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusRejected, d.To)
	assert.Equal(t, "rejected by rule spam", d.Note)
}

// scoredClassifier returns fixed topics: a street light by a school, with a
// trace of "education".
type scoredClassifier struct{}

func (scoredClassifier) Classify(string) classify.Result {
	return classify.Result{IsAppeal: true, Topics: []classify.Topic{{Code: "landscaping.lighting", Score: 0.9}, {Code: "education", Score: 0.02}, {Code: classify.OtherTopic, Score: 0.05}}}
}

// The direct path (classify.ClassifyAppeal) and the pipeline's adapter keep
// the same topics, so «Не горит фонарь возле школы» never reaches the
// education committee on a 0.02 score.
func TestClassifyOnePath(t *testing.T) {
	e := regionEngine(t)
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	for _, c := range []classify.Classifier{scoredClassifier{}, mustEngine(t)} {
		direct := appeal.Appeal{Text: "Не горит фонарь возле школы", Municipality: "Курский район"}
		classify.ClassifyAppeal(c, &direct)
		piped := appeal.Appeal{Text: direct.Text, Municipality: direct.Municipality}
		require.NoError(t, appealkit.Classify(c, appealkit.ClassifyOptions{}).ClassifyAppeal(context.Background(), &piped))
		assert.Equal(t, direct.Topics, piped.Topics)
		assert.Equal(t, direct.Noise, piped.Noise)
		// Both leave the text's stems for a learned router alike.
		assert.Equal(t, direct.Analysis, piped.Analysis)
		assert.False(t, direct.HasTopic("education"), "%+v", direct.Topics)
		assert.NotEqual(t, "education-committee", e.Route(&direct, now).Executor)
	}
	// Noise is marked on the direct path too.
	a := appeal.Appeal{Text: "Спасибо!"}
	classify.ClassifyAppeal(noiseClassifier{}, &a)
	assert.True(t, a.Noise)
}

type noiseClassifier struct{}

func (noiseClassifier) Classify(string) classify.Result { return classify.Result{IsAppeal: false} }

func mustEngine(t *testing.T) *classify.Engine {
	c, err := classify.New()
	require.NoError(t, err)
	return c
}

// fixedPredictor always names one executor with one confidence.
type fixedPredictor route.Prediction

func (p fixedPredictor) Predict(*appeal.Appeal) route.Prediction { return route.Prediction(p) }

// The pipeline's Route adapter takes rules plus a learned router, and its
// note says when the model decided.
func TestRouteWithModel(t *testing.T) {
	e := regionEngine(t)
	r := route.WithModel(e, fixedPredictor{Executor: "education-committee", Confidence: 0.97, Support: 12}, 0.9)
	stage := appealkit.Route(r, appealkit.RouteOptions{})
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	d, err := stage.RouteAppeal(context.Background(), &appeal.Appeal{Text: "вопрос", Topics: []appeal.TopicScore{{Code: "roads", Score: 0.9}}}, now)
	require.NoError(t, err)
	assert.Equal(t, "education-committee", d.Assignment.Executor)
	assert.Contains(t, d.Note, "learned router (0.97, history of 12 similar appeals) where rule roads allows it")
}

// The engines are the pipeline's ports themselves, and agree with the
// adapters' defaults.
func TestEnginesAreThePorts(t *testing.T) {
	var (
		_ appealkit.AppealClassifier = (*classify.Engine)(nil)
		_ appealkit.AppealRouter     = (*route.Engine)(nil)
		_ appealkit.AppealRouter     = (*route.Reloader)(nil)
		_ appealkit.AppealRouter     = (*route.LearnedRouter)(nil)
	)
	ctx := context.Background()
	cls := mustEngine(t)
	rules := regionEngine(t)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, text := range []string{
		"В Курском районе на дороге огромная яма, пробили колесо",
		"С праздником!",
		"Быстрый заработок в интернете, пишите в личку",
		"Третью неделю не вывозят мусор во дворе",
	} {
		direct, adapted := appeal.Appeal{Text: text}, appeal.Appeal{Text: text}
		require.NoError(t, cls.ClassifyAppeal(ctx, &direct))
		require.NoError(t, appealkit.Classify(cls, appealkit.ClassifyOptions{}).ClassifyAppeal(ctx, &adapted))
		assert.Equal(t, adapted, direct, text)

		want, err := appealkit.Route(rules, appealkit.RouteOptions{}).RouteAppeal(ctx, &adapted, now)
		require.NoError(t, err)
		got, err := rules.RouteAppeal(ctx, &direct, now)
		require.NoError(t, err)
		assert.Equal(t, want, got, text)
		got, err = route.NewReloader(rules).RouteAppeal(ctx, &direct, now)
		require.NoError(t, err)
		assert.Equal(t, want, got, text)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, cls.ClassifyAppeal(cancelled, &appeal.Appeal{Text: "яма"}), context.Canceled)
	_, err := rules.RouteAppeal(cancelled, &appeal.Appeal{Text: "яма"}, now)
	assert.ErrorIs(t, err, context.Canceled)
}
