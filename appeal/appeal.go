// Package appeal holds the appeal model: one citizen message that complains or
// asks, its lifecycle as an explicit state machine, its history, and the
// Store interface that keeps appeals durable and effectively-once.
//
//	a := appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_10", Text: "Яма на дороге"}
//	if err := a.Normalize(); err != nil { // fills a.ID = "vk:-1_10"; a *FieldError names a bad field
//		return err
//	}
//	store := appeal.NewMemoryStore() // or appeal/sqlstore for SQLite and PostgreSQL
//	if _, err := store.Put(ctx, a); err != nil { // created == false on a redelivery
//		return err
//	}
//	a, err := store.Transition(ctx, a.ID, appeal.Change{To: appeal.StatusRouted, ExpectedVersion: 1,
//		Assignment: &appeal.Assignment{Executor: "roads-committee", Deadline: due}})
//	overdue, err := store.List(ctx, appeal.Filter{OverdueAt: time.Now()})
//	slog.Info("routed", "appeal", a.Redacted()) // authors pseudonymised, phones masked
//
// An Appeal is identified by ID, derived from the network and the network's
// own id of the message, so that every redelivery of the same message maps to
// the same appeal (sources deliver at least once; stores keep exactly once).
//
// # One bad appeal never fails others
//
// Every store validates what it is given (Normalize, then Validate) on Put,
// PutBatch, Transition and Update: text must be valid UTF-8 without NUL
// bytes, indexed fields are capped (MaxNetworkLen, MaxExternalIDLen,
// MaxKeyLen), numbers finite, times within years 1–9999. Bad input is
// refused with a *FieldError naming the field, never cleaned, so that every
// store keeps or refuses exactly the same appeals (appeal/storetest checks
// this with a table of nasty inputs). A BatchStore's PutBatch stores the
// good appeals of a batch and reports the refused ones in a *BatchError; a
// DeadLetterStore keeps refused appeals for an operator. Errors matching
// ErrUnavailable are outages: retry them, do not dead-letter them.
//
// # Reading many appeals
//
// Scan(ctx, store, filter) yields matching appeals one at a time in List's
// order with memory bounded by a page, using the store's own Scanner when it
// has one and paging through List otherwise. Prefer it to List for exports
// and reports.
//
// # Retention (152-ФЗ)
//
// Retain pseudonymises the personal data of appeals closed (resolved or
// rejected) longer than a period, keeping what statistics read; run it daily:
//
//	rep, err := appeal.Retain(ctx, store, appeal.RetentionPolicy{
//		ClosedFor: 3 * 365 * 24 * time.Hour, // the period your regulation sets
//		Redact:    appeal.RedactOptions{Key: key}, // the deployment's pseudonym key
//	})
//
// See RetentionPolicy for exactly what is removed and what stays.
package appeal

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Network names the social network or channel an appeal came from.
type Network string

// Networks shipped adapters use. Integrators may use any other short
// lower-case name for their own sources.
const (
	NetworkVK        Network = "vk"
	NetworkOK        Network = "ok"
	NetworkTelegram  Network = "telegram"
	NetworkInstagram Network = "instagram"
	NetworkMAX       Network = "max"
	NetworkWeb       Network = "web"
)

// Kind says what sort of message an appeal is.
type Kind string

// Kinds of monitored messages.
const (
	KindPost    Kind = "post"    // a wall post, channel post or topic
	KindComment Kind = "comment" // a comment under a post
	KindReply   Kind = "reply"   // a reply to a comment (a thread inside comments)
	KindMessage Kind = "message" // a private message to a community or bot
)

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool {
	switch k {
	case KindPost, KindComment, KindReply, KindMessage:
		return true
	}
	return false
}

// ID is the stable identity of an appeal: "network:external-id".
type ID string

// NewID derives the stable appeal ID from the network and the network's own
// id of the message. The same message always gets the same ID, which is what
// makes redelivery harmless.
func NewID(network Network, externalID string) ID {
	return ID(string(network) + ":" + externalID)
}

// Split returns the network and external id an ID was made from.
func (id ID) Split() (Network, string, bool) {
	n, ext, ok := strings.Cut(string(id), ":")
	if !ok || n == "" || ext == "" {
		return "", "", false
	}
	return Network(n), ext, true
}

// Author is who wrote the message. All of its fields are personal data under
// 152-ФЗ: Author formats and logs itself redacted (see LogValue and String).
type Author struct {
	ID         string `json:"id,omitempty"`
	Name       string `json:"name,omitempty"`
	ProfileURL string `json:"profile_url,omitempty"`
	// Pseudonymous marks an author whose ID is a pseudonym and whose other
	// data was removed (see Appeal.Pseudonymise and Retain).
	Pseudonymous bool `json:"pseudonymous,omitempty"`
}

// Community is where a message was written: a VK or OK group, a Telegram
// channel or chat, a web form.
type Community struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	// Official marks a госпаблик: the page of an agency, school, hospital or
	// administration, where a complaint is addressed to that body directly.
	Official bool `json:"official,omitempty"`
}

// Thread ties a comment or reply to what it answers.
type Thread struct {
	// ParentID is the external id of the message this one answers directly.
	ParentID string `json:"parent_id,omitempty"`
	// RootID is the external id of the post that opened the thread.
	RootID string `json:"root_id,omitempty"`
}

// GeoPoint is a WGS-84 coordinate attached to a message.
type GeoPoint struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Attachment is a photo, video, document or link attached to a message.
type Attachment struct {
	Type string `json:"type"` // photo, video, doc, link, audio, sticker...
	URL  string `json:"url,omitempty"`
}

// TopicScore is one topic from the rubricator with the classifier's score in
// [0,1].
type TopicScore struct {
	Code  string  `json:"code"`
	Score float64 `json:"score"`
}

// Priority orders appeals for operators.
type Priority string

// Priorities from lowest to highest.
const (
	PriorityLow      Priority = "low"
	PriorityNormal   Priority = "normal"
	PriorityHigh     Priority = "high"
	PriorityCritical Priority = "critical"
)

// Rank returns 0 for an unknown priority and 1..4 from low to critical, so
// priorities can be compared.
func (p Priority) Rank() int {
	switch p {
	case PriorityLow:
		return 1
	case PriorityNormal:
		return 2
	case PriorityHigh:
		return 3
	case PriorityCritical:
		return 4
	}
	return 0
}

// Assignment is the routing decision in force: who must answer and by when.
type Assignment struct {
	Executor    string    `json:"executor"`
	CoExecutors []string  `json:"co_executors,omitempty"`
	Deadline    time.Time `json:"deadline,omitzero"`
	Priority    Priority  `json:"priority,omitempty"`
	RuleID      string    `json:"rule_id,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	// Escalations counts the escalation steps already applied, so that
	// escalation is idempotent.
	Escalations int `json:"escalations,omitempty"`
}

// Reply is an official answer posted back to the citizen.
type Reply struct {
	// ExternalID and URL identify the answer on the network, when it was
	// posted there.
	ExternalID string    `json:"external_id,omitempty"`
	URL        string    `json:"url,omitempty"`
	Text       string    `json:"text"`
	By         string    `json:"by,omitempty"` // executor id
	At         time.Time `json:"at"`
	// Kind says whether this was an interim answer («принято в работу») or
	// the final one; "" for replies recorded before answers had kinds.
	Kind AnswerKind `json:"kind,omitempty"`
	// Key is the idempotency key the answer was published with (see
	// OutboxMessage.Key), so that a publisher that crashed after posting
	// finds its work done.
	Key string `json:"key,omitempty"`
	// Reaction is how the citizen took this answer, read from the author's
	// next message in the thread; "" until they write again.
	Reaction Reaction `json:"reaction,omitempty"`
}

// Appeal is one citizen message that complains or asks, with what the
// pipeline learned about it and where it stands.
//
// The zero value is not useful: build one with at least Network, ExternalID
// and Text, then call Normalize (stores do it on Put).
type Appeal struct {
	ID          ID           `json:"id"`
	Network     Network      `json:"network"`
	Kind        Kind         `json:"kind"`
	ExternalID  string       `json:"external_id"`
	URL         string       `json:"url,omitempty"`
	Text        string       `json:"text"`
	Author      Author       `json:"author,omitzero"`
	Community   Community    `json:"community,omitzero"`
	Thread      Thread       `json:"thread,omitzero"`
	CreatedAt   time.Time    `json:"created_at,omitzero"`
	ReceivedAt  time.Time    `json:"received_at,omitzero"`
	Geo         *GeoPoint    `json:"geo,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`

	// Filled by classification.
	Topics []TopicScore `json:"topics,omitempty"`
	Urgent bool         `json:"urgent,omitempty"`
	// Noise marks a message classification judged not to be an appeal: a
	// greeting, thanks, an advertisement, news. Routers usually reject it.
	Noise        bool   `json:"noise,omitempty"`
	Municipality string `json:"municipality,omitempty"`
	// Place is the settlement or street the text names, as resolved from the
	// gazetteer.
	Place string `json:"place,omitempty"`
	// Analysis is what classification derived from Text that a later stage
	// reads again (a learned router's stems), so that the text is
	// normalised and stemmed once per appeal. It is a cache, not data: it
	// is never serialised or stored (stores, Redacted and Pseudonymise
	// drop it), and it is valid only while Analysis.Text equals Text —
	// whoever reads it checks that (see TextAnalysis.For) and derives the
	// values afresh otherwise, so a stale Analysis never changes a
	// decision. nil means not analysed.
	Analysis *TextAnalysis `json:"-"`

	// Filled by routing and processing.
	Assignment *Assignment `json:"assignment,omitempty"`
	Status     Status      `json:"status"`
	Replies    []Reply     `json:"replies,omitempty"`
	IncidentID string      `json:"incident_id,omitempty"`
	History    []Event     `json:"history,omitempty"`

	// Promised is the resolution date promised to the citizen, usually in
	// the interim answer («срок решения — до 3 декабря»); Open311 calls it
	// expected_datetime. Zero when nothing was promised.
	Promised time.Time `json:"promised,omitzero"`
	// Drafts are the answers being prepared, reviewed or published, oldest
	// first (see package appeal/answer).
	Drafts []Draft `json:"drafts,omitempty"`

	// Version increases by one with every stored change; stores use it for
	// optimistic concurrency. A fresh appeal has version 0 until stored.
	Version int64 `json:"version"`
}

// TextAnalysis is the cache behind Appeal.Analysis: the stems of one exact
// text, as the classifier (package classify) found them. It is immutable
// once made: copies of an appeal share it.
type TextAnalysis struct {
	// Text is the exact text the analysis was made from.
	Text string
	// StemHashes has one entry per token of Text, in order: the 64-bit
	// FNV-1a hash of the token's stem (classify.HashString(
	// classify.FNVOffset, stem)) for a word, and 0 for a token that is not
	// a word (a number), which breaks a sequence of words. A word whose
	// stem hashes to 0 cannot be told from a break, so the classifier
	// records no analysis for such a text.
	StemHashes []uint64
}

// For returns the analysis when it was made from text, and nil otherwise
// (or when a is nil): the check every reader of Appeal.Analysis makes
// before trusting it. It costs a pointer comparison when the analysis was
// made from the appeal's own Text.
func (a *TextAnalysis) For(text string) *TextAnalysis {
	if a == nil || a.Text != text {
		return nil
	}
	return a
}

// TopTopic returns the highest-scored topic code, or "" when unclassified.
func (a *Appeal) TopTopic() string {
	best, code := -1.0, ""
	for _, t := range a.Topics {
		if t.Score > best {
			best, code = t.Score, t.Code
		}
	}
	return code
}

// HasTopic reports whether code is among the appeal's topics.
func (a *Appeal) HasTopic(code string) bool {
	for _, t := range a.Topics {
		if t.Code == code {
			return true
		}
	}
	return false
}

// MatchesTopic reports whether the appeal has topic code or one of its
// subtopics: "housing" matches "housing.heating", not "housingx".
func (a *Appeal) MatchesTopic(code string) bool {
	for _, t := range a.Topics {
		if t.Code == code || (len(t.Code) > len(code) && t.Code[len(code)] == '.' && t.Code[:len(code)] == code) {
			return true
		}
	}
	return false
}

// Executor returns the assigned executor or "".
func (a *Appeal) Executor() string {
	if a.Assignment == nil {
		return ""
	}
	return a.Assignment.Executor
}

// Involves reports whether the assignment in force names executor, as
// the executor or as a co-executor.
func (a *Appeal) Involves(executor string) bool {
	if a.Assignment == nil || executor == "" {
		return false
	}
	return a.Assignment.Executor == executor || slices.Contains(a.Assignment.CoExecutors, executor)
}

// ThreadRoot returns the external id of the post that opened a's thread:
// Thread.RootID, or a's own external id when a opened it (or has no
// thread).
func (a *Appeal) ThreadRoot() string {
	if a.Thread.RootID != "" {
		return a.Thread.RootID
	}
	return a.ExternalID
}

// Deadline returns the assigned deadline or the zero time.
func (a *Appeal) Deadline() time.Time {
	if a.Assignment == nil {
		return time.Time{}
	}
	return a.Assignment.Deadline
}

// Overdue reports whether the appeal is still waiting for an answer after its
// deadline.
func (a *Appeal) Overdue(now time.Time) bool {
	d := a.Deadline()
	return !d.IsZero() && a.Status.AwaitsAnswer() && now.After(d)
}

// Normalize fills what can be derived (ID, status, kind), checks the fields
// every appeal must carry and validates the rest (see Validate). It returns a
// *FieldError naming the first bad field.
func (a *Appeal) Normalize() error {
	if a.Network == "" {
		return &FieldError{Field: "network", Msg: "is empty"}
	}
	if strings.ContainsRune(string(a.Network), ':') {
		return &FieldError{Field: "network", Msg: fmt.Sprintf("%q must not contain ':'", a.Network)}
	}
	if a.ExternalID == "" {
		return &FieldError{Field: "external_id", Msg: "is empty"}
	}
	want := NewID(a.Network, a.ExternalID)
	switch a.ID {
	case "":
		a.ID = want
	case want:
	default:
		return &FieldError{Field: "id", Msg: fmt.Sprintf("%q does not match network and external_id (want %q)", a.ID, want)}
	}
	if a.Kind == "" {
		a.Kind = KindPost
	} else if !a.Kind.Valid() {
		return &FieldError{Field: "kind", Msg: fmt.Sprintf("unknown kind %q", a.Kind)}
	}
	if a.Status == "" {
		a.Status = StatusNew
	} else if !a.Status.Valid() {
		return &FieldError{Field: "status", Msg: fmt.Sprintf("unknown status %q", a.Status)}
	}
	return a.Validate()
}

// Clone returns a deep copy, so that a stored appeal can be handed out
// without sharing slices. Analysis, an immutable cache, is shared.
func (a Appeal) Clone() Appeal {
	c := a
	if a.Geo != nil {
		g := *a.Geo
		c.Geo = &g
	}
	c.Attachments = cloneSlice(a.Attachments)
	c.Topics = cloneSlice(a.Topics)
	if a.Assignment != nil {
		as := *a.Assignment
		as.CoExecutors = cloneSlice(as.CoExecutors)
		as.Tags = cloneSlice(as.Tags)
		c.Assignment = &as
	}
	c.Replies = cloneSlice(a.Replies)
	c.History = cloneSlice(a.History)
	if a.Drafts != nil {
		c.Drafts = make([]Draft, len(a.Drafts))
		for i := range a.Drafts {
			c.Drafts[i] = a.Drafts[i].clone()
		}
	}
	return c
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}
