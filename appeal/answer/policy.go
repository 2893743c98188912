package answer

import (
	"slices"

	"github.com/appealkit/appealkit/appeal"
)

// Policy says which answers a ЦУР moderator must approve before they are
// published. An answer needs approval when any condition holds; the zero
// Policy approves nothing (answers go straight to the outbox).
type Policy struct {
	// All: every answer is approved by a moderator.
	All bool
	// Executors whose answers are approved (executor ids).
	Executors []string
	// Topics whose answers are approved; a topic covers its subtopics.
	Topics []string
	// Networks whose answers are approved.
	Networks []appeal.Network
	// Kinds of answers that are approved (e.g. only final ones).
	Kinds []appeal.AnswerKind
}

// NeedsApproval reports whether the draft d of appeal a must be approved.
func (p Policy) NeedsApproval(a *appeal.Appeal, d *appeal.Draft) bool {
	switch {
	case p.All:
		return true
	case slices.Contains(p.Executors, d.Executor) || d.Executor == "" && slices.Contains(p.Executors, a.Executor()):
		return true
	case slices.Contains(p.Networks, a.Network):
		return true
	case slices.Contains(p.Kinds, d.Kind):
		return true
	}
	for _, t := range p.Topics {
		if a.MatchesTopic(t) {
			return true
		}
	}
	return false
}
