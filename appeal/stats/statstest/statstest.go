// Package statstest generates deterministic synthetic appeals — classified,
// routed, partly answered, some late, some reopened — for tests, benchmarks
// and demonstration reports, where no real data may be used.
package statstest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// Municipalities are the district names synthetic appeals use.
var Municipalities = []string{
	"Адмиралтейский", "Василеостровский", "Выборгский", "Калининский", "Кировский",
	"Красногвардейский", "Московский", "Невский", "Петроградский", "Приморский",
}

// Topics are the topic codes synthetic appeals use, most frequent first.
var Topics = []string{
	"roads", "housing.heating", "landscaping.yards", "garbage", "snow", "housing.water",
	"landscaping.lighting", "transport", "healthcare", "education", "animals", "other",
}

// topicWeights skews topics the way real regions see them: roads, ЖКХ and
// благоустройство lead.
var topicWeights = []int{18, 14, 13, 11, 9, 8, 7, 6, 5, 4, 3, 2}

var goodReplies = []string{
	"Яма на проезжей части заделана %s силами ГБУ «Автодор», ответственный мастер Петров П.П.",
	"Мусор вывезен %s, подрядчик ООО «Чистый город» получил предписание.",
	"Освещение восстановлено %s, работы выполнила бригада ГУП «Ленсвет».",
	"Отопление включено %s, ответственный инженер управляющей компании — Сидоров А.А.",
}

var formalReplies = []string{
	"Ваше обращение рассмотрено.",
	"Ваше обращение направлено в администрацию района для рассмотрения.",
	"Обращение будет рассмотрено в установленном порядке.",
	"По вашему обращению приняты меры, вопрос находится на контроле.",
}

// Options shape a synthetic data set. Zero fields take the defaults named.
type Options struct {
	// N is how many appeals to make (default 1000).
	N int
	// Seed makes the data set; the same Options give the same appeals.
	Seed uint64
	// Start is the earliest creation time (default 2026-01-05, a Monday,
	// UTC); appeals spread over Weeks weeks (default 12).
	Start time.Time
	Weeks int
	// Now is the moment the data set is observed: appeals created close to
	// it are still open (default Start + Weeks weeks).
	Now time.Time
}

// Generate returns opts.N appeals ordered by CreatedAt, each valid
// (Normalize passes) and with a consistent history.
func Generate(opts Options) []appeal.Appeal {
	if opts.N <= 0 {
		opts.N = 1000
	}
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	}
	if opts.Weeks <= 0 {
		opts.Weeks = 12
	}
	span := time.Duration(opts.Weeks) * 7 * 24 * time.Hour
	if opts.Now.IsZero() {
		opts.Now = opts.Start.Add(span)
	}
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	totalW := 0
	for _, w := range topicWeights {
		totalW += w
	}
	step := span / time.Duration(opts.N)
	out := make([]appeal.Appeal, opts.N)
	networks := []appeal.Network{appeal.NetworkVK, appeal.NetworkVK, appeal.NetworkTelegram, appeal.NetworkOK, appeal.NetworkWeb}
	for i := range out {
		created := opts.Start.Add(step*time.Duration(i) + time.Duration(rng.Int64N(int64(step)+1)))
		if created.After(opts.Now) {
			created = opts.Now
		}
		pick := rng.IntN(totalW)
		ti := 0
		for pick >= topicWeights[ti] {
			pick -= topicWeights[ti]
			ti++
		}
		// A few districts send more: skew by squaring a uniform draw.
		u := rng.Float64()
		mi := int(u * u * float64(len(Municipalities)))
		muni := Municipalities[mi]
		topic := Topics[ti]
		exec := "Администрация " + muni + " района"
		if ti%3 == 0 {
			exec = "Комитет по теме " + strconv.Itoa(ti+1)
		}
		net := networks[rng.IntN(len(networks))]
		a := appeal.Appeal{
			ID:           appeal.NewID(net, fmt.Sprintf("%d", 100000+i)),
			Network:      net,
			Kind:         appeal.KindComment,
			ExternalID:   fmt.Sprintf("%d", 100000+i),
			Text:         fmt.Sprintf("Синтетическое обращение №%d по теме %s", i, topic),
			CreatedAt:    created,
			ReceivedAt:   created.Add(time.Minute),
			Topics:       []appeal.TopicScore{{Code: topic, Score: 0.6 + 0.4*rng.Float64()}},
			Municipality: muni,
			Status:       appeal.StatusNew,
		}
		if rng.IntN(50) == 0 { // rejected as not an appeal
			a.History = []appeal.Event{{At: created.Add(10 * time.Minute), Actor: "pipeline", From: appeal.StatusNew, To: appeal.StatusRejected}}
			a.Status = appeal.StatusRejected
			out[i] = a
			continue
		}
		deadline := created.Add(time.Duration(24+24*rng.IntN(3)) * time.Hour)
		a.Assignment = &appeal.Assignment{Executor: exec, Deadline: deadline, Priority: appeal.PriorityNormal}
		routedAt := created.Add(5 * time.Minute)
		a.History = []appeal.Event{{At: routedAt, Actor: "pipeline", From: appeal.StatusNew, To: appeal.StatusRouted}}
		a.Status = appeal.StatusRouted
		// Response time: log-normal-ish, some executors slower.
		slow := 1.0 + float64(mi%4)*0.5
		resp := time.Duration(float64(time.Hour) * slow * (0.5 + 60*rng.Float64()*rng.Float64()))
		answeredAt := created.Add(resp)
		if answeredAt.After(opts.Now) {
			out[i] = a // still waiting
			continue
		}
		var text string
		if rng.IntN(100) < 20+mi*3 {
			text = formalReplies[rng.IntN(len(formalReplies))]
		} else {
			text = fmt.Sprintf(goodReplies[rng.IntN(len(goodReplies))], answeredAt.Format("02.01.2006"))
		}
		a.Replies = []appeal.Reply{{Text: text, By: exec, At: answeredAt}}
		a.History = append(a.History, appeal.Event{At: answeredAt, Actor: exec, From: appeal.StatusRouted, To: appeal.StatusAnswered})
		a.Status = appeal.StatusAnswered
		switch r := rng.IntN(100); {
		case r < 8: // the citizen says it did not help
			at := answeredAt.Add(6 * time.Hour)
			if at.Before(opts.Now) {
				a.History = append(a.History, appeal.Event{At: at, Actor: "citizen", From: appeal.StatusAnswered, To: appeal.StatusReopened})
				a.Status = appeal.StatusReopened
			}
		case r < 60:
			at := answeredAt.Add(24 * time.Hour)
			if at.Before(opts.Now) {
				a.History = append(a.History, appeal.Event{At: at, Actor: "operator", From: appeal.StatusAnswered, To: appeal.StatusResolved})
				a.Status = appeal.StatusResolved
			}
		}
		out[i] = a
	}
	return out
}
