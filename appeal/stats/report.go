package stats

import (
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// Report holds the figures of one Collector. Slices are sorted as their
// comments say, so a Report renders the same way every time.
type Report struct {
	// Now is the instant Overdue was measured at.
	Now time.Time
	// Location is where weeks and months begin.
	Location *time.Location
	// Total counts every appeal added.
	Total int
	// First and Last are the earliest and latest creation times seen.
	First, Last time.Time

	// Weeks lists the week starts (Mondays) that have appeals, ascending;
	// WeekTotals[i] counts the appeals of Weeks[i].
	Weeks      []time.Time
	WeekTotals []int
	// Cells counts appeals by municipality × topic × week, ordered by week,
	// municipality, topic. Only non-empty cells are listed.
	Cells []Cell
	// TopicWeeks gives each topic's count per week with its share of the
	// week and the change from the week before, ordered by week then count
	// descending.
	TopicWeeks []TopicWeek
	// Topics and Municipalities are totals, largest first.
	Topics         []Count
	Municipalities []Count
	// Months counts appeals per calendar month of the period, ascending.
	Months []MonthCount
	// Seasonality counts appeals by month of the year (index 0 = January)
	// over all years seen.
	Seasonality [12]int
	// Statuses counts appeals by current status.
	Statuses map[appeal.Status]int

	// Response holds the time from creation to the first reply, measured
	// by the Config's WorkingHours, over every answered appeal.
	Response Response
	// Answered counts appeals with at least one reply.
	Answered int
	// OnTimeShare is the share of appeals due (answered with a deadline, or
	// past their deadline unanswered) whose first reply came by the deadline.
	OnTimeShare float64
	// Overdue counts appeals still awaiting an answer after their deadline
	// at Now.
	Overdue int
	// Reopened counts appeals that were ever reopened; ReopenedShare is
	// Reopened / Total.
	Reopened      int
	ReopenedShare float64
	// Checked counts answers run through CheckReply; Formal those scored as
	// «отписки»; FormalShare is Formal / Checked.
	Checked     int
	Formal      int
	FormalShare float64
	// Executors are ranked best first (see ExecutorStats.Rank).
	Executors []ExecutorStats
	// Loop holds the answer loop's figures: first answer and resolution
	// measured apart, promises kept, satisfaction.
	Loop LoopFigures
}

// Cell is one municipality × topic × week count.
type Cell struct {
	Municipality string
	Topic        string
	Week         time.Time
	Count        int
	// Share is Count over all appeals of the week.
	Share float64
	// HasPrevious is false in the report's first week. Previous is the
	// same municipality and topic's count the week before (0 when it had
	// none) and Change is Count − Previous.
	HasPrevious bool
	Previous    int
	Change      int
}

// TopicWeek is one topic's count in one week.
type TopicWeek struct {
	Topic string
	Week  time.Time
	Count int
	// Share is Count over all appeals of the week.
	Share float64
	// HasPrevious is false for the first week of the report, which has
	// nothing to compare with.
	HasPrevious bool
	// Previous is the topic's count the week before; Change is Count −
	// Previous; ChangePct is the change in percent of Previous (+Inf when
	// Previous is 0 and Count is not).
	Previous  int
	Change    int
	ChangePct float64
}

// Count is a named total with its share of all appeals.
type Count struct {
	Name  string
	Count int
	Share float64
}

// MonthCount is the number of appeals created in one month.
type MonthCount struct {
	// Month is midnight of the first day of the month.
	Month time.Time
	Count int
}

// Response summarises response times (creation to first reply).
type Response struct {
	// Count is how many answered appeals were measured.
	Count int
	// P50, P90, P99 are nearest-rank percentiles; Mean and Max as named.
	P50, P90, P99, Mean, Max time.Duration
	// Buckets counts response times by ResponseBucketBounds: Buckets[i]
	// counts times ≤ bound i (and above bound i−1); the last bucket counts
	// the rest.
	Buckets []int
}

// ExecutorStats are one executor's figures.
type ExecutorStats struct {
	// Rank is 1 for the best executor: highest on-time share, then fewest
	// overdue, fewest «отписки», fastest median answer. Executors with
	// nothing due yet come last.
	Rank     int
	Executor string
	// Assigned counts appeals routed to the executor; Answered those with a
	// reply.
	Assigned, Answered int
	// WithDeadline counts appeals that fell due; OnTime those answered by
	// the deadline; OnTimeShare is OnTime / WithDeadline.
	WithDeadline, OnTime int
	OnTimeShare          float64
	// Overdue counts the executor's appeals awaiting an answer past the
	// deadline now.
	Overdue int
	// Reopened counts appeals that were reopened.
	Reopened int
	// Formal counts answers scored as «отписки»; FormalShare is their share
	// of the executor's checked answers.
	Formal      int
	FormalShare float64
	// Response is the executor's response-time summary.
	Response Response
	// Loop holds the executor's answer-loop figures.
	Loop LoopFigures
}

// TopTopics returns the n largest topics (all when n ≤ 0 or fewer exist).
func (r *Report) TopTopics(n int) []Count {
	if n <= 0 || n >= len(r.Topics) {
		return r.Topics
	}
	return r.Topics[:n]
}
