package classify

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	cases := []struct{ in, want string }{
		{"<p>Нет&nbsp;воды</p><p>третий день</p>", "нет воды третий день"},
		{"Всё ещё ЁЛКА", "все еще елка"},
		{"Дорoга (Latin o) в ужасном состоянии", "дорога (latin o) в ужасном состоянии"},
		{"ЖKХ не работает", "жкх не работает"},               // Latin K in a Cyrillic word
		{"Wi-Fi нет, iPhone тоже", "wi-fi нет, iphone тоже"}, // real Latin words stay Latin
		{"смотрите https://vk.com/wall-1_2 и www.example.ru тут", "смотрите и тут"},
		{"@ivan_petrov когда уберут мусор?", "когда уберут мусор?"},
		{"[id12345|Иван Петров], ответьте", ", ответьте"},
		{"[club77|Администрация] спасибо", "спасибо"},
		{"Ямы 😡😡 везде 🚗", "ямы везде"},
		{"  много \n\t пробелов  ", "много пробелов"},
		{"дом №5, 100%", "дом №5, 100%"},
		{"и\u0306од", "йод"},                   // decomposed й
		{"\xff\xfeбитые байты", "битые байты"}, // invalid UTF-8 dropped
		{"a < b и c > d", "a < b и c > d"},     // not a tag
		{"&lt;b&gt;жирный&lt;/b&gt;", "<b>жирный</b>"},
		{"", ""},
	}
	for _, c := range cases {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTokenize(t *testing.T) {
	got := Tokenize("<b>Ул.Ленина, д.5</b> — нет воды!!! Из-за аварии 😡")
	want := []string{"ул", "ленина", "д", "5", "нет", "воды", "из", "за", "аварии"}
	if !slices.Equal(got, want) {
		t.Fatalf("Tokenize = %q, want %q", got, want)
	}
	if got := Tokenize("!!! ... 😡"); len(got) != 0 {
		t.Fatalf("Tokenize of punctuation = %q, want none", got)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"<p>Нет&nbsp;воды</p>", "Дорoга", "[id1|x] @a http://x", "😡\xff", "&#x41;&#1040;", "и\u0306", "<", "[id1|"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Normalize(in)
		if !utf8.ValidString(out) {
			t.Fatalf("Normalize(%q) = %q: invalid UTF-8", in, out)
		}
		if strings.HasPrefix(out, " ") || strings.HasSuffix(out, " ") || strings.Contains(out, "  ") {
			t.Fatalf("Normalize(%q) = %q: white space not collapsed", in, out)
		}
		for _, r := range out {
			if unicode.ToLower(r) != r || r == 'ё' {
				t.Fatalf("Normalize(%q) = %q: %q left", in, out, r)
			}
		}
		// Tokens tracked while normalising equal a split of the output.
		want := strings.FieldsFunc(out, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if got := Tokenize(in); !slices.Equal(got, want) {
			t.Fatalf("Tokenize(%q) = %q, but the normalized text splits into %q", in, got, want)
		}
		for _, tok := range Tokenize(in) {
			if tok == "" || !utf8.ValidString(tok) {
				t.Fatalf("Tokenize(%q): bad token %q", in, tok)
			}
			for _, r := range tok {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					t.Fatalf("Tokenize(%q): token %q holds %q", in, tok, r)
				}
			}
		}
		// Stemming any token must not panic either.
		Stems(in, nil)
	})
}

// TestNormalizeFastPaths pins what the Russian-letter and ASCII fast paths
// and the chunk ends found while writing produce, including invalid UTF-8
// where a stray Cyrillic lead byte swallows the next byte. The expected values are what the normaliser gave before it
// had fast paths.
func TestNormalizeFastPaths(t *testing.T) {
	cases := []struct {
		in, want string
		tokens   []string
	}{
		{"ПРИВЕТ, Мир! Ёлка ЁЖ", "привет, мир! елка еж", []string{"привет", "мир", "елка", "еж"}},
		{"а\xd0 б", "аб", []string{"аб"}},
		{"а\xd0\u2028б в", "аб в", []string{"аб", "в"}},
		{"\xd1\xd0 x", "x", []string{"x"}},
		{"Дорoга 12а, ул.Ленина", "дорога 12а, ул.ленина", []string{"дорога", "12а", "ул", "ленина"}},
		{"Ω ǅ İ", "ω ǆ i", []string{"ω", "ǆ", "i"}},
	}
	for _, c := range cases {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := Tokenize(c.in); !slices.Equal(got, c.tokens) {
			t.Errorf("Tokenize(%q) = %q, want %q", c.in, got, c.tokens)
		}
	}
}
