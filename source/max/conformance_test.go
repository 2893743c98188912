package max

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/adaptertest"
	"github.com/appealkit/appealkit/source/sourcetest"
)

func testConfig(f *fakeAPI, cp source.Checkpoints) Config {
	return Config{Token: testToken, BaseURL: f.srv.URL, Checkpoints: cp, PollTimeout: time.Second,
		Backoff: source.Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}, RequestsPerSecond: 1000}
}

// itemUpdates turns the suite's items into comments under a channel post,
// alternating with messages to the bot.
func itemUpdates(up sourcetest.Upstream) []json.RawMessage {
	var out []json.RawMessage
	for i, it := range up.Items {
		msg := map[string]any{
			"sender":    map[string]any{"user_id": 4242, "first_name": "Житель", "is_bot": false},
			"recipient": map[string]any{"chat_type": "channel", "chat_id": -7001, "post_id": "mid.post"},
			"timestamp": 1767258000000 + int64(i),
			"body":      map[string]any{"mid": "mid.item-" + string(rune('a'+i)), "seq": i, "text": "Обращение: " + it.Text},
		}
		typ := "comment_created"
		if i%2 == 1 {
			typ = "message_created"
			msg["recipient"] = map[string]any{"chat_type": "dialog", "chat_id": 4242}
		}
		b, _ := json.Marshal(map[string]any{"update_type": typ, "timestamp": 1767258000000 + int64(i), "message": msg})
		out = append(out, b)
	}
	return out
}

func TestConformancePolling(t *testing.T) {
	sourcetest.Run(t, sourcetest.Features{Checkpointed: true, Malformed: true},
		func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
			f := newFakeAPI(t, itemUpdates(up))
			if up.Malformed {
				f.broken = `{"updates":[{"update_type":"message_created","timestamp":"вчера","message":{"body":{"mid":"m","text":"` + up.Items[0].Text + `"}}}],"marker":1}`
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

// The webhook's upstream is MAX itself: it POSTs each update and resends it
// until it gets 200.
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
					t.Fatal(err)
				}
				setHook(h)
				return h
			}
		})
}
