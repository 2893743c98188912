package learn_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/route/learn"
)

const thresholdRules = `
executors:
  - {id: duty, name: Оператор}
  - {id: roads, name: Дорожный комитет}
  - {id: health, name: Комитет здравоохранения}
  - {id: north-ja, name: ЖА Северного района}
fallback: {executor: duty}
rules:
  - {id: north-housing, when: {municipality: Северный, topics: [housing]}, executor: north-ja, learned: true}
  - {id: roads, when: {topics: [roads]}, executor: roads}
`

// thresholdHistory: clinics fall to the fallback but the health committee
// answers them; northern housing is the rule's and history agrees; roads
// are an explicit rule's.
func thresholdHistory() []learn.Record {
	var recs []learn.Record
	for i := range 40 {
		recs = append(recs,
			learn.Record{Text: fmt.Sprintf("Врач не принимает в поликлинике номер %d, запись закрыта", i), Executor: "Комитет здравоохранения"},
			learn.Record{Text: "Течёт крыша, управляющая компания не отвечает", Topic: "housing", Municipality: "Северный", Executor: "ЖА Северного района"},
			learn.Record{Text: "Яма на дороге", Topic: "roads", Executor: "Дорожный комитет"},
		)
	}
	return recs
}

func TestRuleThresholds(t *testing.T) {
	e, err := route.Parse(strings.NewReader(thresholdRules), "rules.yaml")
	require.NoError(t, err)
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	recs := thresholdHistory()
	thr := learn.RuleThresholds(learn.Check(e, recs, now), 5)
	assert.Equal(t, map[string]float64{"fallback": 0, "north-housing": 1, "roads": 1}, thr)
	assert.Empty(t, learn.RuleThresholds(learn.Check(e, recs[:9], now), 5), "3 appeals a rule are too few")

	m, err := learn.Train(learn.Examples(recs, learn.NewResolver(e)), learn.TrainConfig{})
	require.NoError(t, err)
	m = m.WithThresholds(thr)
	r := route.WithModel(e, m, 0).WithRuleThresholds(m.Thresholds())
	d := r.RouteExplain(&appeal.Appeal{Text: "в поликлинике врач не принимает"}, now)
	assert.True(t, d.Learned)
	assert.Equal(t, "health", d.Executor)
	d = r.RouteExplain(&appeal.Appeal{Text: "течёт крыша", Municipality: "Северный", Topics: []appeal.TopicScore{{Code: "housing", Score: 1}}}, now)
	assert.False(t, d.Learned, "the rule was always right: the model needs a confidence of 1")
	assert.Equal(t, "north-ja", d.Executor)
	assert.Contains(t, d.Trace[len(d.Trace)-1].Why, "below the threshold 1.00")
}

// A router made from a Reloader applies the rules in force: after a swap
// to rules that send clinics to an explicit rule, the model is not asked.
func TestReloaderWithModel(t *testing.T) {
	e, err := route.Parse(strings.NewReader(thresholdRules), "rules.yaml")
	require.NoError(t, err)
	m, err := learn.Train(learn.Examples(thresholdHistory(), learn.NewResolver(e)), learn.TrainConfig{})
	require.NoError(t, err)
	rel := route.NewReloader(e)
	r := rel.WithModel(m, 0.5)
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	clinic := &appeal.Appeal{Text: "в поликлинике врач не принимает", Topics: []appeal.TopicScore{{Code: "healthcare", Score: 1}}}
	d := r.Route(clinic, now)
	require.True(t, d.Learned)
	require.Equal(t, "health", d.Executor)

	e2, err := route.Parse(strings.NewReader(thresholdRules+"  - {id: clinics, when: {topics: [healthcare]}, executor: duty}\n"), "rules.yaml")
	require.NoError(t, err)
	rel.Swap(e2)
	assert.Same(t, e2, r.Engine())
	d = r.Route(clinic, now)
	assert.False(t, d.Learned)
	assert.Equal(t, "clinics", d.RuleID)
	assert.Equal(t, "duty", d.Executor)
}

// The thresholds travel in the model's file; a version 1 file (without
// them) still loads.
func TestModelThresholdsSaveLoad(t *testing.T) {
	m, err := learn.Train(history(), learn.TrainConfig{})
	require.NoError(t, err)
	var plain bytes.Buffer
	require.NoError(t, m.Save(&plain))
	withT := m.WithThresholds(map[string]float64{"roads": 0.7, "fallback": 0.25})
	assert.Nil(t, m.Thresholds(), "WithThresholds returns a copy")
	var buf bytes.Buffer
	require.NoError(t, withT.Save(&buf))
	m2, err := learn.LoadModel(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, withT.Thresholds(), m2.Thresholds())
	a := &appeal.Appeal{Text: "яма на дороге", Municipality: "Северный"}
	assert.Equal(t, m.Predict(a), m2.Predict(a))

	// Version 1: the same payload without the thresholds' count.
	le := binary.LittleEndian
	v2 := plain.Bytes()
	payload := v2[8+4+8 : len(v2)-4]
	v1 := append([]byte(nil), v2[:8]...)
	v1 = le.AppendUint32(v1, 1)
	v1 = le.AppendUint64(v1, uint64(len(payload)))
	v1 = append(v1, payload...)
	m1, err := learn.LoadModel(bytes.NewReader(v1))
	require.NoError(t, err)
	assert.Nil(t, m1.Thresholds())
	assert.Equal(t, m.Predict(a), m1.Predict(a))

	// A threshold out of range is a corrupt file.
	bad := m.WithThresholds(map[string]float64{"roads": 7})
	buf.Reset()
	require.NoError(t, bad.Save(&buf))
	_, err = learn.LoadModel(bytes.NewReader(buf.Bytes()))
	assert.ErrorIs(t, err, learn.ErrCorruptModel)
	assert.ErrorContains(t, err, `rule "roads"`)
}
