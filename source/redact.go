package source

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"regexp"
	"strconv"

	"github.com/appealkit/appealkit/appeal"
)

// Personal data (152-ФЗ): names, profile links, user ids and phone numbers
// must not reach logs in clear. The helpers here are what adapters log with;
// they redact by default and reveal only when the caller explicitly asks.

var (
	// Phone numbers as people write them in Russia: +7 912 345-67-89,
	// 8 (912) 345 67 89, 89123456789, +79123456789, and seven-digit city
	// numbers 345-67-89. Digits may be separated by spaces, dashes, dots or
	// brackets.
	phoneRe = regexp.MustCompile(`(?:\+7|\b8)[\s\-.(]*\d{3}[\s\-.)]*\d{3}[\s\-.]*\d{2}[\s\-.]*\d{2}\b|\b\d{3}[\-.]\d{2}[\-.]\d{2}\b`)
	emailRe = regexp.MustCompile(`[\p{L}\d._%+\-]+@[\p{L}\d.\-]+\.\p{L}{2,}`)
)

// RedactText masks phone numbers and e-mail addresses in s, replacing each
// with "[phone]" or "[email]". The rest of the text, which classification
// needs, stays as it is.
func RedactText(s string) string {
	s = emailRe.ReplaceAllString(s, "[email]")
	return phoneRe.ReplaceAllString(s, "[phone]")
}

// Pseudonym maps a personal identifier to a stable token ("anon-" and 16 hex
// digits) so that redacted output can still tell authors apart and count
// them. The empty string stays empty.
func Pseudonym(v string) string {
	if v == "" {
		return ""
	}
	h := sha256.Sum256([]byte("appealkit/author\x00" + v))
	return "anon-" + hex.EncodeToString(h[:8])
}

// RedactAuthor replaces every field of a with a pseudonym of its id (or of
// its name when the id is empty); the name and profile link are dropped.
func RedactAuthor(a appeal.Author) appeal.Author {
	key := a.ID
	if key == "" {
		key = a.Name
	}
	if key == "" {
		key = a.ProfileURL
	}
	return appeal.Author{ID: Pseudonym(key)}
}

// RedactAppeal returns a copy of a fit for logs and console output: the author
// pseudonymised and phone numbers and e-mails masked in the text. The ID,
// network, community and thread stay, so the appeal can still be found.
func RedactAppeal(a appeal.Appeal) appeal.Appeal {
	c := a.Clone()
	c.Author = RedactAuthor(a.Author)
	c.Text = RedactText(a.Text)
	for i := range c.Replies {
		c.Replies[i].Text = RedactText(c.Replies[i].Text)
	}
	return c
}

// AppealAttr is the one way adapters log an appeal: a group with its id,
// network, kind, community, the author's pseudonym and the text's length —
// never the text or the author in clear.
//
// Private messages are the exception for the id: their ids often embed the
// dialog's peer, which is the sender's user id (VK's "-1_m<peer>_<n>"), so
// a message's id is logged as a pseudonym too.
func AppealAttr(key string, a appeal.Appeal) slog.Attr {
	id := string(a.ID)
	if a.Kind == appeal.KindMessage {
		id = Pseudonym(id)
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
	if au := RedactAuthor(a.Author); au.ID != "" {
		attrs = append(attrs, slog.String("author", au.ID))
	}
	attrs = append(attrs, slog.Int("text_len", len([]rune(a.Text))))
	return slog.Attr{Key: key, Value: slog.GroupValue(attrs...)}
}

// AuthorAttr logs an author as its pseudonym.
func AuthorAttr(key string, a appeal.Author) slog.Attr {
	return slog.String(key, RedactAuthor(a).ID)
}

// UserIDAttr logs a network's numeric user id as its pseudonym.
func UserIDAttr(key string, id int64) slog.Attr {
	return slog.String(key, Pseudonym(strconv.FormatInt(id, 10)))
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
