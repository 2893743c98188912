// Package statstest generates deterministic synthetic appeals — classified,
// routed, partly answered, some late, some reopened — for tests, benchmarks
// and demonstration reports, where no real data may be used.
package statstest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// Municipalities returns the district names synthetic appeals use.
func Municipalities() []string { return slices.Clone(municipalities) }

// Topics returns the topic codes synthetic appeals use, most frequent first.
func Topics() []string { return slices.Clone(topics) }

var municipalities = []string{
	"Адмиралтейский", "Василеостровский", "Выборгский", "Калининский", "Кировский",
	"Красногвардейский", "Московский", "Невский", "Петроградский", "Приморский",
}

var topics = []string{
	"roads", "housing.heating", "landscaping.yards", "garbage", "snow", "housing.water",
	"landscaping.lighting", "transport", "healthcare", "education", "animals", "other",
}

// topicWeights skews topics the way real regions see them: roads, ЖКХ and
// благоустройство lead.
var topicWeights = []int{18, 14, 13, 11, 9, 8, 7, 6, 5, 4, 3, 2}

// problems are text templates per topic (index as in Topics); %s is an
// address.
var problems = [][]string{
	{"Огромная яма на дороге у дома %s, машины бьют колёса", "Разбит асфальт на проезжей части, %s, после дождя огромные лужи"},
	{"В квартирах холодные батареи, %s, отопления нет третий день", "Плохо греют батареи в доме %s, дети мёрзнут"},
	{"Во дворе дома %s сломаны скамейки и качели, никто не чинит", "Двор у дома %s весь в грязи, газон разъезжен машинами"},
	{"Не вывозят мусор с контейнерной площадки у дома %s, баки переполнены", "Переполнены мусорные баки, %s, крысы бегают"},
	{"Не чистят снег во дворе дома %s, машины не могут выехать", "Наледь на тротуаре у дома %s, люди падают"},
	{"Нет холодной воды в доме %s с утра, аварийка не отвечает", "Из крана течёт ржавая вода, %s"},
	{"Не горят фонари на улице у дома %s, вечером темно и страшно", "Третью неделю не работает освещение во дворе, %s"},
	{"Автобус не ходит по расписанию, остановка у дома %s, ждём по часу", "Убрали остановку у дома %s, теперь идти километр"},
	{"Невозможно записаться к терапевту в поликлинику, %s", "В поликлинике у дома %s очереди по три часа"},
	{"В школе у дома %s холодно в классах", "Не хватает мест в детском саду, %s"},
	{"Стая бездомных собак у дома %s кидается на детей", "Собаки во дворе дома %s покусали ребёнка"},
	{"Прошу разобраться: %s, сколько можно ждать ответа", "Вопрос по дому %s так и не решён"},
}

var streets = []string{"ул. Садовая", "ул. Ленина", "ул. Мира", "пр. Победы", "ул. Гагарина", "ул. Школьная", "ул. Молодёжная", "ул. Лесная"}

var echoes = []string{"Присоединяюсь! ", "Повторно пишу: ", "Тоже заметили: ", "Жители просят помочь: "}

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

func executorFor(ti int, muni string) string {
	if ti%3 == 0 {
		return "Комитет по теме " + strconv.Itoa(ti+1)
	}
	return "Администрация " + muni + " района"
}

func topicIndex(code string) int {
	for i, t := range topics {
		if t == code {
			return i
		}
	}
	return 0
}

func municipalityIndex(m string) int {
	for i, x := range municipalities {
		if x == m {
			return i
		}
	}
	return 0
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
		mi := int(u * u * float64(len(municipalities)))
		muni := municipalities[mi]
		topic := topics[ti]
		exec := executorFor(ti, muni)
		net := networks[rng.IntN(len(networks))]
		addr := fmt.Sprintf("%s, д. %d", streets[rng.IntN(len(streets))], 1+rng.IntN(40))
		text := fmt.Sprintf(problems[ti][rng.IntN(len(problems[ti]))], addr)
		if i > 0 && rng.IntN(100) < 15 {
			// Someone else reports a recent problem again: one incident,
			// several appeals.
			j := i - 1 - rng.IntN(min(i, 30))
			prev := out[j]
			text = echoes[rng.IntN(len(echoes))] + strings.TrimPrefix(prev.Text, "Присоединяюсь! ")
			topic, muni, ti = prev.Topics[0].Code, prev.Municipality, topicIndex(prev.Topics[0].Code)
			mi = municipalityIndex(muni)
			exec = executorFor(ti, muni)
		}
		a := appeal.Appeal{
			ID:           appeal.NewID(net, fmt.Sprintf("%d", 100000+i)),
			Network:      net,
			Kind:         appeal.KindComment,
			ExternalID:   fmt.Sprintf("%d", 100000+i),
			Text:         text,
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
		var answer string
		if rng.IntN(100) < 20+mi*3 {
			answer = formalReplies[rng.IntN(len(formalReplies))]
		} else {
			answer = fmt.Sprintf(goodReplies[rng.IntN(len(goodReplies))], answeredAt.Format("02.01.2006"))
		}
		a.Replies = []appeal.Reply{{Text: answer, By: exec, At: answeredAt}}
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
