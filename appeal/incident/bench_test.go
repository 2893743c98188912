package incident_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/incident"
)

var benchWords = strings.Fields(`яма дорога асфальт колесо остановка автобус мусор контейнер площадка баки
крысы запах отопление батареи холодно квартира подъезд лифт сломан свет фонарь темно улица двор снег
наледь сосульки крыша тротуар скользко горка дети школа детсад поликлиника врач запись очередь вода
ржавая напор трубы прорыв подвал затопило канализация течет крыша протекает потолок стены грибок
собаки стая бездомные покусали ветка дерево упало провод оборван светофор переход разметка знак
парковка машины газон вырубка шум стройка ночью пыль грязь лужа ливневка забита управляющая компания
жалоба неделю месяц третий день никто не приезжает звонили диспетчер обещали сделать помогите срочно`)

var benchStreets = []string{"Садовая", "Ленина", "Мира", "Советская", "Гагарина", "Пушкина", "Школьная", "Молодёжная", "Лесная", "Новая"}

// synthetic makes n appeals: 70% fresh texts, 30% near-copies of a recent
// one at the same address, over about two months.
func synthetic(n int) []appeal.Appeal {
	rng := rand.New(rand.NewPCG(1, 2))
	topics := []string{"roads", "garbage", "housing.heating", "landscaping.lighting", "snow", "housing.water"}
	out := make([]appeal.Appeal, 0, n)
	t := time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)
	for i := range n {
		t = t.Add(time.Duration(rng.IntN(240)) * time.Second)
		var text, topic string
		if i > 10 && rng.IntN(10) < 3 {
			src := out[len(out)-1-rng.IntN(min(len(out)-1, 200))]
			w := strings.Fields(src.Text)
			w[rng.IntN(len(w))] = benchWords[rng.IntN(len(benchWords))]
			text, topic = strings.Join(w, " "), src.Topics[0].Code
		} else {
			var b strings.Builder
			for range 8 + rng.IntN(25) {
				b.WriteString(benchWords[rng.IntN(len(benchWords))])
				b.WriteByte(' ')
			}
			if rng.IntN(3) == 0 {
				fmt.Fprintf(&b, "ул. %s, д. %d", benchStreets[rng.IntN(len(benchStreets))], 1+rng.IntN(60))
			}
			text, topic = b.String(), topics[rng.IntN(len(topics))]
		}
		ext := fmt.Sprint(i)
		out = append(out, appeal.Appeal{ID: appeal.NewID("vk", ext), Network: "vk", ExternalID: ext, Text: text, CreatedAt: t,
			Municipality: fmt.Sprint("район ", i%12), Topics: []appeal.TopicScore{{Code: topic, Score: 1}}})
	}
	return out
}

// BenchmarkGroup50k groups 50,000 appeals (target: under 5 s on one core;
// run with -cpu 1).
func BenchmarkGroup50k(b *testing.B) {
	data := synthetic(50_000)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		incs, _, err := incident.Group(data, incident.Config{})
		if err != nil || len(incs) == 0 || len(incs) == len(data) {
			b.Fatalf("%d incidents, %v", len(incs), err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
