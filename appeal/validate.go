package appeal

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on the fields stores index or key by. They are far above anything a
// network sends, and low enough that every store accepts a value within them:
// PostgreSQL refuses an index entry over about 2,700 bytes, SQLite does not,
// and a store that accepted on one database what the other refuses would
// make one bad appeal fail a whole batch on one of them only.
const (
	// MaxNetworkLen caps Network, in bytes.
	MaxNetworkLen = 32
	// MaxExternalIDLen caps ExternalID, in bytes (the ID adds the network).
	MaxExternalIDLen = 512
	// MaxKeyLen caps the other indexed texts: Municipality, the executor,
	// topic codes and an incident id, in bytes.
	MaxKeyLen = 512
)

// Validate checks what every store must be able to keep exactly the same
// way, on every entry point (Normalize calls it; stores call Normalize on
// Put, Transition and Update):
//
//   - every text — the message, author, community, URLs, topics, replies,
//     assignment, history — is valid UTF-8 without NUL bytes. Such text is
//     refused, not cleaned: a store must not silently keep something other
//     than what was delivered, and PostgreSQL refuses both while SQLite
//     keeps them, so cleaning in one place and not another would make the
//     databases disagree. A source that meets such text should clean it
//     (strings.ToValidUTF8) or dead-letter the appeal;
//   - the indexed fields are within MaxNetworkLen, MaxExternalIDLen and
//     MaxKeyLen;
//   - numbers are finite and coordinates within range (JSON cannot hold NaN);
//   - times fall within the years 1–9999 (what RFC 3339 can write).
//
// It returns a *FieldError naming the first bad field, with the byte offset
// of a bad character.
func (a *Appeal) Validate() error {
	v := validator{}
	v.key("network", string(a.Network), MaxNetworkLen)
	v.key("external_id", a.ExternalID, MaxExternalIDLen)
	v.key("id", string(a.ID), MaxNetworkLen+1+MaxExternalIDLen)
	v.text("kind", string(a.Kind))
	v.text("url", a.URL)
	v.text("text", a.Text)
	v.text("author.id", a.Author.ID)
	v.text("author.name", a.Author.Name)
	v.text("author.profile_url", a.Author.ProfileURL)
	v.text("community.id", a.Community.ID)
	v.text("community.name", a.Community.Name)
	v.text("thread.parent_id", a.Thread.ParentID)
	v.text("thread.root_id", a.Thread.RootID)
	v.time("created_at", a.CreatedAt)
	v.time("received_at", a.ReceivedAt)
	if a.Geo != nil {
		if !finite(a.Geo.Lat) || math.Abs(a.Geo.Lat) > 90 || !finite(a.Geo.Lon) || math.Abs(a.Geo.Lon) > 180 {
			v.fail("geo", fmt.Sprintf("(%v, %v) is not a coordinate", a.Geo.Lat, a.Geo.Lon))
		}
	}
	for i, at := range a.Attachments {
		v.textAt("attachments[%d].type", i, at.Type)
		v.textAt("attachments[%d].url", i, at.URL)
	}
	for i, t := range a.Topics {
		v.keyAt("topics[%d].code", i, t.Code, MaxKeyLen)
		if !finite(t.Score) {
			v.fail(fmt.Sprintf("topics[%d].score", i), fmt.Sprintf("%v is not a number", t.Score))
		}
	}
	v.key("municipality", a.Municipality, MaxKeyLen)
	v.text("place", a.Place)
	if as := a.Assignment; as != nil {
		v.key("assignment.executor", as.Executor, MaxKeyLen)
		for i, c := range as.CoExecutors {
			v.textAt("assignment.co_executors[%d]", i, c)
		}
		v.time("assignment.deadline", as.Deadline)
		v.text("assignment.priority", string(as.Priority))
		v.text("assignment.rule_id", as.RuleID)
		for i, t := range as.Tags {
			v.textAt("assignment.tags[%d]", i, t)
		}
	}
	v.text("status", string(a.Status))
	for i, r := range a.Replies {
		v.textAt("replies[%d].external_id", i, r.ExternalID)
		v.textAt("replies[%d].url", i, r.URL)
		v.textAt("replies[%d].text", i, r.Text)
		v.textAt("replies[%d].by", i, r.By)
		v.timeAt("replies[%d].at", i, r.At)
	}
	v.key("incident_id", a.IncidentID, MaxKeyLen)
	for i, e := range a.History {
		v.timeAt("history[%d].at", i, e.At)
		v.textAt("history[%d].actor", i, e.Actor)
		v.textAt("history[%d].from", i, string(e.From))
		v.textAt("history[%d].to", i, string(e.To))
		v.textAt("history[%d].note", i, e.Note)
	}
	if v.err != nil {
		return v.err
	}
	return nil
}

// validator keeps the first error; later checks are skipped once one failed.
type validator struct{ err *FieldError }

func (v *validator) fail(field, msg string) {
	if v.err == nil {
		v.err = &FieldError{Field: field, Msg: msg}
	}
}

func (v *validator) text(field, s string) {
	if v.err != nil {
		return
	}
	if msg := badText(s); msg != "" {
		v.fail(field, msg)
	}
}

func (v *validator) key(field, s string, max int) {
	if v.err != nil {
		return
	}
	if len(s) > max {
		v.fail(field, fmt.Sprintf("is %d bytes long, more than the %d a stored key may have", len(s), max))
		return
	}
	v.text(field, s)
}

// textAt, keyAt and timeAt check an element of a list; the field name is
// formatted only when it is wrong, so valid appeals cost no allocation.
func (v *validator) textAt(format string, i int, s string) {
	if v.err == nil && badText(s) != "" {
		v.text(fmt.Sprintf(format, i), s)
	}
}

func (v *validator) keyAt(format string, i int, s string, max int) {
	if v.err == nil && (len(s) > max || badText(s) != "") {
		v.key(fmt.Sprintf(format, i), s, max)
	}
}

func (v *validator) timeAt(format string, i int, t time.Time) {
	if v.err == nil && !t.IsZero() && (t.Year() < 1 || t.Year() > 9999) {
		v.time(fmt.Sprintf(format, i), t)
	}
}

func (v *validator) time(field string, t time.Time) {
	if v.err != nil || t.IsZero() {
		return
	}
	if y := t.Year(); y < 1 || y > 9999 {
		v.fail(field, fmt.Sprintf("year %d is outside 1–9999", y))
	}
}

// badText says what is wrong with s, or "" when it is valid UTF-8 without
// NUL. The common case (valid text) costs one pass.
func badText(s string) string {
	i := strings.IndexByte(s, 0)
	if utf8.ValidString(s) {
		if i < 0 {
			return ""
		}
		return fmt.Sprintf("holds a NUL byte at offset %d", i)
	}
	for j := 0; j < len(s); {
		r, size := utf8.DecodeRuneInString(s[j:])
		if r == utf8.RuneError && size == 1 {
			if i >= 0 && i < j {
				return fmt.Sprintf("holds a NUL byte at offset %d", i)
			}
			return fmt.Sprintf("is not valid UTF-8 at byte offset %d", j)
		}
		j += size
	}
	return fmt.Sprintf("holds a NUL byte at offset %d", i)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// CleanText returns s as Validate accepts it: invalid UTF-8 sequences
// replaced by U+FFFD and NUL bytes removed. Validate refuses such text
// rather than change what a store keeps behind the caller's back; a source
// that would rather keep a message with a stray byte than dead-letter it
// cleans its texts with CleanText before handing the appeal on.
func CleanText(s string) string {
	if badText(s) == "" {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}
