package stats

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// RatingBy says what a rating row rates.
type RatingBy string

// What ratings are kept for.
const (
	ByMunicipality RatingBy = "municipality"
	ByExecutor     RatingBy = "executor"
)

// RatingConfig tunes Rate. The zero value rates as centres publish: 8
// working hours, at least 2 appeals a month to be ranked.
type RatingConfig struct {
	// Hours measures working time; nil means CalendarTime (pass the
	// region's route.Calendar through WorkingFunc for working hours).
	Hours WorkingHours
	// Location decides where months begin; nil means UTC.
	Location *time.Location
	// Within is the answer window in working time (default 8 hours).
	Within time.Duration
	// MinVolume is the least number of appeals in a month for a row to be
	// ranked (default 2); smaller rows are shown, not ranked.
	MinVolume int
	// Now is when "still within the window" is judged; zero means
	// time.Now().
	Now time.Time
	// FormalBelow is the CheckReply score of an «отписка»; 0 means
	// DefaultFormalBelow.
	FormalBelow float64
}

// RatingRow is one municipality's or executor's month.
type RatingRow struct {
	By RatingBy
	// Name is the municipality (NoMunicipality when none) or the executor
	// id; appeals never routed are in no executor's row.
	Name string
	// Month is midnight of the month's first day.
	Month time.Time
	// Volume counts the appeals created in the month.
	Volume int
	// Due counts appeals whose answer window has closed (answered, or
	// older than Within unanswered); AnsweredWithin those answered within
	// it; AnsweredWithinShare = AnsweredWithin / Due.
	Due, AnsweredWithin int
	AnsweredWithinShare float64
	// FirstAnswer and Resolution are the working-time percentiles (P50 is
	// the median) of creation → first reply and creation → resolution.
	FirstAnswer, Resolution Response
	// Checked answers and those that are «отписки»; FormalShare.
	Checked, Formal int
	FormalShare     float64
	// Reopened appeals and their share of Volume.
	Reopened      int
	ReopenedShare float64
	// Reacted, Satisfied and SatisfactionShare as in LoopFigures.
	Reacted, Satisfied int
	SatisfactionShare  float64
	// Ranked is false when Volume is below MinVolume; Rank is 1 for the
	// best ranked row of its month (0 when not ranked).
	Ranked bool
	Rank   int
}

// Ratings are the monthly ratings of municipalities and executors.
type Ratings struct {
	Within    time.Duration
	MinVolume int
	// Municipalities and Executors are ordered by month, then rank (ranked
	// rows first), then name.
	Municipalities, Executors []RatingRow
}

type ratingKey struct {
	by    RatingBy
	name  string
	month int64
}

type ratingAcc struct {
	volume, due, within, checked, formal, reopened, reacted, satisfied int
	first, resolution                                                  []time.Duration
}

// Rater accumulates appeals for Ratings in one pass. It is safe for
// concurrent use.
type Rater struct {
	cfg  RatingConfig
	rows map[ratingKey]*ratingAcc
	sc   scratch
	mu   chan struct{}
}

// NewRater returns an empty Rater.
func NewRater(cfg RatingConfig) *Rater {
	if cfg.Hours == nil {
		cfg.Hours = CalendarTime{}
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Within <= 0 {
		cfg.Within = 8 * time.Hour
	}
	if cfg.MinVolume <= 0 {
		cfg.MinVolume = 2
	}
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	if cfg.FormalBelow == 0 {
		cfg.FormalBelow = DefaultFormalBelow
	}
	return &Rater{cfg: cfg, rows: map[ratingKey]*ratingAcc{}, mu: make(chan struct{}, 1)}
}

// Add rates one appeal; appeals without a creation time are skipped.
func (r *Rater) Add(a *appeal.Appeal) {
	created := a.CreatedAt
	if created.IsZero() {
		created = a.ReceivedAt
	}
	if created.IsZero() {
		return
	}
	r.mu <- struct{}{}
	defer func() { <-r.mu }()
	lt := created.In(r.cfg.Location)
	month := time.Date(lt.Year(), lt.Month(), 1, 0, 0, 0, 0, r.cfg.Location).Unix()
	muni := a.Municipality
	if muni == "" {
		muni = NoMunicipality
	}
	exec := a.Executor()
	if exec == "" {
		exec = NoExecutor
	}
	first, resolved := FirstReplyAt(a), ResolvedAt(a)
	var formal, checked bool
	if len(a.Replies) > 0 {
		checked = true
		formal = replyScore(a.Replies[len(a.Replies)-1].Text, &r.sc) < r.cfg.FormalBelow
	}
	reaction := lastReaction(a)
	keys := []ratingKey{{ByMunicipality, muni, month}, {ByExecutor, exec, month}}
	if exec == NoExecutor {
		keys = keys[:1] // never routed: nobody's to rate
	}
	for _, k := range keys {
		acc := r.rows[k]
		if acc == nil {
			acc = &ratingAcc{}
			r.rows[k] = acc
		}
		acc.volume++
		switch {
		case !first.IsZero():
			d := r.cfg.Hours.WorkingDuration(created, first)
			acc.first = append(acc.first, d)
			acc.due++
			if d <= r.cfg.Within {
				acc.within++
			}
		case r.cfg.Hours.WorkingDuration(created, r.cfg.Now) > r.cfg.Within:
			acc.due++ // unanswered past the window
		}
		if !resolved.IsZero() {
			acc.resolution = append(acc.resolution, r.cfg.Hours.WorkingDuration(created, resolved))
		}
		if checked {
			acc.checked++
			if formal {
				acc.formal++
			}
		}
		if wasReopened(a) {
			acc.reopened++
		}
		if reaction != "" {
			acc.reacted++
			if reaction == appeal.ReactionThanks {
				acc.satisfied++
			}
		}
	}
}

// Ratings returns the rows of everything added so far.
func (r *Rater) Ratings() *Ratings {
	r.mu <- struct{}{}
	defer func() { <-r.mu }()
	out := &Ratings{Within: r.cfg.Within, MinVolume: r.cfg.MinVolume}
	for k, acc := range r.rows {
		row := RatingRow{
			By: k.by, Name: k.name, Month: time.Unix(k.month, 0).In(r.cfg.Location),
			Volume: acc.volume, Due: acc.due, AnsweredWithin: acc.within, AnsweredWithinShare: share(acc.within, acc.due),
			FirstAnswer: percentiles(slices.Clone(acc.first)), Resolution: percentiles(slices.Clone(acc.resolution)),
			Checked: acc.checked, Formal: acc.formal, FormalShare: share(acc.formal, acc.checked),
			Reopened: acc.reopened, ReopenedShare: share(acc.reopened, acc.volume),
			Reacted: acc.reacted, Satisfied: acc.satisfied, SatisfactionShare: share(acc.satisfied, acc.reacted),
			Ranked: acc.volume >= r.cfg.MinVolume,
		}
		if k.by == ByMunicipality {
			out.Municipalities = append(out.Municipalities, row)
		} else {
			out.Executors = append(out.Executors, row)
		}
	}
	rank(out.Municipalities)
	rank(out.Executors)
	return out
}

// rank orders rows by month, then best first, and numbers the ranked rows
// of each month: the higher share answered within the window, then fewer
// «отписки», fewer reopened, faster median first answer, more volume.
func rank(rows []RatingRow) {
	slices.SortFunc(rows, func(a, b RatingRow) int {
		if c := a.Month.Compare(b.Month); c != 0 {
			return c
		}
		if a.Ranked != b.Ranked {
			if a.Ranked {
				return -1
			}
			return 1
		}
		return cmp.Or(
			cmp.Compare(b.AnsweredWithinShare, a.AnsweredWithinShare),
			cmp.Compare(a.FormalShare, b.FormalShare),
			cmp.Compare(a.ReopenedShare, b.ReopenedShare),
			cmp.Compare(a.FirstAnswer.P50, b.FirstAnswer.P50),
			cmp.Compare(b.Volume, a.Volume),
			cmp.Compare(a.Name, b.Name),
		)
	})
	n := 0
	for i := range rows {
		if i == 0 || !rows[i].Month.Equal(rows[i-1].Month) {
			n = 0
		}
		if rows[i].Ranked {
			n++
			rows[i].Rank = n
		}
	}
}

// Rate rates the appeals of s.
func Rate(s []appeal.Appeal, cfg RatingConfig) *Ratings {
	r := NewRater(cfg)
	for i := range s {
		r.Add(&s[i])
	}
	return r.Ratings()
}

// RateStore reads the appeals that match f from st page by page and rates
// them.
func RateStore(ctx context.Context, st appeal.Store, f appeal.Filter, cfg RatingConfig) (*Ratings, error) {
	r := NewRater(cfg)
	for {
		page := f
		page.Limit = DefaultPageSize
		list, err := st.List(ctx, page)
		if err != nil {
			return nil, fmt.Errorf("stats: rate: list appeals after %q: %w", f.AfterID, err)
		}
		for i := range list {
			r.Add(&list[i])
		}
		if len(list) < page.Limit {
			return r.Ratings(), nil
		}
		last := list[len(list)-1]
		f.AfterCreated, f.AfterID = last.CreatedAt, last.ID
	}
}
