package route

// Name is the rules file's "name:", or the name it was parsed under.
func (e *Engine) Name() string { return e.name }

// Executor returns the executor with that id.
func (e *Engine) Executor(id string) (Executor, bool) {
	x, ok := e.executors[id]
	if !ok {
		return Executor{}, false
	}
	return *x, true
}

// Executors returns every executor in the order the file declares them.
func (e *Engine) Executors() []Executor {
	out := make([]Executor, 0, len(e.execOrder))
	for _, id := range e.execOrder {
		out = append(out, *e.executors[id])
	}
	return out
}

// Calendar returns the named calendar.
func (e *Engine) Calendar(name string) (*Calendar, bool) {
	c, ok := e.calendars[name]
	return c, ok
}

// DefaultCalendar is the calendar of "defaults:", else the first declared,
// else the built-in office calendar (Moscow time, federal holidays).
func (e *Engine) DefaultCalendar() *Calendar { return e.defCal }

// RuleInfo describes one rule as the engine evaluates it.
type RuleInfo struct {
	// ID is the rule's id; Path the ids of the rules it is nested in.
	ID, Path string
	// Line is where it starts in the rules file.
	Line int
	// Executor is who the rule assigns ("" for reject or a watcher).
	Executor string
	// Continue and Reject repeat the rule's flags.
	Continue, Reject bool
}

// Rules lists the rules in evaluation order: nested rules before the rule
// that encloses them. The fallback route is not among them.
func (e *Engine) Rules() []RuleInfo {
	out := make([]RuleInfo, len(e.rules))
	for i, r := range e.rules {
		out[i] = RuleInfo{ID: r.id, Path: r.path, Line: r.line, Executor: r.executor, Continue: r.cont, Reject: r.reject}
	}
	return out
}

// FallbackExecutor is who takes every appeal that no rule claims.
func (e *Engine) FallbackExecutor() string { return e.fallback.executor }

// KnowsTopic reports whether code is a topic code the rules file accepts.
func (e *Engine) KnowsTopic(code string) bool { return e.topics[code] }
