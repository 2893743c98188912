package vk_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/sourcetest"
	"github.com/appealkit/appealkit/source/vk"
)

func TestMonitorConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Features{Checkpointed: true, Malformed: true},
		func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
			f := newFakeVK(t)
			f.addGroup(1, "Администрация города", "adm")
			f.addGroup(2, "Подслушано", "city")
			announcement := f.addPost(2, -2, "Объявление администрации")
			lastComment := 0
			for i, it := range up.Items {
				switch i % 3 {
				case 0:
					f.addPost(1, 100+i, "Яма на дороге "+it.Text)
				case 1:
					lastComment = f.addComment(2, announcement, 0, 100+i, "Нет воды "+it.Text)
				case 2:
					f.addComment(2, announcement, lastComment, 100+i, "И у нас "+it.Text)
				}
			}
			f.malformed = up.Malformed
			return func(cp source.Checkpoints) source.Source {
				m, err := vk.NewMonitor(vk.MonitorConfig{
					API:                f.api(),
					Communities:        vk.ParseCommunities("adm,-2"),
					Checkpoints:        cp,
					PollInterval:       10 * time.Millisecond,
					SkipCommunityPosts: true,
				})
				if err != nil {
					t.Fatal(err)
				}
				return m
			}
		})
}

// collect is a sink that keeps what it was given.
type collect struct {
	mu  sync.Mutex
	got []appeal.Appeal
}

func (c *collect) sink(_ context.Context, a appeal.Appeal) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, a)
	return nil
}

func (c *collect) byExt() map[string]appeal.Appeal {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]appeal.Appeal{}
	for _, a := range c.got {
		m[a.ExternalID] = a
	}
	return m
}

func TestMonitorMapsPostsCommentsAndReplies(t *testing.T) {
	f := newFakeVK(t)
	f.addGroup(77, "Администрация Курска", "kursk_adm")
	post := f.addPost(77, 501, "Когда починят дорогу на Ленина?")
	top := f.addComment(77, post, 0, 502, "Поддерживаю, ям много")
	reply := f.addComment(77, post, top, 503, "Уже писали в администрацию")

	m, err := vk.NewMonitor(vk.MonitorConfig{API: f.api(), Communities: []vk.Community{{ID: "kursk_adm", Official: true}}})
	if err != nil {
		t.Fatal(err)
	}
	var c collect
	st, err := m.Poll(context.Background(), c.sink)
	if err != nil {
		t.Fatal(err)
	}
	if st.Delivered != 3 || st.Communities != 1 {
		t.Fatalf("stats = %+v, want 3 delivered from 1 community", st)
	}
	got := c.byExt()
	p, ok := got[fmt.Sprintf("-77_%d", post)]
	if !ok {
		t.Fatalf("post missing; got %v", keys(got))
	}
	if p.Kind != appeal.KindPost || p.URL != fmt.Sprintf("https://vk.com/wall-77_%d", post) || p.ID != appeal.ID(fmt.Sprintf("vk:-77_%d", post)) {
		t.Errorf("post = kind %s url %s id %s", p.Kind, p.URL, p.ID)
	}
	if p.Author.ID != "501" || p.Author.ProfileURL != "https://vk.com/id501" {
		t.Errorf("post author = %+v", p.Author)
	}
	if p.Community != (appeal.Community{ID: "-77", Name: "Администрация Курска", Official: true}) {
		t.Errorf("post community = %+v", p.Community)
	}
	if p.CreatedAt.Unix() != int64(1700000000+post) {
		t.Errorf("post created at %v", p.CreatedAt)
	}
	cm := got[fmt.Sprintf("-77_%d_c%d", post, top)]
	if cm.Kind != appeal.KindComment || cm.Thread.RootID != fmt.Sprintf("-77_%d", post) || cm.Thread.ParentID != cm.Thread.RootID {
		t.Errorf("comment = %+v", cm)
	}
	rp := got[fmt.Sprintf("-77_%d_c%d", post, reply)]
	if rp.Kind != appeal.KindReply || rp.Thread.ParentID != fmt.Sprintf("-77_%d_c%d", post, top) || !strings.Contains(rp.URL, fmt.Sprintf("reply=%d&thread=%d", reply, top)) {
		t.Errorf("reply = %+v", rp)
	}
	for _, a := range got {
		if err := a.Normalize(); err != nil {
			t.Errorf("%s: %v", a.ExternalID, err)
		}
	}

	// A new comment only: the next cycle reads it and nothing else.
	late := f.addComment(77, post, 0, 504, "Когда ответят?")
	c = collect{}
	if _, err := m.Poll(context.Background(), c.sink); err != nil {
		t.Fatal(err)
	}
	if len(c.got) != 1 || c.got[0].ExternalID != fmt.Sprintf("-77_%d_c%d", post, late) {
		t.Fatalf("second cycle delivered %v, want only the new comment", keys(c.byExt()))
	}
}

func keys(m map[string]appeal.Appeal) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestMonitorSkipsUnavailableCommunities(t *testing.T) {
	f := newFakeVK(t)
	for _, gid := range []int{1, 2, 3} {
		f.addGroup(gid, fmt.Sprint("group ", gid), "")
		f.addPost(gid, 10, fmt.Sprintf("пост в группе %d", gid))
	}
	f.callErrors[2] = 15 // access denied
	m, err := vk.NewMonitor(vk.MonitorConfig{API: f.api(), Communities: vk.ParseCommunities("1,2,3")})
	if err != nil {
		t.Fatal(err)
	}
	var c collect
	st, err := m.Poll(context.Background(), c.sink)
	if err != nil {
		t.Fatalf("an unavailable community stopped the cycle: %v", err)
	}
	if st.Delivered != 2 || st.Skipped != 1 {
		t.Fatalf("stats %+v; want 2 delivered, 1 skipped", st)
	}
	for _, a := range c.got {
		if a.Community.ID == "-2" {
			t.Errorf("got an appeal from the unavailable community: %s", a.ExternalID)
		}
	}
	// The skipped community is not asked again in this Run.
	st, err = m.Poll(context.Background(), c.sink)
	if err != nil || st.Communities != 2 {
		t.Fatalf("second cycle: %+v, %v; want 2 communities read", st, err)
	}
}

func TestMonitorErrors(t *testing.T) {
	setup := func(t *testing.T) (*fakeVK, *vk.Monitor) {
		f := newFakeVK(t)
		f.addGroup(1, "g", "g")
		f.addPost(1, 5, "текст")
		m, err := vk.NewMonitor(vk.MonitorConfig{API: f.api(), Communities: vk.ParseCommunities("1")})
		if err != nil {
			t.Fatal(err)
		}
		return f, m
	}
	var c collect
	t.Run("bad token is ErrAuth", func(t *testing.T) {
		f, m := setup(t)
		f.token = "other"
		err := m.Run(context.Background(), c.sink)
		var ve *vk.Error
		if !errors.Is(err, source.ErrAuth) || !errors.As(err, &ve) || ve.Code != 5 {
			t.Fatalf("err = %v; want ErrAuth with *vk.Error code 5", err)
		}
	})
	t.Run("captcha is a clear final error", func(t *testing.T) {
		f, m := setup(t)
		f.topError = &fakeError{Code: 14, Msg: "Captcha needed", SID: "548747100691", Img: "https://api.vk.com/captcha.php?sid=548747100691"}
		err := m.Run(context.Background(), c.sink)
		var ce *vk.CaptchaError
		if !errors.Is(err, vk.ErrCaptcha) || !errors.As(err, &ce) || ce.SID != "548747100691" || !strings.Contains(err.Error(), "captcha.php") {
			t.Fatalf("err = %v; want ErrCaptcha naming the image", err)
		}
	})
	t.Run("too many requests and internal errors are retried", func(t *testing.T) {
		f, m := setup(t)
		f.failNext = []*fakeError{
			{Code: 10, Msg: "Internal server error"},
			{Code: 6, Msg: "Too many requests per second"},
		}
		start := time.Now()
		st, err := m.Poll(context.Background(), c.sink)
		if err != nil || st.Delivered != 1 {
			t.Fatalf("after retries: %+v, %v", st, err)
		}
		if st.Requests != 4 { // groups.getById ×3, execute
			t.Errorf("%d requests, want 4", st.Requests)
		}
		if el := time.Since(start); el < time.Second {
			t.Errorf("retried error 6 after %v; VK counts requests per second, so wait at least 1s", el)
		}
	})
	t.Run("a proxy's 502 page is temporary", func(t *testing.T) {
		f, m := setup(t)
		f.badGateway = 2
		st, err := m.Poll(context.Background(), c.sink)
		if err != nil || st.Delivered != 1 || st.Requests != 4 {
			t.Fatalf("%+v, %v; want the post after two retried 502s", st, err)
		}
	})
	t.Run("flood control backs off", func(t *testing.T) {
		f, m := setup(t)
		f.failNext = []*fakeError{{Code: 9, Msg: "Flood control"}}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := m.Poll(ctx, c.sink)
		if !errors.Is(err, context.DeadlineExceeded) || f.requests.Load() != 1 {
			t.Fatalf("err = %v after %d requests; want to be still backing off after 1", err, f.requests.Load())
		}
	})
	t.Run("malformed response", func(t *testing.T) {
		f, m := setup(t)
		f.malformed = true
		err := m.Run(context.Background(), c.sink)
		if !errors.Is(err, source.ErrMalformed) {
			t.Fatalf("err = %v; want ErrMalformed", err)
		}
	})
	t.Run("unknown numeric id does not stop the others", func(t *testing.T) {
		f := newFakeVK(t)
		f.addGroup(1, "g", "g")
		f.addPost(1, 5, "текст")
		f.handlers["groups.getById"] = func(url.Values) any {
			return &fakeError{Code: 100, Msg: "One of the parameters specified was missing or invalid: group_ids is undefined"}
		}
		m, err := vk.NewMonitor(vk.MonitorConfig{API: f.api(), Communities: vk.ParseCommunities("1,999999999")})
		if err != nil {
			t.Fatal(err)
		}
		var c collect
		st, err := m.Poll(context.Background(), c.sink)
		if err != nil || st.Delivered != 1 {
			t.Fatalf("%+v, %v; want the post of community 1", st, err)
		}
	})
	t.Run("unknown screen name", func(t *testing.T) {
		f := newFakeVK(t)
		f.addGroup(1, "g", "g")
		m, err := vk.NewMonitor(vk.MonitorConfig{API: f.api(), Communities: vk.ParseCommunities("g,nosuchgroup")})
		if err != nil {
			t.Fatal(err)
		}
		err = m.Run(context.Background(), c.sink)
		if err == nil || !strings.Contains(err.Error(), "nosuchgroup") {
			t.Fatalf("err = %v; want it to name the unknown community", err)
		}
	})
}

// 1,000 communities cost 40 execute requests per quiet cycle.
func TestMonitorBatchesThroughExecute(t *testing.T) {
	f := newFakeVK(t)
	var ids []string
	for gid := 1; gid <= 1000; gid++ {
		f.addGroup(gid, "g", "")
		ids = append(ids, fmt.Sprint(gid))
	}
	for gid := 1; gid <= 1000; gid += 100 {
		p := f.addPost(gid, 1, "пост")
		f.addComment(gid, p, 0, 2, "комментарий")
	}
	m, err := vk.NewMonitor(vk.MonitorConfig{API: f.api(), Communities: vk.ParseCommunities(strings.Join(ids, ","))})
	if err != nil {
		t.Fatal(err)
	}
	var c collect
	ctx := context.Background()
	st, err := m.Poll(ctx, c.sink)
	if err != nil {
		t.Fatal(err)
	}
	// First cycle: 2 groups.getById (500 ids each), 40 wall.get batches and
	// one batch for the 10 posts with comments.
	if st.Requests != 2+40+1 || st.Delivered != 20 {
		t.Fatalf("first cycle: %+v; want 43 requests and 20 appeals", st)
	}
	st, err = m.Poll(ctx, c.sink)
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != 40 || st.Delivered != 0 {
		t.Fatalf("quiet cycle: %+v; want 40 requests and nothing delivered", st)
	}
	if got := f.count("wall.get"); got != 2000 {
		t.Fatalf("wall.get ran %d times inside execute, want 2000", got)
	}
}

// A thread longer than the preview VK sends with the comments is read
// whole.
func TestMonitorReadsLongThreads(t *testing.T) {
	f := newFakeVK(t)
	f.addGroup(5, "g", "g")
	post := f.addPost(5, 1, "Отключили отопление")
	top := f.addComment(5, post, 0, 2, "У нас тоже")
	for i := range 13 {
		f.addComment(5, post, top, 10+i, fmt.Sprintf("и у нас, дом %d", i))
	}
	m, err := vk.NewMonitor(vk.MonitorConfig{API: f.api(), Communities: vk.ParseCommunities("5"), ThreadItems: 3})
	if err != nil {
		t.Fatal(err)
	}
	var c collect
	st, err := m.Poll(context.Background(), c.sink)
	if err != nil {
		t.Fatal(err)
	}
	if st.Delivered != 1+1+13 || len(c.byExt()) != 15 {
		t.Fatalf("delivered %d (%d distinct); want the post, the comment and all 13 replies", st.Delivered, len(c.byExt()))
	}
	// One more reply: it comes, nothing else does.
	last := f.addComment(5, post, top, 99, "и в доме 99")
	c = collect{}
	if _, err := m.Poll(context.Background(), c.sink); err != nil {
		t.Fatal(err)
	}
	if len(c.got) != 1 || c.got[0].ExternalID != fmt.Sprintf("-5_%d_c%d", post, last) {
		t.Fatalf("second cycle delivered %v", keys(c.byExt()))
	}
}
