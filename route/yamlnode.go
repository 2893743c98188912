package route

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// parser walks a yaml.Node tree and collects positioned errors, so one
// pass reports every problem in a rules file instead of the first one.
type parser struct {
	file string
	errs RuleErrors
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) {
	e := &RuleError{File: p.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	if len(p.errs) < 100 {
		p.errs = append(p.errs, e)
	}
}

// field is one key of a mapping with its value, both with positions.
type field struct {
	key, val *yaml.Node
}

// fields reads a mapping node, refusing keys outside allowed (with a hint
// for a near miss) and repeated keys. It returns nil when n is not a
// mapping.
func (p *parser) fields(n *yaml.Node, what string, allowed ...string) map[string]field {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		p.errf(n, "%s: YAML aliases are not supported in rules files; write the value out", what)
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errf(n, "%s must be a mapping (key: value lines), got %s", what, kindName(n))
		return nil
	}
	out := make(map[string]field, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errf(k, "%s: keys must be plain words", what)
			continue
		}
		name := k.Value
		if !contains(allowed, name) {
			if s := nearest(name, allowed); s != "" {
				p.errf(k, "%s: unknown field %q (did you mean %q?)", what, name, s)
			} else {
				p.errf(k, "%s: unknown field %q (known: %s)", what, name, strings.Join(allowed, ", "))
			}
			continue
		}
		if _, dup := out[name]; dup {
			p.errf(k, "%s: field %q is given twice", what, name)
			continue
		}
		if v.Kind == yaml.AliasNode {
			p.errf(v, "%s.%s: YAML aliases are not supported in rules files; write the value out", what, name)
			continue
		}
		out[name] = field{k, v}
	}
	return out
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// nearest suggests the closest known word within edit distance 2.
func nearest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 99
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errf(n, "%s must be a single value, got %s", what, kindName(n))
		return "", false
	}
	v := strings.TrimSpace(n.Value)
	if v == "" {
		p.errf(n, "%s is empty", what)
		return "", false
	}
	return v, true
}

// strs accepts one value or a list of values.
func (p *parser) strs(n *yaml.Node, what string) []string {
	if n.Kind == yaml.ScalarNode {
		if v, ok := p.str(n, what); ok {
			return []string{v}
		}
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "%s must be a value or a list of values, got %s", what, kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		if v, ok := p.str(c, what); ok {
			out = append(out, v)
		}
	}
	if len(out) == 0 && len(n.Content) == 0 {
		p.errf(n, "%s is an empty list; leave it out to match anything", what)
	}
	return out
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, bool) {
	if n.Kind == yaml.ScalarNode {
		switch strings.ToLower(n.Value) {
		case "true", "yes", "on":
			return true, true
		case "false", "no", "off":
			return false, true
		}
	}
	p.errf(n, "%s must be true or false, got %s", what, kindName(n))
	return false, false
}

func (p *parser) float(n *yaml.Node, what string, lo, hi float64) (float64, bool) {
	if n.Kind == yaml.ScalarNode {
		if f, err := strconv.ParseFloat(strings.TrimSpace(n.Value), 64); err == nil && f >= lo && f <= hi {
			return f, true
		}
	}
	p.errf(n, "%s must be a number from %g to %g, got %s", what, lo, hi, kindName(n))
	return 0, false
}

// Duration is a span of time in a rules file with how it is counted.
type Duration struct {
	// D is the amount of time; in working mode 1d is the calendar's
	// DayLength.
	D time.Duration
	// Days is the number of "d" units, resolved against a calendar.
	Days int
	// CalendarTime means wall-clock time (nights and holidays count); the
	// default is working time of the rule's calendar.
	CalendarTime bool
}

// ParseDuration reads a rules-file duration: one or more amounts with units
// m, h or d ("4h", "1h30m", "3d"), optionally followed by "working" (the
// default: only working hours count) or "calendar" (wall-clock time counts).
// In working mode "1d" is one working day of the calendar (its DayLength);
// in calendar mode it is 24 hours.
func ParseDuration(s string) (Duration, error) {
	var out Duration
	f := strings.Fields(strings.ToLower(s))
	if len(f) == 0 {
		return out, fmt.Errorf("empty duration: want e.g. \"4h\", \"3d\" or \"24h calendar\"")
	}
	if len(f) > 2 {
		return out, fmt.Errorf("bad duration %q: want an amount and at most one word (working or calendar)", s)
	}
	if len(f) == 2 {
		switch f[1] {
		case "calendar":
			out.CalendarTime = true
		case "working":
		default:
			return out, fmt.Errorf("bad duration %q: %q should be \"working\" or \"calendar\"", s, f[1])
		}
	}
	rest := f[0]
	if rest == "0" {
		return out, nil
	}
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || i > 6 {
			return out, fmt.Errorf("bad duration %q: want numbers with units m, h or d, like \"4h\" or \"1h30m\"", s)
		}
		n, _ := strconv.Atoi(rest[:i])
		switch rest[i] {
		case 'm':
			out.D += time.Duration(n) * time.Minute
		case 'h':
			out.D += time.Duration(n) * time.Hour
		case 'd':
			out.Days += n
		default:
			return out, fmt.Errorf("bad duration %q: unknown unit %q (use m, h or d)", s, rest[i])
		}
		rest = rest[i+1:]
	}
	if out.D > 10*366*24*time.Hour || out.Days > 3660 {
		return out, fmt.Errorf("bad duration %q: longer than ten years", s)
	}
	return out, nil
}

// IsZero reports a zero duration.
func (d Duration) IsZero() bool { return d.D == 0 && d.Days == 0 }

// After returns when d has passed after t, counted in cal unless d is in
// calendar time.
func (d Duration) After(t time.Time, cal *Calendar) time.Time {
	if d.CalendarTime || cal == nil {
		return t.Add(d.D + time.Duration(d.Days)*24*time.Hour)
	}
	return cal.AddWorking(t, d.D+time.Duration(d.Days)*cal.daily)
}

// String formats d the way ParseDuration reads it.
func (d Duration) String() string {
	var b strings.Builder
	if d.Days > 0 {
		fmt.Fprintf(&b, "%dd", d.Days)
	}
	if h := d.D / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m := d.D % time.Hour / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if b.Len() == 0 {
		b.WriteString("0")
	}
	if d.CalendarTime {
		b.WriteString(" calendar")
	} else {
		b.WriteString(" working")
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
