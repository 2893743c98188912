package classify

import (
	"errors"
	"strings"
	"testing"
)

func testGazetteer(t *testing.T) *Gazetteer {
	t.Helper()
	g, err := NewGazetteer([]Municipality{
		{Name: "Скопинский район", Settlements: []string{"Захарово", "село Горлово", "Старая Слобода"}, Streets: []string{"улица Ленина", "Полевая"}},
		{Name: "Курск", Aliases: []string{"город Курск"}, Streets: []string{"ул. Ленина", "проспект Победы", "Сумская"}},
		{Name: "Льговский район", Settlements: []string{"Слобода", "Большие Угоны"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGazetteerInflectedForms(t *testing.T) {
	g := testGazetteer(t)
	cases := []struct {
		text       string
		muni, name string
		kind       PlaceKind
	}{
		{"В Захарове третий день нет воды", "Скопинский район", "Захарово", PlaceSettlement},
		{"в селе Горлове не вывозят мусор", "Скопинский район", "село Горлово", PlaceSettlement},
		{"Жители Скопинского района просят отремонтировать дорогу", "Скопинский район", "Скопинский район", PlaceMunicipality},
		{"в Скопинском р-не опять авария", "Скопинский район", "Скопинский район", PlaceMunicipality},
		{"На проспекте Победы огромные ямы", "Курск", "проспект Победы", PlaceStreet},
		{"в Старой Слободе нет света", "Скопинский район", "Старая Слобода", PlaceSettlement},
		{"в деревне Большие Угоны нет света", "Льговский район", "Большие Угоны", PlaceSettlement},
		{"у дома на Сумской улице", "Курск", "Сумская", PlaceStreet},
	}
	for _, c := range cases {
		ps := g.Find(c.text)
		r := Result{Places: ps}
		if r.Municipality() != c.muni {
			t.Errorf("%q: municipality %q, want %q (places %+v)", c.text, r.Municipality(), c.muni, ps)
			continue
		}
		found := false
		for _, p := range ps {
			if p.Name == c.name && p.Kind == c.kind {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: places %+v, want %s %q", c.text, ps, c.kind, c.name)
		}
	}
}

func TestGazetteerStreetNeedsMarker(t *testing.T) {
	g := testGazetteer(t)
	// "Полевая" is a street of Скопинский район, but here it is an adjective.
	if ps := g.Find("полевая кухня приехала"); len(ps) != 0 {
		t.Fatalf("street matched without a street word: %+v", ps)
	}
	if ps := g.Find("на ул. Полевой яма"); len(ps) != 1 || ps[0].Municipality != "Скопинский район" {
		t.Fatalf("ул. Полевой: %+v", ps)
	}
}

func TestGazetteerAmbiguity(t *testing.T) {
	g := testGazetteer(t)
	// Two municipalities have a улица Ленина: the text's other place decides.
	ps := g.Find("в Курске на улице Ленина яма")
	r := Result{Places: ps}
	if r.Municipality() != "Курск" {
		t.Fatalf("with context: %+v", ps)
	}
	for _, p := range ps {
		if p.Kind == PlaceStreet && p.Municipality != "Курск" {
			t.Fatalf("street resolved to %q", p.Municipality)
		}
	}
	// Without context the street is reported but not resolved.
	ps = g.Find("на улице Ленина яма")
	if len(ps) != 1 || ps[0].Municipality != "" {
		t.Fatalf("without context: %+v", ps)
	}
	if (Result{Places: ps}).Municipality() != "" {
		t.Fatal("an unresolved street gave a municipality")
	}
}

func TestParseGazetteer(t *testing.T) {
	src := `municipalities:
  - name: Скопинский район
    settlements: [Захарово]
  - name: Курск
    streets: [улица Ленина]
`
	g, err := ParseGazetteer(strings.NewReader(src), "places.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ps := g.Find("в Захарове"); len(ps) != 1 || ps[0].Municipality != "Скопинский район" {
		t.Fatalf("%+v", ps)
	}
	bad := []struct{ src, msg string }{
		{"municipalities:\n  - name: A\n  - name: A\n", `places.yaml:3: municipality "A" listed twice`},
		{"municipalities:\n  - name: A\n  - settlements: [Б]\n", "places.yaml:3: municipality 2 has no name"},
		{"municipalities:\n  - name: A\n    villages: [Б]\n", `unknown field "villages"`},
		{"municipalities:\n  - name: A\n    streets: [\"!!!\"]\n", `street name "!!!" has no words`},
		{"municipalities: []\n", "no municipalities"},
		{"", "empty file"},
	}
	for _, b := range bad {
		_, err := ParseGazetteer(strings.NewReader(b.src), "places.yaml")
		if !errors.Is(err, ErrBadGazetteer) || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("got %v, want ErrBadGazetteer mentioning %q", err, b.msg)
		}
	}
	if _, err := NewGazetteer([]Municipality{{Name: " "}}); !errors.Is(err, ErrBadGazetteer) {
		t.Fatalf("NewGazetteer with an empty name: %v", err)
	}
}
