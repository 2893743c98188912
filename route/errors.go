package route

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidRules is matched (errors.Is) by every *RuleError, so callers can
// tell a bad rules file from an I/O failure without a type switch.
var ErrInvalidRules = errors.New("route: invalid rules")

// RuleError reports one problem in a rules file with its position, so that
// an operator can open the file at the right line. Line and Col are 1-based;
// they are 0 when the problem has no single place (for example an empty
// file).
type RuleError struct {
	File string // the name given to Parse, or the file's path
	Line int    // 1-based line, 0 when unknown
	Col  int    // 1-based column, 0 when unknown
	Msg  string // what is wrong, naming the field and the value
}

// Error formats the problem as "file:line:col: message".
func (e *RuleError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	} else {
		b.WriteString("rules")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidRules) true.
func (e *RuleError) Is(target error) bool { return target == ErrInvalidRules }

// RuleErrors is the full list of problems found in one rules file. Parse
// returns it when more than one problem was found; errors.As with a
// *RuleError target finds the first of them.
type RuleErrors []*RuleError

// Error formats the first problem and a count (and a few) of the others.
func (l RuleErrors) Error() string {
	if len(l) == 0 {
		return "route: no errors"
	}
	var b strings.Builder
	b.WriteString(l[0].Error())
	if len(l) > 1 {
		fmt.Fprintf(&b, " (and %d more:", len(l)-1)
		for i, e := range l[1:] {
			if i == 5 {
				b.WriteString(" ...")
				break
			}
			b.WriteString(" ")
			b.WriteString(e.Error())
			b.WriteString(";")
		}
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap exposes every problem to errors.Is and errors.As.
func (l RuleErrors) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}
