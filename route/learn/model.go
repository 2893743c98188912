package learn

import (
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// stemLen is how many leading letters of a word stand for its stem: crude,
// but Russian endings rarely reach into the first six letters of a word
// long enough to matter, and it needs no dictionary.
const stemLen = 6

// Stems splits text into lower-case word stems (words of three or more
// letters, cut to six), without digits, ё folded to е.
func Stems(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if utf8.RuneCountInString(w) < 3 {
			continue
		}
		w = strings.ReplaceAll(w, "ё", "е")
		if r := []rune(w); len(r) > stemLen {
			w = string(r[:stemLen])
		}
		out = append(out, w)
	}
	return out
}

type key struct{ topic, mun string }

// Tally is routing counted from history: who answers each (topic,
// municipality) pair, and a naive Bayes model from text stems, the topic
// label and the municipality to the executor.
type Tally struct {
	table    map[key]map[string]int
	byTopic  map[string]map[string]int
	overall  map[string]int
	features map[string]map[string]int // feature → executor → count
	perExec  map[string]int            // executor → total feature count
	vocab    int
	n        int
}

// Learn builds a Tally from the records that name an executor.
func Learn(recs []Record) *Tally {
	m := &Tally{table: map[key]map[string]int{}, byTopic: map[string]map[string]int{}, overall: map[string]int{},
		features: map[string]map[string]int{}, perExec: map[string]int{}}
	inc := func(mm map[string]int, k string) { mm[k]++ }
	for i := range recs {
		r := &recs[i]
		if r.Executor == "" {
			continue
		}
		m.n++
		k := key{r.Label, r.District}
		if m.table[k] == nil {
			m.table[k] = map[string]int{}
		}
		inc(m.table[k], r.Executor)
		if m.byTopic[r.Label] == nil {
			m.byTopic[r.Label] = map[string]int{}
		}
		inc(m.byTopic[r.Label], r.Executor)
		inc(m.overall, r.Executor)
		for _, f := range features(r) {
			if m.features[f] == nil {
				m.features[f] = map[string]int{}
			}
			inc(m.features[f], r.Executor)
			m.perExec[r.Executor]++
		}
	}
	m.vocab = len(m.features)
	return m
}

func features(r *Record) []string {
	seen := map[string]bool{}
	var out []string
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	for _, s := range Stems(r.Text) {
		add(s)
	}
	if r.Label != "" {
		add("label=" + r.Label)
	}
	if r.District != "" {
		add("district=" + r.District)
	}
	return out
}

func argmax(counts map[string]int) (string, int, int) {
	best, bn, total := "", -1, 0
	for k, n := range counts {
		total += n
		if n > bn || n == bn && k < best {
			best, bn = k, n
		}
	}
	return best, bn, total
}

// PredictTable returns the most frequent executor for the record's label
// and district, backing off to the label alone, then to the most frequent
// executor overall.
func (m *Tally) PredictTable(r *Record) string {
	if c, ok := m.table[key{r.Label, r.District}]; ok {
		if x, n, _ := argmax(c); n >= 2 {
			return x
		}
	}
	if c, ok := m.byTopic[r.Label]; ok {
		x, _, _ := argmax(c)
		return x
	}
	x, _, _ := argmax(m.overall)
	return x
}

// PredictText returns the executor a naive Bayes model over text stems,
// label and district finds most likely.
func (m *Tally) PredictText(r *Record) string {
	fs := features(r)
	best, bestScore := "", math.Inf(-1)
	for x, nx := range m.overall {
		score := math.Log(float64(nx) / float64(m.n))
		denom := math.Log(float64(m.perExec[x] + m.vocab + 1))
		for _, f := range fs {
			c := m.features[f]
			if c == nil {
				continue
			}
			score += math.Log(float64(c[x]+1)) - denom
		}
		if score > bestScore || score == bestScore && x < best {
			best, bestScore = x, score
		}
	}
	return best
}

// Holdout splits records for an honest estimate: every k-th record that
// names an executor is held out for testing.
func Holdout(recs []Record, k int) (train, test []Record) {
	i := 0
	for _, r := range recs {
		if r.Executor == "" {
			continue
		}
		if i%k == k-1 {
			test = append(test, r)
		} else {
			train = append(train, r)
		}
		i++
	}
	return train, test
}

// Accuracy is the share of records predict gets right.
func Accuracy(recs []Record, predict func(*Record) string) float64 {
	if len(recs) == 0 {
		return 0
	}
	ok := 0
	for i := range recs {
		if predict(&recs[i]) == recs[i].Executor {
			ok++
		}
	}
	return float64(ok) / float64(len(recs))
}

// Suggestion is a rule the history supports: appeals with this topic code
// (and municipality) were answered by Executor Support times out of Total.
type Suggestion struct {
	Topic        string // topic code, "" for appeals without one
	Municipality string // "" for the topic anywhere
	// Labels are the history labels behind the topic code.
	Labels   []string
	Executor string // who answered, as history names it
	Support  int    // appeals that executor answered
	Total    int    // appeals with this topic and municipality
}

// Confidence is Support/Total.
func (s Suggestion) Confidence() float64 { return float64(s.Support) / float64(s.Total) }

// Suggest lists (topic, municipality) pairs — what a rule can test — and
// topics alone (municipality ""), whose executor is clear in recs: seen at least minSupport times with one
// executor answering at least minConfidence of them. Most supported first.
func Suggest(recs []Record, minSupport int, minConfidence float64) []Suggestion {
	counts := map[key]map[string]int{}
	labels := map[key]map[string]bool{}
	for _, r := range recs {
		if r.Executor == "" || r.Topic == "" && r.Municipality == "" {
			continue
		}
		keys := []key{{r.Topic, r.Municipality}}
		if r.Topic != "" && r.Municipality != "" {
			keys = append(keys, key{r.Topic, ""}) // the same topic anywhere
		}
		for _, k := range keys {
			if counts[k] == nil {
				counts[k] = map[string]int{}
				labels[k] = map[string]bool{}
			}
			counts[k][r.Executor]++
			labels[k][r.Label] = true
		}
	}
	var out []Suggestion
	for k, c := range counts {
		x, n, total := argmax(c)
		if n < minSupport || float64(n)/float64(total) < minConfidence {
			continue
		}
		s := Suggestion{Topic: k.topic, Municipality: k.mun, Executor: x, Support: n, Total: total}
		for l := range labels[k] {
			s.Labels = append(s.Labels, l)
		}
		sort.Strings(s.Labels)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Support != out[j].Support {
			return out[i].Support > out[j].Support
		}
		return out[i].Topic+out[i].Municipality < out[j].Topic+out[j].Municipality
	})
	return out
}

// KeywordHint is a stem that points to one executor in history.
type KeywordHint struct {
	Stem     string // folded word stem (see Stems)
	Executor string // who answered most appeals containing it
	Support  int    // appeals with the stem that executor answered
	Total    int    // appeals with the stem
}

// Keywords lists stems that appear in at least minSupport appeals and
// send at least minPrecision of them to one executor: candidates for
// "keywords:" conditions. Most supported first.
func (m *Tally) Keywords(minSupport int, minPrecision float64) []KeywordHint {
	var out []KeywordHint
	for f, c := range m.features {
		if strings.Contains(f, "=") {
			continue
		}
		x, n, total := argmax(c)
		if n >= minSupport && float64(n)/float64(total) >= minPrecision {
			out = append(out, KeywordHint{Stem: f, Executor: x, Support: n, Total: total})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Support != out[j].Support {
			return out[i].Support > out[j].Support
		}
		return out[i].Stem < out[j].Stem
	})
	return out
}
