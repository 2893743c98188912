package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
)

// Answers is the answer loop (appeal/answer) as the console uses it.
type Answers struct {
	// Workflow drafts, checks, submits, approves and returns answers.
	// Required.
	Workflow *answer.Workflow
	// Publisher drains the outbox when a moderator presses «Опубликовать»
	// (a background publisher may drain it too). Required.
	Publisher *answer.Publisher
	// Policy is the approval policy the Workflow was built with, shown to
	// operators so they know whether a moderator will read their answer.
	Policy answer.Policy
	// Outbox shows what is queued; nil hides it.
	Outbox appeal.Outbox
}

type answerView struct {
	Drafts []draftView
	// CanWrite: the user may draft and submit answers to this appeal.
	CanWrite bool
	// CanModerate: the user approves, returns and publishes.
	CanModerate bool
	// Answerable: the appeal's status allows an answer now.
	Answerable bool
	// Queued counts this appeal's messages waiting in the outbox, and
	// QueueNote says why the last attempt failed, if it did.
	Queued    int
	QueueNote string
	// NeedsApproval says whether a new answer needs a moderator.
	NeedsApproval bool
	// Interimed: an interim answer is published, so the next one is
	// most likely the final one.
	Interimed bool
	// Open: a draft is still on its way (draft, returned, on review or
	// approved); a new one waits until it is published.
	Open bool
}

type draftView struct {
	D         appeal.Draft
	Kind      string
	State     string
	Promised  string
	Editable  bool
	OnReview  bool
	Approved  bool
	Published bool
	// Warnings are the gate's findings on the current text, checked as
	// the page is drawn; Stored are those recorded at the last submit.
	Warnings []answer.Issue
	// Reply is the published answer; Reaction the citizen's, if any.
	Reply    *appeal.Reply
	Reaction string
}

func (s *Server) answerRoutes() {
	s.mux.HandleFunc("GET /appeals/{id}/answer", s.authed((*User).SeesAppeals, s.withAnswers(s.answerPage)))
	s.mux.HandleFunc("POST /appeals/{id}/answer/new", s.authed((*User).SeesAppeals, s.withAnswers(s.answerNew)))
	s.mux.HandleFunc("POST /appeals/{id}/answer/{draft}/save", s.authed((*User).SeesAppeals, s.withAnswers(s.answerSave)))
	s.mux.HandleFunc("POST /appeals/{id}/answer/{draft}/approve", s.authed((*User).Moderates, s.withAnswers(s.answerApprove)))
	s.mux.HandleFunc("POST /appeals/{id}/answer/{draft}/return", s.authed((*User).Moderates, s.withAnswers(s.answerReturn)))
	s.mux.HandleFunc("POST /appeals/{id}/answer/publish", s.authed((*User).Moderates, s.withAnswers(s.answerPublish)))
}

// withAnswers answers 404 when the console runs without the answer loop.
func (s *Server) withAnswers(h func(*req)) func(*req) {
	return func(q *req) {
		if s.cfg.Answers == nil {
			s.errorPage(q.w, q.r, q, http.StatusNotFound, "Ответы в этой консоли не настроены.")
			return
		}
		h(q)
	}
}

// answerable: statuses in which an answer can still be given.
func answerable(st appeal.Status) bool {
	return st == appeal.StatusRouted || st == appeal.StatusInProgress || st == appeal.StatusReopened
}

func (s *Server) answerViewOf(q *req, a *appeal.Appeal) (*answerView, error) {
	an := s.cfg.Answers
	v := &answerView{CanWrite: s.canSee(q.user, a), CanModerate: q.user.Moderates(), Answerable: answerable(a.Status)}
	for _, k := range []appeal.AnswerKind{appeal.AnswerInterim, appeal.AnswerFinal} {
		v.NeedsApproval = v.NeedsApproval || an.Policy.NeedsApproval(a, &appeal.Draft{Kind: k, Executor: a.Executor()})
	}
	gate := an.Workflow.Gate()
	for _, d := range a.Drafts {
		dv := draftView{D: d, Kind: answer.KindName(d.Kind), State: answer.StateName(d.State), Promised: answer.FormatDateYear(d.Promised)}
		if d.State != appeal.AnswerPublished {
			v.Open = true
		}
		switch d.State {
		case appeal.AnswerDraft, appeal.AnswerReturned:
			dv.Editable = true
			dv.Warnings = gate.Check(a, d.Kind, d.Text)
		case appeal.AnswerOnReview:
			dv.OnReview = true
			dv.Warnings = gate.Check(a, d.Kind, d.Text)
		case appeal.AnswerApproved:
			dv.Approved = true
		case appeal.AnswerPublished:
			dv.Published = true
			v.Interimed = v.Interimed || d.Kind == appeal.AnswerInterim
			key := answer.OutboxKey(a.ID, d.ID, d.Text)
			for i := range a.Replies {
				if r := &a.Replies[i]; r.Key == key || (r.Key == "" && r.Text == d.Text) {
					dv.Reply = r
					if r.Reaction != "" {
						dv.Reaction = answer.ReactionName(r.Reaction)
					}
				}
			}
		}
		v.Drafts = append(v.Drafts, dv)
	}
	if an.Outbox != nil {
		pending, err := an.Outbox.Pending(q.r.Context())
		if err != nil {
			return nil, err
		}
		for _, m := range pending {
			if m.AppealID == a.ID {
				v.Queued++
				if m.LastError != "" {
					v.QueueNote = m.LastError
				}
			}
		}
	}
	return v, nil
}

type answerPageData struct {
	A        appeal.Appeal
	Deadline string
	Left     string
	Overdue  bool
	V        *answerView
}

func (s *Server) answerPage(q *req) {
	a, ok := s.appealFor(q)
	if !ok {
		return
	}
	v, err := s.answerViewOf(q, &a)
	if err != nil {
		s.fail(q, err)
		return
	}
	d := &answerPageData{A: a, Deadline: s.fmtDeadline(a.Deadline(), "02.01.2006 15:04"), V: v}
	d.Left, d.Overdue = s.timeLeft(&a, s.now())
	s.show(q, "answer", "Ответ на обращение "+string(a.ID), "queue", d)
}

const answerSuffix = "/answer"

// answerNew starts a draft: from the template of the appeal's topic, or
// written by hand when the form carries a text.
func (s *Server) answerNew(q *req) {
	a, ver, ok := s.versioned(q, answerSuffix)
	if !ok {
		return
	}
	kind := appeal.AnswerKind(q.r.PostFormValue("kind"))
	if !kind.Valid() {
		s.back(q, a.ID, answerSuffix, "Выберите вид ответа: промежуточный или окончательный.")
		return
	}
	wf := s.cfg.Answers.Workflow
	var err error
	if text := strings.TrimSpace(q.r.PostFormValue("text")); text != "" {
		_, _, err = wf.Write(q.r.Context(), a.ID, kind, text, q.user.Actor(), ver)
	} else {
		_, _, err = wf.Draft(q.r.Context(), a.ID, kind, q.user.Actor(), ver)
	}
	if errors.Is(err, answer.ErrNoTemplate) {
		s.back(q, a.ID, answerSuffix, "Для темы этого обращения нет шаблона такого вида: напишите ответ сами.")
		return
	}
	if err != nil {
		s.answerFailed(q, a.ID, err)
		return
	}
	s.back(q, a.ID, answerSuffix, "Черновик готов: проверьте текст и отправьте.")
}

// answerSave saves the edited text and, when asked, submits the draft:
// the gate checks it, then it goes to a moderator or straight to the outbox.
func (s *Server) answerSave(q *req) {
	a, ver, ok := s.versioned(q, answerSuffix)
	if !ok {
		return
	}
	draftID := q.r.PathValue("draft")
	d, ok := a.Draft(draftID)
	if !ok {
		s.back(q, a.ID, answerSuffix, "Черновик не найден.")
		return
	}
	wf := s.cfg.Answers.Workflow
	ctx := q.r.Context()
	text := strings.TrimSpace(strings.ReplaceAll(q.r.PostFormValue("text"), "\r\n", "\n"))
	if text != "" && text != strings.TrimSpace(d.Text) {
		edited, err := wf.Edit(ctx, a.ID, draftID, text, q.user.Actor(), ver)
		if err != nil {
			s.answerFailed(q, a.ID, err)
			return
		}
		ver = edited.Version
	}
	if q.r.PostFormValue("submit") == "" {
		s.back(q, a.ID, answerSuffix, "Черновик сохранён.")
		return
	}
	after, err := wf.Submit(ctx, a.ID, draftID, q.user.Actor(), ver)
	var gateErr *answer.GateError
	switch {
	case errors.As(err, &gateErr):
		s.back(q, a.ID, answerSuffix, "Проверка качества нашла замечания: исправьте текст и отправьте снова.")
	case err != nil:
		s.answerFailed(q, a.ID, err)
	default:
		msg := "Ответ отправлен на согласование модератору ЦУР."
		if d, ok := after.Draft(draftID); ok && d.State == appeal.AnswerApproved {
			msg = "Ответ принят без согласования и поставлен в очередь на публикацию."
		}
		s.back(q, a.ID, answerSuffix, msg)
	}
}

func (s *Server) answerApprove(q *req) {
	a, ver, ok := s.versioned(q, answerSuffix)
	if !ok {
		return
	}
	if _, err := s.cfg.Answers.Workflow.Approve(q.r.Context(), a.ID, q.r.PathValue("draft"), q.user.Actor(), ver); err != nil {
		s.answerFailed(q, a.ID, err)
		return
	}
	s.back(q, a.ID, answerSuffix, "Ответ утверждён и поставлен в очередь на публикацию.")
}

func (s *Server) answerReturn(q *req) {
	a, ver, ok := s.versioned(q, answerSuffix)
	if !ok {
		return
	}
	comment := strings.TrimSpace(q.r.PostFormValue("comment"))
	if comment == "" {
		s.back(q, a.ID, answerSuffix, "Напишите, что исправить: без комментария ответ не возвращают.")
		return
	}
	if _, err := s.cfg.Answers.Workflow.Return(q.r.Context(), a.ID, q.r.PathValue("draft"), q.user.Actor(), comment, ver); err != nil {
		s.answerFailed(q, a.ID, err)
		return
	}
	s.back(q, a.ID, answerSuffix, "Ответ возвращён исполнителю с комментарием.")
}

// answerPublish drains the outbox now instead of waiting for the
// background publisher.
func (s *Server) answerPublish(q *req) {
	a, ok := s.appealFor(q)
	if !ok {
		return
	}
	if _, err := s.cfg.Answers.Publisher.Drain(q.r.Context()); err != nil {
		s.fail(q, err)
		return
	}
	after, err := s.cfg.Store.Get(q.r.Context(), a.ID)
	if err != nil {
		s.fail(q, err)
		return
	}
	msg := "Утверждённых ответов в очереди нет."
	for _, before := range a.Drafts {
		if before.State != appeal.AnswerApproved {
			continue
		}
		d, ok := after.Draft(before.ID)
		switch {
		case !ok:
		case d.State == appeal.AnswerPublished:
			msg = "Ответ опубликован."
		case d.State == appeal.AnswerReturned:
			msg = "Публикация не удалась, ответ возвращён: " + d.Comment
		default:
			msg = "Сеть пока не приняла ответ; публикация будет повторена."
		}
	}
	s.back(q, a.ID, answerSuffix, msg)
}

// answerFailed turns an answer-loop error into a message for the person.
func (s *Server) answerFailed(q *req, id appeal.ID, err error) {
	switch {
	case errors.Is(err, answer.ErrState):
		s.back(q, id, answerSuffix, "В текущем состоянии черновика этот шаг невозможен: обновите страницу.")
	case errors.Is(err, answer.ErrNoDraft):
		s.back(q, id, answerSuffix, "Черновик не найден.")
	default:
		s.changeFailed(q, id, answerSuffix, err)
	}
}
