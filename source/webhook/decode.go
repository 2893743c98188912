package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/appealkit/appealkit/appeal"
)

// Input is one appeal as a portal or another system posts it. Every field
// but text is optional; external_id is required unless the request carries
// an Idempotency-Key header (then the key, with "#index" in a batch, is the
// external id). Unknown fields are refused, so that a typo in an
// integration shows up at once instead of as silently lost data.
type Input struct {
	// ExternalID is the sender's own id of the message; with the
	// network it makes the appeal ID, so a resent message is not
	// duplicated.
	ExternalID string `json:"external_id,omitempty"`
	// Kind is post, comment, reply or message (default message).
	Kind string `json:"kind,omitempty"`
	// Text is what the citizen wrote. Required.
	Text string `json:"text"`
	// URL links to the message on the sender's side.
	URL string `json:"url,omitempty"`
	// CreatedAt is when the citizen wrote it, RFC 3339.
	CreatedAt string `json:"created_at,omitempty"`
	// Author is the citizen: {"id", "name", "profile_url"}; personal data,
	// never logged.
	Author appeal.Author `json:"author,omitzero"`
	// Community is where it was written; Config.Community when absent.
	Community appeal.Community `json:"community,omitzero"`
	// Thread ties a comment to what it answers: {"parent_id", "root_id"}.
	Thread appeal.Thread `json:"thread,omitzero"`
	// Geo is {"lat", "lon"} in WGS-84.
	Geo *appeal.GeoPoint `json:"geo,omitempty"`
	// Attachments are {"type", "url"}; type is required, url must be
	// http(s).
	Attachments []appeal.Attachment `json:"attachments,omitempty"`
}

// ValidationError names what is wrong with a request body: the field (a
// JSON path such as "author.name") and, for a batch, the index of the
// appeal. Index is -1 for a single appeal or the body as a whole.
type ValidationError struct {
	// Index of the appeal in a batch; -1 for a single appeal or the body.
	Index int
	// Field is the JSON path of the bad field, or "".
	Field string
	// Msg says what is wrong.
	Msg string
}

// Error formats the error as "webhook: appeal [i]: field f: what".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("webhook: ")
	if e.Index >= 0 {
		fmt.Fprintf(&b, "appeal [%d]: ", e.Index)
	}
	if e.Field != "" {
		b.WriteString("field " + e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is makes errors.Is(err, appeal.ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == appeal.ErrInvalid }

// limits bound what one decoded body may hold.
type limits struct {
	maxBatch     int
	maxTextRunes int
	network      appeal.Network
	community    appeal.Community
}

// decodeBody parses a request body holding one appeal (a JSON object) or a
// batch (a JSON array of objects) and turns it into appeals. idemKey, when
// not empty, stands in for missing external ids. Nothing is returned unless
// every appeal is valid: a batch is accepted or refused as a whole.
func decodeBody(body []byte, idemKey string, now time.Time, lim limits) ([]appeal.Appeal, error) {
	if !utf8.Valid(body) {
		return nil, &ValidationError{Index: -1, Msg: fmt.Sprintf("body is not valid UTF-8 (first bad byte at offset %d)", invalidAt(body))}
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, &ValidationError{Index: -1, Msg: "body is empty; want a JSON object or an array of objects"}
	}
	switch trimmed[0] {
	case '{':
		in, err := decodeOne(body, -1)
		if err != nil {
			return nil, err
		}
		a, err := in.toAppeal(-1, idemKey, "", now, lim)
		if err != nil {
			return nil, err
		}
		return []appeal.Appeal{a}, nil
	case '[':
		var raws []json.RawMessage
		if err := strictDecode(body, &raws); err != nil {
			return nil, &ValidationError{Index: -1, Msg: describe(err)}
		}
		if len(raws) == 0 {
			return nil, &ValidationError{Index: -1, Msg: "batch is empty"}
		}
		if len(raws) > lim.maxBatch {
			return nil, &ValidationError{Index: -1, Msg: fmt.Sprintf("batch holds %d appeals, at most %d are allowed in one request", len(raws), lim.maxBatch)}
		}
		out := make([]appeal.Appeal, 0, len(raws))
		seen := make(map[appeal.ID]int, len(raws))
		for i, raw := range raws {
			in, err := decodeOne(raw, i)
			if err != nil {
				return nil, err
			}
			a, err := in.toAppeal(i, idemKey, "#"+strconv.Itoa(i), now, lim)
			if err != nil {
				return nil, err
			}
			if j, dup := seen[a.ID]; dup {
				return nil, &ValidationError{Index: i, Field: "external_id", Msg: fmt.Sprintf("%q repeats appeal [%d] of the same batch", a.ExternalID, j)}
			}
			seen[a.ID] = i
			out = append(out, a)
		}
		return out, nil
	}
	return nil, &ValidationError{Index: -1, Msg: fmt.Sprintf("body starts with %q; want a JSON object or an array of objects", firstRune(trimmed))}
}

func firstRune(b []byte) string {
	r, _ := utf8.DecodeRune(b)
	return string(r)
}

func decodeOne(raw []byte, index int) (*Input, error) {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, &ValidationError{Index: index, Msg: "want a JSON object"}
	}
	var in Input
	if err := strictDecode(raw, &in); err != nil {
		return nil, &ValidationError{Index: index, Field: fieldOf(err), Msg: describe(err)}
	}
	return &in, nil
}

// strictDecode decodes exactly one JSON value, refusing unknown fields and
// trailing data.
func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("unexpected data after the JSON value at offset %d", dec.InputOffset())
	}
	return nil
}

func fieldOf(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if u, err := strconv.Unquote(f); err == nil {
			return u
		}
	}
	return ""
}

func describe(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("got JSON %s, want %s", te.Value, jsonKind(te.Type.Kind().String()))
	case errors.As(err, &se):
		return fmt.Sprintf("broken JSON at offset %d: %v", se.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "truncated JSON: the body ends inside a value"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field (see the documented fields of webhook.Input)"
	}
	return err.Error()
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "float64", "float32", "int", "int64":
		return "a number"
	case "slice":
		return "an array"
	case "struct", "ptr", "map":
		return "an object"
	}
	return goKind
}

func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

const maxIDLen = 256

func (in *Input) toAppeal(index int, idemKey, suffix string, now time.Time, lim limits) (appeal.Appeal, error) {
	bad := func(field, format string, args ...any) error {
		return &ValidationError{Index: index, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	ext := strings.TrimSpace(in.ExternalID)
	if ext == "" {
		if idemKey == "" {
			return appeal.Appeal{}, bad("external_id", "is required (or send an Idempotency-Key header)")
		}
		ext = idemKey + suffix
	}
	if len(ext) > maxIDLen {
		return appeal.Appeal{}, bad("external_id", "is %d bytes long, at most %d are allowed", len(ext), maxIDLen)
	}
	if hasControl(ext) {
		return appeal.Appeal{}, bad("external_id", "holds control characters")
	}
	text := strings.TrimSpace(in.Text)
	if text == "" {
		return appeal.Appeal{}, bad("text", "is empty")
	}
	if n := utf8.RuneCountInString(text); n > lim.maxTextRunes {
		return appeal.Appeal{}, bad("text", "is %d characters long, at most %d are allowed", n, lim.maxTextRunes)
	}
	kind := appeal.KindMessage
	if in.Kind != "" {
		kind = appeal.Kind(in.Kind)
		if !kind.Valid() {
			return appeal.Appeal{}, bad("kind", "%q is not one of post, comment, reply, message", in.Kind)
		}
	}
	if in.URL != "" {
		if err := checkURL(in.URL); err != nil {
			return appeal.Appeal{}, bad("url", "%v", err)
		}
	}
	if in.Author.ProfileURL != "" {
		if err := checkURL(in.Author.ProfileURL); err != nil {
			return appeal.Appeal{}, bad("author.profile_url", "%v", err)
		}
	}
	var created time.Time
	if in.CreatedAt != "" {
		t, err := time.Parse(time.RFC3339, in.CreatedAt)
		if err != nil {
			return appeal.Appeal{}, bad("created_at", "%q is not an RFC 3339 time such as 2026-01-31T09:30:00+03:00", in.CreatedAt)
		}
		if t.After(now.Add(24 * time.Hour)) {
			return appeal.Appeal{}, bad("created_at", "%s is in the future", in.CreatedAt)
		}
		created = t
	}
	if g := in.Geo; g != nil {
		if g.Lat < -90 || g.Lat > 90 {
			return appeal.Appeal{}, bad("geo.lat", "%v is outside [-90, 90]", g.Lat)
		}
		if g.Lon < -180 || g.Lon > 180 {
			return appeal.Appeal{}, bad("geo.lon", "%v is outside [-180, 180]", g.Lon)
		}
	}
	for i, at := range in.Attachments {
		if strings.TrimSpace(at.Type) == "" {
			return appeal.Appeal{}, bad(fmt.Sprintf("attachments[%d].type", i), "is empty")
		}
		if at.URL != "" {
			if err := checkURL(at.URL); err != nil {
				return appeal.Appeal{}, bad(fmt.Sprintf("attachments[%d].url", i), "%v", err)
			}
		}
	}
	community := lim.community
	if in.Community != (appeal.Community{}) {
		community = in.Community
	}
	a := appeal.Appeal{
		Network:     lim.network,
		Kind:        kind,
		ExternalID:  ext,
		URL:         in.URL,
		Text:        text,
		Author:      in.Author,
		Community:   community,
		Thread:      in.Thread,
		CreatedAt:   created,
		ReceivedAt:  now,
		Geo:         in.Geo,
		Attachments: in.Attachments,
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	if err := a.Normalize(); err != nil {
		var fe *appeal.FieldError
		if errors.As(err, &fe) {
			return appeal.Appeal{}, bad(fe.Field, "%s", fe.Msg)
		}
		return appeal.Appeal{}, bad("", "%v", err)
	}
	return a, nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}
