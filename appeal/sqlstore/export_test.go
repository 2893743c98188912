package sqlstore

import (
	"context"

	"github.com/appealkit/appealkit/appeal"
)

// SetArrays switches a PostgreSQL store between pgx's array batches and the
// multi-row VALUES statements other drivers get, so tests cover both.
func SetArrays(s *Store, on bool) { s.arrays = on }

// Classify exposes classify to the tests.
var Classify = classify

// SetBeginResult makes f replace the result of every BEGIN IMMEDIATE that a
// SQLite store's writer runs under ctx (nil: stop).
func SetBeginResult(s *Store, f func(ctx context.Context, err error) error) { s.beginResult = f }

// BackfillCoExecutors is migration 4's backfill, for a test that clears
// the column and fills it again.
func BackfillCoExecutors(d Dialect) string { return backfillCoExecutors(d) }

// SetCommitResult makes f replace the result of every gated (group commit)
// PostgreSQL COMMIT; f gets the gate's context (nil: stop).
func SetCommitResult(s *Store, f func(gate context.Context, err error) error) { s.commitResult = f }

// BackfillIncidentThread is migration 5's backfill.
func BackfillIncidentThread(d Dialect) string { return backfillIncidentThread(d) }

// ListSQL is the query List runs for f.
func ListSQL(s *Store, f appeal.Filter) (string, []any) { return s.listSQL(&f) }
