package source

import (
	"log/slog"
	"strconv"

	"github.com/appealkit/appealkit/appeal"
)

// Personal data (152-ФЗ): names, profile links, user ids and phone numbers
// must not reach logs in clear. The helpers here are what adapters log with;
// they redact by default and reveal only when the caller explicitly asks.

// Redaction itself lives in package appeal (appeal.RedactText,
// appeal.Pseudonym, appeal.Appeal.Redacted); these are the log attributes
// adapters write with it.

// pseudonym is appeal.Pseudonym with the random per-process key: the same
// within this process, so log lines about one author or dialog can be
// correlated, and never reversible.
func pseudonym(v string) string { return appeal.Pseudonym(nil, v) }

// redactAuthor replaces a with its pseudonym (of the id, or of the name when
// there is no id); the name and profile link are dropped.
func redactAuthor(a appeal.Author) appeal.Author {
	key := a.ID
	if key == "" {
		key = a.Name
	}
	if key == "" {
		key = a.ProfileURL
	}
	return appeal.Author{ID: pseudonym(key)}
}

// AppealAttr is the one way adapters log an appeal: a group with its id,
// network, kind, community, the author's Pseudonym and the text's length —
// never the text or the author in clear.
//
// Private messages are the exception for the id: their ids often embed the
// dialog's peer, which is the sender's user id (VK's "-1_m<peer>_<n>",
// Telegram's "<user id>_<n>"), so a message's id is logged as the
// Pseudonym of its external id ("vk:anon-…", as in appeal.Appeal.RedactedID).
func AppealAttr(key string, a appeal.Appeal) slog.Attr {
	id := string(a.RedactedID())
	if a.Kind == appeal.KindMessage && !a.EmbedsUserID() {
		// In logs every private message's id is a pseudonym, whatever the
		// network: a dialog's id may name its peer where we do not know it.
		ext := a.ExternalID
		if ext == "" {
			_, ext, _ = a.ID.Split()
		}
		id = string(appeal.NewID(a.Network, pseudonym(ext)))
	}
	attrs := []slog.Attr{
		slog.String("id", id),
		slog.String("network", string(a.Network)),
		slog.String("kind", string(a.Kind)),
	}
	if a.ID == "" && a.Kind != appeal.KindMessage {
		attrs[0] = slog.String("external_id", a.ExternalID)
	}
	if a.Community.ID != "" {
		attrs = append(attrs, slog.String("community", a.Community.ID))
	}
	if au := redactAuthor(a.Author); au.ID != "" {
		attrs = append(attrs, slog.String("author", au.ID))
	}
	attrs = append(attrs, slog.Int("text_len", len([]rune(a.Text))))
	return slog.Attr{Key: key, Value: slog.GroupValue(attrs...)}
}

// AuthorAttr logs an author as its pseudonym.
func AuthorAttr(key string, a appeal.Author) slog.Attr {
	return slog.String(key, redactAuthor(a).ID)
}

// UserIDAttr logs a network's numeric user id as its pseudonym.
func UserIDAttr(key string, id int64) slog.Attr {
	return slog.String(key, pseudonym(strconv.FormatInt(id, 10)))
}

// Logger returns l, or slog.Default() when l is nil, so that adapters can
// log unconditionally and their warnings (a skipped community, a backoff)
// reach the operator unless told otherwise.
func Logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}
