package appeal

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"regexp"
	"sync"
)

// Personal data under 152-ФЗ: an appeal's author, any phone number or e-mail
// in its text, and the id of a private message (Telegram's chat id and VK's
// peer id in it are the sender's user id). The library never logs them in
// clear: Author and Appeal implement slog.LogValuer with redacted values, and
// Redacted gives a copy fit to leave the library (exports, logs, analytics).
//
// Pseudonyms are keyed: HMAC-SHA256 of the identifier under a secret key.
// VK and Telegram user ids are small integers, so a bare or salted-but-known
// hash of one is reversed by hashing every id (about 0.1 ms for a VK id);
// without the key that search is useless. With no key configured the
// library uses a random key made once per process: pseudonyms then match
// within one run (log lines about one author can be correlated) but differ
// between runs and machines. A deployment that needs pseudonyms stable across
// runs (exports counted month after month) sets RedactOptions.Key from its
// own secret store.

// RedactOptions tunes Appeal.RedactedWith.
type RedactOptions struct {
	// Key is the deployment's secret that keys every pseudonym (HMAC-SHA256);
	// 32 random bytes are plenty. With the same key the same author gets the
	// same pseudonym, so distinct authors can still be counted across
	// exports. Keep it out of the exported data: whoever holds it can test
	// guesses. Empty means the random per-process key.
	Key []byte
	// KeepText leaves the text as it is (phones and e-mails included).
	KeepText bool
}

// processKey is the random key of this process, made on first use; it
// never changes afterwards and never leaves the process.
var processKey = sync.OnceValue(func() []byte {
	k := make([]byte, 32)
	rand.Read(k) // never fails: since Go 1.24 it crashes the program instead
	return k
})

// Pseudonym maps a personal identifier to a token ("anon-" and 16 hex
// digits of HMAC-SHA256(key, v)) that is the same for the same key and
// input and cannot be reversed without the key. An empty key means the
// random per-process key. The empty string stays empty.
func Pseudonym(key []byte, v string) string {
	if v == "" {
		return ""
	}
	if len(key) == 0 {
		key = processKey()
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(v))
	return "anon-" + hex.EncodeToString(m.Sum(nil)[:8])
}

// EmbedsUserID reports whether the appeal's ids (ID, ExternalID, thread
// ids, URL) contain the sender's user id: true for private messages on VK
// (the dialog's peer_id is the user's id) and Telegram (a private chat's id
// is the user's id). Other networks' message ids (a web form's own ids,
// MAX's dialog chat ids) name no person.
func (a Appeal) EmbedsUserID() bool {
	return a.Kind == KindMessage && (a.Network == NetworkVK || a.Network == NetworkTelegram)
}

// Redacted is the ID to print where only the ID is known (an error text, a
// log line). VK and Telegram ids whose external part starts with a
// positive number are shown as the network and the per-process Pseudonym
// of the external id: a private dialog's peer or chat id is the user's id,
// while communities, groups and channels have negative ids. It errs on the
// side of hiding (a VK group chat's id is hidden too); other ids are shown
// as they are. With the appeal at hand, Appeal.RedactedID is exact, and
// agrees with this for a private message.
func (id ID) Redacted() ID {
	n, ext, ok := id.Split()
	if !ok || n != NetworkVK && n != NetworkTelegram || ext[0] < '0' || ext[0] > '9' {
		return id
	}
	return NewID(n, Pseudonym(nil, ext))
}

// RedactedID is the ID to log or export: the ID itself, or for an appeal
// whose ids embed a user id (see EmbedsUserID) the network and the
// per-process Pseudonym of the external id.
func (a Appeal) RedactedID() ID { return a.redactedID(nil) }

func (a Appeal) redactedID(key []byte) ID {
	if !a.EmbedsUserID() {
		if a.ID == "" && a.ExternalID != "" {
			return NewID(a.Network, a.ExternalID) // not normalised yet
		}
		return a.ID
	}
	ext := a.ExternalID
	if ext == "" {
		_, ext, _ = a.ID.Split()
		if ext == "" {
			ext = string(a.ID)
		}
	}
	return NewID(a.Network, Pseudonym(key, ext))
}

// Redacted returns a copy with personal data removed: the author's id is
// replaced by a keyed pseudonym, name and profile URL are dropped, the ids
// of a private message (which embed the sender's user id) are replaced by
// pseudonyms and its URL dropped, and phone numbers and e-mail addresses in
// the text, replies and history notes (an edit's note may quote the previous
// text) are masked. It is RedactedWith(RedactOptions{}): the per-process key.
func (a Appeal) Redacted() Appeal { return a.RedactedWith(RedactOptions{}) }

// RedactedWith is Redacted with options.
func (a Appeal) RedactedWith(o RedactOptions) Appeal {
	c := a.Clone()
	c.Analysis = nil // derived from the clear text: it must not leave with it
	c.Author = Author{ID: Pseudonym(o.Key, a.Author.ID)}
	if a.EmbedsUserID() {
		c.ID = a.redactedID(o.Key)
		_, c.ExternalID, _ = c.ID.Split()
		c.Thread.ParentID = Pseudonym(o.Key, a.Thread.ParentID)
		c.Thread.RootID = Pseudonym(o.Key, a.Thread.RootID)
		c.URL = ""
		for i := range c.Replies {
			c.Replies[i].ExternalID = Pseudonym(o.Key, c.Replies[i].ExternalID)
			c.Replies[i].URL = ""
		}
	}
	if !o.KeepText {
		c.Text = RedactText(c.Text)
		for i := range c.Replies {
			c.Replies[i].Text = RedactText(c.Replies[i].Text)
		}
		for i := range c.History {
			c.History[i].Note = RedactText(c.History[i].Note)
		}
	}
	return c
}

var (
	// Russian phone numbers in the ways people write them: a +7 or 8 prefix
	// and ten more digits with any spaces, dashes and brackets between them
	// (+7 (912) 345-67-89, 8 (4712) 51-22-33, 89123456789), a bare mobile
	// number (9123456789), and short city numbers (51-22-33).
	phoneRE = regexp.MustCompile(`(?:\+7|\b8)(?:[\s\-()]{0,2}\d){10}\b|\b9\d{9}\b|\b\d{1,3}-\d{2}-\d{2}\b`)
	emailRE = regexp.MustCompile(`[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}.\-]+\.\p{L}{2,}`)
)

// RedactText masks phone numbers and e-mail addresses in s.
func RedactText(s string) string {
	s = phoneRE.ReplaceAllString(s, "[телефон]")
	return emailRE.ReplaceAllString(s, "[email]")
}

// PersonalData returns the phone numbers and e-mail addresses in s, as
// RedactText would mask them, in the order they appear.
func PersonalData(s string) []string {
	out := phoneRE.FindAllString(s, -1)
	return append(out, emailRE.FindAllString(s, -1)...)
}

// LogValue logs an author as "[redacted]". Not even an unsalted hash: VK and
// Telegram ids are small integers, so a hash of one is reversed by trying
// them all.
func (a Author) LogValue() slog.Value {
	if a == (Author{}) {
		return slog.StringValue("")
	}
	return slog.StringValue("[redacted]")
}

// String formats the author redacted, so %v in a log line is safe.
func (a Author) String() string { return a.LogValue().String() }

// LogValue logs what identifies an appeal and where it stands, never the
// text or the author in clear; a private message's id is logged as its
// RedactedID.
func (a Appeal) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", string(a.RedactedID())),
		slog.String("network", string(a.Network)),
		slog.String("kind", string(a.Kind)),
		slog.String("status", string(a.Status)),
		slog.String("topic", a.TopTopic()),
		slog.String("municipality", a.Municipality),
		slog.String("executor", a.Executor()),
		slog.Any("author", a.Author),
	)
}
