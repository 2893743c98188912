package route

import (
	"fmt"
	"slices"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// Prediction is a learned model's choice of executor for one appeal.
type Prediction struct {
	// Executor is the executor id the model finds most likely ("" when it
	// has no opinion).
	Executor string
	// Confidence is the calibrated probability that Executor is right.
	Confidence float64
	// Margin is the log-odds of Executor over the others before
	// calibration; it ranks predictions whose confidences tie (a
	// calibrated confidence saturates where the model is very sure).
	Margin float64
	// Support counts the appeals of the model's history like this one
	// (same municipality and topic, or else same topic) that Executor
	// answered.
	Support int
}

// Predictor is a learned router: route/learn.Model is one. Implementations
// are safe for concurrent use and fast (Route's budget is a few
// microseconds).
type Predictor interface {
	Predict(a *appeal.Appeal) Prediction
}

// DefaultLearnedThreshold is the confidence a model needs to decide when
// WithModel is given a threshold of 0.
const DefaultLearnedThreshold = 0.5

// LearnedRouter routes by rules and a learned model together: the rules
// decide where they are written for; where they fall to the fallback, or
// where the deciding rule says "learned: true", the model decides when its
// confidence reaches the threshold and it names an executor the rules
// declare. A confident model never overrides an explicit rule. A
// LearnedRouter is immutable and safe for concurrent use.
type LearnedRouter struct {
	rules     func() *Engine // the rules to apply now
	m         Predictor
	threshold float64
	perRule   map[string]float64
}

// WithModel combines the rules of e with model m; the model decides
// learnable appeals when its confidence is at least threshold (0 means
// DefaultLearnedThreshold). A nil model routes by the rules alone.
func WithModel(e *Engine, m Predictor, threshold float64) *LearnedRouter {
	return withModel(func() *Engine { return e }, m, threshold)
}

func withModel(rules func() *Engine, m Predictor, threshold float64) *LearnedRouter {
	if threshold == 0 {
		threshold = DefaultLearnedThreshold
	}
	return &LearnedRouter{rules: rules, m: m, threshold: threshold}
}

// WithModel combines the rules in force in r, as they are reloaded, with
// model m; see the function WithModel. The model's executor choices are
// checked against the rules in force at each call.
func (r *Reloader) WithModel(m Predictor, threshold float64) *LearnedRouter {
	return withModel(r.Engine, m, threshold)
}

// WithRuleThresholds returns a router that asks, for appeals a rule lets the
// model decide, the confidence thresholds[rule id] ("fallback" for the
// fallback route) instead of the common threshold. A natural choice is how
// often each rule agreed with history (learn.Report.Rules): the model then
// decides where it is more likely right than the rule.
func (r *LearnedRouter) WithRuleThresholds(thresholds map[string]float64) *LearnedRouter {
	c := *r
	c.perRule = make(map[string]float64, len(thresholds))
	for k, v := range thresholds {
		c.perRule[k] = v
	}
	return &c
}

// Engine returns the rules the router applies (those in force, for a
// router made by Reloader.WithModel).
func (r *LearnedRouter) Engine() *Engine { return r.rules() }

// Threshold returns the confidence the model needs to decide.
func (r *LearnedRouter) Threshold() float64 { return r.threshold }

// Route decides like Engine.Route, letting the model decide learnable
// appeals (see LearnedRouter).
func (r *LearnedRouter) Route(a *appeal.Appeal, now time.Time) Decision {
	e := r.rules()
	d := e.Route(a, now)
	r.learn(e, a, now, &d, false)
	return d
}

// RouteExplain is Route with a Trace; its last step says whether the model
// decided and why ("learned: 0.91, history of 412 similar appeals").
func (r *LearnedRouter) RouteExplain(a *appeal.Appeal, now time.Time) Decision {
	e := r.rules()
	d := e.RouteExplain(a, now)
	r.learn(e, a, now, &d, true)
	return d
}

// note adds the model's step to an explained decision's trace.
func note(d *Decision, explain bool, why string, deciding bool) {
	if !explain {
		return
	}
	if deciding {
		for i := range d.Trace {
			d.Trace[i].Deciding = false
		}
	}
	d.Trace = append(d.Trace, TraceStep{RuleID: "learned", Path: d.RuleID, Matched: deciding, Deciding: deciding, Why: why})
}

func (r *LearnedRouter) learn(e *Engine, a *appeal.Appeal, now time.Time, d *Decision, explain bool) {
	switch {
	case r.m == nil:
		return
	case d.Reject:
		return
	case !d.Learnable:
		if explain {
			note(d, explain, fmt.Sprintf("not asked: rule %s is explicit", d.RuleID), false)
		}
		return
	}
	if a == nil {
		a = &appeal.Appeal{}
	}
	p := r.m.Predict(a)
	d.Confidence, d.Support = p.Confidence, p.Support
	threshold := r.threshold
	if t, ok := r.perRule[d.RuleID]; ok {
		threshold = t
	}
	x, known := e.executors[p.Executor]
	switch {
	case p.Executor == "":
		if explain {
			note(d, explain, "no prediction; rule "+d.RuleID+" decides", false)
		}
		return
	case !known:
		if explain {
			note(d, explain, fmt.Sprintf("%.2f for %q, which the rules do not declare; rule %s decides", p.Confidence, p.Executor, d.RuleID), false)
		}
		return
	case p.Confidence < threshold:
		if explain {
			note(d, explain, fmt.Sprintf("%.2f for %s, below the threshold %.2f; rule %s decides", p.Confidence, p.Executor, threshold, d.RuleID), false)
		}
		return
	}
	if explain {
		note(d, explain, fmt.Sprintf("learned: %.2f, history of %d similar appeals; %s instead of %s", p.Confidence, p.Support, p.Executor, d.Executor), true)
	}
	d.Learned = true
	if p.Executor == d.Executor {
		return
	}
	d.Executor = p.Executor
	if slices.Contains(d.CoExecutors, p.Executor) {
		d.CoExecutors = slices.DeleteFunc(slices.Clone(d.CoExecutors), func(c string) bool { return c == p.Executor })
		if len(d.CoExecutors) == 0 {
			d.CoExecutors = nil
		}
	}
	// The deadline follows the new executor's calendar unless the rule
	// named its own.
	rl := e.fallback
	if !d.Fallback {
		rl = e.byID[d.RuleID]
	}
	if rl == nil || !rl.hasSLA || rl.sla.IsZero() {
		return
	}
	cal := rl.cal
	if !rl.ownCal {
		cal = e.defCal
		if x.Calendar != "" {
			if c, ok := e.calendars[x.Calendar]; ok {
				cal = c
			}
		}
	}
	d.Deadline = rl.sla.After(now, e.calendarFor(a, cal))
}
