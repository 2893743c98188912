package vk_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/vk"
)

// liveQAWall is the comments of one «прямая линия» post in wall.getComments'
// shapes, served page by page (offset, count, comment_id for a thread).
type liveQAWall struct {
	owner, post int
	top         []map[string]any
	threads     map[int][]map[string]any
	nextID      int
}

func (w *liveQAWall) comment(from int, text string, likes int) map[string]any {
	w.nextID++
	return map[string]any{"id": w.nextID, "from_id": from, "post_id": w.post, "owner_id": w.owner, "date": 1767258000 + w.nextID*60,
		"text": text, "likes": map[string]any{"count": likes, "user_likes": 0, "can_like": 1}, "parents_stack": []int{}}
}

func (w *liveQAWall) addTop(from int, text string, likes int) int {
	c := w.comment(from, text, likes)
	w.top = append(w.top, c)
	return c["id"].(int)
}

func (w *liveQAWall) addDeleted() {
	c := w.comment(0, "", 0)
	c["deleted"] = true
	w.top = append(w.top, c)
}

func (w *liveQAWall) addReply(parent, from int, text string, likes int) {
	c := w.comment(from, text, likes)
	c["parents_stack"] = []int{parent}
	c["reply_to_comment"] = parent
	w.threads[parent] = append(w.threads[parent], c)
}

func (w *liveQAWall) serve(t testing.TB, p url.Values) any {
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	if atoi(p.Get("owner_id")) != w.owner || atoi(p.Get("post_id")) != w.post {
		return &fakeError{Code: 15, Msg: "Access denied"}
	}
	if p.Get("sort") != "asc" && t != nil {
		t.Errorf("wall.getComments sort=%q; want asc", p.Get("sort"))
	}
	offset, count := atoi(p.Get("offset")), atoi(p.Get("count"))
	page := func(all []map[string]any) []map[string]any {
		if offset >= len(all) {
			return nil
		}
		return all[offset:min(len(all), offset+count)]
	}
	if cid := atoi(p.Get("comment_id")); cid != 0 {
		items := page(w.threads[cid])
		return map[string]any{"count": len(w.threads[cid]), "current_level_count": len(w.threads[cid]), "items": items}
	}
	var items []any
	for _, c := range page(w.top) {
		cp := map[string]any{}
		for k, v := range c {
			cp[k] = v
		}
		th := w.threads[c["id"].(int)]
		preview := th[:min(len(th), atoi(p.Get("thread_items_count")))]
		cp["thread"] = map[string]any{"count": len(th), "items": preview, "can_post": true}
		items = append(items, cp)
	}
	return map[string]any{"count": len(w.top), "current_level_count": len(w.top), "items": items}
}

func liveQAFixture() *liveQAWall {
	w := &liveQAWall{owner: -218900, post: 77, threads: map[int][]map[string]any{}}
	w.addTop(1, "Когда отремонтируют дорогу на улице Ленина у дома 5?", 10)
	w.addTop(2, "Когда отремонтируют дорогу на улице Ленина у дома 5? Ямы огромные", 3)
	garbage := w.addTop(3, "Почему не вывозят мусор во дворе на Садовой 12?", 1)
	for i := range 12 {
		w.addReply(garbage, 100+i, "+", 0)
	}
	w.addReply(garbage, 200, "Поддерживаю!", 0)
	w.addReply(garbage, -218900, "Разберёмся и ответим в течение недели", 0) // the owner's answer
	w.addReply(garbage, 201, "А когда будет освещение в парке Победы?", 2)
	for range 120 {
		w.addDeleted()
	}
	w.addTop(4, "Когда откроют поликлинику на Гагарина?", 0)
	w.addTop(5, "Почему не вывозят мусор во дворе на Садовой 12??", 0)
	w.addTop(6, "Когда откроют поликлинику на Гагарина???", 0) // the same author again: one person
	w.addTop(6, "Когда откроют поликлинику на Гагарина? Ответьте!", 0)
	return w
}

func TestCollectLiveQARanksDistinctQuestions(t *testing.T) {
	f := newFakeVK(t)
	w := liveQAFixture()
	f.handlers["wall.getComments"] = func(p url.Values) any { return w.serve(t, p) }

	res, err := vk.CollectLiveQA(context.Background(), vk.LiveQAConfig{API: f.api(), Post: "https://vk.com/wall-218900_77"})
	require.NoError(t, err)
	assert.Equal(t, "-218900_77", res.Post)
	assert.Equal(t, 3+15+120+4, res.Comments, "every comment and reply, over two pages and a long thread")
	assert.Equal(t, 13, res.Endorsements)

	var texts []string
	for _, q := range res.Questions {
		texts = append(texts, q.Text)
	}
	require.Equal(t, []string{
		"Почему не вывозят мусор во дворе на Садовой 12?",      // 2 authors + 13 endorsers
		"Когда отремонтируют дорогу на улице Ленина у дома 5?", // 2 authors, 13 likes; the most liked wording
		"Когда откроют поликлинику на Гагарина?",               // 2 people, one of whom wrote three times
		"А когда будет освещение в парке Победы?",              // a new question inside a thread, 2 likes
	}, texts)
	clinic := res.Questions[2]
	assert.Equal(t, 2, clinic.Asked)
	assert.Equal(t, 3, clinic.Comments)
	garbage, roads := res.Questions[0], res.Questions[1]
	assert.Equal(t, 15, garbage.Asked)
	assert.Equal(t, 2, garbage.Comments)
	assert.Equal(t, 2, garbage.Authors)
	require.Len(t, garbage.Appeals, 2)
	assert.Equal(t, "-218900_77_c3", garbage.Appeals[0].ExternalID, "oldest first")
	assert.Equal(t, 2, roads.Asked)
	assert.Equal(t, 13, roads.Likes)
	for _, q := range res.Questions {
		for _, a := range q.Appeals {
			assert.NotEqual(t, "-218900", a.Author.ID, "the owner's answers are not questions")
		}
	}
}

func TestCollectLiveQABadInput(t *testing.T) {
	f := newFakeVK(t)
	w := liveQAFixture()
	f.handlers["wall.getComments"] = func(p url.Values) any { return w.serve(t, p) }
	for _, post := range []string{"", "wall", "wall-1_x", "https://vk.com/club1", "wall0_5"} {
		_, err := vk.CollectLiveQA(context.Background(), vk.LiveQAConfig{API: f.api(), Post: post})
		assert.ErrorContains(t, err, "vk: post", post)
	}
	_, err := vk.CollectLiveQA(context.Background(), vk.LiveQAConfig{API: f.api(), Post: "wall-1_2"})
	assert.ErrorIs(t, err, vk.ErrUnavailable, "a post that cannot be read is an error naming it")
	assert.ErrorContains(t, err, "-1_2")

	api := f.api()
	api.Token = "bad-token-must-not-leak"
	_, err = vk.CollectLiveQA(context.Background(), vk.LiveQAConfig{API: api, Post: "wall-218900_77"})
	assert.ErrorIs(t, err, source.ErrAuth)
	assert.NotContains(t, err.Error(), api.Token)
}

func TestParsePostRef(t *testing.T) {
	for in, want := range map[string][2]int{
		"wall-123_456":                          {-123, 456},
		"-123_456":                              {-123, 456},
		"123_456":                               {123, 456},
		"https://vk.com/wall-123_456":           {-123, 456},
		"https://vk.com/club123?w=wall-123_456": {-123, 456},
		"https://vk.com/id5?w=wall5_9&z=1":      {5, 9},
	} {
		o, p, err := vk.ParsePostRef(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, [2]int{o, p}, in)
	}
}

// Without topics, two questions about one address merge (same place is
// strong evidence); classified by Prepare, they stay apart.
func TestCollectLiveQAPrepareKeepsTopicsApart(t *testing.T) {
	f := newFakeVK(t)
	w := &liveQAWall{owner: -218900, post: 77, threads: map[int][]map[string]any{}}
	w.addTop(1, "Когда во дворе дома 12 на улице Садовой наведут порядок? Мусор не вывозят", 0)
	w.addTop(2, "Когда во дворе дома 12 на улице Садовой наведут порядок? Фонари не горят", 0)
	f.handlers["wall.getComments"] = func(p url.Values) any { return w.serve(t, p) }

	res, err := vk.CollectLiveQA(context.Background(), vk.LiveQAConfig{API: f.api(), Post: "wall-218900_77"})
	require.NoError(t, err)
	assert.Len(t, res.Questions, 1, "unclassified, same address: merged")

	res, err = vk.CollectLiveQA(context.Background(), vk.LiveQAConfig{API: f.api(), Post: "wall-218900_77",
		Prepare: func(a *appeal.Appeal) {
			topic := "landscaping.lighting"
			if strings.Contains(strings.ToLower(a.Text), "мусор") {
				topic = "garbage"
			}
			a.Topics = []appeal.TopicScore{{Code: topic, Score: 0.9}}
		}})
	require.NoError(t, err)
	require.Len(t, res.Questions, 2)
	assert.ElementsMatch(t, []string{"garbage", "landscaping.lighting"}, []string{res.Questions[0].Topic, res.Questions[1].Topic})
}
