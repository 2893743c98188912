package appeal

import (
	"log/slog"
	"regexp"
)

// Personal data under 152-ФЗ: an appeal's author and any phone number or
// e-mail in its text. The library never logs them in clear: Author and
// Appeal implement slog.LogValuer with redacted values, and Redacted gives a
// copy fit to leave the library (exports, logs, analytics).

// RedactOptions tunes Appeal.RedactedWith.
type RedactOptions struct {
	// Salt keys the author pseudonym. With the same salt the same author
	// gets the same pseudonym, so distinct authors can still be counted;
	// keep it secret, or the pseudonym can be reversed by guessing ids.
	Salt string
	// KeepText leaves the text as it is (phones and e-mails included).
	KeepText bool
}

// Redacted returns a copy with personal data removed: the author's id is
// replaced by a pseudonym, name and profile URL are dropped, and phone
// numbers and e-mail addresses in the text, replies and history notes (an
// edit's note may quote the previous text) are masked. It is
// RedactedWith(RedactOptions{}).
func (a Appeal) Redacted() Appeal { return a.RedactedWith(RedactOptions{}) }

// RedactedWith is Redacted with options.
func (a Appeal) RedactedWith(o RedactOptions) Appeal {
	c := a.Clone()
	c.Author = Author{ID: pseudonym(o.Salt, a.Author.ID)}
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
// text or the author in clear.
func (a Appeal) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", string(a.ID)),
		slog.String("network", string(a.Network)),
		slog.String("kind", string(a.Kind)),
		slog.String("status", string(a.Status)),
		slog.String("topic", a.TopTopic()),
		slog.String("municipality", a.Municipality),
		slog.String("executor", a.Executor()),
		slog.Any("author", a.Author),
	)
}
