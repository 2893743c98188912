package route

import (
	"context"
	"fmt"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// NoiseNote is the history note of a message rejected because the
// classifier marked it as not an appeal (appeal.Appeal.Noise).
const NoiseNote = "not an appeal (classifier)"

// Step returns the lifecycle step that records the decision, as a router of
// the pipeline returns it: to rejected, or to routed with the assignment.
// Its Note names the deciding rule, or says the learned router decided
// within which rule; the caller fills Actor, At and ExpectedVersion.
func (d Decision) Step() appeal.Change {
	switch {
	case d.Reject:
		return appeal.Change{To: appeal.StatusRejected, Note: "rejected by rule " + d.RuleID}
	case d.Learned:
		return appeal.Change{To: appeal.StatusRouted, Assignment: d.Assignment(),
			Note: fmt.Sprintf("learned router (%.2f, history of %d similar appeals) where rule %s allows it", d.Confidence, d.Support, d.RuleID)}
	default:
		return appeal.Change{To: appeal.StatusRouted, Assignment: d.Assignment(), Note: "rule " + d.RuleID}
	}
}

// RouteAppeal routes a as the pipeline asks a router to: a message the
// classifier marked as Noise is rejected (NoiseNote), everything else gets
// the Step of Route's decision. With it *Engine is an
// appealkit.AppealRouter as it is.
func (e *Engine) RouteAppeal(ctx context.Context, a *appeal.Appeal, now time.Time) (appeal.Change, error) {
	return routeAppeal(ctx, e.Route, a, now)
}

// RouteAppeal is Engine.RouteAppeal with the rules in force.
func (r *Reloader) RouteAppeal(ctx context.Context, a *appeal.Appeal, now time.Time) (appeal.Change, error) {
	return routeAppeal(ctx, r.Route, a, now)
}

// RouteAppeal is Engine.RouteAppeal with the learned router deciding where
// the rules let it.
func (r *LearnedRouter) RouteAppeal(ctx context.Context, a *appeal.Appeal, now time.Time) (appeal.Change, error) {
	return routeAppeal(ctx, r.Route, a, now)
}

func routeAppeal(ctx context.Context, route func(*appeal.Appeal, time.Time) Decision, a *appeal.Appeal, now time.Time) (appeal.Change, error) {
	if err := ctx.Err(); err != nil {
		return appeal.Change{}, err
	}
	if a.Noise {
		return appeal.Change{To: appeal.StatusRejected, Note: NoiseNote}, nil
	}
	return route(a, now).Step(), nil
}
