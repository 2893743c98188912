package route

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"gopkg.in/yaml.v3"
)

// Executor is a body that answers appeals: an administration, a committee,
// a duty desk.
type Executor struct {
	// ID is how rules name the executor; it is stored in
	// appeal.Assignment.Executor.
	ID string
	// Name is the executor's full official name.
	Name string
	// Municipality is the territory it is responsible for, "" for a
	// regional body.
	Municipality string
	// Contacts holds ways to reach it (email, phone, chat...).
	Contacts map[string]string
	// Parent is the executor that supervises this one; escalation steps
	// with "to: parent" go there.
	Parent string
	// Calendar names the working-time calendar the executor keeps; rules
	// without their own calendar count its deadlines in it.
	Calendar string
	// Aliases are other names the executor appears under in historical
	// data, used by the routing check.
	Aliases []string
	// Line is where the executor is declared in the rules file.
	Line int
}

// Step is one escalation step: when the appeal is still unanswered After
// past its deadline, To is brought in.
type Step struct {
	// After is counted from the deadline, in the rule's calendar unless it
	// is calendar time.
	After Duration
	// To is an executor id or "parent" (the supervisor of the executor at
	// the matching level).
	To string
	// Reassign makes To the responsible executor instead of adding it as a
	// co-executor.
	Reassign bool
}

// rule is one flattened rule: nested rules have been expanded into their
// full merged conditions and inherited actions.
type rule struct {
	id        string
	line, col int
	order     int32
	path      string // ids of enclosing rules, for the trace
	cond      cond
	cal       *Calendar // for time conditions and the deadline
	executor  string
	co        []string
	priority  appeal.Priority
	tags      []string
	sla       Duration
	hasSLA    bool
	escalate  []Step
	reject    bool
	cont      bool
	// ownPriority is set when the rule itself names a priority; only then
	// does a continue rule raise the decision's priority.
	ownPriority bool
	// learned lets a learned model (see WithModel) choose the executor
	// when it is confident; the rule's executor stays the default.
	learned bool
	// ownCal is set when the rule (or an enclosing one) names its calendar;
	// otherwise deadlines follow the executor's calendar.
	ownCal bool
}

func (r *rule) terminal() bool { return !r.cont }

// Engine routes appeals by one parsed rules file. An Engine is immutable
// and safe for concurrent use; swap engines with a Reloader to reload rules.
type Engine struct {
	name      string
	executors map[string]*Executor
	execOrder []string
	calendars map[string]*Calendar
	defCal    *Calendar
	rules     []*rule
	byID      map[string]*rule
	fallback  *rule
	index     index
	keywords  *keywordIndex
	topics    map[string]bool
	zone      func(*appeal.Appeal) *time.Location // see WithPlaceZone
}

// WithPlaceZone returns an engine that counts deadlines in the time zone of
// the appeal's place: zone returns it (nil for "the calendar's own"), for
// example classify.MunicipalityLocation of the appeal's municipality for a
// country-wide deployment. The calendars' hours and holidays stay; only
// the clock they are read on changes. The receiver is unchanged.
func (e *Engine) WithPlaceZone(zone func(a *appeal.Appeal) *time.Location) *Engine {
	c := *e
	c.zone = zone
	return &c
}

// calendarFor returns cal read in the appeal's time zone when the engine
// has a zone function.
func (e *Engine) calendarFor(a *appeal.Appeal, cal *Calendar) *Calendar {
	if e.zone == nil || cal == nil {
		return cal
	}
	return cal.In(e.zone(a))
}

// ParseFile reads and parses a rules file. Relative production_file paths
// in it are resolved against the file's directory.
func ParseFile(path string) (*Engine, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("route: reading rules: %w", err)
	}
	return parse(b, path, filepath.Dir(path))
}

// Parse reads a rules file (YAML) and builds an Engine. name labels errors
// (usually the file name). Every problem found is reported as a *RuleError
// with line and column (several at once as RuleErrors); errors.Is(err,
// ErrInvalidRules) holds for all of them. Parse never panics, whatever the
// input. Relative production_file paths are resolved against the working
// directory.
func Parse(r io.Reader, name string) (*Engine, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxRulesBytes+1))
	if err != nil {
		return nil, fmt.Errorf("route: reading rules %s: %w", name, err)
	}
	return parse(b, name, "")
}

const maxRulesBytes = 32 << 20

func parse(b []byte, name, dir string) (e *Engine, err error) {
	if len(b) > maxRulesBytes {
		return nil, &RuleError{File: name, Msg: fmt.Sprintf("rules file is larger than %d MiB", maxRulesBytes>>20)}
	}
	defer func() {
		// yaml.v3 has had panics on hostile input; a rules file must never
		// take the process down.
		if r := recover(); r != nil {
			e, err = nil, &RuleError{File: name, Msg: fmt.Sprintf("cannot read YAML: %v", r)}
		}
	}()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, &RuleError{File: name, Msg: "rules file is empty"}
		}
		return nil, yamlError(name, b, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, &RuleError{File: name, Line: extra.Line, Col: extra.Column, Msg: "rules file holds more than one YAML document"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &RuleError{File: name, Msg: "rules file is empty"}
	}
	c := &compiler{parser: parser{file: name}, dir: dir}
	eng := c.compile(doc.Content[0])
	switch len(c.errs) {
	case 0:
		return eng, nil
	case 1:
		return nil, c.errs[0]
	}
	return nil, c.errs
}

// yamlError turns a yaml.v3 syntax error into a positioned RuleError
// (see LocateYAMLError).
func yamlError(name string, src []byte, err error) error {
	line, col, msg := LocateYAMLError(src, err)
	return &RuleError{File: name, Line: line, Col: col, Msg: msg}
}

// LocateYAMLError says where a yaml.v3 syntax error in src really is, for
// any YAML file a deployment reads (rules, the deployment file, answer
// templates). yaml.v3 names the line where the enclosing block began, not
// the one that broke it, and names a tab only in some positions, so for
// the two commonest slips the source is searched for the culprit: a tab in
// the indentation, and a key dedented out of its list item (a "when:"
// under "- id:" at the dash's column). It returns a 1-based line and
// column (0 when unknown) and a message without yaml.v3's "yaml: line N:"
// prefix, saying what to fix when a slip was found.
func LocateYAMLError(src []byte, err error) (line, col int, msg string) {
	msg = err.Error()
	if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
		var n int
		if _, scanErr := fmt.Sscanf(rest, "%d:", &n); scanErr == nil {
			line, col = n, 1
			if _, m, ok := strings.Cut(rest, ": "); ok {
				msg = "YAML syntax: " + m
			}
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	// A tab opening the line yaml.v3 complains about gives "cannot start
	// any token", which does not say tab.
	tabs := strings.Contains(msg, "tab") || line > 0 && tabIndented(src, line)
	if l, c, why, ok := findIndentSlip(src, tabs); ok {
		line, col, msg = l, c, why+" ("+strings.TrimPrefix(msg, "YAML syntax: ")+")"
	}
	return line, col, msg
}

// tabIndented reports whether line no (1-based) of src has a tab in its
// indentation.
func tabIndented(src []byte, no int) bool {
	lines := strings.Split(string(src), "\n")
	if no < 1 || no > len(lines) {
		return false
	}
	text := lines[no-1]
	indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
	return strings.IndexByte(indent, '\t') >= 0
}

// findIndentSlip finds the first tab in indentation (when tabs is set or
// no dedent is found) or the first line dedented into a list item's dash
// column, and says what is wrong with it.
func findIndentSlip(src []byte, tabs bool) (line, col int, why string, ok bool) {
	type item struct{ line, dash, content int }
	var stack []item
	tabLine, tabCol := 0, 0
	for i, raw := range strings.Split(string(src), "\n") {
		no := i + 1
		text := strings.TrimRight(raw, "\r")
		indent := len(text) - len(strings.TrimLeft(text, " \t"))
		if t := strings.IndexByte(text[:indent], '\t'); t >= 0 && tabLine == 0 {
			tabLine, tabCol = no, t+1
		}
		body := text[indent:]
		if body == "" || body[0] == '#' || strings.ContainsRune(text[:indent], '\t') {
			continue
		}
		if body == "---" || body == "..." {
			stack = stack[:0]
			continue
		}
		if body == "-" || strings.HasPrefix(body, "- ") {
			for len(stack) > 0 && stack[len(stack)-1].dash >= indent {
				stack = stack[:len(stack)-1]
			}
			after := strings.TrimLeft(body[1:], " ")
			stack = append(stack, item{line: no, dash: indent, content: indent + len(body) - len(after)})
			continue
		}
		for len(stack) > 0 && stack[len(stack)-1].dash > indent {
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.content > top.dash+1 && indent < top.content && indent >= top.dash {
				key, _, _ := strings.Cut(body, ":")
				return no, indent + 1, fmt.Sprintf("%q is indented %d spaces, less than the list item it belongs to (line %d, whose keys start at column %d): indent it by %d more",
					key+":", indent, top.line, top.content+1, top.content-indent), true
			}
		}
	}
	if tabLine > 0 && tabs {
		return tabLine, tabCol, "a tab character in the indentation: YAML indents with spaces only", true
	}
	return 0, 0, "", false
}

// compiler turns the YAML tree into an Engine.
type compiler struct {
	parser
	dir    string
	eng    *Engine
	seenID map[string]*yaml.Node
	// references to check once every executor is known
	execRefs []execRef
}

type execRef struct {
	id   string
	node *yaml.Node
	what string
}

func (c *compiler) compile(root *yaml.Node) *Engine {
	e := &Engine{
		name:      c.file,
		executors: map[string]*Executor{},
		calendars: map[string]*Calendar{},
		byID:      map[string]*rule{},
		topics:    map[string]bool{},
	}
	c.eng = e
	c.seenID = map[string]*yaml.Node{}
	for _, t := range TopicCodes() {
		e.topics[t] = true
	}
	top := c.fields(root, "rules file", "version", "name", "topics", "calendars", "executors", "defaults", "fallback", "rules")
	if top == nil {
		return nil
	}
	if f, ok := top["version"]; ok {
		if v, ok := c.str(f.val, "version"); ok && v != "1" {
			c.errf(f.val, "version %q is not supported; this engine reads version 1", v)
		}
	}
	if f, ok := top["name"]; ok {
		if v, ok := c.str(f.val, "name"); ok {
			e.name = v
		}
	}
	if f, ok := top["topics"]; ok {
		for _, n := range seq(f.val) {
			if v, ok := c.str(n, "topics"); ok {
				if !validTopicCode(v) {
					c.errf(n, "topic code %q: use lower-case words joined by dots, like \"housing.heating\"", v)
				}
				e.topics[v] = true
			}
		}
	}
	c.calendarsSection(top)
	c.executorsSection(top)
	defaults := c.defaultsSection(top)
	if f, ok := top["fallback"]; ok {
		e.fallback = c.fallbackSection(f, defaults)
	} else {
		c.errf(root, "no fallback: add \"fallback: {executor: ...}\" (e.g. the regional centre's duty operator) so that no appeal is ever left unassigned")
	}
	if f, ok := top["rules"]; ok {
		if f.val.Kind != yaml.SequenceNode {
			c.errf(f.val, "rules must be a list, got %s", kindName(f.val))
		} else {
			c.ruleList(f.val.Content, nil, defaults, 0)
		}
	}
	for _, ref := range c.execRefs {
		if ref.id == "parent" && strings.Contains(ref.what, "escalate step") {
			continue
		}
		if _, ok := e.executors[ref.id]; !ok {
			c.errf(ref.node, "%s: unknown executor %q%s", ref.what, ref.id, hint(ref.id, e.execOrder))
		}
	}
	c.checkExecutors()
	if len(c.errs) > 0 {
		return nil
	}
	e.index = buildIndex(e.rules)
	c.checkReachable(e.index)
	if len(c.errs) > 0 {
		return nil
	}
	e.keywords = buildKeywords(e.rules)
	return e
}

func hint(s string, known []string) string {
	if n := nearest(s, known); n != "" {
		return fmt.Sprintf(" (did you mean %q?)", n)
	}
	return ""
}

func seq(n *yaml.Node) []*yaml.Node {
	if n.Kind == yaml.SequenceNode {
		return n.Content
	}
	return []*yaml.Node{n}
}

func validTopicCode(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// moscow is used when a rules file names no calendar at all. Moscow time
// has had no DST since 2014, so a fixed zone needs no tz database.
var moscow = time.FixedZone("MSK", 3*60*60)

func (c *compiler) calendarsSection(top map[string]field) {
	e := c.eng
	f, ok := top["calendars"]
	if !ok {
		cal, _ := NewCalendar(CalendarConfig{Name: "office", Location: moscow, Week: OfficeWeek(), Production: RussianFederal()})
		e.calendars["office"] = cal
		e.defCal = cal
		return
	}
	if f.val.Kind != yaml.MappingNode {
		c.errf(f.val, "calendars must be a mapping of calendar id to its settings, got %s", kindName(f.val))
		return
	}
	for i := 0; i+1 < len(f.val.Content); i += 2 {
		k, v := f.val.Content[i], f.val.Content[i+1]
		id, ok := c.str(k, "calendar id")
		if !ok {
			continue
		}
		if _, dup := e.calendars[id]; dup {
			c.errf(k, "calendar %q is declared twice", id)
			continue
		}
		if cal := c.calendar(id, v); cal != nil {
			e.calendars[id] = cal
			if e.defCal == nil {
				e.defCal = cal
			}
		}
	}
}

var weekdayOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// weekdayRange reads "mon", "mon-fri", "sat-sun", "daily".
func weekdayRange(s string) ([]time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "daily" || s == "all" || s == "mon-sun" {
		return weekdayOrder, true
	}
	a, b, isRange := strings.Cut(s, "-")
	from, ok := parseWeekday(a)
	if !ok {
		return nil, false
	}
	if !isRange {
		return []time.Weekday{from}, true
	}
	to, ok := parseWeekday(b)
	if !ok {
		return nil, false
	}
	var out []time.Weekday
	i := (int(from) + 6) % 7
	j := (int(to) + 6) % 7
	if j < i {
		return nil, false
	}
	for k := i; k <= j; k++ {
		out = append(out, weekdayOrder[k])
	}
	return out, true
}

func (c *compiler) calendar(id string, n *yaml.Node) *Calendar {
	what := fmt.Sprintf("calendar %q", id)
	fs := c.fields(n, what, "timezone", "hours", "production", "production_file", "pre_holiday_cut")
	if fs == nil {
		return nil
	}
	nerr := len(c.errs)
	cfg := CalendarConfig{Name: id, Location: moscow, Week: OfficeWeek(), Production: RussianFederal()}
	if f, ok := fs["timezone"]; ok {
		if tz, ok := c.str(f.val, what+": timezone"); ok {
			loc, err := time.LoadLocation(tz)
			if err != nil {
				c.errf(f.val, "%s: unknown time zone %q (use an IANA name like Europe/Moscow or Asia/Vladivostok; binaries without a system tz database need import _ \"time/tzdata\"): %v", what, tz, err)
			} else {
				cfg.Location = loc
			}
		}
	}
	if f, ok := fs["production"]; ok {
		if v, ok := c.str(f.val, what+": production"); ok {
			switch v {
			case "ru":
				cfg.Production = RussianFederal()
			case "statutory":
				cfg.Production = Statutory()
			case "none":
				cfg.Production = nil
			default:
				c.errf(f.val, "%s: production %q: want ru (federal, with decreed transfers), statutory (Labour Code rules only) or none (every day follows hours)", what, v)
			}
		}
	}
	if f, ok := fs["production_file"]; ok {
		if v, ok := c.str(f.val, what+": production_file"); ok {
			path := v
			if !filepath.IsAbs(path) && c.dir != "" {
				path = filepath.Join(c.dir, path)
			}
			fh, err := os.Open(path)
			if err != nil {
				c.errf(f.val, "%s: production_file: %v", what, err)
			} else {
				extra, err := ParseProduction(fh, path)
				fh.Close()
				if err != nil {
					c.errf(f.val, "%s: production_file: %v", what, err)
				} else if cfg.Production == nil {
					cfg.Production = extra
				} else {
					cfg.Production = cfg.Production.With(extra)
				}
			}
		}
	}
	if f, ok := fs["pre_holiday_cut"]; ok {
		if v, ok := c.str(f.val, what+": pre_holiday_cut"); ok {
			d, err := ParseDuration(v)
			if err != nil || d.Days > 0 || d.D > 4*time.Hour {
				c.errf(f.val, "%s: pre_holiday_cut %q: want a few hours or minutes, like 1h", what, v)
			} else {
				cfg.PreHolidayCut = d.D
			}
		}
	}
	if f, ok := fs["hours"]; ok {
		cfg.Week = Week{}
		hs := c.fields(f.val, what+": hours", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "mon-fri", "mon-thu", "sat-sun", "mon-sat", "tue-fri", "daily")
		set := map[time.Weekday]*yaml.Node{}
		for _, key := range sortedKeys(hs) {
			hf := hs[key]
			days, _ := weekdayRange(key)
			v, ok := c.str(hf.val, what+": hours "+key)
			if !ok {
				continue
			}
			spans, err := parseSpans(v)
			if err != nil {
				c.errf(hf.val, "%s: hours %s: %v", what, key, err)
				continue
			}
			for _, d := range days {
				if prev, dup := set[d]; dup {
					c.errf(hf.key, "%s: hours for %s are given twice (also at line %d)", what, d, prev.Line)
					continue
				}
				set[d] = hf.key
				cfg.Week[d] = spans
			}
		}
	}
	if len(c.errs) > nerr {
		return nil
	}
	cal, err := NewCalendar(cfg)
	if err != nil {
		c.errf(n, "%s: %v", what, err)
		return nil
	}
	return cal
}

func (c *compiler) executorsSection(top map[string]field) {
	e := c.eng
	f, ok := top["executors"]
	if !ok {
		c.errf(nil, "no executors: declare who answers appeals under \"executors:\"")
		return
	}
	if f.val.Kind != yaml.SequenceNode {
		c.errf(f.val, "executors must be a list, got %s", kindName(f.val))
		return
	}
	for _, n := range f.val.Content {
		fs := c.fields(n, "executor", "id", "name", "municipality", "contacts", "parent", "calendar", "aliases")
		if fs == nil {
			continue
		}
		x := &Executor{Line: n.Line}
		idf, ok := fs["id"]
		if !ok {
			c.errf(n, "executor has no id")
			continue
		}
		if x.ID, ok = c.str(idf.val, "executor id"); !ok {
			continue
		}
		if _, dup := e.executors[x.ID]; dup {
			c.errf(idf.val, "executor %q is declared twice (first at line %d)", x.ID, e.executors[x.ID].Line)
			continue
		}
		what := fmt.Sprintf("executor %q", x.ID)
		if f, ok := fs["name"]; ok {
			x.Name, _ = c.str(f.val, what+": name")
		}
		if f, ok := fs["municipality"]; ok {
			x.Municipality, _ = c.str(f.val, what+": municipality")
		}
		if f, ok := fs["parent"]; ok {
			if v, ok := c.str(f.val, what+": parent"); ok {
				x.Parent = v
				c.execRefs = append(c.execRefs, execRef{v, f.val, what + ": parent"})
			}
		}
		if f, ok := fs["calendar"]; ok {
			if v, ok := c.str(f.val, what+": calendar"); ok {
				if _, known := e.calendars[v]; !known {
					c.errf(f.val, "%s: unknown calendar %q%s", what, v, hint(v, sortedKeys(e.calendars)))
				}
				x.Calendar = v
			}
		}
		if f, ok := fs["aliases"]; ok {
			x.Aliases = c.strs(f.val, what+": aliases")
		}
		if f, ok := fs["contacts"]; ok {
			cs := f.val
			if cs.Kind != yaml.MappingNode {
				c.errf(cs, "%s: contacts must be a mapping like {email: ..., phone: ...}", what)
			} else {
				x.Contacts = map[string]string{}
				for i := 0; i+1 < len(cs.Content); i += 2 {
					k, ok1 := c.str(cs.Content[i], what+": contact kind")
					v, ok2 := c.str(cs.Content[i+1], what+": contact")
					if ok1 && ok2 {
						x.Contacts[k] = v
					}
				}
			}
		}
		e.executors[x.ID] = x
		e.execOrder = append(e.execOrder, x.ID)
	}
}

// checkExecutors refuses parent cycles, which would make escalation loop.
func (c *compiler) checkExecutors() {
	e := c.eng
	for _, id := range e.execOrder {
		seen := map[string]bool{id: true}
		for cur := e.executors[id].Parent; cur != ""; {
			if seen[cur] {
				c.errf(nil, "executor %q (line %d): parent chain loops back to %q", id, e.executors[id].Line, cur)
				break
			}
			seen[cur] = true
			p, ok := e.executors[cur]
			if !ok {
				break
			}
			cur = p.Parent
		}
	}
}

// inherited is what enclosing rules pass down to nested ones.
type inherited struct {
	path     string
	cond     cond
	cal      *Calendar
	executor string
	priority appeal.Priority
	sla      Duration
	hasSLA   bool
	escalate []Step
	tags     []string
	learned  bool // nested rules inherit "learned: true"
}

func (c *compiler) defaultsSection(top map[string]field) inherited {
	d := inherited{priority: appeal.PriorityNormal}
	f, ok := top["defaults"]
	if !ok {
		return d
	}
	fs := c.fields(f.val, "defaults", "calendar", "respond_within", "priority", "escalate", "tags")
	if fs == nil {
		return d
	}
	c.actions(fs, "defaults", &d)
	if d.cal != nil {
		// The default calendar applies after a rule's executor's own
		// calendar, so it is not inherited like the other defaults.
		c.eng.defCal, d.cal = d.cal, nil
	}
	return d
}

func (c *compiler) fallbackSection(f field, defaults inherited) *rule {
	fs := c.fields(f.val, "fallback", "executor", "co_executors", "calendar", "respond_within", "priority", "escalate", "tags")
	if fs == nil {
		return nil
	}
	inh := defaults
	c.actions(fs, "fallback", &inh)
	r := &rule{id: "fallback", line: f.key.Line, col: f.key.Column, order: -1, priority: inh.priority, sla: inh.sla, hasSLA: inh.hasSLA, escalate: inh.escalate, tags: slices.Clip(inh.tags)}
	xf, ok := fs["executor"]
	if !ok {
		c.errf(f.val, "fallback has no executor: name the duty operator who takes every appeal no rule claims")
		return nil
	}
	if v, ok := c.str(xf.val, "fallback: executor"); ok {
		r.executor = v
		c.execRefs = append(c.execRefs, execRef{v, xf.val, "fallback: executor"})
	}
	if cf, ok := fs["co_executors"]; ok {
		r.co = slices.Clip(c.execList(cf.val, "fallback: co_executors"))
	}
	r.cal = c.ruleCalendar(inh.cal, r.executor)
	r.ownCal = inh.cal != nil
	return r
}

func (c *compiler) execList(n *yaml.Node, what string) []string {
	ids := c.strs(n, what)
	for i, id := range ids {
		node := n
		if n.Kind == yaml.SequenceNode && i < len(n.Content) {
			node = n.Content[i]
		}
		c.execRefs = append(c.execRefs, execRef{id, node, what})
	}
	return ids
}

// ruleCalendar picks the calendar a rule counts in: its own (or an
// enclosing rule's), else its executor's, else the default.
func (c *compiler) ruleCalendar(own *Calendar, executor string) *Calendar {
	if own != nil {
		return own
	}
	if x, ok := c.eng.executors[executor]; ok && x.Calendar != "" {
		if cal, ok := c.eng.calendars[x.Calendar]; ok {
			return cal
		}
	}
	return c.eng.defCal
}

// actions reads the fields shared by defaults, fallback and rules into inh.
func (c *compiler) actions(fs map[string]field, what string, inh *inherited) {
	if f, ok := fs["calendar"]; ok {
		if v, ok := c.str(f.val, what+": calendar"); ok {
			if cal, known := c.eng.calendars[v]; known {
				inh.cal = cal
			} else {
				c.errf(f.val, "%s: unknown calendar %q%s", what, v, hint(v, sortedKeys(c.eng.calendars)))
			}
		}
	}
	if f, ok := fs["respond_within"]; ok {
		if v, ok := c.str(f.val, what+": respond_within"); ok {
			d, err := ParseDuration(v)
			if err != nil {
				c.errf(f.val, "%s: respond_within: %v", what, err)
			} else {
				inh.sla, inh.hasSLA = d, true
			}
		}
	}
	if f, ok := fs["priority"]; ok {
		if v, ok := c.str(f.val, what+": priority"); ok {
			p := appeal.Priority(v)
			if p.Rank() == 0 {
				c.errf(f.val, "%s: priority %q: want low, normal, high or critical", what, v)
			} else {
				inh.priority = p
			}
		}
	}
	if f, ok := fs["tags"]; ok {
		inh.tags = appendUnique(append([]string(nil), inh.tags...), c.strs(f.val, what+": tags")...)
	}
	if f, ok := fs["escalate"]; ok {
		inh.escalate = c.steps(f.val, what)
	}
}

func (c *compiler) steps(n *yaml.Node, what string) []Step {
	if n.Kind != yaml.SequenceNode {
		c.errf(n, "%s: escalate must be a list of steps like {after: 8h, to: parent}", what)
		return nil
	}
	var out []Step
	var prev *Duration
	for i, sn := range n.Content {
		sw := fmt.Sprintf("%s: escalate step %d", what, i+1)
		fs := c.fields(sn, sw, "after", "to", "reassign")
		if fs == nil {
			continue
		}
		var st Step
		af, ok := fs["after"]
		if !ok {
			c.errf(sn, "%s has no \"after\" (how long past the deadline, e.g. 8h)", sw)
			continue
		}
		if v, ok := c.str(af.val, sw+": after"); ok {
			d, err := ParseDuration(v)
			if err != nil {
				c.errf(af.val, "%s: after: %v", sw, err)
				continue
			}
			if prev != nil && prev.CalendarTime == d.CalendarTime && d.D+time.Duration(d.Days)*24*time.Hour <= prev.D+time.Duration(prev.Days)*24*time.Hour {
				c.errf(af.val, "%s: after %s must be later than the previous step's %s", sw, d, prev)
			}
			st.After = d
			prev = &st.After
		}
		tf, ok := fs["to"]
		if !ok {
			c.errf(sn, "%s has no \"to\" (an executor id or parent)", sw)
			continue
		}
		if v, ok := c.str(tf.val, sw+": to"); ok {
			st.To = v
			c.execRefs = append(c.execRefs, execRef{v, tf.val, sw + ": to"})
		}
		if rf, ok := fs["reassign"]; ok {
			st.Reassign, _ = c.boolean(rf.val, sw+": reassign")
		}
		out = append(out, st)
	}
	return out
}

func appendUnique(dst []string, src ...string) []string {
	for _, s := range src {
		if !inList(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

var ruleFields = []string{"id", "when", "executor", "co_executors", "priority", "tags", "respond_within", "calendar", "escalate", "reject", "continue", "rules", "note", "learned"}

func (c *compiler) ruleList(nodes []*yaml.Node, parent *yaml.Node, inh inherited, depth int) {
	if depth > 16 {
		c.errf(parent, "rules nest deeper than 16 levels")
		return
	}
	for _, n := range nodes {
		c.ruleNode(n, inh, depth)
	}
}

func (c *compiler) ruleNode(n *yaml.Node, outer inherited, depth int) {
	fs := c.fields(n, "rule", ruleFields...)
	if fs == nil {
		return
	}
	idf, ok := fs["id"]
	if !ok {
		c.errf(n, "rule has no id: every rule needs a unique id, which decisions and traces name")
		return
	}
	id, ok := c.str(idf.val, "rule id")
	if !ok {
		return
	}
	if id == "fallback" {
		c.errf(idf.val, "rule id \"fallback\" is reserved for the fallback route")
	}
	if prev, dup := c.seenID[id]; dup {
		c.errf(idf.val, "duplicate rule id %q (first at line %d)", id, prev.Line)
	} else {
		c.seenID[id] = idf.val
	}
	what := fmt.Sprintf("rule %q", id)
	inh := outer
	inh.cond = c.when(fs, what, outer.cond)
	inh.path = strings.TrimPrefix(outer.path+"/"+id, "/")
	c.actions(fs, what, &inh)

	r := &rule{id: id, line: idf.key.Line, col: idf.key.Column, path: outer.path}
	if f, ok := fs["executor"]; ok {
		if v, ok := c.str(f.val, what+": executor"); ok {
			r.executor = v
			inh.executor = v
			c.execRefs = append(c.execRefs, execRef{v, f.val, what + ": executor"})
		}
	}
	if f, ok := fs["co_executors"]; ok {
		r.co = c.execList(f.val, what+": co_executors")
	}
	if f, ok := fs["reject"]; ok {
		r.reject, _ = c.boolean(f.val, what+": reject")
	}
	if f, ok := fs["continue"]; ok {
		r.cont, _ = c.boolean(f.val, what+": continue")
	}
	if f, ok := fs["learned"]; ok {
		r.learned, _ = c.boolean(f.val, what+": learned")
		inh.learned = r.learned
		if r.learned && r.reject {
			c.errf(f.val, "%s: a rejecting rule cannot hand its decision to a learned model", what)
		}
	} else {
		r.learned = inh.learned && !r.reject && !r.cont
	}
	if r.reject && r.cont {
		c.errf(fs["continue"].val, "%s: a rejecting rule cannot continue", what)
	}
	if r.reject && (r.executor != "" || r.co != nil) {
		c.errf(fs["reject"].val, "%s: a rejecting rule has no executors; remove executor/co_executors or reject", what)
	}
	children, hasChildren := fs["rules"]
	if hasChildren {
		if children.val.Kind != yaml.SequenceNode {
			c.errf(children.val, "%s: rules must be a list, got %s", what, kindName(children.val))
		} else {
			c.ruleList(children.val.Content, n, inh, depth+1)
		}
	}
	_, ownExec := fs["executor"]
	_, hasCo := fs["co_executors"]
	_, hasTags := fs["tags"]
	_, hasPrio := fs["priority"]
	hasAction := ownExec || r.reject || (r.cont && (hasCo || hasTags || hasPrio))
	if !hasAction {
		if hasChildren {
			return // a pure group: its conditions live on in its children
		}
		if !r.cont && inh.executor != "" {
			// A nested rule without its own executor keeps the enclosing one
			// and changes only priority, deadline or tags.
			r.executor = inh.executor
			hasAction = true
		} else if r.cont {
			c.errf(idf.key, "%s continues but adds nothing: give it co_executors, tags or priority", what)
			return
		} else {
			c.errf(idf.key, "%s has no action: give it executor, reject: true, or continue: true with co_executors/tags", what)
			return
		}
	}
	r.cond = inh.cond
	r.priority = inh.priority
	r.ownPriority = hasPrio
	// Decisions hand these slices out; clip them so a caller's append
	// copies instead of writing into the engine.
	r.tags = slices.Clip(inh.tags)
	r.co = slices.Clip(r.co)
	r.sla, r.hasSLA = inh.sla, inh.hasSLA
	r.escalate = inh.escalate
	r.cal = c.ruleCalendar(inh.cal, r.executor)
	r.ownCal = inh.cal != nil
	r.order = int32(len(c.eng.rules))
	c.eng.rules = append(c.eng.rules, r)
	c.eng.byID[id] = r
}

var whenFields = []string{"topic", "topics", "min_score", "municipality", "municipalities", "network", "networks",
	"community", "communities", "official", "urgent", "kind", "kinds", "keywords", "exclude_keywords", "days", "hours", "working_hours"}

// when reads a rule's conditions and merges them with the enclosing ones.
func (c *compiler) when(fs map[string]field, what string, outer cond) cond {
	cd := outer
	cd.keywordGroups = append([][]string(nil), outer.keywordGroups...)
	cd.windows = append([]clockWindow(nil), outer.windows...)
	wf, ok := fs["when"]
	if !ok {
		return cd
	}
	w := c.fields(wf.val, what+": when", whenFields...)
	if w == nil {
		return cd
	}
	list := func(one, many string) (*yaml.Node, []string) {
		a, okA := w[one]
		b, okB := w[many]
		if okA && okB {
			c.errf(b.key, "%s: give either %s or %s, not both", what, one, many)
		}
		if okB {
			a, okA = b, true
		}
		if !okA {
			return nil, nil
		}
		return a.val, c.strs(a.val, what+": "+a.key.Value)
	}
	if n, ts := list("topic", "topics"); n != nil {
		for i, t := range ts {
			if !c.eng.topics[t] {
				node := n
				if n.Kind == yaml.SequenceNode && i < len(n.Content) {
					node = n.Content[i]
				}
				c.errf(node, "%s: unknown topic code %q%s; declare custom codes under \"topics:\"", what, t, hint(t, sortedKeys(c.eng.topics)))
			}
		}
		cd.topics = intersectTopics(cd.topics, ts)
		if cd.topics != nil && len(cd.topics) == 0 {
			cd.never = fmt.Sprintf("topics %v exclude the enclosing rule's topics %v", ts, outer.topics)
		}
	}
	if f, ok := w["min_score"]; ok {
		if v, ok := c.float(f.val, what+": min_score", 0, 1); ok {
			cd.minScore = max(cd.minScore, v)
		}
	}
	setField := func(dst *[]string, one, many, label string) {
		if _, vals := list(one, many); vals != nil {
			*dst = intersect(*dst, vals)
			if len(*dst) == 0 {
				cd.never = fmt.Sprintf("%s %v excludes the enclosing rule's", label, vals)
			}
		}
	}
	setField(&cd.municipalities, "municipality", "municipalities", "municipality")
	setField(&cd.networks, "network", "networks", "network")
	setField(&cd.communities, "community", "communities", "community")
	if n, ks := list("kind", "kinds"); n != nil {
		for _, k := range ks {
			if !appeal.Kind(k).Valid() {
				c.errf(n, "%s: unknown kind %q: want post, comment, reply or message", what, k)
			}
		}
		cd.kinds = intersect(cd.kinds, ks)
		if len(cd.kinds) == 0 {
			cd.never = "kinds exclude the enclosing rule's"
		}
	}
	triField := func(dst *tri, key string) {
		if f, ok := w[key]; ok {
			if b, ok := c.boolean(f.val, what+": "+key); ok {
				t := triOf(b)
				if *dst != triAny && *dst != t {
					cd.never = key + " contradicts the enclosing rule"
				}
				*dst = t
			}
		}
	}
	triField(&cd.official, "official")
	triField(&cd.urgent, "urgent")
	triField(&cd.working, "working_hours")
	if f, ok := w["keywords"]; ok {
		var g []string
		for _, k := range c.strs(f.val, what+": keywords") {
			if fk := foldString(k); fk != "" {
				g = append(g, fk)
			}
		}
		if len(g) > 0 {
			cd.keywordGroups = append(cd.keywordGroups, g)
		}
	}
	if f, ok := w["exclude_keywords"]; ok {
		ex := append([]string(nil), outer.excludes...)
		for _, k := range c.strs(f.val, what+": exclude_keywords") {
			if fk := foldString(k); fk != "" {
				ex = append(ex, fk)
			}
		}
		cd.excludes = ex
	}
	if f, ok := w["days"]; ok {
		var mask uint8
		for i, d := range c.strs(f.val, what+": days") {
			days, ok := weekdayRange(d)
			if !ok {
				node := f.val
				if f.val.Kind == yaml.SequenceNode {
					node = f.val.Content[i]
				}
				c.errf(node, "%s: days: %q is not a weekday or range (mon, sat-sun, mon-fri, daily)", what, d)
				continue
			}
			for _, wd := range days {
				mask |= 1 << wd
			}
		}
		if cd.days != 0 {
			mask &= cd.days
			if mask == 0 {
				cd.never = "days exclude the enclosing rule's days"
			}
		}
		cd.days = mask
	}
	if f, ok := w["hours"]; ok {
		if v, ok := c.str(f.val, what+": hours"); ok {
			a, b, okCut := strings.Cut(v, "-")
			from, ok1 := parseClock(a)
			to, ok2 := parseClock(b)
			if !okCut || !ok1 || !ok2 || from == to {
				c.errf(f.val, "%s: hours %q: want HH:MM-HH:MM, e.g. 18:00-09:00 for the night", what, v)
			} else {
				cd.windows = append(cd.windows, clockWindow{from, to})
			}
		}
	}
	return cd
}

// intersect returns the values in both lists; a nil outer list means any.
func intersect(outer, inner []string) []string {
	if outer == nil {
		return append([]string{}, inner...)
	}
	out := []string{}
	for _, v := range inner {
		if inList(outer, v) {
			out = append(out, v)
		}
	}
	return out
}

// intersectTopics keeps, for each pair of outer and inner codes, the more
// specific one when one lies under the other.
func intersectTopics(outer, inner []string) []string {
	if outer == nil {
		return append([]string{}, inner...)
	}
	out := []string{}
	for _, in := range inner {
		for _, o := range outer {
			switch {
			case topicUnder(in, o):
				out = appendUnique(out, in)
			case topicUnder(o, in):
				out = appendUnique(out, o)
			}
		}
	}
	return out
}
