package main

import (
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/appealkit/appealkit"
)

// tally counts what the pipeline did in this run, from its Processed hook.
type tally struct {
	mu       sync.Mutex
	stored   int           // newly stored (routed, rejected or stored as is)
	seen     int           // every appeal processed, duplicates and failures included
	classify time.Duration // summed time in the classifier
	failed   int
}

func (t *tally) add(r appealkit.Result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seen++
	t.classify += r.Classify
	switch r.Outcome {
	case appealkit.OutcomeRouted, appealkit.OutcomeRejected, appealkit.OutcomeStored:
		t.stored++
	case appealkit.OutcomeFailed, appealkit.OutcomeDeadLettered:
		t.failed++
	}
}

// print writes the run's rate, e.g. «сохранено 47 911 за 2,1 с, 22 800 в
// секунду», and the classifier's own rate per core: appeals over the
// summed wall time of its calls in this run (on a busy machine that time
// includes waiting for a core, so it is a lower bound).
func (t *tally) print(out io.Writer, elapsed time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	secs := elapsed.Seconds()
	fmt.Fprintf(out, "\nЗа этот запуск: сохранено %s за %s с, %s в секунду", groupDigits(t.stored),
		decimalComma(secs), groupDigits(int(float64(t.stored)/secs+0.5)))
	if dup := t.seen - t.stored - t.failed; dup > 0 {
		fmt.Fprintf(out, "; %s уже были сохранены", groupDigits(dup))
	}
	if t.failed > 0 {
		fmt.Fprintf(out, "; %s не приняты", groupDigits(t.failed))
	}
	fmt.Fprintln(out)
	if t.classify > 0 && t.seen > 0 {
		fmt.Fprintf(out, "Классификатор сам по себе: %s сообщений в секунду на ядро (по времени его вызовов в этом запуске)\n",
			groupDigits(int(float64(t.seen)/t.classify.Seconds()+0.5)))
	}
}

// groupDigits writes n with its thousands separated by a no-break space,
// as Russian text does: 47 911.
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, "\u00a0"...)
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}

// decimalComma writes x with one decimal and a comma: 2,1.
func decimalComma(x float64) string {
	s := strconv.FormatFloat(x, 'f', 1, 64)
	for i := range len(s) {
		if s[i] == '.' {
			return s[:i] + "," + s[i+1:]
		}
	}
	return s
}
