package vk

import (
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/SevereCloud/vksdk/v2/object"

	"github.com/appealkit/appealkit/appeal"
)

// RefKind says what an external id points at.
type RefKind int

// Kinds of VK objects an appeal can come from.
const (
	RefPost         RefKind = iota + 1 // "-123_456"
	RefComment                         // "-123_456_c789"
	RefBoardComment                    // "-123_t45_c678"
	RefPhotoComment                    // "-123_p45_c678"
	RefMessage                         // "-123_m222_4392"
)

// Ref is a parsed external id.
type Ref struct {
	Kind    RefKind
	OwnerID int // wall, topic or photo owner; the community (negative) for messages
	// ObjectID is the post, board topic or photo id; the peer id for
	// messages.
	ObjectID int
	// ItemID is the comment id, or the conversation_message_id of a
	// message; 0 for posts.
	ItemID int
}

// PostExternalID is the external id of wall post postID on ownerID's wall.
func PostExternalID(ownerID, postID int) string { return fmt.Sprintf("%d_%d", ownerID, postID) }

// CommentExternalID is the external id of a comment (or reply) under a post.
func CommentExternalID(ownerID, postID, commentID int) string {
	return fmt.Sprintf("%d_%d_c%d", ownerID, postID, commentID)
}

// BoardCommentExternalID is the external id of a comment in a board topic.
func BoardCommentExternalID(ownerID, topicID, commentID int) string {
	return fmt.Sprintf("%d_t%d_c%d", ownerID, topicID, commentID)
}

// PhotoCommentExternalID is the external id of a comment under a photo.
func PhotoCommentExternalID(ownerID, photoID, commentID int) string {
	return fmt.Sprintf("%d_p%d_c%d", ownerID, photoID, commentID)
}

// MessageExternalID is the external id of a private message to community
// groupID (positive) from peer peerID.
func MessageExternalID(groupID, peerID, conversationMessageID int) string {
	return fmt.Sprintf("-%d_m%d_%d", abs(groupID), peerID, conversationMessageID)
}

// ParseExternalID reads an external id made by this package.
func ParseExternalID(id string) (Ref, error) {
	bad := func(why string) (Ref, error) {
		return Ref{}, fmt.Errorf("vk: external id %q: %s", id, why)
	}
	parts := strings.Split(id, "_")
	if len(parts) < 2 || len(parts) > 3 {
		return bad("want owner_post, owner_post_cN, owner_tN_cN, owner_pN_cN or -group_mPEER_N")
	}
	owner, err := strconv.Atoi(parts[0])
	if err != nil || owner == 0 {
		return bad("owner is not a non-zero number")
	}
	num := func(s, prefix string) (int, bool) {
		if !strings.HasPrefix(s, prefix) {
			return 0, false
		}
		n, err := strconv.Atoi(s[len(prefix):])
		return n, err == nil && n != 0
	}
	r := Ref{OwnerID: owner}
	if len(parts) == 2 {
		n, ok := num(parts[1], "")
		if !ok || n < 0 {
			return bad("post id is not a positive number")
		}
		r.Kind, r.ObjectID = RefPost, n
		return r, nil
	}
	switch p := parts[1]; {
	case strings.HasPrefix(p, "t"):
		r.Kind = RefBoardComment
		r.ObjectID, _ = num(p, "t")
	case strings.HasPrefix(p, "p"):
		r.Kind = RefPhotoComment
		r.ObjectID, _ = num(p, "p")
	case strings.HasPrefix(p, "m"):
		r.Kind = RefMessage
		r.ObjectID, _ = num(p, "m")
	default:
		r.Kind = RefComment
		r.ObjectID, _ = num(p, "")
	}
	if r.ObjectID == 0 {
		return bad("second part is not a number with an optional t, p or m prefix")
	}
	var ok bool
	if r.Kind == RefMessage {
		r.ItemID, ok = num(parts[2], "")
	} else {
		r.ItemID, ok = num(parts[2], "c")
	}
	if !ok || r.ItemID < 0 {
		return bad("last part is not a positive id")
	}
	return r, nil
}

// Community is one community to monitor, or whose events to receive.
type Community struct {
	// ID is the community id ("123"; "-123", "club123" and "public123" are
	// accepted too) or its screen name ("mosreg"), resolved at start. An
	// official's personal page is "id" and the user id ("id1234", as in
	// its address vk.com/id1234): the Monitor reads it like a community's
	// wall (a positive owner id).
	ID string
	// Official marks a госпаблик (the page of an agency, school,
	// administration); copied to appeal.Community.Official. The Monitor
	// also sets it for communities VK marks as verified (the госметка) and
	// for personal pages, which are monitored because they are officials'.
	Official bool
	// Name is filled from VK when empty.
	Name string
}

// ParseCommunities splits a comma-separated list such as
// "123,club456,mosreg,id1234" into communities. A trailing "!" marks an
// official one ("mosreg!"); communities VK marks as verified and officials'
// personal pages ("id1234") are official without it.
func ParseCommunities(list string) []Community {
	var out []Community
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		c := Community{ID: f}
		if strings.HasSuffix(f, "!") {
			c.ID, c.Official = strings.TrimSuffix(f, "!"), true
		}
		out = append(out, c)
	}
	return out
}

// numericGroupID returns the positive group id in "123", "-123", "club123",
// "public123", "event123", or 0 when s is a screen name.
func numericGroupID(s string) int {
	for _, p := range []string{"club", "public", "event", "-"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			s = rest
			break
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// mapper turns VK objects into appeals.
type mapper struct {
	// communities by positive group id.
	communities map[int]Community
	now         func() time.Time
}

func (m *mapper) community(ownerID int) appeal.Community {
	c := m.communities[-ownerID] // personal pages are kept under minus the user id
	return appeal.Community{ID: strconv.Itoa(ownerID), Name: c.Name, Official: c.Official}
}

func author(fromID int) appeal.Author {
	switch {
	case fromID > 0:
		return appeal.Author{ID: strconv.Itoa(fromID), ProfileURL: fmt.Sprintf("https://vk.com/id%d", fromID)}
	case fromID < 0:
		return appeal.Author{ID: strconv.Itoa(fromID), ProfileURL: fmt.Sprintf("https://vk.com/club%d", -fromID)}
	}
	return appeal.Author{}
}

func (m *mapper) base(kind appeal.Kind, ext string, date int, fromID int, text string) appeal.Appeal {
	a := appeal.Appeal{
		ID:         appeal.NewID(appeal.NetworkVK, ext),
		Network:    appeal.NetworkVK,
		Kind:       kind,
		ExternalID: ext,
		Text:       plainText(text),
		Author:     author(fromID),
		Status:     appeal.StatusNew,
	}
	if date != 0 {
		// A negative date is kept, so that checks can refuse it.
		a.CreatedAt = time.Unix(int64(date), 0).UTC()
	}
	if m.now != nil {
		a.ReceivedAt = m.now().UTC()
	} else {
		a.ReceivedAt = time.Now().UTC()
	}
	return a
}

// post maps a wall post. A repost (copy_history: what it reposts, then
// what that reposted, down to the original) with no text of its own takes
// the text of the nearest post in the chain that has one, which is what a
// citizen meant to raise; it keeps its own geo or else the chain's, and the
// attachments of the whole chain (the photo of the pothole is usually on
// the original).
func (m *mapper) post(p object.WallWallpost) appeal.Appeal {
	ext := PostExternalID(p.OwnerID, p.ID)
	text := p.Text
	for _, orig := range p.CopyHistory {
		if strings.TrimSpace(text) != "" {
			break
		}
		text = orig.Text
	}
	from := p.FromID
	if p.SignerID != 0 {
		from = p.SignerID // a suggested post published by the community, signed by its author
	}
	a := m.base(appeal.KindPost, ext, p.Date, from, text)
	a.URL = "https://vk.com/wall" + ext
	a.Community = m.community(p.OwnerID)
	a.Geo = parseGeo(p.Geo.Coordinates)
	for _, at := range p.Attachments {
		a.Attachments = append(a.Attachments, postAttachment(at))
	}
	for _, orig := range p.CopyHistory {
		if a.Geo == nil {
			a.Geo = parseGeo(orig.Geo.Coordinates)
		}
		for _, at := range orig.Attachments {
			a.Attachments = append(a.Attachments, postAttachment(at))
		}
	}
	return a
}

// brRE matches the line breaks VK leaves as HTML in some texts.
var brRE = regexp.MustCompile(`(?i)<br\s*/?>`)

// plainText turns a VK text into plain text. VK escapes HTML in texts
// (&quot;, &amp;, &lt;, &#33;) and writes some line breaks as <br> (board
// comments, older posts, Callback API events); left as they are, they
// reach operators and the classifier as "&quot;Яма&quot;".
func plainText(s string) string {
	if !strings.ContainsAny(s, "&<") {
		return s
	}
	return html.UnescapeString(brRE.ReplaceAllString(s, "\n"))
}

// comment maps a wall comment or a reply inside a comment thread.
func (m *mapper) comment(ownerID, postID int, c object.WallWallComment) appeal.Appeal {
	ext := CommentExternalID(ownerID, postID, c.ID)
	root := PostExternalID(ownerID, postID)
	parent := parentComment(c)
	kind := appeal.KindComment
	a := m.base(kind, ext, c.Date, c.FromID, c.Text)
	a.URL = fmt.Sprintf("https://vk.com/wall%s?reply=%d", root, c.ID)
	a.Thread = appeal.Thread{ParentID: root, RootID: root}
	if parent != 0 {
		a.Kind = appeal.KindReply
		a.Thread.ParentID = CommentExternalID(ownerID, postID, parent)
		a.URL += fmt.Sprintf("&thread=%d", threadTop(c))
	}
	a.Community = m.community(ownerID)
	for _, at := range c.Attachments {
		a.Attachments = append(a.Attachments, commentAttachment(at))
	}
	return a
}

// parentComment is the comment c answers, or 0 for a top-level comment.
func parentComment(c object.WallWallComment) int {
	if c.ReplyToComment != 0 {
		return c.ReplyToComment
	}
	if n := len(c.ParentsStack); n > 0 {
		return c.ParentsStack[n-1]
	}
	return 0
}

// threadTop is the top-level comment of c's thread.
func threadTop(c object.WallWallComment) int {
	if len(c.ParentsStack) > 0 {
		return c.ParentsStack[0]
	}
	return c.ReplyToComment
}

func (m *mapper) boardComment(ownerID, topicID int, c object.BoardTopicComment) appeal.Appeal {
	ext := BoardCommentExternalID(ownerID, topicID, c.ID)
	a := m.base(appeal.KindComment, ext, c.Date, c.FromID, c.Text)
	topic := fmt.Sprintf("%d_t%d", ownerID, topicID)
	a.URL = fmt.Sprintf("https://vk.com/topic%d_%d?post=%d", ownerID, topicID, c.ID)
	a.Thread = appeal.Thread{ParentID: topic, RootID: topic}
	a.Community = m.community(ownerID)
	for _, at := range c.Attachments {
		a.Attachments = append(a.Attachments, commentAttachment(at))
	}
	return a
}

func (m *mapper) photoComment(ownerID, photoID int, c object.WallWallComment) appeal.Appeal {
	ext := PhotoCommentExternalID(ownerID, photoID, c.ID)
	a := m.base(appeal.KindComment, ext, c.Date, c.FromID, c.Text)
	photo := fmt.Sprintf("%d_p%d", ownerID, photoID)
	a.URL = fmt.Sprintf("https://vk.com/photo%d_%d", ownerID, photoID)
	a.Thread = appeal.Thread{ParentID: photo, RootID: photo}
	if p := parentComment(c); p != 0 {
		a.Kind = appeal.KindReply
		a.Thread.ParentID = PhotoCommentExternalID(ownerID, photoID, p)
	}
	a.Community = m.community(ownerID)
	return a
}

func (m *mapper) message(groupID int, msg object.MessagesMessage) appeal.Appeal {
	ext := MessageExternalID(groupID, msg.PeerID, msg.ConversationMessageID)
	a := m.base(appeal.KindMessage, ext, msg.Date, msg.FromID, msg.Text)
	a.URL = fmt.Sprintf("https://vk.com/gim%d?sel=%d", abs(groupID), msg.PeerID)
	a.Community = m.community(-abs(groupID))
	if c := msg.Geo.Coordinates; c.Latitude != 0 || c.Longitude != 0 {
		a.Geo = &appeal.GeoPoint{Lat: c.Latitude, Lon: c.Longitude}
	}
	// A citizen often sends the community a post or comment to look at,
	// with little or no text of their own: its text is what the appeal is
	// about, so it joins the message's.
	var shared []string
	for _, at := range msg.Attachments {
		out := appeal.Attachment{Type: at.Type}
		switch at.Type {
		case "wall":
			if w := at.Wall; w.ID != 0 {
				out.URL = "https://vk.com/wall" + PostExternalID(w.OwnerID, w.ID)
				shared = append(shared, w.Text)
			}
		case "wall_reply":
			if c := at.WallReply; c.ID != 0 && c.PostID != 0 {
				out.URL = fmt.Sprintf("https://vk.com/wall%s?reply=%d", PostExternalID(c.OwnerID, c.PostID), c.ID)
				shared = append(shared, c.Text)
			}
		case "photo":
			out.URL = at.Photo.MaxSize().URL
		case "doc":
			out.URL = at.Doc.URL
		case "link":
			out.URL = at.Link.URL
		}
		a.Attachments = append(a.Attachments, out)
	}
	for _, t := range shared {
		if t = strings.TrimSpace(plainText(t)); t != "" {
			if a.Text != "" {
				a.Text += "\n\n"
			}
			a.Text += t
		}
	}
	return a
}

// parseGeo reads VK's "lat lon" coordinates string.
func parseGeo(s string) *appeal.GeoPoint {
	f := strings.Fields(s)
	if len(f) != 2 {
		return nil
	}
	lat, err1 := strconv.ParseFloat(f[0], 64)
	lon, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil {
		return nil
	}
	return &appeal.GeoPoint{Lat: lat, Lon: lon}
}

func postAttachment(at object.WallWallpostAttachment) appeal.Attachment {
	out := appeal.Attachment{Type: at.Type}
	switch at.Type {
	case "photo":
		out.URL = at.Photo.MaxSize().URL
	case "link":
		out.URL = at.Link.URL
	case "doc":
		out.URL = at.Doc.URL
	case "video":
		if at.Video.ID != 0 {
			out.URL = fmt.Sprintf("https://vk.com/video%d_%d", at.Video.OwnerID, at.Video.ID)
		}
	}
	return out
}

func commentAttachment(at object.WallCommentAttachment) appeal.Attachment {
	out := appeal.Attachment{Type: at.Type}
	switch at.Type {
	case "photo":
		out.URL = at.Photo.MaxSize().URL
	case "link":
		out.URL = at.Link.URL
	case "doc":
		out.URL = at.Doc.URL
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
