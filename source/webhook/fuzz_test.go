package webhook

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/appealkit/appealkit/appeal"
)

// FuzzDecodeBody checks that no body makes the decoder panic, that every
// refusal is a *ValidationError, and that whatever is accepted is a valid
// appeal that survives a round trip through Input.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"external_id":"1","text":"Яма"}`,
		`[{"external_id":"1","text":"a"},{"external_id":"2","text":"b","kind":"comment"}]`,
		`{"text":"a","geo":{"lat":1e400,"lon":0}}`,
		`{"external_id":"1","text":"a","attachments":[{"type":"photo","url":"https://x/1"}]}`,
		`[`, `{`, `"`, `[[]]`, `null`, `{"text":null}`, "\xff", `{"external_id":"1","text":"a","created_at":"2026-01-01T00:00:00Z"}`,
	} {
		f.Add([]byte(s), "")
		f.Add([]byte(s), "key")
	}
	lim := limits{maxBatch: 50, maxTextRunes: 1000, network: appeal.NetworkWeb}
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		appeals, err := decodeBody(body, key, fixedNow, lim)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, appeal.ErrInvalid) {
				t.Fatalf("error %T %v is not a ValidationError", err, err)
			}
			if appeals != nil {
				t.Fatal("appeals returned with an error")
			}
			return
		}
		if len(appeals) == 0 || len(appeals) > lim.maxBatch {
			t.Fatalf("%d appeals accepted", len(appeals))
		}
		for _, a := range appeals {
			c := a
			if err := c.Normalize(); err != nil {
				t.Fatalf("accepted appeal does not normalize: %v", err)
			}
			if strings.TrimSpace(a.Text) == "" || !utf8.ValidString(a.Text) || a.ID != appeal.NewID(lim.network, a.ExternalID) {
				t.Fatalf("accepted a bad appeal %+v", a)
			}
			in := Input{ExternalID: a.ExternalID, Kind: string(a.Kind), Text: a.Text, URL: a.URL, Author: a.Author,
				Community: a.Community, Thread: a.Thread, Geo: a.Geo, Attachments: a.Attachments}
			b, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			again, err := decodeBody(b, "", fixedNow, lim)
			if err != nil || len(again) != 1 || again[0].Text != a.Text || again[0].ID != a.ID {
				t.Fatalf("round trip of %s: %v", b, err)
			}
		}
	})
}
