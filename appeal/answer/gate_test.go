package answer_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
)

type gateSet struct {
	Appeals map[string]struct {
		Topic string `yaml:"topic"`
		Text  string `yaml:"text"`
	} `yaml:"appeals"`
	Cases   []gateCase `yaml:"cases"`
	Holdout []gateCase `yaml:"holdout"`
}

type gateCase struct {
	Appeal string   `yaml:"appeal"`
	Kind   string   `yaml:"kind"`
	Answer string   `yaml:"answer"`
	Bad    []string `yaml:"bad"`
}

// floors are the least precision and recall each check must keep on the
// labelled set (testdata/gate.yaml).
var floors = map[answer.Check][2]float64{
	answer.CheckFormal:       {0.85, 0.85},
	answer.CheckRude:         {0.85, 0.85},
	answer.CheckBureaucratic: {0.80, 0.80},
	answer.CheckPersonalData: {0.85, 0.85},
	answer.CheckOffTopic:     {0.80, 0.80},
	answer.CheckEmptyPromise: {0.80, 0.80},
}

// TestGateOnLabelledSet measures every check's precision and recall on
// the labelled answers and enforces the floors, on the cases the checks
// were tuned on and on the held-out ones together. Run with -v to see the
// tables.
func TestGateOnLabelledSet(t *testing.T) {
	b, err := os.ReadFile("testdata/gate.yaml")
	require.NoError(t, err)
	var set gateSet
	require.NoError(t, yaml.Unmarshal(b, &set))
	require.GreaterOrEqual(t, len(set.Cases), 60)
	require.GreaterOrEqual(t, len(set.Holdout), 20)
	t.Run("tuned", func(t *testing.T) { measureGate(t, &set, set.Cases, false) })
	t.Run("holdout", func(t *testing.T) { measureGate(t, &set, set.Holdout, false) })
	t.Run("all", func(t *testing.T) { measureGate(t, &set, append(slices.Clone(set.Cases), set.Holdout...), true) })
}

func measureGate(t *testing.T, set *gateSet, cases []gateCase, enforce bool) {
	g := answer.NewGate(answer.GateConfig{AllowedContacts: []string{"+7 (4712) 70-11-22"}})
	type counts struct{ tp, fp, fn int }
	per := map[answer.Check]*counts{}
	for _, c := range answer.AllChecks() {
		per[c] = &counts{}
	}
	okRight := 0
	for i, c := range cases {
		ap, ok := set.Appeals[c.Appeal]
		require.True(t, ok, "case %d: unknown appeal %q", i+1, c.Appeal)
		a := &appeal.Appeal{Text: ap.Text, Topics: []appeal.TopicScore{{Code: ap.Topic, Score: 1}}}
		var got []string
		for _, is := range g.Check(a, appeal.AnswerKind(c.Kind), c.Answer) {
			got = append(got, string(is.Check))
			assert.NotEmpty(t, is.Reason)
		}
		for _, ch := range answer.AllChecks() {
			want, have := slices.Contains(c.Bad, string(ch)), slices.Contains(got, string(ch))
			switch {
			case want && have:
				per[ch].tp++
			case have:
				per[ch].fp++
				t.Logf("false %s: case %d %q", ch, i+1, c.Answer)
			case want:
				per[ch].fn++
				t.Logf("missed %s: case %d %q", ch, i+1, c.Answer)
			}
		}
		if (len(got) == 0) == (len(c.Bad) == 0) {
			okRight++
		}
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-14s %4s %4s %4s %9s %7s\n", "check", "tp", "fp", "fn", "precision", "recall")
	for _, ch := range answer.AllChecks() {
		c := per[ch]
		p, r := ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn)
		fmt.Fprintf(&table, "%-14s %4d %4d %4d %9.2f %7.2f\n", ch, c.tp, c.fp, c.fn, p, r)
		if enforce {
			assert.GreaterOrEqual(t, p, floors[ch][0], "%s precision", ch)
			assert.GreaterOrEqual(t, r, floors[ch][1], "%s recall", ch)
		}
	}
	fmt.Fprintf(&table, "fit-to-publish verdict right on %d of %d answers", okRight, len(cases))
	t.Log("\n" + table.String())
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
