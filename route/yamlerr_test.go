package route_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/route"
)

// YAML slips are reported at the line that is wrong, not where yaml.v3
// noticed: a dedented "when:" at its own line, a tab named as such.
func TestYAMLSlipsAtTheirLine(t *testing.T) {
	const head = "executors:\n  - {id: a}\nfallback: {executor: a}\nrules:\n  - id: r\n"
	for _, tc := range []struct {
		name, src string
		line      int
		want      string
	}{
		{"dedented when", head + "  when: {topics: [roads]}\n    executor: a\n", 6, `"when:" is indented 2 spaces, less than the list item it belongs to (line 5`},
		{"half dedented", head + "    executor: a\n   when: {topics: [roads]}\n", 7, `"when:" is indented 3 spaces`},
		{"tab", head + "\twhen: {topics: [roads]}\n    executor: a\n", 6, "a tab character in the indentation"},
		// At the top level yaml.v3 says only "found character that cannot
		// start any token".
		{"tab at top", "executors:\n\t- id: a\n", 2, "a tab character in the indentation"},
		{"tab in a map", "executors:\n  - id: a\n\t  name: A\n", 3, "a tab character in the indentation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := route.Parse(strings.NewReader(tc.src), "r.yaml")
			require.Error(t, err)
			var re *route.RuleError
			require.True(t, errors.As(err, &re), "%T %v", err, err)
			assert.Equal(t, tc.line, re.Line, err.Error())
			assert.Contains(t, re.Msg, tc.want)
			assert.ErrorIs(t, err, route.ErrInvalidRules)
		})
	}
}

// LocateYAMLError takes any error and source: a line yaml.v3 names past
// the end, or an error that is not yaml.v3's, keeps its message.
func TestLocateYAMLErrorOddInput(t *testing.T) {
	line, col, msg := route.LocateYAMLError([]byte("a: 1\n"), errors.New("yaml: line 99: mapping values are not allowed in this context"))
	assert.Equal(t, 99, line)
	assert.Equal(t, 1, col)
	assert.Equal(t, "YAML syntax: mapping values are not allowed in this context", msg)
	line, col, msg = route.LocateYAMLError(nil, errors.New("yaml: control characters are not allowed"))
	assert.Zero(t, line)
	assert.Zero(t, col)
	assert.Equal(t, "control characters are not allowed", msg)
}
