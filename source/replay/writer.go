package replay

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/appealkit/appealkit/appeal"
)

// Writer writes appeals as JSONL that a replay Source reads back. Wrap the
// destination in a gzip.Writer for a compressed file. A Writer is safe for
// concurrent use; call Flush (and close the gzip.Writer, if any) at the end.
type Writer struct {
	mu  sync.Mutex
	bw  *bufio.Writer
	enc *json.Encoder
	n   int
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &Writer{bw: bw, enc: enc}
}

// Write normalizes a (see appeal.Appeal.Normalize) and writes it as one
// line. An appeal that does not normalize is refused with its
// *appeal.FieldError and nothing is written.
func (w *Writer) Write(a appeal.Appeal) error {
	if err := a.Normalize(); err != nil {
		return fmt.Errorf("replay: write appeal %d: %w", w.count()+1, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.enc.Encode(&a); err != nil {
		return fmt.Errorf("replay: write appeal %s: %w", a.ID, err)
	}
	w.n++
	return nil
}

func (w *Writer) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Flush writes buffered lines to the underlying writer.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bw.Flush()
}
