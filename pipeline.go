package appealkit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// AppealClassifier fills in what classification learns about an appeal:
// Topics, Urgent, Municipality, Place, Noise. It must be safe for
// concurrent use. An error means the appeal could not be classified; the
// pipeline then refuses it (the source keeps it for redelivery). Classify
// adapts a classify.Classifier (such as *classify.Engine) to it.
type AppealClassifier interface {
	ClassifyAppeal(ctx context.Context, a *appeal.Appeal) error
}

// AppealClassifierFunc adapts a function to AppealClassifier.
type AppealClassifierFunc func(ctx context.Context, a *appeal.Appeal) error

// ClassifyAppeal calls f.
func (f AppealClassifierFunc) ClassifyAppeal(ctx context.Context, a *appeal.Appeal) error {
	return f(ctx, a)
}

// AppealRouter decides who answers an appeal and by when, as the lifecycle
// step the pipeline applies: an appeal.Change to StatusRouted with an
// Assignment (executor, deadline, priority), or to StatusRejected for a
// message that is not an appeal; its Note goes to the history event. The
// pipeline fills Actor, At and ExpectedVersion. now is the pipeline's clock,
// so that deadlines are reproducible in tests. It must be safe for
// concurrent use. Route adapts a rules engine (*route.Engine,
// *route.Reloader, *route.LearnedRouter) to it.
type AppealRouter interface {
	RouteAppeal(ctx context.Context, a *appeal.Appeal, now time.Time) (appeal.Change, error)
}

// AppealRouterFunc adapts a function to AppealRouter.
type AppealRouterFunc func(ctx context.Context, a *appeal.Appeal, now time.Time) (appeal.Change, error)

// RouteAppeal calls f.
func (f AppealRouterFunc) RouteAppeal(ctx context.Context, a *appeal.Appeal, now time.Time) (appeal.Change, error) {
	return f(ctx, a, now)
}

// NoClassification, as Config.Classifier, stores appeals as their sources
// gave them: no topics, urgency or place are added.
type NoClassification struct{}

// ClassifyAppeal leaves a as it is.
func (NoClassification) ClassifyAppeal(context.Context, *appeal.Appeal) error { return nil }

// NoRouting, as Config.Router, stores appeals in status new, for a later
// routing pass or an operator (their Result.Outcome is OutcomeStored).
type NoRouting struct{}

// RouteAppeal returns no step; New recognises NoRouting and skips routing,
// so the pipeline never calls it.
func (NoRouting) RouteAppeal(context.Context, *appeal.Appeal, time.Time) (appeal.Change, error) {
	return appeal.Change{}, nil
}

// Input is one source the pipeline runs, with the name hooks and errors
// report it by.
type Input struct {
	Name   string
	Source source.Source
}

// Stage names a step of processing one appeal.
type Stage string

// Stages in processing order.
const (
	StageQueue    Stage = "queue"    // waiting for a worker
	StageValidate Stage = "validate" // appeal.Appeal.Normalize
	StageClassify Stage = "classify"
	StageRoute    Stage = "route"
	StageStore    Stage = "store" // Put (or a batch of them), Get and Transition
)

// Outcome says what processing did with an appeal.
type Outcome string

// Outcomes of processing one appeal.
const (
	// OutcomeRouted: stored and moved to routed.
	OutcomeRouted Outcome = "routed"
	// OutcomeRejected: stored and moved to rejected (an appeal.Change to StatusRejected).
	OutcomeRejected Outcome = "rejected"
	// OutcomeStored: stored as it came, not routed: the Router is NoRouting,
	// or the appeal arrived with a status other than new (an import).
	OutcomeStored Outcome = "stored"
	// OutcomeDuplicate: already stored and past routing; nothing changed.
	// Redelivery after a restart gives this.
	OutcomeDuplicate Outcome = "duplicate"
	// OutcomeFailed: not accepted; Result.Err says why. The source keeps
	// the appeal for redelivery.
	OutcomeFailed Outcome = "failed"
	// OutcomeDeadLettered: refused for good (it fails validation, or the
	// store refuses its content) and parked in the store's dead letters or
	// handed to Hooks.DeadLetter; Result.Err says why. The source moves
	// past it.
	OutcomeDeadLettered Outcome = "dead-lettered"
)

// Result describes the processing of one appeal, for metrics hooks. It
// carries no personal data.
type Result struct {
	Source  string
	ID      appeal.ID
	Outcome Outcome
	// Status is the appeal's status in the store afterwards ("" when it
	// failed before being stored).
	Status appeal.Status
	// Resumed is set when the appeal was stored by an earlier, interrupted
	// delivery and this one finished its routing.
	Resumed bool
	// Err is nil unless Outcome is OutcomeFailed; it is a *StageError.
	Err error
	// Queued is how long the appeal waited for a worker: the backpressure
	// signal. The other durations are the time spent in each stage; Store
	// is that of the write that carried the appeal, a whole batch (retries
	// of a store outage included).
	Queued, Classify, Route, Store time.Duration
}

// StageError is why the pipeline refused an appeal. Sinks return it, so a
// source sees which stage failed; it unwraps to the cause.
type StageError struct {
	Stage Stage
	ID    appeal.ID // "" when the appeal had no valid ID
	Err   error
	// shown is the ID as the message prints it: the appeal's RedactedID,
	// since error texts end up in logs (152-ФЗ); "" prints ID.
	shown appeal.ID
}

// stageError is the pipeline's StageError for a.
func stageError(stage Stage, a *appeal.Appeal, err error) *StageError {
	return &StageError{Stage: stage, ID: a.ID, Err: err, shown: a.RedactedID()}
}

// Error names the stage, the appeal (redacted where its id embeds a
// user's, see appeal.Appeal.RedactedID) and the cause.
func (e *StageError) Error() string {
	id := e.ID
	if e.shown != "" && id != "" {
		id = e.shown
	}
	if id == "" {
		return fmt.Sprintf("appealkit: %s: %v", e.Stage, e.Err)
	}
	return fmt.Sprintf("appealkit: %s %s: %v", e.Stage, id, e.Err)
}

// Unwrap returns the cause.
func (e *StageError) Unwrap() error { return e.Err }

// Hooks observe the pipeline, e.g. for metrics. Every hook is optional, is
// called from the pipeline's goroutines (so must be safe for concurrent use)
// and should return quickly: a slow hook slows processing.
type Hooks struct {
	// Processed is called once per appeal handed to a sink, after its
	// processing ended, successfully or not.
	Processed func(Result)
	// SourceStopped is called when an input's Run returns for good, with
	// its error (nil when the input ended normally or the pipeline was
	// stopped).
	SourceStopped func(name string, err error)
	// InputRestart is called when an input failed with an error worth
	// another try and is about to be restarted after wait.
	InputRestart func(name string, err error, wait time.Duration)
	// StoreRetry is called when a store call failed with a transient error
	// (appeal.ErrUnavailable, a deadline) and is about to be retried.
	StoreRetry func(err error, attempt int)
	// DeadLetter is called with every appeal refused for good. When the
	// Store is an appeal.DeadLetterStore the appeal is parked there too;
	// when it is not and this hook is nil, a refused appeal is not
	// accepted and its source stops at it.
	DeadLetter func(appeal.DeadLetter)
}

// Config configures a Pipeline. Store is required; everything else has a
// default.
type Config struct {
	// Store keeps the appeals. Required. An appeal.BatchStore (sqlstore
	// and MemoryStore are) gets whole batches in one call; an
	// appeal.DeadLetterStore keeps the appeals refused for good.
	Store appeal.Store
	// Classifier fills topics, urgency, municipality and place. Required:
	// NoClassification{} stores appeals as their sources gave them.
	Classifier AppealClassifier
	// Router assigns an executor and a deadline. Required: NoRouting{}
	// leaves appeals in status new, for a later routing pass or an
	// operator.
	Router AppealRouter
	// Inputs are the sources Run runs, each in its own goroutine. A
	// source.AsyncSource (source/replay is one) is run with many appeals
	// in flight; any other with its synchronous Sink.
	Inputs []Input

	// Workers is how many appeals are classified and routed at once
	// (default 4). A source whose sink call finds every worker busy and
	// the queue full waits: that is the backpressure on upstream reads.
	Workers int
	// Queue is how many appeals may wait for a worker (default Workers).
	Queue int
	// MaxBatch caps how many appeals one store write carries (default
	// 500). Appeals that are ready while a write is running go together
	// in the next one, so a lone appeal is written at once and a busy
	// pipeline writes few, large transactions.
	//
	// Memory is bounded by these sizes, not by the input: the pipeline
	// holds at most Queue + Workers + MaxBatch·(StoreWriters+1) appeals,
	// and each asynchronous source its window (replay: Config.Window).
	MaxBatch int
	// StoreWriters is how many batches are written at once (default 2:
	// one being written while the next is gathered; SQLite serialises
	// them anyway, PostgreSQL writes them in parallel).
	StoreWriters int
	// StoreBackoff spaces the retries of a store call that failed with a
	// transient error (appeal.ErrUnavailable, a deadline): they go on
	// until the call succeeds or the pipeline stops (zero value: 100ms
	// doubling to 5s). MaxAttempts is ignored.
	StoreBackoff source.Backoff
	// RestartBackoff spaces the restarts of an input that failed with an
	// error worth another try (zero value: 1s doubling to 1 minute); with
	// MaxAttempts set, an input that fails that many times in a row fails
	// for good.
	RestartBackoff source.Backoff
	// ShutdownGrace is how long appeals already being processed get to
	// finish after Run's context is cancelled (default 10s). After it
	// their store calls are cancelled, and they are reported as not
	// accepted, so the source redelivers them.
	ShutdownGrace time.Duration
	// SeparateTransition stores each new appeal with Store.Put in status
	// new and then routes it with Store.Transition, one appeal at a time.
	// By default the pipeline routes in memory (appeal.Appeal.Apply
	// enforces the lifecycle) and stores the routed appeal with its
	// history event in one write, batched with others: half the writes,
	// no moment where an appeal is stored but not routed, and the stored
	// appeal starts at Version 1 instead of 2. Set it only when something
	// watches the store's Transition calls.
	SeparateTransition bool
	// Actor is written to history events (default "pipeline").
	Actor string
	// Now is the clock for routing and history (default time.Now).
	Now func() time.Time
	// Hooks observe processing.
	Hooks Hooks
}

// Errors from Pipeline.
var (
	// ErrStopped: a sink was called while the pipeline was not running
	// (before Run, after it returned, or while it shuts down). The appeal
	// was not accepted.
	ErrStopped = errors.New("appealkit: pipeline is not running")
	// ErrAlreadyRunning: Run was called while another Run is active.
	ErrAlreadyRunning = errors.New("appealkit: pipeline is already running")
	// ErrBadRouting: the AppealRouter returned neither a change to
	// StatusRouted with an executor nor one to StatusRejected.
	ErrBadRouting = errors.New("appealkit: router returned neither a routing with an executor nor a rejection")
)

// Pipeline runs sources and sends every appeal they deliver through the
// classifier and the router into the store:
//
//	classify → route (in memory) → batched Store write (routed or rejected, with its history)
//
// A sink answers an appeal (a synchronous Sink returns, an AsyncSink calls
// done) only after the appeal is stored in its final status, so a source's
// checkpoint never runs ahead of the store. Processing is idempotent: a
// redelivered appeal is recognised by its ID (the store reports it was
// already stored); if an earlier delivery stored it without routing it
// (SeparateTransition, interrupted), the redelivery finishes the routing.
//
// Failure is part of the design: a transient store error is retried with
// backoff inside the pipeline, so intake pauses instead of failing; an
// appeal refused for good goes to the dead letters and its source moves
// past it; an input that fails with a temporary error is restarted with
// backoff while the others run; one that fails for good (bad credentials,
// malformed data, a missing file) stops Run, which returns its error.
//
// A Pipeline is safe for concurrent use. Create it with New.
type Pipeline struct {
	cfg       Config
	batchPut  appeal.BatchStore
	deadStore appeal.DeadLetterStore

	mu      sync.Mutex
	running bool
	run     *runState
}

// runState is what one Run shares with its sinks, workers and writers.
type runState struct {
	jobs   chan *job // to the workers
	writes chan *job // routed in memory, to the store writers
	// proc is the context of processing: it survives the cancellation of
	// Run's context for ShutdownGrace, so that in-flight appeals finish.
	proc context.Context

	mu       sync.Mutex
	stopping bool
	pending  sync.WaitGroup // appeals taken and not yet answered
}

type job struct {
	ctx    context.Context // the source's; a job not yet started is dropped when it ends
	source string
	a      appeal.Appeal
	queued time.Time
	done   func(error)
	res    Result

	// Filled by the worker for the store writers.
	route   bool
	now     time.Time
	toStore appeal.Appeal
}

// New checks cfg, fills defaults and returns a Pipeline. It starts nothing:
// call Run.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Store == nil {
		return nil, errors.New("appealkit: Config.Store is nil: set an appeal.Store (appeal.NewMemoryStore(), or sqlstore.Open for SQLite and PostgreSQL)")
	}
	// A forgotten stage must not pass for a choice: skipping one is said
	// out loud with NoClassification or NoRouting.
	switch cfg.Classifier.(type) {
	case nil:
		return nil, errors.New("appealkit: Config.Classifier is nil: set one (appealkit.Classify(engine, appealkit.ClassifyOptions{}) with a *classify.Engine), or appealkit.NoClassification{} to store appeals unclassified")
	case NoClassification, *NoClassification:
		cfg.Classifier = nil
	}
	switch cfg.Router.(type) {
	case nil:
		return nil, errors.New("appealkit: Config.Router is nil: set one (appealkit.Route(engine, appealkit.RouteOptions{}) with a *route.Engine), or appealkit.NoRouting{} to leave appeals in status new")
	case NoRouting, *NoRouting:
		cfg.Router = nil
	}
	if cfg.Workers < 0 || cfg.Queue < 0 || cfg.ShutdownGrace < 0 || cfg.MaxBatch < 0 || cfg.StoreWriters < 0 {
		return nil, fmt.Errorf("appealkit: Config: Workers (%d), Queue (%d), MaxBatch (%d), StoreWriters (%d) and ShutdownGrace (%s) must not be negative",
			cfg.Workers, cfg.Queue, cfg.MaxBatch, cfg.StoreWriters, cfg.ShutdownGrace)
	}
	names := make(map[string]bool, len(cfg.Inputs))
	for i, in := range cfg.Inputs {
		if in.Source == nil {
			return nil, fmt.Errorf("appealkit: Config.Inputs[%d] (%q): Source is nil", i, in.Name)
		}
		if in.Name == "" {
			return nil, fmt.Errorf("appealkit: Config.Inputs[%d]: Name is empty", i)
		}
		if names[in.Name] {
			return nil, fmt.Errorf("appealkit: Config.Inputs[%d]: name %q is used twice", i, in.Name)
		}
		names[in.Name] = true
	}
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	if cfg.Queue == 0 {
		cfg.Queue = cfg.Workers
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = 500
	}
	if cfg.StoreWriters == 0 {
		cfg.StoreWriters = 2
	}
	if cfg.StoreBackoff == (source.Backoff{}) {
		cfg.StoreBackoff = source.Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second}
	}
	cfg.StoreBackoff.MaxAttempts = 0
	if cfg.RestartBackoff == (source.Backoff{}) {
		cfg.RestartBackoff = source.Backoff{Initial: time.Second, Max: time.Minute}
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	if cfg.Actor == "" {
		cfg.Actor = "pipeline"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Inputs = append([]Input(nil), cfg.Inputs...)
	p := &Pipeline{cfg: cfg}
	p.batchPut, _ = cfg.Store.(appeal.BatchStore)
	p.deadStore, _ = cfg.Store.(appeal.DeadLetterStore)
	return p, nil
}

// Run starts the workers, the store writers and every input, and returns
// when all inputs have returned (a finite source reached its end), one
// failed for good, or ctx is cancelled. With no inputs it serves Sink
// calls until ctx is cancelled.
//
// Shutdown is graceful: when ctx is cancelled, appeals already being
// processed get ShutdownGrace to finish; appeals still queued are refused
// (not acknowledged, so the source redelivers them). Run returns nil after
// a normal end or a cancellation, and otherwise the errors of the inputs
// that failed for good, joined.
func (p *Pipeline) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		return ErrAlreadyRunning
	}
	runCtx, stopInputs := context.WithCancel(ctx)
	defer stopInputs()
	// Sources finish their last work (answers in flight, the last
	// checkpoint) within the grace too.
	runCtx = source.WithShutdownGrace(runCtx, p.cfg.ShutdownGrace)
	proc, cancelProc := context.WithCancel(context.WithoutCancel(ctx))
	rs := &runState{jobs: make(chan *job, p.cfg.Queue), writes: make(chan *job, p.cfg.MaxBatch), proc: proc}
	p.running, p.run = true, rs
	p.mu.Unlock()

	// After the inputs are stopped, in-flight work gets the grace period.
	graceDone := make(chan struct{})
	go func() {
		defer close(graceDone)
		select {
		case <-runCtx.Done():
		case <-proc.Done():
			return
		}
		t := time.NewTimer(p.cfg.ShutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
			cancelProc()
		case <-proc.Done():
		}
	}()

	var workers sync.WaitGroup
	quit := make(chan struct{})
	for range p.cfg.Workers {
		workers.Go(func() { p.work(rs, quit) })
	}
	for range p.cfg.StoreWriters {
		workers.Go(func() { p.write(rs, quit) })
	}

	errs := make([]error, len(p.cfg.Inputs))
	var inputs sync.WaitGroup
	for i, in := range p.cfg.Inputs {
		inputs.Go(func() {
			err := p.runInput(runCtx, rs, in)
			if err != nil {
				errs[i] = fmt.Errorf("appealkit: input %q: %w", in.Name, err)
				// An input that failed for good stops the run rather
				// than leaving it going with that input dead.
				stopInputs()
			}
			if h := p.cfg.Hooks.SourceStopped; h != nil {
				h(in.Name, err)
			}
		})
	}
	if len(p.cfg.Inputs) == 0 {
		<-runCtx.Done()
	}
	inputs.Wait()

	// No new appeals; wait until those taken are answered (stored, or
	// refused once the grace is over), then stop the workers and writers.
	rs.mu.Lock()
	rs.stopping = true
	rs.mu.Unlock()
	rs.pending.Wait()
	close(quit)
	workers.Wait()
	cancelProc()
	<-graceDone

	p.mu.Lock()
	p.running, p.run = false, nil
	p.mu.Unlock()
	return errors.Join(errs...)
}

// runInput runs one input until it ends, fails for good or ctx ends,
// restarting it with backoff after errors worth another try. It returns
// nil unless the input failed for good.
func (p *Pipeline) runInput(ctx context.Context, rs *runState, in Input) error {
	attempt := 0
	for {
		started := time.Now()
		var err error
		if as, ok := in.Source.(source.AsyncSource); ok {
			err = as.RunAsync(ctx, p.asyncSink(rs, in.Name))
		} else {
			err = in.Source.Run(ctx, p.sink(rs, in.Name))
		}
		switch {
		case err == nil || errors.Is(err, source.ErrEndOfInput):
			return nil
		case ctx.Err() != nil && (errors.Is(err, ctx.Err()) || errors.Is(err, ErrStopped)):
			return nil
		case !Restartable(err):
			return err
		}
		if time.Since(started) > p.cfg.RestartBackoff.Delay(attempt+1)*4 {
			attempt = 0 // it ran well for a while: start the backoff over
		}
		attempt++
		if m := p.cfg.RestartBackoff.MaxAttempts; m > 0 && attempt >= m {
			return fmt.Errorf("failed %d times in a row: %w", attempt, err)
		}
		wait := p.cfg.RestartBackoff.Delay(attempt)
		if h := p.cfg.Hooks.InputRestart; h != nil {
			h(in.Name, err, wait)
		}
		if source.Sleep(ctx, wait) != nil {
			return nil
		}
	}
}

// Restartable reports whether an input that returned err is worth running
// again: a temporary or rate-limit failure upstream (source.Retryable), a
// store that was unavailable, a timeout. Anything else is a failure for
// good: bad credentials (source.ErrAuth), malformed data a restart would
// meet again (source.ErrMalformed), a second Run, a missing file, or an
// appeal the pipeline refused for a reason that does not pass.
func Restartable(err error) bool {
	switch {
	case errors.Is(err, source.ErrAuth), errors.Is(err, source.ErrMalformed), errors.Is(err, source.ErrAlreadyRunning),
		errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return false
	case source.Retryable(err), errors.Is(err, appeal.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return false
}

// Sink returns a sink that feeds the running pipeline, for sources that
// push (a webhook handler) rather than being run by the pipeline. The
// sink refuses appeals with ErrStopped while the pipeline is not running;
// name labels its appeals in hooks.
func (p *Pipeline) Sink(name string) source.Sink {
	return func(ctx context.Context, a appeal.Appeal) error {
		rs := p.current()
		if rs == nil {
			return ErrStopped
		}
		return p.sink(rs, name)(ctx, a)
	}
}

// AsyncSink is Sink with many appeals in flight: it returns once the
// pipeline has taken the appeal and calls done when it is stored (or
// refused); use it through a source.Window, which keeps the checkpoint
// behind what is stored.
func (p *Pipeline) AsyncSink(name string) source.AsyncSink {
	return func(ctx context.Context, a appeal.Appeal, done func(error)) error {
		rs := p.current()
		if rs == nil {
			return ErrStopped
		}
		return p.asyncSink(rs, name)(ctx, a, done)
	}
}

func (p *Pipeline) current() *runState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.run
}

// sink hands an appeal to a worker and waits until it is processed. It
// may be called concurrently.
func (p *Pipeline) sink(rs *runState, name string) source.Sink {
	async := p.asyncSink(rs, name)
	return func(ctx context.Context, a appeal.Appeal) error {
		ch := make(chan error, 1)
		if err := async(ctx, a, func(err error) { ch <- err }); err != nil {
			return err
		}
		// Once taken, the appeal is always answered: a worker either
		// drops it (its ctx ended before it started) or processes it
		// under the grace-bounded processing context.
		return <-ch
	}
}

// asyncSink queues an appeal for a worker; done is called once it is
// processed. It may be called concurrently.
func (p *Pipeline) asyncSink(rs *runState, name string) source.AsyncSink {
	return func(ctx context.Context, a appeal.Appeal, done func(error)) error {
		rs.mu.Lock()
		if rs.stopping {
			rs.mu.Unlock()
			return ErrStopped
		}
		rs.pending.Add(1)
		rs.mu.Unlock()

		j := &job{ctx: ctx, source: name, a: a, queued: time.Now(), done: done}
		select {
		case rs.jobs <- j:
			return nil
		case <-ctx.Done():
			rs.pending.Done()
			err := stageError(StageQueue, &a, ctx.Err())
			if h := p.cfg.Hooks.Processed; h != nil {
				h(Result{Source: name, ID: a.ID, Outcome: OutcomeFailed, Err: err, Queued: time.Since(j.queued)})
			}
			return err
		}
	}
}

// finish answers a job: reports it to the hook and to its sink.
func (p *Pipeline) finish(rs *runState, j *job, err error) {
	if err != nil {
		j.res.Outcome, j.res.Err = OutcomeFailed, err
	}
	if h := p.cfg.Hooks.Processed; h != nil {
		h(j.res)
	}
	j.done(err)
	rs.pending.Done()
}

func (p *Pipeline) work(rs *runState, quit <-chan struct{}) {
	for {
		select {
		case j := <-rs.jobs:
			p.handle(rs, j)
		case <-quit:
			return
		}
	}
}

// handle classifies and routes one appeal, then hands it to the store
// writers, or stores it itself under SeparateTransition.
func (p *Pipeline) handle(rs *runState, j *job) {
	j.res = Result{Source: j.source, ID: j.a.ID, Queued: time.Since(j.queued)}
	if cerr := j.ctx.Err(); cerr != nil {
		// Not started before the source gave up: refuse it, the source
		// redelivers it.
		p.finish(rs, j, stageError(StageQueue, &j.a, cerr))
		return
	}
	if perr := rs.proc.Err(); perr != nil {
		p.finish(rs, j, stageError(StageQueue, &j.a, perr))
		return
	}
	dec, err := p.prepare(rs.proc, j)
	if err != nil {
		var se *StageError
		if errors.As(err, &se) && (se.Stage == StageValidate || errors.Is(err, ErrPanicked)) {
			err = p.deadLetter(rs.proc, j, err)
		}
		p.finish(rs, j, err)
		return
	}
	if j.route && p.cfg.SeparateTransition {
		p.finish(rs, j, p.storeThenTransition(rs.proc, j, dec))
		return
	}
	select {
	case rs.writes <- j:
	case <-rs.proc.Done():
		p.finish(rs, j, stageError(StageStore, &j.a, rs.proc.Err()))
	}
}

// prepare validates, classifies and routes j.a, and fills j.toStore with
// the appeal to write: routed in memory unless SeparateTransition.
func (p *Pipeline) prepare(ctx context.Context, j *job) (appeal.Change, error) {
	a := &j.a
	if err := a.Normalize(); err != nil {
		return appeal.Change{}, stageError(StageValidate, a, err)
	}
	j.res.ID = a.ID
	j.now = p.cfg.Now()
	if a.ReceivedAt.IsZero() {
		a.ReceivedAt = j.now
	}
	fresh := a.Status == appeal.StatusNew
	if p.cfg.Classifier != nil && fresh {
		t := time.Now()
		err := guard(func() error { return p.cfg.Classifier.ClassifyAppeal(ctx, a) })
		j.res.Classify = time.Since(t)
		if err != nil {
			return appeal.Change{}, stageError(StageClassify, a, err)
		}
	}
	j.route = p.cfg.Router != nil && fresh
	j.toStore = *a
	if !j.route {
		return appeal.Change{}, nil
	}
	dec, err := p.decide(ctx, a, j.now, &j.res)
	if err != nil {
		return appeal.Change{}, err
	}
	if !p.cfg.SeparateTransition {
		// Route in memory (Apply enforces the lifecycle) and store the
		// result with its history event in one write.
		j.toStore = a.Clone()
		if err := j.toStore.Apply(p.change(dec, j.now, 0)); err != nil {
			return appeal.Change{}, stageError(StageRoute, a, err)
		}
	}
	return dec, nil
}

// write gathers the jobs ready for the store into batches and writes them.
func (p *Pipeline) write(rs *runState, quit <-chan struct{}) {
	batch := make([]*job, 0, p.cfg.MaxBatch)
	for {
		select {
		case j := <-rs.writes:
			batch = append(batch[:0], j)
		case <-quit:
			return
		}
	gather:
		for len(batch) < p.cfg.MaxBatch {
			select {
			case j := <-rs.writes:
				batch = append(batch, j)
			default:
				break gather
			}
		}
		p.writeBatch(rs, batch)
		clear(batch)
	}
}

// writeBatch stores a batch in one store call (retrying transient
// failures), then answers every job. When the store refuses the batch for
// good, each appeal is written alone, so that one bad appeal costs only
// itself: it goes to the dead letters and the others are stored.
func (p *Pipeline) writeBatch(rs *runState, batch []*job) {
	ctx := rs.proc
	start := time.Now()
	as := make([]appeal.Appeal, len(batch))
	for i, j := range batch {
		as[i] = j.toStore
	}
	var created []bool
	err := p.retryStore(ctx, func(ctx context.Context) error {
		var err error
		created, err = p.putBatch(ctx, as)
		return err
	})
	took := time.Since(start)
	var be *appeal.BatchError
	if errors.As(err, &be) && len(created) == len(batch) {
		// The store wrote the good appeals and names the ones it refused.
		for i, j := range batch {
			j.res.Store = took
			if ierr := be.Err(i); ierr != nil {
				p.finish(rs, j, p.storeRefused(ctx, j, ierr, true))
				continue
			}
			p.finish(rs, j, p.stored(ctx, j, created[i]))
		}
		return
	}
	if err == nil && len(created) != len(batch) {
		err = fmt.Errorf("store answered %d of %d appeals of a batch", len(created), len(batch))
	}
	for i, j := range batch {
		j.res.Store = took
		if err != nil && len(batch) > 1 && ctx.Err() == nil {
			// Refused as a whole for good: find the bad ones alone.
			j.res.Store = 0
			p.writeOne(rs, j)
			continue
		}
		if err != nil {
			p.finish(rs, j, p.storeRefused(ctx, j, err, false))
			continue
		}
		p.finish(rs, j, p.stored(ctx, j, created[i]))
	}
}

// writeOne stores one appeal of a refused batch on its own.
func (p *Pipeline) writeOne(rs *runState, j *job) {
	ctx := rs.proc
	start := time.Now()
	var created bool
	err := p.retryStore(ctx, func(ctx context.Context) error {
		var err error
		created, err = p.cfg.Store.Put(ctx, j.toStore)
		return err
	})
	j.res.Store = time.Since(start)
	if err != nil {
		p.finish(rs, j, p.storeRefused(ctx, j, err, false))
		return
	}
	p.finish(rs, j, p.stored(ctx, j, created))
}

// storeRefused is the answer for an appeal the store did not take. One the
// store refused for its content (bad: named in a *BatchError, or an error
// matching appeal.ErrInvalid) goes to the dead letters, and the source moves
// past it. Anything else (the context ended, the database failing as a
// whole) is a failure: the source keeps the appeal for redelivery.
func (p *Pipeline) storeRefused(ctx context.Context, j *job, err error, bad bool) error {
	serr := stageError(StageStore, &j.a, err)
	if ctx.Err() != nil || !(bad || errors.Is(err, appeal.ErrInvalid)) {
		return serr
	}
	return p.deadLetter(ctx, j, serr)
}

// putBatch writes appeals with the store's PutBatch, or Put by Put.
func (p *Pipeline) putBatch(ctx context.Context, as []appeal.Appeal) ([]bool, error) {
	if p.batchPut != nil && len(as) > 1 {
		return p.batchPut.PutBatch(ctx, as)
	}
	created := make([]bool, len(as))
	for i := range as {
		c, err := p.cfg.Store.Put(ctx, as[i])
		if err != nil {
			return nil, err
		}
		created[i] = c
	}
	return created, nil
}

// stored fills the result of a job whose appeal the store took (created)
// or already had, finishing the routing of an appeal an earlier delivery
// stored without routing it.
func (p *Pipeline) stored(ctx context.Context, j *job, created bool) error {
	switch {
	case created && j.route:
		j.res.Outcome, j.res.Status = outcomeOf(j.toStore.Status), j.toStore.Status
		return nil
	case !j.route:
		j.res.Outcome, j.res.Status = OutcomeStored, j.a.Status
		if !created {
			j.res.Outcome = OutcomeDuplicate
		}
		return nil
	}
	return p.resume(ctx, j)
}

// storeThenTransition is the SeparateTransition path: Put in status new,
// then Transition.
func (p *Pipeline) storeThenTransition(ctx context.Context, j *job, dec appeal.Change) error {
	t := time.Now()
	defer func() { j.res.Store += time.Since(t) }()
	var created bool
	err := p.retryStore(ctx, func(ctx context.Context) error {
		var err error
		created, err = p.cfg.Store.Put(ctx, j.toStore)
		return err
	})
	if err != nil {
		return stageError(StageStore, &j.a, err)
	}
	if !created {
		return p.resume(ctx, j)
	}
	return p.transition(ctx, j, dec, 1)
}

// resume handles an appeal the store already had: if an earlier delivery
// stored it without routing it, route what is stored (the routing must
// agree with the stored classification); otherwise leave it alone.
func (p *Pipeline) resume(ctx context.Context, j *job) error {
	var stored appeal.Appeal
	err := p.retryStore(ctx, func(ctx context.Context) error {
		var err error
		stored, err = p.cfg.Store.Get(ctx, j.a.ID)
		return err
	})
	if err != nil {
		return stageError(StageStore, &j.a, err)
	}
	if stored.Status != appeal.StatusNew {
		j.res.Outcome, j.res.Status = OutcomeDuplicate, stored.Status
		return nil
	}
	j.res.Resumed = true
	dec, err := p.decide(ctx, &stored, j.now, &j.res)
	if err != nil {
		return err
	}
	return p.transition(ctx, j, dec, stored.Version)
}

// transition routes a stored appeal, retrying when another writer moved
// it at the same moment.
func (p *Pipeline) transition(ctx context.Context, j *job, dec appeal.Change, version int64) error {
	id := j.a.ID
	for attempt := 1; ; attempt++ {
		var after appeal.Appeal
		err := p.retryStore(ctx, func(ctx context.Context) error {
			var err error
			after, err = p.cfg.Store.Transition(ctx, id, p.change(dec, j.now, version))
			return err
		})
		if err == nil {
			j.res.Outcome, j.res.Status = outcomeOf(after.Status), after.Status
			return nil
		}
		if !errors.Is(err, appeal.ErrConflict) || attempt == maxConflicts {
			return stageError(StageStore, &j.a, err)
		}
		// Someone moved it meanwhile (a concurrent duplicate delivery or
		// an operator): if it is routed now, our work is done.
		var stored appeal.Appeal
		gerr := p.retryStore(ctx, func(ctx context.Context) error {
			var err error
			stored, err = p.cfg.Store.Get(ctx, id)
			return err
		})
		if gerr != nil {
			return stageError(StageStore, &j.a, gerr)
		}
		if stored.Status != appeal.StatusNew {
			j.res.Outcome, j.res.Status = OutcomeDuplicate, stored.Status
			return nil
		}
		version = stored.Version
	}
}

// maxConflicts bounds how often one appeal's routing is retried when
// another writer moved it at the same moment.
const maxConflicts = 3

// transient reports whether a store error is worth retrying: the store
// said it was unavailable, or a deadline (a frozen database) cut the call
// short while the pipeline itself is still running.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	return errors.Is(err, appeal.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// retryStore calls op until it succeeds, fails for good, or ctx ends,
// waiting per StoreBackoff between transient failures.
func (p *Pipeline) retryStore(ctx context.Context, op func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil || !transient(ctx, err) {
			return err
		}
		if h := p.cfg.Hooks.StoreRetry; h != nil {
			h(err, attempt)
		}
		if serr := source.Sleep(ctx, p.cfg.StoreBackoff.Delay(attempt)); serr != nil {
			return fmt.Errorf("%w (while waiting to retry after: %v)", serr, err)
		}
	}
}

// deadLetter parks an appeal refused for good in the store's dead letters
// and hands it to Hooks.DeadLetter. It returns nil when the appeal went to
// at least one of them (the source may move past it), else cause.
func (p *Pipeline) deadLetter(ctx context.Context, j *job, cause error) error {
	if p.deadStore == nil && p.cfg.Hooks.DeadLetter == nil {
		return cause
	}
	d := appeal.DeadLetter{ID: j.a.ID, Input: j.source, Appeal: j.a, Reason: cause.Error(), At: p.cfg.Now()}
	if p.deadStore != nil {
		err := p.retryStore(ctx, func(ctx context.Context) error { return p.deadStore.PutDeadLetter(ctx, d) })
		if err != nil {
			return errors.Join(cause, fmt.Errorf("appealkit: keep dead letter %s: %w", j.a.ID, err))
		}
	}
	if h := p.cfg.Hooks.DeadLetter; h != nil {
		h(d)
	}
	j.res.Outcome, j.res.Err = OutcomeDeadLettered, cause
	return nil
}

// ErrPanicked matches the error of a classifier or router that panicked on
// an appeal: the appeal is refused (dead-lettered when there is a place for
// it) and the pipeline goes on with the others.
var ErrPanicked = errors.New("appealkit: panicked")

// guard runs f, turning a panic into an error matching ErrPanicked: one
// poisoned message must not take the whole intake down.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrPanicked, r)
		}
	}()
	return f()
}

// change is the lifecycle step a decision asks for.
func (p *Pipeline) change(dec appeal.Change, now time.Time, version int64) appeal.Change {
	c := dec
	c.Actor, c.At, c.ExpectedVersion = p.cfg.Actor, now, version
	if c.To == appeal.StatusRejected {
		c.Assignment = nil
	}
	return c
}

func outcomeOf(s appeal.Status) Outcome {
	if s == appeal.StatusRejected {
		return OutcomeRejected
	}
	return OutcomeRouted
}

// decide runs the router and checks its decision.
func (p *Pipeline) decide(ctx context.Context, a *appeal.Appeal, now time.Time, res *Result) (appeal.Change, error) {
	t := time.Now()
	var dec appeal.Change
	err := guard(func() (err error) {
		dec, err = p.cfg.Router.RouteAppeal(ctx, a, now)
		return err
	})
	res.Route += time.Since(t)
	if err != nil {
		return appeal.Change{}, stageError(StageRoute, a, err)
	}
	if dec.To != appeal.StatusRejected && (dec.To != appeal.StatusRouted || dec.Assignment == nil || dec.Assignment.Executor == "") {
		return appeal.Change{}, stageError(StageRoute, a, ErrBadRouting)
	}
	return dec, nil
}
