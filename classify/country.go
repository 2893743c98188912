package classify

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// ruCities is the country-wide base gazetteer: every Russian city with its
// region, municipal district, OKTMO code and time zone. CC BY-SA 4.0 by
// HFLabs (github.com/hflabs/city); see gazetteer/LICENSE.md beside it.
//
//go:embed gazetteer/ru_cities.csv
var ruCities []byte

// City is one city of the country-wide gazetteer.
type City struct {
	// Name is the city ("Льгов").
	Name string
	// Municipality is the municipality the city belongs to or is:
	// "Обоянский район" for a city within a district, "город Льгов" for a
	// city that is its own okrug.
	Municipality string
	// Region is the federal subject ("Курская область").
	Region string
	// OKTMO is the city's OKTMO code.
	OKTMO string
	// UTCOffset is the city's time zone as hours east of UTC (Russia keeps
	// no daylight saving time).
	UTCOffset int
}

// Location returns the city's time zone as a fixed zone named like
// "UTC+3".
func (c City) Location() *time.Location { return utcZone(c.UTCOffset) }

func utcZone(h int) *time.Location { return time.FixedZone(fmt.Sprintf("UTC%+d", h), h*3600) }

// RussianCities returns the 1,117 cities of the embedded gazetteer, in its
// order.
func RussianCities() []City {
	cs, err := russianCities()
	if err != nil {
		panic(err) // the embedded file is tested; this cannot happen
	}
	return append([]City(nil), cs...)
}

var russianCities = sync.OnceValues(func() ([]City, error) { return readCities(bytes.NewReader(ruCities)) })

func readCities(r io.Reader) ([]City, error) {
	cr := csv.NewReader(r)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("classify: cities: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, need := range []string{"region_type", "region", "area_type", "area", "city", "oktmo", "timezone"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("classify: cities: no column %q", need)
		}
	}
	var out []City
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("classify: cities: %w", err)
		}
		get := func(k string) string { return strings.TrimSpace(rec[col[k]]) }
		c := City{Name: get("city"), Region: regionName(get("region_type"), get("region")), OKTMO: get("oktmo")}
		if c.Name == "" { // Москва, Санкт-Петербург, Севастополь
			c.Name = get("region")
		}
		switch area := get("area"); get("area_type") {
		case "р-н":
			c.Municipality = area + " район"
		case "у":
			c.Municipality = area + " улус"
		case "г":
			c.Municipality = "город " + area
		default:
			c.Municipality = "город " + c.Name
		}
		if tz, ok := strings.CutPrefix(get("timezone"), "UTC"); ok {
			fmt.Sscanf(tz, "%d", &c.UTCOffset)
		}
		out = append(out, c)
	}
	return out, nil
}

// MunicipalityLocation returns the time zone of a municipality of the
// country-wide gazetteer ("город Красноярск", "Обоянский район"), or nil
// when it does not know the name or its cities span several zones. Pass it
// to route.Engine.WithPlaceZone so deadlines run on the place's clock.
func MunicipalityLocation(municipality string) *time.Location {
	zones, err := municipalityZones()
	if err != nil {
		return nil
	}
	return zones[municipality]
}

var municipalityZones = sync.OnceValues(func() (map[string]*time.Location, error) {
	cs, err := russianCities()
	if err != nil {
		return nil, err
	}
	offs := map[string]int{}
	mixed := map[string]bool{}
	for _, c := range cs {
		if o, ok := offs[c.Municipality]; ok && o != c.UTCOffset {
			mixed[c.Municipality] = true
		}
		offs[c.Municipality] = c.UTCOffset
	}
	out := map[string]*time.Location{}
	for m, o := range offs {
		if !mixed[m] {
			out[m] = utcZone(o)
		}
	}
	return out, nil
})

// regionName spells a federal subject in full.
func regionName(typ, name string) string {
	switch typ {
	case "обл":
		return name + " область"
	case "край":
		return name + " край"
	case "Респ":
		return "Республика " + name
	case "АО":
		if strings.Contains(strings.ToLower(name), "округ") {
			return name
		}
		return name + " автономный округ"
	case "Аобл":
		return name + " автономная область"
	case "г":
		return "город " + name
	}
	return name
}

// regionTypeWords are the words that, next to a region's own name, say the
// text names the region ("Курской области", "Республика Татарстан").
var regionTypeWords = map[string][]string{
	"область": {"область", "обл"}, "край": {"край"}, "Республика": {"республика", "респ"},
	"автономный округ": {"округ", "ао"}, "автономная область": {"область"},
}

// cueWords are the words after which a bare city name is taken as the
// place: "г. Железногорск", "в Льгове", "из Курска". A city name alone is
// too often an ordinary word (Орёл, Мирный, Шахты) to match by itself.
var cueWords = []string{"г", "город", "гор", "в", "во", "из", "под", "около", "возле", "у", "до", "по", "над", "за", "близ"}

// CountryOptions tunes the country-wide gazetteer.
type CountryOptions struct {
	// Region is the deployment's federal subject ("Курская область"). A
	// city name several regions share (Железногорск) resolves to this
	// region's city unless the text names another region.
	Region string
}

// NewCountryGazetteer returns a gazetteer of every Russian city, resolving
// "в Льгове" or "г. Железногорск" to the city's municipality, region, OKTMO
// and time zone (see Place). A name several cities share resolves by a
// region the text names, else by opts.Region, else stays unresolved (its
// Municipality empty). Combine it with a region's own list of villages,
// city districts and streets through WithGazetteer, which takes precedence.
func NewCountryGazetteer(opts CountryOptions) (*Gazetteer, error) {
	cities, err := russianCities()
	if err != nil {
		return nil, err
	}
	g := &Gazetteer{first: map[string][]int32{}, markers: map[string]bool{}, cache: NewStemCache(0), cues: map[string]bool{}}
	for _, w := range cueWords {
		g.cues[g.cache.Stem(w)] = true
	}
	for _, w := range []string{"район", "округ", "область", "обл", "край", "республика", "улус", "р"} {
		g.after = append(g.after, g.cache.Stem(w))
	}
	muni := map[string]int{}
	regions := map[string]bool{}
	for _, c := range cities {
		key := c.Region + "\x00" + c.Municipality
		m, ok := muni[key]
		if !ok {
			m = len(g.names)
			muni[key] = m
			g.names = append(g.names, c.Municipality)
			g.info = append(g.info, placeInfo{region: c.Region, oktmo: c.OKTMO, utc: c.UTCOffset})
		}
		stems := g.nameStems(c.Name, PlaceSettlement)
		if len(stems) == 0 {
			continue
		}
		g.addEntry(gazEntry{muni: m, name: c.Name, kind: PlaceSettlement, stems: stems, cue: true})
		if !regions[c.Region] {
			regions[c.Region] = true
			g.addRegion(c.Region)
		}
	}
	g.prefer = strings.ToLower(strings.TrimSpace(opts.Region))
	return g, nil
}

// addRegion indexes how a text names a region: its own words with a type
// word before or after ("Курской области", "Республика Коми").
func (g *Gazetteer) addRegion(region string) {
	for typ, words := range regionTypeWords {
		var own string
		switch {
		case strings.HasSuffix(region, " "+typ):
			own = strings.TrimSuffix(region, " "+typ)
		case strings.HasPrefix(region, typ+" "):
			own = strings.TrimPrefix(region, typ+" ")
		default:
			continue
		}
		name := g.stemsOf([]string{own})
		if len(name) == 0 {
			continue
		}
		g.appendRegion(regionEntry{region: region, stems: name, typ: g.stemsOf(words)})
		return
	}
	if stems := g.stemsOf([]string{region}); len(stems) > 0 {
		g.appendRegion(regionEntry{region: region, stems: stems})
	}
}

// appendRegion adds a region and indexes it by its first stem.
func (g *Gazetteer) appendRegion(r regionEntry) {
	if g.regionFirst == nil {
		g.regionFirst = map[string][]int32{}
	}
	g.regionFirst[r.stems[0]] = append(g.regionFirst[r.stems[0]], int32(len(g.regions)))
	g.regions = append(g.regions, r)
}

// placeInfo is what the country gazetteer knows about a municipality.
type placeInfo struct {
	region, oktmo string
	utc           int
}

// regionEntry is a region as a text names it.
type regionEntry struct {
	region string
	stems  []string // the region's own words
	typ    []string // type words, one of which must stand next to them; nil: none needed
}

// regionsIn returns the regions the stems name. It reads each stem once
// and compares it only with the regions that begin with it: comparing
// every stem with all 85 regions' names was half the cost of classifying
// a long message.
func (g *Gazetteer) regionsIn(stems []string) map[string]bool {
	var out map[string]bool
	for i, s := range stems {
		for _, ri := range g.regionFirst[s] {
			r := &g.regions[ri]
			end := i + len(r.stems)
			if end > len(stems) || out[r.region] || !slices.Equal(stems[i:end], r.stems) {
				continue
			}
			if r.typ != nil && !(end < len(stems) && slices.Contains(r.typ, stems[end])) && !(i > 0 && slices.Contains(r.typ, stems[i-1])) {
				continue
			}
			if out == nil {
				out = map[string]bool{}
			}
			out[r.region] = true
		}
	}
	return out
}

// cued reports whether a cue word stands right before stems[i] and no
// district or region word right after stems[i:end] ("в Советском районе"
// is a district, "Курской области" a region, not the cities).
func (g *Gazetteer) cued(stems []string, i, end int) bool {
	if i == 0 || !g.cues[stems[i-1]] {
		return false
	}
	return end >= len(stems) || !slices.Contains(g.after, stems[end])
}

// WithRegion makes the engine find Russian cities through the country-wide
// gazetteer preferring region's cities for names several regions share
// (see NewCountryGazetteer). Without it the engine still finds cities,
// leaving such names unresolved unless the text names the region.
func WithRegion(region string) Option {
	return func(e *Engine) error {
		g, err := NewCountryGazetteer(CountryOptions{Region: region})
		if err != nil {
			return err
		}
		e.country = g
		return nil
	}
}

// WithoutCountryGazetteer turns off the built-in country-wide gazetteer:
// only a gazetteer given with WithGazetteer finds places.
func WithoutCountryGazetteer() Option {
	return func(e *Engine) error {
		e.noCountry = true
		return nil
	}
}

// defaultCountry is the country gazetteer without a preferred region,
// built once: it is immutable, so engines share it.
var defaultCountry = sync.OnceValues(func() (*Gazetteer, error) { return NewCountryGazetteer(CountryOptions{}) })
