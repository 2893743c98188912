package classify

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// ClassMetrics are the precision, recall and F1 of one label.
type ClassMetrics struct {
	Label     string  `json:"label"`
	Precision float64 `json:"precision"` // share of predictions of Label that were right
	Recall    float64 `json:"recall"`    // share of examples of Label that were found
	F1        float64 `json:"f1"`        // harmonic mean of precision and recall
	// Support is the number of examples with this true label.
	Support int `json:"support"`
}

// Report is the outcome of Evaluate.
type Report struct {
	// Examples is the number of examples evaluated.
	Examples int `json:"examples"`
	// Accuracy is the share of examples whose top topic equals the label.
	Accuracy float64 `json:"accuracy"`
	// MacroF1 is the unweighted mean F1 over the true labels: every class
	// counts the same, however rare.
	MacroF1 float64 `json:"macro_f1"`
	// WeightedF1 is the mean F1 over the true labels weighted by support.
	WeightedF1 float64 `json:"weighted_f1"`
	// Classes holds per-label metrics for every label seen in the data or
	// predicted, sorted by label.
	Classes []ClassMetrics `json:"classes"`
	// Labels index the confusion matrix; it includes predicted labels that
	// never occur in the data, and "" for "no topic".
	Labels []string `json:"labels"`
	// Confusion[i][j] counts examples with true label Labels[i] that were
	// predicted as Labels[j].
	Confusion [][]int `json:"confusion"`
}

// Evaluate classifies every example with c and compares the top topic with
// the label. Macro and weighted F1 average over the labels that occur in the
// examples; a label that is predicted but never occurs appears in Classes
// with zero support and in the confusion matrix, and does not enter the
// averages.
func Evaluate(c Classifier, examples []Example) Report {
	pred := make([]string, len(examples))
	for i, ex := range examples {
		pred[i] = c.Classify(ex.Text).Top()
	}
	return score(examples, pred)
}

func score(examples []Example, pred []string) Report {
	set := map[string]bool{}
	for i, ex := range examples {
		set[ex.Label] = true
		set[pred[i]] = true
	}
	labels := make([]string, 0, len(set))
	for l := range set {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	pos := make(map[string]int, len(labels))
	for i, l := range labels {
		pos[l] = i
	}
	r := Report{Examples: len(examples), Labels: labels, Confusion: make([][]int, len(labels))}
	for i := range r.Confusion {
		r.Confusion[i] = make([]int, len(labels))
	}
	correct := 0
	for i, ex := range examples {
		r.Confusion[pos[ex.Label]][pos[pred[i]]]++
		if ex.Label == pred[i] {
			correct++
		}
	}
	if len(examples) == 0 {
		return r
	}
	r.Accuracy = float64(correct) / float64(len(examples))
	trueLabels := 0
	for i, l := range labels {
		tp := r.Confusion[i][i]
		support, predicted := 0, 0
		for j := range labels {
			support += r.Confusion[i][j]
			predicted += r.Confusion[j][i]
		}
		if support == 0 && (l == "" || predicted == 0) {
			continue
		}
		m := ClassMetrics{Label: l, Support: support}
		if predicted > 0 {
			m.Precision = float64(tp) / float64(predicted)
		}
		if support > 0 {
			m.Recall = float64(tp) / float64(support)
		}
		if m.Precision+m.Recall > 0 {
			m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
		}
		r.Classes = append(r.Classes, m)
		if support > 0 {
			trueLabels++
			r.MacroF1 += m.F1
			r.WeightedF1 += m.F1 * float64(support)
		}
	}
	if trueLabels > 0 {
		r.MacroF1 /= float64(trueLabels)
	}
	r.WeightedF1 /= float64(len(examples))
	return r
}

// WriteTable writes the per-class table and the summary line to w.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "label\tprecision\trecall\tf1\tsupport\t")
	for _, c := range r.Classes {
		l := c.Label
		if l == "" {
			l = "(none)"
		}
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%d\t\n", l, c.Precision, c.Recall, c.F1, c.Support)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "examples=%d accuracy=%.4f macro_f1=%.4f weighted_f1=%.4f\n", r.Examples, r.Accuracy, r.MacroF1, r.WeightedF1)
	return err
}

// String returns the table WriteTable writes.
func (r Report) String() string {
	var b strings.Builder
	_ = r.WriteTable(&b)
	return b.String()
}
