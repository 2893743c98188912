package report_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/report"
	"github.com/appealkit/appealkit/appeal/stats"
)

func loopAppeals() []appeal.Appeal {
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	mk := func(id, exec string, first time.Duration, r appeal.Reaction) appeal.Appeal {
		a := appeal.Appeal{ID: appeal.ID("vk:" + id), Network: "vk", ExternalID: id, CreatedAt: t0, Municipality: "Курский район",
			Assignment: &appeal.Assignment{Executor: exec, Deadline: t0.Add(8 * time.Hour)}, Status: appeal.StatusAnswered,
			Topics: []appeal.TopicScore{{Code: "roads", Score: 1}}}
		a.Replies = []appeal.Reply{{Text: "Яму заделали 3 ноября, подрядчик ООО «Дорстрой».", At: t0.Add(first), Kind: appeal.AnswerFinal, Reaction: r}}
		a.Promised = t0.Add(48 * time.Hour)
		return a
	}
	return []appeal.Appeal{
		mk("1", "kursky-admin", 2*time.Hour, appeal.ReactionThanks),
		mk("2", "kursky-admin", 30*time.Hour, appeal.ReactionNotSolved),
		mk("3", "roads-committee", 5*time.Hour, ""),
	}
}

func TestHTMLNamesRatingsAndEmptySections(t *testing.T) {
	as := loopAppeals()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	r := stats.FromSlice(as, stats.Config{Now: now})
	names := map[string]string{"kursky-admin": "Администрация Курского района", "roads-committee": "Комитет транспорта и автомобильных дорог"}
	var b bytes.Buffer
	require.NoError(t, report.WriteHTML(&b, r, report.Options{ExecutorNames: names, Ratings: stats.Rate(as, stats.RatingConfig{Now: now})}))
	page := b.String()
	for _, id := range []string{"kursky-admin", "roads-committee"} {
		assert.NotContains(t, page, ">"+id+"<", "executor ids never shown")
	}
	assert.Contains(t, page, "Администрация Курского района")
	assert.Contains(t, page, `id="table-rating-executors"`)
	assert.Contains(t, page, `id="table-rating-municipalities"`)
	assert.Contains(t, page, "ноябрь 2026")
	assert.Contains(t, page, `id="kpi-first-answer"`)
	assert.Contains(t, page, "Заявители благодарят")
	// roads-committee has one appeal: shown, not ranked.
	assert.Regexp(t, `<td>вне рейтинга</td><td>Комитет транспорта и автомобильных дорог</td>`, page)
	// No reaction for roads-committee: no data, not «0.0».
	row := regexp.MustCompile(`<tr><td>ноябрь 2026</td><td>вне рейтинга</td><td>Комитет[^\n]*</tr>`).FindString(page)
	require.NotEmpty(t, row)
	assert.True(t, strings.HasSuffix(row, "<td>нет данных</td></tr>"), row)

	// An empty report says so instead of showing 0.0 %.
	b.Reset()
	require.NoError(t, report.WriteHTML(&b, stats.FromSlice(nil, stats.Config{Now: now}), report.Options{Ratings: stats.Rate(nil, stats.RatingConfig{Now: now})}))
	page = b.String()
	assert.NotContains(t, page, ">0.0<")
	assert.Contains(t, page, `<p class="empty" id="table-rating-executors">Нет данных за период.</p>`)
	assert.Regexp(t, `id="kpi-ontime".*?<span class="value"[^>]*>нет данных</span>`, page)
}

func TestStatusNames(t *testing.T) {
	for _, s := range appeal.AllStatuses() {
		n := report.StatusName(s)
		assert.NotEqual(t, string(s), n, "status %s has a Russian name", s)
	}
}
