package classify

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed rubricator.yaml
var defaultRubricatorFile []byte

// DefaultRubricatorYAML returns a copy of the shipped rubricator file, a
// starting point for a customised one (edit it and load it with
// ParseRubricator).
func DefaultRubricatorYAML() []byte { return bytes.Clone(defaultRubricatorFile) }

// OtherTopic is the code of the catch-all topic a rubricator reports when
// no keyword matched.
const OtherTopic = "other"

// ErrBadRubricator: a rubricator file is malformed.
var ErrBadRubricator = errors.New("classify: bad rubricator")

// RubricatorError names the file and line of a problem in a rubricator
// file. It matches ErrBadRubricator.
type RubricatorError struct {
	File string // the name given to ParseRubricator
	Line int    // 0 when unknown
	Msg  string // what is wrong
}

// Error formats the error as file:line: message.
func (e *RubricatorError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Is makes errors.Is(err, ErrBadRubricator) true.
func (e *RubricatorError) Is(target error) bool { return target == ErrBadRubricator }

// TopicInfo describes one topic of a rubricator.
type TopicInfo struct {
	// Code is the stable topic code ("housing.heating").
	Code string `json:"code"`
	// Title is the human-readable Russian title ("Отопление").
	Title string `json:"title"`
	// Parent is the parent code ("housing"), or "" for a top-level topic.
	Parent string `json:"parent,omitempty"`
}

// Rubricator classifies by weighted keywords and phrases per topic, read
// from a YAML file (the shipped one is embedded; see DefaultRubricator).
// Besides topics it carries the signals for appeal-vs-noise detection and
// urgency. A Rubricator is immutable and safe for concurrent use.
type Rubricator struct {
	topics  []TopicInfo
	byCode  map[string]int
	other   int // index of OtherTopic, or -1
	m       matcher
	cache   *StemCache
	topK    int
	scoring rubricatorScoring
}

// rubricatorScoring turns keyword sums into probabilities and decisions.
type rubricatorScoring struct {
	beta      float64 // softmax sharpness over keyword sums
	otherBase float64 // keyword sum at which a topic is as likely as "other"
}

// A single weight-2 keyword ("граффити на гараже") makes its topic likelier
// than "other"; a weight-1 hint alone does not.
var defaultScoring = rubricatorScoring{beta: 0.8, otherBase: 1.5}

var defaultRubricator = sync.OnceValue(func() *Rubricator {
	r, err := ParseRubricator(bytes.NewReader(defaultRubricatorFile), "rubricator.yaml")
	if err != nil {
		panic("classify: the embedded rubricator is broken: " + err.Error()) // caught by tests
	}
	return r
})

// DefaultRubricator returns the shipped rubricator. It is parsed once and
// shared; it is immutable.
func DefaultRubricator() *Rubricator { return defaultRubricator() }

// File shapes.
type rubricatorFile struct {
	Version int         `yaml:"version"`
	Topics  []topicSpec `yaml:"topics"`
	Signals struct {
		Appeal termGroups `yaml:"appeal"`
		Noise  termGroups `yaml:"noise"`
		Urgent termList   `yaml:"urgent"`
	} `yaml:"signals"`
}

type topicSpec struct {
	Code     string     `yaml:"code"`
	Title    string     `yaml:"title"`
	Keywords termGroups `yaml:"keywords"`
	line     int
}

// UnmarshalYAML decodes a topic, refusing unknown fields and remembering
// its line for errors.
func (t *topicSpec) UnmarshalYAML(n *yaml.Node) error {
	if err := checkKeys(n, "code", "title", "keywords"); err != nil {
		return err
	}
	type plain topicSpec
	if err := n.Decode((*plain)(t)); err != nil {
		return err
	}
	t.line = n.Line
	return nil
}

// checkKeys refuses unknown keys in a mapping node: a custom unmarshaller
// does not inherit the decoder's KnownFields.
func checkKeys(n *yaml.Node, known ...string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(known, k.Value) {
			return fmt.Errorf("line %d: unknown field %q (known: %s)", k.Line, k.Value, strings.Join(known, ", "))
		}
	}
	return nil
}

// termGroups maps a weight to its terms. Groups with the same weight
// ("2" and "2.0") merge.
type termGroups map[float64]termList

// UnmarshalYAML decodes weight → terms groups with line numbers.
func (g *termGroups) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want weights mapped to lists of terms", n.Line)
	}
	if *g == nil {
		*g = termGroups{}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		w, err := strconv.ParseFloat(k.Value, 64)
		if err != nil {
			return fmt.Errorf("line %d: weight %q is not a number", k.Line, k.Value)
		}
		var l termList
		if err := l.UnmarshalYAML(n.Content[i+1]); err != nil {
			return err
		}
		(*g)[w] = append((*g)[w], l...)
	}
	return nil
}

type termSpec struct {
	text string
	line int
}

type termList []termSpec

// UnmarshalYAML decodes a list of terms, remembering each one's line.
func (l *termList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("line %d: want a list of terms", n.Line)
	}
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: a term must be a word or phrase", c.Line)
		}
		*l = append(*l, termSpec{text: c.Value, line: c.Line})
	}
	return nil
}

// ParseRubricator reads a rubricator YAML file (the shape of the shipped
// one, see DefaultRubricatorYAML). name is used in errors. Problems give a
// *RubricatorError with the line: unknown fields, duplicate or malformed
// codes, a child whose parent is missing, terms that are empty after
// normalisation, weights that are not positive.
func ParseRubricator(r io.Reader, name string) (*Rubricator, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var f rubricatorFile
	if err := dec.Decode(&f); err != nil {
		if err == io.EOF {
			return nil, &RubricatorError{File: name, Msg: "empty file"}
		}
		line, msg := yamlErrorLine(err)
		return nil, &RubricatorError{File: name, Line: line, Msg: msg}
	}
	if f.Version != 1 {
		return nil, &RubricatorError{File: name, Msg: fmt.Sprintf("version %d: this release reads version 1", f.Version)}
	}
	if len(f.Topics) == 0 {
		return nil, &RubricatorError{File: name, Msg: "no topics"}
	}
	rb := &Rubricator{byCode: map[string]int{}, other: -1, cache: NewStemCache(0), topK: 3, scoring: defaultScoring}
	for i, t := range f.Topics {
		if err := checkCode(t.Code); err != nil {
			return nil, &RubricatorError{File: name, Line: t.line, Msg: err.Error()}
		}
		if _, dup := rb.byCode[t.Code]; dup {
			return nil, &RubricatorError{File: name, Line: t.line, Msg: fmt.Sprintf("topic %q defined twice", t.Code)}
		}
		if strings.TrimSpace(t.Title) == "" {
			return nil, &RubricatorError{File: name, Line: t.line, Msg: fmt.Sprintf("topic %q has no title", t.Code)}
		}
		info := TopicInfo{Code: t.Code, Title: t.Title}
		if p, _, ok := cutLast(t.Code, "."); ok {
			if _, known := rb.byCode[p]; !known {
				return nil, &RubricatorError{File: name, Line: t.line, Msg: fmt.Sprintf("topic %q: parent %q must be defined before it", t.Code, p)}
			}
			info.Parent = p
		}
		rb.byCode[t.Code] = i
		rb.topics = append(rb.topics, info)
		if t.Code == OtherTopic {
			rb.other = i
		}
		if err := rb.addTerms(name, t.Keywords, kindTopic, int32(i)); err != nil {
			return nil, err
		}
	}
	if err := rb.addTerms(name, f.Signals.Appeal, kindAppeal, -1); err != nil {
		return nil, err
	}
	if err := rb.addTerms(name, f.Signals.Noise, kindNoise, -1); err != nil {
		return nil, err
	}
	if err := rb.addTerms(name, termGroups{1: f.Signals.Urgent}, kindUrgent, -1); err != nil {
		return nil, err
	}
	rb.m.freeze()
	return rb, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?(?:unmarshal errors:\s*)?line (\d+): `)

// yamlErrorLine takes the line number out of a YAML decoding error, so that
// it can be reported as file:line like every other error.
func yamlErrorLine(err error) (int, string) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatchIndex(msg); m != nil {
		line, _ := strconv.Atoi(msg[m[2]:m[3]])
		return line, strings.TrimSpace(msg[m[1]:])
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// checkCode accepts lower-case ASCII codes of letters, digits and _ in
// dot-separated parts.
func checkCode(code string) error {
	if code == "" {
		return errors.New("topic without a code")
	}
	for _, part := range strings.Split(code, ".") {
		if part == "" {
			return fmt.Errorf("topic code %q has an empty part", code)
		}
		for _, c := range part {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
				return fmt.Errorf("topic code %q: use lower-case latin letters, digits, _ and dots", code)
			}
		}
	}
	return nil
}

func (rb *Rubricator) addTerms(file string, groups termGroups, kind termKind, topic int32) error {
	weights := make([]float64, 0, len(groups))
	for w := range groups {
		weights = append(weights, w)
	}
	slices.Sort(weights) // deterministic term order
	for _, w := range weights {
		for _, ts := range groups[w] {
			if w <= 0 || math.IsNaN(w) || math.IsInf(w, 0) {
				return &RubricatorError{File: file, Line: ts.line, Msg: fmt.Sprintf("weight %v of %q must be positive", w, ts.text)}
			}
			stems, prefix, ok := compileTerm(ts.text, rb.cache)
			if !ok {
				return &RubricatorError{File: file, Line: ts.line, Msg: fmt.Sprintf("term %q has no words (a * prefix must be one word of at least two letters)", ts.text)}
			}
			rb.m.add(term{text: ts.text, stems: stems, prefix: prefix, weight: w, kind: kind, topic: topic})
		}
	}
	return nil
}

// Topics lists the rubricator's topics in file order.
func (rb *Rubricator) Topics() []TopicInfo { return slices.Clone(rb.topics) }

// Title returns the title of a topic code, or "" if the code is unknown.
func (rb *Rubricator) Title(code string) string {
	if i, ok := rb.byCode[code]; ok {
		return rb.topics[i].Title
	}
	return ""
}

// Classify returns the topics, appeal-vs-noise decision and urgency of
// text by keywords alone (no places: see Engine).
func (rb *Rubricator) Classify(text string) Result {
	a := getAnalysis()
	defer putAnalysis(a)
	a.run(text, rb.cache)
	return rb.classify(a)
}

// classify is Classify of the text a has analysed.
func (rb *Rubricator) classify(a *analysis) Result {
	sig := rb.signals(a, nil)
	return Result{
		Topics:        rb.topicsFrom(a, rb.topK),
		IsAppeal:      sig.isAppeal(),
		AppealScore:   sig.appealScore,
		Urgent:        len(sig.urgent) > 0,
		UrgentReasons: sig.urgent,
	}
}

// signalSums is what the matcher found in one text.
type signalSums struct {
	appeal, noise float64
	topTopic      float64 // the largest topic keyword sum
	question      bool
	tokens        int
	urgent        []string
	appealScore   float64
}

func (s *signalSums) isAppeal() bool { return s.appealScore >= 0.5 }

// signals matches every term once over the analysed text: it fills
// a.tscore with topic keyword sums (each distinct term counted once) and
// returns the appeal and urgency evidence. When trace is not nil, every
// counted term is reported to it.
func (rb *Rubricator) signals(a *analysis, trace func(t *term)) signalSums {
	a.tscore = slices.Grow(a.tscore[:0], len(rb.topics))[:len(rb.topics)]
	clear(a.tscore)
	// One bit per term: "counted already" must not cost a scan of the
	// terms counted so far, or a long text that names many terms costs
	// quadratic time (a 10,000-word message 26 times a 1,000-word one).
	words := (len(rb.m.terms) + 63) / 64
	a.seen = slices.Grow(a.seen[:0], words)[:words]
	clear(a.seen)
	a.hits = a.hits[:0]
	var s signalSums
	// Each term counts once however often it occurs, and at one position
	// only the strongest term of a topic (or signal) counts, so that
	// "мусор" and "мусор*" on the same word do not add up.
	rb.m.each(a.ents, func(id int32, pos int) {
		if a.seen[id/64]&(1<<(id%64)) != 0 {
			return
		}
		a.seen[id/64] |= 1 << (id % 64)
		t := &rb.m.terms[id]
		if t.kind == kindUrgent {
			if trace != nil {
				trace(t)
			}
			s.urgent = append(s.urgent, t.text)
			return
		}
		group := t.topic
		if t.kind != kindTopic {
			group = -1 - int32(t.kind)
		}
		// each reports positions in order, so the hits at pos are the
		// last ones: look back through those only.
		for i := len(a.hits) - 1; i >= 0 && a.hits[i].pos == int32(pos); i-- {
			h := &a.hits[i]
			if h.group == group {
				if t.weight > h.term.weight {
					h.term = t
				}
				return
			}
		}
		a.hits = append(a.hits, hit{group: group, pos: int32(pos), term: t})
	})
	for _, h := range a.hits {
		t := h.term
		if trace != nil {
			trace(t)
		}
		switch t.kind {
		case kindTopic:
			a.tscore[t.topic] += t.weight
		case kindAppeal:
			s.appeal += t.weight
		case kindNoise:
			s.noise += t.weight
		}
	}
	for _, v := range a.tscore {
		s.topTopic = max(s.topTopic, v)
	}
	s.question = bytes.IndexByte(a.norm, '?') >= 0
	s.tokens = len(a.stems)
	// The weights below were set by hand on written examples of appeals and
	// noise and checked against real appeals (TestAppealRecallOnRealData);
	// they favour calling a message an appeal, since losing a real
	// complaint costs more than an operator skipping an advertisement.
	// A short statement of a problem ("Мусор на газонах") is an appeal on
	// a city portal, so topic evidence alone can carry a message; a short
	// text with no topic word cannot.
	z := -1.0 + 0.5*min(s.appeal, 8) + 0.45*min(s.topTopic, 6) - 0.7*s.noise
	if s.question {
		z += 0.7
	}
	if s.tokens < 4 && s.topTopic == 0 {
		z -= 1
	}
	s.appealScore = 1 / (1 + math.Exp(-z))
	return s
}

// topicsFrom turns the keyword sums in a.tscore into the top-k topics with
// softmax probabilities. "other" competes with a fixed sum, so one weak
// keyword does not make a confident topic.
func (rb *Rubricator) topicsFrom(a *analysis, topK int) []Topic {
	sc := rb.scoring
	z := 0.0
	if rb.other >= 0 {
		z = math.Exp(sc.beta * sc.otherBase)
	}
	for i, v := range a.tscore {
		if v > 0 && i != rb.other {
			z += math.Exp(sc.beta * v)
		}
	}
	if z == 0 {
		return nil
	}
	out := make([]Topic, 0, topK)
	push := func(code string, p float64) {
		if len(out) < topK {
			out = append(out, Topic{Code: code, Score: p})
		} else if p > out[len(out)-1].Score {
			out[len(out)-1] = Topic{Code: code, Score: p}
		} else {
			return
		}
		for i := len(out) - 1; i > 0 && out[i].Score > out[i-1].Score; i-- {
			out[i], out[i-1] = out[i-1], out[i]
		}
	}
	for i, v := range a.tscore {
		if v > 0 && i != rb.other {
			push(rb.topics[i].Code, math.Exp(sc.beta*v)/z)
		}
	}
	if rb.other >= 0 {
		push(OtherTopic, math.Exp(sc.beta*sc.otherBase)/z)
	}
	return out
}
