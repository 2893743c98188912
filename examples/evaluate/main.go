// Command evaluate measures a classifier on labelled appeals.
//
// With -train it trains a model (classify.Train) on TRAIN and evaluates it on
// TEST:
//
//	go run ./examples/evaluate -train TRAIN.jsonl[.gz] -test TEST.jsonl[.gz]
//
// With -data it splits one file deterministically (stratified by label) and
// trains on the first part, which is what CI uses:
//
//	go run ./examples/evaluate -data ../shared/data/kursk/train.jsonl -split 0.8 -seed 1 -min-accuracy 0.80 -min-macro-f1 0.40
//
// Without -train or -data it evaluates the shipped rubricator on -test; the
// labels must then be rubricator topic codes.
//
// Each input line is a JSON object with at least "text" and "label". The
// program prints the per-class table and, as its last line,
//
//	accuracy=0.xxxx macro_f1=0.xxxx weighted_f1=0.xxxx classify_per_s=N
//
// and exits with status 1 when accuracy is below -min-accuracy (or macro-F1
// below -min-macro-f1), 2 on bad input. -baseline also trains the classic
// TF-IDF + linear SVM baseline (classify.BaselineConfig) on the same data and
// prints its scores for comparison; -save writes the trained model; -confusion
// prints the confusion matrix. Texts are never printed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/appealkit/appealkit/classify"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "evaluate:", err)
		if errors.Is(err, errBelowFloor) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

var errBelowFloor = errors.New("below the quality floor")

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	trainPath := fs.String("train", "", "training examples (JSON Lines, optionally gzip)")
	testPath := fs.String("test", "", "test examples (JSON Lines, optionally gzip)")
	dataPath := fs.String("data", "", "one examples file to split into train and test (instead of -train/-test)")
	split := fs.Float64("split", 0.8, "with -data: the share of each label used for training")
	seed := fs.Uint64("seed", 1, "with -data: the split seed")
	minAcc := fs.Float64("min-accuracy", 0, "exit with status 1 when accuracy is below this")
	minMacro := fs.Float64("min-macro-f1", 0, "exit with status 1 when macro-F1 is below this")
	baseline := fs.Bool("baseline", false, "also train and report the unweighted TF-IDF + linear SVM baseline")
	modelOut := fs.String("save", "", "write the trained model to this file")
	confusion := fs.Bool("confusion", false, "print the confusion matrix")
	if err := fs.Parse(args); err != nil {
		return err
	}

	var train, test []classify.Example
	var err error
	switch {
	case *dataPath != "":
		if *trainPath != "" || *testPath != "" {
			return errors.New("-data excludes -train and -test")
		}
		if *split <= 0 || *split >= 1 {
			return fmt.Errorf("-split %v: want a share between 0 and 1", *split)
		}
		all, err := readFile(*dataPath)
		if err != nil {
			return err
		}
		train, test = classify.SplitExamples(all, *split, *seed)
		fmt.Fprintf(out, "split %s: %d train, %d test (seed %d)\n", *dataPath, len(train), len(test), *seed)
	case *testPath == "":
		return errors.New("need -test FILE (with -train FILE), or -data FILE")
	default:
		if test, err = readFile(*testPath); err != nil {
			return err
		}
		if *trainPath != "" {
			if train, err = readFile(*trainPath); err != nil {
				return err
			}
		}
	}

	var c classify.Classifier
	if train != nil {
		if *baseline {
			start := time.Now()
			b, err := classify.Train(train, classify.BaselineConfig())
			if err != nil {
				return err
			}
			r := classify.Evaluate(b, test)
			fmt.Fprintf(out, "baseline (tf-idf stem uni+bigrams, linear SVM C=1, no class weights; trained in %v): accuracy=%.4f macro_f1=%.4f weighted_f1=%.4f\n",
				time.Since(start).Round(time.Millisecond), r.Accuracy, r.MacroF1, r.WeightedF1)
		}
		start := time.Now()
		m, err := classify.Train(train, classify.TrainConfig{})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "trained on %d examples, %d labels, %d features in %v\n", len(train), len(m.Labels()), m.Features(), time.Since(start).Round(time.Millisecond))
		if *modelOut != "" {
			if err := saveModel(m, *modelOut); err != nil {
				return err
			}
		}
		c = m
	} else {
		e, err := classify.New()
		if err != nil {
			return err
		}
		c = e
		warnForeignLabels(out, test, e.Rubricator())
	}

	start := time.Now()
	r := classify.Evaluate(c, test)
	elapsed := time.Since(start)
	if err := r.WriteTable(out); err != nil {
		return err
	}
	if *confusion {
		printConfusion(out, r)
	}
	perSec := 0
	if elapsed > 0 {
		perSec = int(float64(len(test)) / elapsed.Seconds())
	}
	fmt.Fprintf(out, "accuracy=%.4f macro_f1=%.4f weighted_f1=%.4f classify_per_s=%d\n", r.Accuracy, r.MacroF1, r.WeightedF1, perSec)
	if r.Accuracy < *minAcc {
		return fmt.Errorf("%w: accuracy %.4f < %.4f", errBelowFloor, r.Accuracy, *minAcc)
	}
	if r.MacroF1 < *minMacro {
		return fmt.Errorf("%w: macro-F1 %.4f < %.4f", errBelowFloor, r.MacroF1, *minMacro)
	}
	return nil
}

func readFile(path string) ([]classify.Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ex, err := classify.ReadExamples(f, path)
	if err != nil {
		return nil, err
	}
	if len(ex) == 0 {
		return nil, fmt.Errorf("%s: no examples", path)
	}
	return ex, nil
}

func saveModel(m *classify.Model, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := m.Save(f); err != nil {
		f.Close()
		return fmt.Errorf("save %s: %w", path, err)
	}
	return f.Close()
}

func printConfusion(out io.Writer, r classify.Report) {
	fmt.Fprintln(out, "confusion (rows: true label, columns: predicted, in label order):")
	for i, l := range r.Labels {
		if l == "" {
			l = "(none)"
		}
		fmt.Fprintf(out, "%-28.28s", l)
		for _, n := range r.Confusion[i] {
			fmt.Fprintf(out, " %4d", n)
		}
		fmt.Fprintln(out)
	}
}

// warnForeignLabels says so when the data's labels are not the rubricator's
// topic codes: the shipped rubricator can then never be right on them, and
// an accuracy near zero would otherwise look like a broken classifier
// rather than a wrong -test file (or a missing -train).
func warnForeignLabels(out io.Writer, test []classify.Example, rub *classify.Rubricator) {
	codes := map[string]bool{}
	for _, t := range rub.Topics() {
		codes[t.Code] = true
	}
	seen := map[string]bool{}
	var foreign []string
	n := 0
	for _, ex := range test {
		if codes[ex.Label] {
			continue
		}
		n++
		if !seen[ex.Label] {
			seen[ex.Label] = true
			foreign = append(foreign, ex.Label)
		}
	}
	if n == 0 {
		return
	}
	slices.Sort(foreign)
	shown := foreign
	if len(shown) > 8 {
		shown = shown[:8]
	}
	fmt.Fprintf(out, "warning: %d of %d examples have labels that are not the rubricator's topic codes (%d labels: %s%s); "+
		"the shipped rubricator cannot predict them: give -train (or -data) to train a model on these labels\n",
		n, len(test), len(foreign), strings.Join(shown, ", "), map[bool]string{true: ", ...", false: ""}[len(foreign) > 8])
}
