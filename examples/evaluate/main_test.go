package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// writeExamples writes JSON Lines of written-for-the-test appeals.
func writeExamples(t *testing.T, name string, n int) string {
	t.Helper()
	texts := map[string][]string{
		"roads":   {"яма на дороге", "разбитый асфальт", "ремонт дороги", "выбоины на трассе", "нет тротуара"},
		"garbage": {"не вывозят мусор", "переполнены контейнеры", "свалка во дворе", "мусорные баки", "вывоз отходов"},
		"animals": {"стая собак", "бездомные собаки", "отлов собак", "кошки в подвале", "укусила собака"},
	}
	var buf bytes.Buffer
	labels := []string{"roads", "garbage", "animals"}
	for i := range n {
		l := labels[i%3]
		line, _ := json.Marshal(map[string]string{"text": texts[l][i%5] + " просим помочь", "label": l, "id": "x"})
		buf.Write(line)
		buf.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var lastLine = regexp.MustCompile(`^accuracy=\d\.\d{4} macro_f1=\d\.\d{4} weighted_f1=\d\.\d{4} classify_per_s=\d+$`)

func checkLastLine(t *testing.T, out string) string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	last := lines[len(lines)-1]
	if !lastLine.MatchString(last) {
		t.Fatalf("last line %q does not match the contract\n%s", last, out)
	}
	return last
}

func TestTrainTest(t *testing.T) {
	train := writeExamples(t, "train.jsonl", 90)
	test := writeExamples(t, "test.jsonl", 30)
	model := filepath.Join(t.TempDir(), "model.bin")
	var out bytes.Buffer
	if err := run([]string{"-train", train, "-test", test, "-baseline", "-confusion", "-save", model}, &out); err != nil {
		t.Fatal(err)
	}
	if last := checkLastLine(t, out.String()); !strings.HasPrefix(last, "accuracy=1.0000") {
		t.Fatalf("separable data not learned: %s", last)
	}
	if st, err := os.Stat(model); err != nil || st.Size() == 0 {
		t.Fatalf("model not saved: %v", err)
	}
}

func TestSplitAndFloor(t *testing.T) {
	data := writeExamples(t, "all.jsonl", 120)
	var out bytes.Buffer
	if err := run([]string{"-data", data, "-split", "0.8", "-seed", "1", "-min-accuracy", "0.9"}, &out); err != nil {
		t.Fatal(err)
	}
	checkLastLine(t, out.String())
	out.Reset()
	// The rubricator path: the labels here are rubricator codes.
	if err := run([]string{"-test", data, "-min-accuracy", "0.99"}, &out); !errors.Is(err, errBelowFloor) {
		t.Fatalf("a floor of 0.99 on the keyword rubricator: %v\n%s", err, out.String())
	}
	checkLastLine(t, out.String())
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"text\":\"a\",\"label\":\"x\"}\n{oops\n"), 0o600)
	for _, args := range [][]string{
		{},
		{"-data", bad},
		{"-data", filepath.Join(dir, "missing.jsonl")},
		{"-data", bad, "-split", "1.5"},
		{"-data", bad, "-test", bad},
	} {
		var out bytes.Buffer
		err := run(args, &out)
		if err == nil || errors.Is(err, errBelowFloor) {
			t.Errorf("%v: got %v, want a usage or data error", args, err)
		}
	}
	var out bytes.Buffer
	if err := run([]string{"-data", bad}, &out); err == nil || !strings.Contains(err.Error(), "bad.jsonl:2") {
		t.Errorf("error must name file and line: %v", err)
	}
}

// The shipped rubricator on data labelled with other codes warns, naming
// the labels; on its own codes it does not.
func TestWarnsOnLabelsThatAreNotTopicCodes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "foreign.jsonl")
	if err := os.WriteFile(path, []byte(`{"text":"яма на дороге","label":"Дороги"}
{"text":"не вывозят мусор","label":"ЖКХ"}
{"text":"стая собак","label":"animals"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"-test", path}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "warning: 2 of 3 examples have labels that are not the rubricator's topic codes (2 labels: Дороги, ЖКХ)") {
		t.Fatalf("no warning naming the labels:\n%s", out.String())
	}
	checkLastLine(t, out.String())

	out.Reset()
	if err := run([]string{"-test", writeExamples(t, "own.jsonl", 9)}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "warning") {
		t.Fatalf("warned on the rubricator's own codes:\n%s", out.String())
	}
}
