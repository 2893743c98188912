// Package appealkit turns what citizens write on social networks into
// routed, tracked appeals (обращения) for government bodies: the parts a
// Regional Management Centre (ЦУР) portal team needs for incident
// management, as importable packages.
//
// The whole flow, source → classify → route → store → answer → report
// (Example runs it end to end; errors are checked there):
//
//	src, _ := vk.NewMonitor(vk.MonitorConfig{API: vk.API{Token: token}, Communities: list, Checkpoints: store})
//	classifier, _ := classify.New()                         // shipped rubricator
//	rules, _ := route.ParseFile("rules.yaml")               // executor, deadline in working hours
//	p, _ := appealkit.New(appealkit.Config{Store: store,    // appeal.Store: sqlstore or in memory
//		Classifier: classifier,                         // an AppealClassifier; appealkit.Classify adds options
//		Router:     rules,                              // an AppealRouter; appealkit.Route adds options
//		Inputs:     []appealkit.Input{{Name: "vk", Source: src}}})
//	err := p.Run(ctx)                                       // until ctx ends; restarts resume from checkpoints
//	wf, _ := answer.New(answer.Config{Store: store, Templates: tmpl, Rules: rules})
//	a, d, _ := wf.Draft(ctx, id, appeal.AnswerInterim, "operator", version) // then Submit, Approve, publish
//	rep := stats.FromSlice(appeals, stats.Config{Now: time.Now()})          // appeal/report renders it
//
// LoadDeployment builds the same from one YAML file (sources with their
// secrets in environment variables, store, rules, gazetteer, model, answer
// templates), reporting mistakes at file:line:col; source/builtin registers
// the shipped source kinds, and Registry.Register adds a program's own.
//
// The data flow:
//
//	source/* adapters ──Sink──▶ classify ──▶ route ──▶ appeal.Store
//	      ▲  (checkpoint only after the sink accepted)        │
//	      └────── source.Replier: the answer goes back ◀──────┘
//
// Packages:
//
//   - appeal: the Appeal model, its lifecycle state machine (new → routed →
//     in_progress → answered → resolved; rejected; reopened), history, the
//     Store interface with an in-memory store, appeal/storetest (the store
//     conformance suite), appeal/sqlstore (SQLite and PostgreSQL),
//     appeal/incident (grouping duplicates) and appeal/stats (reporting).
//   - source: the adapter contract (Source, Sink, Checkpoints, Replier),
//     rate limits, retries, dedup, source/sourcetest (the conformance suite
//     every adapter passes) and adapters: source/vk, source/telegram,
//     source/ok, source/webhook, source/replay.
//   - classify: Russian normalisation and stemming, the shipped rubricator,
//     a trainable topic model, appeal-vs-noise, urgency, place extraction,
//     evaluation.
//   - route: a declarative rules engine that decides executor, deadline in
//     working hours, priority and escalation, and explains every decision.
//
// Pipeline, in this package, wires them: sources → classifier → router →
// store with bounded workers, backpressure and graceful shutdown. A source
// that can (source.AsyncSource, such as source/replay) keeps many appeals
// in flight through a source.Window; appeals are routed in memory and
// written in batches, each with its routing and history in one
// transaction, while the source's checkpoint covers only what is stored.
// Store outages are retried, poisoned appeals dead-lettered, failed inputs
// restarted. It holds nothing a user could not write from the packages.
//
// Delivery is at-least-once from every source and effectively-once in the
// store: an appeal's ID derives from its network and external id, and
// Store.Put is idempotent.
//
// Personal data (author names, ids, phones) falls under 152-ФЗ: the library
// never logs it in clear; see appeal.Appeal.Redacted.
package appealkit
