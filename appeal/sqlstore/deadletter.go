package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

var _ appeal.DeadLetterStore = (*Store)(nil)

// PutDeadLetter implements appeal.DeadLetterStore: it keeps d in the
// dead_letters table, once per appeal.DeadLetterKey. The appeal is kept as
// JSON text, so whatever made it refused (a NUL byte, a NaN score) can be
// kept too: invalid UTF-8 is kept as U+FFFD, non-finite numbers as 0, and
// the key, input and reason with NUL and invalid bytes replaced, since
// neither database column takes them everywhere.
func (s *Store) PutDeadLetter(ctx context.Context, d appeal.DeadLetter) error {
	if s.readOnly {
		return fmt.Errorf("sqlstore: put dead letter: %w", ErrReadOnly)
	}
	if d.At.IsZero() {
		d.At = time.Now()
	}
	doc, err := json.Marshal(d.Appeal)
	if err != nil {
		c := d.Appeal.Clone()
		finite := func(f float64) float64 {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return 0
			}
			return f
		}
		if c.Geo != nil {
			c.Geo.Lat, c.Geo.Lon = finite(c.Geo.Lat), finite(c.Geo.Lon)
		}
		for i := range c.Topics {
			c.Topics[i].Score = finite(c.Topics[i].Score)
		}
		c.CreatedAt, c.ReceivedAt = clampYear(c.CreatedAt), clampYear(c.ReceivedAt)
		if doc, err = json.Marshal(c); err != nil {
			return fmt.Errorf("sqlstore: put dead letter %s: encode: %w", clean(string(d.ID.Redacted())), err)
		}
	}
	id := d.ID
	if id == "" {
		id = d.Appeal.ID
	}
	q := rebind(s.dialect, `INSERT INTO dead_letters (key, appeal_id, input, reason, at, doc) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`)
	err = s.inTx(ctx, func(w *writer) error {
		_, err := w.exec(ctx, q, clean(appeal.DeadLetterKey(&d)), clean(string(id)), clean(d.Input), clean(d.Reason), d.At.UnixNano(), string(doc))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: put dead letter %s: %w", clean(string(id.Redacted())), err)
	}
	return nil
}

// DeadLetters implements appeal.DeadLetterStore.
func (s *Store) DeadLetters(ctx context.Context, limit int) ([]appeal.DeadLetter, error) {
	q := `SELECT appeal_id, input, reason, at, doc FROM dead_letters ORDER BY at, key`
	var args []any
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, int64(limit))
	}
	rs, err := s.db.QueryContext(ctx, rebind(s.dialect, q), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: dead letters: %w", classify(err))
	}
	defer rs.Close()
	out := make([]appeal.DeadLetter, 0)
	for rs.Next() {
		var (
			d   appeal.DeadLetter
			id  string
			at  int64
			doc []byte
		)
		if err := rs.Scan(&id, &d.Input, &d.Reason, &at, &doc); err != nil {
			return nil, fmt.Errorf("sqlstore: dead letters: %w", err)
		}
		d.ID, d.At = appeal.ID(id), time.Unix(0, at)
		if err := json.Unmarshal(doc, &d.Appeal); err != nil {
			return nil, fmt.Errorf("sqlstore: dead letter %s: stored document: %w", appeal.ID(id).Redacted(), err)
		}
		out = append(out, d)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: dead letters: %w", classify(err))
	}
	return out, nil
}

// clean makes s storable in any text column: valid UTF-8 without NUL.
func clean(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// clampYear keeps t within what JSON's RFC 3339 can write.
func clampYear(t time.Time) time.Time {
	switch {
	case t.Year() < 1:
		return time.Time{}
	case t.Year() > 9999:
		return time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	}
	return t
}
