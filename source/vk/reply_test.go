package vk_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/vk"
)

func TestParseExternalID(t *testing.T) {
	for id, want := range map[string]vk.Ref{
		"-123_456":         {Kind: vk.RefPost, OwnerID: -123, ObjectID: 456},
		"77_5":             {Kind: vk.RefPost, OwnerID: 77, ObjectID: 5},
		"-123_456_c789":    {Kind: vk.RefComment, OwnerID: -123, ObjectID: 456, ItemID: 789},
		"-123_t45_c678":    {Kind: vk.RefBoardComment, OwnerID: -123, ObjectID: 45, ItemID: 678},
		"-123_p45_c678":    {Kind: vk.RefPhotoComment, OwnerID: -123, ObjectID: 45, ItemID: 678},
		"-123_m222_4392":   {Kind: vk.RefMessage, OwnerID: -123, ObjectID: 222, ItemID: 4392},
		"-1_m2000000001_7": {Kind: vk.RefMessage, OwnerID: -1, ObjectID: 2000000001, ItemID: 7},
	} {
		got, err := vk.ParseExternalID(id)
		if err != nil || got != want {
			t.Errorf("ParseExternalID(%q) = %+v, %v; want %+v", id, got, err, want)
		}
	}
	for _, bad := range []string{"", "-123", "abc_1", "-1_x", "-1_2_3", "-1_2_c", "0_5", "-1_t_c5", "-1_2_c3_4"} {
		if _, err := vk.ParseExternalID(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseExternalID(%q) = %v; want an error naming it", bad, err)
		}
	}
	// The constructors and the parser agree.
	if got, _ := vk.ParseExternalID(vk.MessageExternalID(218900, 55504, 37)); got.ObjectID != 55504 || got.OwnerID != -218900 {
		t.Errorf("message id round trip: %+v", got)
	}
}

func TestReply(t *testing.T) {
	f := newFakeVK(t)
	f.addGroup(218900, "Администрация", "adm")
	r, err := vk.NewReplier(f.api())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	answer := "Здравствуйте! Заявка передана в управление благоустройства, срок — 3 дня."

	rep, err := r.Reply(ctx, appeal.Appeal{ID: "vk:-218900_3400_c3420", Network: appeal.NetworkVK, ExternalID: "-218900_3400_c3420"}, answer)
	if err != nil {
		t.Fatal(err)
	}
	calls := f.directCalls("wall.createComment")
	if len(calls) != 1 {
		t.Fatalf("wall.createComment calls: %d", len(calls))
	}
	p := calls[0].Params
	if p.Get("owner_id") != "-218900" || p.Get("post_id") != "3400" || p.Get("reply_to_comment") != "3420" || p.Get("from_group") != "218900" || p.Get("message") != answer || p.Get("guid") == "" {
		t.Errorf("wall.createComment params = %v", p)
	}
	if !strings.HasPrefix(rep.ExternalID, "-218900_3400_c") || !strings.HasPrefix(rep.URL, "https://vk.com/wall-218900_3400?reply=") || rep.Text != answer || rep.At.IsZero() {
		t.Errorf("reply = %+v", rep)
	}

	if _, err := r.Reply(ctx, appeal.Appeal{ID: "vk:-218900_m55504_37", Network: appeal.NetworkVK, ExternalID: "-218900_m55504_37"}, answer); err != nil {
		t.Fatal(err)
	}
	calls = f.directCalls("messages.send")
	if len(calls) != 1 || calls[0].Params.Get("peer_id") != "55504" || calls[0].Params.Get("random_id") == "" || calls[0].Params.Get("message") != answer {
		t.Fatalf("messages.send calls = %+v", calls)
	}

	// Discussion and photo comments: board.createComment and
	// photos.createComment on behalf of the community.
	f.handlers["board.createComment"] = func(url.Values) any { return 91 }
	f.handlers["photos.createComment"] = func(url.Values) any { return 92 }
	rep, err = r.Reply(ctx, appeal.Appeal{ID: "vk:-218900_t40123_c58", Network: appeal.NetworkVK, ExternalID: "-218900_t40123_c58"}, answer)
	if err != nil || rep.ExternalID != vk.BoardCommentExternalID(-218900, 40123, 91) {
		t.Errorf("board reply: %+v, %v", rep, err)
	}
	if c := f.directCalls("board.createComment"); len(c) != 1 || c[0].Params.Get("group_id") != "218900" || c[0].Params.Get("topic_id") != "40123" || c[0].Params.Get("from_group") != "1" || c[0].Params.Get("guid") == "" {
		t.Errorf("board.createComment calls = %+v", c)
	}
	rep, err = r.Reply(ctx, appeal.Appeal{ID: "vk:-218900_p457_c12", Network: appeal.NetworkVK, ExternalID: "-218900_p457_c12"}, answer)
	if err != nil || rep.ExternalID != vk.PhotoCommentExternalID(-218900, 457, 92) {
		t.Errorf("photo reply: %+v, %v", rep, err)
	}
	if c := f.directCalls("photos.createComment"); len(c) != 1 || c[0].Params.Get("owner_id") != "-218900" || c[0].Params.Get("photo_id") != "457" || c[0].Params.Get("reply_to_comment") != "12" || c[0].Params.Get("from_group") != "1" {
		t.Errorf("photos.createComment calls = %+v", c)
	}
	// With the caller's idempotency key, guid and random_id come from it,
	// so a repost after a crash is dropped by VK.
	kctx := source.WithReplyKey(ctx, "k-42")
	if _, err := r.Reply(kctx, appeal.Appeal{ID: "vk:-218900_3400_c3420", Network: appeal.NetworkVK, ExternalID: "-218900_3400_c3420"}, answer); err != nil {
		t.Fatal(err)
	}
	if c := f.directCalls("wall.createComment"); c[len(c)-1].Params.Get("guid") != "k-42" {
		t.Errorf("guid with a reply key = %q", c[len(c)-1].Params.Get("guid"))
	}
	for range 2 {
		if _, err := r.Reply(kctx, appeal.Appeal{ID: "vk:-218900_m55504_37", Network: appeal.NetworkVK, ExternalID: "-218900_m55504_37"}, answer); err != nil {
			t.Fatal(err)
		}
	}
	if c := f.directCalls("messages.send"); c[len(c)-1].Params.Get("random_id") != c[len(c)-2].Params.Get("random_id") {
		t.Error("random_id differs between two sends with the same reply key")
	}
	if _, err := r.Reply(ctx, appeal.Appeal{ID: "vk:218900_t40123_c58", Network: appeal.NetworkVK, ExternalID: "218900_t40123_c58"}, answer); !errors.Is(err, vk.ErrReplyUnsupported) {
		t.Errorf("board reply on a user's page: %v; want ErrReplyUnsupported", err)
	}
	if _, err := r.Reply(ctx, appeal.Appeal{ID: "ok:1", Network: appeal.NetworkOK, ExternalID: "1"}, answer); err == nil {
		t.Error("replied to an OK appeal")
	}
	f.token = "revoked"
	if _, err := r.Reply(ctx, appeal.Appeal{ID: "vk:-218900_3400", Network: appeal.NetworkVK, ExternalID: "-218900_3400"}, answer); !errors.Is(err, source.ErrAuth) {
		t.Errorf("revoked token: %v; want ErrAuth", err)
	}
	// Monitor and LongPoll are Repliers too.
	var _ source.Replier = (*vk.Monitor)(nil)
	var _ source.Replier = (*vk.LongPoll)(nil)
}
