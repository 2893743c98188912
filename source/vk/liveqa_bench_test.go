package vk_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/appealkit/appealkit/source/vk"
)

// BenchmarkCollectLiveQA measures a whole «прямая линия» of 1000 comments
// and replies: paging through wall.getComments over HTTP (long threads
// page by page), mapping, endorsement counting, near-duplicate grouping
// and ranking.
func BenchmarkCollectLiveQA(b *testing.B) {
	topics := []string{"Когда отремонтируют дорогу на улице %s у дома %d?", "Почему не вывозят мусор во дворе на %s %d?",
		"Когда дадут горячую воду на улице %s в доме %d?", "Нет освещения на улице %s возле дома %d, когда починят?",
		"Когда откроют поликлинику на %s %d?"}
	streets := []string{"Ленина", "Садовой", "Мира", "Гагарина", "Советской", "Пушкина", "Школьной", "Лесной"}
	w := &liveQAWall{owner: -218900, post: 77, threads: map[int][]map[string]any{}}
	n := 0
	for i := 0; n < 1000; i++ {
		tpl := topics[i%len(topics)]
		street, house := streets[(i/len(topics))%len(streets)], 1+i%17
		text := fmt.Sprintf(tpl, street, house)
		top := w.addTop(1000+i, text, i%7)
		n++
		for j := 0; j < i%4 && n < 1000; j++ {
			if j%2 == 0 {
				w.addReply(top, 5000+n, "+", 0)
			} else {
				w.addReply(top, 5000+n, "А у нас на "+streets[j%len(streets)]+" то же самое, "+text, 1)
			}
			n++
		}
	}
	f := newFakeVK(b)
	f.handlers["wall.getComments"] = func(p url.Values) any { return w.serve(nil, p) }
	b.ReportAllocs()
	b.ResetTimer()
	var questions int
	for range b.N {
		res, err := vk.CollectLiveQA(context.Background(), vk.LiveQAConfig{API: f.api(), Post: "wall-218900_77"})
		if err != nil {
			b.Fatal(err)
		}
		questions = len(res.Questions)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/comment")
	b.ReportMetric(float64(questions), "questions")
}
