// Package replay is a Source that reads appeals from a JSONL file: one
// appeal.Appeal as JSON per line, plain or gzip-compressed (detected by the
// gzip magic bytes, not by the file name). Use it for backfills, demos,
// load tests and crash tests of the pipeline.
//
//	w := replay.NewWriter(f) // write a file: one appeal per line
//	if err := w.Write(a); err != nil {
//		return err
//	}
//	src, err := replay.New(replay.Config{Path: "appeals.jsonl.gz", Checkpoints: store})
//	if err != nil {
//		return err
//	}
//	err = src.Run(ctx, pipeline.Sink("backfill")) // returns nil at the end of the file
//
// The checkpoint is the byte offset, in the uncompressed stream, just after
// the last line the sink accepted (or the last bad line skipped), saved only
// after the sink returned nil. A restart continues exactly at the next line:
// nothing accepted is read again unless the checkpoint save itself failed,
// and nothing is lost.
//
// The file may grow between runs (a writer appending to it). A last line
// without a newline may be unfinished, so the checkpoint never moves into
// it: if it holds a complete appeal it is delivered, and delivered again by
// the next run once the file has grown (the store keeps it once); if it does
// not parse yet it is left alone, with a warning, for the next run. A UTF-8
// byte order mark at the start of the file is skipped.
//
// A bad line (broken JSON, a wrong type, an unknown field, invalid UTF-8, an
// appeal that fails appeal.Appeal.Normalize, a line longer than
// Config.MaxLineBytes) gives a *LineError naming the file, the line, and the
// field where it can be known. By default Run stops at the first bad line;
// with Config.SkipBadLines it reports the line through Config.OnBadLine and
// goes on.
//
// Files are written with Writer.
package replay

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// DefaultMaxLineBytes caps one line when Config.MaxLineBytes is zero.
const DefaultMaxLineBytes = 1 << 20

// DefaultWindow is how many appeals RunAsync keeps in flight when
// Config.Window is zero: enough for a pipeline to fill its store batches.
const DefaultWindow = 2048

// Config configures a replay Source.
type Config struct {
	// Path is the JSONL file to read (plain or gzip). Required.
	Path string

	// Checkpoints keeps the byte offset between runs. When nil, every Run
	// starts at the beginning of the file.
	Checkpoints source.Checkpoints
	// Key is the checkpoint key; the default is "replay:" + Path.
	Key string
	// CheckpointEvery saves the offset after this many accepted lines
	// (default 1: after each). The offset is always saved when Run returns,
	// so a larger value only widens what a crash (not a cancel) redelivers.
	// With many appeals in flight (RunAsync) the offset is saved once it
	// has moved, at most once per this many lines sent or a quarter of
	// Window, whichever is more: a crash redelivers up to that many
	// lines more (harmless, Put is idempotent), and a backfill does not
	// pay one checkpoint write per store batch.
	CheckpointEvery int

	// Window is how many appeals RunAsync keeps in flight (default
	// DefaultWindow). It bounds the memory a backfill holds; Run, with a
	// synchronous sink, has one in flight whatever it says.
	Window int

	// SkipBadLines makes Run report a bad line through OnBadLine and go on
	// instead of stopping with the *LineError. Skipped lines count as done:
	// the checkpoint moves past them.
	SkipBadLines bool
	// OnBadLine is called with every skipped bad line when SkipBadLines is
	// set. It is called from Run's goroutine. Nil means the line is only
	// logged (without its content, which may hold personal data).
	OnBadLine func(*LineError)

	// AllowUnknownFields accepts lines with JSON fields appeal.Appeal does
	// not have (files written by a newer version). By default an unknown
	// field is a bad line, which catches typos in hand-made files.
	AllowUnknownFields bool

	// MaxLineBytes caps one line (default DefaultMaxLineBytes); a longer
	// line is a bad line.
	MaxLineBytes int

	// Logger receives progress and bad-line reports; nil means
	// slog.Default(). It never receives appeal texts or authors.
	Logger *slog.Logger
}

// Source replays a JSONL file of appeals. Create it with New. It is safe to
// share between goroutines; a second concurrent Run returns
// source.ErrAlreadyRunning.
type Source struct {
	cfg   Config
	guard source.RunGuard
}

var _ source.AsyncSource = (*Source)(nil)

// New checks cfg and returns a Source. The file is opened by Run, so that a
// Source can be built before the file exists.
func New(cfg Config) (*Source, error) {
	if cfg.Path == "" {
		return nil, errors.New("replay: Config.Path is empty")
	}
	if cfg.CheckpointEvery < 0 || cfg.MaxLineBytes < 0 || cfg.Window < 0 {
		return nil, errors.New("replay: Config.CheckpointEvery, MaxLineBytes and Window must not be negative")
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Key == "" {
		cfg.Key = "replay:" + cfg.Path
	}
	if cfg.CheckpointEvery == 0 {
		cfg.CheckpointEvery = 1
	}
	if cfg.MaxLineBytes == 0 {
		cfg.MaxLineBytes = DefaultMaxLineBytes
	}
	cfg.Logger = source.Logger(cfg.Logger)
	return &Source{cfg: cfg}, nil
}

// Key returns the checkpoint key the Source saves its offset under.
func (s *Source) Key() string { return s.cfg.Key }

// Run delivers every appeal from the saved offset to the end of the file,
// then returns nil. It stops early with ctx.Err() when ctx is cancelled,
// with the sink's error (wrapped) when the sink refuses an appeal, with a
// *LineError at a bad line unless SkipBadLines is set, and with an error
// when the file cannot be read or the saved offset does not fit it. In
// every case the offset of the last accepted line is saved first.
func (s *Source) Run(ctx context.Context, sink source.Sink) error {
	if sink == nil {
		return errors.New("replay: Run with a nil sink")
	}
	return s.run(ctx, source.Async(sink), s.cfg.CheckpointEvery)
}

// drainTimeout bounds how long RunAsync waits, once it stops, for the
// appeals still in flight to be answered and their offset saved, when the
// runner did not say its shutdown grace (source.WithShutdownGrace).
const drainTimeout = 30 * time.Second

// RunAsync is Run with up to Config.Window appeals in flight: it reads and
// sends the next line before the previous one is stored, and saves the
// offset only up to the last line below which every appeal is accepted
// (a source.Window keeps that order). A crash redelivers what was in
// flight, never skips it.
func (s *Source) RunAsync(ctx context.Context, sink source.AsyncSink) error {
	return s.run(ctx, sink, max(s.cfg.CheckpointEvery, s.cfg.Window/4))
}

// run delivers through a Window, saving the checkpoint once it moved and
// at least every lines were sent since the last save.
func (s *Source) run(ctx context.Context, sink source.AsyncSink, every int) (err error) {
	release, err := s.guard.Enter()
	if err != nil {
		return err
	}
	defer release()
	if sink == nil {
		return errors.New("replay: Run with a nil sink")
	}
	start, err := s.loadOffset(ctx)
	if err != nil {
		return err
	}
	f, err := os.Open(s.cfg.Path)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer f.Close()

	r, line, err := s.seek(f, start)
	if err != nil {
		return err
	}
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	rd := &reader{
		cfg:    &s.cfg,
		r:      br,
		offset: start,
		line:   line,
	}

	win := source.NewWindow(sink, s.cfg.Window)
	saved, unsaved := strconv.FormatInt(start, 10), 0
	save := func(ctx context.Context) error {
		cur, ok := win.Committed()
		if s.cfg.Checkpoints == nil || !ok || cur == saved {
			return nil
		}
		if err := s.cfg.Checkpoints.Save(ctx, s.cfg.Key, cur); err != nil {
			return fmt.Errorf("replay: save checkpoint %q: %w", s.cfg.Key, err)
		}
		saved, unsaved = cur, 0
		return nil
	}
	refused := func(err error) error {
		where := ""
		var re *source.RefusedError
		if errors.As(err, &re) {
			if end, perr := strconv.ParseInt(re.Cursor, 10, 64); perr == nil && end > 0 {
				if n, cerr := countLines(s.cfg.Path, end-1); cerr == nil {
					where = fmt.Sprintf(" line %d", n+1)
				}
			}
		}
		return fmt.Errorf("replay: %s%s: %w", s.cfg.Path, where, err)
	}
	defer func() {
		// Where reading stopped (after blank lines, or at a bad line) is
		// done once everything sent before it is.
		win.Skip(strconv.FormatInt(rd.offset, 10))
		// Let what is in flight be answered and save its offset: the
		// offset of what the sink accepted must not be lost on shutdown.
		// After a cancel this gets the runner's shutdown grace, no more.
		dctx, cancel := source.AfterCancel(ctx, drainTimeout)
		defer cancel()
		werr := win.Wait(dctx)
		if werr != nil && err == nil && ctx.Err() == nil {
			err = refused(werr)
		}
		if serr := save(dctx); serr != nil && err == nil {
			err = serr
		}
	}()

	delivered, skipped := 0, 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		a, _, next, lerr := rd.next()
		if lerr == io.EOF {
			if werr := win.Wait(ctx); werr != nil {
				return werr
			}
			s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "replay: end of file",
				slog.String("file", s.cfg.Path), slog.Int("delivered", delivered), slog.Int("skipped", skipped))
			return nil
		}
		if lerr != nil {
			var le *LineError
			if !errors.As(lerr, &le) || !s.cfg.SkipBadLines {
				return s.withLine(lerr)
			}
			le = s.withLine(le).(*LineError)
			skipped++
			s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "replay: skipped bad line",
				slog.String("file", le.File), slog.Int("line", le.Line), slog.String("field", le.Field), slog.String("error", le.Err.Error()))
			if s.cfg.OnBadLine != nil {
				s.cfg.OnBadLine(le)
			}
			rd.offset = next
			win.Skip(strconv.FormatInt(next, 10))
			continue
		}
		if err := win.Send(ctx, a, strconv.FormatInt(next, 10)); err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return err
			}
			return refused(err)
		}
		delivered++
		rd.offset = next
		unsaved++
		if unsaved >= every {
			if err := save(ctx); err != nil {
				if !transientSave(err) {
					return err
				}
				// The checkpoint store is down for a moment (it is often
				// the appeal store itself): the saved offset only lags,
				// which a crash turns into redelivery, not loss. Go on
				// and save it later.
				s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "replay: checkpoint not saved, will retry",
					slog.String("file", s.cfg.Path), slog.String("error", err.Error()))
			}
		}
	}
}

// transientSave reports whether a failed checkpoint save is worth trying
// again later rather than stopping for.
func transientSave(err error) bool {
	return source.Retryable(err) || errors.Is(err, appeal.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// withLine fills in the line number of a LineError found after a seek (the
// lines before the saved offset were not counted).
func (s *Source) withLine(err error) error {
	var le *LineError
	if !errors.As(err, &le) || le.Line > 0 {
		return err
	}
	n, cerr := countLines(s.cfg.Path, le.Offset)
	if cerr == nil {
		le.Line = n + 1
	}
	return err
}

func (s *Source) loadOffset(ctx context.Context) (int64, error) {
	if s.cfg.Checkpoints == nil {
		return 0, nil
	}
	cur, err := s.cfg.Checkpoints.Load(ctx, s.cfg.Key)
	if err != nil {
		return 0, fmt.Errorf("replay: load checkpoint %q: %w", s.cfg.Key, err)
	}
	if cur == "" {
		return 0, nil
	}
	off, err := strconv.ParseInt(cur, 10, 64)
	if err != nil || off < 0 {
		return 0, fmt.Errorf("replay: checkpoint %q holds %q, not a byte offset", s.cfg.Key, cur)
	}
	return off, nil
}

// seek positions the reader at offset start of the uncompressed stream and
// checks that start is a line boundary. It returns the line number of the
// next line when it is known cheaply (0 when it is not).
func (s *Source) seek(f *os.File, start int64) (io.Reader, int, error) {
	br := bufio.NewReaderSize(f, 64<<10)
	magic, _ := br.Peek(2)
	var r io.Reader = br
	gz := len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	if gz {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, 0, fmt.Errorf("replay: %s: gzip header: %w", s.cfg.Path, err)
		}
		r = zr
	}
	if start == 0 {
		return r, 1, nil
	}
	bad := func(why string) error {
		return fmt.Errorf("replay: %s: saved offset %d %s (was the file replaced? delete checkpoint %q to start over)",
			s.cfg.Path, start, why, s.cfg.Key)
	}
	if !gz {
		if st, err := f.Stat(); err == nil && start > st.Size() {
			return nil, 0, bad(fmt.Sprintf("is past the end of the file (%d bytes)", st.Size()))
		}
		var last [1]byte
		if _, err := f.ReadAt(last[:], start-1); err != nil {
			return nil, 0, fmt.Errorf("replay: %s: %w", s.cfg.Path, err)
		}
		if last[0] != '\n' && start != mustSize(f) {
			return nil, 0, bad("is not at the start of a line")
		}
		if _, err := f.Seek(start, io.SeekStart); err != nil {
			return nil, 0, fmt.Errorf("replay: %s: %w", s.cfg.Path, err)
		}
		return f, 0, nil
	}
	// A gzip stream cannot seek: decompress and count the lines skipped.
	cr := &lineCounter{}
	n, err := io.CopyN(cr, r, start)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, 0, bad(fmt.Sprintf("is past the end of the uncompressed data (%d bytes)", n))
		}
		return nil, 0, fmt.Errorf("replay: %s: skipping to offset %d: %w", s.cfg.Path, start, err)
	}
	if cr.last != '\n' {
		// The offset of a final line without a newline is the end of data.
		var one [1]byte
		if k, _ := r.Read(one[:]); k != 0 {
			return nil, 0, bad("is not at the start of a line")
		}
	}
	return r, cr.lines + 1, nil
}

func mustSize(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil {
		return -1
	}
	return st.Size()
}

// lineCounter counts newlines written to it and remembers the last byte.
type lineCounter struct {
	lines int
	last  byte
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.lines += bytes.Count(p, []byte{'\n'})
	if len(p) > 0 {
		c.last = p[len(p)-1]
	}
	return len(p), nil
}

// countLines counts the newlines in the first n bytes of the uncompressed
// file. Used only to name the line of an error after a seek.
func countLines(path string, n int64) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return 0, err
		}
		r = zr
	}
	c := &lineCounter{}
	_, err = io.CopyN(c, r, n)
	return c.lines, err
}

// reader splits the stream into lines and decodes them.
type reader struct {
	cfg    *Config
	r      *bufio.Reader
	offset int64 // offset of the next unread line
	line   int   // its 1-based number; 0 when unknown (after a seek)
	buf    []byte
}

// next returns the next non-blank line's appeal, its 1-based line number
// (0 when unknown) and the offset after that line. At the end of the stream
// it returns io.EOF. A bad line gives a *LineError and the offset after it,
// so the caller can skip it. The caller moves rd.offset once it is done with
// the line; blank lines are passed over here.
func (rd *reader) next() (appeal.Appeal, int, int64, error) {
	for {
		lineStart := rd.offset
		line, n, tooLong, err := rd.readLine()
		// A last line without a newline may still be being written: it is
		// read, but the checkpoint stays at its start (next == lineStart),
		// so a run after the file grew reads it whole. A complete appeal
		// there is delivered again then (the store keeps it once).
		unfinished := err == io.EOF && n > 0
		if err != nil && !unfinished {
			if err == io.EOF {
				return appeal.Appeal{}, 0, rd.offset, io.EOF
			}
			return appeal.Appeal{}, 0, rd.offset, fmt.Errorf("replay: %s: read after offset %d: %w", rd.cfg.Path, lineStart, err)
		}
		lineNo := rd.line
		if rd.line > 0 {
			rd.line++
		}
		next := lineStart + n
		if unfinished {
			next = lineStart
		}
		if lineStart == 0 {
			line = bytes.TrimPrefix(line, utf8BOM) // as editors on Windows save UTF-8
		}
		mk := func(field string, e error) error {
			return &LineError{File: rd.cfg.Path, Line: lineNo, Offset: lineStart, Field: field, Err: e}
		}
		if tooLong {
			return appeal.Appeal{}, lineNo, next, mk("", fmt.Errorf("line is longer than %d bytes", rd.cfg.MaxLineBytes))
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			rd.offset = next
			continue
		}
		if !utf8.Valid(line) {
			if unfinished {
				return rd.halfWritten(lineStart)
			}
			return appeal.Appeal{}, lineNo, next, mk("", fmt.Errorf("invalid UTF-8 at byte %d of the line", invalidAt(line)))
		}
		a, field, derr := decode(line, !rd.cfg.AllowUnknownFields)
		if derr != nil {
			if unfinished {
				return rd.halfWritten(lineStart)
			}
			return appeal.Appeal{}, lineNo, next, mk(field, derr)
		}
		return a, lineNo, next, nil
	}
}

// utf8BOM is the byte order mark some editors put at the start of a UTF-8
// file; it is skipped.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// halfWritten ends the stream at a last line that has no newline and is not
// a valid appeal: most likely a writer is in the middle of it. It is neither
// delivered nor skipped, and the checkpoint stays before it, so the next run
// reads it once it is complete (or reports it then, if it stays broken).
func (rd *reader) halfWritten(lineStart int64) (appeal.Appeal, int, int64, error) {
	rd.cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn, "replay: last line is unfinished (no newline, not a complete appeal yet); left for the next run",
		slog.String("file", rd.cfg.Path), slog.Int64("offset", lineStart))
	rd.offset = lineStart
	return appeal.Appeal{}, 0, lineStart, io.EOF
}

// readLine reads one line including its newline. n is the number of bytes
// consumed; tooLong reports a line over the limit (its bytes are discarded).
func (rd *reader) readLine() (line []byte, n int64, tooLong bool, err error) {
	rd.buf = rd.buf[:0]
	for {
		chunk, e := rd.r.ReadSlice('\n')
		n += int64(len(chunk))
		if !tooLong {
			if len(rd.buf)+len(chunk) > rd.cfg.MaxLineBytes+1 { // +1: the newline
				tooLong = true
				rd.buf = rd.buf[:0]
			} else {
				rd.buf = append(rd.buf, chunk...)
			}
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		return rd.buf, n, tooLong, e
	}
}

func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i + 1
		}
		i += size
	}
	return -1
}

// decode parses one line into an appeal and normalizes it. On error it
// returns the JSON path of the offending field when it can tell.
func decode(line []byte, strict bool) (appeal.Appeal, string, error) {
	var a appeal.Appeal
	dec := json.NewDecoder(bytes.NewReader(line))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(&a); err != nil {
		return appeal.Appeal{}, fieldOf(line, err), describe(err)
	}
	if dec.More() || dec.InputOffset() < int64(len(line)) {
		if _, err := dec.Token(); err != io.EOF {
			return appeal.Appeal{}, "", fmt.Errorf("unexpected data after the JSON object at byte %d", dec.InputOffset()+1)
		}
	}
	if err := a.Normalize(); err != nil {
		var fe *appeal.FieldError
		if errors.As(err, &fe) {
			return appeal.Appeal{}, fe.Field, fmt.Errorf("%s", fe.Msg)
		}
		return appeal.Appeal{}, "", err
	}
	return a, "", nil
}

// describe turns a decoding error into a message without Go type names.
func describe(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Errorf("got JSON %s, want %s (byte %d)", te.Value, jsonKind(te.Type.Kind().String()), te.Offset)
	case errors.As(err, &se):
		return fmt.Errorf("broken JSON at byte %d: %w", se.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("truncated JSON: the line ends inside the object")
	}
	return err
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64", "float64", "float32":
		return "a number"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return goKind
}

// fieldOf returns the JSON path of the field an error is about, or "".
func fieldOf(line []byte, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field
	}
	msg := err.Error()
	if rest, ok := cutPrefix(msg, "json: unknown field "); ok {
		if f, err := strconv.Unquote(rest); err == nil {
			return f
		}
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return pathOfString(line, pe.Value)
	}
	return ""
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

// pathOfString walks the JSON line and returns the dotted path of the first
// object member whose string value equals v (arrays are transparent, as in
// encoding/json's own field paths).
func pathOfString(line []byte, v string) string {
	dec := json.NewDecoder(bytes.NewReader(line))
	type frame struct {
		object bool
		key    string
		wantK  bool
	}
	var stack []frame
	path := func() string {
		var b []byte
		for _, f := range stack {
			if f.object && f.key != "" {
				if len(b) > 0 {
					b = append(b, '.')
				}
				b = append(b, f.key...)
			}
		}
		return string(b)
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{object: true, wantK: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:top]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].wantK = true
				}
			}
			continue
		case string:
			if top >= 0 && stack[top].object && stack[top].wantK {
				stack[top].key, stack[top].wantK = t, false
				continue
			}
			if t == v {
				return path()
			}
		}
		if top >= 0 && stack[top].object {
			stack[top].wantK = true
		}
	}
}

// LineError is a bad line in a replay file. It matches source.ErrMalformed.
type LineError struct {
	// File is Config.Path.
	File string
	// Line is the 1-based line number (0 only if it could not be counted).
	Line int
	// Offset is the byte offset of the line's start in the uncompressed
	// stream.
	Offset int64
	// Field is the JSON path of the bad field ("created_at", "geo.lat"),
	// or "" when the whole line is bad.
	Field string
	// Err says what is wrong.
	Err error
}

// Error formats the error as "replay: file:line: field f: what".
func (e *LineError) Error() string {
	s := fmt.Sprintf("replay: %s:%d", e.File, e.Line)
	if e.Field != "" {
		s += ": field " + e.Field
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, source.ErrMalformed) true.
func (e *LineError) Is(target error) bool { return target == source.ErrMalformed }
