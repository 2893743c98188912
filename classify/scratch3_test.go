package classify

import "testing"

func TestScratchMiss(t *testing.T) {
	all := loadShared(t, spbPath)
	rb := DefaultRubricator()
	want := map[string]string{"Водоотведение": "housing.sewerage", "Центральное отопление": "housing.heating", "Водоснабжение": "housing.water", "Кровля": "housing.building"}
	k := 0
	for i, ex := range all {
		w, ok := want[ex.Label]
		if !ok || i%2 != 0 {
			continue
		}
		x := rb.Explain(ex.Text)
		if x.Result.Top() != w {
			var f []string
			for _, tp := range x.Topics {
				for _, c := range tp.Features {
					f = append(f, tp.Code+":"+c.Feature)
				}
			}
			t.Logf("%s | %.100s | %v", w[8:], ex.Text, f)
			k++
		}
		if k > 40 {
			break
		}
	}
}
