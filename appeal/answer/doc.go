// Package answer is the second half of a ЦУР's work: the answer to the
// citizen, from a draft to the citizen's reaction.
//
//	routed appeal
//	   │  Workflow.Draft: a Template per topic and kind (Templates, a YAML
//	   │  file an analyst writes: Russian dates, plurals, working days)
//	   ▼
//	 draft ──Workflow.Submit──▶ quality Gate (отписка, rudeness, bureaucratic
//	   ▲                        phrasing, others' personal data, off-topic,
//	   │                        promises without a date): issues keep it a draft
//	   │                          │ Policy says a moderator must approve?
//	   │                    yes ▼               no ▼
//	   │   returned ◀──Return── on_review ──Approve──▶ approved
//	   └───(edit, submit again)                        │ written with its OutboxMessage
//	                                                   ▼ in one transaction (appeal.Outbox)
//	                            Publisher drains the outbox through a Channel per
//	                            network (source.Replier: VK, Telegram, OK), e-mail
//	                            (SMTP) or a portal (signed HTTP callback); retries
//	                            with backoff; idempotency keys; a permanent failure
//	                            returns the draft to the operator with the reason
//	                                                   ▼
//	                                              published: interim → in_progress,
//	                                              final → answered (appeal.Reply)
//	                                                   ▼
//	      the author's next message in the thread: Workflow.React classifies it
//	      (thanks → satisfaction; not solved → reopened, counts against the
//	      executor; new question → kept for the operator)
//
// Where answers can be published (a Channel per OutboxMessage.Channel):
//
//   - VK (vk.Replier): wall posts and comments, including communities the
//     region does not own, answered as the community (from_group); discussion
//     and photo comments (board.createComment, photos.createComment — VK
//     allows them with a community admin's user token only); private
//     messages (messages.send). Idempotent: guid and random_id come from the
//     outbox key, so VK drops a repeat after a crash.
//   - Telegram (telegram.Source and telegram.Webhook are Repliers): a reply
//     in the chat or discussion group. The Bot API has no idempotency key,
//     so the Channel is not Idempotent: a message caught mid-post by a crash,
//     or failed in a way that may have posted it (a timeout, a 5xx), goes
//     back to the operator to check instead of being posted twice; rate
//     limits (429: not sent) are retried.
//     MAX has no adapter in this repository yet; it would be configured the
//     same way (message ids recorded, not Idempotent).
//   - Odnoklassniki: not answered by this SDK. source/ok reads group topics
//     and comments but has no Replier, so OK answers go back to the operator
//     («Нет канала публикации … ответьте вручную») and are posted by hand.
//   - A portal (PortalReplier): a JSON callback signed with HMAC-SHA256,
//     the outbox key in Idempotency-Key; VerifyPortalCallback is the
//     portal's side.
//   - E-mail (EmailReplier): SMTP with STARTTLS and SASL PLAIN; the
//     Message-ID comes from the outbox key.
//
// Every step is a versioned store write with optimistic concurrency (the
// caller passes the version it read; a stale one gives appeal.ErrConflict)
// and an appeal.Event in the history with its actor. Statistics of the
// loop — time to first answer, time to resolution, promises kept,
// satisfaction — are in appeal/stats.
package answer
