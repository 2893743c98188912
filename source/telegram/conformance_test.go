package telegram

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/adaptertest"
	"github.com/appealkit/appealkit/source/sourcetest"
)

// itemUpdates turns the suite's items into private messages to the bot.
func itemUpdates(up sourcetest.Upstream) []json.RawMessage {
	var out []json.RawMessage
	for i, it := range up.Items {
		b, _ := json.Marshal(map[string]any{
			"update_id": 1000 + i,
			"message": map[string]any{
				"message_id": 10 + i, "date": 1767258000 + i,
				"from": map[string]any{"id": 4242, "is_bot": false, "first_name": "Житель"},
				"chat": map[string]any{"id": 4242, "first_name": "Житель", "type": "private"},
				"text": "Обращение: " + it.Text,
			},
		})
		out = append(out, b)
	}
	return out
}

func TestConformancePolling(t *testing.T) {
	sourcetest.Run(t, sourcetest.Features{Checkpointed: true, Malformed: true},
		func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
			f := newFakeAPI(t, itemUpdates(up))
			if up.Malformed {
				f.broken = `{"ok":true,"result":[{"update_id":1000,"message":{"message_id":"десять","text":"` + up.Items[0].Text + `"}}]}`
			}
			return func(cp source.Checkpoints) source.Source {
				s, err := New(testConfig(f, cp))
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
		})
}

// The webhook's upstream is Telegram itself: it POSTs each update and
// resends it until it gets 200.
func TestConformanceWebhook(t *testing.T) {
	sourcetest.Run(t, sourcetest.Features{Quiet: 200 * time.Millisecond},
		func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
			api := newFakeAPI(t, nil)
			hookURL, setHook := adaptertest.HookServer(t)
			var bodies [][]byte
			for _, u := range itemUpdates(up) {
				bodies = append(bodies, u)
			}
			sourcetest.Push(t, hookURL, bodies, func(r *http.Request) { r.Header.Set(SecretHeader, "conformance") })
			return func(source.Checkpoints) source.Source {
				h, err := NewWebhook(testConfig(api, nil), "conformance")
				if err != nil {
					t.Fatal(fmt.Sprint(err))
				}
				setHook(h)
				return h
			}
		})
}
