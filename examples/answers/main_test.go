package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnswersRunsTheLoop(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-show", "3"}, &out))
	text := out.String()

	// Every step is printed.
	assert.Contains(t, text, "черновик по шаблону")
	assert.Contains(t, text, "Исполнитель — Администрация Курского района. Срок решения — до 8 декабря (10 рабочих дней).")
	assert.Contains(t, text, "модератор согласовал") // ЖКХ answers need a moderator
	assert.Contains(t, text, "✗ Похоже на отписку")
	assert.Contains(t, text, "✗ Канцелярит")
	assert.Contains(t, text, "from_group=100")

	// Published counts add up: VK + portal = published; OK and Telegram
	// have no channel here and go back to the operator.
	m := regexp.MustCompile(`опубликовано: (\d+) \(ВКонтакте: (\d+) от имени сообщества, портал: (\d+)\), возвращено оператору: (\d+)`).FindStringSubmatch(text)
	require.NotNil(t, m, text)
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	assert.Equal(t, n(1), n(2)+n(3))
	assert.Positive(t, n(2))
	assert.Positive(t, n(3))
	assert.Equal(t, 15, n(4))

	// The injected crash: one more VK call than comments, nothing lost.
	c := regexp.MustCompile(`после сбоя: запросов к ВКонтакте (\d+), комментариев (\d+)`).FindStringSubmatch(text)
	require.NotNil(t, c, text)
	calls, _ := strconv.Atoi(c[1])
	comments, _ := strconv.Atoi(c[2])
	assert.Equal(t, comments+1, calls)
	assert.Equal(t, n(2), comments)

	// Reactions: thanks kept, «ничего не сделано» reopens.
	assert.Regexp(t, `«Спасибо, что так быстро взялись!» → благодарность`, text)
	assert.Regexp(t, `ничего не сделано, всё как было\.» → проблема не решена; статус: возобновлено`, text)

	// Ratings show executors by their Russian names, never ids.
	assert.Contains(t, text, "Администрация Льговского района")
	assert.Contains(t, text, "вне рейтинга")
	assert.NotRegexp(t, `(?m)^\s+\d+\s+[a-z-]+-admin\s`, text)
}
