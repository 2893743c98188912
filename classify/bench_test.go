package classify

import (
	"os"
	"strings"
	"testing"
)

// benchMessages returns 30-word messages: from the St Petersburg data when
// it is present (real vocabulary), else synthetic.
func benchMessages(b *testing.B) (train []Example, msgs []string, source string) {
	b.Helper()
	if _, err := os.Stat(spbPath); err == nil {
		all := loadShared(b, spbPath)
		train, test := SplitExamples(all, 0.8, 1)
		for _, ex := range test {
			w := strings.Fields(ex.Text)
			if len(w) >= 30 {
				msgs = append(msgs, strings.Join(w[:30], " "))
			}
		}
		return train, msgs, "spb"
	}
	data := synthExamples(6000, 30, 5)
	train, test := SplitExamples(data, 0.8, 1)
	for _, ex := range test {
		msgs = append(msgs, ex.Text)
	}
	return train, msgs, "synthetic"
}

// BenchmarkClassify30Words compares the trained model with the stem cache
// (steady state: the cache is warm) against the naive path that stems every
// word afresh.
func BenchmarkClassify30Words(b *testing.B) {
	train, msgs, source := benchMessages(b)
	m, err := Train(train, TrainConfig{})
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range msgs {
		m.Classify(s) // warm the cache
	}
	b.Run("model-cached-"+source, func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		cpu := cpuTime()
		for b.Loop() {
			m.Classify(msgs[i%len(msgs)])
			i++
		}
		reportCPU(b, cpu)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("model-naive-"+source, func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		cpu := cpuTime()
		for b.Loop() {
			a := getAnalysis()
			a.run(msgs[i%len(msgs)], nil) // nil cache: the raw Snowball stemmer for every word
			m.topics(a, m.topK)
			putAnalysis(a)
			i++
		}
		reportCPU(b, cpu)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	e, _ := New(WithModel(m))
	b.Run("engine-model-"+source, func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		cpu := cpuTime()
		for b.Loop() {
			e.Classify(msgs[i%len(msgs)])
			i++
		}
		reportCPU(b, cpu)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	r, _ := New()
	b.Run("engine-rubricator-"+source, func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		cpu := cpuTime()
		for b.Loop() {
			r.Classify(msgs[i%len(msgs)])
			i++
		}
		reportCPU(b, cpu)
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
	reportCPU(b, cpu)
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
	reportCPU(b, cpu)
}

func BenchmarkNormalize(b *testing.B) {
	s := "<p>Здравствуйте! Во дворе дома №5 по ул. Ленина уже месяц не вывозят мусор&nbsp;😡 https://vk.com/x Дорoга разбита.</p>"
	b.ReportAllocs()
	var buf []byte
	cpu := cpuTime()
	for b.Loop() {
		buf = appendNormalized(buf[:0], s)
	}
	reportCPU(b, cpu)
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
		reportCPU(b, cpu)
	})
	b.Run("snowball", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		cpu := cpuTime()
		for b.Loop() {
			StemWord(words[i%len(words)])
			i++
		}
		reportCPU(b, cpu)
	})
}
