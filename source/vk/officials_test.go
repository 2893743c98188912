package vk_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/vk"
)

// groups.getById with fields=verified (VK's госметка) and users.get for an
// official's personal page.
func officialsFake(t *testing.T) *fakeVK {
	f := newFakeVK(t)
	f.handlers["groups.getById"] = func(p url.Values) any {
		if p.Get("fields") != "verified" {
			t.Errorf("groups.getById without fields=verified: %v", p)
		}
		var out []any
		for _, key := range strings.Split(p.Get("group_ids"), ",") {
			switch key {
			case "101", "adm_verified":
				out = append(out, map[string]any{"id": 101, "name": "Администрация района", "screen_name": "adm_verified", "is_closed": 0, "type": "page", "verified": 1})
			case "102":
				out = append(out, map[string]any{"id": 102, "name": "Подслушано", "screen_name": "city", "is_closed": 0, "type": "page", "verified": 0})
			}
		}
		return out
	}
	f.handlers["users.get"] = func(p url.Values) any {
		var out []any
		for _, id := range strings.Split(p.Get("user_ids"), ",") {
			switch id {
			case "555":
				out = append(out, map[string]any{"id": 555, "first_name": "Иван", "last_name": "Петров", "can_access_closed": true, "is_closed": false})
			case "666":
				out = append(out, map[string]any{"id": 666, "first_name": "DELETED", "last_name": "", "deactivated": "deleted"})
			}
		}
		return out
	}
	return f
}

func TestVerifiedCommunityIsOfficialAndPersonalPagesAreMonitored(t *testing.T) {
	f := officialsFake(t)
	f.addPost(101, 9, "Когда откроют школу после ремонта?")
	f.addPost(102, 9, "Нет воды на Садовой")
	own := f.addPost(-555, 555, "Завтра прямая линия: задавайте вопросы")
	f.addComment(-555, own, 0, 10, "Когда починят дорогу в Прилепах?")
	f.addPost(-555, 11, "Глава, помогите с вывозом мусора")
	f.addPost(-666, 12, "Страница удалена")

	cp := source.NewMemoryCheckpoints()
	m, err := vk.NewMonitor(vk.MonitorConfig{API: f.api(), Communities: vk.ParseCommunities("adm_verified,102,id555,id666"),
		Checkpoints: cp, SkipCommunityPosts: true})
	require.NoError(t, err)
	var got collect
	st, err := m.Poll(context.Background(), got.sink)
	require.NoError(t, err)
	assert.Equal(t, 3, st.Communities, "the deactivated personal page is skipped, the rest read")

	byText := map[string]appeal.Appeal{}
	for _, a := range got.got {
		byText[a.Text] = a
	}
	require.Len(t, byText, 4, "%v", byText)
	assert.Equal(t, appeal.Community{ID: "-101", Name: "Администрация района", Official: true}, byText["Когда откроют школу после ремонта?"].Community,
		"VK's verified mark makes the community official without a \"!\"")
	assert.False(t, byText["Нет воды на Садовой"].Community.Official)

	post := byText["Глава, помогите с вывозом мусора"]
	assert.Equal(t, appeal.Community{ID: "555", Name: "Иван Петров", Official: true}, post.Community)
	assert.True(t, strings.HasPrefix(post.ExternalID, "555_"), post.ExternalID)
	comment := byText["Когда починят дорогу в Прилепах?"]
	assert.Equal(t, appeal.KindComment, comment.Kind)
	assert.Equal(t, "555", comment.Community.ID)
	_, ownDelivered := byText["Завтра прямая линия: задавайте вопросы"]
	assert.False(t, ownDelivered, "the official's own post is not an appeal (SkipCommunityPosts)")

	// Checkpoints are keyed by owner id: negative for communities, positive for people.
	for _, key := range []string{"vk:wall:-101", "vk:wall:-102", "vk:wall:555"} {
		v, err := cp.Load(context.Background(), key)
		require.NoError(t, err)
		assert.NotEmpty(t, v, key)
	}

	// A second cycle delivers nothing again.
	again := collect{}
	_, err = m.Poll(context.Background(), again.sink)
	require.NoError(t, err)
	assert.Empty(t, again.got)
}

func TestParseCommunitiesKeepsPersonalPages(t *testing.T) {
	assert.Equal(t, []vk.Community{{ID: "123"}, {ID: "id555"}, {ID: "mosreg", Official: true}}, vk.ParseCommunities("123, id555 ,mosreg!"))
}
