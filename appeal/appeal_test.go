package appeal_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/storetest"
)

func full() appeal.Appeal {
	a := storetest.Sample("-1_77")
	a.Status = appeal.StatusAnswered
	a.Urgent = true
	a.IncidentID = "inc-9"
	a.Version = 4
	a.ID = appeal.NewID(a.Network, a.ExternalID)
	at := time.Date(2026, 1, 12, 8, 0, 0, 5, time.UTC)
	a.Assignment = &appeal.Assignment{Executor: "gkh", CoExecutors: []string{"centre"}, Deadline: at.Add(4 * time.Hour),
		Priority: appeal.PriorityCritical, RuleID: "r1", Tags: []string{"winter"}, Escalations: 1}
	a.Replies = []appeal.Reply{{ExternalID: "-1_78", URL: "https://vk.com/wall-1_78", Text: "Тел. 8 (4712) 51-22-33", By: "gkh", At: at}}
	a.History = []appeal.Event{{At: at, Actor: "pipeline", From: appeal.StatusNew, To: appeal.StatusRouted, Note: "r1"}}
	return a
}

func TestJSONRoundTripIsExact(t *testing.T) {
	a := full()
	data, err := json.Marshal(a)
	require.NoError(t, err)
	var back appeal.Appeal
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, a, back)
	// The classifier's cache is not data: it never reaches the wire.
	a.Analysis = &appeal.TextAnalysis{Text: a.Text, StemHashes: []uint64{7, 0, 9}}
	cached, err := json.Marshal(a)
	require.NoError(t, err)
	assert.Equal(t, string(data), string(cached))
	a.Analysis = nil
	again, err := json.Marshal(back)
	require.NoError(t, err)
	assert.Equal(t, string(data), string(again))
	// Field names are part of the wire format users store and exchange.
	for _, key := range []string{`"external_id":"-1_77"`, `"created_at":"2026-02-03T09:30:00.123456Z"`, `"status":"answered"`, `"rule_id":"r1"`, `"official":true`} {
		assert.Contains(t, string(data), key)
	}
}

func TestJSONOmitsEmpty(t *testing.T) {
	data, err := json.Marshal(appeal.Appeal{ID: "web:1", Network: appeal.NetworkWeb, ExternalID: "1", Text: "x", Status: appeal.StatusNew})
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"web:1","network":"web","kind":"","external_id":"1","text":"x","status":"new","version":0}`, string(data))
}

func TestNormalize(t *testing.T) {
	a := appeal.Appeal{Network: appeal.NetworkTelegram, ExternalID: "-100123:45", Text: "x"}
	require.NoError(t, a.Normalize())
	assert.Equal(t, appeal.ID("telegram:-100123:45"), a.ID)
	assert.Equal(t, appeal.StatusNew, a.Status)
	assert.Equal(t, appeal.KindPost, a.Kind)
	n, ext, ok := a.ID.Split()
	assert.True(t, ok)
	assert.Equal(t, appeal.NetworkTelegram, n)
	assert.Equal(t, "-100123:45", ext)

	bad := []struct {
		a     appeal.Appeal
		field string
	}{
		{appeal.Appeal{ExternalID: "1"}, "network"},
		{appeal.Appeal{Network: "v:k", ExternalID: "1"}, "network"},
		{appeal.Appeal{Network: "vk"}, "external_id"},
		{appeal.Appeal{Network: "vk", ExternalID: "1", ID: "vk:2"}, "id"},
		{appeal.Appeal{Network: "vk", ExternalID: "1", Kind: "story"}, "kind"},
		{appeal.Appeal{Network: "vk", ExternalID: "1", Status: "done"}, "status"},
	}
	for _, tc := range bad {
		err := tc.a.Normalize()
		var fe *appeal.FieldError
		require.ErrorAs(t, err, &fe, tc.field)
		assert.Equal(t, tc.field, fe.Field)
		assert.ErrorIs(t, err, appeal.ErrInvalid)
	}
}

func TestCloneIsDeep(t *testing.T) {
	a := full()
	c := a.Clone()
	c.Topics[0].Code = "changed"
	c.Assignment.Tags[0] = "changed"
	c.Geo.Lat = 0
	c.History[0].Note = "changed"
	assert.Equal(t, full(), a)
}

func TestRedacted(t *testing.T) {
	a := full()
	a.Text = "Звоните +7 (912) 345-67-89 или 89123456789, пишите ivan.petrov@mail.ru; дом 5, кв. 12"
	r := a.RedactedWith(appeal.RedactOptions{Key: []byte("region-46 secret")})
	assert.Empty(t, r.Author.Name)
	assert.Empty(t, r.Author.ProfileURL)
	assert.NotEqual(t, a.Author.ID, r.Author.ID)
	assert.Regexp(t, `^anon-[0-9a-f]{16}$`, r.Author.ID)
	assert.Equal(t, r.Author.ID, a.RedactedWith(appeal.RedactOptions{Key: []byte("region-46 secret")}).Author.ID, "stable pseudonym")
	assert.NotEqual(t, r.Author.ID, a.RedactedWith(appeal.RedactOptions{Key: []byte("other secret")}).Author.ID, "keyed")
	assert.Equal(t, "Звоните [телефон] или [телефон], пишите [email]; дом 5, кв. 12", r.Text)
	assert.Equal(t, "Тел. [телефон]", r.Replies[0].Text)
	a.History = append(a.History, appeal.Event{Note: "edited; was: звоните 89123456789"})
	r = a.RedactedWith(appeal.RedactOptions{Key: []byte("region-46 secret")})
	assert.Equal(t, "edited; was: звоните [телефон]", r.History[len(r.History)-1].Note, "history notes may quote old text")
	assert.Equal(t, "Иван Петров", a.Author.Name, "the original is untouched")
	kept := a.RedactedWith(appeal.RedactOptions{KeepText: true})
	assert.Equal(t, a.Text, kept.Text)
	// The classifier's cache is derived from the clear text (a phone
	// number's digits are stemmed too): a redacted copy never carries it.
	a.Analysis = &appeal.TextAnalysis{Text: a.Text, StemHashes: []uint64{1, 0}}
	assert.Nil(t, a.Redacted().Analysis)
	assert.Nil(t, a.RedactedWith(appeal.RedactOptions{KeepText: true}).Analysis)
	assert.NotNil(t, a.Analysis, "the original keeps it")
	assert.Same(t, a.Analysis, a.Clone().Analysis, "a copy shares the immutable cache")
}

func TestTextAnalysisFor(t *testing.T) {
	a := appeal.Appeal{Text: "яма на дороге"}
	ta := &appeal.TextAnalysis{Text: a.Text, StemHashes: []uint64{1, 2, 3}}
	assert.Same(t, ta, ta.For(a.Text))
	assert.Nil(t, ta.For("яма на дороге!"), "made from another text: stale")
	assert.Nil(t, ta.For(""))
	var none *appeal.TextAnalysis
	assert.Nil(t, none.For(a.Text))
}

func TestRedactTextPhones(t *testing.T) {
	for in, want := range map[string]string{
		"+7 (912) 345-67-89":             "[телефон]",
		"+79123456789":                   "[телефон]",
		"8-912-345-67-89":                "[телефон]",
		"тел 8 (4712) 51-22-33, звоните": "тел [телефон], звоните",
		"мой 9123456789":                 "мой [телефон]",
		"диспетчер 51-22-33":             "диспетчер [телефон]",
		"дом 15, кв. 8, 2023 год":        "дом 15, кв. 8, 2023 год",
		"с 8 до 17 часов":                "с 8 до 17 часов",
		"пишите на a.b@mail.ru":          "пишите на [email]",
	} {
		assert.Equal(t, want, appeal.RedactText(in), in)
	}
}

func TestLogNeverShowsAuthor(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	a := full()
	log.Info("stored", "appeal", a, "author", a.Author)
	out := buf.String()
	assert.NotContains(t, out, a.Author.Name)
	assert.NotContains(t, out, a.Author.ID)
	assert.NotContains(t, out, a.Text)
	assert.Contains(t, out, `"id":"vk:-1_77"`)
	assert.Contains(t, out, "[redacted]")
	assert.NotContains(t, a.Author.String(), "Иван")
}

func TestTopTopicAndPriority(t *testing.T) {
	a := appeal.Appeal{Topics: []appeal.TopicScore{{"roads", 0.2}, {"snow", 0.7}, {"garbage", 0.1}}}
	assert.Equal(t, "snow", a.TopTopic())
	assert.Equal(t, "", (&appeal.Appeal{}).TopTopic())
	assert.Less(t, appeal.PriorityNormal.Rank(), appeal.PriorityCritical.Rank())
	assert.Zero(t, appeal.Priority("urgent!").Rank())
}

func TestMatchesTopic(t *testing.T) {
	a := appeal.Appeal{Topics: []appeal.TopicScore{{Code: "housing.heating", Score: 0.8}, {Code: "roads", Score: 0.2}}}
	assert.True(t, a.MatchesTopic("housing"))
	assert.True(t, a.MatchesTopic("housing.heating"))
	assert.True(t, a.MatchesTopic("roads"))
	assert.False(t, a.MatchesTopic("housing.heat"))
	assert.False(t, a.MatchesTopic("road"))
	assert.False(t, a.MatchesTopic("housing.heating.night"))
	assert.False(t, a.HasTopic("housing"), "HasTopic stays exact")
}

func TestValidateAndCleanText(t *testing.T) {
	a := appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "1", Text: "яма\x00 на \xffдороге"}
	err := a.Normalize()
	var fe *appeal.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "text", fe.Field)
	assert.Contains(t, fe.Msg, "offset 6")
	a.Text = appeal.CleanText(a.Text)
	assert.Equal(t, "яма на \uFFFDдороге", a.Text)
	require.NoError(t, a.Normalize())
	assert.Equal(t, "уже чисто", appeal.CleanText("уже чисто"))
}
