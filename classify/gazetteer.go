package classify

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Municipality is one entry of a gazetteer: a municipality with the
// settlements and streets that belong to it.
type Municipality struct {
	// Name is the municipality as it should be reported
	// ("Скопинский район").
	Name string `json:"name" yaml:"name"`
	// Aliases are other names that mean the municipality ("Скопинский
	// муниципальный округ").
	Aliases []string `json:"aliases,omitempty" yaml:"aliases,omitempty"`
	// Settlements are towns and villages ("Захарово", "село Горлово").
	Settlements []string `json:"settlements,omitempty" yaml:"settlements,omitempty"`
	// Streets are street names ("улица Ленина", "Советская"). A street
	// only matches next to a street word (улица, ул., проспект, переулок
	// ...), because street names are often ordinary words.
	Streets []string `json:"streets,omitempty" yaml:"streets,omitempty"`
}

// ErrBadGazetteer: a gazetteer is malformed.
var ErrBadGazetteer = errors.New("classify: bad gazetteer")

// GazetteerError names the file, line and entry of a gazetteer problem. It
// matches ErrBadGazetteer.
type GazetteerError struct {
	File string // "" for NewGazetteer
	Line int    // 0 when unknown
	Msg  string // what is wrong
}

// Error formats the error as file:line: message.
func (e *GazetteerError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.File != "":
		return e.File + ": " + e.Msg
	}
	return "classify: gazetteer: " + e.Msg
}

// Is makes errors.Is(err, ErrBadGazetteer) true.
func (e *GazetteerError) Is(target error) bool { return target == ErrBadGazetteer }

// Gazetteer finds places named in text and resolves them to municipalities.
// Matching is by stems, so inflected forms resolve: "в Захарове", "на улице
// Ленина", "Скопинского района". A name shared by settlements or streets of
// several municipalities resolves to the one the text also names, or else
// is reported with an empty Municipality.
//
// A Gazetteer is immutable and safe for concurrent use.
type Gazetteer struct {
	names   []string // municipality names
	entries []gazEntry
	first   map[string][]int32 // first stem → entries
	markers map[string]bool    // stems of street words
	cache   *StemCache
	// The country-wide gazetteer's extras (see NewCountryGazetteer).
	info    []placeInfo   // per municipality: region, OKTMO, time zone
	regions []regionEntry // how texts name regions
	// regionFirst indexes regions by their first stem, so that finding
	// the regions a text names reads each stem once (see regionsIn).
	regionFirst map[string][]int32
	cues        map[string]bool // stems a cued name must follow
	after       []string        // stems that must not follow a cued name
	prefer      string          // the deployment's region, lower case
}

type gazEntry struct {
	muni  int
	name  string
	kind  PlaceKind
	stems []string
	cue   bool // matches only after a cue word (a country-wide city)
}

// Words that say what a name is; stripped from names and, for streets,
// required next to them in text.
var (
	settlementWords = []string{"город", "г", "село", "с", "деревня", "дер", "д", "поселок", "посёлок", "пос", "п",
		"пгт", "рп", "хутор", "х", "станица", "ст", "слобода", "сл", "аул", "снт"}
	streetWords = []string{"улица", "ул", "проспект", "пр", "пр-т", "просп", "переулок", "пер", "бульвар", "б-р",
		"шоссе", "ш", "площадь", "пл", "набережная", "наб", "проезд", "пр-д", "тупик", "аллея", "микрорайон",
		"мкр", "мкрн", "квартал", "кв-л", "тракт", "линия"}
	districtWords = []string{"район", "округ"}
)

// NewGazetteer builds a gazetteer from municipalities. Every municipality
// needs a name; names must be unique; every name must keep at least one
// word after normalisation.
func NewGazetteer(ms []Municipality) (*Gazetteer, error) {
	return newGazetteer(ms, "", nil)
}

func newGazetteer(ms []Municipality, file string, lines []int) (*Gazetteer, error) {
	g := &Gazetteer{first: map[string][]int32{}, markers: map[string]bool{}, cache: NewStemCache(0)}
	for _, w := range streetWords {
		for _, t := range Tokenize(w) {
			if len([]rune(t)) >= 2 { // "пр-т" gives "т": too loose a marker
				g.markers[g.cache.Stem(t)] = true
			}
		}
	}
	line := func(i int) int {
		if i < len(lines) {
			return lines[i]
		}
		return 0
	}
	seen := map[string]bool{}
	for i, m := range ms {
		name := strings.TrimSpace(m.Name)
		if name == "" {
			return nil, &GazetteerError{File: file, Line: line(i), Msg: fmt.Sprintf("municipality %d has no name", i+1)}
		}
		if seen[name] {
			return nil, &GazetteerError{File: file, Line: line(i), Msg: fmt.Sprintf("municipality %q listed twice", name)}
		}
		seen[name] = true
		g.names = append(g.names, name)
		add := func(n string, kind PlaceKind) error {
			stems := g.nameStems(n, kind)
			if len(stems) == 0 {
				return &GazetteerError{File: file, Line: line(i), Msg: fmt.Sprintf("municipality %q: %s name %q has no words", name, kind, n)}
			}
			g.addEntry(gazEntry{muni: i, name: strings.TrimSpace(n), kind: kind, stems: stems})
			return nil
		}
		for _, n := range append([]string{m.Name}, m.Aliases...) {
			if err := add(n, PlaceMunicipality); err != nil {
				return nil, err
			}
		}
		for _, n := range m.Settlements {
			if err := add(n, PlaceSettlement); err != nil {
				return nil, err
			}
		}
		for _, n := range m.Streets {
			if err := add(n, PlaceStreet); err != nil {
				return nil, err
			}
		}
	}
	return g, nil
}

func (g *Gazetteer) addEntry(e gazEntry) {
	for _, o := range g.entries { // the same name twice in one municipality
		if o.muni == e.muni && o.kind == e.kind && slices.Equal(o.stems, e.stems) {
			return
		}
	}
	id := int32(len(g.entries))
	g.entries = append(g.entries, e)
	g.first[e.stems[0]] = append(g.first[e.stems[0]], id)
	// "Скопинский район" is also written "Скопинский р-н" (р-на, р-не).
	if e.kind == PlaceMunicipality && len(e.stems) == 2 && slices.Contains(g.stemsOf(districtWords), e.stems[1]) {
		for _, end := range []string{"н", "на", "не", "ну", "ном"} {
			alt := e
			alt.stems = []string{e.stems[0], "р", end}
			g.first[alt.stems[0]] = append(g.first[alt.stems[0]], int32(len(g.entries)))
			g.entries = append(g.entries, alt)
		}
	}
}

func (g *Gazetteer) stemsOf(words []string) []string {
	var out []string
	for _, w := range words {
		for _, t := range Tokenize(w) {
			out = append(out, g.cache.Stem(t))
		}
	}
	return out
}

// nameStems stems a place name, dropping a leading type word ("село",
// "улица", "ул.") so that the text need not repeat it.
func (g *Gazetteer) nameStems(name string, kind PlaceKind) []string {
	toks := Tokenize(name)
	var strip []string
	switch kind {
	case PlaceSettlement:
		strip = settlementWords
	case PlaceStreet:
		strip = streetWords
	}
	for len(toks) > 1 && slices.Contains(strip, toks[0]) {
		toks = toks[1:]
	}
	// A trailing street word ("Ленина улица") too.
	for kind == PlaceStreet && len(toks) > 1 && slices.Contains(strip, toks[len(toks)-1]) {
		toks = toks[:len(toks)-1]
	}
	stems := make([]string, len(toks))
	for i, t := range toks {
		stems[i] = g.cache.Stem(t)
	}
	return stems
}

// gazetteerFile is the YAML (or JSON) shape ParseGazetteer reads.
type gazetteerFile struct {
	Municipalities []gazMuni `yaml:"municipalities"`
}

type gazMuni struct {
	Municipality `yaml:",inline"`
	line         int
}

// UnmarshalYAML decodes one municipality, refusing unknown fields and
// remembering its line for errors.
func (m *gazMuni) UnmarshalYAML(n *yaml.Node) error {
	if err := checkKeys(n, "name", "aliases", "settlements", "streets"); err != nil {
		return err
	}
	m.line = n.Line
	return n.Decode(&m.Municipality)
}

// ParseGazetteer reads a gazetteer from YAML or JSON:
//
//	municipalities:
//	  - name: Скопинский район
//	    settlements: [Захарово, село Горлово]
//	    streets: [улица Ленина]
//
// name is used in errors, which carry the line of the bad entry.
func ParseGazetteer(r io.Reader, name string) (*Gazetteer, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var f gazetteerFile
	if err := dec.Decode(&f); err != nil {
		if err == io.EOF {
			return nil, &GazetteerError{File: name, Msg: "empty file"}
		}
		line, msg := yamlErrorLine(err)
		return nil, &GazetteerError{File: name, Line: line, Msg: msg}
	}
	if len(f.Municipalities) == 0 {
		return nil, &GazetteerError{File: name, Msg: "no municipalities"}
	}
	ms := make([]Municipality, len(f.Municipalities))
	lines := make([]int, len(f.Municipalities))
	for i, m := range f.Municipalities {
		ms[i], lines[i] = m.Municipality, m.line
	}
	return newGazetteer(ms, name, lines)
}

// Find returns the places text names, in text order.
func (g *Gazetteer) Find(text string) []Place {
	a := getAnalysis()
	defer putAnalysis(a)
	a.run(text, g.cache)
	return g.find(a.stems)
}

type gazHit struct {
	pos, end int
	ids      []int32
}

func (g *Gazetteer) find(stems []string) []Place {
	var hits []gazHit
	for i := 0; i < len(stems); i++ {
		var best gazHit
		for _, id := range g.first[stems[i]] {
			e := &g.entries[id]
			end := i + len(e.stems)
			if end > len(stems) || !slices.Equal(stems[i:end], e.stems) {
				continue
			}
			if e.kind == PlaceStreet && !g.hasMarker(stems, i, end) {
				continue
			}
			if e.cue && !g.cued(stems, i, end) {
				continue
			}
			switch {
			case end > best.end: // the longest name wins: "Старая Слобода" over "Слобода"
				best = gazHit{pos: i, end: end, ids: []int32{id}}
			case end == best.end:
				best.ids = append(best.ids, id)
			}
		}
		if best.ids != nil {
			hits = append(hits, best)
			i = best.end - 1
		}
	}
	if len(hits) == 0 {
		return nil
	}
	// Municipalities the text names unambiguously give the context for
	// names several municipalities share.
	context := map[int]bool{}
	for _, h := range hits {
		if m, ok := g.oneMuni(h.ids, nil); ok {
			context[m] = true
		}
	}
	// A name several regions share (Железногорск) resolves by a region the
	// text names, else by the deployment's region.
	var named map[string]bool
	if len(g.regions) > 0 {
		named = g.regionsIn(stems)
	}
	var out []Place
	for _, h := range hits {
		e := g.entries[h.ids[0]]
		p := Place{Name: e.name, Kind: e.kind, Token: h.pos}
		m, ok := g.oneMuni(h.ids, nil)
		if !ok {
			m, ok = g.oneMuni(h.ids, context)
		}
		if !ok && g.info != nil && named != nil {
			m, ok = g.oneMuni(h.ids, g.inRegions(h.ids, func(r string) bool { return named[r] }))
		}
		if !ok && g.info != nil && g.prefer != "" {
			m, ok = g.oneMuni(h.ids, g.inRegions(h.ids, func(r string) bool { return strings.ToLower(r) == g.prefer }))
		}
		if ok {
			p.Municipality = g.names[m]
			for _, id := range h.ids {
				if g.entries[id].muni == m {
					p.Name, p.Kind = g.entries[id].name, g.entries[id].kind
					break
				}
			}
			if m < len(g.info) {
				in := g.info[m]
				p.Region, p.OKTMO, p.TimeZone = in.region, in.oktmo, fmt.Sprintf("UTC%+d", in.utc)
			}
		}
		if !slices.ContainsFunc(out, func(o Place) bool {
			return o.Name == p.Name && o.Kind == p.Kind && o.Municipality == p.Municipality
		}) {
			out = append(out, p)
		}
	}
	return out
}

// inRegions returns the municipalities of ids whose region passes keep.
func (g *Gazetteer) inRegions(ids []int32, keep func(string) bool) map[int]bool {
	out := map[int]bool{}
	for _, id := range ids {
		if m := g.entries[id].muni; m < len(g.info) && keep(g.info[m].region) {
			out[m] = true
		}
	}
	return out
}

// oneMuni returns the single municipality the entries belong to, counting
// only municipalities in within when it is not nil.
func (g *Gazetteer) oneMuni(ids []int32, within map[int]bool) (int, bool) {
	m := -1
	for _, id := range ids {
		e := g.entries[id].muni
		if within != nil && !within[e] {
			continue
		}
		if m >= 0 && m != e {
			return 0, false
		}
		m = e
	}
	return m, m >= 0
}

// hasMarker reports whether a street word stands just before stems[i:end]
// (up to two tokens before, to allow "ул. им. Ленина") or right after it.
func (g *Gazetteer) hasMarker(stems []string, i, end int) bool {
	for j := max(0, i-2); j < i; j++ {
		if g.markers[stems[j]] {
			return true
		}
	}
	return end < len(stems) && g.markers[stems[end]]
}
