package stats_test

import (
	"testing"

	"github.com/appealkit/appealkit/appeal/stats"
	"github.com/appealkit/appealkit/appeal/stats/statstest"
)

// BenchmarkCollector1M measures one pass over 1,000,000 appeals (the target
// is under 2 s on one core: run with -cpu 1).
func BenchmarkCollector1M(b *testing.B) {
	data := statstest.Generate(statstest.Options{N: 1_000_000, Seed: 1, Weeks: 26})
	cfg := stats.Config{Now: data[len(data)-1].CreatedAt}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		r := stats.FromSlice(data, cfg)
		if r.Total != len(data) {
			b.Fatal(r.Total)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkCheckReply measures the «отписка» check of one answer.
func BenchmarkCheckReply(b *testing.B) {
	text := "Освещение восстановят в течение 3 рабочих дней, ответственный мастер Петров П.П., тел. 8-812-123-45-67."
	b.ReportAllocs()
	for b.Loop() {
		stats.CheckReply(text)
	}
}
