// Package sourcetest is the conformance suite every appealkit Source passes:
// the shipped adapters and yours.
//
// The suite drives your adapter against a fake upstream that you build (an
// httptest server that speaks your network's API, a temporary file, ...)
// holding messages the suite chose, and checks the promises of the
// source.Source contract:
//
//   - every message reaches the sink exactly once in a healthy run, as a
//     valid appeal.Appeal (Normalize succeeds; network, kind, external id
//     set), and each message keeps one stable appeal ID;
//   - a restart over the same Checkpoints does not deliver again what was
//     accepted (Features.Checkpointed);
//   - when the sink refuses an appeal, the checkpoint does not move past it:
//     after a restart everything not accepted arrives, nothing is lost, and a
//     Run that stops returns the sink's error wrapped (Features.Checkpointed);
//   - cancelling ctx makes Run return promptly — while idle and while the
//     sink is busy — with nil or context.Canceled, and no goroutine started by
//     the source is left behind;
//   - undecodable upstream data makes Run return an error matching
//     source.ErrMalformed, never a panic or a silent skip
//     (Features.Malformed);
//   - a second concurrent Run of the same Source returns
//     source.ErrAlreadyRunning (or, with Features.ConcurrentRunSafe, is
//     safe), and Run works again once the first returned.
//
// # Using it
//
// Write a Constructor: given an Upstream (the items to serve, and whether to
// serve garbage), start your fake upstream with those items — each item's
// Text must end up, verbatim, inside the delivered Appeal.Text — register its
// shutdown with t.Cleanup, and return a NewSource function that builds a
// fresh instance of your adapter against that upstream with the Checkpoints
// it is given. The suite calls NewSource more than once per upstream to
// simulate restarts, so every instance must read the same upstream state.
//
//	func TestConformance(t *testing.T) {
//		sourcetest.Run(t, sourcetest.Features{Checkpointed: true, Malformed: true},
//			func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
//				srv := startFakeAPI(t, up) // serves up.Items, or garbage if up.Malformed
//				return func(cp source.Checkpoints) source.Source {
//					return mysource.New(mysource.Config{URL: srv.URL, Checkpoints: cp, PollInterval: 10 * time.Millisecond})
//				}
//			})
//	}
//
// Make polling sources poll fast in the test (tens of milliseconds): the
// suite waits at most Features.Timeout for deliveries and watches
// Features.Quiet for duplicates.
//
// Two habits make adapters pass on the first try: save the cursor as soon
// as the sink has accepted (the suite cancels ctx Features.Quiet after the
// last delivery and then expects a restart to deliver nothing), and save it
// with context.WithoutCancel(ctx) so that a cancellation arriving between
// the sink's acceptance and the save does not lose the progress.
package sourcetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// Item is one message the fake upstream must hold.
type Item struct {
	// Text is a unique marker made of ASCII letters, digits and dashes
	// (e.g. "sourcetest-3-9f1c2a"). Put it in the message body; the suite
	// recognises a delivery by finding Text inside Appeal.Text.
	Text string
}

// Upstream tells a Constructor what its fake upstream must serve.
type Upstream struct {
	// Items, in the order the network would report them.
	Items []Item
	// Malformed asks the upstream to answer with undecodable data (truncated
	// or mistyped JSON, a broken line...) where it would otherwise send the
	// items. Only set when Features.Malformed is true.
	Malformed bool
}

// NewSource builds a fresh adapter instance reading the Constructor's
// upstream and keeping its cursor in cp.
type NewSource func(cp source.Checkpoints) source.Source

// Constructor starts a fake upstream serving up (stopping it with
// t.Cleanup) and returns how to build sources against it. Fail t (t.Fatal)
// if the upstream cannot be started.
type Constructor func(t *testing.T, up Upstream) NewSource

// Features describes what the adapter under test can do, so the suite runs
// the checks that apply. The zero value describes an endless source without
// checkpoints that cannot be fed garbage.
type Features struct {
	// Finite: Run returns by itself (nil or source.ErrEndOfInput) once it
	// has delivered everything, like a file replay. Otherwise the source
	// is endless (it polls or listens until ctx is cancelled).
	Finite bool
	// Checkpointed: the source keeps its position in the Checkpoints it is
	// built with, so a restart resumes after the last accepted item. Enables
	// the restart and sink-error checks.
	Checkpointed bool
	// Malformed: the Constructor honours Upstream.Malformed. Enables the
	// malformed-data check.
	Malformed bool
	// ConcurrentRunSafe: two concurrent Runs of one Source are allowed (and
	// must be race-free) instead of refused with source.ErrAlreadyRunning.
	ConcurrentRunSafe bool

	// Items is how many items each upstream holds; default 6, minimum 3.
	Items int
	// Timeout bounds the wait for deliveries and for a finite Run to end;
	// default 10s.
	Timeout time.Duration
	// CancelWithin bounds how long Run may take to return after ctx is
	// cancelled; default 2s.
	CancelWithin time.Duration
	// Quiet is how long the suite keeps listening for duplicates after the
	// expected deliveries; default 300ms. Make it a few poll intervals.
	Quiet time.Duration
	// IgnoreGoroutines lists substrings of goroutine stacks that are not
	// leaks (e.g. a connection pool of a client library). Idle HTTP
	// keep-alive connections of net/http are always ignored.
	IgnoreGoroutines []string
}

func (f Features) withDefaults() Features {
	if f.Items < 3 {
		f.Items = 6
	}
	if f.Timeout <= 0 {
		f.Timeout = 10 * time.Second
	}
	if f.CancelWithin <= 0 {
		f.CancelWithin = 2 * time.Second
	}
	if f.Quiet <= 0 {
		f.Quiet = 300 * time.Millisecond
	}
	return f
}

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, f Features, newUpstream Constructor) {
	t.Helper()
	f = f.withDefaults()
	s := &suite{f: f, ctor: newUpstream}
	t.Run("DeliversEachItemOnce", s.deliversEachItemOnce)
	if f.Checkpointed {
		t.Run("RestartDoesNotRedeliver", s.restartDoesNotRedeliver)
		t.Run("SinkErrorHoldsCheckpoint", s.sinkErrorHoldsCheckpoint)
	}
	t.Run("CancelWhileSinkBusy", s.cancelWhileSinkBusy)
	if f.Malformed {
		t.Run("MalformedIsAnError", s.malformedIsAnError)
	}
	t.Run("ConcurrentRun", s.concurrentRun)
}

type suite struct {
	f    Features
	ctor Constructor
}

var errSinkRefused = errors.New("sourcetest: sink refused the appeal")

func (s *suite) upstream(t *testing.T, malformed bool) (Upstream, []string) {
	var b [3]byte
	_, _ = rand.Read(b[:])
	run := hex.EncodeToString(b[:])
	up := Upstream{Malformed: malformed}
	markers := make([]string, s.f.Items)
	for i := range markers {
		markers[i] = fmt.Sprintf("sourcetest-%d-%s", i+1, run)
		up.Items = append(up.Items, Item{Text: markers[i]})
	}
	return up, markers
}

// recorder is a sink that records deliveries and answers per policy.
type recorder struct {
	markers []string

	mu       sync.Mutex
	calls    int
	got      map[string]int       // marker → accepted deliveries
	offered  map[string]int       // marker → sink calls
	ids      map[string]appeal.ID // marker → appeal ID
	problems []string             // invalid appeals, unknown texts
	policy   func(call int) error // nil = accept everything
	block    func(ctx context.Context) error
}

func newRecorder(markers []string) *recorder {
	return &recorder{markers: markers, got: map[string]int{}, offered: map[string]int{}, ids: map[string]appeal.ID{}}
}

func (r *recorder) sink(ctx context.Context, a appeal.Appeal) error {
	if ctx == nil {
		r.problem("sink called with a nil context")
		return errors.New("sourcetest: nil context")
	}
	r.mu.Lock()
	r.calls++
	call := r.calls
	marker := ""
	for _, m := range r.markers {
		if strings.Contains(a.Text, m) {
			marker = m
			break
		}
	}
	c := a.Clone()
	if err := c.Normalize(); err != nil {
		r.problems = append(r.problems, fmt.Sprintf("appeal %q (external id %q) is invalid: %v", a.ID, a.ExternalID, err))
	}
	if a.Kind == "" || !a.Kind.Valid() {
		r.problems = append(r.problems, fmt.Sprintf("appeal %q: kind %q is not one of post, comment, reply, message", c.ID, a.Kind))
	}
	if marker == "" {
		r.problems = append(r.problems, fmt.Sprintf("appeal %q carries none of the injected texts (text has %d characters)", c.ID, len(a.Text)))
	} else {
		if prev, ok := r.ids[marker]; ok && prev != c.ID {
			r.problems = append(r.problems, fmt.Sprintf("item %s delivered under two IDs: %q and %q", marker, prev, c.ID))
		}
		r.ids[marker] = c.ID
		r.offered[marker]++
	}
	policy, block := r.policy, r.block
	r.mu.Unlock()

	if block != nil {
		if err := block(ctx); err != nil {
			return err
		}
	}
	if policy != nil {
		if err := policy(call); err != nil {
			return err
		}
	}
	if marker != "" {
		r.mu.Lock()
		r.got[marker]++
		r.mu.Unlock()
	}
	return nil
}

func (r *recorder) problem(msg string) {
	r.mu.Lock()
	r.problems = append(r.problems, msg)
	r.mu.Unlock()
}

func (r *recorder) accepted(m string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[m]
}

func (r *recorder) callCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

func (r *recorder) report(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		t.Error(p)
	}
	ids := map[appeal.ID]string{}
	for m, id := range r.ids {
		if other, ok := ids[id]; ok {
			t.Errorf("items %s and %s were delivered under the same ID %q", other, m, id)
		}
		ids[id] = m
	}
}

// running is one Run in the background.
type running struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
	panic  any
	ended  time.Time
}

func start(ctx context.Context, src source.Source, sink source.Sink) *running {
	ctx, cancel := context.WithCancel(ctx)
	r := &running{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		defer func() {
			if p := recover(); p != nil {
				r.panic = p
			}
			r.ended = time.Now()
		}()
		r.err = src.Run(ctx, sink)
	}()
	return r
}

func (r *running) finished() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// stop cancels the Run and checks it returns within the limit. It reports
// whether Run returned.
func (s *suite) stop(t *testing.T, r *running, what string) bool {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(s.f.CancelWithin):
		t.Errorf("%s: Run did not return within %v after ctx was cancelled", what, s.f.CancelWithin)
		return false
	}
	if r.panic != nil {
		t.Errorf("%s: Run panicked: %v", what, r.panic)
	}
	return true
}

// endedCleanly checks the error of a Run that ended by cancellation or, for
// finite sources, by end of input.
func endedCleanly(err error) bool {
	return err == nil || errors.Is(err, context.Canceled) || errors.Is(err, source.ErrEndOfInput)
}

// waitFor polls cond until it holds or the timeout passes, or r ended.
func waitFor(timeout time.Duration, r *running, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		if r != nil && r.finished() {
			return cond()
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *suite) allAccepted(rec *recorder, markers []string) func() bool {
	return func() bool {
		for _, m := range markers {
			if rec.accepted(m) == 0 {
				return false
			}
		}
		return true
	}
}

// finish ends a Run that delivered what it should: a finite source must end
// by itself, an endless one is cancelled after the quiet period.
func (s *suite) finish(t *testing.T, r *running, what string) {
	t.Helper()
	if s.f.Finite {
		select {
		case <-r.done:
		case <-time.After(s.f.Timeout):
			t.Errorf("%s: finite source did not return within %v after delivering everything", what, s.f.Timeout)
			s.stop(t, r, what)
			return
		}
		if r.panic != nil {
			t.Errorf("%s: Run panicked: %v", what, r.panic)
		}
		if !endedCleanly(r.err) {
			t.Errorf("%s: finite Run returned %v; want nil or source.ErrEndOfInput", what, r.err)
		}
		r.cancel()
		return
	}
	time.Sleep(s.f.Quiet)
	if r.finished() {
		t.Errorf("%s: endless source returned before ctx was cancelled: %v", what, r.err)
		return
	}
	if s.stop(t, r, what) && !endedCleanly(r.err) {
		t.Errorf("%s: after cancel Run returned %v; want nil or context.Canceled", what, r.err)
	}
}

func (s *suite) missing(rec *recorder, markers []string) []string {
	var out []string
	for _, m := range markers {
		if rec.accepted(m) == 0 {
			out = append(out, m)
		}
	}
	return out
}

func (s *suite) deliversEachItemOnce(t *testing.T) {
	up, markers := s.upstream(t, false)
	newSource := s.ctor(t, up)
	leaks := s.watchGoroutines(t)
	rec := newRecorder(markers)
	r := start(context.Background(), newSource(source.NewMemoryCheckpoints()), rec.sink)
	if !waitFor(s.f.Timeout, r, s.allAccepted(rec, markers)) {
		t.Errorf("not delivered within %v: %v (Run ended: %v, err: %v)", s.f.Timeout, s.missing(rec, markers), r.finished(), r.err)
	}
	s.finish(t, r, "healthy run")
	for _, m := range markers {
		if n := rec.accepted(m); n > 1 {
			t.Errorf("item %s delivered %d times in one healthy run; want once", m, n)
		}
	}
	rec.report(t)
	leaks()
}

func (s *suite) restartDoesNotRedeliver(t *testing.T) {
	up, markers := s.upstream(t, false)
	newSource := s.ctor(t, up)
	cp := source.NewMemoryCheckpoints()
	rec := newRecorder(markers)
	r := start(context.Background(), newSource(cp), rec.sink)
	if !waitFor(s.f.Timeout, r, s.allAccepted(rec, markers)) {
		t.Fatalf("first run: not delivered within %v: %v (err: %v)", s.f.Timeout, s.missing(rec, markers), r.err)
	}
	s.finish(t, r, "first run")

	again := newRecorder(markers)
	r2 := start(context.Background(), newSource(cp), again.sink)
	waitFor(s.f.Quiet, r2, func() bool { return false })
	s.finish(t, r2, "restart")
	if n := again.callCount(); n > 0 {
		t.Errorf("after a restart over the same checkpoints the sink got %d appeals again; want none (the cursor is not saved, or saved too late)", n)
	}
}

func (s *suite) sinkErrorHoldsCheckpoint(t *testing.T) {
	up, markers := s.upstream(t, false)
	newSource := s.ctor(t, up)
	cp := source.NewMemoryCheckpoints()
	const acceptFirst = 2

	rec := newRecorder(markers)
	rec.policy = func(call int) error {
		if call > acceptFirst {
			return errSinkRefused
		}
		return nil
	}
	r := start(context.Background(), newSource(cp), rec.sink)
	if !waitFor(s.f.Timeout, r, func() bool { return rec.callCount() > acceptFirst }) {
		t.Fatalf("the sink was offered %d appeals within %v; want more than %d", rec.callCount(), s.f.Timeout, acceptFirst)
	}
	// The source either stops with the sink's error or keeps retrying; give
	// it the quiet period, then cancel.
	waitFor(s.f.Quiet, r, func() bool { return false })
	returnedAlone := r.finished()
	s.stop(t, r, "run with a refusing sink")
	if returnedAlone && !errors.Is(r.err, errSinkRefused) {
		t.Errorf("Run stopped after the sink refused, but returned %v; want the sink's error wrapped with %%w", r.err)
	}
	if !returnedAlone && !endedCleanly(r.err) && !errors.Is(r.err, errSinkRefused) {
		t.Errorf("after cancel Run returned %v; want nil, context.Canceled or the sink's error", r.err)
	}
	var acceptedFirst []string
	for _, m := range markers {
		if rec.accepted(m) > 0 {
			acceptedFirst = append(acceptedFirst, m)
		}
	}

	// Restart with a healthy sink: everything not accepted must come.
	rec2 := newRecorder(markers)
	r2 := start(context.Background(), newSource(cp), rec2.sink)
	rest := s.missing(rec, markers)
	if !waitFor(s.f.Timeout, r2, s.allAccepted(rec2, rest)) {
		t.Errorf("after restart, items the sink had refused never came back: %v (the checkpoint moved past a refused appeal: those items are lost)", s.missing(rec2, rest))
	}
	s.finish(t, r2, "restart after refusal")
	_ = acceptedFirst // at-least-once: these may come again, which is allowed
	rec.report(t)
	rec2.report(t)
}

func (s *suite) cancelWhileSinkBusy(t *testing.T) {
	up, markers := s.upstream(t, false)
	newSource := s.ctor(t, up)
	leaks := s.watchGoroutines(t)
	rec := newRecorder(markers)
	entered := make(chan struct{}, 1)
	rec.block = func(ctx context.Context) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	}
	r := start(context.Background(), newSource(source.NewMemoryCheckpoints()), rec.sink)
	select {
	case <-entered:
	case <-time.After(s.f.Timeout):
		s.stop(t, r, "busy sink")
		t.Fatalf("the sink was not called within %v (Run err: %v)", s.f.Timeout, r.err)
	}
	if s.stop(t, r, "cancel while the sink is busy") && !endedCleanly(r.err) {
		t.Errorf("Run returned %v after cancel; want nil or an error matching context.Canceled", r.err)
	}
	leaks()
	rec.report(t)
}

func (s *suite) malformedIsAnError(t *testing.T) {
	up, markers := s.upstream(t, true)
	newSource := s.ctor(t, up)
	leaks := s.watchGoroutines(t)
	rec := newRecorder(markers)
	r := start(context.Background(), newSource(source.NewMemoryCheckpoints()), rec.sink)
	select {
	case <-r.done:
	case <-time.After(s.f.Timeout):
		s.stop(t, r, "malformed upstream")
		t.Fatalf("Run did not report the malformed upstream data within %v (it must return an error matching source.ErrMalformed, not skip or retry it forever)", s.f.Timeout)
	}
	if r.panic != nil {
		t.Fatalf("Run panicked on malformed upstream data: %v", r.panic)
	}
	if !errors.Is(r.err, source.ErrMalformed) {
		t.Errorf("Run returned %v on malformed upstream data; want an error matching source.ErrMalformed", r.err)
	} else if r.err.Error() == source.ErrMalformed.Error() {
		t.Errorf("the malformed-data error does not say what was wrong or where: %q", r.err)
	}
	r.cancel()
	leaks()
	rec.report(t)
}

func (s *suite) concurrentRun(t *testing.T) {
	up, markers := s.upstream(t, false)
	newSource := s.ctor(t, up)
	src := newSource(source.NewMemoryCheckpoints())
	rec := newRecorder(markers)
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	rec.block = func(ctx context.Context) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r1 := start(context.Background(), src, rec.sink)
	select {
	case <-entered:
	case <-time.After(s.f.Timeout):
		s.stop(t, r1, "first run")
		t.Fatalf("the sink was not called within %v (Run err: %v)", s.f.Timeout, r1.err)
	}
	// The first Run is now inside the sink: it is certainly running.
	r2 := start(context.Background(), src, rec.sink)
	if !s.f.ConcurrentRunSafe {
		select {
		case <-r2.done:
			if !errors.Is(r2.err, source.ErrAlreadyRunning) {
				t.Errorf("a second concurrent Run returned %v; want source.ErrAlreadyRunning", r2.err)
			}
		case <-time.After(s.f.CancelWithin):
			t.Errorf("a second concurrent Run did not return ErrAlreadyRunning within %v", s.f.CancelWithin)
			s.stop(t, r2, "second run")
		}
	}
	close(release)
	if !waitFor(s.f.Timeout, nil, s.allAccepted(rec, markers)) {
		t.Errorf("not delivered within %v: %v", s.f.Timeout, s.missing(rec, markers))
	}
	if s.f.Finite {
		select {
		case <-r1.done:
		case <-time.After(s.f.Timeout):
			t.Errorf("finite source did not return within %v after delivering everything", s.f.Timeout)
		}
		s.stop(t, r1, "first run")
		s.stop(t, r2, "second run")
	} else {
		s.stop(t, r1, "first run")
		s.stop(t, r2, "second run")
	}
	// Once the first Run has returned, the Source must run again.
	r3 := start(context.Background(), src, newRecorder(markers).sink)
	time.Sleep(s.f.Quiet / 3)
	if r3.finished() && errors.Is(r3.err, source.ErrAlreadyRunning) {
		t.Errorf("Run after the previous Run returned still says ErrAlreadyRunning (the guard is not released)")
	}
	s.stop(t, r3, "run after run")
	rec.report(t)
}

// watchGoroutines snapshots the goroutines alive now and returns a check
// that, after a settle period, fails t for goroutines started since that are
// still alive (other than the ignored ones).
func (s *suite) watchGoroutines(t *testing.T) func() {
	before := goroutineIDs(stacks())
	return func() {
		t.Helper()
		var leaked []string
		deadline := time.Now().Add(s.f.CancelWithin)
		for {
			leaked = leaked[:0]
			for _, g := range stacks() {
				if _, ok := before[g.id]; ok || s.ignored(g.stack) {
					continue
				}
				leaked = append(leaked, g.stack)
			}
			if len(leaked) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if len(leaked) > 0 {
			t.Errorf("%d goroutine(s) started by the source are still running after Run returned:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
	}
}

var alwaysIgnored = []string{
	"net/http.(*persistConn)", // idle keep-alive connections of a client
	"net/http.(*conn).serve",  // server side of those connections
	"net/http.(*Transport).dialConnFor",
}

func (s *suite) ignored(stack string) bool {
	for _, sub := range alwaysIgnored {
		if strings.Contains(stack, sub) {
			return true
		}
	}
	for _, sub := range s.f.IgnoreGoroutines {
		if sub != "" && strings.Contains(stack, sub) {
			return true
		}
	}
	return false
}

type goroutine struct {
	id    string
	stack string
}

func stacks() []goroutine {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []goroutine
	for _, block := range strings.Split(string(buf), "\n\n") {
		head, _, _ := strings.Cut(block, "\n")
		// "goroutine 12 [running]:"
		fields := strings.Fields(head)
		if len(fields) < 2 || fields[0] != "goroutine" {
			continue
		}
		out = append(out, goroutine{id: fields[1], stack: block})
	}
	return out
}

func goroutineIDs(gs []goroutine) map[string]struct{} {
	m := make(map[string]struct{}, len(gs))
	for _, g := range gs {
		m[g.id] = struct{}{}
	}
	return m
}
