// Package report renders a stats.Report for people: a self-contained HTML
// page (tables and inline SVG charts — topics by week, districts, response
// times, seasonality; no scripts, no external CSS, fonts or images, so it can
// be mailed or archived as one file) and CSV exports for spreadsheets.
//
//	r := stats.FromSlice(appeals, stats.Config{Now: time.Now()})
//	f, err := os.Create("week.html")
//	if err != nil {
//		return err
//	}
//	defer f.Close()
//	if err := report.WriteHTML(f, r, report.Options{Title: "Неделя 47"}); err != nil { // one self-contained file
//		return err
//	}
//	err = report.WriteCSV(csvFile, r, report.CSVOptions{}) // the table behind the charts
//
// Every figure in the page is also carried in a data-value attribute with
// its exact machine value, so the page can be checked against the Report.
package report

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/incident"
	"github.com/appealkit/appealkit/appeal/stats"
	"github.com/appealkit/appealkit/route"
)

// Options tune the HTML page. The zero value works.
type Options struct {
	// Title heads the page; "" means "Обращения граждан: сводный отчёт".
	Title string
	// TopTopics is how many topics get their own series in the charts and
	// column in the tables (the rest are summed as "прочие"); 0 means 6.
	TopTopics int
	// Labels maps topic codes to display names; nil means TopicLabels().
	Labels map[string]string
	// Incidents, when given, adds the incidents that joined two or more
	// appeals (largest first, at most MaxIncidents rows) and their count.
	Incidents []incident.Incident
	// MaxIncidents caps the incident table; 0 means 20.
	MaxIncidents int
	// HoursNote says how response times were measured, shown with the
	// response-time chart; "" means "рабочие часы" (the stats.Config Hours
	// decides which it really is).
	HoursNote string
	// ExecutorNames maps executor ids to the Russian names the page shows
	// (ExecutorNamesFrom reads them from the routing rules). An id without
	// a name is shown as it is.
	ExecutorNames map[string]string
	// Ratings, when given, adds the monthly ratings of executors and
	// municipalities (stats.Rate).
	Ratings *stats.Ratings
}

// ExecutorNamesFrom returns the executors' Russian names from routing
// rules, for Options.ExecutorNames.
func ExecutorNamesFrom(e *route.Engine) map[string]string {
	m := map[string]string{}
	for _, ex := range e.Executors() {
		if ex.Name != "" {
			m[ex.ID] = ex.Name
		}
	}
	return m
}

// executor is the display name of an executor id.
func (o *Options) executor(id string) string {
	if id == stats.NoExecutor || id == "" {
		return "не назначен"
	}
	if n, ok := o.ExecutorNames[id]; ok {
		return n
	}
	return id
}

// StatusName returns the Russian name of an appeal status.
func StatusName(s appeal.Status) string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return string(s)
}

var statusNames = map[appeal.Status]string{
	appeal.StatusNew: "новое", appeal.StatusRouted: "направлено исполнителю", appeal.StatusInProgress: "в работе",
	appeal.StatusAnswered: "дан ответ", appeal.StatusResolved: "решено", appeal.StatusRejected: "отклонено",
	appeal.StatusReopened: "возобновлено",
}

// noData stands in for a figure that has nothing to be computed from.
const noData = "нет данных"

// TopicLabels returns the Russian display names of the shared topic codes
// (a fresh map: change it freely and pass it as Options.Labels).
func TopicLabels() map[string]string { return maps.Clone(topicLabels) }

var topicLabels = map[string]string{
	"roads": "Дороги", "housing": "ЖКХ", "housing.heating": "Отопление", "housing.water": "Водоснабжение",
	"housing.electricity": "Электроснабжение", "housing.sewerage": "Канализация", "housing.gas": "Газоснабжение",
	"housing.building": "Состояние домов", "housing.management": "Управляющие компании",
	"landscaping": "Благоустройство", "landscaping.yards": "Дворы", "landscaping.lighting": "Освещение",
	"landscaping.trees": "Деревья", "landscaping.playgrounds": "Детские площадки", "garbage": "Мусор",
	"snow": "Снег и наледь", "healthcare": "Здравоохранение", "education": "Образование",
	"social": "Соцзащита", "transport": "Транспорт", "ecology": "Экология", "animals": "Животные",
	"safety": "Безопасность", "culture_sport": "Культура и спорт", "trade": "Торговля",
	"construction": "Строительство", "communications": "Связь", "other": "Прочее",
}

// othersLabel names the sum of topics beyond the top ones.
const othersLabel = "прочие темы"

func (o *Options) defaults() {
	if o.Title == "" {
		o.Title = "Обращения граждан: сводный отчёт"
	}
	if o.TopTopics <= 0 {
		o.TopTopics = 6
	}
	if o.Labels == nil {
		o.Labels = topicLabels
	}
	if o.HoursNote == "" {
		o.HoursNote = "рабочие часы"
	}
	if o.MaxIncidents <= 0 {
		o.MaxIncidents = 20
	}
}

func (o *Options) label(code string) string {
	if l, ok := o.Labels[code]; ok {
		return l
	}
	return code
}

// Hours formats a duration as hours with one decimal, as the page shows
// response times.
func Hours(d time.Duration) string {
	return strconv.FormatFloat(d.Hours(), 'f', 1, 64)
}

// Percent formats a share in [0,1] as a percentage with one decimal, as the
// page shows shares.
func Percent(share float64) string {
	return strconv.FormatFloat(100*share, 'f', 1, 64)
}

// kpi is one headline figure.
type kpi struct {
	ID, Label, Value, Unit, Raw string
}

type cell struct {
	Text, Raw, Class string
}

type table struct {
	ID      string
	Caption string
	Head    []string
	Rows    [][]cell
}

type page struct {
	Title, Period, Generated string
	KPIs                     []kpi
	Charts                   []chart
	Tables                   []table
}

type chart struct {
	ID, Title string
	SVG       template.HTML
}

// WriteHTML renders r as one self-contained HTML page.
func WriteHTML(w io.Writer, r *stats.Report, opts Options) error {
	if r == nil {
		return errors.New("report: WriteHTML: nil report")
	}
	if r.Location == nil {
		// A hand-built Report; Collector always sets it.
		c := *r
		c.Location = time.UTC
		r = &c
	}
	opts.defaults()
	p := page{Title: opts.Title, Generated: r.Now.In(r.Location).Format("02.01.2006 15:04 MST")}
	if !r.First.IsZero() {
		p.Period = r.First.In(r.Location).Format("02.01.2006") + " — " + r.Last.In(r.Location).Format("02.01.2006")
	}
	p.KPIs = []kpi{
		{"total", "Всего обращений", strconv.Itoa(r.Total), "", strconv.Itoa(r.Total)},
		{"answered", "С ответом", strconv.Itoa(r.Answered), "", strconv.Itoa(r.Answered)},
		hoursKPI("p50", "Время ответа, медиана", r.Response.P50, r.Response.Count),
		hoursKPI("p90", "Время ответа, p90", r.Response.P90, r.Response.Count),
		hoursKPI("p99", "Время ответа, p99", r.Response.P99, r.Response.Count),
		shareKPI("ontime", "Ответ в срок", r.OnTimeShare, due(r) > 0),
		{"overdue", "Просрочено сейчас", strconv.Itoa(r.Overdue), "", strconv.Itoa(r.Overdue)},
		shareKPI("reopened", "Открыты повторно", r.ReopenedShare, r.Total > 0),
		shareKPI("formal", "Отписки среди ответов", r.FormalShare, r.Checked > 0),
	}
	if l := r.Loop; l.FirstAnswer.Count > 0 || l.Resolution.Count > 0 || l.PromisesMade > 0 || l.Reacted > 0 {
		p.KPIs = append(p.KPIs,
			hoursKPI("first-answer", "До первого ответа, медиана", l.FirstAnswer.P50, l.FirstAnswer.Count),
			hoursKPI("resolution", "До решения, медиана", l.Resolution.P50, l.Resolution.Count),
			shareKPI("promises", "Обещанный срок соблюдён", l.PromiseKeptShare, l.PromisesMade > 0),
			shareKPI("satisfaction", "Заявители благодарят", l.SatisfactionShare, l.Reacted > 0),
		)
	}
	if opts.Incidents != nil {
		n := multiIncidents(opts.Incidents)
		p.KPIs = append(p.KPIs, kpi{"incidents", "Инциденты (2+ обращения)", strconv.Itoa(len(n)), "", strconv.Itoa(len(n))})
	}
	top := topCodes(r, opts.TopTopics)
	p.Charts = []chart{
		{"chart-topics-weeks", "Темы по неделям", topicsByWeekSVG(r, top, &opts)},
		{"chart-districts", "Районы", districtsSVG(r)},
		{"chart-response", "Время ответа (" + opts.HoursNote + ")", responseSVG(r)},
		{"chart-months", "Сезонность по месяцам", monthsSVG(r)},
	}
	p.Tables = []table{
		topicsTable(r, &opts),
		matrixTable(r, top, &opts),
		risingTable(r, &opts),
		executorsTable(r, &opts),
		weeksTable(r),
	}
	if opts.Incidents != nil {
		p.Tables = append(p.Tables, incidentsTable(opts.Incidents, &opts, r.Location))
	}
	if opts.Ratings != nil {
		p.Tables = append(p.Tables,
			ratingsTable("table-rating-executors", "Рейтинг исполнителей по месяцам", opts.Ratings, opts.Ratings.Executors, &opts),
			ratingsTable("table-rating-municipalities", "Рейтинг районов по месяцам", opts.Ratings, opts.Ratings.Municipalities, &opts))
	}
	return pageTmpl.Execute(w, p)
}

// topCodes returns the codes of the n largest topics.
func topCodes(r *stats.Report, n int) []string {
	var out []string
	for _, t := range r.TopTopics(n) {
		out = append(out, t.Name)
	}
	return out
}

func num(n int) cell { return cell{Text: strconv.Itoa(n), Raw: strconv.Itoa(n), Class: "n"} }
func pct(s float64) cell {
	return cell{Text: Percent(s), Raw: strconv.FormatFloat(s, 'g', -1, 64), Class: "n"}
}
func txt(s string) cell { return cell{Text: s} }

// lastFullWeek is the index in r.Weeks of the latest week that ended by
// r.Now — a report compares whole weeks — or of the latest week when none
// has ended; -1 when there are no weeks.
func lastFullWeek(r *stats.Report) int {
	for i := len(r.Weeks) - 1; i >= 0; i-- {
		if !r.Weeks[i].AddDate(0, 0, 7).After(r.Now) {
			return i
		}
	}
	return len(r.Weeks) - 1
}

func topicsTable(r *stats.Report, o *Options) table {
	t := table{ID: "table-topics", Caption: "Темы: всего и последняя полная неделя", Head: []string{"Тема", "Всего", "Доля, %", "За неделю", "Неделей ранее", "Изменение"}}
	wi := lastFullWeek(r)
	if wi >= 0 {
		t.Caption += " (с " + r.Weeks[wi].Format("02.01.2006") + ")"
	}
	for _, c := range r.Topics {
		cur, prev := 0, 0
		if wi >= 0 {
			cur = countAt(r, c.Name, r.Weeks[wi])
		}
		if wi >= 1 {
			prev = countAt(r, c.Name, r.Weeks[wi-1])
		}
		change := cur - prev
		ch := cell{Text: signed(change), Raw: strconv.Itoa(change), Class: "n"}
		if change > 0 {
			ch.Class = "n up"
		} else if change < 0 {
			ch.Class = "n down"
		}
		// The topic's code is for machines (data-value), not for readers.
		t.Rows = append(t.Rows, []cell{{Text: o.label(c.Name), Raw: c.Name}, num(c.Count), pct(c.Share), num(cur), num(prev), ch})
	}
	return t
}

// risingTable lists the municipality × topic pairs whose count grew most
// in the last full week: where something new is happening.
func risingTable(r *stats.Report, o *Options) table {
	t := table{ID: "table-rising", Caption: "Наибольший рост за последнюю полную неделю", Head: []string{"Район", "Тема", "За неделю", "Неделей ранее", "Рост"}}
	wi := lastFullWeek(r)
	if wi < 1 {
		return t
	}
	var up []stats.Cell
	for _, c := range r.Cells {
		if c.Week.Equal(r.Weeks[wi]) && c.Change > 0 {
			up = append(up, c)
		}
	}
	slices.SortStableFunc(up, func(a, b stats.Cell) int {
		if a.Change != b.Change {
			return b.Change - a.Change
		}
		return b.Count - a.Count
	})
	for i, c := range up {
		if i == 10 {
			break
		}
		t.Rows = append(t.Rows, []cell{txt(c.Municipality), txt(o.label(c.Topic)), num(c.Count), num(c.Previous), {Text: signed(c.Change), Raw: strconv.Itoa(c.Change), Class: "n up"}})
	}
	return t
}

func countAt(r *stats.Report, topic string, week time.Time) int {
	for _, tw := range r.TopicWeeks {
		if tw.Topic == topic && tw.Week.Equal(week) {
			return tw.Count
		}
	}
	return 0
}

func signed(n int) string {
	if n > 0 {
		return "+" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// matrixTable is municipality × top topics over the whole period.
func matrixTable(r *stats.Report, top []string, o *Options) table {
	t := table{ID: "table-matrix", Caption: "Районы × темы за период", Head: []string{"Район"}}
	for _, c := range top {
		t.Head = append(t.Head, o.label(c))
	}
	t.Head = append(t.Head, othersLabel, "Всего")
	idx := map[string]int{}
	for i, c := range top {
		idx[c] = i
	}
	sums := map[string][]int{}
	for _, c := range r.Cells {
		row := sums[c.Municipality]
		if row == nil {
			row = make([]int, len(top)+1)
			sums[c.Municipality] = row
		}
		if i, ok := idx[c.Topic]; ok {
			row[i] += c.Count
		} else {
			row[len(top)] += c.Count
		}
	}
	for _, m := range r.Municipalities {
		row := sums[m.Name]
		if row == nil {
			row = make([]int, len(top)+1)
		}
		cells := []cell{txt(m.Name)}
		for _, n := range row {
			cells = append(cells, num(n))
		}
		cells = append(cells, num(m.Count))
		t.Rows = append(t.Rows, cells)
	}
	return t
}

// multiIncidents returns the incidents with two or more appeals, largest
// first, then earliest.
func multiIncidents(all []incident.Incident) []incident.Incident {
	var out []incident.Incident
	for _, inc := range all {
		if len(inc.Members) > 1 {
			out = append(out, inc)
		}
	}
	slices.SortStableFunc(out, func(a, b incident.Incident) int {
		if len(a.Members) != len(b.Members) {
			return len(b.Members) - len(a.Members)
		}
		return a.First.Compare(b.First)
	})
	return out
}

func incidentsTable(all []incident.Incident, o *Options, loc *time.Location) table {
	t := table{ID: "table-incidents", Caption: "Крупнейшие инциденты", Head: []string{"№", "Тема", "Район", "Место", "Обращений", "Первое", "Последнее", "Статус"}}
	for i, inc := range multiIncidents(all) {
		if i == o.MaxIncidents {
			break
		}
		t.Rows = append(t.Rows, []cell{num(i + 1), txt(o.label(inc.Topic)), txt(inc.Municipality), txt(inc.Place), num(len(inc.Members)),
			txt(inc.First.In(loc).Format("02.01 15:04")), txt(inc.Last.In(loc).Format("02.01 15:04")), txt(StatusName(inc.Status))})
	}
	return t
}

func executorsTable(r *stats.Report, opts *Options) table {
	t := table{ID: "table-executors", Caption: "Исполнители (лучшие сверху)", Head: []string{"Место", "Исполнитель", "Назначено", "С ответом", "Срок наступил", "В срок", "В срок, %", "Просрочено", "Медиана, ч", "p90, ч", "Отписки, %", "Повторно открыты"}}
	for _, e := range r.Executors {
		t.Rows = append(t.Rows, []cell{
			num(e.Rank), txt(opts.executor(e.Executor)), num(e.Assigned), num(e.Answered), num(e.WithDeadline), num(e.OnTime),
			shareCell(e.OnTimeShare, e.WithDeadline), num(e.Overdue),
			hoursCell(e.Response, e.Response.P50), hoursCell(e.Response, e.Response.P90),
			shareCell(e.FormalShare, e.Answered), num(e.Reopened),
		})
	}
	return t
}

func weeksTable(r *stats.Report) table {
	t := table{ID: "table-weeks", Caption: "Недели", Head: []string{"Неделя с", "Обращений", "Изменение к прошлой"}}
	for i, w := range r.Weeks {
		ch := txt("—")
		if i > 0 {
			d := r.WeekTotals[i] - r.WeekTotals[i-1]
			ch = cell{Text: signed(d), Raw: strconv.Itoa(d), Class: "n"}
		}
		label := w.Format("02.01.2006")
		if w.AddDate(0, 0, 7).After(r.Now) {
			label += " (неполная)"
		}
		t.Rows = append(t.Rows, []cell{txt(label), num(r.WeekTotals[i]), ch})
	}
	return t
}

// palette is colour-blind-friendly (Okabe–Ito) plus grey for "others".
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

const othersColour = "#BBBBBB"

func esc(s string) string { return template.HTMLEscapeString(s) }

func f1(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// niceMax rounds up to 1, 2 or 5 × 10^k so axis ticks are round.
func niceMax(v int) int {
	if v <= 5 {
		return 5
	}
	p := math.Pow(10, math.Floor(math.Log10(float64(v))))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if float64(v) <= m*p {
			return int(m * p)
		}
	}
	return v
}

// topicsByWeekSVG stacks the top topics (and the rest) per week.
func topicsByWeekSVG(r *stats.Report, top []string, o *Options) template.HTML {
	const W, H, left, right, topPad, bottom = 900, 320, 50, 170, 10, 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="Темы по неделям">`, W, H, W, H)
	if len(r.Weeks) == 0 {
		b.WriteString(`<text x="20" y="40">Нет данных</text></svg>`)
		return template.HTML(b.String())
	}
	idx := map[string]int{}
	for i, c := range top {
		idx[c] = i
	}
	series := len(top) + 1
	counts := make([][]int, len(r.Weeks))
	for i := range counts {
		counts[i] = make([]int, series)
	}
	weekIdx := map[int64]int{}
	for i, w := range r.Weeks {
		weekIdx[w.Unix()] = i
	}
	for _, tw := range r.TopicWeeks {
		s, ok := idx[tw.Topic]
		if !ok {
			s = len(top)
		}
		counts[weekIdx[tw.Week.Unix()]][s] += tw.Count
	}
	ymax := niceMax(slices.Max(r.WeekTotals))
	plotW, plotH := float64(W-left-right), float64(H-topPad-bottom)
	axis(&b, left, topPad, plotW, plotH, ymax)
	bw := plotW / float64(len(r.Weeks))
	for i, w := range r.Weeks {
		y := float64(topPad) + plotH
		x := float64(left) + float64(i)*bw + bw*0.1
		for s := 0; s < series; s++ {
			n := counts[i][s]
			if n == 0 {
				continue
			}
			h := plotH * float64(n) / float64(ymax)
			y -= h
			name, col := othersLabel, othersColour
			if s < len(top) {
				name, col = o.label(top[s]), palette[s%len(palette)]
			}
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s" data-week="%s" data-series="%s" data-value="%d"><title>%s, неделя с %s: %d</title></rect>`,
				f1(x), f1(y), f1(bw*0.8), f1(h), col, w.Format("2006-01-02"), esc(name), n, esc(name), w.Format("02.01"), n)
		}
		if len(r.Weeks) <= 16 || i%((len(r.Weeks)+15)/16) == 0 {
			fmt.Fprintf(&b, `<text x="%s" y="%d" font-size="11" text-anchor="middle">%s</text>`, f1(x+bw*0.4), H-bottom+16, w.Format("02.01"))
		}
	}
	for s := 0; s < series; s++ {
		name, col := othersLabel, othersColour
		if s < len(top) {
			name, col = o.label(top[s]), palette[s%len(palette)]
		}
		y := topPad + 10 + s*20
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" font-size="12">%s</text>`, W-right+15, y, col, W-right+32, y+11, esc(name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// axis draws the y axis with five ticks and the x baseline.
func axis(b *strings.Builder, left, top int, w, h float64, ymax int) {
	for i := 0; i <= 5; i++ {
		v := ymax * i / 5
		y := float64(top) + h - h*float64(i)/5
		fmt.Fprintf(b, `<line x1="%d" x2="%s" y1="%s" y2="%s" stroke="#e3e3e3"/>`, left, f1(float64(left)+w), f1(y), f1(y))
		fmt.Fprintf(b, `<text x="%d" y="%s" font-size="11" text-anchor="end">%d</text>`, left-6, f1(y+4), v)
	}
	fmt.Fprintf(b, `<line x1="%d" x2="%s" y1="%s" y2="%s" stroke="#555"/>`, left, f1(float64(left)+w), f1(float64(top)+h), f1(float64(top)+h))
}

// hbars draws labelled horizontal bars, one per item.
func hbars(label string, names []string, values []int, valueText []string, col string) template.HTML {
	const W, left, right, rowH = 900, 190, 70, 22
	H := len(names)*rowH + 20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, W, H, W, H, esc(label))
	if len(names) == 0 {
		b.WriteString(`<text x="20" y="15">Нет данных</text></svg>`)
		return template.HTML(b.String())
	}
	vmax := max(slices.Max(values), 1)
	plotW := float64(W - left - right)
	for i, n := range names {
		y := 10 + i*rowH
		w := plotW * float64(values[i]) / float64(vmax)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="end">%s</text>`, left-8, y+14, esc(n))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%s" height="%d" fill="%s" data-series="%s" data-value="%d"><title>%s: %s</title></rect>`, left, y+2, f1(w), rowH-6, col, esc(n), values[i], esc(n), valueText[i])
		fmt.Fprintf(&b, `<text x="%s" y="%d" font-size="12">%s</text>`, f1(float64(left)+w+6), y+14, valueText[i])
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func districtsSVG(r *stats.Report) template.HTML {
	var names, texts []string
	var values []int
	for _, m := range r.Municipalities {
		names = append(names, m.Name)
		values = append(values, m.Count)
		texts = append(texts, strconv.Itoa(m.Count))
	}
	return hbars("Обращения по районам", names, values, texts, palette[0])
}

func responseSVG(r *stats.Report) template.HTML {
	bounds := stats.ResponseBucketBounds()
	var names, texts []string
	prev := "0"
	for _, bd := range bounds {
		names = append(names, prev+"–"+strconv.FormatFloat(bd.Hours(), 'f', -1, 64)+" ч")
		prev = strconv.FormatFloat(bd.Hours(), 'f', -1, 64)
	}
	names = append(names, "более "+prev+" ч")
	values := slices.Clone(r.Response.Buckets)
	if len(values) != len(names) {
		values = make([]int, len(names))
	}
	for _, v := range values {
		texts = append(texts, strconv.Itoa(v))
	}
	return hbars("Время ответа", names, values, texts, palette[2])
}

var monthNames = []string{"янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"}

func monthsSVG(r *stats.Report) template.HTML {
	const W, H, left, topPad, bottom = 900, 220, 50, 10, 30
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="Сезонность">`, W, H, W, H)
	ymax := niceMax(slices.Max(r.Seasonality[:]))
	plotW, plotH := float64(W-left-20), float64(H-topPad-bottom)
	axis(&b, left, topPad, plotW, plotH, ymax)
	bw := plotW / 12
	for i, n := range r.Seasonality {
		h := plotH * float64(n) / float64(ymax)
		x := float64(left) + float64(i)*bw
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s" data-month="%d" data-value="%d"><title>%s: %d</title></rect>`,
			f1(x+bw*0.15), f1(float64(topPad)+plotH-h), f1(bw*0.7), f1(h), palette[4], i+1, n, monthNames[i], n)
		fmt.Fprintf(&b, `<text x="%s" y="%d" font-size="11" text-anchor="middle">%s</text>`, f1(x+bw/2), H-bottom+16, monthNames[i])
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px;color:#222;background:#fff;max-width:1000px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 8px}
.meta{color:#666;font-size:13px}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.kpi{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:130px}
.kpi .l{font-size:12px;color:#666}
.kpi .v{font-size:22px;font-weight:bold}
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f4f4f4}
td.n{text-align:right;font-variant-numeric:tabular-nums}
#table-executors th,#table-executors td{font-size:12px;padding:3px 5px}
td.up{color:#b00}
td.down{color:#070}
svg{display:block;max-width:100%;height:auto}
svg text{font-family:"DejaVu Sans",Arial,sans-serif;fill:#333}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<div class="meta">Период: <span id="period">{{.Period}}</span> · сформирован <span id="generated">{{.Generated}}</span></div>
<div class="kpis">{{range .KPIs}}
<div class="kpi" id="kpi-{{.ID}}"><div class="l">{{.Label}}</div><div class="v"><span class="value" data-value="{{.Raw}}">{{.Value}}</span>{{if .Unit}} {{.Unit}}{{end}}</div></div>{{end}}
</div>
{{range .Charts}}<h2>{{.Title}}</h2>
<figure id="{{.ID}}" style="margin:0">{{.SVG}}</figure>
{{end}}
{{range .Tables}}<h2>{{.Caption}}</h2>
{{if .Rows}}<table id="{{.ID}}">
<thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}
<tr>{{range .}}<td{{if .Class}} class="{{.Class}}"{{end}}{{if .Raw}} data-value="{{.Raw}}"{{end}}>{{.Text}}</td>{{end}}</tr>{{end}}
</tbody>
</table>{{else}}<p class="empty" id="{{.ID}}">Нет данных за период.</p>{{end}}
{{end}}
</body>
</html>
`))

// due counts the appeals whose deadline came (each is in one executor's
// figures).
func due(r *stats.Report) int {
	n := 0
	for _, e := range r.Executors {
		n += e.WithDeadline
	}
	return n
}

// hoursKPI is a duration figure, or "нет данных" when nothing was measured.
func hoursKPI(id, label string, d time.Duration, count int) kpi {
	if count == 0 {
		return kpi{id, label, noData, "", ""}
	}
	return kpi{id, label, Hours(d), "ч", fmt.Sprint(int64(d))}
}

// shareKPI is a percentage, or "нет данных" when it has no denominator
// (never «0.0 %» for nothing).
func shareKPI(id, label string, share float64, measured bool) kpi {
	if !measured {
		return kpi{id, label, noData, "", ""}
	}
	return kpi{id, label, Percent(share), "%", fmt.Sprint(share)}
}

// shareCell is pct, or "нет данных" when of is zero.
func shareCell(share float64, of int) cell {
	if of == 0 {
		return txt(noData)
	}
	return pct(share)
}

func hoursCell(r stats.Response, d time.Duration) cell {
	if r.Count == 0 {
		return txt(noData)
	}
	return cell{Text: Hours(d), Raw: fmt.Sprint(int64(d)), Class: "n"}
}

var monthFullNames = [...]string{"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь"}

func ratingsTable(id, caption string, rs *stats.Ratings, rows []stats.RatingRow, o *Options) table {
	within := strconv.FormatFloat(rs.Within.Hours(), 'f', -1, 64)
	t := table{ID: id, Caption: caption + " (в рейтинге — от " + strconv.Itoa(rs.MinVolume) + " обращений в месяц)",
		Head: []string{"Месяц", "Место", "Кто", "Обращений", "Ответ за " + within + " раб. ч, %", "До ответа, медиана, ч", "До ответа, p90, ч",
			"До решения, медиана, ч", "До решения, p90, ч", "Отписки, %", "Возобновлены, %", "Благодарят, %"}}
	for _, row := range rows {
		name := row.Name
		if row.By == stats.ByExecutor {
			name = o.executor(row.Name)
		} else if name == stats.NoMunicipality {
			name = "район не определён"
		}
		place := txt("вне рейтинга")
		if row.Ranked {
			place = num(row.Rank)
		}
		t.Rows = append(t.Rows, []cell{
			txt(monthFullNames[row.Month.Month()-1] + " " + strconv.Itoa(row.Month.Year())), place, txt(name), num(row.Volume),
			shareCell(row.AnsweredWithinShare, row.Due),
			hoursCell(row.FirstAnswer, row.FirstAnswer.P50), hoursCell(row.FirstAnswer, row.FirstAnswer.P90),
			hoursCell(row.Resolution, row.Resolution.P50), hoursCell(row.Resolution, row.Resolution.P90),
			shareCell(row.FormalShare, row.Checked), shareCell(row.ReopenedShare, row.Volume), shareCell(row.SatisfactionShare, row.Reacted),
		})
	}
	return t
}
