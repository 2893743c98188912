package vk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"testing"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/source/vk"
)

// BenchmarkCollectLiveQAKursk runs a «прямая линия» whose 2,000 comments
// are the real Kursk region appeals (../shared/data, skipped when absent),
// classified with the shipped rubricator before grouping, as
// examples/liveqa does. The texts stay in memory; nothing is printed.
func BenchmarkCollectLiveQAKursk(b *testing.B) {
	fh, err := os.Open("../../../shared/data/kursk/train.jsonl")
	if err != nil {
		b.Skip("shared Kursk data set not present:", err)
	}
	defer fh.Close()
	w := &liveQAWall{owner: -218900, post: 77, threads: map[int][]map[string]any{}}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for i := 0; sc.Scan(); i++ {
		var row struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			b.Fatal(err)
		}
		w.addTop(1000+i, row.Text, i%5)
	}
	n := len(w.top)
	f := newFakeVK(b)
	f.handlers["wall.getComments"] = func(p url.Values) any { return w.serve(nil, p) }
	cls, err := classify.New()
	if err != nil {
		b.Fatal(err)
	}
	cfg := vk.LiveQAConfig{API: f.api(), Post: "wall-218900_77", Prepare: func(a *appeal.Appeal) { classify.ClassifyAppeal(cls, a) }}
	b.ReportAllocs()
	b.ResetTimer()
	var questions, merged int
	for range b.N {
		res, err := vk.CollectLiveQA(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		questions, merged = len(res.Questions), 0
		for _, q := range res.Questions {
			if len(q.Appeals) > 1 {
				merged += len(q.Appeals)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/comment")
	b.ReportMetric(float64(questions), "questions")
	b.ReportMetric(float64(merged), "comments_merged")
}
