package route

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// foldAll folds a whole text chunk by chunk, as scan does.
func foldAll(text string) string {
	var b strings.Builder
	var fb foldBuf
	st := foldState{space: true}
	for {
		var n int
		n, _, st = fb.fold(0, 0, text, st)
		b.Write(fb.text[:n])
		if st.in >= len(text) {
			return b.String()
		}
	}
}

// The fast folding paths must agree with foldRune on every character.
func TestFoldFastPathsAgree(t *testing.T) {
	var all strings.Builder
	for r := rune(0); r < 0x800; r++ {
		if utf8.ValidRune(r) {
			all.WriteRune(r)
		}
	}
	texts := []string{all.String(), "Прорыв ТРУБЫ, ЁЛКА ёлка!  Ѐ Ѡѡ Ӂ", "  ...  ", "", "日本語 テスト Straße", "\xd0\xd1 \xd0", "a\xff\xfeb"}
	for _, text := range texts {
		got := strings.TrimRight(foldAll(text), " ")
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

// indexOf builds the keyword index of one rule whose keywords are kws
// (folded), as the engine does, and returns it with their ids.
func indexOf(kws []string) (*keywordIndex, []int32) {
	r := &rule{cond: cond{keywordGroups: [][]string{kws}}}
	kx := buildKeywords([]*rule{r})
	return kx, r.cond.keywordIDs[0]
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
		{"ab", "abc", false},
		{"…ж!", "ж", true},
		{"уж", "ж", false},
	} {
		kws := []string{foldString(c.kw)}
		_, slow := findKeyword(c.text, kws)
		kx, ids := indexOf(kws)
		f := foldedText{kx: kx}
		_, fast := f.find(c.text, kws, ids)
		if slow != c.want || fast != c.want {
			t.Errorf("%q in %q: slow=%v fast=%v, want %v", c.kw, c.text, slow, fast, c.want)
		}
	}
	// A text longer than a chunk is searched to its end.
	long := strings.Repeat("слово ", 1000) + "Подтопило"
	kx, ids := indexOf([]string{"подтоп"})
	f := foldedText{kx: kx}
	_, ok := f.find(long, []string{"подтоп"}, ids)
	assert.True(t, ok, "keyword at the end of a %d-byte text", len(long))
}

// testKeywords covers what the index treats apart: keywords under four
// bytes, exactly four, up to and over eight, phrases, keywords sharing
// their first letters (one bucket), and one longer than a chunk carries.
var testKeywords = []string{
	"ж", "а", "x", "ab", "a b", "1", "12", "жк", "жкх", "ул", "ул д", "дом", "дома", "домофон",
	"подтоп", "подъезд", "подвал", "под", "по", "по улиц", "протечк", "прорыв труб", "прорыв",
	"затоп", "елк", "ель", "ел", "свет", "светофор", "не горит свет на улице", "уличное освещение",
	"яма", "ям", "snow", "snowfall", "street light", "wifi", "covid 19", "19",
	"дорожный знак", "дорожного знака", "дорожные знаки", "дорожн", "дорог", "до", "д",
	strings.Repeat("очень длинная фраза ", 20) + "конец",
}

// perturb writes one word of the vocabulary the way citizens type it.
func perturb(rng *rand.Rand, b *strings.Builder, w string) {
	seps := []string{" ", "  ", ", ", "!!! ", " — ", "\n", "...", "«", "» ", "(", ") ", "-", "/", "\t", "😀", " № ", "\xff", "_", "'"}
	switch rng.IntN(8) {
	case 0:
		w = strings.ToUpper(w)
	case 1:
		w = strings.ReplaceAll(w, "е", "ё")
	case 2:
		r, size := utf8.DecodeRuneInString(w)
		w = strings.ToUpper(string(r)) + w[size:]
	case 3:
		w = strings.ReplaceAll(w, " ", seps[rng.IntN(len(seps))])
	}
	b.WriteString(w)
}

// randomText strings words (keywords, their prefixes, words that hold
// them inside, others) with separators; some texts run past several
// chunks.
func randomText(rng *rand.Rand) string {
	other := []string{"здравствуйте", "в", "нашем", "дворе", "уже", "неделю", "незатопленный", "переподъезд", "Ёлочка",
		"ЁЖ", "Ель", "улица", "ул.", "д.", "5", "2024", "COVID-19", "Wi-Fi", "αβγ", "日本", "Straße", "ﬁ", "İ", "ǅ", "Ѐлка",
		"недорог", "пододеяльник", "поулице", "жжж", "xx", "a", "b", "ab", "abc"}
	seps := []string{" ", "  ", ", ", "!!! ", " — ", "\n", "...", "«", "» ", "(", ") ", "-", "/", "\t", "😀", " № ", "\xff", "\xd0", "_"}
	words := 1 + rng.IntN(40)
	if rng.IntN(6) == 0 {
		words = 300 + rng.IntN(900) // 2 to 10 KB
	}
	var b strings.Builder
	if rng.IntN(3) == 0 {
		b.WriteString(seps[rng.IntN(len(seps))])
	}
	for i := range words {
		if i > 0 {
			b.WriteString(seps[rng.IntN(len(seps))])
		}
		switch k := rng.IntN(10); {
		case k < 3:
			kw := testKeywords[rng.IntN(len(testKeywords))]
			if rng.IntN(3) == 0 { // a prefix of it, or it inside a word
				if rng.IntN(2) == 0 {
					kw = kw[:len(kw)/2]
				} else {
					kw = "пере" + kw
				}
			}
			perturb(rng, &b, kw)
		default:
			perturb(rng, &b, other[rng.IntN(len(other))])
		}
	}
	if rng.IntN(3) == 0 {
		b.WriteString(seps[rng.IntN(len(seps))])
	}
	return b.String()
}

// The one pass over the folded text finds exactly the keywords that the
// rune-by-rune search over the raw text finds, and find answers with the
// first of a list in the list's order, as before.
func TestScanMatchesReference(t *testing.T) {
	kws := make([]string, 0, len(testKeywords))
	for _, k := range testKeywords {
		kws = append(kws, foldString(k))
	}
	kx, ids := indexOf(kws)
	require.NotEmpty(t, kx.long, "the test must cover a keyword longer than a chunk carries")
	require.NotEmpty(t, kx.short, "the test must cover keywords under four bytes")
	rng := rand.New(rand.NewPCG(12, 1))
	texts := make([]string, 0, 3000)
	for range 3000 {
		texts = append(texts, randomText(rng))
	}
	// A keyword on each side of every chunk boundary a long text has.
	for off := foldChunk - kx.maxLen - 8; off < foldChunk+8; off++ {
		for _, kw := range []string{"прорыв трубы", "не горит свет на улице", "ж", "яма"} {
			texts = append(texts, strings.Repeat("x", off)+" "+kw+" "+strings.Repeat("ы ", 400)+kw)
		}
	}
	found, long := 0, 0
	for ti, text := range texts {
		if len(text) > 2*foldChunk {
			long++
		}
		f := foldedText{kx: kx}
		f.scan(text)
		for i, kw := range kws {
			_, want := findKeyword(text, kws[i:i+1])
			got := f.small[ids[i]>>6]&(1<<(ids[i]&63)) != 0
			if got != want {
				t.Fatalf("text %d (%d bytes, %q…): keyword %q found=%v, the rune-by-rune search says %v", ti, len(text), text[:min(len(text), 80)], kw, got, want)
			}
			if got {
				found++
			}
		}
		// The first of a list in the list's order is named, whatever the
		// text's order (as the search of short texts always did; texts
		// over 2 KB used to name the first in the text).
		for _, list := range [][]int{{0, 1, 2}, {22, 21, 14}, {40, 41, 42, 43}, {len(kws) - 1, 29, 30}} {
			words, wids := make([]string, len(list)), make([]int32, len(list))
			for j, k := range list {
				words[j], wids[j] = kws[k], ids[k]
			}
			wantKw, wantOK := "", false
			for _, w := range words {
				if _, ok := findKeyword(text, []string{w}); ok {
					wantKw, wantOK = w, true
					break
				}
			}
			gotKw, gotOK := f.find(text, words, wids)
			if gotKw != wantKw || gotOK != wantOK {
				t.Fatalf("text %d: find %v gives %q %v, want %q %v", ti, words, gotKw, gotOK, wantKw, wantOK)
			}
		}
	}
	t.Logf("%d texts (%d over two chunks), %d keyword hits", len(texts), long, found)
	assert.Greater(t, found, 10000, "the generated texts must hold keywords")
}

// With more keywords than the bitset on the stack holds, a decision
// borrows a bitset, clears it, and gives it back.
func TestScanManyKeywords(t *testing.T) {
	kws := make([]string, 0, 2*stackKeywords)
	for i := range 2 * stackKeywords {
		kws = append(kws, fmt.Sprintf("слово%d", i))
	}
	kx, ids := indexOf(kws)
	require.NotNil(t, kx.bitsets)
	for round := range 3 {
		text := fmt.Sprintf("Текст: СЛОВО%d и слово%dх, но не подслово%d", 700+round, 3+round, 5)
		f := foldedText{kx: kx}
		f.scan(text)
		for i, kw := range kws {
			_, want := findKeyword(text, kws[i:i+1])
			got := (*f.big)[ids[i]>>6]&(1<<(ids[i]&63)) != 0
			require.Equal(t, want, got, "round %d, keyword %q", round, kw)
		}
		f.release()
		assert.Nil(t, f.big)
	}
}

// BenchmarkScan is the pass alone with the St Petersburg rules'
// keywords, over a short appeal and a long one.
func BenchmarkScan(b *testing.B) {
	e, err := ParseFile("../examples/rules/spb.yaml")
	require.NoError(b, err)
	for _, c := range []struct{ name, text string }{
		{"short", "Здравствуйте! Во дворе дома 5 по улице Ленина вторую неделю не убирают мусор, контейнеры переполнены. Просим принять меры."},
		{"long", strings.Repeat("Во дворе дома по улице Ленина вторую неделю не горит свет, ", 60)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			b.ReportAllocs()
			for b.Loop() {
				f := foldedText{kx: e.keywords}
				f.scan(c.text)
			}
		})
	}
}

// lowerCyrillic4 accepts exactly four letters а..я, in every mix of the
// letters around that range's edges.
func TestLowerCyrillic4(t *testing.T) {
	edges := []rune{'а', 'б', 'п', 'р', 'с', 'я', 'А', 'П', 'Р', 'Я', 'ё', 'Ё', 'ѐ', 'џ', 'Ѐ', 'Џ', 'ѡ', 'Ѡ', 'ґ', 'ä', 'ɐ'}
	for _, r0 := range edges {
		for _, r1 := range edges {
			for _, r2 := range edges {
				for _, r3 := range edges {
					s := string([]rune{r0, r1, r2, r3})
					if len(s) != 8 {
						continue
					}
					var x uint64
					for i := 7; i >= 0; i-- {
						x = x<<8 | uint64(s[i])
					}
					want := true
					for _, r := range s {
						want = want && 'а' <= r && r <= 'я'
					}
					if got := lowerCyrillic4(x); got != want {
						t.Fatalf("%q: %v, want %v", s, got, want)
					}
				}
			}
		}
	}
}
