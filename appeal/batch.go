package appeal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"iter"
	"strings"
)

// Checkpoint is a source's cursor saved under a key, as
// source.Checkpoints keeps it. A BatchStore can save one in the same
// transaction as the appeals it covers, so that the cursor never runs ahead
// of what is stored and one commit does both.
type Checkpoint struct {
	Key, Cursor string
}

// BatchStore is an optional capability of a Store (find it by type
// assertion): writing many appeals in few transactions. MemoryStore and the
// SQL stores in appeal/sqlstore implement it.
type BatchStore interface {
	Store
	// PutBatch stores appeals as Put stores each (an appeal may come
	// already routed, with its History, and is then stored in one write)
	// and returns created[i] for appeals[i]; an appeal given twice counts
	// as created only the first time.
	//
	// One bad appeal does not fail the others: an appeal that fails
	// validation or that the database refuses is left out, the others are
	// stored, and the error is a *BatchError naming each refused index
	// (created is then still full length). An error that is not a
	// *BatchError (the context's, or one matching ErrUnavailable) means
	// the batch, or its remainder, was not written; retrying it is safe.
	//
	// With save, the checkpoint is written in the same transaction as the
	// (last part of the) batch, and only when no appeal was refused: after
	// a *BatchError the caller deals with the refused appeals (a
	// DeadLetterStore) and saves the checkpoint itself.
	PutBatch(ctx context.Context, appeals []Appeal, save ...Checkpoint) (created []bool, err error)
}

// ItemError is why one appeal of a batch was refused.
type ItemError struct {
	// Index is the appeal's position in the batch.
	Index int
	// ID is the appeal's ID, or "" when it had none.
	ID  ID
	Err error
}

// BatchError reports the appeals of a batch that were refused while the
// others were stored. errors.Is(err, ErrInvalid) holds when any refusal
// matches it; errors.As finds the *BatchError.
type BatchError struct {
	// Items lists the refused appeals in batch order.
	Items []ItemError
}

// Error counts the refused appeals and names the first few.
func (e *BatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "appeal: %d appeal(s) of the batch refused", len(e.Items))
	for i, it := range e.Items {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Items)-i)
			break
		}
		fmt.Fprintf(&b, "; appeal #%d %s: %v", it.Index, it.ID, it.Err)
	}
	return b.String()
}

// Unwrap returns the per-appeal errors, so errors.Is and errors.As look
// into them.
func (e *BatchError) Unwrap() []error {
	out := make([]error, len(e.Items))
	for i, it := range e.Items {
		out[i] = it.Err
	}
	return out
}

// Err returns why the appeal at index i was refused, or nil when it was not.
func (e *BatchError) Err(i int) error {
	for _, it := range e.Items {
		if it.Index == i {
			return it.Err
		}
	}
	return nil
}

// Scanner is an optional capability of a Store (find it by type assertion,
// or call the Scan function, which works on any Store): reading the appeals
// that match a filter one at a time, with memory bounded by the store's page
// size instead of by the number of appeals.
type Scanner interface {
	// Scan yields the appeals List would return, in the same order; an
	// error ends the sequence after yielding it. Breaking out of the loop
	// is fine. Appeals changed while a scan runs may be seen in either
	// version, never twice and never skipped (the scan pages by the
	// CreatedAt/ID order, which changes do not touch).
	Scan(ctx context.Context, f Filter) iter.Seq2[Appeal, error]
}

// Counter is an optional capability of a Store (find it by type
// assertion, or call the Count function, which works on any Store):
// counting the appeals a filter selects without reading them, for screens
// that show figures over months of appeals. Implementations must be safe
// for concurrent use.
type Counter interface {
	// Count returns how many appeals List(ctx, f) would return.
	Count(ctx context.Context, f Filter) (int, error)
}

// Count returns how many appeals of s match f (List's count, f.Limit
// included): s's own Count when s is a Counter, otherwise a Scan.
func Count(ctx context.Context, s Store, f Filter) (int, error) {
	if c, ok := s.(Counter); ok {
		return c.Count(ctx, f)
	}
	n := 0
	for _, err := range Scan(ctx, s, f) {
		if err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// ScanPageSize is how many appeals Scan reads per List call on a store
// without its own Scan.
const ScanPageSize = 500

// Scan yields the appeals of s that match f, in List's order, without
// holding more than a page of them: it uses s's own Scan when s is a
// Scanner, and otherwise pages through List with Limit and the After
// cursor. f.Limit, when set, caps the total.
//
//	for a, err := range appeal.Scan(ctx, store, appeal.Filter{Statuses: []appeal.Status{appeal.StatusResolved}}) {
//		if err != nil {
//			return err
//		}
//		...
//	}
func Scan(ctx context.Context, s Store, f Filter) iter.Seq2[Appeal, error] {
	if sc, ok := s.(Scanner); ok {
		return sc.Scan(ctx, f)
	}
	return ScanByPages(ctx, f, ScanPageSize, s.List)
}

// ScanByPages yields what list returns for f page by page, pageSize appeals
// at a time, moving f's After cursor past each page; f.Limit caps the total.
// Stores build their Scan on it.
func ScanByPages(ctx context.Context, f Filter, pageSize int, list func(context.Context, Filter) ([]Appeal, error)) iter.Seq2[Appeal, error] {
	return func(yield func(Appeal, error) bool) {
		left := f.Limit
		page := f
		for {
			page.Limit = pageSize
			if f.Limit > 0 {
				page.Limit = min(pageSize, left)
			}
			as, err := list(ctx, page)
			if err != nil {
				yield(Appeal{}, err)
				return
			}
			for i := range as {
				if !yield(as[i], nil) {
					return
				}
			}
			if f.Limit > 0 {
				left -= len(as)
				if left <= 0 {
					return
				}
			}
			if len(as) < page.Limit {
				return
			}
			last := as[len(as)-1]
			page.AfterCreated, page.AfterID = last.CreatedAt, last.ID
		}
	}
}

// Collect gathers a scan into a slice, stopping at the first error.
func Collect(seq iter.Seq2[Appeal, error]) ([]Appeal, error) {
	out := make([]Appeal, 0)
	for a, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// DeadLetterKey is what makes two dead letters the same one: the input and
// the appeal's ID, or, for an appeal without an ID, a hash of its content.
// Stores keep one dead letter per key.
func DeadLetterKey(d *DeadLetter) string {
	id := d.ID
	if id == "" {
		id = d.Appeal.ID
	}
	if id != "" {
		return d.Input + "\x00" + string(id)
	}
	doc, _ := json.Marshal(d.Appeal) // cannot fail: NaN is the only thing it refuses, and then the key is the input alone
	h := sha256.Sum256(doc)
	return d.Input + "\x00#" + hex.EncodeToString(h[:12])
}
