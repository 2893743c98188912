package vk_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/appealkit/appealkit/source/vk"
)

// A «прямая линия» announced by post wall-218900_77: two residents ask the
// same question, a third supports it with "+1", a fourth asks another.
func ExampleCollectLiveQA() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"response":{"count":4,"current_level_count":3,"items":[`+
			`{"id":1,"from_id":11,"post_id":77,"owner_id":-218900,"date":1767258000,"text":"Почему не вывозят мусор во дворе на Садовой 12?","likes":{"count":4},`+
			`"thread":{"count":1,"items":[{"id":4,"from_id":14,"post_id":77,"owner_id":-218900,"date":1767258100,"text":"+1","parents_stack":[1],"reply_to_comment":1}]}},`+
			`{"id":2,"from_id":12,"post_id":77,"owner_id":-218900,"date":1767258060,"text":"Когда починят лифт в доме 3 по улице Мира?","likes":{"count":1}},`+
			`{"id":3,"from_id":13,"post_id":77,"owner_id":-218900,"date":1767258120,"text":"Почему не вывозят мусор во дворе на Садовой 12??"}]}}`)
	}))
	defer srv.Close()

	res, err := vk.CollectLiveQA(context.Background(), vk.LiveQAConfig{
		API:  vk.API{Token: "token", URL: srv.URL + "/method/"},
		Post: "wall-218900_77",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, q := range res.Questions {
		fmt.Printf("%d. %s (asked %d, likes %d)\n", i+1, q.Text, q.Asked, q.Likes)
	}
	// Output:
	// 1. Почему не вывозят мусор во дворе на Садовой 12? (asked 3, likes 4)
	// 2. Когда починят лифт в доме 3 по улице Мира? (asked 1, likes 1)
}
