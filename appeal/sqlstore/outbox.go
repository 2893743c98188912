package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/appealkit/appealkit/appeal"
)

// The answer outbox (appeal.Outbox) is the table answer_outbox: one row per
// approved answer, with the due time as an indexed column and the message
// as JSON. UpdateAndEnqueue writes the appeal and the row in one
// transaction; Claim moves due rows' not_before forward with a
// compare-and-set on the value it read, so that two publishers never claim
// the same row.

var _ appeal.Outbox = (*Store)(nil)

// UpdateAndEnqueue implements appeal.Outbox.
func (s *Store) UpdateAndEnqueue(ctx context.Context, id appeal.ID, expectedVersion int64, mutate func(*appeal.Appeal) error, m appeal.OutboxMessage) (appeal.Appeal, error) {
	a, err := s.updateAndEnqueue(ctx, id, expectedVersion, mutate, m)
	if err != nil {
		return appeal.Appeal{}, fmt.Errorf("sqlstore: update %s and enqueue answer: %w", id.Redacted(), err)
	}
	return a, nil
}

func (s *Store) updateAndEnqueue(ctx context.Context, id appeal.ID, expected int64, mutate func(*appeal.Appeal) error, m appeal.OutboxMessage) (appeal.Appeal, error) {
	if err := appeal.CheckOutboxMessage(&m); err != nil {
		return appeal.Appeal{}, err
	}
	if m.AppealID != id {
		return appeal.Appeal{}, &appeal.FieldError{Field: "appeal_id", Msg: fmt.Sprintf("%q is not the appeal updated (%q)", m.AppealID.Redacted(), id.Redacted())}
	}
	m.Attempts, m.InFlight = 0, false
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now()
	}
	doc, err := json.Marshal(&m)
	if err != nil {
		return appeal.Appeal{}, err
	}
	cur, next, err := s.prepareChange(ctx, id, expected, appeal.CheckedUpdate(mutate))
	if err != nil {
		return appeal.Appeal{}, err
	}
	r, err := encode(&next)
	if err != nil {
		return appeal.Appeal{}, err
	}
	var conflict, keyTaken bool
	err = s.inTx(ctx, func(w *writer) error {
		var err error
		if conflict, err = s.writeChange(ctx, w, &r, &cur, &next, !sameTopics(&cur, &next)); err != nil {
			return err
		}
		res, err := w.exec(ctx, rebind(s.dialect,
			`INSERT INTO answer_outbox (msg_key, appeal_id, created_at, not_before, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT (msg_key) DO NOTHING`),
			m.Key, string(m.AppealID), nanos(m.CreatedAt), nanos(m.NotBefore), string(doc))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			keyTaken = true
			return errRollback
		}
		return nil
	})
	switch {
	case conflict:
		return appeal.Appeal{}, s.conflictError(ctx, id, cur.Version)
	case keyTaken:
		return appeal.Appeal{}, fmt.Errorf("%w: %q", appeal.ErrOutboxKey, m.Key)
	case err != nil:
		return appeal.Appeal{}, err
	}
	return next, nil
}

func scanOutbox(rs *sql.Rows) ([]appeal.OutboxMessage, []int64, error) {
	defer rs.Close()
	var (
		out []appeal.OutboxMessage
		nbs []int64
		key string
		nb  int64
		doc []byte
	)
	for rs.Next() {
		if err := rs.Scan(&key, &nb, &doc); err != nil {
			return nil, nil, err
		}
		var m appeal.OutboxMessage
		if err := json.Unmarshal(doc, &m); err != nil {
			return nil, nil, fmt.Errorf("sqlstore: outbox message %q: stored document: %w", key, err)
		}
		out = append(out, m)
		nbs = append(nbs, nb)
	}
	return out, nbs, rs.Err()
}

// Claim implements appeal.Outbox.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]appeal.OutboxMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	rs, err := s.db.QueryContext(ctx, rebind(s.dialect,
		`SELECT msg_key, not_before, doc FROM answer_outbox WHERE not_before <= ? ORDER BY created_at, msg_key LIMIT ?`),
		nanos(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim outbox: %w", err)
	}
	due, nbs, err := scanOutbox(rs)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim outbox: %w", err)
	}
	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	claimed := due[:0]
	for i, m := range due {
		stored := m
		stored.Attempts++
		stored.InFlight = true
		stored.NotBefore = now.Add(lease)
		doc, err := json.Marshal(&stored)
		if err != nil {
			return nil, err
		}
		// Compare-and-set on the due time read: another publisher that
		// claimed the row first moved it, and this update finds nothing.
		res, err := s.db.ExecContext(ctx, rebind(s.dialect,
			`UPDATE answer_outbox SET not_before = ?, doc = ? WHERE msg_key = ? AND not_before = ?`),
			nanos(stored.NotBefore), string(doc), m.Key, nbs[i])
		if err != nil {
			return nil, fmt.Errorf("sqlstore: claim outbox message %q: %w", m.Key, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("sqlstore: claim outbox message %q: %w", m.Key, err)
		} else if n == 1 {
			m.Attempts++
			claimed = append(claimed, m)
		}
	}
	return claimed, nil
}

// Retry implements appeal.Outbox.
func (s *Store) Retry(ctx context.Context, key string, next time.Time, reason string) error {
	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	var doc []byte
	err = s.db.QueryRowContext(ctx, rebind(s.dialect, `SELECT doc FROM answer_outbox WHERE msg_key = ?`), key).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlstore: retry outbox message %q: %w", key, err)
	}
	var m appeal.OutboxMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return fmt.Errorf("sqlstore: outbox message %q: stored document: %w", key, err)
	}
	m.InFlight, m.NotBefore, m.LastError = false, next, reason
	nd, err := json.Marshal(&m)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, rebind(s.dialect, `UPDATE answer_outbox SET not_before = ?, doc = ? WHERE msg_key = ?`),
		nanos(next), string(nd), key); err != nil {
		return fmt.Errorf("sqlstore: retry outbox message %q: %w", key, err)
	}
	return nil
}

// Remove implements appeal.Outbox.
func (s *Store) Remove(ctx context.Context, key string) error {
	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.db.ExecContext(ctx, rebind(s.dialect, `DELETE FROM answer_outbox WHERE msg_key = ?`), key); err != nil {
		return fmt.Errorf("sqlstore: remove outbox message %q: %w", key, err)
	}
	return nil
}

// Pending implements appeal.Outbox.
func (s *Store) Pending(ctx context.Context) ([]appeal.OutboxMessage, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT msg_key, not_before, doc FROM answer_outbox ORDER BY created_at, msg_key`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list outbox: %w", err)
	}
	out, _, err := scanOutbox(rs)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list outbox: %w", err)
	}
	return out, nil
}
