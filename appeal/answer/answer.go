package answer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/route"
)

// ErrState is matched by errors for a step the draft's state does not
// allow (approving a draft that is not on review, editing a published one).
var ErrState = errors.New("answer: step not allowed in the draft's state")

// ErrNoDraft is matched when the appeal has no draft with the given id.
var ErrNoDraft = errors.New("answer: no such draft")

// ErrNoOutbox is returned by New when the store keeps no outbox.
var ErrNoOutbox = errors.New("answer: the store has no outbox (appeal.Outbox)")

// Config configures a Workflow.
type Config struct {
	// Store keeps the appeals. Required.
	Store appeal.Store
	// Outbox queues approved answers; nil means Store, which must then
	// implement appeal.Outbox (appeal.MemoryStore and sqlstore.Store do).
	Outbox appeal.Outbox
	// Templates are the answer texts per topic and kind. Required for
	// Workflow.Draft; Write works without them.
	Templates *Templates
	// Rules gives executors' Russian names, their public contacts (which
	// answers may name) and calendars. Optional.
	Rules *route.Engine
	// Gate checks answers before publishing; nil means NewGate(GateConfig{}).
	Gate *Gate
	// Policy says which answers a moderator must approve.
	Policy Policy
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ReactionWindow is how far back from a citizen's message FindAnswered
	// looks for the appeal it reacts to (default 60 days).
	ReactionWindow time.Duration
}

// Workflow takes answers from draft to the outbox and reads the citizen's
// reaction. It is safe for concurrent use; every method that changes an
// appeal takes the version the caller read and fails with
// appeal.ErrConflict when someone else changed the appeal meanwhile (read
// it again and retry, as with Store.Transition).
type Workflow struct {
	store     appeal.Store
	outbox    appeal.Outbox
	templates *Templates
	rules     *route.Engine
	gate      *Gate
	policy    Policy
	now       func() time.Time
	window    time.Duration
}

// New returns a Workflow.
func New(cfg Config) (*Workflow, error) {
	ob, err := outboxOf(cfg.Store, cfg.Outbox, "Config")
	if err != nil {
		return nil, err
	}
	w := &Workflow{store: cfg.Store, outbox: ob, templates: cfg.Templates, rules: cfg.Rules, gate: cfg.Gate, policy: cfg.Policy, now: cfg.Now}
	if w.gate == nil {
		w.gate = NewGate(GateConfig{})
	}
	if w.now == nil {
		w.now = time.Now
	}
	w.window = cfg.ReactionWindow
	if w.window <= 0 {
		w.window = 60 * 24 * time.Hour
	}
	if cfg.Rules != nil {
		var cs []string
		for _, ex := range cfg.Rules.Executors() {
			for _, c := range ex.Contacts {
				cs = append(cs, c)
			}
		}
		w.gate = w.gate.withContacts(cs)
	}
	return w, nil
}

// Gate returns the quality gate the workflow checks answers with.
func (w *Workflow) Gate() *Gate { return w.gate }

// ExecutorName returns the executor's Russian name from the rules file, or
// the id itself when there are no rules or the id is unknown.
func (w *Workflow) ExecutorName(id string) string {
	if w.rules != nil {
		if ex, ok := w.rules.Executor(id); ok && ex.Name != "" {
			return ex.Name
		}
	}
	return id
}

// outboxOf checks the store and finds the outbox: the one given, else the
// store's own.
func outboxOf(store appeal.Store, ob appeal.Outbox, config string) (appeal.Outbox, error) {
	if store == nil {
		return nil, fmt.Errorf("answer: %s.Store is nil", config)
	}
	if ob != nil {
		return ob, nil
	}
	o, ok := store.(appeal.Outbox)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrNoOutbox, store)
	}
	return o, nil
}

// calendar returns the executor's calendar, else the rules' default.
func (w *Workflow) calendar(executor string) *route.Calendar {
	if w.rules == nil {
		return nil
	}
	if ex, ok := w.rules.Executor(executor); ok && ex.Calendar != "" {
		if c, ok := w.rules.Calendar(ex.Calendar); ok {
			return c
		}
	}
	return w.rules.DefaultCalendar()
}

// stateRu names draft states for the history and the operator.
var stateRu = map[appeal.AnswerState]string{
	appeal.AnswerDraft:     "черновик",
	appeal.AnswerOnReview:  "на согласовании",
	appeal.AnswerApproved:  "согласован, в очереди на публикацию",
	appeal.AnswerReturned:  "возвращён",
	appeal.AnswerPublished: "опубликован",
}

// StateName returns the Russian name of a draft state.
func StateName(s appeal.AnswerState) string {
	if n, ok := stateRu[s]; ok {
		return n
	}
	return string(s)
}

// KindName returns the Russian name of an answer kind.
func KindName(k appeal.AnswerKind) string {
	switch k {
	case appeal.AnswerInterim:
		return "промежуточный"
	case appeal.AnswerFinal:
		return "окончательный"
	}
	return string(k)
}

// note is the history note of a draft's step.
func note(d *appeal.Draft, from appeal.AnswerState, extra string) string {
	s := "ответ " + d.ID + " (" + KindName(d.Kind) + "): "
	if from != "" && from != d.State {
		s += StateName(from) + " → "
	}
	s += StateName(d.State)
	if extra != "" {
		s += ": " + extra
	}
	return s
}

// event appends a history event for a draft step without a status change.
func event(a *appeal.Appeal, at time.Time, actor, text string) {
	a.History = append(a.History, appeal.Event{At: at, Actor: actor, From: a.Status, To: a.Status, Note: text})
}

// canAnswer reports whether the appeal is in a status that takes answers.
func canAnswer(a *appeal.Appeal, kind appeal.AnswerKind) error {
	switch a.Status {
	case appeal.StatusRouted, appeal.StatusInProgress, appeal.StatusReopened:
		return nil
	case appeal.StatusAnswered, appeal.StatusResolved:
		if kind == appeal.AnswerFinal {
			return nil // a second, corrected final answer
		}
	}
	return fmt.Errorf("%w: appeal %s is %s; %s answers need a routed appeal", ErrState, a.RedactedID(), a.Status, kind)
}

// Draft renders the template for the appeal's topic and kind into a new
// draft and stores it. For an interim answer the draft promises the date
// the template's promise_days give in the executor's calendar.
func (w *Workflow) Draft(ctx context.Context, id appeal.ID, kind appeal.AnswerKind, actor string, expectedVersion int64) (appeal.Appeal, appeal.Draft, error) {
	if w.templates == nil {
		return appeal.Appeal{}, appeal.Draft{}, errors.New("answer: Draft: Config.Templates is nil")
	}
	if !kind.Valid() {
		return appeal.Appeal{}, appeal.Draft{}, &appeal.FieldError{Field: "kind", Msg: fmt.Sprintf("unknown answer kind %q", kind)}
	}
	return w.addDraft(ctx, id, kind, "", actor, expectedVersion)
}

// Write stores a draft written by a person instead of a template.
func (w *Workflow) Write(ctx context.Context, id appeal.ID, kind appeal.AnswerKind, text, actor string, expectedVersion int64) (appeal.Appeal, appeal.Draft, error) {
	if !kind.Valid() {
		return appeal.Appeal{}, appeal.Draft{}, &appeal.FieldError{Field: "kind", Msg: fmt.Sprintf("unknown answer kind %q", kind)}
	}
	if strings.TrimSpace(text) == "" {
		return appeal.Appeal{}, appeal.Draft{}, &appeal.FieldError{Field: "text", Msg: "is empty"}
	}
	return w.addDraft(ctx, id, kind, text, actor, expectedVersion)
}

func (w *Workflow) addDraft(ctx context.Context, id appeal.ID, kind appeal.AnswerKind, text, actor string, expectedVersion int64) (appeal.Appeal, appeal.Draft, error) {
	now := w.now()
	var made appeal.Draft
	a, err := w.store.Update(ctx, id, expectedVersion, func(a *appeal.Appeal) error {
		if err := canAnswer(a, kind); err != nil {
			return err
		}
		d := appeal.Draft{ID: strconv.Itoa(len(a.Drafts) + 1), Kind: kind, Text: text, State: appeal.AnswerDraft,
			Executor: a.Executor(), CreatedAt: now, UpdatedAt: now}
		if text == "" {
			t, promised, err := w.render(a, kind, now)
			if err != nil {
				return err
			}
			d.Text, d.Promised = t, promised
		} else if kind == appeal.AnswerInterim {
			d.Promised = a.Promised
		}
		a.Drafts = append(a.Drafts, d)
		event(a, now, actor, note(&d, "", ""))
		made = d
		return nil
	})
	if err != nil {
		return appeal.Appeal{}, appeal.Draft{}, fmt.Errorf("answer: draft for %s: %w", id.Redacted(), err)
	}
	return a, made, nil
}

func (w *Workflow) render(a *appeal.Appeal, kind appeal.AnswerKind, now time.Time) (string, time.Time, error) {
	tmpl := w.templates
	if cal := w.calendar(a.Executor()); cal != nil && tmpl.cal == nil {
		c := *tmpl
		c.cal = cal
		tmpl = &c
	}
	return tmpl.Render(a, kind, Data{
		Topic:        topicTitle(a.TopTopic()),
		Executor:     w.ExecutorName(a.Executor()),
		Place:        a.Place,
		Municipality: a.Municipality,
		Received:     a.CreatedAt,
		Now:          now,
		Deadline:     a.Deadline(),
	})
}

// Edit replaces a draft's text. Only drafts and returned answers are
// editable; an edited returned answer becomes a draft again.
func (w *Workflow) Edit(ctx context.Context, id appeal.ID, draftID, text, actor string, expectedVersion int64) (appeal.Appeal, error) {
	if strings.TrimSpace(text) == "" {
		return appeal.Appeal{}, &appeal.FieldError{Field: "text", Msg: "is empty"}
	}
	return w.step(ctx, id, draftID, expectedVersion, func(a *appeal.Appeal, d *appeal.Draft, now time.Time) error {
		if d.State != appeal.AnswerDraft && d.State != appeal.AnswerReturned {
			return fmt.Errorf("%w: draft %s is %s", ErrState, d.ID, StateName(d.State))
		}
		from := d.State
		d.Text, d.State, d.Issues = text, appeal.AnswerDraft, nil
		event(a, now, actor, note(d, from, "текст изменён"))
		return nil
	})
}

// SetPromised sets the resolution date a draft promises (for an interim
// answer written by hand).
func (w *Workflow) SetPromised(ctx context.Context, id appeal.ID, draftID string, promised time.Time, actor string, expectedVersion int64) (appeal.Appeal, error) {
	return w.step(ctx, id, draftID, expectedVersion, func(a *appeal.Appeal, d *appeal.Draft, now time.Time) error {
		if d.State != appeal.AnswerDraft && d.State != appeal.AnswerReturned {
			return fmt.Errorf("%w: draft %s is %s", ErrState, d.ID, StateName(d.State))
		}
		d.Promised = promised
		event(a, now, actor, note(d, "", "обещанный срок "+FormatDateYear(promised)))
		return nil
	})
}

// Submit checks the draft with the gate. With issues, they are stored on
// the draft and a *GateError is returned (together with the stored
// appeal). Without, the draft goes on review when the policy asks for a
// moderator, else it is approved and queued for publishing.
func (w *Workflow) Submit(ctx context.Context, id appeal.ID, draftID, actor string, expectedVersion int64) (appeal.Appeal, error) {
	cur, err := w.store.Get(ctx, id)
	if err != nil {
		return appeal.Appeal{}, fmt.Errorf("answer: submit %s: %w", id.Redacted(), err)
	}
	if cur.Version != expectedVersion {
		return appeal.Appeal{}, fmt.Errorf("answer: submit %s: %w", id.Redacted(), &appeal.ConflictError{ID: id, Expected: expectedVersion, Actual: cur.Version})
	}
	d0, ok := cur.Draft(draftID)
	if !ok {
		return appeal.Appeal{}, fmt.Errorf("answer: submit %s: %w: %q", id.Redacted(), ErrNoDraft, draftID)
	}
	// The gate and the policy judge the draft as read; the writes below
	// are conditional on that very version, so they judge what is stored.
	issues := w.gate.Check(&cur, d0.Kind, d0.Text)
	editable := func(d *appeal.Draft) error {
		if d.State != appeal.AnswerDraft && d.State != appeal.AnswerReturned {
			return fmt.Errorf("%w: draft %s is %s", ErrState, d.ID, StateName(d.State))
		}
		return nil
	}
	if len(issues) > 0 {
		reasons := make([]string, len(issues))
		for i, is := range issues {
			reasons[i] = is.Reason
		}
		a, err := w.step(ctx, id, draftID, expectedVersion, func(a *appeal.Appeal, d *appeal.Draft, now time.Time) error {
			if err := editable(d); err != nil {
				return err
			}
			from := d.State
			d.State, d.Issues = appeal.AnswerDraft, reasons
			event(a, now, actor, note(d, from, "не прошёл проверку: "+strings.Join(reasons, " ")))
			return nil
		})
		if err != nil {
			return appeal.Appeal{}, err
		}
		return a, &GateError{AppealID: id, DraftID: draftID, Issues: issues}
	}
	pass := func(to appeal.AnswerState, extra string) stepFunc {
		return func(a *appeal.Appeal, d *appeal.Draft, now time.Time) error {
			if err := editable(d); err != nil {
				return err
			}
			from := d.State
			d.State, d.Issues, d.Comment = to, nil, ""
			event(a, now, actor, note(d, from, extra))
			return nil
		}
	}
	if w.policy.NeedsApproval(&cur, d0) {
		return w.step(ctx, id, draftID, expectedVersion, pass(appeal.AnswerOnReview, ""))
	}
	return w.stepEnqueue(ctx, id, draftID, expectedVersion, pass(appeal.AnswerApproved, "согласование не требуется"))
}

// Approve is a moderator's approval of a draft on review: it is queued for
// publishing in the same write.
func (w *Workflow) Approve(ctx context.Context, id appeal.ID, draftID, actor string, expectedVersion int64) (appeal.Appeal, error) {
	return w.stepEnqueue(ctx, id, draftID, expectedVersion, func(a *appeal.Appeal, d *appeal.Draft, now time.Time) error {
		if d.State != appeal.AnswerOnReview {
			return fmt.Errorf("%w: draft %s is %s, not on review", ErrState, d.ID, StateName(d.State))
		}
		d.State = appeal.AnswerApproved
		event(a, now, actor, note(d, appeal.AnswerOnReview, ""))
		return nil
	})
}

// Return sends a draft on review back to its author with the moderator's
// comment, which is required.
func (w *Workflow) Return(ctx context.Context, id appeal.ID, draftID, actor, comment string, expectedVersion int64) (appeal.Appeal, error) {
	if strings.TrimSpace(comment) == "" {
		return appeal.Appeal{}, &appeal.FieldError{Field: "comment", Msg: "is required to return an answer"}
	}
	return w.step(ctx, id, draftID, expectedVersion, func(a *appeal.Appeal, d *appeal.Draft, now time.Time) error {
		if d.State != appeal.AnswerOnReview {
			return fmt.Errorf("%w: draft %s is %s, not on review", ErrState, d.ID, StateName(d.State))
		}
		d.State, d.Comment = appeal.AnswerReturned, comment
		event(a, now, actor, note(d, appeal.AnswerOnReview, comment))
		return nil
	})
}

type stepFunc func(a *appeal.Appeal, d *appeal.Draft, now time.Time) error

func (w *Workflow) step(ctx context.Context, id appeal.ID, draftID string, expectedVersion int64, fn stepFunc) (appeal.Appeal, error) {
	now := w.now()
	a, err := w.store.Update(ctx, id, expectedVersion, func(a *appeal.Appeal) error {
		d, ok := a.Draft(draftID)
		if !ok {
			return fmt.Errorf("%w: %q", ErrNoDraft, draftID)
		}
		d.UpdatedAt = now
		return fn(a, d, now)
	})
	if err != nil {
		return appeal.Appeal{}, fmt.Errorf("answer: appeal %s, draft %s: %w", id.Redacted(), draftID, err)
	}
	return a, nil
}

// stepEnqueue is step plus the outbox message of the approved draft, in
// one transaction.
func (w *Workflow) stepEnqueue(ctx context.Context, id appeal.ID, draftID string, expectedVersion int64, fn stepFunc) (appeal.Appeal, error) {
	now := w.now()
	cur, err := w.store.Get(ctx, id)
	if err != nil {
		return appeal.Appeal{}, fmt.Errorf("answer: appeal %s, draft %s: %w", id.Redacted(), draftID, err)
	}
	d0, ok := cur.Draft(draftID)
	if !ok {
		return appeal.Appeal{}, fmt.Errorf("answer: appeal %s: %w: %q", id, ErrNoDraft, draftID)
	}
	msg := appeal.OutboxMessage{Key: OutboxKey(id, draftID, d0.Text), AppealID: id, DraftID: draftID,
		Channel: string(cur.Network), Text: d0.Text, CreatedAt: now}
	a, err := w.outbox.UpdateAndEnqueue(ctx, id, expectedVersion, func(a *appeal.Appeal) error {
		d, ok := a.Draft(draftID)
		if !ok {
			return fmt.Errorf("%w: %q", ErrNoDraft, draftID)
		}
		if d.Text != msg.Text {
			return fmt.Errorf("%w: draft %s changed meanwhile", appeal.ErrConflict, draftID)
		}
		d.UpdatedAt = now
		return fn(a, d, now)
	}, msg)
	if err != nil {
		return appeal.Appeal{}, fmt.Errorf("answer: appeal %s, draft %s: %w", id.Redacted(), draftID, err)
	}
	return a, nil
}

// OutboxKey is the idempotency key of a draft's publication: the same
// appeal, draft and text always give the same key, so a retried or
// repeated publication is recognised, by the outbox and by networks that
// deduplicate (VK guid).
func OutboxKey(id appeal.ID, draftID, text string) string {
	h := sha256.Sum256([]byte(string(id) + "\x00" + draftID + "\x00" + text))
	return hex.EncodeToString(h[:16])
}
