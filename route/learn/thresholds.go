package learn

// RuleThresholds turns how each rule fared on history (Check's report on
// the training history) into the confidence a learned router needs to
// decide within that rule: the rule's agreement with history, so that the
// model takes over where it is more likely right than the rule would be.
// Rules that decided fewer than minAppeals appeals of history are left
// out and keep the router's common threshold.
//
// Pass the map to (*route.LearnedRouter).WithRuleThresholds, and keep it
// with the model (Model.WithThresholds) so that a deployment loading the
// model file routes as it was measured.
//
// A cross-validated fit (each rule's threshold chosen where out-of-fold
// predictions agreed with history most often) was tried and measured no
// better on the Kursk and St Petersburg histories, so the simple rule
// stays.
func RuleThresholds(rep Report, minAppeals int) map[string]float64 {
	out := map[string]float64{}
	for _, rs := range rep.Rules {
		if rs.N >= minAppeals && rs.N > 0 {
			out[rs.RuleID] = float64(rs.Agree) / float64(rs.N)
		}
	}
	return out
}
