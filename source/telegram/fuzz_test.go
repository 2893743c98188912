package telegram

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// FuzzUpdate feeds arbitrary webhook bodies to the update decoder and the
// mapper: no panic, refusals match source.ErrMalformed, and every appeal
// that comes out normalizes, carries text and a parseable external id.
func FuzzUpdate(f *testing.F) {
	var seeds []json.RawMessage
	_ = json.Unmarshal(readFixture(f, "updates.json"), &seeds)
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"update_id":1,"message":{"message_id":1,"chat":{"id":1,"type":"supergroup"},"reply_to_message":{"message_id":2,"is_automatic_forward":true,"chat":{"id":1,"type":"supergroup"}},"from":{"id":3},"text":"x"}}`))
	f.Add([]byte(`{"update_id":1,"message":null}`))
	f.Add([]byte(`{"update_id":-5}`))
	f.Add([]byte(`[`))
	m := newMapper(appeal.Community{ID: "@bot"}, []int64{1}, func() time.Time { return time.Unix(0, 0) })
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := decodeUpdate(body)
		if err != nil {
			if !errors.Is(err, source.ErrMalformed) {
				t.Fatalf("decode error %v does not match ErrMalformed", err)
			}
			return
		}
		ev, ok, why := m.mapUpdate(u)
		if !ok {
			if why == "" {
				t.Fatal("skipped without a reason")
			}
			return
		}
		a := ev.appeal
		if err := a.Normalize(); err != nil {
			t.Fatalf("mapped appeal does not normalize: %v", err)
		}
		if _, _, ok := parseExtID(a.ExternalID); !ok {
			t.Fatalf("external id %q cannot be replied to", a.ExternalID)
		}
		if !utf8.ValidString(a.Text) || a.Text == "" || !a.Kind.Valid() {
			t.Fatalf("bad appeal %+v", a)
		}
	})
}
