package incident

import "testing"

// BenchmarkGroupSPb groups the 47,911 real St Petersburg appeals (skipped
// when the data set is absent).
func BenchmarkGroupSPb(b *testing.B) {
	appeals, _ := loadSPb(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := Group(appeals, Config{}); err != nil {
			b.Fatal(err)
		}
	}
}
