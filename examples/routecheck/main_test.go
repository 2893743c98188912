package main

import (
	"bytes"
	"fmt"
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

// Train on one history, save the model, load it back: the same figures,
// and the last line is the combined router's.
func TestRoutecheckTrainSaveLoad(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "router.bin")
	args := []string{"-rules", "testdata/rules.yaml", "-map", "testdata/map.yaml", "-train", "testdata/history.jsonl", "-history", "testdata/history.jsonl"}
	var trained bytes.Buffer
	require.NoError(t, run(append(args, "-save", model), &trained))
	s := trained.String()
	for _, want := range []string{"rules only", "model only", "combined", "at 95% precision the model routes"} {
		assert.Contains(t, s, want)
	}
	m := lastLine.FindStringSubmatch(s)
	require.NotNil(t, m, s)
	var loaded bytes.Buffer
	require.NoError(t, run([]string{"-rules", "testdata/rules.yaml", "-map", "testdata/map.yaml", "-model", model, "-threshold", "0.5", "-history", "testdata/history.jsonl"}, &loaded))
	assert.Contains(t, loaded.String(), "loaded "+model)
	assert.NotNil(t, lastLine.FindStringSubmatch(loaded.String()))
	// A floor above what was measured fails.
	err := run(append(args, "-min-agree", "1.01"), &bytes.Buffer{})
	assert.ErrorIs(t, err, ErrBelowFloor)
	// A file that is not a model is refused by name.
	err = run([]string{"-rules", "testdata/rules.yaml", "-model", "testdata/rules.yaml", "-history", "testdata/history.jsonl"}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-model testdata/rules.yaml")
}

// -split writes the split it measures on: Kursk-shaped history (no
// "created") in file order, St Petersburg-shaped by date.
func TestRoutecheckSplit(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := range 10 {
		lines = append(lines, fmt.Sprintf(`{"id": %d, "text": "яма на дороге %d", "label": "roads", "created": "2024-01-%02d", "executor": "Дорожный комитет"}`, i, i, 20-i))
	}
	hist := filepath.Join(dir, "h.jsonl")
	require.NoError(t, os.WriteFile(hist, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	var out bytes.Buffer
	require.NoError(t, run([]string{"-rules", "testdata/rules.yaml", "-split", filepath.Join(dir, "s"), "-data", hist}, &out))
	assert.Contains(t, out.String(), `by "created": older 80% for training`)
	test, err := os.ReadFile(filepath.Join(dir, "s", "test.jsonl"))
	require.NoError(t, err)
	// The two newest (created 2024-01-19 and -20) are ids 1 and 0.
	assert.Contains(t, string(test), `"id": 0,`)
	assert.Contains(t, string(test), `"id": 1,`)
	assert.Equal(t, 2, strings.Count(string(test), "\n"))
}

// -folds measures each consecutive part against a model trained on the
// others and prints the mean last; the parts stay on disk for a peer.
func TestRoutecheckFolds(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := range 30 {
		l := fmt.Sprintf(`{"id": %d, "text": "яма на дороге у дома %d", "label": "roads", "executor": "Дорожный комитет"}`, i, i)
		if i%3 == 0 {
			l = fmt.Sprintf(`{"id": %d, "text": "врач не принимает в поликлинике %d", "executor": "Комитет здравоохранения"}`, i, i)
		}
		lines = append(lines, l)
	}
	hist := filepath.Join(dir, "h.jsonl")
	require.NoError(t, os.WriteFile(hist, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	var out bytes.Buffer
	require.NoError(t, run([]string{"-rules", "testdata/rules.yaml", "-split", filepath.Join(dir, "cv"), "-data", hist, "-folds", "3", "-min-count", "1"}, &out))
	got := out.String()
	assert.Contains(t, got, "3-fold cross-validation")
	assert.Regexp(t, `(?m)^  mean\s+30\s`, got)
	assert.True(t, strings.HasSuffix(got, "\nagree=1.0000 n=30\n"), "the rules send roads right and the model learns the clinics:\n%s", got)
	for f := 1; f <= 3; f++ {
		test, err := os.ReadFile(filepath.Join(dir, "cv", fmt.Sprintf("fold%d", f), "test.jsonl"))
		require.NoError(t, err)
		assert.Equal(t, 10, strings.Count(string(test), "\n"))
		assert.Contains(t, string(test), fmt.Sprintf(`"id": %d,`, (f-1)*10), "fold %d holds the %d-th part", f, f)
	}

	err := run([]string{"-rules", "testdata/rules.yaml", "-data", hist, "-folds", "3"}, &out)
	assert.ErrorContains(t, err, "-folds needs -split DIR and -data")
	err = run([]string{"-rules", "testdata/rules.yaml", "-split", filepath.Join(dir, "cv"), "-data", hist, "-folds", "31"}, &out)
	assert.ErrorContains(t, err, "-folds 31: want 2 to 30")
}
