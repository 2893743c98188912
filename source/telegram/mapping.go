package telegram

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// event is what one update means for the pipeline.
type event struct {
	appeal   appeal.Appeal
	edit     bool
	editedAt time.Time
}

// mapper turns updates into appeals. It remembers which discussion-group
// thread mirrors which channel post, so that replies deep in a thread still
// name the post they are about. Safe for concurrent use.
type mapper struct {
	bot      appeal.Community // community of private messages
	official map[int64]bool
	chats    map[int64]bool // monitored channels and groups; empty = all
	now      func() time.Time

	mu      sync.Mutex
	threads map[threadKey]channelPost
	order   []threadKey // insertion order, for eviction
}

type threadKey struct{ group, msg int64 }

type channelPost struct {
	channel chat
	post    int64
}

const maxThreads = 20000

func newMapper(bot appeal.Community, official []int64, now func() time.Time) *mapper {
	m := &mapper{bot: bot, official: map[int64]bool{}, now: now, threads: map[threadKey]channelPost{}}
	for _, id := range official {
		m.official[id] = true
	}
	return m
}

// watch limits monitoring to the given channels and groups.
func (m *mapper) watch(chats []int64) {
	m.chats = map[int64]bool{}
	for _, id := range chats {
		m.chats[id] = true
	}
}

func (m *mapper) setBot(c appeal.Community) {
	m.mu.Lock()
	m.bot = c
	m.mu.Unlock()
}

func (m *mapper) botCommunity() appeal.Community {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bot
}

func (m *mapper) remember(k threadKey, p channelPost) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.threads[k]; ok {
		return
	}
	m.threads[k] = p
	m.order = append(m.order, k)
	if len(m.order) > maxThreads {
		delete(m.threads, m.order[0])
		m.order = m.order[1:]
	}
}

func (m *mapper) lookup(k threadKey) (channelPost, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.threads[k]
	return p, ok
}

func extID(chatID, msgID int64) string {
	return strconv.FormatInt(chatID, 10) + "_" + strconv.FormatInt(msgID, 10)
}

// parseExtID splits an external id made by extID.
func parseExtID(s string) (chatID, msgID int64, ok bool) {
	c, mid, found := strings.Cut(s, "_")
	if !found {
		return 0, 0, false
	}
	chatID, err1 := strconv.ParseInt(c, 10, 64)
	msgID, err2 := strconv.ParseInt(mid, 10, 64)
	return chatID, msgID, err1 == nil && err2 == nil && msgID > 0
}

func (m *mapper) community(c *chat) appeal.Community {
	name := c.Title
	if name == "" {
		name = c.Username
	}
	return appeal.Community{ID: strconv.FormatInt(c.ID, 10), Name: name, Official: m.official[c.ID]}
}

func author(u *user) appeal.Author {
	a := appeal.Author{ID: strconv.FormatInt(u.ID, 10), Name: strings.TrimSpace(u.FirstName + " " + u.LastName)}
	if u.Username != "" {
		a.ProfileURL = "https://t.me/" + u.Username
	}
	return a
}

// mapUpdate returns the event an update carries, or ok == false and the
// reason it is not an appeal (a service message, a bot, an admin posting
// as the chat, the mirror of a channel post).
func (m *mapper) mapUpdate(u *update) (ev event, ok bool, why string) {
	var msg *message
	switch {
	case u.Message != nil:
		msg = u.Message
	case u.ChannelPost != nil:
		msg = u.ChannelPost
	case u.EditedMessage != nil:
		msg, ev.edit = u.EditedMessage, true
	case u.EditedChannelPost != nil:
		msg, ev.edit = u.EditedChannelPost, true
	default:
		return ev, false, "update type not monitored"
	}
	if ev.edit && msg.EditDate > 0 {
		ev.editedAt = time.Unix(msg.EditDate, 0).UTC()
	}
	a, ok, why := m.mapMessage(msg)
	ev.appeal = a
	return ev, ok, why
}

func (m *mapper) mapMessage(msg *message) (appeal.Appeal, bool, string) {
	text := msg.Text
	if text == "" {
		text = msg.Caption
	}
	a := appeal.Appeal{
		Network:    appeal.NetworkTelegram,
		ExternalID: extID(msg.Chat.ID, msg.MessageID),
		Text:       text,
		ReceivedAt: m.now(),
	}
	if msg.MessageID <= 0 {
		return a, false, "message without message_id"
	}
	if msg.Date > 0 {
		a.CreatedAt = time.Unix(msg.Date, 0).UTC()
	}
	if msg.Location != nil {
		a.Geo = &appeal.GeoPoint{Lat: msg.Location.Latitude, Lon: msg.Location.Longitude}
	}
	a.Attachments = attachments(msg)

	if msg.Chat.Type != "private" && len(m.chats) > 0 && !m.chats[msg.Chat.ID] {
		return a, false, "chat is not in Config.Chats"
	}
	switch msg.Chat.Type {
	case "channel":
		a.Kind = appeal.KindPost
		a.Community = m.community(&msg.Chat)
		if msg.AuthorSignature != "" {
			a.Author = appeal.Author{Name: msg.AuthorSignature}
		}
		if msg.Chat.Username != "" {
			a.URL = "https://t.me/" + msg.Chat.Username + "/" + strconv.FormatInt(msg.MessageID, 10)
		}
	case "private":
		if msg.From == nil || msg.From.IsBot {
			return a, false, "message from a bot"
		}
		a.Kind = appeal.KindMessage
		a.Community = m.botCommunity()
		a.Author = author(msg.From)
	case "group", "supergroup":
		if msg.IsAutomaticForward {
			if ch, post := msg.channelOrigin(); ch != nil && post > 0 {
				m.remember(threadKey{msg.Chat.ID, msg.MessageID}, channelPost{*ch, post})
			}
			return a, false, "automatic forward of a channel post into its discussion group"
		}
		if msg.SenderChat != nil {
			return a, false, "posted on behalf of a chat or channel (an administrator), not by a citizen"
		}
		if msg.From == nil || msg.From.IsBot {
			return a, false, "message from a bot"
		}
		a.Author = author(msg.From)
		m.placeInGroup(&a, msg)
	default:
		return a, false, "chat type " + strconv.Quote(msg.Chat.Type) + " not monitored"
	}
	if strings.TrimSpace(a.Text) == "" {
		return a, false, "no text or caption"
	}
	return a, true, ""
}

// placeInGroup sets kind, thread, community and URL of a group message: a
// comment under a channel post (its reply_to_message is the automatic
// forward), a reply deeper in that thread, a reply in a plain group, or a
// plain group message.
func (m *mapper) placeInGroup(a *appeal.Appeal, msg *message) {
	group := msg.Chat
	a.Kind = appeal.KindPost
	a.Community = m.community(&group)
	if group.Username != "" {
		a.URL = "https://t.me/" + group.Username + "/" + strconv.FormatInt(msg.MessageID, 10)
	}
	reply := msg.ReplyToMessage

	var root *channelPost
	if reply != nil && reply.IsAutomaticForward {
		if ch, post := reply.channelOrigin(); ch != nil && post > 0 {
			p := channelPost{*ch, post}
			m.remember(threadKey{group.ID, reply.MessageID}, p)
			root = &p
		}
	}
	threadRoot := msg.MessageThreadID
	if root == nil && threadRoot != 0 {
		if p, ok := m.lookup(threadKey{group.ID, threadRoot}); ok {
			root = &p
		}
	}

	switch {
	case root == nil && reply != nil && reply.IsAutomaticForward:
		// A comment under a channel post whose mirror does not say which
		// post it is (older Bot API servers send only sender_chat): it is
		// still about the channel, threaded on the mirror.
		mirror := extID(group.ID, reply.MessageID)
		a.Kind = appeal.KindComment
		a.Thread.ParentID, a.Thread.RootID = mirror, mirror
		if ch, _ := reply.channelOrigin(); ch != nil {
			a.Community = m.community(ch)
		}
	case root != nil:
		rootID := extID(root.channel.ID, root.post)
		a.Community = m.community(&root.channel)
		a.Thread.RootID = rootID
		if reply != nil && reply.IsAutomaticForward {
			a.Kind = appeal.KindComment
			a.Thread.ParentID = rootID
		} else {
			a.Kind = appeal.KindReply
			a.Thread.ParentID = rootID
			if reply != nil {
				a.Thread.ParentID = extID(group.ID, reply.MessageID)
			}
		}
		if root.channel.Username != "" {
			a.URL = "https://t.me/" + root.channel.Username + "/" + strconv.FormatInt(root.post, 10) +
				"?comment=" + strconv.FormatInt(msg.MessageID, 10)
		}
	case reply != nil:
		a.Kind = appeal.KindReply
		a.Thread.ParentID = extID(group.ID, reply.MessageID)
		if threadRoot != 0 {
			a.Thread.RootID = extID(group.ID, threadRoot)
		}
	}
}

func attachments(msg *message) []appeal.Attachment {
	var out []appeal.Attachment
	if len(msg.Photo) > 0 {
		out = append(out, appeal.Attachment{Type: "photo"})
	}
	if msg.Video != nil {
		out = append(out, appeal.Attachment{Type: "video"})
	}
	if msg.Document != nil {
		out = append(out, appeal.Attachment{Type: "doc"})
	}
	if msg.Voice != nil {
		out = append(out, appeal.Attachment{Type: "audio"})
	}
	return out
}
