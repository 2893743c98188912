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
// Nothing here is needed by a single process: the root package does not
// import NATS, and the embedded SQLite setup stays the default.
package jetstream
