package route_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/route/learn"
)

// Every keyword of the example rules is found in the real appeals
// (outside the repository; skipped when absent) exactly where the
// rune-by-rune search of the raw text finds it. Failures name the appeal
// by its number only: the texts are citizens'.
func TestKeywordsOnRealTexts(t *testing.T) {
	var engines []*route.Engine
	for _, f := range []string{"../examples/rules/spb.yaml", regionFile} {
		e, err := route.ParseFile(f)
		require.NoError(t, err, f)
		engines = append(engines, e)
	}
	for _, h := range []string{"../../shared/data/spb/dev.jsonl.gz", "../../shared/data/kursk/train.jsonl"} {
		if _, err := os.Stat(h); err != nil {
			t.Logf("skipping %s: %v", h, err)
			continue
		}
		recs, _, err := learn.Open(h, learn.Mapping{Codes: route.TopicCodes()})
		require.NoError(t, err)
		step := 1
		if testing.Short() || raceEnabled {
			step = 7 // the rune-by-rune reference is slow under the race detector
		}
		for i := 0; i < len(recs); i += step {
			for ei, e := range engines {
				if kw, got, want, bad := route.KeywordMismatch(e, recs[i].Text); bad {
					t.Fatalf("%s appeal %d, rules %d: keyword %q found=%v, rune-by-rune search says %v", h, i, ei, kw, got, want)
				}
			}
		}
	}
}
