package stats_test

import (
	"strconv"
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

// BenchmarkCollector1MUniqueReplies is the worst case for the «отписка»
// check: every reply text differs, so the verdict cache never hits.
func BenchmarkCollector1MUniqueReplies(b *testing.B) {
	data := statstest.Generate(statstest.Options{N: 1_000_000, Seed: 1, Weeks: 26})
	for i := range data {
		for j := range data[i].Replies {
			data[i].Replies[j].Text += " Номер ответа " + strconv.Itoa(i)
		}
	}
	cfg := stats.Config{Now: data[len(data)-1].CreatedAt}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		stats.FromSlice(data, cfg)
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkCollector1MNoReplyCheck is the statistics alone.
func BenchmarkCollector1MNoReplyCheck(b *testing.B) {
	data := statstest.Generate(statstest.Options{N: 1_000_000, Seed: 1, Weeks: 26})
	cfg := stats.Config{Now: data[len(data)-1].CreatedAt, SkipReplyCheck: true}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		stats.FromSlice(data, cfg)
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
