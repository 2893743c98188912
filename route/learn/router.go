package learn

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"unicode/utf8"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/route"
)

// Example is one appeal of history with the executor who answered it.
type Example struct {
	Appeal   *appeal.Appeal
	Executor string
}

// Examples turns records into training examples. Executors are named as
// res resolves them (rules ids); names res does not know are kept as
// history spells them, so that the model still learns them (a combined
// router only uses executors the rules declare). res may be nil.
func Examples(recs []Record, res *Resolver) []Example {
	out := make([]Example, 0, len(recs))
	for i := range recs {
		r := &recs[i]
		if r.Executor == "" {
			continue
		}
		x := r.Executor
		if res != nil {
			if id := res.Resolve(x); id != "" {
				x = id
			}
		}
		out = append(out, Example{Appeal: r.Appeal(), Executor: x})
	}
	return out
}

// TrainConfig tunes Train. The zero value is the tuned default.
type TrainConfig struct {
	// Epochs bounds the passes of dual coordinate descent per executor
	// (default 10; training stops earlier once it has converged).
	Epochs int
	// C is the cost of a margin violation: larger fits history more
	// closely, smaller generalises more (default 0.5).
	C float64
	// Context is the value of each context feature (municipality, topic,
	// municipality×topic, community, network, kind, place) next to the
	// text, whose TF-IDF vector has length 1 (default 0.5).
	Context float64
	// MinCount is how many training appeals a text feature must occur in
	// to be kept (default 2).
	MinCount int
	// Calibrate is the share of the examples held out to fit the
	// confidence's temperature before the final model is trained on all
	// of them (default 0.1; negative skips calibration).
	Calibrate float64
	// Keep is how many executors each feature keeps weights for after
	// training, the strongest first (default 16): fewer is faster.
	Keep int
	// Seed makes shuffling reproducible (default 1).
	Seed uint64
}

func (c TrainConfig) withDefaults() TrainConfig {
	if c.Epochs == 0 {
		c.Epochs = 10
	}
	if c.C == 0 {
		c.C = 0.5
	}
	if c.Context == 0 {
		c.Context = 0.5
	}
	if c.MinCount == 0 {
		c.MinCount = 2
	}
	if c.Calibrate == 0 {
		c.Calibrate = 0.1
	}
	if c.Keep == 0 {
		c.Keep = 16
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	return c
}

// ErrNoHistory: there is nothing to learn from.
var ErrNoHistory = errors.New("learn: no history with executors to learn from")

// maxExecutors bounds the classes a model can have, so that scoring fits
// a fixed scratch buffer.
const maxExecutors = 4096

// Model is a learned router: a multinomial logistic regression from an
// appeal's text stems (unigrams and bigrams, through classify's normaliser
// and Snowball stemmer), municipality, topics, municipality×topic,
// community, network and kind to the executor who answered, with a
// temperature-calibrated confidence. It implements route.Predictor; use it
// with route.WithModel. A Model is immutable and safe for concurrent use.
type Model struct {
	labels []string
	counts []int32 // training appeals per executor
	bias   []float32
	temp   float64
	// calX, calY map the softmax's top probability to how often such a
	// choice was right on held-out history (isotonic: calY[i] from calX[i]
	// on); empty when training skipped calibration.
	calX, calY []float32
	// Features: an open-addressing table from feature hash to index, and
	// per feature its kept weights (executor index and weight) in CSR form.
	slots []uint64  // hash, 0 for empty
	index []int32   // feature index per slot
	offs  []uint32  // len features+1
	idf   []float32 // per feature: its inverse document frequency (text) or 0 (context)
	ctx   float32   // the value of a context feature
	cls   []uint16
	w     []float32
	// tab and cw are the hot path's copy of the above: per slot of the
	// feature table its hash, weights and idf in one entry, and the
	// weights as (executor, weight) pairs, so that a feature costs two
	// memory reads.
	tab    []featSlot
	cw     []clsWeight
	wscale float64
	// support counts training appeals per (context feature, executor).
	support map[uint64]int32
	cache   *classify.StemCache
	// thresholds are the per-rule confidences the model was measured with
	// (RuleThresholds); nil when none were set.
	thresholds map[string]float64
}

// Thresholds returns the per-rule confidence thresholds stored with the
// model (RuleThresholds' map, keyed by rule id), or nil when it has none.
// Use them as
//
//	route.WithModel(engine, m, 0).WithRuleThresholds(m.Thresholds())
func (m *Model) Thresholds() map[string]float64 {
	if m.thresholds == nil {
		return nil
	}
	return maps.Clone(m.thresholds)
}

// WithThresholds returns a copy of the model that carries the per-rule
// thresholds t (see RuleThresholds) into its file; the copy shares the
// weights.
func (m *Model) WithThresholds(t map[string]float64) *Model {
	c := *m
	c.thresholds = maps.Clone(t)
	return &c
}

type featSlot struct {
	h   uint64 // feature hash, 0 for an empty slot
	off uint32 // its first weight in cw
	n   uint32 // how many weights
	idf float32
}

// clsWeight is one executor's weight for a feature, quantised to 16 bits
// (times Model.wscale): sixteen of them fill one cache line.
type clsWeight struct {
	c uint16
	w int16
}

// prepare builds the hot path's tables from the stored ones.
func (m *Model) prepare() {
	m.tab = make([]featSlot, len(m.slots))
	for i, h := range m.slots {
		if h == 0 {
			continue
		}
		f := m.index[i]
		m.tab[i] = featSlot{h: h, off: m.offs[f], n: m.offs[f+1] - m.offs[f], idf: m.idf[f]}
	}
	top := float32(0)
	for _, w := range m.w {
		top = max(top, float32(math.Abs(float64(w))))
	}
	m.wscale = 1
	if top > 0 {
		m.wscale = float64(top) / math.MaxInt16
	}
	m.cw = make([]clsWeight, len(m.cls))
	for i, c := range m.cls {
		m.cw[i] = clsWeight{c, int16(math.Round(float64(m.w[i]) / m.wscale))}
	}
}

// Labels returns the executors the model knows, in its own order.
func (m *Model) Labels() []string { return slices.Clone(m.labels) }

// Features returns how many features the model keeps weights for.
func (m *Model) Features() int { return len(m.offs) - 1 }

// Feature hashes are classify's (FNV-1a over stems, mixed for pairs), so
// both packages hash a stem alike.
const fnvOffset = classify.FNVOffset

// Context feature kinds; each value is hashed after its kind's tag.
var (
	tagMun     = classify.HashString(fnvOffset, "m\x00")
	tagTopic   = classify.HashString(fnvOffset, "t\x00")
	tagCross   = classify.HashString(fnvOffset, "mt\x00")
	tagComm    = classify.HashString(fnvOffset, "c\x00")
	tagNet     = classify.HashString(fnvOffset, "n\x00")
	tagKind    = classify.HashString(fnvOffset, "k\x00")
	tagPlace   = classify.HashString(fnvOffset, "p\x00")
	tagBias    = classify.HashString(fnvOffset, "bias\x00")
	tagMunWord = classify.HashString(fnvOffset, "mw\x00")
)

func nz(h uint64) uint64 { return h | 1 }

// scratch is the per-call state of feature extraction, pooled so that a
// prediction allocates nothing.
type scratch struct {
	feats  []uint64
	home   []uint32 // per feature, its home slot in the model's table
	prev   uint64
	mun    uint64 // the municipality's hash for crossed features, 0 for none
	scores []float64
	// Deduplication of a message's features: a small hash set whose
	// entries count only when their generation is the current call's.
	seen  [1 << seenBits]seenEntry
	cur   uint32
	list  []int32 // distinct known features (slots of the table), in order
	touch uint64  // keeps the slot pre-reads from being optimised away
	tf    []float32
}

// A message has at most maxMessageFeatures distinct known features (a
// kibibyte of text gives far fewer), so the set never fills.
const (
	seenBits           = 11
	maxMessageFeatures = 1 << (seenBits - 1)
)

type seenEntry struct {
	gen uint32
	f   int32
	pos int32
}

var scratchPool = sync.Pool{New: func() any { return &scratch{} }}

// ctxFeatures appends the context features of a, and returns the support
// keys to try, most specific first (cross, topic, municipality).
func ctxFeatures(dst []uint64, a *appeal.Appeal) ([]uint64, [3]uint64) {
	dst, sup, _ := ctxFeaturesMun(dst, a)
	return dst, sup
}

// ctxFeaturesMun is ctxFeatures that also returns the municipality's hash
// for crossed word features (0 for none). The municipality is hashed under
// its three tags in one pass and the best topic's hash is reused: the
// hashes are chains of multiplications, and three independent chains cost
// about what one does.
func ctxFeaturesMun(dst []uint64, a *appeal.Appeal) ([]uint64, [3]uint64, uint64) {
	var sup [3]uint64
	var cross, munWord uint64
	if a.Municipality != "" {
		var h uint64
		h, cross, munWord = hash3(tagMun, tagCross, tagMunWord, a.Municipality)
		h = nz(h)
		dst = append(dst, h)
		sup[2] = h
	}
	// The best topic as a.TopTopic picks it: the first of the highest
	// score.
	best, top, topHash := -1.0, "", uint64(0)
	for _, t := range a.Topics {
		h := nz(classify.HashString(tagTopic, t.Code))
		dst = append(dst, h)
		if t.Score > best {
			best, top, topHash = t.Score, t.Code, h
		}
	}
	if top != "" {
		sup[1] = topHash
		if a.Municipality != "" {
			h := nz(classify.HashString(classify.HashString(cross, "\x00"), top))
			dst = append(dst, h)
			sup[0] = h
		}
	}
	if a.Community.ID != "" {
		dst = append(dst, nz(classify.HashString(tagComm, a.Community.ID)))
	}
	if a.Network != "" {
		dst = append(dst, nz(classify.HashString(tagNet, string(a.Network))))
	}
	if a.Kind != "" {
		dst = append(dst, nz(classify.HashString(tagKind, string(a.Kind))))
	}
	if a.Place != "" {
		dst = append(dst, nz(classify.HashString(tagPlace, a.Place)))
	}
	return dst, sup, munWord
}

// fnvPrime is the prime of classify.HashString's FNV-1a.
const fnvPrime = 1099511628211

// hash3 is classify.HashString(a, s), HashString(b, s) and
// HashString(c, s) in one pass over s.
func hash3(a, b, c uint64, s string) (uint64, uint64, uint64) {
	for i := 0; i < len(s); i++ {
		x := uint64(s[i])
		a = (a ^ x) * fnvPrime
		b = (b ^ x) * fnvPrime
		c = (c ^ x) * fnvPrime
	}
	return a, b, c
}

// extract fills s.feats with the features of a.
func extract(s *scratch, a *appeal.Appeal, cache *classify.StemCache) ([3]uint64, int) {
	var sup [3]uint64
	// Who answers depends on the place and the problem together (a yard
	// in one district is its housing agency's, in another its
	// administration's), which a linear model sees only through crossed
	// features: each word with the municipality (s.mun).
	s.feats, sup, s.mun = ctxFeaturesMun(s.feats[:0], a)
	nctx := len(s.feats)
	s.prev = 0
	text := head(a.Text, maxTextBytes)
	if ta := a.Analysis.For(text); ta != nil {
		// The classifier stemmed this very text already: 0 marks a
		// token isWordStem refuses (no word hashes to 0: the classifier
		// records no analysis then).
		for _, h := range ta.StemHashes {
			if h == 0 {
				s.prev = 0
				continue
			}
			s.word(h)
		}
		return sup, nctx
	}
	classify.VisitStems(text, cache, func(stem string) {
		if !isWordStem(stem) {
			s.prev = 0
			return
		}
		s.word(classify.HashString(fnvOffset, stem))
	})
	return sup, nctx
}

// word appends the features of the word whose stem hashes to h.
func (s *scratch) word(h uint64) {
	s.feats = append(s.feats, nz(h))
	if s.prev != 0 {
		s.feats = append(s.feats, nz(classify.MixHashes(s.prev, h)))
	}
	if s.mun != 0 {
		s.feats = append(s.feats, nz(classify.MixHashes(s.mun, h)))
	}
	s.prev = h
}

// logCounts holds ln n for the counts a word usually has in a message, so
// that a prediction needs no logarithm for them.
var logCounts = func() (t [64]float64) {
	for n := 1; n < len(t); n++ {
		t[n] = math.Log(float64(n))
	}
	return t
}()

// logCount is math.Log(float64(n)) for a count n ≥ 1 (exactly: the table
// holds math.Log's own values).
func logCount(n float32) float64 {
	if n < float32(len(logCounts)) {
		return logCounts[int(n)]
	}
	return math.Log(float64(n))
}

// maxTextBytes is how much of an appeal's text the model reads: the place
// and the problem come first, and a decision must stay within microseconds
// however long the message (about 100 Russian words).
const maxTextBytes = 4096

// head returns at most n bytes of s, cut at a character boundary.
func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// isWordStem keeps stems with a letter: numbers (house numbers, dates)
// say nothing about the executor.
func isWordStem(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return true
		}
	}
	return false
}

type trainDoc struct {
	feats []int32
	vals  []float32 // the value of each feature: idf/‖text‖ for text, 1 for context
	label int32
}

// Train learns a Model from history. It needs at least one example with an
// executor; examples without one are skipped.
func Train(examples []Example, cfg TrainConfig) (*Model, error) {
	cfg = cfg.withDefaults()
	cache := classify.NewStemCache(0)
	labelIdx := map[string]int32{}
	var labels []string
	var counts []int32
	type raw struct {
		hashes []uint64
		nctx   int // the first nctx hashes are context features
		label  int32
		sup    [3]uint64
	}
	var raws []raw
	df := map[uint64]int32{}
	ctxHash := map[uint64]bool{}
	s := &scratch{}
	for _, ex := range examples {
		if ex.Executor == "" || ex.Appeal == nil {
			continue
		}
		li, ok := labelIdx[ex.Executor]
		if !ok {
			if len(labels) == maxExecutors {
				return nil, fmt.Errorf("learn: more than %d executors in history", maxExecutors)
			}
			li = int32(len(labels))
			labelIdx[ex.Executor] = li
			labels = append(labels, ex.Executor)
			counts = append(counts, 0)
		}
		counts[li]++
		var ctx []uint64
		ctx, _ = ctxFeatures(ctx, ex.Appeal)
		for _, h := range ctx {
			ctxHash[h] = true
		}
		sup, _ := extract(s, ex.Appeal, cache)
		// Documents keep repeated features (a word said twice counts
		// twice, as Predict sees it); document frequency counts each once.
		hs := append([]uint64{tagBias | 1}, s.feats...)
		uniq := slices.Compact(slices.Sorted(slices.Values(hs)))
		for _, h := range uniq {
			df[h]++
		}
		raws = append(raws, raw{hashes: hs, nctx: len(ctx) + 1, label: li, sup: sup})
	}
	if len(raws) == 0 {
		return nil, ErrNoHistory
	}
	// The vocabulary: context features always, text features seen often
	// enough.
	vocab := map[uint64]int32{}
	var hashes []uint64
	for h, n := range df {
		if n >= int32(cfg.MinCount) || ctxHash[h] {
			hashes = append(hashes, h)
		}
	}
	slices.Sort(hashes)
	for i, h := range hashes {
		vocab[h] = int32(i)
	}
	idf := make([]float32, len(hashes))
	for i, h := range hashes {
		idf[i] = float32(math.Log(float64(len(raws)+1)/float64(df[h]+1)) + 1)
	}
	docs := make([]trainDoc, len(raws))
	for i, r := range raws {
		d := trainDoc{label: r.label}
		for _, h := range r.hashes[:r.nctx] {
			if f, ok := vocab[h]; ok {
				d.feats = append(d.feats, f)
				d.vals = append(d.vals, float32(cfg.Context))
			}
		}
		nctx := len(d.feats)
		text := slices.Sorted(slices.Values(r.hashes[r.nctx:]))
		norm := 0.0
		for j := 0; j < len(text); {
			h, tf := text[j], 1
			for j+tf < len(text) && text[j+tf] == h {
				tf++
			}
			j += tf
			f, ok := vocab[h]
			if !ok {
				continue
			}
			v := float32(1+math.Log(float64(tf))) * idf[f]
			norm += float64(v) * float64(v)
			d.feats = append(d.feats, f)
			d.vals = append(d.vals, v)
		}
		if norm > 0 {
			inv := float32(1 / math.Sqrt(norm))
			for j := nctx; j < len(d.vals); j++ {
				d.vals[j] *= inv
			}
		}
		docs[i] = d
	}
	k := len(labels)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	temp := 1.0
	var calX, calY []float32
	if cfg.Calibrate > 0 && len(docs) >= 20 {
		perm := rng.Perm(len(docs))
		nHold := max(1, int(float64(len(docs))*cfg.Calibrate))
		var fit, hold []trainDoc
		for i, p := range perm {
			if i < nHold {
				hold = append(hold, docs[p])
			} else {
				fit = append(fit, docs[p])
			}
		}
		w, b := svm(fit, len(hashes), k, cfg)
		temp = fitTemperature(hold, w, b, k)
		calX, calY = fitIsotonic(hold, w, b, k, temp)
	}
	w, b := svm(docs, len(hashes), k, cfg)

	m := &Model{labels: labels, counts: counts, bias: b, temp: temp, calX: calX, calY: calY, ctx: float32(cfg.Context), support: map[uint64]int32{}, cache: cache}
	m.offs = make([]uint32, 1, len(hashes)+1)
	type cw struct {
		c int
		w float32
	}
	var row []cw
	var kept []uint64
	med := make([]float32, k)
	for f, h := range hashes {
		// One-vs-rest weights of a feature are alike (slightly negative)
		// for the many executors it says nothing about. Adding the same
		// amount to every executor's score changes neither the choice nor
		// the softmax, so centre each feature's weights on their median
		// and keep only those that stand out.
		copy(med, w[f*k:f*k+k])
		slices.Sort(med)
		centre := med[k/2]
		row = row[:0]
		for c := range k {
			if v := w[f*k+c] - centre; math.Abs(float64(v)) >= 3e-2 {
				row = append(row, cw{c, v})
			}
		}
		if len(row) == 0 {
			continue
		}
		sort.Slice(row, func(i, j int) bool { return math.Abs(float64(row[i].w)) > math.Abs(float64(row[j].w)) })
		if len(row) > cfg.Keep {
			row = row[:cfg.Keep]
		}
		for _, e := range row {
			m.cls = append(m.cls, uint16(e.c))
			m.w = append(m.w, e.w)
		}
		kept = append(kept, h)
		m.offs = append(m.offs, uint32(len(m.cls)))
		if ctxHash[h] || h == tagBias|1 {
			m.idf = append(m.idf, 0)
		} else {
			m.idf = append(m.idf, idf[f])
		}
	}
	m.buildTable(kept)
	m.prepare()
	for _, r := range raws {
		for _, h := range r.sup {
			if h != 0 {
				m.support[supKey(h, int(r.label))]++
			}
		}
	}
	return m, nil
}

func supKey(h uint64, c int) uint64 { return classify.MixHashes(h, uint64(c)+1) }

func (m *Model) buildTable(hashes []uint64) {
	size := 16
	for size < 2*len(hashes) {
		size *= 2
	}
	m.slots = make([]uint64, size)
	m.index = make([]int32, size)
	for f, h := range hashes {
		i := int(classify.MixHashes(h, 0)) & (size - 1)
		for m.slots[i] != 0 {
			i = (i + 1) & (size - 1)
		}
		m.slots[i], m.index[i] = h, int32(f)
	}
}

// svm trains one-vs-rest linear SVMs (L2-regularised squared hinge loss)
// by dual coordinate descent, as liblinear does, one executor per worker.
// The bias is the weight of the always-present bias feature. It returns
// the weights feature-major (w[f*k+c]) and zero biases.
func svm(docs []trainDoc, nf, k int, cfg TrainConfig) ([]float32, []float32) {
	w := make([]float32, nf*k)
	diag := 0.5 / cfg.C
	qii := make([]float64, len(docs))
	for i := range docs {
		q := diag
		for _, v := range docs[i].vals {
			q += float64(v) * float64(v)
		}
		qii[i] = q
	}
	classes := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), k)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wc := make([]float64, nf)
			alpha := make([]float64, len(docs))
			order := make([]int, len(docs))
			for c := range classes {
				clear(wc)
				clear(alpha)
				for i := range order {
					order[i] = i
				}
				rng := rand.New(rand.NewPCG(cfg.Seed, uint64(c)))
				for range cfg.Epochs {
					rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
					maxPG, minPG := math.Inf(-1), math.Inf(1)
					for _, i := range order {
						d := &docs[i]
						y := -1.0
						if int(d.label) == c {
							y = 1
						}
						dot := 0.0
						for j, f := range d.feats {
							dot += wc[f] * float64(d.vals[j])
						}
						g := y*dot - 1 + diag*alpha[i]
						pg := g
						if alpha[i] == 0 {
							pg = min(g, 0)
						}
						maxPG, minPG = max(maxPG, pg), min(minPG, pg)
						if pg == 0 {
							continue
						}
						old := alpha[i]
						alpha[i] = max(old-g/qii[i], 0)
						if delta := (alpha[i] - old) * y; delta != 0 {
							for j, f := range d.feats {
								wc[f] += delta * float64(d.vals[j])
							}
						}
					}
					if maxPG-minPG < 0.1 {
						break
					}
				}
				for f, v := range wc {
					w[f*k+c] = float32(v)
				}
			}
		}()
	}
	for c := range k {
		classes <- c
	}
	close(classes)
	wg.Wait()
	return w, make([]float32, k)
}

func scores(z []float64, d *trainDoc, w, b []float32, k int) {
	for c := range z {
		z[c] = float64(b[c])
	}
	for j, f := range d.feats {
		x := float64(d.vals[j])
		row := w[int(f)*k : int(f)*k+k]
		for c, v := range row {
			z[c] += float64(v) * x
		}
	}
}

// softmax turns z into probabilities at temperature t, in place.
func softmax(z []float64, t float64) {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, v)
	}
	sum := 0.0
	for c, v := range z {
		e := math.Exp((v - mx) / t)
		z[c] = e
		sum += e
	}
	for c := range z {
		z[c] /= sum
	}
}

// fitIsotonic fits a non-decreasing step function from the held-out top
// probability to the share of those choices that were right (pool adjacent
// violators), so that the confidence a rule's threshold is compared with
// is a frequency, also at the top where softmax is overconfident.
func fitIsotonic(hold []trainDoc, w, b []float32, k int, temp float64) (xs, ys []float32) {
	type pt struct {
		p  float64
		ok float64
	}
	z := make([]float64, k)
	pts := make([]pt, len(hold))
	for i := range hold {
		scores(z, &hold[i], w, b, k)
		softmax(z, temp)
		best := 0
		for c := range z {
			if z[c] > z[best] {
				best = c
			}
		}
		pts[i] = pt{p: z[best]}
		if best == int(hold[i].label) {
			pts[i].ok = 1
		}
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].p < pts[j].p })
	// Blocks of equal means merge too, so the block means rise strictly.
	type block struct{ sumP, sum, n float64 }
	var bs []block
	for _, q := range pts {
		bs = append(bs, block{sumP: q.p, sum: q.ok, n: 1})
		for len(bs) > 1 {
			a, c := bs[len(bs)-2], bs[len(bs)-1]
			if (a.sum+0.5)/(a.n+1) < (c.sum+0.5)/(c.n+1) {
				break
			}
			bs = append(bs[:len(bs)-2], block{sumP: a.sumP + c.sumP, sum: a.sum + c.sum, n: a.n + c.n})
		}
	}
	for _, bl := range bs {
		xs = append(xs, float32(bl.sumP/bl.n))
		ys = append(ys, float32((bl.sum+0.5)/(bl.n+1))) // never a certain 0 or 1 from a few appeals
	}
	return xs, ys
}

// calibrate maps the softmax's top probability through the isotonic fit,
// interpolating between the blocks' centres (and from (0,0), to (1,1)), so
// that a higher probability still ranks higher.
func (m *Model) calibrate(p float64) float64 {
	if len(m.calX) == 0 {
		return p
	}
	i := sort.Search(len(m.calX), func(i int) bool { return float64(m.calX[i]) > p })
	x0, y0, x1, y1 := 0.0, 0.0, 1.0, 1.0
	if i > 0 {
		x0, y0 = float64(m.calX[i-1]), float64(m.calY[i-1])
	}
	if i < len(m.calX) {
		x1, y1 = float64(m.calX[i]), float64(m.calY[i])
	}
	if x1 <= x0 {
		return y0
	}
	return y0 + (y1-y0)*(p-x0)/(x1-x0)
}

// fitTemperature picks the temperature that minimises the held-out log
// loss, so that a confidence of 0.9 is right about nine times in ten.
func fitTemperature(hold []trainDoc, w, b []float32, k int) float64 {
	z := make([]float64, k)
	best, bestLoss := 1.0, math.Inf(1)
	for t := 0.01; t <= 3; t *= 1.1 {
		loss := 0.0
		for i := range hold {
			scores(z, &hold[i], w, b, k)
			softmax(z, t)
			loss -= math.Log(max(z[hold[i].label], 1e-12))
		}
		if loss < bestLoss {
			best, bestLoss = t, loss
		}
	}
	return best
}

// Predict returns the executor the model finds most likely for a, with its
// calibrated confidence and how many similar appeals of the training
// history that executor answered. It allocates nothing once the stem cache
// knows the appeal's words. When a.Analysis holds the stems of the text it
// reads (classify.ClassifyAppeal and the pipeline's classifier leave them
// there), it takes them instead of normalising and stemming the text
// again; the prediction is the same either way.
func (m *Model) Predict(a *appeal.Appeal) route.Prediction {
	if a == nil || len(m.labels) == 0 {
		return route.Prediction{}
	}
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	sup, _ := extract(s, a, m.cache)
	s.feats = append(s.feats, tagBias|1)
	k := len(m.labels)
	if cap(s.scores) < k {
		s.scores = make([]float64, k)
	}
	z := s.scores[:k]
	for c := range z {
		z[c] = float64(m.bias[c])
	}
	// Known features, each once with its count: text features weigh
	// (1+ln tf)·idf/‖text‖ as in training, context features m.ctx.
	s.cur++
	if s.cur == 0 { // wrapped: old generations could collide
		clear(s.seen[:])
		s.cur = 1
	}
	s.list, s.tf = s.list[:0], s.tf[:0]
	// Read every feature's home slot before probing any: the reads do not
	// depend on each other, so their cache misses overlap.
	mask := uint64(len(m.tab) - 1)
	var touch uint64
	s.home = slices.Grow(s.home[:0], len(s.feats))[:len(s.feats)]
	for i, h := range s.feats {
		si := classify.MixHashes(h, 0) & mask
		s.home[i] = uint32(si)
		touch += m.tab[si].h
	}
	s.touch = touch
	for i, h := range s.feats {
		if len(s.list) == maxMessageFeatures {
			break
		}
		si := uint64(s.home[i])
		for m.tab[si].h != h && m.tab[si].h != 0 {
			si = (si + 1) & mask
		}
		if m.tab[si].h == 0 {
			continue
		}
		f := int32(si)
		i := uint32(f) * 0x9e3779b9 >> (32 - seenBits)
		for {
			e := &s.seen[i]
			if e.gen != s.cur {
				*e = seenEntry{gen: s.cur, f: f, pos: int32(len(s.list))}
				s.list = append(s.list, f)
				s.tf = append(s.tf, 1)
				break
			}
			if e.f == f {
				s.tf[e.pos]++
				break
			}
			i = (i + 1) & (1<<seenBits - 1)
		}
	}
	norm := 0.0
	for j, f := range s.list {
		if v := m.tab[f].idf; v != 0 {
			x := (1 + logCount(s.tf[j])) * float64(v)
			s.tf[j] = float32(x)
			norm += x * x
		} else {
			s.tf[j] = m.ctx
		}
	}
	inv := 0.0
	if norm > 0 {
		inv = 1 / math.Sqrt(norm)
	}
	// As with the slots: read each feature's first weight before using
	// any.
	for _, f := range s.list {
		if fs := &m.tab[f]; fs.n > 0 {
			touch += uint64(m.cw[fs.off].c)
		}
	}
	s.touch = touch
	for j, f := range s.list {
		fs := &m.tab[f]
		x := float64(s.tf[j]) * m.wscale
		if fs.idf != 0 {
			x *= inv
		}
		for _, e := range m.cw[fs.off : fs.off+fs.n] {
			z[e.c] += float64(e.w) * x
		}
	}
	// The best (the first of the highest scores) and the runner-up (the
	// highest of the others), in one pass.
	best, mx, second := 0, z[0], math.Inf(-1)
	for c := 1; c < len(z); c++ {
		switch v := z[c]; {
		case v > mx:
			best, mx, second = c, v, mx
		case v > second:
			second = v
		}
	}
	return m.prediction(z, best, second, sup)
}

// prediction is Predict's answer from the scores z, the best executor's
// index and the runner-up's score, with the support keys sup.
func (m *Model) prediction(z []float64, best int, second float64, sup [3]uint64) route.Prediction {
	mx := z[best]
	// The others' share relative to the best. Terms more than 40
	// temperatures behind the runner-up are below its float64 precision,
	// so only the few near the top need an exponential.
	cut := second - 40*m.temp
	others := 0.0
	for c, v := range z {
		if c != best && v >= cut {
			others += math.Exp((v - mx) / m.temp)
		}
	}
	margin := 1000.0
	if others > 0 {
		margin = min(-math.Log(others), 1000)
	}
	p := route.Prediction{Executor: m.labels[best], Confidence: m.calibrate(1 / (1 + others)), Margin: margin, Support: int(m.counts[best])}
	for _, h := range sup {
		if h == 0 {
			continue
		}
		if n, ok := m.support[supKey(h, best)]; ok {
			p.Support = int(n)
			break
		}
	}
	return p
}

var _ route.Predictor = (*Model)(nil)
