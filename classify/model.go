package classify

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// Example is one labelled message for training or evaluation. Labels are
// free strings: rubricator codes, or a data set's own classes.
type Example struct {
	Text  string `json:"text"`  // the message as written (HTML allowed)
	Label string `json:"label"` // the class it belongs to
}

// ClassWeighting says how training compensates for unequal class sizes.
type ClassWeighting int

// Class weightings. Balanced weighting makes a rare class (stray animals)
// cost as much to get wrong as a frequent one (housing), which is what lifts
// macro-F1.
const (
	// SqrtBalancedWeights weighs each class by the square root of
	// n/(k·n_class): a compromise between accuracy on frequent classes and
	// recall of rare ones, and the best of the three on real appeals. The
	// default.
	SqrtBalancedWeights ClassWeighting = iota
	// BalancedWeights weighs each class by n/(k·n_class), as
	// scikit-learn's class_weight="balanced".
	BalancedWeights
	// NoClassWeights weighs every example the same.
	NoClassWeights
)

// TrainConfig tunes Train. The zero value gives the defaults, which were
// chosen on real appeal data.
type TrainConfig struct {
	// C is the inverse regularisation strength of the linear SVM
	// (default 1). Larger C fits the training data closer.
	C float64
	// ClassWeights is the class weighting (default SqrtBalancedWeights).
	ClassWeights ClassWeighting
	// MinDF drops features seen in fewer training messages. The default is
	// 1 below 10,000 examples, where every word counts, and 2 from there
	// on, where singletons only bloat the model: on 38,000 real appeals
	// MinDF 2 keeps a third of the features at the same quality, and a
	// smaller model classifies faster.
	MinDF int
	// NoBigrams restricts features to single stems.
	NoBigrams bool
	// BigramWeight scales stem-bigram features against single stems
	// (default 0.5). Full weight lets the many rare bigrams of a small
	// training set crowd out the stems; half weight measured best on both
	// small (2,000) and large (48,000) real sets.
	BigramWeight float64
	// PrefixRunes adds, for every stem longer than this many letters, a
	// feature of its first PrefixRunes letters (default 5; negative: off).
	// Prefixes tie together compounds, misspellings and forms the stemmer
	// splits ("мусоровоз", "мусорка"), which lifts rare classes.
	PrefixRunes int
	// MaxIter caps the passes of the solver over the data (default 40).
	MaxIter int
	// NoCalibration skips fitting the softmax temperature on held-out
	// data (faster; scores are then less well calibrated).
	NoCalibration bool
	// TopK is how many topics Classify returns (default 3).
	TopK int
	// Workers is how many goroutines train classes in parallel (default
	// 1: training is fast and callers may run several at once).
	Workers int
	// Seed makes the solver's example order reproducible (default 1).
	Seed uint64
	// Cache is the stem cache the model uses while training and after;
	// nil makes a new one of DefaultStemCacheSize.
	Cache *StemCache
}

// BaselineConfig is the classic baseline this package is measured against:
// TF-IDF over stem unigrams and full-weight bigrams and a one-vs-rest linear
// SVM with C=1 and no class weights, no stem prefixes, no calibration.
func BaselineConfig() TrainConfig {
	return TrainConfig{C: 1, ClassWeights: NoClassWeights, BigramWeight: 1, PrefixRunes: -1, NoCalibration: true}
}

func (c TrainConfig) withDefaults() TrainConfig {
	if c.C <= 0 {
		c.C = 1
	}
	if c.BigramWeight <= 0 {
		c.BigramWeight = 0.5
	}
	switch {
	case c.PrefixRunes == 0:
		c.PrefixRunes = defaultPrefixRunes
	case c.PrefixRunes < 0:
		c.PrefixRunes = 0
	}

	if c.MaxIter <= 0 {
		c.MaxIter = 40
	}
	if c.TopK <= 0 {
		c.TopK = 3
	}
	if c.Workers <= 0 {
		c.Workers = 1
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Cache == nil {
		c.Cache = NewStemCache(0)
	}
	return c
}

// Errors Train returns; match them with errors.Is.
var (
	// ErrNoExamples: Train got nothing to learn from.
	ErrNoExamples = errors.New("classify: no training examples")
	// ErrBadExample: an example is unusable (an empty label); the wrapping
	// error names its index.
	ErrBadExample = errors.New("classify: bad training example")
)

// Model is a trained topic classifier: a one-vs-rest linear SVM over
// TF-IDF weighted stem unigrams and bigrams with class-balanced costs,
// whose margins are turned into probabilities by a softmax with a
// temperature fitted on held-out data.
//
// A Model is safe for concurrent use. Build one with Train or Load.
type Model struct {
	labels []string
	feat   featureConfig
	topK   int
	hashes []uint64   // feature hash by feature number
	index  *featIndex // feature hash → feature number
	// rows holds, per feature, its IDF followed by its weight for every
	// class: rows[f*stride] is the IDF, rows[f*stride+1+c] the weight for
	// class c. One feature's numbers share a cache line.
	rows   []float32
	stride int
	bias   []float32 // by class
	temp   float64   // softmax temperature applied to margins
	cache  *StemCache
}

// Labels returns the model's labels in its internal order.
func (m *Model) Labels() []string { return slices.Clone(m.labels) }

// Features returns the number of features (stem unigrams and bigrams) the
// model knows.
func (m *Model) Features() int { return len(m.hashes) }

func (m *Model) idf(f int32) float32 { return m.rows[int(f)*m.stride] }

// weights returns feature f's weights by class.
func (m *Model) weights(f int32) []float32 {
	i := int(f)*m.stride + 1
	return m.rows[i : i+m.stride-1]
}

// csr is a sparse document-feature matrix in compressed row form.
type csr struct {
	rowPtr []int
	col    []int32
	val    []float32
}

func (x *csr) row(i int) ([]int32, []float32) {
	a, b := x.rowPtr[i], x.rowPtr[i+1]
	return x.col[a:b], x.val[a:b]
}

// Train learns a Model from labelled examples. Every example needs a
// non-empty label; texts may be empty (they teach nothing). At least two
// distinct labels are needed.
func Train(examples []Example, cfg TrainConfig) (*Model, error) {
	cfg = cfg.withDefaults()
	if len(examples) == 0 {
		return nil, ErrNoExamples
	}
	if cfg.MinDF <= 0 {
		cfg.MinDF = 1
		if len(examples) >= 10_000 {
			cfg.MinDF = 2
		}
	}
	labelIdx := map[string]int32{}
	var labels []string
	for i, ex := range examples {
		if ex.Label == "" {
			return nil, fmt.Errorf("%w: example %d has an empty label", ErrBadExample, i)
		}
		if _, ok := labelIdx[ex.Label]; !ok {
			labelIdx[ex.Label] = 0
			labels = append(labels, ex.Label)
		}
	}
	if len(labels) < 2 {
		return nil, fmt.Errorf("%w: need at least two distinct labels, got %q", ErrNoExamples, labels)
	}
	slices.Sort(labels)
	for i, l := range labels {
		labelIdx[l] = int32(i)
	}
	y := make([]int32, len(examples))
	for i, ex := range examples {
		y[i] = labelIdx[ex.Label]
	}

	m := &Model{labels: labels, feat: featureConfig{bigrams: !cfg.NoBigrams, prefix: cfg.PrefixRunes}, topK: cfg.TopK, cache: cfg.Cache, temp: 1}

	// Features of every document, and document frequencies.
	docFeats := make([][]uint64, len(examples))
	bigramSet := map[uint64]bool{}
	df := map[uint64]int32{}
	a := getAnalysis()
	for i, ex := range examples {
		a.run(ex.Text, cfg.Cache)
		f := appendFeatures(nil, a.ents, m.feat)
		if m.feat.bigrams && cfg.BigramWeight != 1 {
			markBigrams(a.stems, bigramSet)
		}
		slices.Sort(f)
		docFeats[i] = f
		for j, h := range f {
			if j == 0 || f[j-1] != h {
				df[h]++
			}
		}
	}
	putAnalysis(a)

	// Vocabulary with the most frequent features first (ties by hash, so
	// a model is reproducible): the rows of common words then share a
	// compact region of memory that stays in cache while classifying.
	hashes := make([]uint64, 0, len(df))
	for h, n := range df {
		if int(n) >= cfg.MinDF {
			hashes = append(hashes, h)
		}
	}
	slices.SortFunc(hashes, func(a, b uint64) int {
		if c := cmp.Compare(df[b], df[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	m.hashes = hashes
	m.index, _ = newFeatIndex(hashes) // distinct: they were map keys
	m.stride = len(labels) + 1
	m.rows = make([]float32, len(hashes)*m.stride)
	n := float64(len(examples))
	for i, h := range hashes {
		m.rows[i*m.stride] = float32(math.Log((1+n)/(1+float64(df[h]))) + 1)
		if bigramSet[h] {
			// Scaling the IDF scales the feature in every vector.
			m.rows[i*m.stride] *= float32(cfg.BigramWeight)
		}
	}

	// Document vectors.
	x := &csr{rowPtr: make([]int, 1, len(examples)+1)}
	var idx []int32
	var vals []float32
	var fc featCounter
	for _, f := range docFeats {
		idx, vals = m.vectorize(f, idx[:0], vals[:0], &fc)
		x.col = append(x.col, idx...)
		x.val = append(x.val, vals...)
		x.rowPtr = append(x.rowPtr, len(x.col))
	}
	docFeats = nil

	cw := classWeights(y, len(labels), cfg.ClassWeights)
	all := make([]int32, len(examples))
	for i := range all {
		all[i] = int32(i)
	}

	if !cfg.NoCalibration && len(examples) >= 50 {
		trainRows, heldRows := holdOut(y, 5, cfg.Seed)
		if len(heldRows) > 0 {
			w, b := trainOVR(x, y, trainRows, len(hashes), len(labels), cw, cfg)
			m.temp = fitTemperature(x, y, heldRows, w, b, len(labels))
		}
	}
	w, b := trainOVR(x, y, all, len(hashes), len(labels), cw, cfg)
	k := len(labels)
	m.bias = make([]float32, k)
	for c := 0; c < k; c++ {
		for f, v := range w[c] {
			m.rows[f*m.stride+1+c] = float32(v)
		}
		m.bias[c] = float32(b[c])
	}
	return m, nil
}

// vectorize turns feature hashes into a sparse, L2-normalised TF-IDF
// vector with sublinear term frequency. The order of the result follows
// first occurrence.
func (m *Model) vectorize(feats []uint64, idx []int32, vals []float32, fc *featCounter) ([]int32, []float32) {
	nums, counts := fc.countKnown(feats, m.index)
	var norm float64
	for i, f := range nums {
		tf := 1.0
		if counts[i] > 1 {
			tf += math.Log(float64(counts[i]))
		}
		v := tf * float64(m.idf(f))
		idx = append(idx, f)
		vals = append(vals, float32(v))
		norm += v * v
	}
	if len(idx) == 0 {
		return idx, vals
	}
	inv := float32(1 / math.Sqrt(norm))
	for i := range vals {
		vals[i] *= inv
	}
	return idx, vals
}

// featCounter counts the distinct features of a message; its memory is
// reused.
type featCounter struct {
	// count's hash table over feature hashes
	table     []int32 // slot → index into keys + 1; 0 = empty
	keys      []uint64
	keyCounts []int32
	// countKnown's result
	nums, counts []int32
}

// fewFeatures is the most features countKnown deduplicates with a bit set
// and a scan instead of a hash table: a short message repeats few
// features, and the hash table, cleared for every message, costs more.
const fewFeatures = 256

// countKnown looks up every feature hash in ix and returns the feature
// numbers of the known ones, each once in order of first occurrence, with
// how often each occurs. All lookups happen before any row of the model is
// touched: they do not depend on each other, so the processor overlaps
// their cache misses (the index and the rows of a real model are
// megabytes).
func (fc *featCounter) countKnown(feats []uint64, ix *featIndex) (nums, counts []int32) {
	nums, counts = fc.nums[:0], fc.counts[:0]
	if len(feats) > fewFeatures {
		keys, n := fc.count(feats)
		for i, h := range keys {
			if f, ok := ix.get(h); ok {
				nums = append(nums, f)
				counts = append(counts, n[i])
			}
		}
		fc.nums, fc.counts = nums, counts
		return nums, counts
	}
	// A feature whose bit is not set yet is new; only one whose bit is set
	// (seen, or sharing the bit) needs a scan.
	var seen [fewFeatures * 4 / 64]uint64
	for _, h := range feats {
		f, ok := ix.get(h)
		if !ok {
			continue
		}
		bit := uint(f) % uint(len(seen)*64)
		if seen[bit/64]&(1<<(bit%64)) != 0 {
			if j := slices.Index(nums, f); j >= 0 {
				counts[j]++
				continue
			}
		}
		seen[bit/64] |= 1 << (bit % 64)
		nums = append(nums, f)
		counts = append(counts, 1)
	}
	fc.nums, fc.counts = nums, counts
	return nums, counts
}

// count counts the distinct hashes of feats in order of first occurrence.
func (fc *featCounter) count(feats []uint64) ([]uint64, []int32) {
	size := 32
	for size < 2*len(feats) {
		size <<= 1
	}
	if cap(fc.table) < size {
		fc.table = make([]int32, size)
	}
	fc.table = fc.table[:size]
	clear(fc.table)
	fc.keys = fc.keys[:0]
	counts := fc.keyCounts[:0]
	mask := size - 1
	for _, h := range feats {
		s := int((h*0x9e3779b97f4a7c15)>>40) & mask
		for {
			e := fc.table[s]
			if e == 0 {
				fc.keys = append(fc.keys, h)
				counts = append(counts, 1)
				fc.table[s] = int32(len(fc.keys))
				break
			}
			if fc.keys[e-1] == h {
				counts[e-1]++
				break
			}
			s = (s + 1) & mask
		}
	}
	fc.keyCounts = counts
	return fc.keys, counts
}

func classWeights(y []int32, k int, how ClassWeighting) []float64 {
	counts := make([]float64, k)
	for _, c := range y {
		counts[c]++
	}
	w := make([]float64, k)
	for c := range w {
		switch how {
		case NoClassWeights:
			w[c] = 1
		case BalancedWeights:
			w[c] = float64(len(y)) / (float64(k) * counts[c])
		default:
			w[c] = math.Sqrt(float64(len(y)) / (float64(k) * counts[c]))
		}
	}
	return w
}

// holdOut splits rows into about (folds-1)/folds for training and 1/folds
// held out, stratified by label so that rare classes appear in both.
func holdOut(y []int32, folds int, seed uint64) (train, held []int32) {
	order := make([]int32, len(y))
	for i := range order {
		order[i] = int32(i)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(y[a], y[b]) })
	for i, r := range order {
		if i%folds == folds-1 {
			held = append(held, r)
		} else {
			train = append(train, r)
		}
	}
	return train, held
}

// trainOVR trains one binary SVM per class on the given rows.
func trainOVR(x *csr, y []int32, rows []int32, nFeat, k int, cw []float64, cfg TrainConfig) ([][]float64, []float64) {
	w := make([][]float64, k)
	b := make([]float64, k)
	jobs := make(chan int)
	var wg sync.WaitGroup
	workers := min(cfg.Workers, k, runtime.GOMAXPROCS(0))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				w[c] = make([]float64, nFeat)
				b[c] = trainBinary(x, y, rows, int32(c), cw, cfg, w[c])
			}
		}()
	}
	for c := range k {
		jobs <- c
	}
	close(jobs)
	wg.Wait()
	return w, b
}

// trainBinary fits an L2-regularised squared-hinge-loss linear SVM for
// class c against the rest by dual coordinate descent (Hsieh et al. 2008,
// the liblinear solver), with a bias term treated as a feature of value 1.
// It fills w and returns the bias.
func trainBinary(x *csr, y []int32, rows []int32, c int32, cw []float64, cfg TrainConfig, w []float64) float64 {
	n := len(rows)
	alpha := make([]float64, n)
	diag := make([]float64, n) // D_ii = 1/(2·C_i)
	qii := make([]float64, n)
	for i, r := range rows {
		diag[i] = 1 / (2 * cfg.C * cw[y[r]])
		_, v := x.row(int(r))
		var sq float64
		for _, e := range v {
			sq += float64(e) * float64(e)
		}
		qii[i] = sq + 1 + diag[i]
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(c)+1))
	var bias float64
	// Shrinking as in liblinear: an example whose alpha sits at 0 with a
	// gradient beyond last pass's extremes is unlikely to move, so it is
	// left out until the active set converges; then all are checked again.
	active := n
	pgMaxOld, pgMinOld := math.Inf(1), math.Inf(-1)
	for iter := 0; iter < cfg.MaxIter; iter++ {
		rng.Shuffle(active, func(i, j int) { order[i], order[j] = order[j], order[i] })
		pgMax, pgMin := math.Inf(-1), math.Inf(1)
		for s := 0; s < active; s++ {
			i := order[s]
			r := rows[i]
			idx, val := x.row(int(r))
			yi := -1.0
			if y[r] == c {
				yi = 1
			}
			dot := bias
			for j, f := range idx {
				dot += w[f] * float64(val[j])
			}
			g := yi*dot - 1 + alpha[i]*diag[i]
			pg := 0.0
			if alpha[i] == 0 {
				if g > pgMaxOld {
					active--
					order[s], order[active] = order[active], order[s]
					s--
					continue
				}
				if g < 0 {
					pg = g
				}
			} else {
				pg = g
			}
			pgMax = max(pgMax, pg)
			pgMin = min(pgMin, pg)
			if math.Abs(pg) <= 1e-12 {
				continue
			}
			old := alpha[i]
			alpha[i] = max(old-g/qii[i], 0)
			d := (alpha[i] - old) * yi
			for j, f := range idx {
				w[f] += d * float64(val[j])
			}
			bias += d
		}
		if pgMax-pgMin <= 0.1 {
			if active == n {
				break
			}
			active = n
			pgMaxOld, pgMinOld = math.Inf(1), math.Inf(-1)
			continue
		}
		pgMaxOld, pgMinOld = pgMax, pgMin
		if pgMaxOld <= 0 {
			pgMaxOld = math.Inf(1)
		}
		if pgMinOld >= 0 {
			pgMinOld = math.Inf(-1)
		}
	}
	return bias
}

// fitTemperature finds the softmax temperature that maximises the
// likelihood of the held-out labels given the SVM margins.
func fitTemperature(x *csr, y []int32, rows []int32, w [][]float64, b []float64, k int) float64 {
	margins := make([][]float64, len(rows))
	for i, r := range rows {
		idx, val := x.row(int(r))
		m := make([]float64, k)
		for c := range k {
			s := b[c]
			for j, f := range idx {
				s += w[c][f] * float64(val[j])
			}
			m[c] = s
		}
		margins[i] = m
	}
	nll := func(logT float64) float64 {
		t := math.Exp(logT)
		var sum float64
		for i, r := range rows {
			m := margins[i]
			mx := slices.Max(m)
			var z float64
			for _, v := range m {
				z += math.Exp(t * (v - mx))
			}
			sum -= t*(m[y[r]]-mx) - math.Log(z)
		}
		return sum
	}
	// Golden-section search over log T in [ln 0.05, ln 100].
	lo, hi := math.Log(0.05), math.Log(100)
	phi := (math.Sqrt(5) - 1) / 2
	a, bb := hi-phi*(hi-lo), lo+phi*(hi-lo)
	fa, fb := nll(a), nll(bb)
	for range 40 {
		if fa < fb {
			hi, bb, fb = bb, a, fa
			a = hi - phi*(hi-lo)
			fa = nll(a)
		} else {
			lo, a, fa = a, bb, fb
			bb = lo + phi*(hi-lo)
			fb = nll(bb)
		}
	}
	return math.Exp((lo + hi) / 2)
}

// Classify returns the model's top-k topics for text with calibrated
// probabilities, and appeal-vs-noise and urgency from the shipped
// rubricator's signals, so that a pipeline given a bare Model does not take
// every message for noise. Wrap the model in an Engine to use another
// rubricator or to find places.
func (m *Model) Classify(text string) Result {
	a := getAnalysis()
	defer putAnalysis(a)
	a.run(text, m.cache)
	return m.classify(a)
}

// classify is Classify of the text a has analysed.
func (m *Model) classify(a *analysis) Result {
	sig := DefaultRubricator().signals(a, nil)
	return Result{
		Topics:        m.topics(a, m.topK),
		IsAppeal:      sig.isAppeal(),
		AppealScore:   sig.appealScore,
		Urgent:        len(sig.urgent) > 0,
		UrgentReasons: sig.urgent,
	}
}

// topics scores the analysed text.
func (m *Model) topics(a *analysis, topK int) []Topic {
	m.margins(a)
	return topKSoftmax(a.marg, m.temp, m.labels, topK)
}

// margins fills a.marg with the SVM margin of every class.
func (m *Model) margins(a *analysis) {
	a.feats = appendFeatures(a.feats[:0], a.ents, m.feat)
	a.idx, a.vals = m.vectorize(a.feats, a.idx[:0], a.vals[:0], &a.counter)
	k := len(m.labels)
	a.marg = slices.Grow(a.marg[:0], k)[:k]
	marg := a.marg
	idx, vals := a.idx, a.vals[:len(a.idx)]
	rows, stride := m.rows, m.stride
	if k < 4 {
		for c := range k {
			s := float64(m.bias[c])
			for j, f := range idx {
				s += float64(vals[j] * rows[int(f)*stride+1+c])
			}
			marg[c] = s
		}
		return
	}
	// Four classes at a time, each summing its features in the same order
	// as one class at a time would (so the margins are the same to the
	// last bit), with the sums in registers rather than in memory. The
	// last four may overlap the four before; they get the same sums again.
	for c0 := 0; c0 < k; c0 += 4 {
		c := min(c0, k-4)
		s0, s1, s2, s3 := float64(m.bias[c]), float64(m.bias[c+1]), float64(m.bias[c+2]), float64(m.bias[c+3])
		for j, f := range idx {
			v := vals[j]
			i := int(f)*stride + 1 + c
			w := rows[i : i+4 : i+4]
			s0 += float64(v * w[0])
			s1 += float64(v * w[1])
			s2 += float64(v * w[2])
			s3 += float64(v * w[3])
		}
		marg[c], marg[c+1], marg[c+2], marg[c+3] = s0, s1, s2, s3
	}
}

// topKSoftmax turns margins into probabilities with temperature t and
// returns the k best, best first. It overwrites marg with the unnormalised
// probabilities, so that each exponential is computed once.
func topKSoftmax(marg []float64, t float64, labels []string, k int) []Topic {
	mx := slices.Max(marg)
	var z float64
	for c, v := range marg {
		marg[c] = math.Exp(t * (v - mx))
		z += marg[c]
	}
	k = min(k, len(marg))
	out := make([]Topic, 0, k)
	for c, e := range marg {
		p := e / z
		if len(out) < k {
			out = append(out, Topic{Code: labels[c], Score: p})
		} else if p > out[k-1].Score {
			out[k-1] = Topic{Code: labels[c], Score: p}
		} else {
			continue
		}
		// Keep out sorted by score, best first (k is small).
		for i := len(out) - 1; i > 0 && out[i].Score > out[i-1].Score; i-- {
			out[i], out[i-1] = out[i-1], out[i]
		}
	}
	return out
}

// markBigrams adds the bigram hashes of stems to set.
func markBigrams(stems []string, set map[uint64]bool) {
	prev := ""
	var prevHash uint64
	for _, s := range stems {
		if !isFeatureStem(s) {
			prev = ""
			continue
		}
		h := unigramHash(s)
		if prev != "" {
			set[bigramHash(prevHash, h)] = true
		}
		prev, prevHash = s, h
	}
}
