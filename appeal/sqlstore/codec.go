package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// Times in indexed columns are Unix nanoseconds, which order exactly like
// time.Time. The zero time (an appeal without CreatedAt) is the smallest
// value so that it sorts first, as appeal.Less does; times outside the
// years 1678–2262 are clamped to the ends of the range.
var (
	minNanoTime = time.Unix(0, math.MinInt64+1)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)

func nanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return math.MinInt64
	case t.Before(minNanoTime):
		return math.MinInt64 + 1
	case t.After(maxNanoTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// noDeadline stands for "no deadline" in row.deadline; the column holds
// NULL then.
const noDeadline = math.MinInt64

// deadlineArg is the deadline column's value: NULL when there is none.
func (r *row) deadlineArg() any {
	if r.deadline == noDeadline {
		return nil
	}
	return r.deadline
}

// row is an appeal as the appeals table holds it.
type row struct {
	id, network, status, municipality, executor string
	coExecutors                                 string // coExecutorsKey
	incidentID, threadRoot                      string
	deadline, createdAt, version, historyLen    int64
	doc                                         string
}

// coSep brackets each co-executor in the co_executors column, so that
// "is X among them" is a substring search for coSep+X+coSep. A control
// character, which executor ids do not use; an id that holds one anyway
// can only add false candidates, which the exact test on the document
// (Filter.Involves in where) drops.
const coSep = "\x1f"

// coExecutorsKey is the co_executors column of a: "" without
// co-executors, else each bracketed by coSep.
func coExecutorsKey(a *appeal.Appeal) string {
	if a.Assignment == nil || len(a.Assignment.CoExecutors) == 0 {
		return ""
	}
	return coSep + strings.Join(a.Assignment.CoExecutors, coSep) + coSep
}

// encode turns a (normalized) appeal into its row. The document leaves out
// History, which lives in appeal_history, and Version, which is a column.
func encode(a *appeal.Appeal) (row, error) {
	d := *a
	d.History = nil
	d.Version = 0
	doc, err := json.Marshal(&d)
	if err != nil {
		return row{}, fmt.Errorf("sqlstore: encode appeal %s: %w", a.RedactedID(), err)
	}
	return row{
		id: string(a.ID), network: string(a.Network), status: string(a.Status),
		municipality: a.Municipality, executor: a.Executor(), coExecutors: coExecutorsKey(a),
		incidentID: a.IncidentID, threadRoot: a.ThreadRoot(), deadline: nanos(a.Deadline()),
		createdAt: nanos(a.CreatedAt), version: a.Version, historyLen: int64(len(a.History)), doc: string(doc),
	}, nil
}

func decode(id string, version int64, doc []byte) (appeal.Appeal, error) {
	var a appeal.Appeal
	if err := json.Unmarshal(doc, &a); err != nil {
		return appeal.Appeal{}, fmt.Errorf("sqlstore: decode appeal %s: stored document: %w", appeal.ID(id).Redacted(), err)
	}
	if string(a.ID) != id {
		return appeal.Appeal{}, fmt.Errorf("sqlstore: decode appeal %s: stored document has id %q", appeal.ID(id).Redacted(), a.ID.Redacted())
	}
	a.Version = version
	return a, nil
}

func scanEvent(rs *sql.Rows) (string, appeal.Event, error) {
	var (
		id, at, actor, from, to, note string
		seq                           int64
	)
	if err := rs.Scan(&id, &seq, &at, &actor, &from, &to, &note); err != nil {
		return "", appeal.Event{}, err
	}
	e := appeal.Event{Actor: actor, From: appeal.Status(from), To: appeal.Status(to), Note: note}
	if err := e.At.UnmarshalText([]byte(at)); err != nil {
		return "", appeal.Event{}, fmt.Errorf("sqlstore: appeal %s: history event %d: time %q: %w", appeal.ID(id).Redacted(), seq, at, err)
	}
	return id, e, nil
}
