package rules_test

import (
	"bytes"
	"testing"
	_ "time/tzdata"

	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
)

func TestEmbeddedRulesParse(t *testing.T) {
	for name, b := range map[string][]byte{"region.yaml": rules.Region, "spb.yaml": rules.SPb} {
		e, err := route.Parse(bytes.NewReader(b), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(e.Rules()) < 10 || e.FallbackExecutor() == "" {
			t.Errorf("%s: %d rules, fallback %q", name, len(e.Rules()), e.FallbackExecutor())
		}
	}
}
