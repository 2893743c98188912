package classify

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func trainSynth(t testing.TB, n int) (*Model, []Example) {
	t.Helper()
	data := synthExamples(n, 20, 1)
	train, test := SplitExamples(data, 0.8, 1)
	m, err := Train(train, TrainConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return m, test
}

func TestTrainLearnsSynthetic(t *testing.T) {
	m, test := trainSynth(t, 1500)
	r := Evaluate(m, test)
	if r.Accuracy < 0.9 || r.MacroF1 < 0.85 {
		t.Fatalf("synthetic data: accuracy %.3f, macro-F1 %.3f; want ≥0.9/0.85\n%s", r.Accuracy, r.MacroF1, r)
	}
	// The rare class must not vanish into the big one.
	for _, c := range r.Classes {
		if c.Label == "animals" && c.Recall < 0.8 {
			t.Fatalf("animals recall %.2f", c.Recall)
		}
	}
}

func TestModelScoresCalibrated(t *testing.T) {
	m, _ := trainSynth(t, 600)
	res := m.Classify("на дороге огромная яма и разбитый асфальт, ремонт обочины не делали")
	if len(res.Topics) != 3 {
		t.Fatalf("want top-3, got %v", res.Topics)
	}
	if res.Top() != "roads" {
		t.Fatalf("top = %q, want roads (%v)", res.Top(), res.Topics)
	}
	sum := 0.0
	for i, tp := range res.Topics {
		if tp.Score < 0 || tp.Score > 1 || math.IsNaN(tp.Score) {
			t.Fatalf("score out of range: %v", res.Topics)
		}
		if i > 0 && tp.Score > res.Topics[i-1].Score {
			t.Fatalf("topics not sorted: %v", res.Topics)
		}
		sum += tp.Score
	}
	if sum > 1+1e-9 {
		t.Fatalf("scores sum to %v > 1", sum)
	}
	if res.Topics[0].Score < 0.5 {
		t.Fatalf("clear case scored only %v", res.Topics[0].Score)
	}
	if m.temp <= 0 || m.temp == 1 {
		t.Fatalf("temperature %v: calibration did not run", m.temp)
	}
	// Nothing known: still a valid distribution.
	if r := m.Classify("😡"); len(r.Topics) == 0 {
		t.Fatal("empty text gave no topics")
	}
}

func TestModelExplain(t *testing.T) {
	m, _ := trainSynth(t, 600)
	x := m.Explain("бездомные собаки нападают на детей, нужен отлов")
	if x.Result.Top() != "animals" {
		t.Fatalf("top = %q", x.Result.Top())
	}
	var names []string
	for _, c := range x.Topics[0].Features {
		names = append(names, c.Feature)
	}
	if !slices.Contains(names, "собак") || !slices.Contains(names, "напада") {
		t.Fatalf("explanation of animals lacks собак/напада: %v", x.Topics[0].Features)
	}
	if x.Topics[0].Features[0].Weight <= 0 {
		t.Fatalf("strongest feature pushes against the topic: %v", x.Topics[0].Features)
	}
}

func TestTrainErrors(t *testing.T) {
	if _, err := Train(nil, TrainConfig{}); !errors.Is(err, ErrNoExamples) {
		t.Fatalf("no examples: %v", err)
	}
	_, err := Train([]Example{{"яма", "roads"}, {"мусор", ""}}, TrainConfig{})
	if !errors.Is(err, ErrBadExample) || !strings.Contains(err.Error(), "example 1") {
		t.Fatalf("empty label: %v", err)
	}
	if _, err := Train([]Example{{"яма", "roads"}, {"дорога", "roads"}}, TrainConfig{}); !errors.Is(err, ErrNoExamples) {
		t.Fatalf("one label: %v", err)
	}
}

func TestTrainDeterministic(t *testing.T) {
	data := synthExamples(300, 15, 3)
	a, _ := Train(data, TrainConfig{})
	b, _ := Train(data, TrainConfig{Workers: 4})
	var ba, bb bytes.Buffer
	if err := a.Save(&ba); err != nil {
		t.Fatal(err)
	}
	b.Save(&bb)
	if !bytes.Equal(ba.Bytes(), bb.Bytes()) {
		t.Fatal("the same data gave different models (with 1 and 4 workers)")
	}
}

func TestModelSaveLoad(t *testing.T) {
	m, test := trainSynth(t, 600)
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()
	l, err := Load(bytes.NewReader(file), WithModelCache(NewStemCache(100)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Labels(), m.Labels()) || l.Features() != m.Features() {
		t.Fatalf("loaded model differs: %v/%d vs %v/%d", l.Labels(), l.Features(), m.Labels(), m.Features())
	}
	for _, ex := range test[:50] {
		a, b := m.Classify(ex.Text), l.Classify(ex.Text)
		if !slices.Equal(a.Topics, b.Topics) {
			t.Fatalf("loaded model classifies differently: %v vs %v", a.Topics, b.Topics)
		}
	}

	corrupt := func(f func([]byte) []byte) error {
		_, err := Load(bytes.NewReader(f(bytes.Clone(file))))
		return err
	}
	cases := []struct {
		name string
		edit func([]byte) []byte
		want error
		msg  string
	}{
		{"foreign", func([]byte) []byte { return []byte(`{"text":"not a model"}` + strings.Repeat(" ", 40)) }, ErrNotModel, "bad magic"},
		{"empty", func([]byte) []byte { return nil }, ErrNotModel, "0 bytes"},
		{"version", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[16:], 9); return b }, ErrModelVersion, "version 9"},
		{"flipped byte", func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b }, ErrCorruptModel, "checksum"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-100] }, ErrCorruptModel, "truncated"},
		{"huge length", func(b []byte) []byte { binary.LittleEndian.PutUint64(b[20:], 1<<40); return b }, ErrCorruptModel, "implausible"},
	}
	for _, c := range cases {
		err := corrupt(c.edit)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got %v, want %v mentioning %q", c.name, err, c.want, c.msg)
		}
	}
}

// TestDecodeModelBounds feeds payloads with a valid checksum but bad
// contents: the decoder must refuse them, never panic.
func TestDecodeModelBounds(t *testing.T) {
	m, _ := trainSynth(t, 200)
	var buf bytes.Buffer
	m.Save(&buf)
	payload := buf.Bytes()[28 : buf.Len()-4]
	for cut := 0; cut < len(payload); cut += 1 + cut/3 {
		if _, err := decodeModel(payload[:cut]); !errors.Is(err, ErrCorruptModel) {
			t.Fatalf("payload cut at %d: %v", cut, err)
		}
	}
	// Two features with the same hash.
	k := len(m.labels)
	off := 4 + 4 + 8 + 4
	for _, l := range m.labels {
		off += 4 + len(l)
	}
	off += 4 // feature count
	dup := bytes.Clone(payload)
	copy(dup[off+8:off+16], dup[off:off+8])
	if _, err := decodeModel(dup); !errors.Is(err, ErrCorruptModel) || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("duplicate hashes (k=%d): %v", k, err)
	}
	bad := bytes.Clone(payload)
	binary.LittleEndian.PutUint32(bad[16:], 0xffffffff) // label count
	if _, err := decodeModel(bad); !errors.Is(err, ErrCorruptModel) {
		t.Fatalf("huge label count: %v", err)
	}
}

// TestCountKnownPaths checks that both ways of counting a message's
// features (a bit set and scan for short messages, a hash table for long
// ones) give the known features once each, in order of first occurrence,
// with their counts.
func TestCountKnownPaths(t *testing.T) {
	m, err := Train(synthExamples(300, 20, 3), TrainConfig{})
	if err != nil {
		t.Fatal(err)
	}
	want := func(feats []uint64) (nums, counts []int32) {
		at := map[int32]int{}
		for _, h := range feats {
			f, ok := m.index.get(h)
			if !ok {
				continue
			}
			if i, seen := at[f]; seen {
				counts[i]++
				continue
			}
			at[f] = len(nums)
			nums = append(nums, f)
			counts = append(counts, 1)
		}
		return nums, counts
	}
	var fc featCounter
	for _, n := range []int{0, 1, 40, fewFeatures, fewFeatures + 1, 3 * fewFeatures} {
		var feats []uint64
		for i := range n {
			// Known features, repeated ones and unknown hashes.
			switch i % 3 {
			case 0:
				feats = append(feats, m.hashes[(i*7)%len(m.hashes)])
			case 1:
				feats = append(feats, m.hashes[(i*i)%31])
			default:
				feats = append(feats, uint64(i)*0x9e3779b97f4a7c15)
			}
		}
		nums, counts := fc.countKnown(feats, m.index)
		wn, wc := want(feats)
		if !slices.Equal(nums, wn) || !slices.Equal(counts, wc) {
			t.Errorf("%d features: got %v %v, want %v %v", n, nums, counts, wn, wc)
		}
	}
}
