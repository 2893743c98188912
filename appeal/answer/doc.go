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
// Every step is a versioned store write with optimistic concurrency (the
// caller passes the version it read; a stale one gives appeal.ErrConflict)
// and an appeal.Event in the history with its actor. Statistics of the
// loop — time to first answer, time to resolution, promises kept,
// satisfaction — are in appeal/stats.
package answer
