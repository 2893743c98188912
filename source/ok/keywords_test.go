package ok

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/adaptertest"
)

func TestKeywordsMatch(t *testing.T) {
	kw, err := parseKeywords([]string{"мусор", "Контейнер", "карла маркса", "ёлк"})
	require.NoError(t, err)
	for text, want := range map[string]bool{
		"Не вывозят МУСОР третий день":        true,
		"Мусоропровод засорён":                true,
		"Контейнеры переполнены":              true,
		"Темно на улице Карла Маркса":         true,
		"Темно на улице Маркса, у дома Карла": false,
		"На площади нет елки":                 true, // ё and е are one letter here
		"Яма на дороге":                       false,
		"Вопрос про антимусорную кампанию":    false, // a keyword starts a word
	} {
		assert.Equal(t, want, kw.match(text), text)
	}
	assert.True(t, keywords(nil).match("что угодно"), "no keywords keep everything")
	_, err = parseKeywords([]string{"мусор", " !? "})
	assert.ErrorContains(t, err, "Config.Keywords[1]")
}

// Keyword search over what the Source reads: only the topic and the comment
// that mention lighting or containers are delivered; the cursor passes the
// others, so a restart delivers nothing again.
func TestKeywordsFilterAppeals(t *testing.T) {
	f := newFakeOK(t)
	f.seed(t)
	cp := source.NewMemoryCheckpoints()
	cfg := testConfig(f, cp)
	cfg.Keywords = []string{"освещени", "контейнер"}
	s, err := New(cfg)
	require.NoError(t, err)
	rec := &adaptertest.Sink{}
	require.NoError(t, runUntil(t, s, rec.Sink, func() bool { return len(rec.Appeals()) >= 2 }))
	got := rec.Appeals()
	require.Len(t, got, 2, "%v", ids(got))
	kinds := map[appeal.Kind]bool{}
	for _, a := range got {
		kinds[a.Kind] = true
	}
	assert.True(t, kinds[appeal.KindPost] && kinds[appeal.KindComment], "one topic and one comment: %v", ids(got))

	again := &adaptertest.Sink{}
	s, err = New(cfg)
	require.NoError(t, err)
	require.NoError(t, runUntil(t, s, again.Sink, func() bool { return f.callCount("mediatopic.getTopics") > 4 }))
	assert.Empty(t, again.Appeals())
}
