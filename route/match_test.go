package route

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The fast folding paths must agree with foldRune on every character.
func TestFoldFastPathsAgree(t *testing.T) {
	var all strings.Builder
	for r := rune(0); r < 0x800; r++ {
		if utf8.ValidRune(r) {
			all.WriteRune(r)
		}
	}
	texts := []string{all.String(), "Прорыв ТРУБЫ, ЁЛКА ёлка!  Ѐ Ѡѡ Ӂ", "  ...  ", "", "日本語 テスト Straße"}
	for _, text := range texts {
		var f foldedText
		f.fold(text)
		got := strings.TrimRight(string(f.buf[:f.n]), " ")
		if !f.fits {
			continue
		}
		if want := foldString(text); got != want {
			for i := 0; i < len(got) && i < len(want); i++ {
				if got[i] != want[i] {
					t.Fatalf("fold differs at byte %d: %q vs %q", i, got[max(0, i-8):min(len(got), i+8)], want[max(0, i-8):min(len(want), i+8)])
				}
			}
			t.Fatalf("fold differs in length: %d vs %d", len(got), len(want))
		}
	}
}

func TestFindKeyword(t *testing.T) {
	for _, c := range []struct {
		text, kw string
		want     bool
	}{
		{"Прорыв трубы", "прорыв труб", true},
		{"прорыв, трубы", "прорыв труб", true},
		{"ЗАТОПИЛО", "затоп", true},
		{"незатопленный", "затоп", false},
		{"Ёлка", "елк", true},
		{"a-b", "a b", true},
		{"", "a", false},
	} {
		kws := []string{foldString(c.kw)}
		_, slow := findKeyword(c.text, kws)
		var f foldedText
		_, fast := f.find(c.text, kws, toBytes(kws))
		if slow != c.want || fast != c.want {
			t.Errorf("%q in %q: slow=%v fast=%v, want %v", c.kw, c.text, slow, fast, c.want)
		}
	}
	// A text longer than the buffer takes the slow path and still matches.
	long := strings.Repeat("слово ", 1000) + "Подтопило"
	var f foldedText
	if _, ok := f.find(long, []string{"подтоп"}, toBytes([]string{"подтоп"})); !ok || f.fits {
		t.Errorf("long text: ok=%v fits=%v", ok, f.fits)
	}
}
