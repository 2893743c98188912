package incident_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/incident"
	"github.com/appealkit/appealkit/source"
)

// recReplier records what it posted and fails for the appeals in fail.
type recReplier struct {
	mu     sync.Mutex
	posted map[appeal.ID]string
	fail   map[appeal.ID]error
}

func (r *recReplier) Reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.fail[to.ID]; err != nil {
		return appeal.Reply{}, err
	}
	if r.posted == nil {
		r.posted = map[appeal.ID]string{}
	}
	r.posted[to.ID] = text
	return appeal.Reply{ExternalID: "r-" + to.ExternalID, URL: "https://example.test/" + to.ExternalID}, nil
}

func routed(t *testing.T, st appeal.Store, a appeal.Appeal) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Put(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Transition(ctx, a.ID, appeal.Change{To: appeal.StatusRouted, ExpectedVersion: 1, At: t0,
		Assignment: &appeal.Assignment{Executor: "roads-dept", Deadline: t0.Add(24 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
}

var errFlood = errors.New("flood control")

func TestFanOutReportsEachAppeal(t *testing.T) {
	ctx := context.Background()
	st := appeal.NewMemoryStore()
	vkOK := ap("vk", "1", "roads", "", "яма", t0)
	vkFail := ap("vk", "2", "roads", "", "яма", t0)
	tg := ap("telegram", "3", "roads", "", "яма", t0)
	okNet := ap("ok", "4", "roads", "", "яма", t0)
	fresh := ap("vk", "5", "roads", "", "яма", t0)
	for _, a := range []appeal.Appeal{vkOK, vkFail, tg, okNet} {
		routed(t, st, a)
	}
	if _, err := st.Put(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	vk := &recReplier{fail: map[appeal.ID]error{vkFail.ID: errFlood}}
	tgR := &recReplier{}
	repliers := map[appeal.Network]source.Replier{"vk": vk, "telegram": tgR}
	ids := []appeal.ID{vkOK.ID, vkFail.ID, tg.ID, okNet.ID, fresh.ID, "vk:missing"}
	ans := incident.Answer{Text: "Яма заделана 17.11.2026, мастер Петров П.П.", By: "roads-dept", At: t0.Add(3 * time.Hour)}

	res := incident.FanOut(ctx, st, repliers, ids, ans)
	if len(res.Deliveries) != len(ids) {
		t.Fatalf("deliveries = %d", len(res.Deliveries))
	}
	d := res.Deliveries
	if !d[0].Posted || !d[0].Stored || d[0].Err != nil || d[0].Reply.ExternalID != "r-1" || d[0].Reply.By != "roads-dept" {
		t.Errorf("vk ok: %+v", d[0])
	}
	if d[1].Posted || !errors.Is(d[1].Err, errFlood) {
		t.Errorf("vk fail: %+v", d[1])
	}
	if !d[2].Stored || tgR.posted[tg.ID] != ans.Text {
		t.Errorf("telegram: %+v", d[2])
	}
	if !errors.Is(d[3].Err, incident.ErrNoReplier) {
		t.Errorf("ok without replier: %+v", d[3])
	}
	if !errors.Is(d[4].Err, incident.ErrNotAnswerable) || vk.posted[fresh.ID] != "" {
		t.Errorf("new appeal: %+v", d[4])
	}
	if !errors.Is(d[5].Err, appeal.ErrNotFound) {
		t.Errorf("missing appeal: %+v", d[5])
	}
	if n := len(res.Failed()); n != 4 {
		t.Errorf("failed = %d, want 4", n)
	}
	if err := res.Err(); !errors.Is(err, errFlood) || !errors.Is(err, incident.ErrNoReplier) {
		t.Errorf("joined error = %v", err)
	}
	got, _ := st.Get(ctx, vkOK.ID)
	if got.Status != appeal.StatusAnswered || len(got.Replies) != 1 || got.Replies[0].Text != ans.Text || !got.Replies[0].At.Equal(ans.At) {
		t.Errorf("stored = %+v", got)
	}
	if got, _ := st.Get(ctx, vkFail.ID); got.Status != appeal.StatusRouted {
		t.Errorf("failed appeal moved to %s", got.Status)
	}

	// A retry after fixing the network posts only to what failed.
	delete(vk.fail, vkFail.ID)
	vk.posted = nil
	res = incident.FanOut(ctx, st, repliers, ids[:2], ans)
	if res.Deliveries[1].Err != nil || !errors.Is(res.Deliveries[0].Err, incident.ErrNotAnswerable) || len(vk.posted) != 1 {
		t.Errorf("retry: %+v posted %v", res.Deliveries, vk.posted)
	}
}

func TestFanOutHonoursContext(t *testing.T) {
	st := appeal.NewMemoryStore()
	a := ap("vk", "1", "roads", "", "яма", t0)
	routed(t, st, a)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := incident.FanOut(ctx, st, map[appeal.Network]source.Replier{"vk": &recReplier{}}, []appeal.ID{a.ID}, incident.Answer{Text: "x"})
	if !errors.Is(res.Deliveries[0].Err, context.Canceled) {
		t.Errorf("err = %v", res.Deliveries[0].Err)
	}
}

func TestLink(t *testing.T) {
	ctx := context.Background()
	st := appeal.NewMemoryStore()
	a, b := ap("vk", "1", "roads", "", "яма", t0), ap("vk", "2", "roads", "", "яма", t0)
	st.Put(ctx, a)
	st.Put(ctx, b)
	if err := incident.Link(ctx, st, "inc-1", a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Get(ctx, b.ID)
	if got.IncidentID != "inc-1" || got.Version != 2 {
		t.Errorf("linked = %+v", got)
	}
	if err := incident.Link(ctx, st, "inc-1", "vk:nope"); !errors.Is(err, appeal.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
}
