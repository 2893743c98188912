package appealkit

import (
	"context"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/route"
)

// DefaultMinTopicScore is the score a topic other than the best one needs to
// be kept on the appeal by Classify: classify.DefaultMinTopicScore, the
// same cut a direct classify.ClassifyAppeal makes.
const DefaultMinTopicScore = classify.DefaultMinTopicScore

// ClassifyOptions tunes Classify.
type ClassifyOptions struct {
	// MinTopicScore is the score a topic other than the best one needs to
	// be kept (default DefaultMinTopicScore; negative keeps every topic).
	// Rules match any topic an appeal has, so a trace of "animals" at 0.01
	// in a garbage complaint that mentions rats must not reach the router.
	MinTopicScore float64
}

// Classify adapts a classify.Classifier (such as *classify.Engine) to the
// pipeline: it fills Topics (the best one, plus others that score at least
// opts.MinTopicScore; the catch-all "other" only when nothing else fits),
// Urgent, Municipality and Place, and marks as Noise what the classifier
// judged not to be an appeal.
func Classify(c classify.Classifier, opts ClassifyOptions) AppealClassifier {
	minScore := opts.MinTopicScore
	if minScore == 0 {
		minScore = DefaultMinTopicScore
	}
	return AppealClassifierFunc(func(ctx context.Context, a *appeal.Appeal) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		// The cut and the noise mark live in classify, so the pipeline and
		// a direct classify.ClassifyAppeal keep the same topics; it also
		// leaves the text's stems on a.Analysis for a learned router.
		classify.ClassifyAppealMin(c, a, minScore)
		return nil
	})
}

// RuleRouter is what Route needs: *route.Engine, *route.Reloader (the
// hot-reloading holder) and *route.LearnedRouter (rules plus a learned
// model, see route.WithModel) all have it.
type RuleRouter interface {
	Route(a *appeal.Appeal, now time.Time) route.Decision
}

// RouteOptions tunes Route.
type RouteOptions struct {
	// KeepNoise routes messages the classifier marked as Noise like any
	// other instead of rejecting them. Leave it off unless operators want
	// to see every message.
	KeepNoise bool
}

// Route adapts a rules engine to the pipeline: messages marked as Noise are
// rejected (unless opts.KeepNoise), a rule that says reject rejects, and
// everything else is routed with the decision's assignment; the history note
// names the deciding rule (route.Decision.Step), so an operator can ask the
// engine why. With the default options it is what *route.Engine,
// *route.Reloader and *route.LearnedRouter do as AppealRouters themselves.
func Route(r RuleRouter, opts RouteOptions) AppealRouter {
	return AppealRouterFunc(func(ctx context.Context, a *appeal.Appeal, now time.Time) (appeal.Change, error) {
		if err := ctx.Err(); err != nil {
			return appeal.Change{}, err
		}
		if a.Noise && !opts.KeepNoise {
			return appeal.Change{To: appeal.StatusRejected, Note: route.NoiseNote}, nil
		}
		return r.Route(a, now).Step(), nil
	})
}
