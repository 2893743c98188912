package route_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/appealkit/appealkit/route"
)

// Hostile nesting must give an error, not exhaust the stack.
func TestParseDeepNesting(t *testing.T) {
	for _, src := range []string{
		strings.Repeat("[", 200000),
		strings.Repeat("{a: ", 200000),
		strings.Repeat("- ", 20000) + "x",
		"rules:\n" + strings.Repeat("  ", 1) + strings.Repeat("- {id: a, rules: [", 5000),
	} {
		if _, err := route.Parse(strings.NewReader(src), "deep.yaml"); err == nil {
			t.Errorf("deep input of %d bytes accepted", len(src))
		}
	}
	// Well-formed but too deeply nested rules are refused by name.
	var b strings.Builder
	b.WriteString("executors: [{id: a}]\nfallback: {executor: a}\nrules: [")
	for i := range 40 {
		fmt.Fprintf(&b, "{id: x%d, rules: [", i)
	}
	b.WriteString("{id: leaf, executor: a}" + strings.Repeat("]}", 40) + "]\n")
	nested := b.String()
	_, err := route.Parse(strings.NewReader(nested), "deep.yaml")
	if err == nil || !strings.Contains(err.Error(), "deeper than 16 levels") {
		t.Errorf("40 levels of rules: %v", err)
	}
}
