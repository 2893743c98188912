package vk

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/SevereCloud/vksdk/v2/events"
	"github.com/SevereCloud/vksdk/v2/object"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// AppealEvents are the Bots Long Poll and Callback API event types that
// carry appeals or their edits (wall_reply_edit, board_post_edit,
// photo_comment_edit go to the Edits sink). Other events are ignored.
var AppealEvents = []events.EventType{
	events.EventWallPostNew,
	events.EventWallReplyNew,
	events.EventWallReplyEdit,
	events.EventMessageNew,
	events.EventBoardPostNew,
	events.EventBoardPostEdit,
	events.EventPhotoCommentNew,
	events.EventPhotoCommentEdit,
}

// mapped is one Bots API event as appealkit sees it.
type mapped struct {
	appeal appeal.Appeal
	// edit marks an edit of a comment: VK sends it under the comment's
	// external id, so it goes to the Edits sink, not the Sink (whose
	// idempotent Put would drop it).
	edit bool
}

// boardPost is board_post_new's object: the SDK's type leaves out the
// topic fields.
type boardPost struct {
	object.BoardTopicComment
	TopicID      int `json:"topic_id"`
	TopicOwnerID int `json:"topic_owner_id"`
}

// event maps one Bots API event. ok is false for events that are not
// appeals (typing, likes, deletions, the community's own outgoing messages
// and its edits of its own answers...). An object that cannot be decoded is
// an error matching source.ErrMalformed.
//
// wall_reply_edit, board_post_edit and photo_comment_edit carry the whole
// comment as it reads after the edit, in the shape of the _new event; they
// are mapped the same way and marked edit.
func (m *mapper) event(ev events.GroupEvent) (mapped, bool, error) {
	a, ok, err := m.eventAppeal(ev)
	if !ok || err != nil {
		return mapped{}, ok, err
	}
	switch ev.Type {
	case events.EventWallReplyEdit, events.EventBoardPostEdit, events.EventPhotoCommentEdit:
		return mapped{appeal: a, edit: true}, true, nil
	}
	return mapped{appeal: a}, true, nil
}

func (m *mapper) eventAppeal(ev events.GroupEvent) (a appeal.Appeal, ok bool, err error) {
	bad := func(err error) (appeal.Appeal, bool, error) {
		return appeal.Appeal{}, false, fmt.Errorf("vk: event %s (%s) of community %d: %w: %v", ev.Type, ev.EventID, ev.GroupID, source.ErrMalformed, err)
	}
	switch ev.Type {
	case events.EventWallPostNew:
		var p object.WallWallpost
		if err := json.Unmarshal(ev.Object, &p); err != nil {
			return bad(err)
		}
		if p.PostType == "postpone" {
			// The community's own scheduled draft. Suggested posts
			// ("suggest") are citizens' and do count.
			return appeal.Appeal{}, false, nil
		}
		if p.ID == 0 || p.OwnerID == 0 {
			return bad(fmt.Errorf("post without id or owner_id"))
		}
		return m.post(p), true, nil
	case events.EventWallReplyNew, events.EventWallReplyEdit:
		var c object.WallWallComment
		if err := json.Unmarshal(ev.Object, &c); err != nil {
			return bad(err)
		}
		owner := c.PostOwnerID
		if owner == 0 {
			owner = c.OwnerID
		}
		if c.ID == 0 || c.PostID == 0 || owner == 0 {
			return bad(fmt.Errorf("comment without id, post_id or owner"))
		}
		if c.FromID == -ev.GroupID {
			return appeal.Appeal{}, false, nil // the community's own answer
		}
		return m.comment(owner, c.PostID, c), true, nil
	case events.EventMessageNew:
		var obj events.MessageNewObject
		if err := json.Unmarshal(ev.Object, &obj); err != nil {
			return bad(err)
		}
		msg := obj.Message
		if msg.PeerID == 0 || msg.ConversationMessageID == 0 {
			return bad(fmt.Errorf("message without peer_id or conversation_message_id (is the community's API version 5.103 or later?)"))
		}
		if bool(msg.Out) || msg.FromID < 0 {
			return appeal.Appeal{}, false, nil
		}
		return m.message(ev.GroupID, msg), true, nil
	case events.EventBoardPostNew, events.EventBoardPostEdit:
		var b boardPost
		if err := json.Unmarshal(ev.Object, &b); err != nil {
			return bad(err)
		}
		if b.ID == 0 || b.TopicID == 0 {
			return bad(fmt.Errorf("board post without id or topic_id"))
		}
		owner := b.TopicOwnerID
		if owner == 0 {
			owner = -ev.GroupID
		}
		if b.FromID == -ev.GroupID {
			return appeal.Appeal{}, false, nil
		}
		return m.boardComment(owner, b.TopicID, b.BoardTopicComment), true, nil
	case events.EventPhotoCommentNew, events.EventPhotoCommentEdit:
		var c object.WallWallComment
		if err := json.Unmarshal(ev.Object, &c); err != nil {
			return bad(err)
		}
		if c.ID == 0 || c.PhotoID == 0 {
			return bad(fmt.Errorf("photo comment without id or photo_id"))
		}
		owner := c.PhotoOwnerID
		if owner == 0 {
			owner = -ev.GroupID
		}
		if c.FromID == -ev.GroupID {
			return appeal.Appeal{}, false, nil
		}
		return m.photoComment(owner, c.PhotoID, c), true, nil
	}
	return appeal.Appeal{}, false, nil
}

// deliverEdit hands an edited comment to edits. VK does not say when a
// comment was edited, so EditedAt is when the event arrived. A nil edits
// skips the edit.
func deliverEdit(ctx context.Context, edits source.EditSink, a appeal.Appeal, log *slog.Logger) error {
	if edits == nil {
		log.LogAttrs(ctx, slog.LevelDebug, "vk: edit skipped (no Edits sink)", slog.String("id", string(a.RedactedID())))
		return nil
	}
	if err := edits(ctx, source.Edit{Appeal: a, EditedAt: a.ReceivedAt}); err != nil {
		return fmt.Errorf("edit of %s not accepted: %w", a.RedactedID(), err)
	}
	return nil
}
