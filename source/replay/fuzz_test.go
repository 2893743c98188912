package replay

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/appealkit/appealkit/appeal"
)

// FuzzDecodeLine checks that no line makes the decoder panic, that errors
// are plain (the reader wraps them in a LineError), and that what is
// accepted is a normalized appeal.
func FuzzDecodeLine(f *testing.F) {
	for _, s := range []string{
		`{"network":"vk","external_id":"1","text":"Яма"}`,
		`{"network":"vk","external_id":"1","created_at":"вчера"}`,
		`{"network":"vk","external_id":"1","history":[{"at":"x","to":"new"}]}`,
		`{"network":"vk","external_id":"1","geo":{"lat":"1"}}`,
		`{"network":"vk"`, `[]`, `null`, `"x"`, `{"id":"vk:2","network":"vk","external_id":"1"}`,
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, line []byte, strict bool) {
		a, field, err := decode(line, strict)
		if err != nil {
			var le *LineError
			if errors.As(err, &le) {
				t.Fatal("decode returned a LineError itself")
			}
			if field != "" && !utf8.ValidString(field) {
				t.Fatalf("field %q", field)
			}
			return
		}
		if a.ID != appeal.NewID(a.Network, a.ExternalID) || !a.Kind.Valid() || !a.Status.Valid() {
			t.Fatalf("accepted an appeal that is not normalized: %+v", a)
		}
	})
}
