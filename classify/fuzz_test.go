package classify

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzEngineClassify: any text through the full engine (rubricator, model,
// gazetteer) gives a well-formed result and never panics.
func FuzzEngineClassify(f *testing.F) {
	for _, s := range []string{"В Захарове нет воды!", "<p>ул. Ленина&nbsp;яма</p>", "😡\xff\xfe", "р-н р-не", "", "?"} {
		f.Add(s)
	}
	m, err := Train(synthExamples(300, 10, 1), TrainConfig{})
	if err != nil {
		f.Fatal(err)
	}
	g, err := NewGazetteer([]Municipality{{Name: "Скопинский район", Settlements: []string{"Захарово"}, Streets: []string{"улица Ленина"}}})
	if err != nil {
		f.Fatal(err)
	}
	rub, _ := New(WithGazetteer(g))
	mod, _ := New(WithModel(m), WithGazetteer(g))
	f.Fuzz(func(t *testing.T, text string) {
		for _, e := range []*Engine{rub, mod} {
			r := e.Classify(text)
			sum := 0.0
			for _, tp := range r.Topics {
				if tp.Score < 0 || tp.Score > 1 || tp.Score != tp.Score {
					t.Fatalf("bad score %v", r.Topics)
				}
				sum += tp.Score
			}
			if sum > 1+1e-6 || r.AppealScore < 0 || r.AppealScore > 1 {
				t.Fatalf("scores out of range: %+v", r)
			}
			for _, p := range r.Places {
				if !utf8.ValidString(p.Name) {
					t.Fatalf("place %q", p.Name)
				}
			}
			e.Explain(text)
		}
	})
}

// FuzzLoad: any bytes given to Load give a model or one of the three
// documented errors, never a panic.
func FuzzLoad(f *testing.F) {
	m, _ := Train(synthExamples(100, 8, 2), TrainConfig{})
	var buf bytes.Buffer
	m.Save(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(modelMagic))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Load(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrNotModel) && !errors.Is(err, ErrModelVersion) && !errors.Is(err, ErrCorruptModel) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		got.Classify("яма на дороге")
	})
}

// FuzzDecodeModel goes past the checksum: a payload with a valid checksum
// but nonsense inside is refused with ErrCorruptModel, never a panic.
func FuzzDecodeModel(f *testing.F) {
	m, _ := Train(synthExamples(100, 8, 2), TrainConfig{})
	var buf bytes.Buffer
	m.Save(&buf)
	f.Add(buf.Bytes()[28 : buf.Len()-4])
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := decodeModel(payload)
		if err != nil {
			if !errors.Is(err, ErrCorruptModel) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		got.cache = NewStemCache(16)
		got.Classify("яма на дороге")
	})
}
