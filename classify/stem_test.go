package classify

import (
	"fmt"
	"sync"
	"testing"
)

func TestStemCacheMatchesStemmer(t *testing.T) {
	c := NewStemCache(0)
	for _, w := range []string{"дороги", "дорогами", "отопления", "собаки", "ямы", "не", "нет", "5", "12а", "ул", "ёлка"} {
		want := StemWord(w)
		for range 2 { // miss, then hit
			if got := c.Stem(w); got != want {
				t.Errorf("Stem(%q) = %q, want %q", w, got, want)
			}
			if got := c.stemBytes([]byte(w)).stem; got != want {
				t.Errorf("stemBytes(%q) = %q, want %q", w, got, want)
			}
		}
	}
	if got := c.Stem("дорогами"); got != "дорог" {
		t.Errorf("Stem(дорогами) = %q, want дорог", got)
	}
	if got := c.Stem("нет"); got != "нет" { // a stop word keeps negation intact
		t.Errorf("Stem(нет) = %q", got)
	}
}

func TestStemCacheBounded(t *testing.T) {
	for _, size := range []int{64, 256, 6400} {
		c := NewStemCache(size)
		for i := range 20000 {
			w := fmt.Sprintf("слово%dтест", i)
			if i%2 == 0 {
				c.stemBytes([]byte(w))
			} else {
				c.Stem(w)
			}
			if i%997 == 0 && c.Len() > size {
				t.Fatalf("size %d: cache holds %d words", size, c.Len())
			}
		}
		if n := c.Len(); n > size || n < size/4 {
			t.Fatalf("size %d: cache holds %d words, want between a quarter and all of it", size, n)
		}
		// Words just stemmed are found again.
		if got := c.Stem("слово19999тест"); got != StemWord("слово19999тест") {
			t.Fatalf("recent word: %q", got)
		}
	}
	// Long junk tokens are never stored.
	long := string(make([]rune, 100))
	c2 := NewStemCache(100)
	c2.Stem(long)
	if c2.Len() != 0 {
		t.Fatal("a 100-rune token was cached")
	}
	// A disabled cache still stems.
	if got := NewStemCache(-1).Stem("дорогами"); got != "дорог" {
		t.Fatalf("disabled cache: Stem = %q", got)
	}
	var nilCache *StemCache
	if got := nilCache.Stem("дорогами"); got != "дорог" {
		t.Fatalf("nil cache: Stem = %q", got)
	}
}

func TestStemCacheConcurrent(t *testing.T) {
	c := NewStemCache(512)
	words := []string{"дороги", "отопление", "мусора", "собаками", "автобусы", "поликлиники", "остановка", "батареи"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				w := words[(i+g)%len(words)]
				if got, want := c.Stem(w), StemWord(w); got != want {
					t.Errorf("Stem(%q) = %q, want %q", w, got, want)
					return
				}
				c.Stem(fmt.Sprintf("слово%d", i)) // force evictions
			}
		}()
	}
	wg.Wait()
}

// TestStemTokensConcurrent stems whole texts (stemTokens reads table slots
// ahead of its lookups) while other goroutines fill a small cache, so that
// tables are replaced and old generations dropped under the readers.
func TestStemTokensConcurrent(t *testing.T) {
	c := NewStemCache(256)
	texts := []string{"Во дворе дома не вывозят мусор", "Дорогами пользоваться невозможно, ямы", "Собаками покусан ребенок у поликлиники"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := &analysis{}
			for i := range 1500 {
				text := texts[(i+g)%len(texts)]
				a.run(text, c)
				for j, tok := range Tokenize(text) {
					if want := StemWord(tok); a.stems[j] != want || a.ents[j] != newStemEntry(want) {
						t.Errorf("%q: token %d stem %q, want %q", text, j, a.stems[j], want)
						return
					}
				}
				c.stemBytes(fmt.Appendf(nil, "слово%dг%d", i, g)) // force publications and evictions
			}
		}()
	}
	wg.Wait()
}
