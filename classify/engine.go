package classify

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Engine is the complete classifier a pipeline uses: topics from a trained
// Model (or, without one, from the Rubricator), appeal-vs-noise detection
// and urgency from the Rubricator's signals, and places from a Gazetteer.
// The text is normalised and stemmed once for all of them.
//
// An Engine is safe for concurrent use.
type Engine struct {
	model     *Model
	rub       *Rubricator
	gaz       *Gazetteer
	country   *Gazetteer // the country-wide cities, under gaz
	noCountry bool
	cache     *StemCache
	topK      int
	threshold float64
}

// Option configures New.
type Option func(*Engine) error

// WithModel makes the engine take topics from a trained model instead of
// the rubricator's keywords.
func WithModel(m *Model) Option {
	return func(e *Engine) error {
		if m == nil {
			return errors.New("classify: WithModel(nil)")
		}
		e.model = m
		return nil
	}
}

// WithRubricator replaces the shipped rubricator (its topics and its appeal
// and urgency signals).
func WithRubricator(r *Rubricator) Option {
	return func(e *Engine) error {
		if r == nil {
			return errors.New("classify: WithRubricator(nil)")
		}
		e.rub = r
		return nil
	}
}

// WithGazetteer enables place extraction.
func WithGazetteer(g *Gazetteer) Option {
	return func(e *Engine) error {
		e.gaz = g
		return nil
	}
}

// WithTopK sets how many topics a Result carries (default 3).
func WithTopK(k int) Option {
	return func(e *Engine) error {
		if k < 1 {
			return fmt.Errorf("classify: WithTopK(%d): want at least 1", k)
		}
		e.topK = k
		return nil
	}
}

// WithStemCache shares a stem cache (by default the engine uses its
// model's, or owns one of DefaultStemCacheSize).
func WithStemCache(c *StemCache) Option {
	return func(e *Engine) error {
		if c == nil {
			return errors.New("classify: WithStemCache(nil)")
		}
		e.cache = c
		return nil
	}
}

// WithAppealThreshold sets the AppealScore from which a message counts as
// an appeal (default 0.5). Lower it to miss fewer appeals at the cost of
// more noise for operators.
func WithAppealThreshold(t float64) Option {
	return func(e *Engine) error {
		if t < 0 || t > 1 || math.IsNaN(t) {
			return fmt.Errorf("classify: WithAppealThreshold(%v): want a value in [0,1]", t)
		}
		e.threshold = t
		return nil
	}
}

// New builds an Engine. With no options it classifies with the shipped
// rubricator and finds no places.
func New(opts ...Option) (*Engine, error) {
	e := &Engine{topK: 3, threshold: 0.5}
	for _, o := range opts {
		if err := o(e); err != nil {
			return nil, err
		}
	}
	if e.rub == nil {
		e.rub = DefaultRubricator()
	}
	switch {
	case e.noCountry:
		e.country = nil
	case e.country == nil:
		g, err := defaultCountry()
		if err != nil {
			return nil, err
		}
		e.country = g
	}
	switch {
	case e.cache != nil:
	case e.model != nil:
		e.cache = e.model.cache // one cache for the process, not two
	default:
		e.cache = NewStemCache(0)
	}
	return e, nil
}

// Rubricator returns the rubricator the engine uses (for topic titles).
func (e *Engine) Rubricator() *Rubricator { return e.rub }

// Classify returns topics, appeal-vs-noise, urgency and places for text.
func (e *Engine) Classify(text string) Result {
	a := getAnalysis()
	defer putAnalysis(a)
	a.run(text, e.cache)
	return e.classify(a, nil)
}

func (e *Engine) classify(a *analysis, trace func(*term)) Result {
	sig := e.rub.signals(a, trace)
	var r Result
	if e.model != nil {
		r.Topics = e.model.topics(a, e.topK)
	} else {
		r.Topics = e.rub.topicsFrom(a, e.topK)
	}
	r.AppealScore = sig.appealScore
	r.IsAppeal = sig.appealScore >= e.threshold
	r.Urgent = len(sig.urgent) > 0
	r.UrgentReasons = sig.urgent
	if e.gaz != nil {
		r.Places = e.gaz.find(a.stems)
	}
	// The country's cities fill in where the region's own list found no
	// municipality.
	if e.country != nil && !slices.ContainsFunc(r.Places, func(p Place) bool { return p.Municipality != "" }) {
		r.Places = append(r.Places, e.country.find(a.stems)...)
	}
	return r
}

// Contribution is one feature's push on a decision: a stem, a stem bigram
// ("нет вод") or a rubricator term, and how much it added (negative: held
// back).
type Contribution struct {
	Feature string  `json:"feature"` // stem, "stem stem" bigram, "prefix…" or rubricator term
	Weight  float64 `json:"weight"`  // the push on the score
}

// TopicExplanation lists the features behind one topic's score, strongest
// first.
type TopicExplanation struct {
	Topic
	// Features are the strongest contributions, strongest first; for a
	// model the last entry is the topic's bias.
	Features []Contribution `json:"features"`
}

// Explanation says why a text was classified as it was.
type Explanation struct {
	// Result is what Classify returns for the same text.
	Result Result `json:"result"`
	// Topics explains each topic of Result.Topics, in the same order.
	Topics []TopicExplanation `json:"topics"`
	// Appeal lists the appeal (positive) and noise (negative) terms that
	// set AppealScore.
	Appeal []Contribution `json:"appeal,omitempty"`
}

// maxExplained is how many features an explanation lists per topic.
const maxExplained = 10

// Explain classifies text and reports which features pushed each decision.
// It is slower than Classify and meant for operators and debugging.
func (e *Engine) Explain(text string) Explanation {
	a := getAnalysis()
	defer putAnalysis(a)
	a.run(text, e.cache)
	var terms []*term
	r := e.classify(a, func(t *term) { terms = append(terms, t) })
	x := Explanation{Result: r}
	for _, t := range terms {
		switch t.kind {
		case kindAppeal:
			x.Appeal = append(x.Appeal, Contribution{t.text, t.weight})
		case kindNoise:
			x.Appeal = append(x.Appeal, Contribution{t.text, -t.weight})
		}
	}
	x.Appeal = sortContributions(x.Appeal)
	if e.model != nil {
		x.Topics = e.model.explainTopics(a, r.Topics)
	} else {
		x.Topics = e.rub.explainTopics(terms, r.Topics)
	}
	return x
}

// Explain reports which rubricator terms pushed each topic of the result.
func (rb *Rubricator) Explain(text string) Explanation {
	a := getAnalysis()
	defer putAnalysis(a)
	a.run(text, rb.cache)
	var terms []*term
	sig := rb.signals(a, func(t *term) { terms = append(terms, t) })
	r := Result{
		Topics:        rb.topicsFrom(a, rb.topK),
		IsAppeal:      sig.isAppeal(),
		AppealScore:   sig.appealScore,
		Urgent:        len(sig.urgent) > 0,
		UrgentReasons: sig.urgent,
	}
	return Explanation{Result: r, Topics: rb.explainTopics(terms, r.Topics)}
}

func (rb *Rubricator) explainTopics(terms []*term, topics []Topic) []TopicExplanation {
	out := make([]TopicExplanation, len(topics))
	for i, tp := range topics {
		out[i].Topic = tp
		idx, ok := rb.byCode[tp.Code]
		if !ok {
			continue
		}
		for _, t := range terms {
			if t.kind == kindTopic && int(t.topic) == idx {
				out[i].Features = append(out[i].Features, Contribution{t.text, t.weight})
			}
		}
		out[i].Features = sortContributions(out[i].Features)
	}
	return out
}

// Explain reports which stems and stem bigrams pushed each of the model's
// top topics for text: each feature's TF-IDF value times its weight for the
// topic, plus the topic's bias.
func (m *Model) Explain(text string) Explanation {
	a := getAnalysis()
	defer putAnalysis(a)
	a.run(text, m.cache)
	topics := m.topics(a, m.topK)
	return Explanation{Result: Result{Topics: topics}, Topics: m.explainTopics(a, topics)}
}

// explainTopics needs a.stems; it recomputes the vector itself.
func (m *Model) explainTopics(a *analysis, topics []Topic) []TopicExplanation {
	names := map[int32]string{}
	featureSet(a.stems, m.feat, true, func(h uint64, name string) {
		if f, ok := m.index.get(h); ok {
			names[f] = name
		}
	})
	feats := appendFeatures(nil, a.ents, m.feat)
	idx, vals := m.vectorize(feats, nil, nil, &featCounter{})
	out := make([]TopicExplanation, len(topics))
	for i, tp := range topics {
		out[i].Topic = tp
		c := slices.Index(m.labels, tp.Code)
		if c < 0 {
			continue
		}
		for j, f := range idx {
			w := float64(vals[j] * m.weights(f)[c])
			out[i].Features = append(out[i].Features, Contribution{names[f], w})
		}
		out[i].Features = sortContributions(out[i].Features)
		out[i].Features = append(out[i].Features, Contribution{"(bias)", float64(m.bias[c])})
	}
	return out
}

// sortContributions orders by absolute weight, strongest first, and keeps
// the strongest maxExplained.
func sortContributions(cs []Contribution) []Contribution {
	slices.SortStableFunc(cs, func(a, b Contribution) int {
		return cmp.Compare(math.Abs(b.Weight), math.Abs(a.Weight))
	})
	return cs[:min(len(cs), maxExplained)]
}
