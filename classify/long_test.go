package classify

import (
	"html"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Only the first MaxAnalysedBytes of a text are read, cut at a space; the
// rest changes nothing.
func TestLongTextIsAnalysedUpToTheCap(t *testing.T) {
	e, err := New()
	require.NoError(t, err)
	filler := strings.Repeat("слово ", MaxAnalysedBytes/len("слово ")+10)
	late := filler + "во дворе не вывозят мусор уже месяц, контейнеры переполнены"
	r := e.Classify(late)
	assert.NotEqual(t, "garbage", topOf(r), "a topic named only past the cap is not seen")
	early := "во дворе не вывозят мусор уже месяц, контейнеры переполнены " + filler
	assert.Equal(t, "garbage", topOf(e.Classify(early)))

	part := analysedPart(late)
	assert.LessOrEqual(t, len(part), MaxAnalysedBytes)
	assert.True(t, utf8.ValidString(part))
	assert.True(t, strings.HasSuffix(part, "слово"), "cut at a space, not inside a word")
	assert.Equal(t, e.Classify(part), r)

	noSpace := strings.Repeat("я", MaxAnalysedBytes) // 2 bytes a letter, no space anywhere
	p := analysedPart(noSpace)
	assert.True(t, utf8.ValidString(p), "cut at a rune boundary")
	assert.Equal(t, MaxAnalysedBytes, len(p))
}

func topOf(r Result) string {
	if len(r.Topics) == 0 {
		return ""
	}
	return r.Topics[0].Code
}

// What one classification allocates does not grow with the text: 1 MiB
// and 4 MiB texts are read up to the cap, with buffers reused from call to
// call (about 10 KB a call; the margin is for the race detector, whose
// sync.Pool drops some buffers on purpose).
func TestLongTextMemoryIsBounded(t *testing.T) {
	e, err := New()
	require.NoError(t, err)
	words := strings.Fields(strings.Repeat("Во дворе &quot;дома&quot; <b>не</b> вывозят мусор, яма на дороге, нет горячей воды. ", 20))
	text := func(size int) string {
		var b strings.Builder
		for b.Len() < size {
			b.WriteString(words[b.Len()%len(words)])
			b.WriteByte(' ')
		}
		return b.String()
	}
	perCall := func(text string) uint64 {
		e.Classify(text) // warm the stem cache and the buffers
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		const n = 5
		for range n {
			e.Classify(text)
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / n
	}
	// Before the cap and the reused buffers, allocation grew with the text:
	// 4.6 MB a call for 128 KB, so over 30 MB for 1 MiB.
	for _, size := range []int{1 << 20, 4 << 20} {
		got := perCall(text(size))
		assert.Less(t, got, uint64(4<<20), "a %d-byte text allocated %d bytes a call", size, got)
	}
}

// unescapeTo decodes exactly as html.UnescapeString does.
func TestUnescapeToMatchesHTML(t *testing.T) {
	parts := []string{"&quot;", "&amp;", "&lt;", "&gt;", "&#39;", "&#33;", "&#x41;", "&nbsp;", "&laquo;", "&not", "&notit;",
		"&amp;lt;", "&", "&;", "&raquo;", "&mdash;", "&ndash;", "&#", "&#;", "&zz;", "а", "b", " ", ";", "#", "&ampfoo", "&#1040;", "&#xD800;", "&copy"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		s := b.String()
		require.Equal(t, html.UnescapeString(s), string(unescapeTo(nil, s)), "%q", s)
	}
}

// A '<' that no '>' follows is not searched again for every one of them.
func TestStripMarkupWithoutClosingBracketKeepsText(t *testing.T) {
	s := strings.Repeat("<b a ", 1000)
	assert.Equal(t, s, stripMarkup(s))
	assert.Equal(t, "x   y", stripMarkup("x <b> y"))
}
