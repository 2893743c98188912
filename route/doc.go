// Package route decides who must answer an appeal and by when: an ordered
// rules file matched against the classified appeal, executors with their
// supervisors, working-time calendars with the Russian production calendar,
// escalation steps, an explanation of every decision, and hot reload.
//
// # Rules file
//
// A rules file is YAML (see examples/rules/region.yaml for a whole region):
//
//	version: 1
//	name: kursk-region
//	topics: [housing.lifts]            # extra topic codes beyond TopicCodes()
//	calendars:
//	  office:
//	    timezone: Europe/Moscow         # IANA name; working hours are local
//	    production: ru                  # ru | statutory | none
//	    production_file: ru-2028.txt    # extra years (ParseProduction format)
//	    hours:
//	      mon-thu: 09:00-13:00, 13:45-18:00
//	      fri: 09:00-13:00, 13:45-16:45
//	executors:
//	  - id: kursky-admin
//	    name: Администрация Курского района
//	    municipality: Курский район
//	    parent: region-admin             # escalation "to: parent" goes here
//	    calendar: office
//	    contacts: {email: ..., phone: ...}
//	    aliases: [...]                   # other names in historical data
//	defaults:                            # inherited by every rule
//	  calendar: office
//	  respond_within: 1d
//	  priority: normal
//	  escalate: [{after: 4h, to: parent}, {after: 1d, to: cur-head, reassign: true}]
//	fallback:                            # required: takes what no rule claims
//	  executor: cur-duty
//	  respond_within: 4h calendar
//	rules:
//	  - id: kursky                       # unique, required
//	    when: {municipality: Курский район}
//	    executor: kursky-admin           # applies when no nested rule matched
//	    rules:
//	      - id: kursky-roads
//	        when: {topics: [roads, snow]}
//	        co_executors: [roads-committee]   # executor inherited
//
// Conditions under "when" (all must hold; nested rules add to their
// enclosing rules' conditions): topic/topics (a parent code such as
// "housing" matches "housing.heating"), min_score (the matching topic's
// score, or the top topic's when no topics are given),
// municipality/municipalities, network/networks, community/communities
// (community ids), official (an official page or not), urgent, kind/kinds,
// keywords (any of them; each is a stem that must begin a word, case and
// ё/е do not matter, punctuation counts as a space: "прорыв труб" matches
// "Прорыв, трубы"; a trace names the first of the list the text holds;
// the text is searched once per decision, whatever its length),
// exclude_keywords (none of them), days (mon, sat-sun,
// mon-fri, daily), hours ("18:00-09:00" wraps midnight) and working_hours
// (inside or outside the working hours of the rule's calendar). Time
// conditions look at the routing time in the rule's calendar's zone.
//
// Actions: executor, co_executors, priority (low, normal, high, critical),
// tags, respond_within, calendar, escalate, reject (spam: the appeal is
// rejected) and continue. Rules are tried in order; nested rules come
// before the rule that encloses them. The first matching rule without
// continue decides. A matching rule with continue: true adds its executor
// and co_executors as co-executors, its tags and its priority (the highest
// wins) and matching goes on: watchers such as "urgent appeals also go to
// the duty desk". When no rule decides, the fallback does: no appeal is
// ever left without an executor.
//
// learned: true marks a rule as a default (a district's administration, a
// topic's regional body; nested rules inherit it, learned: false opts
// out): with a learned model (WithModel), the model may choose another
// declared executor for the appeals such a rule, or the fallback, decides,
// when its confidence reaches the threshold. Explicit rules are never
// overridden.
//
// # Durations
//
// respond_within and escalation "after" take amounts with units m, h and d
// ("4h", "1h30m", "2d"), optionally followed by "working" (the default) or
// "calendar". Working durations count only the working hours of the rule's
// calendar (its own, else an enclosing rule's, else its executor's, else
// the default calendar), so "4h" on Friday at 17:00 ends on Monday at
// 12:00, after a holiday later still; "1d" is one working day (the
// calendar's DayLength). Calendar durations count wall-clock time:
// "24h calendar". Escalation "after" is counted from the deadline.
//
// # Validation
//
// Parse reports every problem it finds with file, line and column as
// *RuleError (several as RuleErrors; both match ErrInvalidRules): unknown
// fields (with a suggestion), unknown executors, calendars and topic codes,
// duplicate rule ids, bad durations, hours and time zones, parent chains
// that loop, rules whose conditions contradict their enclosing rule's, and
// unreachable rules, shadowed by an earlier rule that decides for every
// appeal they would match.
//
// # Calendars
//
// Calendar counts working time in one time zone from a weekly schedule and
// a Production: the Russian federal production calendar with the decreed
// transfers of 2025–2027 (RussianFederal; 2027 is an assumption until the
// decree is published, see production_ru.txt) and the Labour Code's
// statutory rules for other years. Load further years with
// ParseProduction. Pre-holiday days are one hour shorter. The package never
// loads the tz database by itself: binaries for hosts without one should
// import _ "time/tzdata".
//
// # Use
//
// Parse (or ParseFile) compiles a rules file into an Engine, immutable and
// safe for concurrent use. Engine.Route decides without allocating unless
// continue rules matched; Engine.RouteExplain adds a Trace of every rule
// and why it matched or not. Decision.Assignment and Decision.Change give
// what appeal.Store keeps. Engine.Overdue lists escalation steps that came
// due; Escalation.Apply records one on the assignment, idempotently. A
// Reloader holds the engine in force behind an atomic pointer and reloads the
// rules file (Reload, or Watch polling it), keeping the old rules when the
// new file is bad. WithModel combines the rules with a learned router
// (Predictor; route/learn.Model is one), and Engine.WithPlaceZone counts
// deadlines on the clock of the appeal's place. Package route/learn learns
// routing from history and compares rules with it; Engine.Lint lists
// overlapping rules and unused executors.
package route
