package classify

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// longText returns a message of n words. With the Kursk data present the
// words are real citizens' texts run together (real vocabulary, HTML
// included, as a long complaint is); otherwise the synthetic vocabulary.
func longText(tb testing.TB, n int) string {
	tb.Helper()
	var words []string
	if _, err := os.Stat(kurskPath); err == nil {
		for _, ex := range loadShared(tb, kurskPath) {
			words = append(words, strings.Fields(ex.Text)...)
			if len(words) >= n {
				break
			}
		}
	}
	if len(words) < n {
		for _, ex := range synthExamples(n/20+1, 20, 11) {
			words = append(words, strings.Fields(ex.Text)...)
		}
	}
	return strings.Join(words[:n], " ")
}

// BenchmarkClassifyLong classifies one message of 100, 1,000 and 10,000
// words with the full Engine (rubricator, and the trained model): the cost
// per word must stay flat, and the memory bounded.
func BenchmarkClassifyLong(b *testing.B) {
	rub, err := New()
	if err != nil {
		b.Fatal(err)
	}
	m, err := Train(synthExamples(3000, 30, 5), TrainConfig{})
	if err != nil {
		b.Fatal(err)
	}
	mod, err := New(WithModel(m))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{100, 1000, 3000, 10000} {
		text := longText(b, n)
		for _, e := range []struct {
			name string
			e    *Engine
		}{{"rubricator", rub}, {"model", mod}} {
			e.e.Classify(text) // warm the stem cache
			b.Run(fmt.Sprintf("%s-%dwords", e.name, n), func(b *testing.B) {
				b.ReportAllocs()
				cpu := cpuTime()
				for b.Loop() {
					e.e.Classify(text)
				}
				// CPU time, not wall time: the machine is shared.
				reportCPU(b, cpu, false)
				if cpu != 0 {
					b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/float64(n), "cpu-ns/word")
				}
			})
		}
	}
}
