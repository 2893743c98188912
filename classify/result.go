package classify

import (
	"context"
	"fmt"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// Classifier says what a message is about. Implementations are safe for
// concurrent use. The shipped ones are *Engine (topics, appeal-vs-noise,
// urgency and places), *Model (a trained topic model) and *Rubricator (the
// keyword rubricator).
type Classifier interface {
	Classify(text string) Result
}

// Topic is one topic with a calibrated score in [0,1]. The scores of one
// Result's topics sum to at most 1: they are probabilities over the
// classifier's labels.
type Topic struct {
	Code  string  `json:"code"`  // topic code or trained label
	Score float64 `json:"score"` // probability in [0,1]
}

// Place is a place the text names, resolved through a Gazetteer.
type Place struct {
	// Municipality is the municipality the place belongs to (or is).
	Municipality string `json:"municipality"`
	// Name is the gazetteer's spelling of the settlement, street or
	// municipality that matched.
	Name string `json:"name"`
	// Kind is PlaceMunicipality, PlaceSettlement or PlaceStreet.
	Kind PlaceKind `json:"kind"`
	// Token is the index of the first token of the match in the text's
	// token sequence (see Tokenize).
	Token int `json:"token"`
	// Region, OKTMO and TimeZone ("UTC+3") come with cities of the
	// country-wide gazetteer (see NewCountryGazetteer); empty otherwise.
	Region   string `json:"region,omitempty"`
	OKTMO    string `json:"oktmo,omitempty"`
	TimeZone string `json:"time_zone,omitempty"`
}

// Location returns the place's time zone, or nil when it has none.
func (p Place) Location() *time.Location {
	var h int
	if _, err := fmt.Sscanf(p.TimeZone, "UTC%d", &h); err != nil {
		return nil
	}
	return utcZone(h)
}

// PlaceKind says what sort of place matched.
type PlaceKind string

// Kinds of places a gazetteer knows.
const (
	PlaceMunicipality PlaceKind = "municipality"
	PlaceSettlement   PlaceKind = "settlement"
	PlaceStreet       PlaceKind = "street"
)

// Result is what a Classifier learned about one message.
type Result struct {
	// Topics are the best topics, most likely first (at most the configured
	// top-k). Empty when the classifier has nothing to say.
	Topics []Topic `json:"topics,omitempty"`
	// IsAppeal reports whether the message is a complaint or a question to
	// the authorities rather than a greeting, an advertisement, thanks or
	// news. AppealScore is the evidence behind it in [0,1].
	IsAppeal    bool    `json:"is_appeal"`
	AppealScore float64 `json:"appeal_score"`
	// Urgent marks an emergency (no water or heating, a burst pipe, a threat
	// to life); UrgentReasons lists the phrases that triggered it.
	Urgent        bool     `json:"urgent,omitempty"`
	UrgentReasons []string `json:"urgent_reasons,omitempty"`
	// Places are the gazetteer places the text names, in text order.
	Places []Place `json:"places,omitempty"`
}

// Top returns the best topic code, or "" when there is none.
func (r Result) Top() string {
	if len(r.Topics) == 0 {
		return ""
	}
	return r.Topics[0].Code
}

// Municipality returns the municipality of the most specific place named
// (a street or settlement over a bare municipality), or "".
func (r Result) Municipality() string {
	p, ok := r.bestPlace()
	if !ok {
		return ""
	}
	return p.Municipality
}

func (r Result) bestPlace() (Place, bool) {
	rank := map[PlaceKind]int{PlaceStreet: 3, PlaceSettlement: 2, PlaceMunicipality: 1}
	best, bestRank := Place{}, 0
	for _, p := range r.Places {
		if rank[p.Kind] > bestRank {
			best, bestRank = p, rank[p.Kind]
		}
	}
	return best, bestRank > 0
}

// DefaultMinTopicScore is the score a topic other than the best one needs to
// be kept on an appeal by Apply. Rules match any topic an appeal has, so a
// trace of "education" at 0.02 in a complaint about a street light by a
// school must not reach the router.
const DefaultMinTopicScore = 0.25

// Apply copies the classification into an appeal: Topics (the best one,
// plus others scoring at least DefaultMinTopicScore; the catch-all "other"
// only when it is the best), Noise (the message is not an appeal), Urgent,
// Municipality and Place (the settlement, or else the street, named in the
// text). Fields the result has nothing for are left as they were, so Apply
// never erases what a source already knew. Topic codes are copied as the
// classifier gave them: with a Model they are its training labels, so
// train on rubricator codes when routing matches on them.
func (r Result) Apply(a *appeal.Appeal) { r.ApplyMin(a, DefaultMinTopicScore) }

// ApplyMin is Apply keeping topics other than the best that score at least
// minScore (negative keeps every topic). This is the one place where the
// low-score cut and the noise mark are made, for the pipeline and for
// direct callers alike.
func (r Result) ApplyMin(a *appeal.Appeal, minScore float64) {
	a.Noise = !r.IsAppeal
	if len(r.Topics) > 0 {
		best := 0
		for i, t := range r.Topics {
			if t.Score > r.Topics[best].Score {
				best = i
			}
		}
		a.Topics = make([]appeal.TopicScore, 0, len(r.Topics))
		for i, t := range r.Topics {
			if i == best || (t.Score >= minScore && t.Code != OtherTopic) {
				a.Topics = append(a.Topics, appeal.TopicScore{Code: t.Code, Score: t.Score})
			}
		}
	}
	if r.Urgent {
		a.Urgent = true
	}
	if m := r.Municipality(); m != "" {
		a.Municipality = m
	}
	// A settlement locates an appeal better than a street name, which many
	// settlements share.
	for _, kind := range []PlaceKind{PlaceSettlement, PlaceStreet} {
		for _, p := range r.Places {
			if p.Kind == kind {
				a.Place = p.Name
				return
			}
		}
	}
}

// ClassifyAppeal classifies a.Text with c and applies the result to a (see
// Apply: low-scoring topics cut, noise marked). It returns the result for
// callers that want the scores or the reasons.
//
// With the package's classifiers (*Engine, *Model, *Rubricator) it also
// sets a.Analysis, the stems of a.Text, so that a learned router
// (route/learn) does not normalise and stem the text again.
func ClassifyAppeal(c Classifier, a *appeal.Appeal) Result {
	return ClassifyAppealMin(c, a, DefaultMinTopicScore)
}

// ClassifyAppealMin is ClassifyAppeal applying the result with ApplyMin:
// topics other than the best are kept when they score at least minScore.
func ClassifyAppealMin(c Classifier, a *appeal.Appeal, minScore float64) Result {
	var r Result
	if ac, ok := c.(analysingClassifier); ok {
		var ta *appeal.TextAnalysis
		r, ta = ac.classifyAnalysed(a.Text)
		if ta != nil {
			a.Analysis = ta
		}
	} else {
		r = c.Classify(a.Text)
	}
	r.ApplyMin(a, minScore)
	return r
}

// ClassifyAppeal is the package's ClassifyAppeal as a pipeline asks a
// classifier for it: with it *Engine is an appealkit.AppealClassifier as it
// is (appealkit.Classify adapts any Classifier, with a different topic cut).
func (e *Engine) ClassifyAppeal(ctx context.Context, a *appeal.Appeal) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ClassifyAppealMin(e, a, DefaultMinTopicScore)
	return nil
}

// analysingClassifier is a Classifier that also hands over the analysis of
// the text it classified, for Appeal.Analysis.
type analysingClassifier interface {
	classifyAnalysed(text string) (Result, *appeal.TextAnalysis)
}

func (e *Engine) classifyAnalysed(text string) (Result, *appeal.TextAnalysis) {
	return analysed(text, e.cache, func(a *analysis) Result { return e.classify(a, nil) })
}

func (m *Model) classifyAnalysed(text string) (Result, *appeal.TextAnalysis) {
	return analysed(text, m.cache, m.classify)
}

func (rb *Rubricator) classifyAnalysed(text string) (Result, *appeal.TextAnalysis) {
	return analysed(text, rb.cache, rb.classify)
}

// analysed classifies the analysis of text with classify and hands the
// analysis over too.
func analysed(text string, cache *StemCache, classify func(*analysis) Result) (Result, *appeal.TextAnalysis) {
	a := getAnalysis()
	defer putAnalysis(a)
	a.run(text, cache)
	return classify(a), a.textAnalysis(text)
}

// textAnalysis returns the stems of the text a has just analysed (text
// itself, up to MaxAnalysedBytes) as Appeal.Analysis carries them: each
// token's unigram hash, or 0 for a token that is no feature stem (a
// number). The stem cache computed the hashes already, so this is one
// pass and two allocations. It returns nil when a word's hash is 0 and
// could not be told from a break.
func (a *analysis) textAnalysis(text string) *appeal.TextAnalysis {
	hs := make([]uint64, len(a.ents))
	for i := range a.ents {
		e := &a.ents[i]
		if !e.feature {
			continue
		}
		if e.hash == 0 {
			return nil
		}
		hs[i] = e.hash
	}
	return &appeal.TextAnalysis{Text: analysedPart(text), StemHashes: hs}
}
