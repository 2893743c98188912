package ok

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/sourcetest"
)

func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Features{Checkpointed: true, Malformed: true},
		func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
			f := newFakeOK(t)
			// Each item is a topic by a resident; the first one also gets a
			// comment, so that both kinds go through the suite.
			for i, it := range up.Items {
				f.addTopic(testGroup, json.RawMessage(fmt.Sprintf(
					`{"id":"%d","created_ms":%d,"author_ref":"user:58000000%04d","owner_ref":"group:%s","media":[{"type":"text","text":"Тема: %s"}]}`,
					160000+i, 1767262800000+int64(i)*60000, i, testGroup, it.Text)))
			}
			if up.Malformed {
				f.broken = `{"media_topics":[{"id":"160000","created_ms":1767262800000,"media":[{"type":"text","text":"` + up.Items[0].Text
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
