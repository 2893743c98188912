package vk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/SevereCloud/vksdk/v2/api"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// Replier posts official answers back into VK, in the thread the appeal came
// from: under a post or comment with wall.createComment on behalf of the
// community (from_group), and to a private message with messages.send. It
// needs a community token, or a user token of a community admin with the
// wall permission. Discussion and photo comments are answered with
// board.createComment and photos.createComment (from_group), which VK
// allows with an admin's user token only; with a community token VK
// refuses them (error 27).
type Replier struct {
	r replier
}

// ErrReplyUnsupported: the appeal's kind of VK object cannot be answered
// through the API with this package.
var ErrReplyUnsupported = errors.New("vk: cannot reply to this kind of object")

// NewReplier returns a Replier using a.
func NewReplier(a API) (*Replier, error) {
	c, err := newClient(a)
	if err != nil {
		return nil, err
	}
	return &Replier{r: replier{client: c}}, nil
}

// Reply posts text as an answer to the appeal. It is not retried on
// temporary failures, so that one answer is never posted twice: the caller
// decides whether to try again.
func (r *Replier) Reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	return r.r.Reply(ctx, to, text)
}

type replier struct {
	client *client
	now    func() time.Time
}

// Reply is the implementation shared by Replier, Monitor and LongPoll.
func (r replier) Reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	if to.Network != appeal.NetworkVK {
		return appeal.Reply{}, fmt.Errorf("vk: reply to appeal %s: network is %q, not vk", to.ID, to.Network)
	}
	if strings.TrimSpace(text) == "" {
		return appeal.Reply{}, fmt.Errorf("vk: reply to appeal %s: empty text", to.ID)
	}
	ref, err := ParseExternalID(to.ExternalID)
	if err != nil {
		return appeal.Reply{}, err
	}
	at := time.Now().UTC()
	if r.now != nil {
		at = r.now().UTC()
	}
	switch ref.Kind {
	case RefPost, RefComment:
		if ref.OwnerID >= 0 {
			return appeal.Reply{}, fmt.Errorf("vk: reply to appeal %s: %w: answers as a community go on community walls only", to.ID, ErrReplyUnsupported)
		}
		p := api.Params{"owner_id": ref.OwnerID, "post_id": ref.ObjectID, "from_group": -ref.OwnerID, "message": text, "guid": guid(ctx, to.ID, text)}
		if ref.Kind == RefComment {
			p["reply_to_comment"] = ref.ItemID
		}
		var resp api.WallCreateCommentResponse
		if err := r.client.call(ctx, "wall.createComment", p, &resp); err != nil {
			return appeal.Reply{}, fmt.Errorf("vk: reply to appeal %s: %w", to.ID, err)
		}
		post := PostExternalID(ref.OwnerID, ref.ObjectID)
		return appeal.Reply{
			ExternalID: CommentExternalID(ref.OwnerID, ref.ObjectID, resp.CommentID),
			URL:        fmt.Sprintf("https://vk.com/wall%s?reply=%d", post, resp.CommentID),
			Text:       text,
			At:         at,
		}, nil
	case RefMessage:
		var id int
		p := api.Params{"peer_id": ref.ObjectID, "random_id": randomID(ctx), "message": text, "group_id": abs(ref.OwnerID)}
		if err := r.client.call(ctx, "messages.send", p, &id); err != nil {
			return appeal.Reply{}, fmt.Errorf("vk: reply to appeal %s: %w", to.ID, err)
		}
		return appeal.Reply{
			ExternalID: fmt.Sprintf("%d_m%d_id%d", ref.OwnerID, ref.ObjectID, id),
			URL:        fmt.Sprintf("https://vk.com/gim%d?sel=%d", abs(ref.OwnerID), ref.ObjectID),
			Text:       text,
			At:         at,
		}, nil
	case RefBoardComment, RefPhotoComment:
		// Discussion and photo comments are answered on behalf of the
		// community too, but VK allows these methods with a user token of
		// a community admin only: with a community token VK refuses
		// (error 27), which the caller sees as a permanent failure.
		if ref.OwnerID >= 0 {
			return appeal.Reply{}, fmt.Errorf("vk: reply to appeal %s: %w: answers as a community go on community pages only", to.ID, ErrReplyUnsupported)
		}
		method := "board.createComment"
		p := api.Params{"message": text, "from_group": 1, "guid": guid(ctx, to.ID, text)}
		if ref.Kind == RefBoardComment {
			p["group_id"], p["topic_id"] = -ref.OwnerID, ref.ObjectID
		} else {
			method = "photos.createComment"
			p["owner_id"], p["photo_id"], p["reply_to_comment"] = ref.OwnerID, ref.ObjectID, ref.ItemID
		}
		var id int
		if err := r.client.call(ctx, method, p, &id); err != nil {
			return appeal.Reply{}, fmt.Errorf("vk: reply to appeal %s: %w", to.ID, err)
		}
		if ref.Kind == RefBoardComment {
			return appeal.Reply{
				ExternalID: BoardCommentExternalID(ref.OwnerID, ref.ObjectID, id),
				URL:        fmt.Sprintf("https://vk.com/topic%d_%d?post=%d", ref.OwnerID, ref.ObjectID, id),
				Text:       text, At: at,
			}, nil
		}
		return appeal.Reply{
			ExternalID: PhotoCommentExternalID(ref.OwnerID, ref.ObjectID, id),
			URL:        fmt.Sprintf("https://vk.com/photo%d_%d", ref.OwnerID, ref.ObjectID),
			Text:       text, At: at,
		}, nil
	}
	return appeal.Reply{}, fmt.Errorf("vk: reply to appeal %s: %w", to.ID, ErrReplyUnsupported)
}

// guid makes wall.createComment idempotent for the same answer to the same
// appeal, across restarts too: VK drops a second comment with the same guid.
// The caller's idempotency key (source.WithReplyKey) wins when given.
func guid(ctx context.Context, id appeal.ID, text string) string {
	if k := source.ReplyKey(ctx); k != "" {
		return k
	}
	h := sha256.Sum256([]byte(string(id) + "\x00" + text))
	return hex.EncodeToString(h[:16])
}

// randomID is messages.send's random_id: VK drops a repeat with the same id.
// With the caller's idempotency key (source.WithReplyKey) it is derived
// from the key, so a repost after a crash is dropped; else it is random.
func randomID(ctx context.Context) int64 {
	var b [8]byte
	if k := source.ReplyKey(ctx); k != "" {
		h := sha256.Sum256([]byte(k))
		copy(b[:], h[:8])
	} else {
		_, _ = rand.Read(b[:])
	}
	return int64(binary.BigEndian.Uint64(b[:]) >> 2)
}
