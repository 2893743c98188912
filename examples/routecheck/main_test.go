package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var lastLine = regexp.MustCompile(`\nagree=(0\.\d{4}|1\.0000) n=(\d+)\n$`)

func TestRoutecheckFixture(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-rules", "testdata/rules.yaml", "-history", "testdata/history.jsonl", "-map", "testdata/map.yaml"}, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	m := lastLine.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("last line is not agree=0.xxxx n=N:\n%s", s)
	}
	if m[1] != "0.8571" || m[2] != "7" {
		t.Errorf("got agree=%s n=%s, want 0.8571 and 7", m[1], m[2])
	}
	for _, want := range []string{"unmapped, routed without a topic: test", "municipality from \"district\"", "roads: roads → Администрация Северного района"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
	// Never print the texts.
	if strings.Contains(s, "батареи") || strings.Contains(s, "поликлинике") {
		t.Errorf("report prints appeal texts:\n%s", s)
	}
}

func TestRoutecheckErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-rules", "testdata/missing.yaml", "-history", "testdata/history.jsonl"},
		{"-rules", "testdata/rules.yaml", "-history", "testdata/missing.jsonl"},
		{"-rules", "testdata/rules.yaml", "-history", "testdata/history.jsonl", "-map", "testdata/badmap.yaml"},
	} {
		if err := run(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestRoutecheckLint(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run([]string{"-rules", "testdata/rules.yaml"}, &out))
	assert.Contains(t, out.String(), "no errors")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("version: 1\nexecutors:\n  - {id: a}\nfallback: {executor: a}\nrules:\n  - id: r\n    executor: nobody\n"), 0o600))
	err := run([]string{"-rules", bad}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nobody")
	overlap := filepath.Join(dir, "overlap.yaml")
	require.NoError(t, os.WriteFile(overlap, []byte("version: 1\nexecutors:\n  - {id: a}\n  - {id: b}\nfallback: {executor: a}\nrules:\n  - id: r1\n    when: {topics: [roads], municipality: X}\n    executor: a\n  - id: r2\n    when: {topics: [roads]}\n    executor: b\n"), 0o600))
	out.Reset()
	require.NoError(t, run([]string{"-rules", overlap}, &out))
	assert.Contains(t, out.String(), `rule "r2" overlaps rule "r1"`)
}

// The real Kursk history, when present (it lives outside the repository).
func TestRoutecheckKursk(t *testing.T) {
	const history = "../../../shared/data/kursk/train.jsonl"
	if _, err := os.Stat(history); err != nil {
		t.Skipf("no Kursk history at %s: %v", history, err)
	}
	var out bytes.Buffer
	if err := run([]string{"-rules", "../rules/region.yaml", "-history", history}, &out); err != nil {
		t.Fatal(err)
	}
	m := lastLine.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("bad last line:\n%s", out.String())
	}
	agree, _ := strconv.ParseFloat(m[1], 64)
	// Healthcare alone (about 5% of the history) goes to the regional
	// committee in both; the rules must do at least that well.
	if m[2] != "2000" || agree < 0.05 {
		t.Errorf("agree=%s n=%s", m[1], m[2])
	}
}
