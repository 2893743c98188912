package answer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/route"
)

// ErrNoTemplate is returned by Templates.Render when no template fits the
// appeal's topic and the kind asked for.
var ErrNoTemplate = errors.New("answer: no template for this topic and kind")

// ErrBadTemplates is matched by every *TemplateError.
var ErrBadTemplates = errors.New("answer: bad templates file")

// TemplateError names the place in a templates file that is wrong.
type TemplateError struct {
	File string
	Line int // 1-based; 0 when the file as a whole is wrong
	Msg  string
	Err  error // the underlying error, if any
}

// Error reads "file:line: message".
func (e *TemplateError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Is makes errors.Is(err, ErrBadTemplates) true.
func (e *TemplateError) Is(target error) bool { return target == ErrBadTemplates }

// Unwrap returns the underlying error.
func (e *TemplateError) Unwrap() error { return e.Err }

// Template is one answer text for a topic and kind.
type Template struct {
	// Topic is a topic code; it also fits the topic's subtopics. "*" fits
	// every appeal and is the fallback.
	Topic string
	Kind  appeal.AnswerKind
	// PromiseDays is, for an interim answer, the resolution term in
	// working days from the answer; the rendered draft promises that date.
	PromiseDays int
	// Line is where the template starts in its file.
	Line int

	tmpl *template.Template
}

// Templates is a parsed templates file. It is immutable and safe for
// concurrent use.
//
// The file is YAML:
//
//	templates:
//	  - topic: roads            # a topic code (fits its subtopics too) or "*"
//	    kind: interim           # interim or final
//	    promise_days: 10        # interim: promised term in working days
//	    text: |
//	      Здравствуйте! Обращение о дороге {{with .Place}}({{.}}) {{end}}принято в работу.
//	      Исполнитель — {{.Executor}}. Срок решения — до {{date .Promised}}
//	      ({{plural .PromiseDays "рабочий день" "рабочих дня" "рабочих дней"}}).
//
// Texts are Go text/template with the fields of Data and the functions
// date («3 декабря»), dateyear («3 декабря 2026 г.»), plural (n, one, few,
// many → «5 дней»), workdays (t, n → the date n working days after t in the
// executor's calendar) and lower.
type Templates struct {
	file string
	cal  *route.Calendar
	list []*Template
}

// Data is what a template sees.
type Data struct {
	// Appeal is the appeal answered.
	Appeal appeal.Appeal
	// Topic is the Russian title of the appeal's top topic («Дороги и
	// тротуары»), or "" when unknown.
	Topic string
	// Executor is the executor's Russian name from the rules file.
	Executor string
	// Place and Municipality come from the appeal.
	Place, Municipality string
	// Received is when the appeal was written.
	Received time.Time
	// Now is when the draft is made.
	Now time.Time
	// Deadline is the answer deadline from routing.
	Deadline time.Time
	// Promised is the resolution date the answer promises: for an interim
	// answer Now plus PromiseDays working days, else the appeal's Promised.
	Promised time.Time
	// PromiseDays is the template's term in working days.
	PromiseDays int
}

// ParseTemplatesFile reads a templates file.
func ParseTemplatesFile(path string, cal *route.Calendar) (*Templates, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &TemplateError{File: path, Msg: "cannot read", Err: err}
	}
	return parseTemplates(b, path, cal)
}

// ParseTemplates reads a templates file from r; name is used in errors.
// Every template is parsed and tried on a sample appeal, so that a wrong
// field or function is reported now, with its file and line, and not when
// an operator drafts an answer. cal is the calendar workdays counts in
// (nil: Monday to Friday).
func ParseTemplates(r io.Reader, name string, cal *route.Calendar) (*Templates, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, &TemplateError{File: name, Msg: "cannot read", Err: err}
	}
	return parseTemplates(b, name, cal)
}

type fileTemplate struct {
	Topic       string `yaml:"topic"`
	Kind        string `yaml:"kind"`
	PromiseDays int    `yaml:"promise_days"`
	Text        string `yaml:"text"`
}

func parseTemplates(b []byte, name string, cal *route.Calendar) (*Templates, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		line, _, msg := route.LocateYAMLError(b, err)
		return nil, &TemplateError{File: name, Line: line, Msg: msg, Err: err}
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, &TemplateError{File: name, Msg: "want a mapping with a templates list"}
	}
	top := root.Content[0]
	var list *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		switch k := top.Content[i]; k.Value {
		case "templates":
			list = top.Content[i+1]
		case "version":
		default:
			return nil, &TemplateError{File: name, Line: k.Line, Msg: fmt.Sprintf("unknown key %q (want templates)", k.Value)}
		}
	}
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return nil, &TemplateError{File: name, Line: top.Line, Msg: "templates: want a non-empty list"}
	}
	t := &Templates{file: name, cal: cal}
	seen := map[string]int{}
	for _, n := range list.Content {
		var ft fileTemplate
		if err := n.Decode(&ft); err != nil {
			return nil, &TemplateError{File: name, Line: n.Line, Msg: err.Error(), Err: err}
		}
		if err := checkKeys(n, name); err != nil {
			return nil, err
		}
		kind := appeal.AnswerKind(ft.Kind)
		switch {
		case ft.Topic == "":
			return nil, &TemplateError{File: name, Line: n.Line, Msg: "topic is empty (a topic code or \"*\")"}
		case !kind.Valid():
			return nil, &TemplateError{File: name, Line: n.Line, Msg: fmt.Sprintf("kind %q: want interim or final", ft.Kind)}
		case strings.TrimSpace(ft.Text) == "":
			return nil, &TemplateError{File: name, Line: n.Line, Msg: "text is empty"}
		case ft.PromiseDays < 0 || ft.PromiseDays > 366:
			return nil, &TemplateError{File: name, Line: n.Line, Msg: fmt.Sprintf("promise_days %d: want 0 to 366", ft.PromiseDays)}
		}
		key := ft.Topic + "/" + ft.Kind
		if prev, dup := seen[key]; dup {
			return nil, &TemplateError{File: name, Line: n.Line, Msg: fmt.Sprintf("second %s template for topic %q (first on line %d)", ft.Kind, ft.Topic, prev)}
		}
		seen[key] = n.Line
		textNode := valueNode(n, "text")
		base := textNode.Line
		if textNode.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			base++ // a block scalar's text starts on the next line
		}
		tm := &Template{Topic: ft.Topic, Kind: kind, PromiseDays: ft.PromiseDays, Line: n.Line}
		tmpl, err := template.New(key).Funcs(funcs(cal)).Option("missingkey=error").Parse(ft.Text)
		if err != nil {
			return nil, templateError(name, base, err)
		}
		tm.tmpl = tmpl
		if err := tmpl.Execute(io.Discard, sampleData()); err != nil {
			return nil, templateError(name, base, err)
		}
		t.list = append(t.list, tm)
	}
	return t, nil
}

func checkKeys(n *yaml.Node, file string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i]; k.Value {
		case "topic", "kind", "promise_days", "text":
		default:
			return &TemplateError{File: file, Line: k.Line, Msg: fmt.Sprintf("unknown key %q (want topic, kind, promise_days, text)", k.Value)}
		}
	}
	return nil
}

func valueNode(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return n
}

// tmplLineRE finds the line in text/template's "template: name:LINE: ..."
// and "template: name:LINE:COL: ..." messages.
var tmplLineRE = regexp.MustCompile(`^template: [^:]*:(\d+):(?:\d+:)?\s*(.*)$`)

func templateError(file string, base int, err error) error {
	msg := err.Error()
	line := base
	if m := tmplLineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		line = base + n - 1
		msg = m[2]
	}
	return &TemplateError{File: file, Line: line, Msg: "template: " + msg, Err: err}
}

func funcs(cal *route.Calendar) template.FuncMap {
	return template.FuncMap{
		"date":     FormatDate,
		"dateyear": FormatDateYear,
		"plural":   Plural,
		"workdays": func(t time.Time, n int) time.Time { return AddWorkingDays(cal, t, n) },
		"lower":    strings.ToLower,
	}
}

func sampleData() Data {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	return Data{
		Appeal: appeal.Appeal{ID: "vk:1", Network: appeal.NetworkVK, Text: "яма на дороге", Place: "Курск", Municipality: "Курск", Assignment: &appeal.Assignment{Executor: "roads"}},
		Topic:  "Дороги", Executor: "Комитет дорожного хозяйства", Place: "Курск", Municipality: "Курск",
		Received: now, Now: now, Deadline: now, Promised: now, PromiseDays: 10,
	}
}

// File returns the name the templates were read from.
func (t *Templates) File() string { return t.file }

// Find returns the template for the appeal's top topic and kind: the one
// whose topic is the most specific match ("housing.heating" before
// "housing"), else the "*" template.
func (t *Templates) Find(a *appeal.Appeal, kind appeal.AnswerKind) (*Template, bool) {
	var best *Template
	for _, tm := range t.list {
		if tm.Kind != kind {
			continue
		}
		switch {
		case tm.Topic == "*":
			if best == nil {
				best = tm
			}
		case topicFits(a, tm.Topic):
			if best == nil || best.Topic == "*" || len(tm.Topic) > len(best.Topic) {
				best = tm
			}
		}
	}
	return best, best != nil
}

// topicFits reports whether the appeal's top topic is code or below it; an
// appeal without a top topic fits nothing but "*".
func topicFits(a *appeal.Appeal, code string) bool {
	top := a.TopTopic()
	return top == code || strings.HasPrefix(top, code+".")
}

// Render fills the template for the appeal and kind with d (Promised and
// PromiseDays are set from the template when d.Promised is zero). It
// returns the text and the promised date.
func (t *Templates) Render(a *appeal.Appeal, kind appeal.AnswerKind, d Data) (string, time.Time, error) {
	tm, ok := t.Find(a, kind)
	if !ok {
		return "", time.Time{}, fmt.Errorf("%w: appeal %s, topic %q, kind %s", ErrNoTemplate, a.ID, a.TopTopic(), kind)
	}
	d.Appeal = a.Clone()
	d.PromiseDays = tm.PromiseDays
	if d.Promised.IsZero() {
		if kind == appeal.AnswerInterim && tm.PromiseDays > 0 {
			d.Promised = AddWorkingDays(t.cal, d.Now, tm.PromiseDays)
		} else {
			d.Promised = a.Promised
		}
	}
	var b bytes.Buffer
	if err := tm.tmpl.Execute(&b, d); err != nil {
		return "", time.Time{}, templateError(t.file, tm.Line, err)
	}
	return strings.TrimSpace(b.String()), d.Promised, nil
}

// topicTitle returns the Russian title of code from the shipped rubricator.
func topicTitle(code string) string { return classify.DefaultRubricator().Title(code) }
