package sqlstore

// SetArrays switches a PostgreSQL store between pgx's array batches and the
// multi-row VALUES statements other drivers get, so tests cover both.
func SetArrays(s *Store, on bool) { s.arrays = on }

// Classify exposes classify to the tests.
var Classify = classify
