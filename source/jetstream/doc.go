// Package jetstream runs appealkit on several machines over NATS JetStream:
// intake replicas poll the networks and publish accepted appeals to a
// stream, worker replicas share a durable pull consumer on it and run the
// pipeline, and JetStream KV leases split the polling work and elect the
// replica that runs singletons (escalation).
//
//	intake replicas ──Publisher──▶ stream APPEALS (appeals.<network>.<municipality>)
//	                                   │ durable pull consumer "workers"
//	worker replicas ◀──Source─────────┘ ──▶ Pipeline ──▶ PostgreSQL
//	                   poison ──▶ stream APPEALS_DEAD (appeals-dead.>)
//
// Delivery stays at-least-once end to end and the store's idempotent Put
// makes it effectively-once: an intake source saves its checkpoint only
// after JetStream acknowledged the publish (Publisher), JetStream drops a
// republished appeal by its ID (Nats-Msg-Id), and a worker acknowledges an
// appeal only after the pipeline stored and routed it (Source).
//
// The pieces:
//
//   - Setup creates (idempotently) the appeals stream, the dead-letter
//     stream and the workers' durable consumer from a Config.
//   - Publisher is the intake sink: Sink waits for JetStream's
//     acknowledgement, AsyncSink (with a source.Window) keeps many
//     publishes in flight.
//   - Source is the worker input: a source.AsyncSource for the pipeline,
//     with acks after storing, naks with backoff, in-progress signals while
//     the store is slow, and dead letters after Config.MaxDeliveries.
//   - Leases spreads Work (community shards, search queries) over the live
//     intake replicas and runs a Singleton (escalation) on one replica, on
//     a KV bucket with a TTL; Checkpoints keeps the intake cursors in a KV
//     bucket all replicas share.
//
// examples/cluster is a complete intake/worker binary with a three-machine
// layout and what to monitor.
//
// Nothing here is needed by a single process: the root package does not
// import NATS, and the embedded SQLite setup stays the default.
package jetstream
