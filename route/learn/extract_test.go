package learn

import (
	"slices"
	"testing"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/classify"
)

// extract reads the classifier's stems when they are of the text it reads,
// and derives exactly the features it derives from stemming the text.
func TestExtractUsesAnalysis(t *testing.T) {
	text := "Во дворе дома 5 не вывозят мусор 2 недели"
	eng, err := classify.New()
	if err != nil {
		t.Fatal(err)
	}
	a := &appeal.Appeal{Text: text, Municipality: "Северный"}
	classify.ClassifyAppeal(eng, a)
	if a.Analysis == nil {
		t.Fatal("no analysis")
	}
	plain := *a
	plain.Analysis = nil
	var s1, s2 scratch
	extract(&s1, &plain, nil)
	extract(&s2, a, nil)
	if !slices.Equal(s1.feats, s2.feats) {
		t.Fatalf("features differ:\n%x\n%x", s1.feats, s2.feats)
	}
	// A forged analysis of the same text shows that it is what was read.
	h := classify.HashString(classify.FNVOffset, "мусор")
	a.Analysis = &appeal.TextAnalysis{Text: text, StemHashes: []uint64{h}}
	extract(&s2, a, nil)
	nctx := len(s2.feats) - 2 // the unigram and the word×municipality
	if len(s2.feats) < 2 || s2.feats[nctx] != nz(h) {
		t.Fatalf("the analysis was not read: %x", s2.feats)
	}
}
