package appeal

import (
	"fmt"
	"time"
)

// Status is where an appeal stands in its lifecycle.
//
//	new ──▶ routed ──▶ in_progress ──▶ answered ──▶ resolved
//	 │        │ ▲          │   ▲           │            │
//	 │        │ └──────────┘   │           ▼            │
//	 └──▶ rejected          reopened ◀─────┴────────────┘
//
// The full table is in Transitions; Status.CanTransition answers for a pair.
type Status string

// Statuses of the lifecycle.
const (
	StatusNew        Status = "new"         // stored, not yet routed
	StatusRouted     Status = "routed"      // an executor is assigned and the deadline runs
	StatusInProgress Status = "in_progress" // the executor has taken it up
	StatusAnswered   Status = "answered"    // an answer was given to the citizen
	StatusResolved   Status = "resolved"    // the problem is closed
	StatusRejected   Status = "rejected"    // spam or not an appeal
	StatusReopened   Status = "reopened"    // the citizen says the answer did not help
)

// AllStatuses lists every status in lifecycle order.
func AllStatuses() []Status {
	return []Status{StatusNew, StatusRouted, StatusInProgress, StatusAnswered, StatusResolved, StatusRejected, StatusReopened}
}

// transitions is the state machine. A routed appeal may be routed again (an
// operator reassigns it); every other self-transition is forbidden.
var transitions = map[Status][]Status{
	StatusNew:        {StatusRouted, StatusRejected},
	StatusRouted:     {StatusRouted, StatusInProgress, StatusAnswered, StatusRejected},
	StatusInProgress: {StatusRouted, StatusAnswered},
	StatusAnswered:   {StatusResolved, StatusReopened},
	StatusResolved:   {StatusReopened},
	StatusRejected:   {StatusReopened},
	StatusReopened:   {StatusRouted, StatusInProgress, StatusAnswered},
}

// Transitions returns the allowed target statuses of from (a fresh slice).
func Transitions(from Status) []Status {
	return cloneSlice(transitions[from])
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// CanTransition reports whether the lifecycle allows moving from s to to.
func (s Status) CanTransition(to Status) bool {
	for _, t := range transitions[s] {
		if t == to {
			return true
		}
	}
	return false
}

// AwaitsAnswer reports whether an appeal in status s still owes the citizen
// an answer, so its deadline runs.
func (s Status) AwaitsAnswer() bool {
	switch s {
	case StatusNew, StatusRouted, StatusInProgress, StatusReopened:
		return true
	}
	return false
}

// Event is one entry of an appeal's history.
type Event struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor,omitempty"` // who acted: an operator, "pipeline", an executor id
	From  Status    `json:"from,omitempty"`
	To    Status    `json:"to"`
	Note  string    `json:"note,omitempty"`
}

// Change is one lifecycle step, applied by Appeal.Apply and Store.Transition.
type Change struct {
	To    Status
	Actor string
	Note  string
	// At is when it happened; zero means time.Now().
	At time.Time
	// Assignment replaces the assignment in force; required when moving to
	// routed, optional otherwise.
	Assignment *Assignment
	// Reply is appended to the appeal's replies; required when moving to
	// answered.
	Reply *Reply
	// ExpectedVersion is the version the caller read. Store.Transition
	// refuses the change with ErrConflict when the stored version differs,
	// so two operators cannot both move the same appeal. Apply ignores it.
	ExpectedVersion int64
}

// Apply moves the appeal through the state machine and appends the Event. It
// returns a *TransitionError (matching ErrIllegalTransition) when the
// lifecycle forbids the step and leaves the appeal unchanged on any error.
// It does not touch Version: stores do.
func (a *Appeal) Apply(c Change) error {
	if !c.To.Valid() {
		return &FieldError{Field: "to", Msg: fmt.Sprintf("unknown status %q", c.To)}
	}
	if !a.Status.CanTransition(c.To) {
		return &TransitionError{ID: a.ID, From: a.Status, To: c.To}
	}
	if c.To == StatusRouted && c.Assignment == nil {
		return &FieldError{Field: "assignment", Msg: "is required to route an appeal"}
	}
	if c.Assignment != nil && c.Assignment.Executor == "" {
		return &FieldError{Field: "assignment.executor", Msg: "is empty"}
	}
	if c.To == StatusAnswered && c.Reply == nil {
		return &FieldError{Field: "reply", Msg: "is required to answer an appeal"}
	}
	at := c.At
	if at.IsZero() {
		at = time.Now()
	}
	if c.Assignment != nil {
		as := *c.Assignment
		as.CoExecutors = cloneSlice(as.CoExecutors)
		as.Tags = cloneSlice(as.Tags)
		a.Assignment = &as
	}
	if c.Reply != nil {
		r := *c.Reply
		if r.At.IsZero() {
			r.At = at
		}
		a.Replies = append(a.Replies, r)
	}
	a.History = append(a.History, Event{At: at, Actor: c.Actor, From: a.Status, To: c.To, Note: c.Note})
	a.Status = c.To
	return nil
}
