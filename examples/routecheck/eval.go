package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/route/learn"
)

// scores are the executor agreements of one measurement on n appeals.
type scores struct {
	rules, model, combined float64
	n                      int
}

type evalConfig struct {
	e                              *route.Engine
	mapping                        learn.Mapping
	test                           []learn.Record
	rules                          learn.Report
	trainPath, modelPath, savePath string
	threshold                      float64
	train                          learn.TrainConfig
	gaz                            *classify.Gazetteer
	now                            time.Time
}

// evaluate trains (or loads) the learned router and measures rules only,
// model only and both on the test history. The last line it prints is the
// combined agreement.
func evaluate(out io.Writer, c evalConfig) (scores, error) {
	res := learn.NewResolver(c.e)
	var model *learn.Model
	var perRule map[string]float64 // thresholds from how each rule fared on the training history
	if c.modelPath != "" {
		f, err := os.Open(c.modelPath)
		if err != nil {
			return scores{}, err
		}
		model, err = learn.LoadModel(f)
		f.Close()
		if err != nil {
			return scores{}, fmt.Errorf("-model %s: %w", c.modelPath, err)
		}
		fmt.Fprintf(out, "\nlearned router: loaded %s (%d executors, %d features)\n", c.modelPath, len(model.Labels()), model.Features())
		if c.threshold == 0 {
			perRule = model.Thresholds() // as it was measured when saved; nil: the common threshold
		}
	} else {
		train, _, err := learn.Open(c.trainPath, c.mapping)
		if err != nil {
			return scores{}, err
		}
		findPlaces(c.gaz, train)
		matchDistricts(c.e, train)
		t0 := time.Now()
		model, err = learn.Train(learn.Examples(train, res), c.train)
		if err != nil {
			return scores{}, fmt.Errorf("training on %s: %w", c.trainPath, err)
		}
		fmt.Fprintf(out, "\nlearned router: trained on %s: %d appeals, %d executors, %d features, %.1fs\n",
			c.trainPath, len(train), len(model.Labels()), model.Features(), time.Since(t0).Seconds())
		if c.threshold == 0 {
			// The model decides where it is more likely right than the rule
			// that would: each rule's agreement with the training history
			// (rules seen fewer than 5 times keep the default threshold).
			perRule = learn.RuleThresholds(learn.Check(c.e, train, c.now), 5)
			model = model.WithThresholds(perRule) // saved with it, so a deployment routes as measured here
		}
		if c.savePath != "" {
			if err := saveModel(model, c.savePath); err != nil {
				return scores{}, err
			}
			fmt.Fprintf(out, "                saved to %s\n", c.savePath)
		}
	}

	type scored struct {
		conf, margin float64
		right        bool
	}
	var preds []scored
	modelAgree, n := 0, 0
	for i := range c.test {
		r := &c.test[i]
		if r.Executor == "" {
			continue
		}
		n++
		truth := res.Resolve(r.Executor)
		if truth == "" {
			truth = r.Executor
		}
		p := model.Predict(r.Appeal())
		ok := p.Executor == truth
		if ok {
			modelAgree++
		}
		preds = append(preds, scored{p.Confidence, p.Margin, ok})
	}
	combined := func(thr float64, perRule map[string]float64) (agree int, learned int, perDecision time.Duration) {
		router := route.WithModel(c.e, model, thr)
		if perRule != nil {
			router = router.WithRuleThresholds(perRule)
		}
		var spent time.Duration
		for i := range c.test {
			r := &c.test[i]
			if r.Executor == "" {
				continue
			}
			a := r.Appeal()
			t0 := time.Now()
			d := router.Route(a, c.now)
			spent += time.Since(t0)
			if d.Learned {
				learned++
			}
			if want := res.Resolve(r.Executor); want != "" && !d.Reject && d.Executor == want {
				agree++
			}
		}
		return agree, learned, spent / time.Duration(max(n, 1))
	}
	agree, learned, per := combined(c.threshold, perRule)
	ratio := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	fmt.Fprintf(out, "\nexecutor agreement on %d appeals of %s:\n", n, "-history")
	fmt.Fprintf(out, "  rules only                 %.4f\n", c.rules.Agreement())
	fmt.Fprintf(out, "  model only                 %.4f\n", ratio(modelAgree, n))
	how := fmt.Sprintf("threshold %.2f", route.WithModel(c.e, nil, c.threshold).Threshold())
	if perRule != nil {
		how = "threshold per rule: its agreement on the training history"
	}
	fmt.Fprintf(out, "  combined                   %.4f  (%s; the model decided %d of %d appeals; %v per decision)\n",
		ratio(agree, n), how, learned, n, per.Round(10*time.Nanosecond))

	sort.Slice(preds, func(i, j int) bool {
		if preds[i].conf != preds[j].conf {
			return preds[i].conf > preds[j].conf
		}
		return preds[i].margin > preds[j].margin
	})
	fmt.Fprintln(out, "\nmodel confidence threshold: coverage (appeals it would route alone), precision on them; combined agreement")
	for _, t := range []float64{0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99} {
		cov, right := 0, 0
		for _, p := range preds {
			if p.conf < t {
				break
			}
			cov++
			if p.right {
				right++
			}
		}
		ag, _, _ := combined(t, nil)
		fmt.Fprintf(out, "  ≥%.2f  coverage %.4f  precision %.4f   combined %.4f\n", t, ratio(cov, n), ratio(right, cov), ratio(ag, n))
	}
	bestCov, bestThr, right := 0, 1.0, 0
	for i, p := range preds {
		if p.right {
			right++
		}
		if float64(right) >= 0.95*float64(i+1) && (i+1 == len(preds) || preds[i+1].conf < p.conf || preds[i+1].margin < p.margin) {
			bestCov, bestThr = i+1, p.conf
		}
	}
	fmt.Fprintf(out, "at 95%% precision the model routes %.4f of the appeals alone (confidence ≥ %.3f)\n", ratio(bestCov, n), bestThr)
	fmt.Fprintf(out, "\nagree=%.4f n=%d\n", ratio(agree, n), n)
	return scores{rules: c.rules.Agreement(), model: ratio(modelAgree, n), combined: ratio(agree, n), n: n}, nil
}

func saveModel(m *learn.Model, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := m.Save(f); err != nil {
		f.Close()
		return fmt.Errorf("saving %s: %w", path, err)
	}
	return f.Close()
}

// lint checks a rules file that parsed: it prints warnings and returns an
// error only for what Parse refused (reported before this is called).
func lint(e *route.Engine, path string, out io.Writer) error {
	ws := e.Lint()
	fmt.Fprintf(out, "%s (%s): %d rules, %d executors, fallback %s: no errors", path, e.Name(), len(e.Rules()), len(e.Executors()), e.FallbackExecutor())
	if len(ws) == 0 {
		fmt.Fprintln(out, ", no warnings")
		return nil
	}
	fmt.Fprintf(out, ", %d warnings:\n", len(ws))
	for _, w := range ws {
		fmt.Fprintf(out, "  %s:%d: %s\n", path, w.Line, w.Msg)
	}
	return nil
}

// historyLine is one record of a history file, kept as it was written.
type historyLine struct {
	raw     []byte
	created string
}

// readHistory reads the records of a history file (JSON Lines, optionally
// .gz); byDate is true when every record has a "created" date.
func readHistory(path string) (lines []historyLine, byDate bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	byDate = true
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for no := 1; sc.Scan(); no++ {
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var obj struct {
			Created string `json:"created"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return nil, false, fmt.Errorf("%s:%d: not a JSON object: %w", path, no, err)
		}
		if obj.Created == "" {
			byDate = false
		}
		lines = append(lines, historyLine{raw: append([]byte(nil), b...), created: obj.Created})
	}
	if err := sc.Err(); err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(lines) < 2 {
		return nil, false, errors.New("-split: fewer than two records")
	}
	if byDate {
		sort.SliceStable(lines, func(i, j int) bool { return lines[i].created < lines[j].created })
	}
	return lines, byDate, nil
}

// writeSplit writes DIR/train.jsonl and DIR/test.jsonl.
func writeSplit(dir string, trainLines, testLines []historyLine) (train, test string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	train, test = filepath.Join(dir, "train.jsonl"), filepath.Join(dir, "test.jsonl")
	for _, part := range []struct {
		path  string
		lines []historyLine
	}{{train, trainLines}, {test, testLines}} {
		var b []byte
		for _, l := range part.lines {
			b = append(append(b, l.raw...), '\n')
		}
		if err := os.WriteFile(part.path, b, 0o600); err != nil {
			return "", "", err
		}
	}
	return train, test, nil
}

// splitFile splits the history at path into DIR/train.jsonl (the older
// frac by "created" when every record has it, else the first frac in file
// order) and DIR/test.jsonl.
func splitFile(path, dir string, frac float64) (train, test, desc string, err error) {
	lines, byDate, err := readHistory(path)
	if err != nil {
		return "", "", "", err
	}
	if byDate {
		desc = fmt.Sprintf("%s by \"created\": older %.0f%% for training", path, 100*frac)
	} else {
		desc = fmt.Sprintf("%s in file order: the first %.0f%% for training", path, 100*frac)
	}
	cut := int(float64(len(lines)) * frac)
	train, test, err = writeSplit(dir, lines[:cut], lines[cut:])
	return train, test, desc, err
}

// splitFolds cuts the history at path into k consecutive parts (by
// "created" when every record has it, else in file order) and writes, for
// each, DIR/foldN/test.jsonl with the part and DIR/foldN/train.jsonl with
// the rest: k-fold cross-validation, each appeal tested once.
func splitFolds(path, dir string, k int) (folds [][2]string, err error) {
	lines, _, err := readHistory(path)
	if err != nil {
		return nil, err
	}
	if k < 2 || k > len(lines) {
		return nil, fmt.Errorf("-folds %d: want 2 to %d (the records of %s)", k, len(lines), path)
	}
	for f := range k {
		lo, hi := f*len(lines)/k, (f+1)*len(lines)/k
		rest := append(append([]historyLine(nil), lines[:lo]...), lines[hi:]...)
		tr, te, err := writeSplit(filepath.Join(dir, fmt.Sprintf("fold%d", f+1)), rest, lines[lo:hi])
		if err != nil {
			return nil, err
		}
		folds = append(folds, [2]string{tr, te})
	}
	return folds, nil
}
