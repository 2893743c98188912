package appeal

import (
	"slices"
	"time"
)

// AnswerKind says what an answer to the citizen is for.
type AnswerKind string

// Kinds of answers.
const (
	// AnswerInterim acknowledges the appeal and promises a date: «принято
	// в работу, срок решения — до 3 декабря». It moves the appeal to
	// in_progress.
	AnswerInterim AnswerKind = "interim"
	// AnswerFinal reports what was done. It moves the appeal to answered.
	AnswerFinal AnswerKind = "final"
)

// Valid reports whether k is a known kind.
func (k AnswerKind) Valid() bool { return k == AnswerInterim || k == AnswerFinal }

// AnswerState is where a draft answer stands on its way to the citizen.
//
//	draft ──▶ on_review ──▶ approved ──▶ published
//	  ▲  │        │             │
//	  │  │        ▼             ▼
//	  │  └───▶ approved     returned (moderator's comment, or the
//	  └────── returned        publisher's reason for a permanent failure)
type AnswerState string

// States of a draft answer.
const (
	AnswerDraft     AnswerState = "draft"     // written or rendered, editable
	AnswerOnReview  AnswerState = "on_review" // waits for a ЦУР moderator
	AnswerApproved  AnswerState = "approved"  // queued in the outbox for publishing
	AnswerReturned  AnswerState = "returned"  // sent back with a comment; editable
	AnswerPublished AnswerState = "published" // posted to the citizen
)

// Draft is one answer in preparation, kept in the appeal so that it is
// stored, versioned and listed with it.
type Draft struct {
	// ID is unique within the appeal ("1", "2", ...).
	ID    string      `json:"id"`
	Kind  AnswerKind  `json:"kind"`
	Text  string      `json:"text"`
	State AnswerState `json:"state"`
	// Executor is who answers, as in Assignment.Executor.
	Executor string `json:"executor,omitempty"`
	// Promised is the resolution date the answer promises, if any.
	Promised time.Time `json:"promised,omitzero"`
	// Comment is the moderator's comment when returned, or the reason a
	// publication failed for good.
	Comment string `json:"comment,omitempty"`
	// Issues are the quality gate's findings at the last check.
	Issues    []string  `json:"issues,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

func (d Draft) clone() Draft {
	d.Issues = slices.Clone(d.Issues)
	return d
}

// Draft returns the draft with the given id and whether it exists. The
// pointer is into a.Drafts: changes to it change the appeal.
func (a *Appeal) Draft(id string) (*Draft, bool) {
	for i := range a.Drafts {
		if a.Drafts[i].ID == id {
			return &a.Drafts[i], true
		}
	}
	return nil, false
}

// Reaction is how the citizen took an answer, judged from their next
// message in the same thread.
type Reaction string

// Reactions to an answer.
const (
	ReactionThanks      Reaction = "thanks"       // satisfied: «спасибо, сделали»
	ReactionNotSolved   Reaction = "not_solved"   // «ничего не сделано»: the appeal reopens
	ReactionNewQuestion Reaction = "new_question" // another question in the same thread
)

// LastReply returns the most recent reply, or nil.
func (a *Appeal) LastReply() *Reply {
	if len(a.Replies) == 0 {
		return nil
	}
	return &a.Replies[len(a.Replies)-1]
}
