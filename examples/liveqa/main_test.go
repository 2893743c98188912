package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeVK answers wall.getComments for post -218900_77 in VK's shapes: three
// questions (two of them the same, one with a phone number), a "+1" reply
// and the administration's answer.
func fakeVK(t *testing.T, token string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+token {
			fmt.Fprint(w, `{"error":{"error_code":5,"error_msg":"User authorization failed: invalid access_token (4).","request_params":[]}}`)
			return
		}
		_ = r.ParseForm()
		if r.URL.Path != "/method/wall.getComments" || r.Form.Get("owner_id") != "-218900" || r.Form.Get("post_id") != "77" {
			fmt.Fprint(w, `{"error":{"error_code":15,"error_msg":"Access denied"}}`)
			return
		}
		if r.Form.Get("offset") != "0" {
			fmt.Fprint(w, `{"response":{"count":4,"current_level_count":3,"items":[]}}`)
			return
		}
		fmt.Fprint(w, `{"response":{"count":6,"current_level_count":3,"can_post":1,"items":[`+
			`{"id":1,"from_id":11,"post_id":77,"owner_id":-218900,"date":1767258000,"text":"Почему не вывозят мусор во дворе на Садовой 12?","likes":{"count":4},"parents_stack":[],`+
			`"thread":{"count":2,"items":[`+
			`{"id":4,"from_id":14,"post_id":77,"owner_id":-218900,"date":1767258100,"text":"+1","likes":{"count":0},"parents_stack":[1],"reply_to_comment":1},`+
			`{"id":5,"from_id":-218900,"post_id":77,"owner_id":-218900,"date":1767258200,"text":"Разберёмся","likes":{"count":0},"parents_stack":[1],"reply_to_comment":1}]}},`+
			`{"id":2,"from_id":12,"post_id":77,"owner_id":-218900,"date":1767258060,"text":"Когда починят лифт в доме 3 по Мира? Звоните +7 912 345-67-89","likes":{"count":1},"parents_stack":[],"thread":{"count":0,"items":[]}},`+
			`{"id":3,"from_id":13,"post_id":77,"owner_id":-218900,"date":1767258120,"text":"Почему не вывозят мусор во дворе на Садовой 12??","likes":{"count":0},"parents_stack":[],"thread":{"count":0,"items":[]}}`+
			`]}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRunPrintsRankedQuestions(t *testing.T) {
	srv := fakeVK(t, "tok")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-post", "wall-218900_77", "-api-url", srv.URL + "/method/"}, env(map[string]string{"VK_TOKEN": "tok"}), &out, &errOut)
	require.NoError(t, err, errOut.String())
	text := out.String()
	assert.Contains(t, text, "Прямая линия -218900_77: прочитано комментариев и ответов 5, поддержек «+1» 1, разных вопросов 2.")
	first := strings.Index(text, "1. Почему не вывозят мусор во дворе на Садовой 12?\n   спросили: 3, комментариев: 2, лайков: 4")
	second := strings.Index(text, "2. Когда починят лифт")
	assert.True(t, first >= 0 && second > first, "ranked by times asked:\n%s", text)
	assert.NotContains(t, text, "912 345-67-89", "phone numbers are masked by default")
	assert.NotContains(t, text, "Разберёмся", "the administration's answer is not a question")
	assert.Contains(t, text, "https://vk.com/wall-218900_77?reply=1")
}

func TestRunJSONAndErrors(t *testing.T) {
	srv := fakeVK(t, "tok")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-post", "https://vk.com/wall-218900_77", "-api-url", srv.URL + "/method/", "-json", "-top", "1"},
		env(map[string]string{"VK_TOKEN": "tok"}), &out, &errOut)
	require.NoError(t, err, errOut.String())
	var res struct {
		Questions []struct {
			Text    string
			Asked   int
			Appeals []struct {
				Author struct{ ID string } `json:"author"`
			}
		}
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	require.Len(t, res.Questions, 1)
	assert.Equal(t, 3, res.Questions[0].Asked)
	assert.True(t, strings.HasPrefix(res.Questions[0].Appeals[0].Author.ID, "anon-"), "authors are pseudonymised")

	err = run(context.Background(), []string{"-post", "wall-218900_77", "-api-url", srv.URL + "/method/"}, env(map[string]string{"VK_TOKEN": "wrong-secret-token"}), &out, &errOut)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "wrong-secret-token")
	assert.NotContains(t, errOut.String(), "wrong-secret-token")
	assert.Error(t, run(context.Background(), []string{"-post", "nonsense"}, env(map[string]string{"VK_TOKEN": "tok"}), &out, &errOut))
	assert.Error(t, run(context.Background(), []string{}, env(map[string]string{"VK_TOKEN": "tok"}), &out, &errOut))
	assert.Error(t, run(context.Background(), []string{"-post", "wall-1_2"}, env(nil), &out, &errOut))
}
