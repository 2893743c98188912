package classify

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
)

func TestRussianCities(t *testing.T) {
	cs := RussianCities()
	require.Len(t, cs, 1117)
	byName := map[string][]City{}
	for _, c := range cs {
		byName[c.Name] = append(byName[c.Name], c)
	}
	lgov := byName["Льгов"]
	require.Len(t, lgov, 1)
	assert.Equal(t, City{Name: "Льгов", Municipality: "город Льгов", Region: "Курская область", OKTMO: "38710000001", UTCOffset: 3}, lgov[0])
	assert.Equal(t, "Обоянский район", byName["Обоянь"][0].Municipality)
	assert.Equal(t, "город Москва", byName["Москва"][0].Region)
	assert.Len(t, byName["Железногорск"], 2)
	assert.Equal(t, "UTC+7", byName["Норильск"][0].Location().String())
}

func TestCountryGazetteerOutOfTheBox(t *testing.T) {
	e, err := New()
	require.NoError(t, err)
	for _, tc := range []struct{ text, muni, region string }{
		{"Во дворе дома в Льгове третий день не вывозят мусор", "город Льгов", "Курская область"},
		{"Жители из Льгова жалуются на дорогу", "город Льгов", "Курская область"},
		{"В Курске на улице яма", "город Курск", "Курская область"},
		{"г. Обоянь, нет воды", "Обоянский район", "Курская область"},
		// Железногорск is in two regions: the text's region decides.
		{"г. Железногорск Курской области, нет света", "город Железногорск", "Курская область"},
		{"г. Железногорск Красноярского края, нет света", "город Железногорск", "Красноярский край"},
	} {
		r := e.Classify(tc.text)
		a := appeal.Appeal{Text: tc.text}
		r.Apply(&a)
		assert.Equal(t, tc.muni, a.Municipality, tc.text)
		if assert.NotEmpty(t, r.Places, tc.text) {
			assert.Equal(t, tc.region, r.Places[0].Region, tc.text)
			want := "UTC+3"
			if tc.region == "Красноярский край" {
				want = "UTC+7"
			}
			assert.Equal(t, want, r.Places[0].TimeZone, tc.text)
		}
	}
	// Without a region, an ambiguous name stays unresolved.
	r := e.Classify("г. Железногорск, нет света")
	assert.Empty(t, r.Municipality())
	// With the deployment's region it resolves there.
	ek, err := New(WithRegion("Курская область"))
	require.NoError(t, err)
	r = ek.Classify("г. Железногорск, нет света")
	assert.Equal(t, "город Железногорск", r.Municipality())
	assert.Equal(t, "Курская область", r.Places[0].Region)
	// Ordinary words that are city names, without a cue, and district or
	// region adjectives are not cities.
	for _, text := range []string{"Орел сидит на заборе", "мирный житель", "в Советском районе нет света", "в Курской области дороги плохие"} {
		r := e.Classify(text)
		assert.Empty(t, r.Places, text)
	}
	// Off when asked.
	en, err := New(WithoutCountryGazetteer())
	require.NoError(t, err)
	assert.Empty(t, en.Classify("в Льгове нет воды").Places)
}

// A region's own list layers on top: its municipality wins.
func TestCountryUnderRegionList(t *testing.T) {
	g, err := NewGazetteer([]Municipality{{Name: "Льговский район", Settlements: []string{"село Ольшанка"}}})
	require.NoError(t, err)
	e, err := New(WithGazetteer(g))
	require.NoError(t, err)
	assert.Equal(t, "Льговский район", e.Classify("в селе Ольшанка под Льговом нет воды").Municipality())
	assert.Equal(t, "город Льгов", e.Classify("в Льгове нет воды").Municipality())
}

func TestMunicipalityLocation(t *testing.T) {
	assert.Equal(t, "UTC+7", MunicipalityLocation("город Красноярск").String())
	assert.Equal(t, "UTC+3", MunicipalityLocation("город Льгов").String())
	assert.Nil(t, MunicipalityLocation("Нигде"))
}

// regionsInByScan is regionsIn as it was before the first-stem index:
// every region compared at every position. The index must find the same.
func regionsInByScan(g *Gazetteer, stems []string) map[string]bool {
	var out map[string]bool
	for _, r := range g.regions {
		for i := 0; i+len(r.stems) <= len(stems); i++ {
			if !slices.Equal(stems[i:i+len(r.stems)], r.stems) {
				continue
			}
			end := i + len(r.stems)
			if r.typ != nil && !(end < len(stems) && slices.Contains(r.typ, stems[end])) && !(i > 0 && slices.Contains(r.typ, stems[i-1])) {
				continue
			}
			if out == nil {
				out = map[string]bool{}
			}
			out[r.region] = true
			break
		}
	}
	return out
}

func TestRegionsInIndexMatchesScan(t *testing.T) {
	g, err := defaultCountry()
	require.NoError(t, err)
	texts := []string{
		"г. Железногорск Курской области, нет света",
		"Курская область, Красноярский край и область Курская; республика Татарстан",
		"Москва, Санкт-Петербург, Ханты-Мансийский автономный округ — Югра",
		"курской красноярского края области края",
		"",
	}
	// Every region's name with and without its type word, run together.
	var all []string
	for _, r := range g.regions {
		all = append(all, r.region, strings.Join(r.stems, " "))
	}
	texts = append(texts, strings.Join(all, " "))
	matched := 0
	for _, text := range texts {
		a := getAnalysis()
		a.run(text, g.cache)
		want := regionsInByScan(g, a.stems)
		assert.Equal(t, want, g.regionsIn(a.stems), text)
		matched += len(want)
		putAnalysis(a)
	}
	assert.Greater(t, matched, 80, "the texts name most regions")
}
