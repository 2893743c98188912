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
	assert.False(t, d.Reject)
	assert.Equal(t, "kursky-admin", d.Assignment.Executor)
	assert.Equal(t, "kursky-roads", d.Assignment.RuleID)
	assert.Equal(t, "rule kursky-roads", d.Note)
	assert.True(t, now.Add(24*time.Hour).Equal(d.Assignment.Deadline), "one working day from Monday noon, got %s", d.Assignment.Deadline)

	noise := appeal.Appeal{Text: "С праздником!", Noise: true}
	d, err = r.RouteAppeal(ctx, &noise, now)
	require.NoError(t, err)
	assert.True(t, d.Reject)
	assert.Nil(t, d.Assignment)

	kept, err := appealkit.Route(regionEngine(t), appealkit.RouteOptions{KeepNoise: true}).RouteAppeal(ctx, &noise, now)
	require.NoError(t, err)
	assert.False(t, kept.Reject)
	assert.Equal(t, "cur-duty", kept.Assignment.Executor, "the fallback takes what no rule claims")

	spam := appeal.Appeal{Text: "Быстрый заработок в интернете, пишите в личку"}
	d, err = r.RouteAppeal(ctx, &spam, now)
	require.NoError(t, err)
	assert.True(t, d.Reject)
	assert.Equal(t, "rejected by rule spam", d.Note)
}
