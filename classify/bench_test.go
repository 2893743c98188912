package classify

import (
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

// benchSet is a trained model and 30-word messages to classify with it.
type benchSet struct {
	name  string
	train []Example
	msgs  []string
}

// benchSets returns synthetic 30-word messages and, when the St Petersburg
// data is present, its test messages cut to 30 words (real vocabulary).
func benchSets(b *testing.B) []benchSet {
	b.Helper()
	data := synthExamples(6000, 30, 5)
	train, test := SplitExamples(data, 0.8, 1)
	syn := benchSet{name: "synthetic", train: train}
	for _, ex := range test {
		syn.msgs = append(syn.msgs, ex.Text)
	}
	sets := []benchSet{syn}
	if _, err := os.Stat(spbPath); err == nil {
		all := loadShared(b, spbPath)
		train, test := SplitExamples(all, 0.8, 1)
		spb := benchSet{name: "spb", train: train}
		for _, ex := range test {
			w := strings.Fields(ex.Text)
			if len(w) >= 30 {
				spb.msgs = append(spb.msgs, strings.Join(w[:30], " "))
			}
		}
		sets = append(sets, spb)
	}
	return sets
}

// BenchmarkClassify30Words compares the trained model's topics with the
// stem cache (steady state: the cache is warm) against the naive path that
// stems every word afresh, and shows Model.Classify (topics plus appeal and
// urgency signals) and the full Engine with the model and with the
// rubricator.
func BenchmarkClassify30Words(b *testing.B) {
	for _, set := range benchSets(b) {
		benchClassify(b, set)
	}
}

func benchClassify(b *testing.B, set benchSet) {
	m, err := Train(set.train, TrainConfig{})
	if err != nil {
		b.Fatal(err)
	}
	msgs := set.msgs
	for _, s := range msgs {
		m.Classify(s) // warm the cache
	}
	source := set.name
	run := func(name string, classify func(string)) {
		b.Run(name+"-"+source, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			cpu := cpuTime()
			for b.Loop() {
				classify(msgs[i%len(msgs)])
				i++
			}
			reportCPU(b, cpu, true)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
	// The trained model's topics alone: normalise, stem, score.
	run("model-topics-cached", func(s string) {
		a := getAnalysis()
		a.run(s, m.cache)
		m.topics(a, m.topK)
		putAnalysis(a)
	})
	run("model-topics-naive", func(s string) {
		a := getAnalysis()
		a.run(s, nil) // nil cache: the raw Snowball stemmer for every word
		m.topics(a, m.topK)
		putAnalysis(a)
	})
	// Model.Classify adds the appeal and urgency signals.
	run("model-classify", func(s string) { m.Classify(s) })
	e, _ := New(WithModel(m))
	run("engine-model", func(s string) { e.Classify(s) })
	// What the country-wide gazetteer (on by default) costs.
	en, _ := New(WithModel(m), WithoutCountryGazetteer())
	run("engine-model-noplaces", func(s string) { en.Classify(s) })
	r, _ := New()
	run("engine-rubricator", func(s string) { r.Classify(s) })
	// All cores at once: cache hits take no lock, so this scales.
	b.Run("engine-model-parallel-"+source, func(b *testing.B) {
		b.ReportAllocs()
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				e.Classify(msgs[int(next.Add(1))%len(msgs)])
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// BenchmarkTrain50k trains on 50,000 synthetic 20-word messages with one
// worker (one core).
func BenchmarkTrain50k(b *testing.B) {
	data := synthExamples(50_000, 20, 11)
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if _, err := Train(data, TrainConfig{Workers: 1}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu, false)
}

// BenchmarkTrainSPb trains on the whole St Petersburg file (47,911 real
// messages) with one worker, when it is present.
func BenchmarkTrainSPb(b *testing.B) {
	all := loadShared(b, spbPath)
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if _, err := Train(all, TrainConfig{Workers: 1}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu, false)
}

func BenchmarkNormalize(b *testing.B) {
	s := "<p>Здравствуйте! Во дворе дома №5 по ул. Ленина уже месяц не вывозят мусор&nbsp;😡 https://vk.com/x Дорoга разбита.</p>"
	b.ReportAllocs()
	var buf []byte
	cpu := cpuTime()
	for b.Loop() {
		buf = appendNormalized(buf[:0], s)
	}
	reportCPU(b, cpu, false)
}

func BenchmarkStem(b *testing.B) {
	words := Tokenize("здравствуйте во дворе дома по улице ленина уже месяц не вывозят мусор дорога разбита ямы")
	c := NewStemCache(0)
	b.Run("cache", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		cpu := cpuTime()
		for b.Loop() {
			c.Stem(words[i%len(words)])
			i++
		}
		reportCPU(b, cpu, false)
	})
	b.Run("snowball", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		cpu := cpuTime()
		for b.Loop() {
			StemWord(words[i%len(words)])
			i++
		}
		reportCPU(b, cpu, false)
	})
}
